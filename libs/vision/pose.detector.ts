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
  detect(frame: RgbFrame, view?: ViewGeometry): Promise<DetectedPose[]>;
  dispose(): void;
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
