/**
 * Object keypoint similarity, COCO's keypoint metric: for each labelled keypoint,
 * exp(-d^2 / (2 s^2 k^2)) with d the pixel distance, s^2 the object's area and k = 2 sigma the
 * keypoint's annotation spread measured by COCO (eyes are placed precisely, hips loosely); averaged
 * over the labelled keypoints. 1 is perfect; 0.5 is COCO's loose match, 0.75 its strict one.
 */

/** COCO's per-keypoint sigmas, in COCO_KEYPOINTS order (from the COCO keypoint evaluation). */
export const COCO_SIGMAS = [
  0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
] as const;

export type Keypoints2D = ReadonlyArray<readonly [number, number, number]>;

/**
 * OKS of predicted keypoints against truth [x, y, v] (v > 0 labelled), for an object of `area`
 * square pixels (COCO uses the segment area; a box area times about 0.53 for people is close).
 * Returns 0 when no keypoint is labelled.
 */
export function objectKeypointSimilarity(predicted: Keypoints2D, truth: Keypoints2D, area: number): number {
  let sum = 0;
  let labelled = 0;
  for (let k = 0; k < truth.length; k++) {
    if (!(truth[k][2] > 0)) continue;
    labelled++;
    const dx = predicted[k][0] - truth[k][0];
    const dy = predicted[k][1] - truth[k][1];
    const kappa = 2 * COCO_SIGMAS[k];
    sum += Math.exp(-(dx * dx + dy * dy) / (2 * Math.max(area, 1) * kappa * kappa));
  }
  return labelled ? sum / labelled : 0;
}
