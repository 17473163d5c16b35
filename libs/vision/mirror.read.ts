import { boxIou, keypointBox, MIRRORED_KEYPOINTS, withSidesOf, type DetectedPose } from './pose.detector.ts';

/**
 * Reading a frame twice, as it is and mirrored left to right, and merging the two readings. A pose
 * model is no more sure of a person than of their mirror image, but its errors in the two differ:
 * where both readings place a keypoint close together, their score-weighted mean is nearer the
 * truth than either; where they disagree, the surer one is kept; and a person only the mirrored
 * reading finds (commonly one half hidden behind a neighbour) is added. On the simulator's
 * recordings, every frame, fused and followed, each camera's view holds 1075 of 1229 wrists in view
 * for two shoppers (1033 with one reading), 3182 of 4355 in the crowd (3056) and 5169 of 7383 in the
 * demo (4997): README, "Mirrored second read".
 */

export interface MirrorMergeOptions {
  /** A mirrored pose is the same person as a direct one when their keypoint boxes overlap this much (IoU). */
  sameIou: number;
  /**
   * Both readings' keypoint is averaged when they are this close, as a share of the person's
   * keypoint box diagonal; farther apart, the surer one is kept.
   */
  averageWithin: number;
  /** A keypoint below this score takes no part in the average. */
  minKeypointScore: number;
}

export const DEFAULT_MIRROR_MERGE: MirrorMergeOptions = Object.freeze({ sameIou: 0.3, averageWithin: 0.15, minKeypointScore: 0.2 });

/**
 * Int32 RGB rows of `rowWidth` pixels with the first `contentWidth` of each row reversed (the rest,
 * a letterbox, stays where it is): the model input mirrored, with the same padding.
 */
export function mirrorRowsInt32(pixels: Int32Array, rowWidth: number, contentWidth: number): Int32Array {
  const out = new Int32Array(pixels);
  const rows = pixels.length / (rowWidth * 3);
  for (let y = 0; y < rows; y++) {
    const row = y * rowWidth * 3;
    for (let x = 0; x < contentWidth; x++) {
      const to = row + x * 3;
      const from = row + (contentWidth - 1 - x) * 3;
      out[to] = pixels[from];
      out[to + 1] = pixels[from + 1];
      out[to + 2] = pixels[from + 2];
    }
  }
  return out;
}

/**
 * A pose read in the mirrored image of a frame `width` pixels wide, put back in the frame: x
 * reflected, and left and right swapped (the person's left hand shows on the mirror's right).
 */
export function unmirrorPose(pose: DetectedPose, width: number): DetectedPose {
  const [bx, by, bw, bh] = pose.box;
  const reflected = pose.keypoints.map(([x, y, score]) => [width - x, y, score] as [number, number, number]);
  return { score: pose.score, box: [width - bx - bw, by, bw, bh], keypoints: MIRRORED_KEYPOINTS.map((k) => reflected[k]) };
}

/**
 * The direct reading's people, each merged keypoint by keypoint with the same person in the mirrored
 * reading (already put back with unmirrorPose), then the mirrored reading's people no direct one
 * matched. Best score first.
 */
export function mergeMirrored(direct: readonly DetectedPose[], mirrored: readonly DetectedPose[], options: MirrorMergeOptions = DEFAULT_MIRROR_MERGE): DetectedPose[] {
  const boxes = mirrored.map((m) => keypointBox(m.keypoints));
  const taken = new Set<number>();
  const out: DetectedPose[] = [];
  for (const pose of direct) {
    const own = keypointBox(pose.keypoints);
    let same = -1;
    let best = options.sameIou;
    boxes.forEach((box, i) => {
      const overlap = taken.has(i) ? 0 : boxIou(box, own);
      if (overlap > best) [same, best] = [i, overlap];
    });
    if (same < 0) {
      out.push(pose);
      continue;
    }
    taken.add(same);
    // The two readings can disagree on sides (commonly for a person seen from behind): the direct
    // reading's sides are kept, and the mirrored one turned to agree.
    const other = withSidesOf(pose, mirrored[same], options.minKeypointScore);
    const within = options.averageWithin * Math.hypot(own[2], own[3]);
    const keypoints = pose.keypoints.map((a, k): [number, number, number] => {
      const b = other.keypoints[k];
      if (a[2] >= options.minKeypointScore && b[2] >= options.minKeypointScore && Math.hypot(a[0] - b[0], a[1] - b[1]) < within) {
        const weight = a[2] + b[2];
        return [(a[0] * a[2] + b[0] * b[2]) / weight, (a[1] * a[2] + b[1] * b[2]) / weight, Math.max(a[2], b[2])];
      }
      return b[2] > a[2] ? b : a;
    });
    out.push({ score: Math.max(pose.score, other.score), box: pose.box, keypoints });
  }
  mirrored.forEach((m, i) => taken.has(i) || out.push(m));
  return out.sort((a, b) => b.score - a.score);
}
