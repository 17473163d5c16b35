import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { describeIssues, WalkoutError } from '../contracts/index.ts';
import { MovenetConfig, movenetPlugin } from './movenet.detector.ts';
import { ONNX_PRECISIONS, OnnxConfig, onnxPlugin, type OnnxPrecision } from './onnx.detector.ts';
import type { DetectorPlugin, PoseDetector } from './pose.detector.ts';
import { TopdownConfig, topdownPlugin } from './topdown.detector.ts';

/**
 * Every pose detector the project can run, by key. Adding one: write its plugin (key, strict config
 * schema, create) and list it here; the config union follows.
 */
export const detectorPlugins = {
  movenet: movenetPlugin,
  onnx: onnxPlugin,
  topdown: topdownPlugin,
} as const satisfies Record<string, DetectorPlugin<{ type: string }>>;

export const DetectorConfig = z.discriminatedUnion('type', [MovenetConfig, OnnxConfig, TopdownConfig]).describe('Which pose detector to run, and how.');
export type DetectorConfig = z.infer<typeof DetectorConfig>;

/** The detector keys, for a command line's --detector. */
export const detectorKeys = Object.keys(detectorPlugins) as Array<keyof typeof detectorPlugins>;

/** Validates a detector config (every bad value listed at once) and loads the detector. */
export async function createDetector(config: unknown): Promise<PoseDetector> {
  const parsed = DetectorConfig.safeParse(config);
  if (!parsed.success)
    throw new WalkoutError('CONFIG_INVALID', `detector config is invalid:\n${describeIssues(parsed.error, 'detector')}`, {
      details: parsed.error.issues,
    });
  const plugin = detectorPlugins[parsed.data.type] as DetectorPlugin<DetectorConfig>;
  return plugin.create(parsed.data);
}

/** What a command line picks: a detector key, and the reading options every MoveNet plugin takes. */
export interface DetectorChoice {
  /** `--detector`; undefined: ONNX Runtime, or TF.js when ONNX Runtime cannot load. */
  detector?: string;
  inputSize: number;
  refine: 'none' | 'upright';
  mirror: boolean;
  /** People scored below this are dropped; undefined: the plugin's default. */
  minPoseScore?: number;
  /** When the second looks run (default always). */
  looks?: 'always' | 'when-unsure';
  /** ONNX Runtime's model: int8-fused (integer kernels throughout, the default), int8 (int8 convolutions) or float (undefined: the plugin's default). */
  precision?: OnnxPrecision;
  /** ONNX Runtime: worker threads that run model passes (0: the calling thread; undefined: the plugin's default, 0). */
  detectorThreads?: number;
}

/**
 * The reading options a plugin's config has fields for: a command line offers every option, and a
 * detector that does not read frames that way (topdown has no input size) takes its own defaults.
 */
function readingFor(key: keyof typeof detectorPlugins, reading: Omit<DetectorChoice, 'detector'>): Partial<Omit<DetectorChoice, 'detector'>> {
  const shape = (detectorPlugins[key].config as unknown as z.ZodObject<z.ZodRawShape>).shape;
  return Object.fromEntries(Object.entries(reading).filter(([field, value]) => field in shape && value !== undefined));
}

/**
 * The detector a command asked for. Without a choice it is ONNX Runtime (the same poses as TF.js to
 * 1e-5, several times faster: docs/experiments/onnx-pose.md), and TF.js when ONNX Runtime or its
 * model cannot be loaded here: `fellBack` then says why.
 */
export async function createChosenDetector(choice: DetectorChoice, verb: string, option = '--detector'): Promise<{ detector: PoseDetector; fellBack?: string }> {
  const { detector: key, ...reading } = choice;
  if (key !== undefined && !(detectorKeys as string[]).includes(key))
    throw new WalkoutError('USAGE', `${verb}: ${option} is one of ${detectorKeys.join(', ')}, not ${JSON.stringify(key)}`);
  if (key !== undefined) return { detector: await createDetector({ type: key, ...readingFor(key as keyof typeof detectorPlugins, reading) }) };
  try {
    return { detector: await createDetector({ type: 'onnx', ...readingFor('onnx', reading) }) };
  } catch (error) {
    if (!(error instanceof WalkoutError) || error.code !== 'MODEL_UNAVAILABLE') throw error;
    return { detector: await createDetector({ type: 'movenet', ...readingFor('movenet', reading) }), fellBack: error.message };
  }
}

export const SECOND_LOOKS = ['always', 'when-unsure'] as const;

/** A command line's --looks: undefined stays undefined (the detector's default, always). */
export function parseLooks(value: unknown, verb: string): DetectorChoice['looks'] {
  if (value === undefined) return undefined;
  if (!(SECOND_LOOKS as readonly unknown[]).includes(value))
    throw new WalkoutError('USAGE', `${verb}: --looks is one of ${SECOND_LOOKS.join(', ')}, not ${JSON.stringify(value)}`);
  return value as DetectorChoice['looks'];
}

/** A command line's --precision: undefined stays undefined (the plugin's default, DEFAULT_ONNX_PRECISION). */
export function parsePrecision(value: unknown, verb: string): DetectorChoice['precision'] {
  if (value === undefined) return undefined;
  if (!ONNX_PRECISIONS.includes(value as OnnxPrecision)) throw new WalkoutError('USAGE', `${verb}: --precision is ${ONNX_PRECISIONS.join(', ')}, not ${JSON.stringify(value)}`);
  return value as OnnxPrecision;
}

/**
 * A command line's --detector-threads: worker threads that run the model, one per core by default
 * (onnx.threads.ts; 0 runs it on the main thread). Frames detected at once: twice as many, so that
 * a thread has the next pass waiting while its frame's letterbox and decoding run on the main thread.
 */
export function parseDetectorThreads(value: unknown, verb: string): { detectorThreads: number; framesAtOnce: number } {
  const detectorThreads = value === undefined ? availableParallelism() : Number(value);
  if (!Number.isInteger(detectorThreads) || detectorThreads < 0 || detectorThreads > 64)
    throw new WalkoutError('USAGE', `${verb}: --detector-threads is a whole number from 0 to 64, not ${JSON.stringify(value)}`);
  return { detectorThreads, framesAtOnce: Math.max(1, 2 * detectorThreads) };
}
