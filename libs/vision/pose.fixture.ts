import type { DetectedPose } from './pose.detector.ts';

/**
 * A detected pose for tests of what is done with poses (mirroring, merging readings): a standing
 * person about 100 px tall whose 17 keypoints fan out from (x, y), left and right apart, every one
 * at the given score.
 */
export function fannedPose(x: number, y: number, score = 0.8): DetectedPose {
  const keypoints = Array.from({ length: 17 }, (_, k): [number, number, number] => [x + (k % 2 ? -1 : 1) * (5 + k), y + k * 6, score]);
  return { score, box: [x - 25, y - 5, 50, 110], keypoints };
}
