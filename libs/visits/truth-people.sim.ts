import { SCHEMA_VERSION, type PeopleTracked, type SkeletonTruth, type StoreIndex, type Vec3 } from '../contracts/index.ts';
import { distanceToPolygonEdge, insidePolygon } from '../contracts/store.frame.ts';
import { createRandom } from '../sim/random.ts';
import type { Simulation } from '../sim/store.sim.ts';
import { floorPoint } from './visit.binder.ts';

/**
 * The tracker's output as a perfect tracker would give it, made from a recording's skeleton truth:
 * one PeopleTracked an instant, each person on track `truth-<personId>`. For measuring visits apart
 * from vision: optionally with Gaussian noise on every keypoint (the tracker's typical error) and
 * with track breaks (the person dropped for a few instants, then back under a new track id), which
 * is what relinking must undo. The binder is never told which track is whose: `personOfTrack` is for
 * the scorer only.
 */

/** Breaks only happen this far from a door zone: a break at a door is a different question (who came in, who left), metres. */
export const BREAK_DOOR_CLEARANCE_M = 1.0;

export interface TruthPeopleOptions {
  /** One standard deviation of the noise on each keypoint coordinate, metres (0: none). */
  noiseM?: number;
  /** Each person's track breaks about this often (store time on one track, ms); absent: never. */
  breakEveryMs?: number;
  /** Instants a person is missing at a break. */
  breakGapInstants?: number;
  seed?: number;
}

export interface TruthPeople {
  instants: PeopleTracked[];
  /** Which person each track is (scorer only). */
  personOfTrack: Map<string, string>;
  /** Track breaks made. */
  breaks: number;
}

export function truthPeople(index: StoreIndex, skeletons: readonly SkeletonTruth[], options: TruthPeopleOptions = {}): TruthPeople {
  const noiseM = options.noiseM ?? 0;
  const gapInstants = options.breakGapInstants ?? 5;
  const random = createRandom(options.seed ?? 1);
  const doors = index.store.layout.zones.filter((z) => z.kind !== 'shopping').map((z) => z.polygon);
  const nearDoor = (p: [number, number]) => doors.some((d) => insidePolygon(p, d) || distanceToPolygonEdge(p, d) < BREAK_DOOR_CLEARANCE_M);
  const personOfTrack = new Map<string, string>();
  /** Per person: the current track, when it began, when it breaks next, and instants still to drop. */
  const state = new Map<string, { trackId: string; segment: number; nextBreakMs: number; dropLeft: number }>();
  let breaks = 0;
  const instants: PeopleTracked[] = [];
  for (const tick of skeletons) {
    const people: PeopleTracked['people'] = [];
    for (const person of tick.people) {
      let track = state.get(person.personId);
      if (!track) {
        const first = options.breakEveryMs ? tick.ts + options.breakEveryMs * random.uniform(0.5, 1.5) : Infinity;
        track = { trackId: `truth-${person.personId}`, segment: 0, nextBreakMs: first, dropLeft: 0 };
        state.set(person.personId, track);
        personOfTrack.set(track.trackId, person.personId);
      }
      if (track.dropLeft > 0) {
        track.dropLeft--;
        if (track.dropLeft === 0) {
          track.segment++;
          track.trackId = `truth-${person.personId}-${track.segment}`;
          personOfTrack.set(track.trackId, person.personId);
          track.nextBreakMs = tick.ts + options.breakEveryMs! * random.uniform(0.5, 1.5);
        } else continue;
      } else if (tick.ts >= track.nextBreakMs && gapInstants > 0) {
        const where = floorPoint({ keypoints: person.keypoints });
        if (where && !nearDoor(where)) {
          breaks++;
          track.dropLeft = gapInstants;
          continue;
        }
      }
      const keypoints = person.keypoints.map((k) => (noiseM > 0 ? (k.map((v) => round(v + random.normal(0, noiseM))) as Vec3) : k));
      people.push({ trackId: track.trackId, keypoints, cameras: [] });
    }
    instants.push({ schemaVersion: SCHEMA_VERSION, eventId: `truth-tracked-${index.store.id}-${tick.ts}`, storeId: index.store.id, ts: tick.ts, people });
  }
  return { instants, personOfTrack, breaks };
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** A simulation's people in 3D at every tick of its fastest camera, as the recording's skeleton truth holds them. */
export function simulatedSkeletons(sim: Simulation): SkeletonTruth[] {
  const fps = Math.max(...sim.index.store.cameras.map((c) => c.fps));
  const stepMs = 1000 / fps;
  const ticks = Math.floor((sim.endMs - sim.startMs) / stepMs) + 1;
  const skeletons: SkeletonTruth[] = [];
  for (let i = 0; i < ticks; i++) {
    const ts = sim.startMs + Math.round(i * stepMs);
    skeletons.push({
      ts,
      people: sim.people
        .filter((p) => p.timeline.present(ts))
        .map((p) => ({ personId: p.id, ...(p.visitId ? { visitId: p.visitId } : {}), role: p.role, keypoints: p.timeline.keypointsAt(ts) })),
    });
  }
  return skeletons;
}
