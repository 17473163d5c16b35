import { KP, type SkeletonTruth } from '../contracts/index.ts';
import { distanceToBox } from '../contracts/store.frame.ts';
import type { Simulation } from './store.sim.ts';

/**
 * Physical-possibility checks over a simulation's ground truth, for tests and experiments: a shelf's
 * weight changes only with a hand in the lane, and people's bodies never share the same floor.
 */

/** Wrist-to-lane allowance: the wrist sits a hand's length behind the fingertips that touch the item. */
export const REACH_TOLERANCE_M = 0.05;

export interface ReachMiss {
  actionId: string;
  personId: string;
  laneId: string;
  kind: string;
  atMs: number;
  /** Distance from the nearer wrist to the lane box, metres. */
  distanceM: number;
}

/**
 * Every truth action on a lane whose actor has no wrist within `toleranceM` of the lane box at the
 * moment the lane's weight changes (and, for a hand rest before a pick, when the hand comes to rest on
 * the plate).
 */
export function reachMisses(sim: Simulation, toleranceM = REACH_TOLERANCE_M): ReachMiss[] {
  const misses: ReachMiss[] = [];
  const byId = new Map(sim.people.map((p) => [p.id, p]));
  for (const action of sim.actions) {
    if (!action.laneId || !action.personId) continue;
    const lane = sim.index.lanes.get(action.laneId)!.lane;
    const contact = sim.contacts.get(action.actionId);
    if (!contact) throw new Error(`action ${action.actionId} has no weight-change time`);
    const moments = contact.restFromMs === undefined ? [contact.atMs] : [contact.restFromMs, contact.atMs];
    const person = byId.get(action.personId)!;
    for (const atMs of moments) {
      const kp = person.timeline.keypointsAt(atMs);
      const distanceM = Math.min(distanceToBox(kp[KP.left_wrist], lane.box), distanceToBox(kp[KP.right_wrist], lane.box));
      if (distanceM > toleranceM) misses.push({ actionId: action.actionId, personId: action.personId, laneId: action.laneId, kind: action.kind, atMs, distanceM });
    }
  }
  return misses;
}

export interface CloseEncounters {
  /** Pairs of people whose floor centres came closer than the limit at some sampled instant. */
  pairs: number;
  pairInstants: number;
  closestM: number;
}

/** Counts the pairs among people at one instant closer than `limitM`, into `tally`. */
function tallyInstant(here: ReadonlyArray<{ id: string; at: readonly number[] }>, limitM: number, tally: { pairs: Set<string>; pairInstants: number; closestM: number }) {
  for (let i = 0; i < here.length; i++)
    for (let j = i + 1; j < here.length; j++) {
      const d = Math.hypot(here[i].at[0] - here[j].at[0], here[i].at[1] - here[j].at[1]);
      tally.closestM = Math.min(tally.closestM, d);
      if (d < limitM) {
        tally.pairInstants++;
        tally.pairs.add([here[i].id, here[j].id].sort().join('|'));
      }
    }
}

/** Pairs of people whose floor centres come closer than `limitM`, sampled every `stepMs`. */
export function closeEncounters(sim: Simulation, limitM = 0.3, stepMs = 100): CloseEncounters {
  const tally = { pairs: new Set<string>(), pairInstants: 0, closestM: Infinity };
  for (let t = sim.startMs; t <= sim.endMs; t += stepMs)
    tallyInstant(sim.people.filter((p) => p.timeline.present(t)).map((p) => ({ id: p.id, at: p.timeline.placeAt(t).at })), limitM, tally);
  return { pairs: tally.pairs.size, pairInstants: tally.pairInstants, closestM: tally.closestM };
}

/**
 * The same count over a recording's skeleton truth, for any recording (no simulation at hand): each
 * person's floor centre is between the hips, ticks taken at most every `stepMs`.
 */
export async function closeEncountersInTruth(skeletons: AsyncIterable<SkeletonTruth> | Iterable<SkeletonTruth>, limitM = 0.3, stepMs = 100): Promise<CloseEncounters> {
  const tally = { pairs: new Set<string>(), pairInstants: 0, closestM: Infinity };
  let next = -Infinity;
  for await (const tick of skeletons) {
    if (tick.ts < next) continue;
    next = tick.ts + stepMs;
    const here = tick.people.map((p) => {
      const [left, right] = [p.keypoints[KP.left_hip], p.keypoints[KP.right_hip]];
      return { id: p.personId, at: [(left[0] + right[0]) / 2, (left[1] + right[1]) / 2] };
    });
    tallyInstant(here, limitM, tally);
  }
  return { pairs: tally.pairs.size, pairInstants: tally.pairInstants, closestM: tally.closestM };
}
