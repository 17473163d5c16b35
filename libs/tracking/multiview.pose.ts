import { KP, type Camera, type Vec3 } from '../contracts/index.ts';
import { projectPoint } from '../geometry/camera.ts';
import { add3, dot3, norm3, scale3, sub3 } from '../geometry/linalg.ts';
import { unproject, type Ray } from '../geometry/ray.ts';
import { triangulate, type Observation } from '../geometry/triangulate.ts';
import { keypointBox, MIRRORED_KEYPOINTS, mirrorPose, type DetectedPose } from '../vision/pose.detector.ts';

/**
 * The same instant seen by several calibrated cameras: which detections are the same person, in 3D.
 * One camera alone loses people behind others and swaps the sides of people seen from behind; a
 * person is rarely lost or seen from behind by every camera at once. So detections are paired
 * across cameras by how well their keypoints triangulate (with either side assignment), grouped
 * greedily, their sides made to agree (the cameras that read the person one way outvote those that
 * read them the other), and each keypoint is triangulated from the views that agree on it. The 3D
 * person projected back into every camera gives each camera's view of them, including cameras that
 * missed them or read their sides the other way.
 */

export interface CameraPoses {
  camera: Camera;
  poses: readonly DetectedPose[];
}

export interface FusedKeypoint {
  point: Vec3;
  /** Mean detector score of the views used. */
  score: number;
  /** The views (indices into the cameras given) whose sightings agree on it. */
  views: number[];
  /**
   * How far, in 3D, a tracker moved the point from where the views put it (people.tracker.ts, arm
   * lengths): each camera's own sighting of it is moved by as much as that camera sees of the move.
   */
  moved?: Vec3;
}

export interface FusedPerson {
  /** Per COCO keypoint, the 3D point where at least two views agree; null otherwise. */
  keypoints: Array<FusedKeypoint | null>;
  /** The detections that are this person; `mirrored`: its left and right were swapped to agree. */
  members: Array<{ view: number; pose: number; mirrored: boolean }>;
  /**
   * How much of the cameras' reading (weighted by person score) agrees with the sides as fused:
   * 1 when every camera read them so, 0.5 when it was a tie. A tracker weighs it against motion.
   */
  sideSupport: number;
}

export interface FusionOptions {
  /** A keypoint counts as a sighting from this detector score up. */
  minKeypointScore: number;
  /**
   * Two detections are the same person when their shared keypoints triangulate with a median
   * reprojection error under this share of the person's size in each image (keypoint box diagonal).
   */
  maxPairError: number;
  /** Keypoints in common two detections need before they can be paired. */
  minSharedKeypoints: number;
  /** A view whose sighting misses the triangulated point by more than this share of the person's size is left out. */
  maxKeypointError: number;
  /**
   * In each camera's view of the fused people, a keypoint the camera scored below this is replaced
   * by the fused 3D point projected into it, where there is one (the surer views' consensus).
   */
  ownKeypointScore: number;
  /**
   * In each camera's view, the camera's own wrist is replaced by the fused wrist projected into it
   * when it lies on the forearm as projected, short of the wrist: between the projected elbow and
   * wrist, within this share of the projected forearm's length of its line. A pose model puts
   * wrists short of the joint, and where the other cameras' 3D wrist lies further along the same
   * forearm, it is the same wrist. 0 turns it off.
   */
  shortWristLine: number;
}

export const DEFAULT_FUSION_OPTIONS: FusionOptions = Object.freeze({
  minKeypointScore: 0.2,
  maxPairError: 0.08,
  minSharedKeypoints: 4,
  maxKeypointError: 0.16,
  ownKeypointScore: 0.45,
  shortWristLine: 0.25,
});

/** People stand on the floor: a triangulated body point outside this height band is a mismatch. */
const MIN_HEIGHT_M = -0.3;
const MAX_HEIGHT_M = 2.3;
/** Two detections whose rays through one of their surest shared keypoints pass this far apart are two people, metres. */
const PRUNE_RAY_GAP_M = 0.5;
/** How many of the surest shared keypoints that quick test (pairCost) looks at. */
const PRUNE_KEYPOINTS = 3;
/** ...and how far apart, on the floor, the places where their rays meet may be, metres. */
const PRUNE_BODY_SPREAD_M = 1;
/**
 * Heights each COCO keypoint can have, metres, from a child crouching to a tall adult reaching up
 * (generous: it only rules out two rays meeting at, say, ankle height for a nose).
 */
const KEYPOINT_HEIGHT_M: ReadonlyArray<readonly [number, number]> = [
  [0.6, 2.2], [0.6, 2.2], [0.6, 2.2], [0.6, 2.2], [0.6, 2.2], // face
  [0.5, 1.9], [0.5, 1.9], // shoulders
  [0.2, 2.3], [0.2, 2.3], [0, 2.3], [0, 2.3], // elbows, wrists
  [0.2, 1.3], [0.2, 1.3], // hips
  [0, 0.8], [0, 0.8], // knees
  [-0.2, 0.5], [-0.2, 0.5], // ankles
];
/** A keypoint (or pair) that will not triangulate counts this much, as a share of the person's size, when settling sides. */
const MAX_SIDE_COST = 0.5;
/** Groups up to this size settle their sides by triangulating every assignment; larger ones from pair costs. */
const MAX_MEMBERS_TRIANGULATED = 4;

interface Detection {
  view: number;
  pose: number;
  keypoints: DetectedPose['keypoints'];
  mirroredKeypoints: DetectedPose['keypoints'];
  /** The ray through each keypoint the detector is sure of (null otherwise), for a quick first test. */
  rays: Array<Ray | null>;
  size: number;
  score: number;
}

/** Groups the detections of one instant into people and triangulates them. */
export function fuseViews(views: readonly CameraPoses[], options: FusionOptions = DEFAULT_FUSION_OPTIONS): FusedPerson[] {
  const detections: Detection[] = [];
  views.forEach((view, v) =>
    view.poses.forEach((pose, p) => {
      const [, , w, h] = keypointBox(pose.keypoints.filter((k) => k[2] >= options.minKeypointScore));
      detections.push({
        view: v,
        pose: p,
        keypoints: pose.keypoints,
        mirroredKeypoints: mirrorPose(pose).keypoints,
        rays: pose.keypoints.map(([x, y, score]) => (score >= options.minKeypointScore ? unproject(view.camera, [x, y]) : null)),
        size: Math.max(8, Math.hypot(w, h)),
        score: pose.score,
      });
    }),
  );
  // Pair costs, with whichever side assignment of the second detection fits better: from two
  // views alone the sides are often ambiguous, so they are settled per group below.
  const pairs: Array<{ a: number; b: number; cost: number }> = [];
  // Per pair "a/b" (a < b): the cost with b's sides as detected and swapped (null: too little in common).
  const costOf = new Map<string, [number | null, number | null]>();
  for (let a = 0; a < detections.length; a++)
    for (let b = a + 1; b < detections.length; b++) {
      if (detections[a].view === detections[b].view) continue;
      const both: [number | null, number | null] = [pairCost(views, detections[a], detections[b], false, options), pairCost(views, detections[a], detections[b], true, options)];
      const known = both.filter((c) => c !== null);
      if (!known.length) continue;
      costOf.set(`${a}/${b}`, both);
      const cost = Math.min(...known);
      if (cost <= options.maxPairError) pairs.push({ a, b, cost });
    }
  pairs.sort((x, y) => x.cost - y.cost);
  // Greedy grouping: each detection starts alone; the cheapest pair joins two groups when they share
  // no camera and every cross pair that can be measured is close enough.
  const group = detections.map((_, i) => i);
  const membersOf = new Map<number, number[]>(detections.map((_, i) => [i, [i]]));
  for (const { a, b } of pairs) {
    const ga = group[a];
    const gb = group[b];
    if (ga === gb) continue;
    const A = membersOf.get(ga)!;
    const B = membersOf.get(gb)!;
    const cameras = new Set(A.map((i) => detections[i].view));
    if (B.some((i) => cameras.has(detections[i].view))) continue;
    const agrees = A.every((i) =>
      B.every((j) => {
        const measured = costOf.get(i < j ? `${i}/${j}` : `${j}/${i}`)?.filter((c) => c !== null);
        return !measured || Math.min(...measured) <= 2 * options.maxPairError;
      }),
    );
    if (!agrees) continue;
    for (const j of B) group[j] = ga;
    membersOf.set(ga, [...A, ...B]);
    membersOf.delete(gb);
  }
  const people: FusedPerson[] = [];
  for (const members of membersOf.values()) {
    const { sides, support } = members.length < 2 ? { sides: [false], support: 1 } : settleSides(views, members, detections, costOf, options);
    const keypoints = Array.from({ length: 17 }, (_, k) =>
      members.length < 2 ? null : fuseKeypoint(views, members.map((i, m) => ({ detection: detections[i], mirrored: sides[m] })), k, options),
    );
    people.push({ keypoints, members: members.map((i, m) => ({ view: detections[i].view, pose: detections[i].pose, mirrored: sides[m] })), sideSupport: support });
  }
  return people;
}

/**
 * Which members of a group to read with their sides swapped. Every assignment relative to the first
 * member is tried (at most 2,048 for twelve cameras). Up to four members, each is scored by how well
 * all their keypoints triangulate together; in larger groups (where that would take thousands of
 * triangulations) by the sum over member pairs of their pairing cost with the relative sides the
 * assignment gives them, measured once when pairing (in the kiosk recordings that found 446 wrists
 * of 701 against 454). Then the whole group is turned the way most cameras read it.
 */
function settleSides(
  views: readonly CameraPoses[],
  members: number[],
  detections: Detection[],
  costOf: Map<string, [number | null, number | null]>,
  options: FusionOptions,
): { sides: boolean[]; support: number } {
  const n = members.length;
  const group = members.map((i) => detections[i]);
  const triangulated = (sides: boolean[]) => {
    let error = 0;
    for (let k = KP.left_shoulder; k <= KP.right_ankle; k++) {
      const observations: Observation[] = [];
      const sizes: number[] = [];
      group.forEach((d, m) => {
        const kp = (sides[m] ? d.mirroredKeypoints : d.keypoints)[k];
        if (kp[2] < options.minKeypointScore) return;
        observations.push({ camera: views[d.view].camera, pixel: [kp[0], kp[1]] });
        sizes.push(d.size);
      });
      if (observations.length < 2) continue;
      const result = triangulate(observations, { maxRefinementSteps: 2 });
      error += result ? result.reprojectionErrorsPx.reduce((s, e, i) => s + Math.min(e / sizes[i], MAX_SIDE_COST), 0) : MAX_SIDE_COST * observations.length;
    }
    return error;
  };
  const fromPairs = (sides: boolean[]) => {
    let error = 0;
    for (let m = 0; m < n; m++)
      for (let o = m + 1; o < n; o++) {
        const [i, j] = members[m] < members[o] ? [members[m], members[o]] : [members[o], members[m]];
        const cost = costOf.get(`${i}/${j}`)?.[sides[m] === sides[o] ? 0 : 1] ?? 0;
        error += Math.min(cost, MAX_SIDE_COST);
      }
    return error;
  };
  const errorOf = n <= MAX_MEMBERS_TRIANGULATED ? triangulated : fromPairs;
  let best: boolean[] = members.map(() => false);
  let bestError = Infinity;
  for (let mask = 0; mask < 1 << (n - 1); mask++) {
    const sides = members.map((_, m) => m > 0 && ((mask >> (m - 1)) & 1) === 1);
    const error = errorOf(sides);
    if (error < bestError) [best, bestError] = [sides, error];
  }
  // Whole-group sides: geometry cannot tell a person from their mirror image, so the reading most
  // cameras gave (weighted by how sure each is of the person) wins.
  const vote = group.reduce((s, d, m) => s + d.score * (best[m] ? -1 : 1), 0);
  const total = group.reduce((s, d) => s + d.score, 0);
  const swapAll = vote < 0;
  return { sides: best.map((b) => b !== swapAll), support: total > 0 ? 0.5 + Math.abs(vote) / (2 * total) : 0.5 };
}

/** Where two rays pass closest: the midpoint and the gap, when that is in front of both cameras. */
function closestApproach(a: Ray, b: Ray): { mid: Vec3; gap: number } | null {
  const along = dot3(a.direction, b.direction);
  const w = sub3(a.origin, b.origin);
  const d = dot3(a.direction, w);
  const e = dot3(b.direction, w);
  const denominator = 1 - along * along;
  if (denominator < 1e-9) return null;
  const s = (along * e - d) / denominator;
  const t = (e - along * d) / denominator;
  if (s <= 0 || t <= 0) return null;
  const pa = add3(a.origin, scale3(a.direction, s));
  const pb = add3(b.origin, scale3(b.direction, t));
  return { mid: scale3(add3(pa, pb), 0.5), gap: norm3(sub3(pa, pb)) };
}

/** Median reprojection error, as a share of each person's size, of the keypoints two detections share. */
function pairCost(views: readonly CameraPoses[], a: Detection, b: Detection, mirrored: boolean, options: FusionOptions): number | null {
  const bk = mirrored ? b.mirroredKeypoints : b.keypoints;
  const shared: number[] = [];
  for (let k = 0; k < 17; k++) if (a.keypoints[k][2] >= options.minKeypointScore && bk[k][2] >= options.minKeypointScore) shared.push(k);
  if (shared.length < options.minSharedKeypoints) return null;
  // Two views: the point midway between the rays where they pass closest is as good as a full
  // triangulation for telling people apart, for a tenth of the work.
  const errorAt = (k: number) => {
    const ra = a.rays[k];
    const rb = b.rays[mirrored ? MIRRORED_KEYPOINTS[k] : k];
    const point = ra && rb ? closestApproach(ra, rb) : null;
    if (!point || point.mid[2] < MIN_HEIGHT_M || point.mid[2] > MAX_HEIGHT_M) return Infinity;
    const pa = projectPoint(views[a.view].camera, point.mid);
    const pb = projectPoint(views[b.view].camera, point.mid);
    if (!pa || !pb) return Infinity;
    return Math.max(Math.hypot(pa[0] - a.keypoints[k][0], pa[1] - a.keypoints[k][1]) / a.size, Math.hypot(pb[0] - bk[k][0], pb[1] - bk[k][1]) / b.size);
  };
  // Most pairs are two different people: the rays through their surest shared keypoints pass far
  // apart, which a few multiplications show (a store of 12 cameras and 20 people has 7,000 pairs).
  // One keypoint is not enough: a ray passes near everyone standing along it in the other view.
  const surest = [...shared].sort((p, q) => Math.min(a.keypoints[q][2], bk[q][2]) - Math.min(a.keypoints[p][2], bk[p][2])).slice(0, PRUNE_KEYPOINTS);
  // The rays must meet for every one of them, and where they meet must be one body (on the floor,
  // within a body's width of each other).
  const meets: Vec3[] = [];
  for (const k of surest) {
    const ra = a.rays[k];
    const rb = b.rays[mirrored ? MIRRORED_KEYPOINTS[k] : k];
    if (!ra || !rb) continue;
    const meet = closestApproach(ra, rb);
    if (!meet || meet.gap > PRUNE_RAY_GAP_M || meet.mid[2] < KEYPOINT_HEIGHT_M[k][0] || meet.mid[2] > KEYPOINT_HEIGHT_M[k][1]) return Infinity;
    if (meets.some((m) => Math.hypot(m[0] - meet.mid[0], m[1] - meet.mid[1]) > PRUNE_BODY_SPREAD_M)) return Infinity;
    meets.push(meet.mid);
  }
  const errors = shared.map(errorAt).sort((x, y) => x - y);
  return errors[Math.floor(errors.length / 2)];
}

/** One keypoint from every view sure of it, weighted by score, leaving out views that disagree with the rest. */
function fuseKeypoint(
  views: readonly CameraPoses[],
  sightings: Array<{ detection: Detection; mirrored: boolean }>,
  k: number,
  options: FusionOptions,
): FusedKeypoint | null {
  let used = sightings
    .map(({ detection, mirrored }) => ({ detection, keypoint: (mirrored ? detection.mirroredKeypoints : detection.keypoints)[k] }))
    .filter(({ keypoint }) => keypoint[2] >= options.minKeypointScore);
  while (used.length >= 2) {
    // Each sighting counts by the detector's score: a wrist a camera is unsure of pulls the 3D point less.
    const observations: Observation[] = used.map(({ detection, keypoint }) => ({ camera: views[detection.view].camera, pixel: [keypoint[0], keypoint[1]], weight: keypoint[2] }));
    const result = triangulate(observations, { maxRefinementSteps: 4 });
    if (result && result.point[2] >= MIN_HEIGHT_M && result.point[2] <= MAX_HEIGHT_M) {
      const shares = result.reprojectionErrorsPx.map((e, i) => e / used[i].detection.size);
      const worst = shares.indexOf(Math.max(...shares));
      if (shares[worst] <= options.maxKeypointError)
        return { point: result.point, score: used.reduce((s, u) => s + u.keypoint[2], 0) / used.length, views: used.map((u) => u.detection.view) };
      if (used.length === 2) return null;
      used = used.filter((_, i) => i !== worst);
    } else {
      // No point in front of all of them: drop the least sure sighting and try again.
      if (used.length === 2) return null;
      const least = used.reduce((m, u, i) => (u.keypoint[2] < used[m].keypoint[2] ? i : m), 0);
      used = used.filter((_, i) => i !== least);
    }
  }
  return null;
}

/**
 * Each camera's view of the fused people: a person the camera detected keeps its own keypoints
 * (sides put right), with keypoints it missed or was unsure of (ownKeypointScore) taken from the 3D
 * person projected into it, and wrists it found short along the forearm too (shortWristLine); a
 * person it missed but others triangulated is the projection alone. Detections no other
 * camera confirmed pass through unchanged.
 */
export function posesInView(people: readonly FusedPerson[], views: readonly CameraPoses[], view: number, options: FusionOptions = DEFAULT_FUSION_OPTIONS): DetectedPose[] {
  const camera = views[view].camera;
  const out: DetectedPose[] = [];
  for (const person of people) {
    const own = person.members.find((m) => m.view === view);
    const projected = person.keypoints.map((kp): [number, number, number] | null => {
      if (!kp) return null;
      const px = projectPoint(camera, kp.point);
      return px && px[0] >= 0 && px[1] >= 0 && px[0] < camera.width && px[1] < camera.height ? [px[0], px[1], kp.score] : null;
    });
    if (own) {
      const detected = views[view].poses[own.pose];
      const keypoints = (own.mirrored ? mirrorPose(detected) : detected).keypoints.map((kp, k) =>
        kp[2] >= options.ownKeypointScore || !projected[k] ? movedInView(camera, person.keypoints[k], kp) : projected[k]!,
      );
      if (options.shortWristLine > 0)
        for (const [elbow, wrist] of FOREARMS) {
          const reading = keypoints[wrist];
          if (reading[2] >= options.ownKeypointScore && isShortOnForearm(reading, projected[elbow], projected[wrist], options.shortWristLine))
            keypoints[wrist] = [projected[wrist]![0], projected[wrist]![1], reading[2]];
        }
      out.push({ score: detected.score, box: detected.box, keypoints });
      continue;
    }
    const seen = projected.filter((p) => p !== null);
    if (seen.length < options.minSharedKeypoints) continue;
    const keypoints = projected.map((p) => p ?? ([0, 0, 0] as [number, number, number]));
    const score = seen.reduce((s, p) => s + p[2], 0) / seen.length;
    out.push({ score, box: keypointBox(seen), keypoints });
  }
  return out;
}

/** A camera's own sighting of a keypoint the tracker moved in 3D, moved as that move looks from the camera. */
function movedInView(camera: Camera, fused: FusedKeypoint | null, own: [number, number, number]): [number, number, number] {
  if (!fused?.moved) return own;
  const to = projectPoint(camera, fused.point);
  const from = projectPoint(camera, sub3(fused.point, fused.moved));
  return to && from ? [own[0] + to[0] - from[0], own[1] + to[1] - from[1], own[2]] : own;
}

/** Each arm's elbow and wrist (COCO indices), left then right. */
export const FOREARMS: ReadonlyArray<readonly [elbow: number, wrist: number]> = [
  [KP.left_elbow, KP.left_wrist],
  [KP.right_elbow, KP.right_wrist],
];

/**
 * Whether `own` lies between `elbow` and `wrist` (image points) along the forearm, within `line`
 * times its length of the line through them (FusionOptions.shortWristLine).
 */
export function isShortOnForearm(own: readonly number[], elbow: readonly number[] | null, wrist: readonly number[] | null, line: number): boolean {
  if (!elbow || !wrist) return false;
  const dx = wrist[0] - elbow[0];
  const dy = wrist[1] - elbow[1];
  const length = Math.hypot(dx, dy);
  if (!(length > 1)) return false;
  const along = ((own[0] - elbow[0]) * dx + (own[1] - elbow[1]) * dy) / (length * length);
  const across = Math.abs((own[0] - elbow[0]) * dy - (own[1] - elbow[1]) * dx) / length;
  return along > 0 && along < 1 && across < line * length;
}
