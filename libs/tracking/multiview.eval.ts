import { KP, WalkoutError, type FramePoseTruth, type Vec3 } from '../contracts/index.ts';
import { distance3 } from '../geometry/linalg.ts';
import type { Recording } from '../recording/index.ts';
import { DEFAULT_RECALL_OPTIONS, emptyTally, summariseRecall, tallyFrame, type RecallOptions, type RecallSummary } from '../vision/keypoint.recall.ts';
import { MIRRORED_KEYPOINTS, type DetectedPose } from '../vision/pose.detector.ts';
import { DEFAULT_FUSION_OPTIONS, fuseViews, posesInView, type CameraPoses, type FusedPerson, type FusionOptions } from './multiview.pose.ts';
import { floorDistances, MotAccumulator, motMetrics, type MotMetrics } from './mot.eval.ts';
import { DEFAULT_TRACKER_OPTIONS, floorCentre, storePlaces, trackPeople, type Track, type TrackedInstant, type TrackerOptions } from './people.tracker.ts';

/**
 * Multi-view fusion scored against a recording's truth: the detections `eval pose` made, camera by
 * camera, are grouped by instant and fused (multiview.pose.ts); each camera's view of the fused
 * people is scored with the same keypoint recall as the detector alone, and the fused 3D wrists
 * against the 3D truth (truth/skeletons.jsonl). Frames of different cameras within half a frame
 * period of each other are one instant (groupByInstant): the simulator renders every camera at the
 * same ticks, real cameras are not in step.
 */

/** What one camera's detector found at one instant, with that frame's 2D truth. */
export interface CameraInstant {
  cameraId: string;
  ts: number;
  truth: FramePoseTruth['people'];
  detections: readonly DetectedPose[];
}

export interface FusionEvalReport {
  /** Keypoint recall of every camera's view of the fused people, pooled over cameras. */
  overall: RecallSummary;
  cameras: Array<{ cameraId: string; summary: RecallSummary }>;
  /**
   * Wrists visible (v = 2) to two or more of the scored cameras at an instant, and how many of
   * them the fusion put within `radiusM` of the true 3D wrist (on the right side).
   */
  wrists3d: { found: number; total: number; recall: number | null; radiusM: number; medianErrorM: number | null };
  instants: number;
  msPerInstant: number;
  /**
   * The same, after following people over time (people.tracker.ts) to settle their sides; null
   * when the instants scored are further apart than the tracker links (e.g. 20 frames of a minute).
   */
  tracked: (Pick<FusionEvalReport, 'overall' | 'cameras' | 'wrists3d'> & { tracks: number; flips: number; floor: FloorTracking | null }) | null;
}

/**
 * The tracks scored as multi-object tracking on the floor (mot.eval.ts): every true person at each
 * instant followed (truth/skeletons.jsonl) against every tracked person, each where they stand
 * (floorCentre), a pair matching when at most `maxDistanceM` apart. MOTP is in metres. Null when
 * the recording has no skeleton truth at the instants followed.
 */
export type FloorTracking = MotMetrics & { maxDistanceM: number };

/** A tracked person is the true person standing at most this far away on the floor. */
export const FLOOR_MATCH_M = 0.5;

/** A fused 3D wrist counts as found this close to the truth: about the PCK radius used in 2D (11 cm). */
export const WRIST_RADIUS_3D_M = 0.11;
/** A fused person is a truth person when their keypoints are this close (median, either side). */
const SAME_PERSON_M = 0.4;

/** Null when fewer than two cameras were scored (nothing to fuse). */
export async function evaluateFusion(
  recording: Recording,
  instants: readonly CameraInstant[],
  options: { fusion?: FusionOptions; recall?: RecallOptions; tracker?: TrackerOptions } = {},
): Promise<FusionEvalReport | null> {
  const fusion = options.fusion ?? DEFAULT_FUSION_OPTIONS;
  const recall = options.recall ?? DEFAULT_RECALL_OPTIONS;
  const tracker = options.tracker ?? DEFAULT_TRACKER_OPTIONS;
  const cameraIds = [...new Set(instants.map((i) => i.cameraId))];
  if (cameraIds.length < 2) return null;
  const fastest = Math.max(...cameraIds.map((id) => recording.index.cameras.get(id)?.fps ?? 0));
  const groups = groupByInstant(instants, fastest > 0 ? 500 / fastest : 0);
  const skeletons = await truthSkeletonsAt(recording, new Set(instants.map((i) => i.ts)));
  const fused: FusedInstant[] = [];
  let fuseMs = 0;
  for (const seen of groups) {
    // The 3D truth of the instant: at the first of its frames' times the truth has a line for.
    const ts = seen.find((s) => skeletons.has(s.ts))?.ts ?? seen[0].ts;
    const views = seen.map((s) => {
      const camera = recording.index.cameras.get(s.cameraId);
      if (!camera) throw new WalkoutError('RECORDING_INVALID', `the recording has pose truth for ${s.cameraId} but its store has no such camera`);
      return { camera, poses: s.detections };
    });
    const started = performance.now();
    fused.push({ ts, seen, views, people: fuseViews(views, fusion) });
    fuseMs += performance.now() - started;
  }
  // Tracks only mean something when the instants scored are close enough to follow people.
  const gaps = fused.slice(1).map((f, i) => f.ts - fused[i].ts).sort((a, b) => a - b);
  const dense = gaps.length > 0 && gaps[Math.floor(gaps.length / 2)] <= tracker.maxGapMs;
  let tracked: FusionEvalReport['tracked'] = null;
  if (dense) {
    // Shoppers standing at a shelf face it, and people gone at an exit have left (people.tracker.ts).
    const { shelves, doorways } = storePlaces(recording.store);
    const result = trackPeople(fused, tracker, shelves, doorways);
    const flips = result.tracks.reduce((n, t) => n + t.points.filter((p) => p.flipped).length, 0);
    const withTracks = fused.map((f, i) => ({ ...f, people: result.instants[i].people }));
    tracked = {
      ...scoreFused(withTracks, cameraIds, skeletons, fusion, recall),
      tracks: result.tracks.length,
      flips,
      floor: scoreFloorTracking(result.instants, result.tracks, skeletons),
    };
  }
  return {
    ...scoreFused(fused, cameraIds, skeletons, fusion, recall),
    instants: groups.length,
    msPerInstant: groups.length ? fuseMs / groups.length : 0,
    tracked,
  };
}

/** Each instant's true people against its tracked people, on the floor (see FloorTracking). */
export function scoreFloorTracking(
  instants: readonly TrackedInstant[],
  tracks: readonly Track[],
  skeletons: ReadonlyMap<number, ReadonlyArray<{ personId: string; keypoints: Vec3[] }>>,
  maxDistanceM = FLOOR_MATCH_M,
): FloorTracking | null {
  const trackOf = new Map<string, number>();
  for (const track of tracks) for (const { instant, person } of track.points) trackOf.set(`${instant}/${person}`, track.id);
  const accumulator = new MotAccumulator();
  let scored = 0;
  instants.forEach((instant, i) => {
    const truth = skeletons.get(instant.ts);
    if (!truth) return;
    scored++;
    const people = truth.map((p) => ({ id: p.personId, at: floorCentre(p.keypoints) }));
    const tracked = instant.people.flatMap((person, p) => {
      const id = trackOf.get(`${i}/${p}`);
      const at = floorCentre(person.keypoints.map((k) => k?.point));
      return id === undefined || !at ? [] : [{ id, at }];
    });
    const placed = people.filter((p): p is { id: string; at: [number, number] } => p.at !== null);
    accumulator.update({
      objects: placed.map((p) => p.id),
      hypotheses: tracked.map((t) => t.id),
      distances: floorDistances(placed.map((p) => p.at), tracked.map((t) => t.at), maxDistanceM),
    });
  });
  return scored ? { ...motMetrics(accumulator.counts()), maxDistanceM } : null;
}

/**
 * Frames of different cameras taken at one instant: in time order, a frame joins the current group
 * when its camera is not in it yet and it is within `toleranceMs` of the group's first frame (half
 * a frame period: cameras that are not in step still pair each frame with the nearest of the others).
 */
export function groupByInstant(instants: readonly CameraInstant[], toleranceMs: number): CameraInstant[][] {
  const groups: CameraInstant[][] = [];
  let current: CameraInstant[] = [];
  for (const instant of [...instants].sort((a, b) => a.ts - b.ts)) {
    if (current.length && (instant.ts - current[0].ts > toleranceMs || current.some((c) => c.cameraId === instant.cameraId))) {
      groups.push(current);
      current = [];
    }
    current.push(instant);
  }
  if (current.length) groups.push(current);
  return groups;
}

interface FusedInstant {
  ts: number;
  seen: CameraInstant[];
  views: CameraPoses[];
  people: FusedPerson[];
}

function scoreFused(
  fused: readonly FusedInstant[],
  cameraIds: readonly string[],
  skeletons: Map<number, Array<{ personId: string; keypoints: Vec3[] }>>,
  fusion: FusionOptions,
  recall: RecallOptions,
): Pick<FusionEvalReport, 'overall' | 'cameras' | 'wrists3d'> {
  const overall = emptyTally();
  const perCamera = new Map(cameraIds.map((id) => [id, emptyTally()]));
  const wrists = { found: 0, total: 0, errors: [] as number[] };
  for (const { ts, seen, views, people } of fused) {
    seen.forEach((s, v) => {
      const poses = posesInView(people, views, v, fusion);
      tallyFrame(overall, s.truth, poses, recall);
      tallyFrame(perCamera.get(s.cameraId)!, s.truth, poses, recall);
    });
    const truth = skeletons.get(ts);
    if (truth) scoreWrists3d(truth, seen, people, wrists);
  }
  const sorted = [...wrists.errors].sort((a, b) => a - b);
  return {
    overall: summariseRecall(overall, recall),
    cameras: cameraIds.map((cameraId) => ({ cameraId, summary: summariseRecall(perCamera.get(cameraId)!, recall) })),
    wrists3d: {
      found: wrists.found,
      total: wrists.total,
      recall: wrists.total ? wrists.found / wrists.total : null,
      radiusM: WRIST_RADIUS_3D_M,
      medianErrorM: sorted.length ? sorted[Math.floor(sorted.length / 2)] : null,
    },
  };
}

/** The 3D truth of the recording at the given instants (none when it has no skeleton truth). */
export async function truthSkeletonsAt(recording: Recording, wanted: Set<number>): Promise<Map<number, Array<{ personId: string; keypoints: Vec3[] }>>> {
  const found = new Map<number, Array<{ personId: string; keypoints: Vec3[] }>>();
  if (!recording.manifest.truth.skeletons) return found;
  for await (const line of recording.truthSkeletons()) if (wanted.has(line.ts)) found.set(line.ts, line.people);
  return found;
}

/** Each fused person (seen by two or more cameras) paired with the truth person nearest in 3D. */
function scoreWrists3d(
  truth: Array<{ personId: string; keypoints: Vec3[] }>,
  seen: readonly CameraInstant[],
  people: readonly FusedPerson[],
  wrists: { found: number; total: number; errors: number[] },
) {
  const fused = people.filter((p) => p.members.length >= 2);
  const byTruth = new Map([...matchTruth(truth, fused.map((f) => f.keypoints.map((k) => k?.point ?? null)))].map(([t, f]) => [t, fused[f]]));
  truth.forEach((person, t) => {
    for (const k of [KP.left_wrist, KP.right_wrist]) {
      const views = seen.filter((s) => s.truth.find((p) => p.personId === person.personId)?.keypoints[k][2] === 2).length;
      if (views < 2) continue;
      wrists.total++;
      const point = byTruth.get(t)?.keypoints[k]?.point;
      if (!point) continue;
      const error = distance3(point, person.keypoints[k]);
      wrists.errors.push(error);
      if (error <= WRIST_RADIUS_3D_M) wrists.found++;
    }
  });
}

/**
 * Each true person paired with the 3D person nearest them (median keypoint distance, either side,
 * within SAME_PERSON_M), nearest pairs first, each at most once: truth index -> candidate index.
 */
export function matchTruth(truth: ReadonlyArray<{ keypoints: Vec3[] }>, candidates: ReadonlyArray<ReadonlyArray<Vec3 | null>>): Map<number, number> {
  const pairs: Array<{ t: number; c: number; d: number }> = [];
  truth.forEach((person, t) =>
    candidates.forEach((keypoints, c) => {
      const d = medianDistance(person.keypoints, keypoints);
      if (d !== null && d <= SAME_PERSON_M) pairs.push({ t, c, d });
    }),
  );
  pairs.sort((a, b) => a.d - b.d);
  const byTruth = new Map<number, number>();
  const taken = new Set<number>();
  for (const { t, c } of pairs) {
    if (byTruth.has(t) || taken.has(c)) continue;
    byTruth.set(t, c);
    taken.add(c);
  }
  return byTruth;
}

/** Median over a person's 3D keypoints of the distance to the truth's same or mirrored keypoint (identity, not sides). */
function medianDistance(truth: Vec3[], keypoints: ReadonlyArray<Vec3 | null>): number | null {
  const d: number[] = [];
  keypoints.forEach((point, k) => {
    if (point) d.push(Math.min(distance3(point, truth[k]), distance3(point, truth[MIRRORED_KEYPOINTS[k]])));
  });
  if (!d.length) return null;
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)];
}
