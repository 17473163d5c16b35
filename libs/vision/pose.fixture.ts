import type { RgbFrame } from '../video/rgb.frame.ts';
import type { DetectHints, DetectedPose, PoseDetector, ViewGeometry } from './pose.detector.ts';

/**
 * A detected pose for tests of what is done with poses (mirroring, merging readings): a standing
 * person about 100 px tall whose 17 keypoints fan out from (x, y), left and right apart, every one
 * at the given score.
 */
export function fannedPose(x: number, y: number, score = 0.8): DetectedPose {
  const keypoints = Array.from({ length: 17 }, (_, k): [number, number, number] => [x + (k % 2 ? -1 : 1) * (5 + k), y + k * 6, score]);
  return { score, box: [x - 25, y - 5, 50, 110], keypoints };
}

/**
 * A stand-in pose detector for tests of what is done around the model (saving, scoring, the camera
 * service): `find` says what it sees in a frame, given how many calls came before (this one is
 * `call`, from 1), the camera's view and the caller's hints; it may take its time (a promise). `calls` counts the calls.
 */
export function standInDetector(
  model: string,
  find: (frame: RgbFrame, call: number, view: ViewGeometry | undefined, hints: DetectHints | undefined) => DetectedPose[] | Promise<DetectedPose[]>,
): PoseDetector & { calls: number } {
  const detector = {
    key: model,
    model,
    backend: 'none',
    calls: 0,
    async detect(frame: RgbFrame, view?: ViewGeometry, hints?: DetectHints): Promise<DetectedPose[]> {
      return find(frame, ++detector.calls, view, hints);
    },
    dispose() {},
  };
  return detector;
}
