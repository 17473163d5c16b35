import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { WalkoutError } from '../contracts/index.ts';
import type { RgbFrame } from '../video/rgb.frame.ts';
import { cropRotatedInt32, fromRotatedCrop, resizeAreaInt32 } from './image.resize.ts';
import { mirrorRowsInt32, unmirrorPose } from './mirror.read.ts';
import { ArrayPool } from './array.pool.ts';
import { boxIou, keypointBox, type DetectHints, type DetectedPose, type DetectorPlugin, type PassTally, type PoseDetector, type ViewGeometry } from './pose.detector.ts';
import { windowRound } from './frame.reads.ts';
import { mergePoseReadings, mergeReadings, sameReadingIndex, DEFAULT_READING_MERGE } from './readings.merge.ts';
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
/**
 * The upright second look (refine: 'upright'): people the view shows tilted by less than this are
 * left as the first pass saw them. Looking again at everyone (0°) or from 8° found as many wrists
 * (419 and 420 of 701 in three recordings, 417 at 15°) for more passes; from 25°, 410.
 */
const UPRIGHT_MIN_TILT_RAD = (15 * Math.PI) / 180;
/** The window's side over the person's longer box side: room round them, and for a neighbour. */
const UPRIGHT_MARGIN = 2.5;
/**
 * With looks 'when-unsure', a person is read again only when the first reading is unsure of them:
 * their pose score or either wrist's score below this (wrists are what tells who took an item).
 */
const SURE_SCORE = 0.5;
/**
 * A window is read at the whole frame's scale, but never larger than this (pixels a side): a person
 * near the camera fills it at the model's trained size, and costs no more than someone far away.
 */
const WINDOW_MAX_PX = 256;
/**
 * With looks 'when-unsure', a window is read a second time mirrored when someone in its middle has
 * a pose or a wrist scored under this (or nobody is there). Lower than SURE_SCORE: windows are most
 * of the reading between whole reads, and from 0.3 the mirrored window found as many wrists
 * followed for two thirds of the passes of 0.5 (docs/experiments/change-driven-reads.md).
 */
const WINDOW_SURE_SCORE = 0.3;
/**
 * Between whole reads, the whole frame is also read at this input, cheaply, for people no window
 * found: newcomers, and people a window lost (measured: docs/experiments/camera-stage-speed.md).
 */
const SCOUT_INPUT = 256;
/** A scouted person is someone a window already found when their keypoint boxes overlap this much. */
const SCOUT_SAME_IOU = 0.1;
/**
 * A pose found in a window is kept when its keypoint box centre lies within this share of the
 * window's side from the centre (in x and in y): people cut by the window's edge are left to
 * their own windows.
 */
const WINDOW_MIDDLE_SHARE = 0.3;
const WRISTS = [9, 10] as const;

/** Whether a pose found in a window of `size` px has its keypoint box centre in the window's middle (WINDOW_MIDDLE_SHARE). */
function inMiddle(pose: DetectedPose, size: number): boolean {
  const [x, y, w, h] = keypointBox(pose.keypoints);
  return Math.max(Math.abs(x + w / 2 - size / 2), Math.abs(y + h / 2 - size / 2)) <= WINDOW_MIDDLE_SHARE * size;
}

/**
 * How a MoveNet detector reads frames, whatever runs the model (TF.js here, ONNX Runtime in
 * onnx.detector.ts): the fields both plugins' configs share.
 */
export const movenetReadingFields = {
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
    .enum(['none', 'upright'])
    .default('none')
    .describe(
      "upright: look again at each person the camera's view shows tilted by 15 degrees or more, in a window turned so they stand upright (one more pass per such person; needs the view, see ViewGeometry).",
    ),
  mirror: z
    .boolean()
    .default(false)
    .describe('Read each frame a second time mirrored left to right and merge the two readings person by person (mirror.read.ts); twice the first pass.'),
  looks: z
    .enum(['always', 'when-unsure'])
    .default('always')
    .describe(
      "When the second looks (mirror, refine) run. always: on every frame, person and window. when-unsure: the mirrored read only when the first reading found fewer people than the camera's previous frame or is unsure of someone (pose or a wrist scored under 0.5), the upright look only at people it is unsure of; a window round a person (hints.around) is read again mirrored only when nobody is in its middle or someone there has a pose or a wrist scored under 0.3.",
    ),
};

export interface MovenetReading {
  inputSize: number;
  minPoseScore: number;
  refine: 'none' | 'upright';
  mirror: boolean;
  looks?: 'always' | 'when-unsure';
}

/** A reading that may not be the best the second looks can make of this person. */
export function unsurePose(pose: DetectedPose): boolean {
  return pose.score < SURE_SCORE || WRISTS.some((k) => pose.keypoints[k][2] < SURE_SCORE);
}

export const MovenetConfig = z
  .strictObject({
    type: z.literal('movenet'),
    modelPath: z
      .string()
      .min(1)
      .optional()
      .describe('model.json of the graph model; default: models/movenet-multipose.json, which ships with walkout.'),
    ...movenetReadingFields,
    backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto').describe('TF.js backend; auto prefers native tfjs-node, then WebAssembly.'),
  })
  .describe('MoveNet MultiPose Lightning on TF.js.');
export type MovenetConfig = z.infer<typeof MovenetConfig>;

/** The model walkout ships in models/, as its manifest names it (with its source, licence and sha256). */
export function defaultMovenetModelPath(): string {
  const manifest = JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as { file: string };
  const modelPath = path.join(path.dirname(MANIFEST_PATH), manifest.file);
  if (!existsSync(modelPath))
    throw new WalkoutError('MODEL_UNAVAILABLE', `MoveNet's model ${modelPath} is missing: it ships with walkout in models/ (see ${MANIFEST_PATH})`);
  return modelPath;
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

/**
 * One pass of the model: int32 RGB, `height` rows of `width` pixels, to its raw [1, 6, 56] output;
 * with the time the model took (ms) when it ran on another thread (onnx.threads.ts), where the
 * time the caller waited includes its turn in the queue.
 */
export type MovenetRun = (pixels: Int32Array, width: number, height: number) => Promise<Float32Array | { output: Float32Array; modelMs: number }>;

export interface MovenetRuntime {
  key: string;
  /** The model's name in CameraPosesDetected.model; default movenet-multipose-lightning. */
  model?: string;
  backend: string;
  run: MovenetRun;
  dispose(): void;
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
    return movenetDetector({ key: 'movenet', backend, run, dispose: () => model.dispose() }, config);
  },
};

/**
 * A pose detector around one MoveNet runtime: letterboxing, the mirrored second read and the
 * upright second look are the same whatever runs the model.
 */
export function movenetDetector(runtime: MovenetRuntime, config: MovenetReading): PoseDetector {
  const tallies: Record<string, PassTally> = {};
  const talliesBy: Record<string, PassTally> = {};
  /** The hints.tally of the frame whose passes run in this async context (frames overlap on detector threads). */
  const frameTally = new AsyncLocalStorage<string | undefined>();
  const count = (tally: PassTally, ms: number, pixels: number) => {
    tally.count++;
    tally.ms += ms;
    tally.pixels += pixels;
  };
  /** One model pass, its time tallied under `kind` (and under the frame's hints.tally). */
  const run = async (kind: string, pixels: Int32Array, width: number, height: number): Promise<Float32Array> => {
    const started = performance.now();
    const result = await runtime.run(pixels, width, height);
    const ms = result instanceof Float32Array ? performance.now() - started : result.modelMs;
    count((tallies[kind] ??= { count: 0, ms: 0, pixels: 0 }), ms, width * height);
    const by = frameTally.getStore();
    if (by !== undefined) count((talliesBy[by] ??= { count: 0, ms: 0, pixels: 0 }), ms, width * height);
    return result instanceof Float32Array ? result : result.output;
  };
  const whenUnsure = config.looks === 'when-unsure';
  /**
   * Windows and mirrored inputs, reused once their pass is done: a new array each would be garbage
   * to collect thousands of times a minute (array.pool.ts).
   */
  const inputs = new ArrayPool<Int32Array>((length) => new Int32Array(length));
  /** One pass of `kind` on pixels taken from `inputs`, given back once the pass is done. */
  const runPooled = async (kind: string, pixels: Int32Array, width: number, height: number): Promise<Float32Array> => {
    try {
      return await run(kind, pixels, width, height);
    } finally {
      inputs.give(pixels);
    }
  };
  /**
   * A pass (`kinds[0]`) on pixels taken from `inputs` and, when `again` asks for it of the poses it
   * found, a pass (`kinds[1]`) on their mirror image, the first `contentWidth` pixels of each row
   * reversed: its poses, mirrored back across `posesWidth`, merged with the first's. The pixels go
   * back to the pool once their mirror image is made.
   */
  const readWithMirror = async (
    kinds: readonly [string, string],
    pixels: Int32Array,
    size: { width: number; height: number; contentWidth: number; posesWidth: number },
    decode: (output: Float32Array) => DetectedPose[],
    again: (poses: DetectedPose[]) => boolean,
  ): Promise<DetectedPose[]> => {
    let poses: DetectedPose[];
    let mirroredPixels: Int32Array | undefined;
    try {
      poses = decode(await run(kinds[0], pixels, size.width, size.height));
      if (again(poses)) mirroredPixels = mirrorRowsInt32(pixels, size.width, size.contentWidth, inputs.take(pixels.length));
    } finally {
      inputs.give(pixels);
    }
    if (!mirroredPixels) return poses;
    const mirrored = decode(await runPooled(kinds[1], mirroredPixels, size.width, size.height));
    return mergeReadings(poses, mirrored.map((p) => unmirrorPose(p, size.posesWidth)));
  };
  /**
   * A second look at one person: a square window round them, turned so that the store's vertical
   * at their place in the image points up, at the scale of the first pass. Wide ceiling lenses show
   * people away from the image centre tilted by tens of degrees, and a model learnt from photos
   * taken at eye level finds their limbs less well than upright. Returns every pose found in the
   * window in frame pixels, or null when the person already stands upright (or the view cannot say).
   */
  const lookUpright = async (pose: DetectedPose, frame: RgbFrame, view: ViewGeometry, scale: number): Promise<DetectedPose[] | null> => {
    const [bx, by, bw, bh] = pose.box;
    const cx = bx + bw / 2;
    const cy = by + bh / 2;
    const up = view.upAt(cx, cy);
    if (!up) return null;
    // Turned by this angle, the window's up (0, -1) points along the person's up.
    const angle = Math.atan2(up[0], -up[1]);
    if (Math.abs(angle) < UPRIGHT_MIN_TILT_RAD) return null;
    const side = Math.max(bw, bh) * UPRIGHT_MARGIN;
    const size = Math.max(STRIDE_PX * 4, Math.round((side * scale) / STRIDE_PX) * STRIDE_PX);
    const pixels = cropRotatedInt32(frame, cx, cy, side, angle, size, inputs.take(size * size * 3));
    const window = { width: size, height: size };
    const found = decodeMovenetOutput(await runPooled('upright', pixels, size, size), movenetInputGeometry(size, size, size), window, config.minPoseScore);
    return found.map((p) => {
      const keypoints = p.keypoints.map(([x, y, score]) => [...fromRotatedCrop(x, y, cx, cy, side, angle, size), score] as [number, number, number]);
      return { score: p.score, box: keypointBox(keypoints), keypoints };
    });
  };
  /**
   * Each pose, merged with the same person's pose in its upright window where there is one (the
   * window's pose whose keypoint box overlaps most, turned to agree on sides; readings.merge.ts).
   * People found only in a window are not added: that found not a wrist more.
   */
  const refineUpright = async (poses: DetectedPose[], frame: RgbFrame, view: ViewGeometry, scale: number): Promise<DetectedPose[]> => {
    // Every look at once (detector threads run them side by side), merged in the people's order.
    const looks = await Promise.all(poses.map((pose) => (whenUnsure && !unsurePose(pose) ? null : lookUpright(pose, frame, view, scale))));
    const refined = poses.map((pose, p) => {
      const found = looks[p] ?? [];
      const same = sameReadingIndex(pose, found.map((f) => f.box), DEFAULT_READING_MERGE.sameIou);
      return same < 0 ? pose : mergePoseReadings(pose, found[same]);
    });
    return refined.sort((a, b) => b.score - a.score);
  };
  /**
   * Whether a window's reading is worth a mirrored second read (with `mirror`): with looks
   * 'when-unsure', when nobody is in its middle or someone there has a pose or a wrist scored under
   * WINDOW_SURE_SCORE; with 'always', every window.
   */
  const lookAgainInWindow = (poses: readonly DetectedPose[], size: number): boolean => {
    if (!config.mirror) return false;
    if (!whenUnsure) return true;
    const middle = poses.filter((pose) => inMiddle(pose, size));
    return !middle.length || middle.some((pose) => pose.score < WINDOW_SURE_SCORE || WRISTS.some((k) => pose.keypoints[k][2] < WINDOW_SURE_SCORE));
  };
  /**
   * The frame read only round the people of the camera's previous frame: one window each, centred
   * on their keypoint box, turned upright where the view shows them tilted (as the upright look
   * does), at the whole frame's scale up to WINDOW_MAX_PX. Each window gives every pose in its
   * middle; two windows that found the same person give the surer reading.
   */
  const readWindows = async (around: readonly DetectedPose[], frame: RgbFrame, view: ViewGeometry | undefined, scale: number): Promise<DetectedPose[]> => {
    const readWindow = async (person: DetectedPose) => {
      const { cx, cy, side } = windowRound(person);
      const up = config.refine === 'upright' ? view?.upAt(cx, cy) : null;
      const tilt = up ? Math.atan2(up[0], -up[1]) : 0;
      const angle = Math.abs(tilt) < UPRIGHT_MIN_TILT_RAD ? 0 : tilt;
      const size = Math.min(WINDOW_MAX_PX, Math.max(STRIDE_PX * 4, Math.round((side * scale) / STRIDE_PX) * STRIDE_PX));
      const pixels = cropRotatedInt32(frame, cx, cy, side, angle, size, inputs.take(size * size * 3));
      const geometry = movenetInputGeometry(size, size, size);
      const window = { width: size, height: size };
      const poses = await readWithMirror(
        ['window', 'window-mirrored'],
        pixels,
        { width: size, height: size, contentWidth: size, posesWidth: size },
        (output) => decodeMovenetOutput(output, geometry, window, config.minPoseScore),
        (found) => lookAgainInWindow(found, size),
      );
      return { cx, cy, side, angle, size, poses };
    };
    // Every window at once (detector threads read them side by side), merged in the people's order.
    const windows = await Promise.all(around.map(readWindow));
    const found: DetectedPose[] = [];
    for (const { cx, cy, side, angle, size, poses } of windows) {
      // Everyone in the window's middle, not only the person followed: a neighbour the previous
      // frame merged with them, or whose own window the model read as one person, is found here.
      for (const inWindow of poses) {
        if (!inMiddle(inWindow, size)) continue;
        const keypoints = inWindow.keypoints.map(([kx, ky, score]) => [...fromRotatedCrop(kx, ky, cx, cy, side, angle, size), score] as [number, number, number]);
        const pose = { score: inWindow.score, box: keypointBox(keypoints), keypoints };
        const same = sameReadingIndex(pose, found.map((p) => p.box), DEFAULT_READING_MERGE.sameIou);
        if (same < 0) found.push(pose);
        else if (pose.score > found[same].score) found[same] = pose;
      }
    }
    return found.sort((a, b) => b.score - a.score);
  };
  /**
   * Windows round the people before, then the whole frame at SCOUT_INPUT for anyone the windows
   * did not find (a newcomer, or someone a window lost), who gets a window of their own. People the
   * caller knows stood still (hints.unchanged) keep their poses without a window, unless another
   * window found them again; the scout is left out when the caller knows that nothing changed
   * outside the windows (hints.changes empty).
   */
  const readAround = async (hints: DetectHints & { around: readonly DetectedPose[] }, frame: RgbFrame, view: ViewGeometry | undefined, scale: number): Promise<DetectedPose[]> => {
    const scout = async () => {
      if (hints.changes && !hints.changes.length) return [];
      const g = movenetInputGeometry(frame.width, frame.height, SCOUT_INPUT);
      const pixels = resizeAreaInt32(frame, g.resizedWidth, g.resizedHeight, g.paddedWidth, g.paddedHeight, inputs.take(g.paddedWidth * g.paddedHeight * 3));
      return decodeMovenetOutput(await runPooled('scout', pixels, g.paddedWidth, g.paddedHeight), g, frame, config.minPoseScore);
    };
    // The scout does not wait for the windows: on detector threads they run side by side.
    const [read, scouted] = await Promise.all([readWindows(hints.around, frame, view, scale), scout()]);
    const readBoxes = read.map((pose) => pose.box);
    const still = (hints.unchanged ?? []).filter((pose) => sameReadingIndex(pose, readBoxes, DEFAULT_READING_MERGE.sameIou) < 0);
    const found = [...read, ...still].sort((a, b) => b.score - a.score);
    const boxes = found.map((pose) => pose.box);
    const newcomers = scouted.filter((pose) => !boxes.some((box) => boxIou(box, keypointBox(pose.keypoints)) > SCOUT_SAME_IOU));
    if (!newcomers.length) return found;
    const more = await readWindows(newcomers, frame, view, scale);
    return mergeReadings(found, more.filter((pose) => !boxes.some((box) => boxIou(box, pose.box) > DEFAULT_READING_MERGE.sameIou)));
  };
  const detector: PoseDetector = {
    key: runtime.key,
    model: `${runtime.model ?? 'movenet-multipose-lightning'}@${config.inputSize}${config.mirror ? '+mirror' : ''}${config.refine === 'none' ? '' : `+${config.refine}`}${whenUnsure && (config.mirror || config.refine !== 'none') ? '+when-unsure' : ''}`,
    backend: runtime.backend,
    detect(frame: RgbFrame, view?: ViewGeometry, hints?: DetectHints) {
      return frameTally.run(hints?.tally, () => detectFrame(frame, view, hints));
    },
    passes: () => structuredClone(tallies),
    passesBy: () => structuredClone(talliesBy),
    dispose() {
      runtime.dispose();
    },
  };
  return detector;
  async function detectFrame(frame: RgbFrame, view?: ViewGeometry, hints?: DetectHints): Promise<DetectedPose[]> {
    // One frame: the letterboxed first pass and the second looks, or the windows (hints.around).
    if (frame.data.length !== frame.width * frame.height * 3)
      throw new WalkoutError('CONFIG_INVALID', `frame is ${frame.width}x${frame.height} but holds ${frame.data.length} bytes, not RGB`);
    const g = movenetInputGeometry(frame.width, frame.height, config.inputSize);
    if (hints?.around) return readAround({ ...hints, around: hints.around }, frame, view, g.resizedWidth / frame.width);
    // The letterboxed input, and its mirror image when the second look reads it.
    const pixels = resizeAreaInt32(frame, g.resizedWidth, g.resizedHeight, g.paddedWidth, g.paddedHeight, inputs.take(g.paddedWidth * g.paddedHeight * 3));
    const poses = await readWithMirror(
      ['first', 'mirrored'],
      pixels,
      { width: g.paddedWidth, height: g.paddedHeight, contentWidth: g.resizedWidth, posesWidth: frame.width },
      (output) => decodeMovenetOutput(output, g, frame, config.minPoseScore),
      (found) => config.mirror && (!whenUnsure || found.length < (hints?.peopleBefore ?? 0) || found.some(unsurePose)),
    );
    if (config.refine === 'none' || !view) return poses;
    return refineUpright(poses, frame, view, g.resizedWidth / frame.width);
  }
}
