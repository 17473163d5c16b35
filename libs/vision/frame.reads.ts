import type { DetectedPose, DetectHints } from './pose.detector.ts';

/**
 * How each camera's next frame is read: whole, or only in windows round the people its previous
 * frame showed (DetectHints.around). A window round each person costs a fraction of the whole
 * frame and of its second looks, but finds nobody new, so every `wholeEvery`-th frame of a camera
 * is read whole (and its first). With `wholeEvery` 1 every frame is read whole.
 *
 * Frames are counted as they are detected, per camera: the caller asks for a frame's hints, detects
 * it, and records what it found before the camera's next frame.
 */
export class FrameReads {
  private readonly cameras = new Map<string, { sinceWhole: number; people: readonly DetectedPose[] }>();

  constructor(readonly wholeEvery: number) {
    if (!Number.isInteger(wholeEvery) || wholeEvery < 1) throw new RangeError(`wholeEvery is a whole number of frames >= 1, not ${wholeEvery}`);
  }

  /** The hints for the camera's next frame: the people before it, and where to look when it is not read whole. */
  hints(cameraId: string): DetectHints {
    const last = this.cameras.get(cameraId);
    if (!last) return {};
    const whole = last.sinceWhole + 1 >= this.wholeEvery;
    return whole ? { peopleBefore: last.people.length } : { peopleBefore: last.people.length, around: last.people };
  }

  /** What the camera's frame read with `hints` found. */
  record(cameraId: string, hints: DetectHints, people: readonly DetectedPose[]): void {
    const sinceWhole = hints.around ? (this.cameras.get(cameraId)?.sinceWhole ?? 0) + 1 : 0;
    this.cameras.set(cameraId, { sinceWhole, people });
  }
}
