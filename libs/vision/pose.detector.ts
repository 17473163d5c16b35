import type { z } from 'zod';
import type { DetectedPose as DetectedPoseSchema } from '../contracts/index.ts';
import type { RgbFrame } from '../video/rgb.frame.ts';

/** One person a model found: 17 COCO keypoints [x, y, score] and a box, in the frame's pixels. */
export type DetectedPose = z.infer<typeof DetectedPoseSchema>;

/**
 * What the camera's calibration says about its image, for models that want people upright: the
 * direction, in image pixels, in which the store's vertical points up for a person standing at a
 * pixel (null where it cannot say, e.g. above the horizon). Ceiling cameras with wide lenses show
 * people tilted by tens of degrees away from the image centre; models learnt from photos taken at
 * eye level expect them upright.
 */
export interface ViewGeometry {
  upAt(x: number, y: number): [number, number] | null;
}

/** What the caller knows of the camera's previous frame, for a detector that looks again only when it may help. */
export interface DetectHints {
  /** People found in the same camera's previous frame: fewer now may mean someone was missed. */
  peopleBefore?: number;
  /**
   * Read only windows round these people (found in the camera's previous frame), not the whole
   * frame: nobody else can be found, so the caller reads the whole frame now and then for
   * newcomers (frameReads). Undefined: the whole frame. A detector may ignore it.
   */
  around?: readonly DetectedPose[];
  /**
   * With `around`: where the image changed outside the windows round those people since the
   * camera's previous frame, [x, y, width, height] boxes in frame pixels (FrameReads). Empty: nothing
   * changed there, so nobody new can be in view. Undefined: not known, look for newcomers anyway.
   */
  changes?: ReadonlyArray<readonly [number, number, number, number]>;
  /**
   * With `around`: people of the camera's previous frame where nothing in the image changed
   * (FrameReads), so their poses stand as they were: a detector returns them without reading
   * their windows, unless a window round someone else found them again.
   */
  unchanged?: readonly DetectedPose[];
  /** Also tally this frame's model passes under this name (e.g. the camera's kind), for passesBy. */
  tally?: string;
}

/**
 * The inference runtime as the camera service sees it: a loaded model that takes a frame and
 * returns poses. Local runtimes (TF.js, ONNX Runtime) and a remote one would all fit behind it.
 */
export interface PoseDetector {
  /** The plugin that built it, e.g. "movenet". */
  readonly key: string;
  /** What ran, for CameraPosesDetected.model, e.g. "movenet-multipose-lightning@256". */
  readonly model: string;
  /** Where it runs, e.g. "wasm", "tensorflow", "cpu". */
  readonly backend: string;
  /** Poses in the frame's pixel coordinates, best first. */
  detect(frame: RgbFrame, view?: ViewGeometry, hints?: DetectHints): Promise<DetectedPose[]>;
  /** Model passes so far by kind (e.g. first, mirrored, upright), for a run that reports where its time went. */
  passes?(): Readonly<Record<string, PassTally>>;
  /** Model passes of the frames detected with hints.tally, by that name (every kind of pass together). */
  passesBy?(): Readonly<Record<string, PassTally>>;
  dispose(): void;
}

/**
 * How many model passes of one kind ran, and their time in the model (ms, wall): on detector
 * threads, the threads' time, which adds up to more than the wall time when they run at once.
 */
export interface PassTally {
  count: number;
  ms: number;
  /**
   * Model input pixels read in those passes: a pass's work grows with its input's area (about 0.24
   * µs a pixel for MoveNet int8 on one core here), so this says what the passes cost whatever else
   * loaded the machine meanwhile.
   */
  pixels: number;
}

/**
 * A detector plugin declares its key and its strict, described config schema; the registry builds
 * the config union from every plugin and picks the plugin by the config's `type`.
 */
export interface DetectorPlugin<Config extends { type: string }> {
  readonly key: Config['type'];
  readonly summary: string;
  readonly config: z.ZodType<Config>;
  create(config: Config): Promise<PoseDetector>;
}

/** The box round a pose's keypoints (MultiPose's own box is looser and varies more). */
export function keypointBox(keypoints: ReadonlyArray<readonly [number, number, number]>): [number, number, number, number] {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [x, y] of keypoints) {
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  return [x0, y0, x1 - x0, y1 - y0];
}

/** Intersection over union of two [x, y, width, height] boxes. */
export function boxIou(a: readonly number[], b: readonly number[]): number {
  const x0 = Math.max(a[0], b[0]);
  const y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y1 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * COCO left and right swapped. A person seen from behind at a distance is where a model most often
 * swaps sides; pairing people and the side-agnostic figures allow for it, the main figures do not.
 */
export const MIRRORED_KEYPOINTS = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15] as const;

export function mirrorPose(pose: DetectedPose): DetectedPose {
  return { ...pose, keypoints: MIRRORED_KEYPOINTS.map((k) => pose.keypoints[k]) };
}

/**
 * `pose` as it is or with its sides swapped, whichever puts its left and right keypoints nearer the
 * same keypoints of `reference` (mean distance over those both score at least `minScore`): two
 * readings of one person made to agree on sides before they are merged keypoint by keypoint, so the
 * merge never takes one reading's left shoulder and the other's left hip from opposite sides.
 */
export function withSidesOf(reference: DetectedPose, pose: DetectedPose, minScore: number): DetectedPose {
  const meanDistance = (keypoints: DetectedPose['keypoints']) => {
    let sum = 0;
    let n = 0;
    for (let k = 0; k < keypoints.length; k++) {
      const a = reference.keypoints[k];
      const b = keypoints[k];
      if (MIRRORED_KEYPOINTS[k] === k || a[2] < minScore || b[2] < minScore) continue;
      sum += Math.hypot(a[0] - b[0], a[1] - b[1]);
      n++;
    }
    return n ? sum / n : Infinity;
  };
  const swapped = mirrorPose(pose);
  return meanDistance(swapped.keypoints) < meanDistance(pose.keypoints) ? swapped : pose;
}
