import type { Box3, PeopleTracked, Vec3 } from '../contracts/index.ts';
import { distanceToBox } from '../contracts/store.frame.ts';

/**
 * Where people's hands were, over the last seconds, and what that says about one shelf event: for
 * each person whose wrist came near the lanes that changed, how close it came around the weight
 * change, for how long, and how well the cameras saw it.
 */

/** COCO indices of the wrists. */
export const LEFT_WRIST = 9;
export const RIGHT_WRIST = 10;

/** A person is a candidate for an event when a wrist came this close to its lanes in the evidence window, metres. */
export const CANDIDATE_RADIUS_M = 1.0;
/** A wrist this close to a lane box counts as in it (a hand's length beyond the wrist), metres. */
export const IN_LANE_M = 0.12;
/**
 * The evidence window around a weight change: from EVIDENCE_BEFORE_MS before the event's start to
 * EVIDENCE_AFTER_MS after its end. A reach takes about 0.75 s out and 0.7 s back, and the weight
 * changes as the hand lifts (pick) or lets go (put), so the whole reach fits in it.
 */
export const EVIDENCE_BEFORE_MS = 1_500;
export const EVIDENCE_AFTER_MS = 1_000;
/** The tight window: around the change itself, where the doer's hand is in the lane, ms either side. */
export const CONTACT_SLACK_MS = 300;
/** How far back the people stream is kept: shelf events come seconds after their end, ms. */
export const HISTORY_MS = 30_000;
/** The nearest few distances are averaged, so one noisy instant does not bring a hand in. */
const NEAREST_AVERAGED = 3;
/** Timing mismatches beyond this say the same thing, seconds. */
export const TIMING_CAP_S = 2;
/** When the doer's hand leaves the lane after a pick's change starts, and enters before a put's, ms (a hand lifts, then draws back). */
export const PICK_EXIT_AFTER_MS = 200;
export const PUT_ENTRY_BEFORE_MS = 150;
/** A crossing into or out of the lane counts when the hand stays on its new side this long, ms. */
export const CROSSING_HOLD_MS = 300;
/**
 * The hand's course around the change: its distance to the lanes at these offsets from the start of
 * the weight change, ms. A pick's doer is in the lane as the weight drops and gone soon after; a put's
 * comes in just before the weight rises. The model weighs each offset (fitted per kind of change).
 */
export const PROFILE_OFFSETS_MS = [-1_200, -900, -600, -300, 0, 300, 600, 900, 1_200] as const;
/**
 * Where a hand's own movement is read, ms from the start of the change (see HandEvidence.movedM for a
 * pick's hand that came in later): a pick's taker lifts the item as their hand starts back, so it is
 * well on its way out in the span after; a put's putter set the item down just after their hand
 * arrived, so it was coming in over the span before. A hand resting on the shelf's edge, or holding
 * still at the lane's face, moves in neither.
 */
export const MOVED_AFTER_PICK_MS: readonly [number, number] = [300, 900];
export const MOVED_BEFORE_PUT_MS: readonly [number, number] = [-900, -300];
/** A wrist's place at an instant is the mean of its places this close in time, ms (the tracker's jitter averages out; a reach does not). */
const MOVED_SMOOTH_MS = 100;
/** Distances in the profile are capped here (a hand this far is not reaching), metres. */
export const PROFILE_CAP_M = 0.8;
/** A profile point takes the nearest instant this close in time; none that close counts as the cap, ms. */
const PROFILE_NEAREST_MS = 150;
/** Distances beyond this say the same thing (not reaching), metres. */
export const FAR_M = 1.0;

interface TrackSamples {
  ts: number[];
  /** Nearer of the two wrists per instant, or null when neither is known. */
  wrists: Array<[Vec3 | null, Vec3 | null]>;
  cameras: string[][];
}

/** What the evidence of one person at one event amounts to. */
export interface HandEvidence {
  trackId: string;
  /** Mean of the nearest few wrist distances to the lanes in the tight window around the change, metres (FAR_M if none). */
  contactM: number;
  /** The same over the whole evidence window, metres. */
  nearestM: number;
  /** Time a wrist spent in the lanes (within IN_LANE_M) over the evidence window, seconds. */
  inLaneS: number;
  /**
   * How far the hand that came nearest the lanes around the change moved, at most, from where it was
   * as the weight started to change (a pick's: or as it first came within IN_LANE_M of the lanes,
   * when that was later), over MOVED_AFTER_PICK_MS (pick) or MOVED_BEFORE_PUT_MS (put) from then,
   * counting only places no nearer the lanes than that one, metres (0 with that wrist unknown then).
   * A distance to the lane box is 0 anywhere inside it and hardly changes along its face, so a hand
   * holding still at the lane and one reaching through it can read alike there; their own movement
   * differs.
   */
  movedM: number;
  /**
   * A pick's: the larger of movedM and the same reading anchored at the hand's own lift, where the
   * trace's first held crossing out of the lanes came during the change (up to PICK_EXIT_AFTER_MS
   * after its end): the span starts PICK_EXIT_AFTER_MS before that crossing. A pair's second hand
   * may lift a second after the first, as the weight goes on falling, and reads still from the
   * change's start; a hand resting in the lanes does not leave them during the change. A put's:
   * movedM. Absent in evidence from before it was read.
   */
  liftMovedM?: number;
  /**
   * How far off the weight change the hand crossed into or out of the lane, seconds (TIMING_CAP_S
   * when it never did): a pick's weight drops as the hand lifts the item and leaves, a put's rises
   * as the hand sets it down just after coming in. Two hands in one lane differ here.
   */
  timingS: number;
  /** Nearer wrist to the lanes at each PROFILE_OFFSETS_MS from the change, metres, capped at PROFILE_CAP_M. */
  profile: number[];
  /** Share of the evidence window's instants with a wrist known. */
  seen: number;
  /** The most cameras that saw the person at once in the window. */
  cameras: string[];
  /** [ts, metres] nearer wrist to the lanes, over the window, for a reviewer. */
  handDistances: Array<[number, number]>;
  /**
   * The hand came into the lanes only after the weight stopped changing: further than CAME_OUT_M
   * from them all through the change, and within CAME_IN_M of them CAME_IN_AFTER_MS after its end
   * (a neighbour reaching in for their own item). Absent: no.
   */
  cameInAfter?: boolean;
}

/**
 * A hand came in after a change when it was further than CAME_OUT_M from the lanes at every instant
 * of the change and within CAME_IN_M of them at an instant CAME_IN_AFTER_MS after its end (metres,
 * ms after the end).
 */
export const CAME_OUT_M = 0.05;
export const CAME_IN_M = 0.02;
export const CAME_IN_AFTER_MS: readonly [number, number] = [300, 900];

export interface EvidenceWindow {
  fromMs: number;
  toMs: number;
  contactFromMs: number;
  contactToMs: number;
  /** When the weight started to change, ms, and which way. */
  changeMs: number;
  /** When the weight stopped changing, ms (changeMs when not given). */
  changeEndMs?: number;
  kind: 'pick' | 'put';
}

export function distanceToBoxes(point: Vec3, boxes: readonly Box3[]): number {
  let nearest = Infinity;
  for (const box of boxes) nearest = Math.min(nearest, distanceToBox(point, box));
  return nearest;
}

/** The people stream of the last HISTORY_MS, per track. */
export class HandHistory {
  private readonly tracks = new Map<string, TrackSamples>();
  /** The newest instant taken, store clock ms (the people watermark). */
  latestMs = -Infinity;

  add(instant: PeopleTracked): void {
    if (instant.ts <= this.latestMs) return;
    this.latestMs = instant.ts;
    for (const person of instant.people) {
      let track = this.tracks.get(person.trackId);
      if (!track) this.tracks.set(person.trackId, (track = { ts: [], wrists: [], cameras: [] }));
      track.ts.push(instant.ts);
      track.wrists.push([person.keypoints[LEFT_WRIST], person.keypoints[RIGHT_WRIST]]);
      track.cameras.push(person.cameras);
    }
    this.forgetBefore(instant.ts - HISTORY_MS);
  }

  private forgetBefore(ts: number): void {
    for (const [trackId, track] of this.tracks) {
      let old = 0;
      while (old < track.ts.length && track.ts[old] < ts) old++;
      if (old === track.ts.length) this.tracks.delete(trackId);
      else if (old > 0) {
        track.ts.splice(0, old);
        track.wrists.splice(0, old);
        track.cameras.splice(0, old);
      }
    }
  }

  /** The latest instant at or after `sinceMs` when the track had a wrist in the boxes (within `withinM`, IN_LANE_M unless said); -Infinity when none. */
  lastInLaneMs(trackId: string, boxes: readonly Box3[], sinceMs: number, withinM = IN_LANE_M): number {
    const track = this.tracks.get(trackId);
    if (!track) return -Infinity;
    for (let i = track.ts.length - 1; i >= 0 && track.ts[i] >= sinceMs; i--) {
      const [left, right] = track.wrists[i];
      if ((left && distanceToBoxes(left, boxes) <= withinM) || (right && distanceToBoxes(right, boxes) <= withinM)) return track.ts[i];
    }
    return -Infinity;
  }

  /** Whether a wrist of each track came within `withinM` of the other's at one instant at or after `sinceMs` (a hand-off passes an item hand to hand). */
  handsMet(trackA: string, trackB: string, sinceMs: number, withinM: number): boolean {
    const a = this.tracks.get(trackA);
    const b = this.tracks.get(trackB);
    if (!a || !b) return false;
    let j = 0;
    for (let i = 0; i < a.ts.length; i++) {
      if (a.ts[i] < sinceMs) continue;
      while (j < b.ts.length && b.ts[j] < a.ts[i]) j++;
      if (j === b.ts.length) return false;
      if (b.ts[j] !== a.ts[i]) continue;
      for (const wa of a.wrists[i]) for (const wb of b.wrists[j]) if (wa && wb && Math.hypot(wa[0] - wb[0], wa[1] - wb[1], wa[2] - wb[2]) <= withinM) return true;
    }
    return false;
  }

  /** Everyone whose wrist came within CANDIDATE_RADIUS_M of the boxes in [fromMs, toMs], with their evidence. */
  evidence(boxes: readonly Box3[], window: EvidenceWindow): HandEvidence[] {
    const found: HandEvidence[] = [];
    for (const [trackId, track] of this.tracks) {
      const near = this.trackEvidence(trackId, track, boxes, window);
      if (near) found.push(near);
    }
    return found;
  }

  private trackEvidence(
    trackId: string,
    track: TrackSamples,
    boxes: readonly Box3[],
    window: EvidenceWindow,
  ): HandEvidence | null {
    const wide: number[] = [];
    const tight: number[] = [];
    const handDistances: Array<[number, number]> = [];
    const cameras = new Set<string>();
    let instants = 0;
    let inLaneS = 0;
    /** The wrist nearest the lanes in the tight window, how near it came, and when each wrist was first in the lanes there (HandEvidence.movedM reads them). */
    let nearestWrist: 0 | 1 | undefined;
    let tightNearestM = Infinity;
    const firstInLaneMs: [number | undefined, number | undefined] = [undefined, undefined];
    for (let i = 0; i < track.ts.length; i++) {
      const ts = track.ts[i];
      if (ts < window.fromMs || ts > window.toMs) continue;
      instants++;
      const [left, right] = track.wrists[i];
      const leftM = left ? distanceToBoxes(left, boxes) : Infinity;
      const rightM = right ? distanceToBoxes(right, boxes) : Infinity;
      const distance = Math.min(leftM, rightM);
      if (distance === Infinity) continue;
      for (const camera of track.cameras[i]) cameras.add(camera);
      wide.push(distance);
      handDistances.push([ts, Math.round(distance * 1000) / 1000]);
      if (ts >= window.contactFromMs && ts <= window.contactToMs) {
        tight.push(distance);
        if (distance < tightNearestM) [tightNearestM, nearestWrist] = [distance, leftM <= rightM ? 0 : 1];
        if (firstInLaneMs[0] === undefined && leftM <= IN_LANE_M) firstInLaneMs[0] = ts;
        if (firstInLaneMs[1] === undefined && rightM <= IN_LANE_M) firstInLaneMs[1] = ts;
      }
      if (distance <= IN_LANE_M) {
        const next = i + 1 < track.ts.length ? track.ts[i + 1] : ts;
        const previous = i > 0 ? track.ts[i - 1] : ts;
        inLaneS += Math.min(next - ts, ts - previous || next - ts) / 1000;
      }
    }
    if (wide.length === 0 || Math.min(...wide) > CANDIDATE_RADIUS_M) return null;
    const movedM = nearestWrist === undefined ? 0 : handMoved(track, nearestWrist, boxes, window.kind, movedFromMs(window, firstInLaneMs[nearestWrist]));
    const liftMs = window.kind === 'pick' ? liftedAt(handDistances, window) : undefined;
    const liftMovedM = nearestWrist === undefined || liftMs === undefined ? movedM : Math.max(movedM, handMoved(track, nearestWrist, boxes, 'pick', liftMs - PICK_EXIT_AFTER_MS));
    return {
      trackId,
      contactM: nearestMean(tight),
      nearestM: nearestMean(wide),
      inLaneS,
      movedM,
      liftMovedM,
      timingS: crossingTiming(handDistances, window),
      profile: PROFILE_OFFSETS_MS.map((offset) => profileAt(handDistances, window.changeMs + offset)),
      seen: instants > 0 ? wide.length / instants : 0,
      cameras: [...cameras].sort(),
      handDistances,
      cameInAfter: cameInAfter(handDistances, window),
    };
  }
}

/**
 * Where HandEvidence.movedM's span starts: the change's start, or for a pick, when the wrist was
 * first within IN_LANE_M of the lanes in the tight window (`firstInLaneMs`), when that was later. A
 * pick's taker lifts once their hand is in the lane: when it got there after the weight started to
 * change (another hand, or one resting on the plate, started it), the span runs from then.
 */
function movedFromMs(window: EvidenceWindow, firstInLaneMs: number | undefined): number {
  return window.kind === 'pick' && firstInLaneMs !== undefined ? Math.max(window.changeMs, firstInLaneMs) : window.changeMs;
}

/** HandEvidence.liftMovedM's crossing: the first held crossing out of the lanes in the trace during the pick's change, if any. */
function liftedAt(trace: ReadonlyArray<[number, number]>, window: EvidenceWindow): number | undefined {
  const untilMs = (window.changeEndMs ?? window.changeMs) + PICK_EXIT_AFTER_MS;
  for (const k of heldCrossings(trace, 'out')) {
    const ts = trace[k][0];
    if (ts > untilMs) return undefined;
    if (ts >= window.changeMs) return ts;
  }
  return undefined;
}

/**
 * HandEvidence.movedM: the wrist nearest the lanes in the tight window (`side`: 0 left, 1 right, as
 * the track keeps them), its furthest smoothed place over MOVED_AFTER_PICK_MS (pick) or
 * MOVED_BEFORE_PUT_MS (put) from `fromMs` from its place at `fromMs`, among places no nearer the
 * lanes than that one (a neighbour's hand coming in for their own item after a pick moves too,
 * towards the lanes).
 */
function handMoved(track: TrackSamples, side: 0 | 1, boxes: readonly Box3[], kind: 'pick' | 'put', fromMs: number): number {
  const placeAt = (ts: number): Vec3 | null => {
    const sum: Vec3 = [0, 0, 0];
    let count = 0;
    for (let i = 0; i < track.ts.length; i++) {
      const wrist = track.wrists[i][side];
      if (!wrist || Math.abs(track.ts[i] - ts) > MOVED_SMOOTH_MS) continue;
      for (let axis = 0; axis < 3; axis++) sum[axis] += wrist[axis];
      count++;
    }
    return count > 0 ? [sum[0] / count, sum[1] / count, sum[2] / count] : null;
  };
  const still = placeAt(fromMs);
  if (!still) return 0;
  const stillDistance = distanceToBoxes(still, boxes);
  const [from, to] = kind === 'pick' ? MOVED_AFTER_PICK_MS : MOVED_BEFORE_PUT_MS;
  let moved = 0;
  for (const ts of track.ts) {
    if (ts < fromMs + from || ts > fromMs + to) continue;
    const place = placeAt(ts);
    if (place && distanceToBoxes(place, boxes) >= stillDistance) moved = Math.max(moved, Math.hypot(place[0] - still[0], place[1] - still[1], place[2] - still[2]));
  }
  return moved;
}

/** Whether the hand came into the lanes only after the change (see CAME_OUT_M), by its trace. */
function cameInAfter(trace: ReadonlyArray<[number, number]>, window: EvidenceWindow): boolean {
  const endMs = window.changeEndMs ?? window.changeMs;
  let seenDuring = false;
  let inAfter = false;
  for (const [ts, metres] of trace) {
    if (ts >= window.changeMs && ts <= endMs) {
      if (metres <= CAME_OUT_M) return false;
      seenDuring = true;
    } else if (ts >= endMs + CAME_IN_AFTER_MS[0] && ts <= endMs + CAME_IN_AFTER_MS[1] && metres < CAME_IN_M) inAfter = true;
  }
  return seenDuring && inAfter;
}

/**
 * How far off the weight change the hand crossed out of the lane (pick) or into it (put), seconds
 * (TIMING_CAP_S when it never did). A crossing counts only when the hand then stays on its new side
 * for CROSSING_HOLD_MS (or to the end of the window): a wrist resting at the lane's edge jitters
 * across it with the tracker's error, and those flickers are no reach.
 */
function crossingTiming(trace: ReadonlyArray<[number, number]>, window: EvidenceWindow): number {
  const expected = window.kind === 'pick' ? window.changeMs + PICK_EXIT_AFTER_MS : window.changeMs - PUT_ENTRY_BEFORE_MS;
  let timingS = TIMING_CAP_S;
  for (const k of heldCrossings(trace, window.kind === 'pick' ? 'out' : 'in')) timingS = Math.min(timingS, Math.abs(trace[k][0] - expected) / 1000);
  return timingS;
}

/**
 * The trace's crossings into or out of the lanes (the index of the first instant on the new side), in
 * time order, that hold: the hand stays on its new side for CROSSING_HOLD_MS (or to the end of the
 * trace).
 */
function* heldCrossings(trace: ReadonlyArray<[number, number]>, way: 'in' | 'out'): Generator<number> {
  const inside = (k: number) => trace[k][1] <= IN_LANE_M;
  for (let k = 1; k < trace.length; k++) {
    const crossed = way === 'out' ? inside(k - 1) && !inside(k) : !inside(k - 1) && inside(k);
    if (!crossed) continue;
    let held = true;
    for (let j = k + 1; j < trace.length && trace[j][0] - trace[k][0] <= CROSSING_HOLD_MS; j++) if (inside(j) !== inside(k)) held = false;
    if (held) yield k;
  }
}

function profileAt(trace: Array<[number, number]>, ts: number): number {
  let best = PROFILE_CAP_M;
  let bestGap = PROFILE_NEAREST_MS;
  for (const [at, distance] of trace) {
    const gap = Math.abs(at - ts);
    if (gap <= bestGap) {
      bestGap = gap;
      best = Math.min(PROFILE_CAP_M, distance);
    }
  }
  return best;
}

function nearestMean(distances: number[]): number {
  if (distances.length === 0) return FAR_M;
  const nearest = [...distances].sort((a, b) => a - b).slice(0, NEAREST_AVERAGED);
  return Math.min(FAR_M, nearest.reduce((sum, d) => sum + d, 0) / nearest.length);
}
