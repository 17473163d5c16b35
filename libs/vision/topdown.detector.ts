import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { WalkoutError } from '../contracts/index.ts';
import type { RgbFrame } from '../video/rgb.frame.ts';
import { cropRotatedInt32, fromRotatedCrop, resizeAreaInt32 } from './image.resize.ts';
import { boxIou, type DetectedPose, type DetectorPlugin, type PoseDetector, type ViewGeometry } from './pose.detector.ts';
import { onnxModelPath, openOnnxSession } from './onnx.detector.ts';

/**
 * Top-down pose, as most pose systems for real footage work: a person detector finds everyone's box
 * (NanoDet, 80 COCO classes, class 0 person), then a single-person pose model reads each person in a
 * square crop round their box (MoveNet SinglePose Thunder). A person detector sees a whole person
 * at any size or posture as one object, where a bottom-up model (MultiPose) must assemble them from
 * keypoints it is sure of; the pose model then looks at each person at its own trained scale.
 * Both models are the vendored TF.js graphs converted to ONNX by `npm run models`.
 */

const NANODET_MANIFEST = fileURLToPath(new URL('../../models/nanodet.onnx.manifest.json', import.meta.url));
const THUNDER_MANIFEST = fileURLToPath(new URL('../../models/movenet-thunder.onnx.manifest.json', import.meta.url));

/** NanoDet's fixed input side, pixels (its graph's reshapes are for 416). */
export const NANODET_INPUT = 416;
const NANODET_CLASSES = 80;
const PERSON_CLASS = 0;
/** Box head: each side's distance as 11 logits over 0..10 strides (generalised focal loss). */
const DISTANCE_BINS = 11;
const STRIDES = [8, 16, 32] as const;
/** NanoDet's training normalisation, in BGR order. */
const BGR_MEAN = [103.53, 116.28, 123.675] as const;
const BGR_STD = [57.375, 57.12, 58.395] as const;
/** Boxes of one person overlap at least this much (IoU); the weaker is dropped. */
const NMS_IOU = 0.5;
/** SinglePose Thunder's input side, pixels. */
export const THUNDER_INPUT = 256;
const KEYPOINTS = 17;

export const TopdownConfig = z
  .strictObject({
    type: z.literal('topdown'),
    minPoseScore: z
      .number()
      .min(0)
      .max(1)
      .default(0.4)
      .describe("People whose person box NanoDet scores below this are dropped (a person's score is their box's)."),
    cropMargin: z.number().min(1).max(3).default(1.25).describe("The pose crop's side over the person box's longer side: room round them."),
    maxPeople: z.number().int().min(1).max(100).default(20).describe('At most this many people a frame, best boxes first.'),
    refine: z
      .enum(['none', 'upright'])
      .default('none')
      .describe("upright: turn each person's crop so the store's vertical points up in it (needs the camera's view); no extra pass."),
    threads: z.number().int().min(1).max(64).default(1).describe('Threads ONNX Runtime uses inside one pass, for each model.'),
  })
  .describe('Top-down: NanoDet person boxes, then MoveNet SinglePose Thunder on each person (ONNX Runtime, CPU).');
export type TopdownConfig = z.infer<typeof TopdownConfig>;

/** A person box in frame pixels [x, y, width, height] with NanoDet's score. */
export interface PersonBox {
  box: [number, number, number, number];
  score: number;
}

/**
 * The frame resized into NanoDet's square input as it was trained (stretched, not letterboxed:
 * letterboxing the COCO photo halved the skier's score), NCHW, BGR, normalised; and the scale back.
 */
export function nanodetInput(frame: RgbFrame): { tensor: Float32Array; toFrameX: number; toFrameY: number } {
  const rgb = resizeAreaInt32(frame, NANODET_INPUT, NANODET_INPUT, NANODET_INPUT, NANODET_INPUT);
  const plane = NANODET_INPUT * NANODET_INPUT;
  const tensor = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++) {
      const value = rgb[i * 3 + (2 - c)];
      tensor[c * plane + i] = (value - BGR_MEAN[c]) / BGR_STD[c];
    }
  return { tensor, toFrameX: frame.width / NANODET_INPUT, toFrameY: frame.height / NANODET_INPUT };
}

/** The expected distance of one side, in strides: softmax over its bins, then the mean bin. */
function expectedDistance(logits: ArrayLike<number>, offset: number): number {
  let max = -Infinity;
  for (let b = 0; b < DISTANCE_BINS; b++) max = Math.max(max, logits[offset + b]);
  let sum = 0;
  let weighted = 0;
  for (let b = 0; b < DISTANCE_BINS; b++) {
    const e = Math.exp(logits[offset + b] - max);
    sum += e;
    weighted += e * b;
  }
  return weighted / sum;
}

/**
 * Person boxes from NanoDet's outputs (per stride: class scores [cells, 80], distances [cells, 44]),
 * in input pixels scaled by `toFrame`, clipped to the frame, best first, overlapping ones suppressed.
 */
export function decodePersonBoxes(
  scores: ReadonlyArray<ArrayLike<number>>,
  distances: ReadonlyArray<ArrayLike<number>>,
  toFrame: { x: number; y: number },
  frame: { width: number; height: number },
  minScore: number,
): PersonBox[] {
  const found: PersonBox[] = [];
  STRIDES.forEach((stride, level) => {
    const side = NANODET_INPUT / stride;
    for (let cell = 0; cell < side * side; cell++) {
      const score = scores[level][cell * NANODET_CLASSES + PERSON_CLASS];
      if (!(score >= minScore)) continue;
      const cx = ((cell % side) + 0.5) * stride;
      const cy = (Math.floor(cell / side) + 0.5) * stride;
      const base = cell * 4 * DISTANCE_BINS;
      const [left, top, right, bottom] = [0, 1, 2, 3].map((k) => expectedDistance(distances[level], base + k * DISTANCE_BINS) * stride);
      const x0 = Math.max(0, (cx - left) * toFrame.x);
      const y0 = Math.max(0, (cy - top) * toFrame.y);
      const x1 = Math.min(frame.width, (cx + right) * toFrame.x);
      const y1 = Math.min(frame.height, (cy + bottom) * toFrame.y);
      if (x1 > x0 && y1 > y0) found.push({ box: [x0, y0, x1 - x0, y1 - y0], score });
    }
  });
  found.sort((a, b) => b.score - a.score);
  const kept: PersonBox[] = [];
  for (const candidate of found) if (kept.every((k) => boxIou(k.box, candidate.box) < NMS_IOU)) kept.push(candidate);
  return kept;
}

/** The square crop round a person box: centre, side in frame pixels, and the turn that stands them upright. */
export function poseCrop(person: PersonBox, margin: number, view?: ViewGeometry): { cx: number; cy: number; side: number; angle: number } {
  const [x, y, w, h] = person.box;
  const cx = x + w / 2;
  const cy = y + h / 2;
  const up = view?.upAt(cx, cy);
  return { cx, cy, side: Math.max(w, h) * margin, angle: up ? Math.atan2(up[0], -up[1]) : 0 };
}

type Ort = typeof import('onnxruntime-node');

export const topdownPlugin: DetectorPlugin<TopdownConfig> = {
  key: 'topdown',
  summary: 'Top-down: NanoDet finds each person, MoveNet SinglePose Thunder reads their pose in a crop (ONNX Runtime).',
  config: TopdownConfig,
  async create(config) {
    let ort: Ort;
    try {
      ort = await import('onnxruntime-node');
    } catch (cause) {
      throw new WalkoutError('MODEL_UNAVAILABLE', `onnxruntime-node cannot be loaded: ${(cause as Error).message}`, { cause });
    }
    const boxer = await openOnnxSession(ort, onnxModelPath(NANODET_MANIFEST), config.threads);
    const poser = await openOnnxSession(ort, onnxModelPath(THUNDER_MANIFEST), config.threads);
    // Output order as the converter names them: Identity..Identity_2 class scores, _3.._5 distances.
    const scoreNames = ['Identity:0', 'Identity_1:0', 'Identity_2:0'];
    const distanceNames = ['Identity_3:0', 'Identity_4:0', 'Identity_5:0'];
    for (const name of [...scoreNames, ...distanceNames])
      if (!boxer.outputNames.includes(name)) throw new WalkoutError('MODEL_UNAVAILABLE', `NanoDet's ONNX model has no output ${name} (it has ${boxer.outputNames.join(', ')})`);

    const findPeople = async (frame: RgbFrame): Promise<PersonBox[]> => {
      const { tensor, toFrameX, toFrameY } = nanodetInput(frame);
      const result = await boxer.run({ [boxer.inputNames[0]]: new ort.Tensor('float32', tensor, [1, 3, NANODET_INPUT, NANODET_INPUT]) });
      const read = (name: string) => result[name].data as Float32Array;
      return decodePersonBoxes(scoreNames.map(read), distanceNames.map(read), { x: toFrameX, y: toFrameY }, frame, config.minPoseScore).slice(0, config.maxPeople);
    };

    const readPose = async (frame: RgbFrame, person: PersonBox, view?: ViewGeometry): Promise<DetectedPose> => {
      const { cx, cy, side, angle } = poseCrop(person, config.cropMargin, config.refine === 'upright' ? view : undefined);
      const pixels = cropRotatedInt32(frame, cx, cy, side, angle, THUNDER_INPUT);
      const result = await poser.run({ [poser.inputNames[0]]: new ort.Tensor('int32', pixels, [1, THUNDER_INPUT, THUNDER_INPUT, 3]) });
      const raw = result[poser.outputNames[0]].data as Float32Array;
      const keypoints: Array<[number, number, number]> = [];
      for (let k = 0; k < KEYPOINTS; k++) {
        const [x, y] = fromRotatedCrop(raw[k * 3 + 1] * THUNDER_INPUT, raw[k * 3] * THUNDER_INPUT, cx, cy, side, angle, THUNDER_INPUT);
        keypoints.push([x, y, Math.min(1, Math.max(0, raw[k * 3 + 2]))]);
      }
      return { score: person.score, box: person.box, keypoints };
    };

    const detector: PoseDetector = {
      key: 'topdown',
      model: `nanodet@${NANODET_INPUT}+movenet-singlepose-thunder@${THUNDER_INPUT}${config.refine === 'none' ? '' : `+${config.refine}`}`,
      backend: `onnxruntime-cpu x${config.threads}`,
      async detect(frame: RgbFrame, view?: ViewGeometry) {
        if (frame.data.length !== frame.width * frame.height * 3)
          throw new WalkoutError('CONFIG_INVALID', `frame is ${frame.width}x${frame.height} but holds ${frame.data.length} bytes, not RGB`);
        const poses: DetectedPose[] = [];
        for (const person of await findPeople(frame)) poses.push(await readPose(frame, person, view));
        return poses;
      },
      dispose() {
        void boxer.release();
        void poser.release();
      },
    };
    return detector;
  },
};
