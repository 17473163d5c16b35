import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { WalkoutError } from '../contracts/index.ts';
import { movenetDetector, movenetReadingFields, type MovenetRun } from './movenet.detector.ts';
import type { DetectorPlugin } from './pose.detector.ts';
import { DetectorThreads } from './onnx.threads.ts';

/**
 * MoveNet MultiPose on ONNX Runtime (onnxruntime-node, CPU): the model converted from the TF.js
 * graph by `npm run models` (models/movenet-multipose.onnx), read the same way as on TF.js
 * (letterbox, mirrored second read, upright second look: movenetDetector).
 *
 * One frame a pass: the graph's input and its decoding (top people, their keypoints) are for a batch
 * of one, so frames of several cameras cannot share a pass (docs/experiments/onnx-pose.md measured
 * what a batch would gain on the backbone alone). `session.run` runs on the thread that calls it,
 * so one session uses one core however many frames wait: with `detectorThreads` the passes go to
 * worker threads with a session each (onnx.threads.ts), and frames detected at once (several
 * cameras) or the windows of one frame use as many cores.
 */

const MANIFESTS = {
  float: fileURLToPath(new URL('../../models/movenet-multipose.onnx.manifest.json', import.meta.url)),
  int8: fileURLToPath(new URL('../../models/movenet-multipose-int8.onnx.manifest.json', import.meta.url)),
  'int8-fused': fileURLToPath(new URL('../../models/movenet-multipose-int8-fused.onnx.manifest.json', import.meta.url)),
};
export const ONNX_PRECISIONS = ['int8', 'int8-fused', 'float'] as const;
export type OnnxPrecision = (typeof ONNX_PRECISIONS)[number];
/**
 * The model read unless a precision is asked for: integer kernels throughout, the least CPU a pass.
 * With the shelf cameras read on demand it is the fastest reading measured on `walkout start
 * --detect-every 2`: store speed (1.083) on a CPU with VNNI, 0.463 on one with AVX2 alone
 * (docs/experiments/int8-fused-on-demand-default.md).
 */
export const DEFAULT_ONNX_PRECISION: OnnxPrecision = 'int8-fused';

export const OnnxConfig = z
  .strictObject({
    type: z.literal('onnx'),
    modelPath: z
      .string()
      .min(1)
      .optional()
      .describe('The .onnx file; default: the model of `precision`, which ships with walkout (npm run models writes it from the TF.js model).'),
    ...movenetReadingFields,
    precision: z
      .enum(ONNX_PRECISIONS)
      .default(DEFAULT_ONNX_PRECISION)
      .describe(
        'int8-fused (default): integer kernels throughout (models/movenet-multipose-int8-fused.onnx), the least CPU a pass and a few wrists fewer than int8 (docs/experiments/integer-kernels.md). int8: only the convolutions quantised to int8 (models/movenet-multipose-int8.onnx), as many wrists as float. float: the converted model as TF.js runs it (keypoints within 1e-5 of TF.js). How much CPU the integer models save depends on the CPU: 1.7 times less than float for int8 with VNNI, about as much as float on a CPU with AVX2 only (docs/experiments/int8-fused-on-demand-default.md). Ignored when modelPath is given.',
      ),
    threads: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe('Threads ONNX Runtime uses inside one pass (intra-op). 1 keeps a pass on one core; detectorThreads runs several passes at once instead.'),
    detectorThreads: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(0)
      .describe(
        'Worker threads that run model passes, each with its own ONNX Runtime session: passes of frames detected at once (several cameras) run on as many cores. 0: on the calling thread, one pass at a time.',
      ),
  })
  .describe('MoveNet MultiPose Lightning on ONNX Runtime (CPU).');
export type OnnxConfig = z.infer<typeof OnnxConfig>;

/** The .onnx file a manifest of models/ names; MODEL_UNAVAILABLE when it is not there. */
export function onnxModelPath(manifestPath: string): string {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { file: string };
  const modelPath = path.join(path.dirname(manifestPath), manifest.file);
  if (!existsSync(modelPath)) throw new WalkoutError('MODEL_UNAVAILABLE', `the ONNX model ${modelPath} is missing: npm run models writes it (see ${manifestPath})`);
  return modelPath;
}

/** The .onnx model walkout ships at a precision, as its manifest names it. */
export function defaultOnnxModelPath(precision: keyof typeof MANIFESTS = 'float'): string {
  return onnxModelPath(MANIFESTS[precision]);
}

export const onnxPlugin: DetectorPlugin<OnnxConfig> = {
  key: 'onnx',
  summary: 'MoveNet MultiPose Lightning on ONNX Runtime (CPU), converted from the TF.js model: same readings, faster.',
  config: OnnxConfig,
  async create(config) {
    let ort: typeof import('onnxruntime-node');
    try {
      ort = await import('onnxruntime-node');
    } catch (cause) {
      throw new WalkoutError('MODEL_UNAVAILABLE', `onnxruntime-node cannot be loaded: ${(cause as Error).message} (the movenet detector runs on TF.js instead)`, { cause });
    }
    const modelPath = config.modelPath ?? defaultOnnxModelPath(config.precision);
    const model = config.modelPath || config.precision === 'float' ? undefined : `movenet-multipose-lightning-${config.precision}`;
    if (config.detectorThreads > 0) {
      if (!existsSync(modelPath)) throw new WalkoutError('MODEL_UNAVAILABLE', `ONNX Runtime cannot load ${modelPath}: no such file`);
      const threads = await DetectorThreads.open({ threads: config.detectorThreads, workerData: { modelPath, sessionOptions: onnxSessionOptions(config.threads) } });
      const run: MovenetRun = (pixels, width, height) => threads.run(pixels, width, height);
      return movenetDetector(
        { key: 'onnx', model, backend: `onnxruntime-cpu x${config.threads} on ${config.detectorThreads} detector threads`, run, dispose: () => void threads.close() },
        config,
      );
    }
    const session = await openOnnxSession(ort, modelPath, config.threads);
    const [inputName] = session.inputNames;
    const [outputName] = session.outputNames;
    const run: MovenetRun = async (pixels, width, height) => {
      const input = new ort.Tensor('int32', pixels, [1, height, width, 3]);
      const result = await session.run({ [inputName]: input });
      return result[outputName].data as Float32Array;
    };
    return movenetDetector({ key: 'onnx', model, backend: `onnxruntime-cpu x${config.threads}`, run, dispose: () => void session.release() }, config);
  },
};

/**
 * Whether ONNX Runtime's integer kernels must be asked to be exact on this CPU: on x64 without VNNI
 * (AVX2 only, or AVX-512 without it) they add uint8-by-int8 products in pairs into int16, which
 * saturates; with VNNI they add into int32 and are exact as they are. `cpuFlags`: the CPU's feature
 * flags (Linux's /proc/cpuinfo); unknown flags on x64 ask for exact kernels (slower, always right).
 */
export function needsExactIntegerKernels(arch: string, cpuFlags: ReadonlySet<string> | undefined): boolean {
  if (arch !== 'x64') return false;
  return cpuFlags === undefined || !(cpuFlags.has('avx512_vnni') || cpuFlags.has('avx_vnni'));
}

/** This CPU's feature flags as Linux lists them, or undefined where there is no /proc/cpuinfo. */
function cpuFlags(): Set<string> | undefined {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => /^flags\s*:/.test(l));
    return line === undefined ? undefined : new Set(line.slice(line.indexOf(':') + 1).trim().split(/\s+/));
  } catch {
    return undefined;
  }
}

const EXACT_INTEGER_KERNELS = needsExactIntegerKernels(process.arch, cpuFlags());

/**
 * How walkout opens an ONNX Runtime session, on this thread or a detector thread: `threads` inside a
 * pass, none spinning, integer kernels exact on every x64 CPU (needsExactIntegerKernels).
 */
export function onnxSessionOptions(threads: number) {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential' as const,
    graphOptimizationLevel: 'all' as const,
    logSeverityLevel: 3 as const,
    extra: {
      session: {
        // Threads that spin while waiting for work take cores other detectors and stages need.
        intra_op: { allow_spinning: '0' },
        // On x64 CPUs without VNNI (AVX2 only), ONNX Runtime's uint8-by-int8 kernels add products
        // in pairs into int16, which saturates: the int8 models' convolutions read a bright input
        // as half of it, and find nobody. This makes it read int8 weights as uint8 there (slower,
        // exact); CPUs with VNNI are exact without it, and keep their faster kernels
        // (docs/experiments/int8-fused-on-demand-default.md).
        ...(EXACT_INTEGER_KERNELS ? { x64quantprecision: '1' } : {}),
      },
    },
  };
}

/** An ONNX Runtime session for a model file, on `threads` threads that do not spin while idle; MODEL_UNAVAILABLE when it cannot be loaded. */
export async function openOnnxSession(ort: typeof import('onnxruntime-node'), modelPath: string, threads: number): Promise<import('onnxruntime-node').InferenceSession> {
  try {
    return await ort.InferenceSession.create(modelPath, onnxSessionOptions(threads));
  } catch (cause) {
    throw new WalkoutError('MODEL_UNAVAILABLE', `ONNX Runtime cannot load ${modelPath}: ${(cause as Error).message}`, { cause });
  }
}
