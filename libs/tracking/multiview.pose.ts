import type { Camera, Vec3 } from '../contracts/index.ts';
import { projectPoint } from '../geometry/camera.ts';
import { triangulate, type Observation } from '../geometry/triangulate.ts';
import { keypointBox, MIRRORED_KEYPOINTS, type DetectedPose } from '../vision/pose.detector.ts';

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
}

export const DEFAULT_FUSION_OPTIONS: FusionOptions = Object.freeze({
  minKeypointScore: 0.2,
  maxPairError: 0.08,
  minSharedKeypoints: 4,
  maxKeypointError: 0.12,
});

/** People stand on the floor: a triangulated body point outside this height band is a mismatch. */
const MIN_HEIGHT_M = -0.3;
const MAX_HEIGHT_M = 2.3;

interface Detection {
  view: number;
  pose: number;
  keypoints: DetectedPose['keypoints'];
  mirroredKeypoints: DetectedPose['keypoints'];
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
        mirroredKeypoints: MIRRORED_KEYPOINTS.map((m) => pose.keypoints[m]),
        size: Math.max(8, Math.hypot(w, h)),
        score: pose.score,
      });
    }),
  );
  // Pair costs, with whichever side assignment of the second detection fits better: from two
  // views alone the sides are often ambiguous, so they are settled per group below.
  const pairs: Array<{ a: number; b: number; cost: number }> = [];
  const costOf = new Map<string, number>();
  for (let a = 0; a < detections.length; a++)
    for (let b = a + 1; b < detections.length; b++) {
      if (detections[a].view === detections[b].view) continue;
      const costs = [false, true].map((mirrored) => pairCost(views, detections[a], detections[b], mirrored, options)).filter((c) => c !== null);
      if (!costs.length) continue;
      const cost = Math.min(...costs);
      costOf.set(`${a}/${b}`, cost);
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
        const measured = costOf.get(i < j ? `${i}/${j}` : `${j}/${i}`);
        return measured === undefined || measured <= 2 * options.maxPairError;
      }),
    );
    if (!agrees) continue;
    for (const j of B) group[j] = ga;
    membersOf.set(ga, [...A, ...B]);
    membersOf.delete(gb);
  }
  const people: FusedPerson[] = [];
  for (const members of membersOf.values()) {
    const { sides, support } = members.length < 2 ? { sides: [false], support: 1 } : settleSides(views, members.map((i) => detections[i]), options);
    const keypoints = Array.from({ length: 17 }, (_, k) =>
      members.length < 2 ? null : fuseKeypoint(views, members.map((i, m) => ({ detection: detections[i], mirrored: sides[m] })), k, options),
    );
    people.push({ keypoints, members: members.map((i, m) => ({ view: detections[i].view, pose: detections[i].pose, mirrored: sides[m] })), sideSupport: support });
  }
  return people;
}

/**
 * Which members of a group to read with their sides swapped. Every assignment relative to the first
 * member is tried (at most 8 for four cameras), keeping the one whose keypoints triangulate with
 * the least error; then the whole group is turned the way most cameras read it.
 */
function settleSides(views: readonly CameraPoses[], members: Detection[], options: FusionOptions): { sides: boolean[]; support: number } {
  let best: boolean[] = members.map(() => false);
  let bestError = Infinity;
  for (let mask = 0; mask < 1 << (members.length - 1); mask++) {
    const sides = members.map((_, m) => m > 0 && ((mask >> (m - 1)) & 1) === 1);
    let error = 0;
    for (let k = 5; k < 17; k++) {
      const observations: Observation[] = [];
      const sizes: number[] = [];
      members.forEach((d, m) => {
        const kp = (sides[m] ? d.mirroredKeypoints : d.keypoints)[k];
        if (kp[2] < options.minKeypointScore) return;
        observations.push({ camera: views[d.view].camera, pixel: [kp[0], kp[1]] });
        sizes.push(d.size);
      });
      if (observations.length < 2) continue;
      const result = triangulate(observations, { maxRefinementSteps: 2 });
      error += result ? result.reprojectionErrorsPx.reduce((s, e, i) => s + Math.min(e / sizes[i], 0.5), 0) : 0.5 * observations.length;
    }
    if (error < bestError) [best, bestError] = [sides, error];
  }
  // Whole-group sides: geometry cannot tell a person from their mirror image, so the reading most
  // cameras gave (weighted by how sure each is of the person) wins.
  const vote = members.reduce((s, d, m) => s + d.score * (best[m] ? -1 : 1), 0);
  const total = members.reduce((s, d) => s + d.score, 0);
  const swapAll = vote < 0;
  return { sides: best.map((b) => b !== swapAll), support: total > 0 ? 0.5 + Math.abs(vote) / (2 * total) : 0.5 };
}

/** Median reprojection error, as a share of each person's size, of the keypoints two detections share. */
function pairCost(views: readonly CameraPoses[], a: Detection, b: Detection, mirrored: boolean, options: FusionOptions): number | null {
  const bk = mirrored ? b.mirroredKeypoints : b.keypoints;
  const errors: number[] = [];
  for (let k = 0; k < 17; k++) {
    if (a.keypoints[k][2] < options.minKeypointScore || bk[k][2] < options.minKeypointScore) continue;
    const result = triangulate(
      [
        { camera: views[a.view].camera, pixel: [a.keypoints[k][0], a.keypoints[k][1]] },
        { camera: views[b.view].camera, pixel: [bk[k][0], bk[k][1]] },
      ],
      { maxRefinementSteps: 2 },
    );
    if (!result || result.point[2] < MIN_HEIGHT_M || result.point[2] > MAX_HEIGHT_M) {
      errors.push(Infinity);
      continue;
    }
    errors.push(Math.max(result.reprojectionErrorsPx[0] / a.size, result.reprojectionErrorsPx[1] / b.size));
  }
  if (errors.length < options.minSharedKeypoints) return null;
  errors.sort((x, y) => x - y);
  return errors[Math.floor(errors.length / 2)];
}

/** One keypoint from every view sure of it, leaving out views that disagree with the rest. */
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
    const observations: Observation[] = used.map(({ detection, keypoint }) => ({ camera: views[detection.view].camera, pixel: [keypoint[0], keypoint[1]] }));
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
 * (sides put right), with keypoints it missed or was unsure of taken from the 3D person projected
 * into it; a person it missed but others triangulated is the projection alone. Detections no other
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
      const keypoints = (own.mirrored ? MIRRORED_KEYPOINTS.map((m) => detected.keypoints[m]) : detected.keypoints).map((kp, k) =>
        kp[2] >= options.minKeypointScore || !projected[k] ? kp : projected[k]!,
      );
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
