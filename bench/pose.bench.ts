/**
 * Pose detection speed, on the kiosk's four cameras rendered raw at evenly spaced instants of
 * two-shoppers-one-shelf. Three parts, each against a baseline measured in the same run:
 *
 * - runtimes: one MoveNet pass a frame on ONNX Runtime (the converted model, 1 and 2 threads, its
 *   int8 version, and with a transpose pair kept round every convolution) next to TF.js WebAssembly (the baseline) on
 *   the same frames: frames a second per core, frame-to-poses latency p50/p99, the ratio; and the
 *   model pass alone on both, without the letterbox and decoding round it;
 * - batch: what a batch of 4 frames would gain over 4 passes of 1, on the backbone alone (the
 *   graph's decoding is for a batch of one);
 * - looks: at input 640, one pass (the baseline) against the mirrored second read, the upright
 *   second look and both, with the wrists in view each finds;
 * - threads: the camera stage's reading (int8, input 640, both second looks when unsure) with the
 *   model on the main thread (the baseline), on 1 detector thread and on N (--threads, default one
 *   per core), each camera's frames in order and the cameras at once as the camera service reads
 *   them: frames a second, the ratio, and whether the poses are the same (not part of the default
 *   parts; the rounds take turns so that other load falls on all alike).
 *
 *   node --import tsx bench/pose.bench.ts [--instants 8] [--sizes 256,640] [--parts runtimes,batch,looks,threads] [--detector movenet|onnx] [--threads N] [--rounds 2] [--json]
 */
import { isDeepStrictEqual } from 'node:util';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { indexStore, loadStore } from '../libs/contracts/index.ts';
import { createCameraRenderer } from '../libs/render/scene.renderer.ts';
import { peopleAt } from '../libs/sim/recording.sim.ts';
import { loadScenario } from '../libs/sim/scenario.load.ts';
import { simulate } from '../libs/sim/store.sim.ts';
import type { RgbFrame } from '../libs/video/rgb.frame.ts';
import { createDetector } from '../libs/vision/detector.registry.ts';
import { resizeAreaInt32 } from '../libs/vision/image.resize.ts';
import { emptyTally, summariseRecall, tallyFrame } from '../libs/vision/keypoint.recall.ts';
import { movenetInputGeometry } from '../libs/vision/movenet.detector.ts';
import { onnxSessionOptions } from '../libs/vision/onnx.detector.ts';
import { MODELS_DIR } from '../libs/vision/onnx.models.ts';
import type { DetectedPose, PoseDetector } from '../libs/vision/pose.detector.ts';
import { readTfjsGraphModel } from '../libs/vision/tfjs-graph.read.ts';
import { convertTfjsGraphToOnnx } from '../libs/vision/tfjs-onnx.convert.ts';
import { loadGraphModelFromFile, loadTfRuntime } from '../libs/vision/tfjs.runtime.ts';
import { cameraViewGeometry } from '../libs/vision/view.geometry.ts';

const { values } = parseArgs({
  options: {
    instants: { type: 'string' },
    sizes: { type: 'string' },
    parts: { type: 'string' },
    detector: { type: 'string' },
    threads: { type: 'string' },
    rounds: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const threads = Number(values.threads ?? availableParallelism());
if (!Number.isInteger(threads) || threads < 1) throw new Error(`bench/pose.bench.ts: --threads must be a whole number >= 1, got ${values.threads}`);
const rounds = Number(values.rounds ?? 2);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`bench/pose.bench.ts: --rounds must be a whole number >= 1, got ${values.rounds}`);
const instants = Number(values.instants ?? 8);
if (!Number.isInteger(instants) || instants < 1) throw new Error(`bench/pose.bench.ts: --instants must be a whole number >= 1, got ${values.instants}`);
const sizes = (values.sizes ?? '256,640').split(',').map(Number);
if (sizes.some((s) => !Number.isInteger(s) || s % 32 !== 0)) throw new Error(`bench/pose.bench.ts: --sizes must be multiples of 32, got ${values.sizes}`);
const parts = new Set((values.parts ?? 'runtimes,batch,looks').split(','));
const looksDetector = values.detector ?? 'movenet';
const print = (line: string) => {
  if (!values.json) console.log(line);
};

const store = await loadStore(new URL('../fixtures/stores/kiosk.json', import.meta.url).pathname);
const scenario = await loadScenario(new URL('../fixtures/scenarios/two-shoppers-one-shelf.json', import.meta.url).pathname);
const sim = simulate(scenario, indexStore(store), 1);
const start = Math.min(...sim.people.map((p) => p.timeline.enterMs));
const end = Math.max(...sim.people.map((p) => p.timeline.endMs));
const frames = store.cameras.flatMap((camera) => {
  const renderer = createCameraRenderer(store, camera.id);
  const view = cameraViewGeometry(camera);
  return Array.from({ length: instants }, (_, i) => ({ view, frame: renderer.render(peopleAt(sim, start + ((end - start) * (i + 0.5)) / instants)) }));
});
const { width, height } = frames[0].frame;
print(`${frames.length} raw kiosk frames ${width}x${height} (two-shoppers-one-shelf, ${instants} instants x ${store.cameras.length} cameras)`);

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface RuntimeResult {
  inputSize: number;
  runtime: string;
  cores: number;
  framesPerSecondPerCore: number;
  p50Ms: number;
  p99Ms: number;
  ratio: number;
}

/**
 * Every frame through every detector (one pass, no second looks), taking turns frame by frame so
 * that the load other work puts on the machine falls on all of them alike; latency of each call.
 */
async function timeInTurns(detectors: PoseDetector[]): Promise<number[][]> {
  for (const detector of detectors) await detector.detect(frames[0].frame); // warm-up: the first call builds the graph for this input shape
  const latencies = detectors.map(() => [] as number[]);
  for (const { frame } of frames)
    for (const [k, detector] of detectors.entries()) {
      const started = performance.now();
      await detector.detect(frame);
      latencies[k].push(performance.now() - started);
    }
  return latencies.map((l) => l.sort((a, b) => a - b));
}

async function perOpLayoutModel(): Promise<string> {
  const graph = await readTfjsGraphModel(path.join(MODELS_DIR, 'movenet-multipose.json'));
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'walkout-pose-bench-')), 'movenet-per-op.onnx');
  await writeFile(file, convertTfjsGraphToOnnx(graph, { name: 'movenet-per-op', layout: 'per-op' }));
  return file;
}

const modelAlone: Array<{ inputSize: number; tfjsMs: number; onnxMs: number; ratio: number; onnxInt8Ms: number; int8Ratio: number }> = [];

async function benchRuntimes(): Promise<RuntimeResult[]> {
  const { tf } = await loadTfRuntime('wasm');
  print(`TF.js WebAssembly: SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'yes' : 'no (one core)'}`);
  const perOp = await perOpLayoutModel();
  const runtimes = [
    { runtime: 'TF.js wasm (baseline)', cores: 1, config: { type: 'movenet', backend: 'wasm' } },
    { runtime: 'ONNX Runtime, 1 thread', cores: 1, config: { type: 'onnx', threads: 1, precision: 'float' } },
    { runtime: 'ONNX Runtime int8, 1 thread', cores: 1, config: { type: 'onnx', threads: 1, precision: 'int8' } },
    { runtime: 'ONNX Runtime, 2 threads', cores: 2, config: { type: 'onnx', threads: 2, precision: 'float' } },
    { runtime: 'ONNX Runtime, per-op transposes', cores: 1, config: { type: 'onnx', threads: 1, modelPath: perOp } },
  ];
  const results: RuntimeResult[] = [];
  for (const inputSize of sizes) {
    const g = movenetInputGeometry(width, height, inputSize);
    print(`\none pass a frame at input ${inputSize} (model input ${g.paddedWidth}x${g.paddedHeight})`);
    const detectors = [];
    for (const { config } of runtimes) detectors.push(await createDetector({ ...config, inputSize }));
    const latencies = await timeInTurns(detectors);
    for (const detector of detectors) detector.dispose();
    let baseline = 0;
    for (const [k, { runtime, cores }] of runtimes.entries()) {
      const mean = latencies[k].reduce((sum, l) => sum + l, 0) / latencies[k].length;
      const framesPerSecondPerCore = 1000 / mean / cores;
      baseline ||= framesPerSecondPerCore;
      const result = { inputSize, runtime, cores, framesPerSecondPerCore, p50Ms: percentile(latencies[k], 0.5), p99Ms: percentile(latencies[k], 0.99), ratio: framesPerSecondPerCore / baseline };
      results.push(result);
      print(
        `  ${runtime.padEnd(32)} ${framesPerSecondPerCore.toFixed(1).padStart(6)} frames/s per core  p50 ${result.p50Ms.toFixed(0).padStart(5)} ms  p99 ${result.p99Ms.toFixed(0).padStart(5)} ms  ${result.ratio.toFixed(2)}x TF.js per core`,
      );
    }
    modelAlone.push(await benchModelAlone(inputSize));
  }
  return results;
}

/**
 * The model pass alone, without the letterbox and decoding `detect` adds round it: the frames
 * letterboxed once, then each through TF.js and ONNX Runtime (one thread) in turns.
 */
async function benchModelAlone(inputSize: number) {
  const { tf } = await loadTfRuntime('wasm');
  const tfModel = await loadGraphModelFromFile(tf, path.join(MODELS_DIR, 'movenet-multipose.json'));
  const options = onnxSessionOptions(1);
  const session = await ort.InferenceSession.create(path.join(MODELS_DIR, 'movenet-multipose.onnx'), options);
  const int8Session = await ort.InferenceSession.create(path.join(MODELS_DIR, 'movenet-multipose-int8.onnx'), options);
  const g = movenetInputGeometry(width, height, inputSize);
  const shape = [1, g.paddedHeight, g.paddedWidth, 3];
  const inputs = frames.map(({ frame }) => resizeAreaInt32(frame, g.resizedWidth, g.resizedHeight, g.paddedWidth, g.paddedHeight));
  const runTf = async (pixels: Int32Array) => {
    const input = tf.tensor(pixels, shape, 'int32');
    const output = tfModel.execute(input) as import('@tensorflow/tfjs').Tensor;
    await output.data();
    tf.dispose([input, output]);
  };
  const runOrt = (pixels: Int32Array) => session.run({ input: new ort.Tensor('int32', pixels, shape) });
  const runInt8 = (pixels: Int32Array) => int8Session.run({ input: new ort.Tensor('int32', pixels, shape) });
  await runTf(inputs[0]);
  await runOrt(inputs[0]);
  await runInt8(inputs[0]);
  const tfMs: number[] = [];
  const ortMs: number[] = [];
  const int8Ms: number[] = [];
  const timed = async (into: number[], pass: () => Promise<unknown>) => {
    const started = performance.now();
    await pass();
    into.push(performance.now() - started);
  };
  for (const pixels of inputs) {
    await timed(tfMs, () => runTf(pixels));
    await timed(ortMs, () => runOrt(pixels));
    await timed(int8Ms, () => runInt8(pixels));
  }
  tfModel.dispose();
  await session.release();
  await int8Session.release();
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;
  const result = { inputSize, tfjsMs: mean(tfMs), onnxMs: mean(ortMs), ratio: mean(tfMs) / mean(ortMs), onnxInt8Ms: mean(int8Ms), int8Ratio: mean(tfMs) / mean(int8Ms) };
  print(
    `  model pass alone, 1 core: TF.js ${result.tfjsMs.toFixed(0)} ms, ONNX Runtime ${result.onnxMs.toFixed(0)} ms (${result.ratio.toFixed(2)}x), ` +
      `int8 ${result.onnxInt8Ms.toFixed(0)} ms (${result.int8Ratio.toFixed(2)}x)`,
  );
  return result;
}

/** Backbone and heads only (the decoding squeezes the batch), batch dimension left free. */
async function benchBatch(inputSize: number) {
  const graph = await readTfjsGraphModel(path.join(MODELS_DIR, 'movenet-multipose.json'));
  const heads = ['box_offset_0/conv2d_6', 'box_scale_0/conv2d_5', 'center_0/conv2d_4', 'kpt_heatmap_0/conv2d_7', 'kpt_offset_0/conv2d_9', 'kpt_regress_0/conv2d_8'];
  const backbone = { ...graph, outputs: heads.map((h, k) => ({ key: `head_${k}`, tensor: `StatefulPartitionedCall/${h}/BiasAdd`, dtype: 'float32' as const })) };
  const bytes = convertTfjsGraphToOnnx(backbone, { name: 'movenet-backbone', inputDims: { input: ['batch', 'height', 'width', 3] } });
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const g = movenetInputGeometry(width, height, inputSize);
  const pixels = (frame: RgbFrame) => resizeAreaInt32(frame, g.resizedWidth, g.resizedHeight, g.paddedWidth, g.paddedHeight);
  const BATCH = 4;
  const groups: Int32Array[][] = [];
  for (let k = 0; k + BATCH <= frames.length; k += BATCH) groups.push(frames.slice(k, k + BATCH).map((f) => pixels(f.frame)));
  const one = (p: Int32Array) => session.run({ input: new ort.Tensor('int32', p, [1, g.paddedHeight, g.paddedWidth, 3]) });
  const many = (ps: Int32Array[]) => {
    const all = new Int32Array(ps.reduce((n, p) => n + p.length, 0));
    ps.forEach((p, k) => all.set(p, k * p.length));
    return session.run({ input: new ort.Tensor('int32', all, [ps.length, g.paddedHeight, g.paddedWidth, 3]) });
  };
  await one(groups[0][0]);
  await many(groups[0]);
  // Taking turns group by group, as above.
  let singleMs = 0;
  let batchedMs = 0;
  for (const group of groups) {
    let started = performance.now();
    for (const p of group) await one(p);
    singleMs += (performance.now() - started) / (groups.length * BATCH);
    started = performance.now();
    await many(group);
    batchedMs += (performance.now() - started) / (groups.length * BATCH);
  }
  await session.release();
  const result = { inputSize, batch: BATCH, msPerFrameSingle: singleMs, msPerFrameBatched: batchedMs, ratio: singleMs / batchedMs };
  print(`\nbackbone alone at input ${inputSize}, 1 thread: ${singleMs.toFixed(1)} ms a frame one by one, ${batchedMs.toFixed(1)} ms in batches of ${BATCH}: ${result.ratio.toFixed(2)}x`);
  return result;
}

async function benchLooks() {
  const variants = [
    { name: 'one pass (baseline)', mirror: false, refine: 'none' },
    { name: 'mirrored second read', mirror: true, refine: 'none' },
    { name: 'upright second look', mirror: false, refine: 'upright' },
    { name: 'both (eval pose default)', mirror: true, refine: 'upright' },
  ] as const;
  print(`\nsecond looks on ${looksDetector} at input 640`);
  const results: Array<{ variant: string; msPerFrame: number; ratio: number; wristsFound: number; wristsInView: number }> = [];
  for (const variant of variants) {
    const detector = await createDetector({ type: looksDetector, inputSize: 640, mirror: variant.mirror, refine: variant.refine });
    await detector.detect(frames[0].frame, frames[0].view); // warm-up: the first call builds the graph
    const tally = emptyTally();
    const started = performance.now();
    for (const { frame, view } of frames) tallyFrame(tally, frame.people, await detector.detect(frame, view));
    const msPerFrame = (performance.now() - started) / frames.length;
    detector.dispose();
    const wrists = summariseRecall(tally).wristsInView;
    const result = { variant: variant.name, msPerFrame, ratio: msPerFrame / (results[0]?.msPerFrame ?? msPerFrame), wristsFound: wrists.found, wristsInView: wrists.total };
    results.push(result);
    print(`  ${result.variant.padEnd(26)} ${msPerFrame.toFixed(0).padStart(5)} ms/frame  ${result.ratio.toFixed(2)}x one pass  wrists in view ${wrists.found}/${wrists.total}`);
  }
  return results;
}

/**
 * The camera stage's reading with the model on the main thread, on 1 detector thread and on
 * `threads`: each camera's frames one after the other (its previous frame's people as hints, as
 * the camera service gives them), the cameras at once. Rounds take turns between the three.
 */
async function benchThreads() {
  const reading = { type: 'onnx', inputSize: 640, mirror: true, refine: 'upright', looks: 'when-unsure' } as const;
  const variants = [
    { name: 'main thread (baseline)', detectorThreads: 0 },
    { name: '1 detector thread', detectorThreads: 1 },
    { name: `${threads} detector threads`, detectorThreads: threads },
  ];
  const detectors = await Promise.all(variants.map((v) => createDetector({ ...reading, detectorThreads: v.detectorThreads })));
  const cameras = store.cameras.map((_, c) => frames.slice(c * instants, (c + 1) * instants));
  const readAll = async (detector: PoseDetector) =>
    Promise.all(
      cameras.map(async (ofCamera) => {
        const found: DetectedPose[][] = [];
        for (const { frame, view } of ofCamera) found.push(await detector.detect(frame, view, { peopleBefore: found.at(-1)?.length }));
        return found;
      }),
    );
  for (const detector of detectors) await detector.detect(frames[0].frame, frames[0].view); // warm-up
  const seconds = variants.map(() => 0);
  /** CPU seconds of the whole process (its threads included), which other load changes less than the wall time. */
  const cpuSeconds = variants.map(() => 0);
  const poses: unknown[] = [];
  for (let round = 0; round < rounds; round++)
    for (const [k, detector] of detectors.entries()) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      poses[k] = await readAll(detector);
      seconds[k] += (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      cpuSeconds[k] += (used.user + used.system) / 1e6;
    }
  for (const detector of detectors) detector.dispose();
  print(`\nthe camera stage's reading (int8, 640, both looks when unsure), ${store.cameras.length} cameras at once, ${rounds} rounds taking turns`);
  return variants.map((variant, k) => {
    const framesPerSecond = (rounds * frames.length) / seconds[k];
    const ratio = framesPerSecond / ((rounds * frames.length) / seconds[0]);
    const same = isDeepStrictEqual(poses[k], poses[0]);
    const cpuMsPerFrame = (1000 * cpuSeconds[k]) / (rounds * frames.length);
    print(
      `  ${variant.name.padEnd(24)} ${framesPerSecond.toFixed(2).padStart(6)} frames/s  ${ratio.toFixed(2)}x the main thread  ` +
        `${cpuMsPerFrame.toFixed(0)} CPU ms a frame (${(cpuSeconds[k] / seconds[k]).toFixed(2)} cores' worth)  poses ${same ? 'the same' : 'DIFFER'}`,
    );
    return { variant: variant.name, detectorThreads: variant.detectorThreads, framesPerSecond, ratio, cpuMsPerFrame, samePoses: same };
  });
}

/** One after another: timings taken side by side would share the cores. */
async function sequentially<T, R>(items: T[], run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await run(item));
  return results;
}

const report = {
  frames: frames.length,
  runtimes: parts.has('runtimes') ? await benchRuntimes() : undefined,
  modelAlone,
  batch: parts.has('batch') ? await sequentially(sizes, benchBatch) : undefined,
  looks: parts.has('looks') ? await benchLooks() : undefined,
  threads: parts.has('threads') ? await benchThreads() : undefined,
};
if (values.json) console.log(JSON.stringify(report, null, 2));
