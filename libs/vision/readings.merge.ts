import { boxIou, keypointBox, withSidesOf, type DetectedPose } from './pose.detector.ts';

/**
 * Two readings of the same picture merged person by person: the mirrored second read
 * (mirror.read.ts) and the upright second look at one person (movenet.detector.ts). A pose model
 * errs differently on each reading; where both place a keypoint close together, their
 * score-weighted mean is nearer the truth than either, and where they disagree the surer one is
 * kept. What this gains over keeping the surer keypoint, measured on the simulator's recordings:
 * docs/experiments/mirrored-read.md.
 */

export interface ReadingMergeOptions {
  /** Two poses are the same person when their keypoint boxes overlap this much (IoU). */
  sameIou: number;
  /**
   * Both readings' keypoint is averaged when they are this close, as a share of the person's
   * keypoint box diagonal; farther apart, the surer one is kept.
   */
  averageWithin: number;
  /**
   * A keypoint below this score takes no part in the average, nor in deciding whether the second
   * reading's sides agree with the first's.
   */
  minKeypointScore: number;
}

export const DEFAULT_READING_MERGE: ReadingMergeOptions = Object.freeze({ sameIou: 0.3, averageWithin: 0.15, minKeypointScore: 0.2 });

/**
 * Index of the pose in `boxes` (keypoint boxes) overlapping `pose`'s keypoint box most, above
 * `sameIou`, leaving out those `taken`; -1 when none does.
 */
export function sameReadingIndex(pose: DetectedPose, boxes: readonly (readonly number[])[], sameIou: number, taken?: ReadonlySet<number>): number {
  const own = keypointBox(pose.keypoints);
  let same = -1;
  let best = sameIou;
  boxes.forEach((box, i) => {
    const overlap = taken?.has(i) ? 0 : boxIou(box, own);
    if (overlap > best) [same, best] = [i, overlap];
  });
  return same;
}

/**
 * One person's two readings, keypoint by keypoint. The readings can disagree on sides (commonly
 * for a person seen from behind): the first's sides are kept and the second turned to agree
 * (withSidesOf) before any keypoint is taken from it. Keeps the first's box.
 */
export function mergePoseReadings(first: DetectedPose, second: DetectedPose, options: ReadingMergeOptions = DEFAULT_READING_MERGE): DetectedPose {
  const other = withSidesOf(first, second, options.minKeypointScore);
  const [, , width, height] = keypointBox(first.keypoints);
  const within = options.averageWithin * Math.hypot(width, height);
  const keypoints = first.keypoints.map((a, k): [number, number, number] => {
    const b = other.keypoints[k];
    if (a[2] >= options.minKeypointScore && b[2] >= options.minKeypointScore && Math.hypot(a[0] - b[0], a[1] - b[1]) < within) {
      const weight = a[2] + b[2];
      return [(a[0] * a[2] + b[0] * b[2]) / weight, (a[1] * a[2] + b[1] * b[2]) / weight, Math.max(a[2], b[2])];
    }
    return b[2] > a[2] ? b : a;
  });
  return { score: Math.max(first.score, other.score), box: first.box, keypoints };
}

/**
 * The first reading's people, each merged with the same person in the second reading (paired one
 * to one by keypoint box overlap, first come first served), then the second reading's people no
 * first one matched (commonly one half hidden behind a neighbour in the first). Best score first.
 */
export function mergeReadings(first: readonly DetectedPose[], second: readonly DetectedPose[], options: ReadingMergeOptions = DEFAULT_READING_MERGE): DetectedPose[] {
  const boxes = second.map((pose) => keypointBox(pose.keypoints));
  const taken = new Set<number>();
  const out = first.map((pose) => {
    const same = sameReadingIndex(pose, boxes, options.sameIou, taken);
    if (same < 0) return pose;
    taken.add(same);
    return mergePoseReadings(pose, second[same], options);
  });
  second.forEach((pose, i) => taken.has(i) || out.push(pose));
  return out.sort((a, b) => b.score - a.score);
}
