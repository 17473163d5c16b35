/**
 * The camera stage alone, at the pace issue 18 asks of it: the camera service on the in-process
 * bus (no tracker, no other stage), fed every --every-th frame of the committed demo's first
 * --seconds store seconds, as `walkout start --detect-every 2` reads them (int8, input 640, both
 * second looks when unsure, --whole-every). Two sets of cameras (the four ceiling cameras, then all
 * six) and two ways to run the model (the main thread, the baseline, and --threads detector threads),
 * taking turns so that other load on the machine falls on all alike. Prints each one's real-time
 * factor (store seconds of frames detected over wall seconds: 1 keeps up live), frames a second,
 * CPU seconds a store second (the process's, its threads included; the ffmpeg decoders are
 * processes of their own), and the threads' ratio to the main thread.
 *
 * With --passes, also each kind of model pass: how many a frame and ms each (on detector threads,
 * the threads' time), which says where the CPU goes.
 *
 * With --models, each way runs each model in turn: `shipped` (the onnx detector's default model, models/movenet-multipose-int8-fused.onnx)
 * or an .onnx file (another build of it, e.g. the shipped model of an earlier commit), with the CPU
 * a store second of the first model over each other's (its ratio).
 *
 * With --trees, each way also runs the camera service and detector of other copies of walkout in
 * turn (`git archive <commit>` unpacked, node_modules linked), each with its own shipped model:
 * `.` is this tree. The ratio is the first tree's CPU a store second over each other's, so
 * `--trees /tmp/before,.` says how much less CPU this tree's stage needs than the commit's.
 *
 * With --frames-at-once, each way with detector threads runs with each number of frames detected at
 * once in turn (default twice the threads, as `start` and `serve camera` do): frames of that many
 * cameras read side by side, which keeps the threads fed while a frame waits for its decoder or the
 * main thread. Its ratio is the real-time factor over the first number's.
 *
 *   node --import tsx bench/camera-stage.bench.ts [--seconds 10] [--every 2] [--whole-every 1] [--threads N] [--ways main,threads]
 *                                                  [--rounds 1] [--cameras ceiling,all] [--passes] [--json]
 *                                                  [--models shipped,/tmp/before.onnx] [--trees /tmp/before,.]
 *                                                  [--frames-at-once 4,6]
 */
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { waitFor } from '../libs/bus/bus.harness.ts';
import { openRecording } from '../libs/recording/index.ts';
import { pathToFileURL } from 'node:url';
import { createDetector } from '../libs/vision/detector.registry.ts';
import type { PassTally } from '../libs/vision/pose.detector.ts';
import { cameraTestBus, DEMO, demoFrame } from '../services/camera/camera.fixture.ts';
import { createCameraService } from '../services/camera/camera.service.ts';

/** --models: the model walkout reads by default (the onnx detector's precision). */
const SHIPPED = 'shipped';
/** --trees: this copy of walkout. */
const THIS_TREE = '.';
/** A camera stage that has not finished its frames by then is broken, not slow. */
const DEADLINE_MS = 60 * 60_000;

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    every: { type: 'string', default: '2' },
    'whole-every': { type: 'string', default: '1' },
    threads: { type: 'string', default: String(availableParallelism()) },
    ways: { type: 'string', default: 'main,threads' },
    rounds: { type: 'string', default: '1' },
    cameras: { type: 'string', default: 'ceiling,all' },
    passes: { type: 'boolean' },
    models: { type: 'string', default: 'shipped' },
    trees: { type: 'string', default: THIS_TREE },
    'frames-at-once': { type: 'string' },
    json: { type: 'boolean' },
  },
});
const wholeEvery = Number(values['whole-every']);
const [seconds, every, threads, rounds] = [values.seconds, values.every, values.threads, values.rounds].map(Number);
for (const [name, value] of Object.entries({ seconds, every, 'whole-every': wholeEvery, threads, rounds }))
  if (!Number.isInteger(value) || value < 1) throw new Error(`bench/camera-stage.bench.ts: --${name} must be a whole number >= 1, got ${value}`);
const print = (line: string) => {
  if (!values.json) console.log(line);
};

const recording = await openRecording(DEMO);
const ceiling = [...recording.index.cameras.values()].filter((c) => c.kind === 'ceiling').map((c) => c.id);
const all = [...recording.index.cameras.keys()];
const fps = Math.min(...[...recording.index.cameras.values()].map((c) => c.fps));
const frameCount = Math.min(Math.round(seconds * fps), ...recording.manifest.streams.cameras.map((c) => c.frameCount - 1));
/** Frames timed of each camera: every-th from `every` (frame 0 warms up); they span this much store time. */
const perCamera = Math.floor(frameCount / every);
const storeSeconds = (perCamera * every) / fps;

/** The camera service and detector of a copy of walkout (THIS_TREE: this one's). */
async function stageOf(tree: string): Promise<{ createDetector: typeof createDetector; createCameraService: typeof createCameraService }> {
  if (tree === THIS_TREE) return { createDetector, createCameraService };
  const module = (file: string) => import(pathToFileURL(path.resolve(tree, file)).href);
  const [registry, service] = await Promise.all([module('libs/vision/detector.registry.ts'), module('services/camera/camera.service.ts')]);
  return { createDetector: registry.createDetector, createCameraService: service.createCameraService };
}

/** One pass of the stage over the chosen cameras' frames: wall and CPU seconds from the first publish to the last poses out. */
async function runStage(cameras: readonly string[], detectorThreads: number, model: string, tree: string, framesAtOnce: number, round: number) {
  const modelPath = model === SHIPPED ? undefined : model;
  const { createDetector, createCameraService } = await stageOf(tree);
  const detector = await createDetector({ type: 'onnx', inputSize: 640, mirror: true, refine: 'upright', looks: 'when-unsure', detectorThreads, modelPath });
  const { bus, poses, dead } = await cameraTestBus();
  const service = createCameraService({ index: recording.index, bus, detector, stride: every, wholeFrameEvery: wholeEvery, framesAtOnce });
  await service.start();
  try {
    // A warm-up frame a camera (decoders opened, the model's first shapes built), not timed.
    for (const cameraId of cameras) await bus.publish('camera.frame-captured', demoFrame(recording, `warm-${round}-${cameraId}`, cameraId, 0));
    await waitFor(() => poses.length + dead.length === cameras.length, 'the warm-up frames detected', DEADLINE_MS);
    poses.length = 0;
    const expected = cameras.length * perCamera;
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (let index = every; index <= perCamera * every; index += every)
      for (const cameraId of cameras) await bus.publish('camera.frame-captured', demoFrame(recording, `f-${round}-${cameraId}-${index}`, cameraId, index));
    await waitFor(() => poses.length + dead.length >= expected, () => `${expected} frames detected (${poses.length})`, DEADLINE_MS);
    const wallS = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    if (dead.length) throw new Error(`bench/camera-stage.bench.ts: ${dead.length} frames failed: ${dead[0].error.message}`);
    return { frames: expected, wallS, cpuS: (used.user + used.system) / 1e6, passes: detector.passes?.() ?? {} };
  } finally {
    await service.stop();
    await bus.close();
    detector.dispose();
  }
}

const sets = { ceiling, all };
const chosen = values.cameras.split(',');
for (const set of chosen) if (!(set in sets)) throw new Error(`bench/camera-stage.bench.ts: --cameras lists ceiling and all, not ${JSON.stringify(set)}`);
const ways = values.ways.split(',');
for (const way of ways) if (way !== 'main' && way !== 'threads') throw new Error(`bench/camera-stage.bench.ts: --ways lists main and threads, not ${JSON.stringify(way)}`);
const models = values.models.split(',');
const trees = values.trees.split(',');
const framesAtOnceAsked = values['frames-at-once']?.split(',').map(Number);
for (const n of framesAtOnceAsked ?? []) if (!Number.isInteger(n) || n < 1) throw new Error(`bench/camera-stage.bench.ts: --frames-at-once lists whole numbers >= 1, not ${n}`);
const variants = chosen.flatMap((set) =>
  ways.flatMap((way) => {
    const detectorThreads = way === 'main' ? 0 : threads;
    const framesAtOnce = detectorThreads ? (framesAtOnceAsked ?? [2 * detectorThreads]) : [1];
    return trees.flatMap((tree) =>
      models.flatMap((model) => framesAtOnce.map((atOnce) => ({ cameras: set, ids: sets[set as keyof typeof sets], detectorThreads, model, tree, framesAtOnce: atOnce }))),
    );
  }),
);
const totals = variants.map(() => ({ frames: 0, wallS: 0, cpuS: 0, passes: {} as Record<string, PassTally> }));
for (let round = 0; round < rounds; round++)
  for (const [k, variant] of variants.entries()) {
    const run = await runStage(variant.ids, variant.detectorThreads, variant.model, variant.tree, variant.framesAtOnce, round);
    totals[k].frames += run.frames;
    totals[k].wallS += run.wallS;
    totals[k].cpuS += run.cpuS;
    for (const [kind, tally] of Object.entries(run.passes)) {
      const total = (totals[k].passes[kind] ??= { count: 0, ms: 0, pixels: 0 });
      total.count += tally.count;
      total.ms += tally.ms;
      total.pixels += tally.pixels;
    }
  }

print(
  `camera stage alone: the demo's first ${storeSeconds.toFixed(1)} store s, 1 frame in ${every} of each camera, 1 in ${wholeEvery} of those whole, int8 at 640 with the second looks when unsure; ${rounds} round(s)`,
);
const results = variants.map((variant, k) => {
  const { frames, wallS, cpuS, passes } = totals[k];
  const realTimeFactor = (rounds * storeSeconds) / wallS;
  // The threads' ratio is to the main thread on the same cameras and model, when both ran.
  const same = (j: number) => variants[j].cameras === variant.cameras;
  const baseline = variant.detectorThreads
    ? totals.find((_, j) => same(j) && variants[j].model === variant.model && variants[j].tree === variant.tree && !variants[j].detectorThreads)
    : undefined;
  // Frames at once: the real-time factor over the first number's, the same cameras, model and tree.
  const firstAtOnce =
    framesAtOnceAsked && variant.detectorThreads && variant.framesAtOnce !== framesAtOnceAsked[0]
      ? totals.find((_, j) => same(j) && variants[j].detectorThreads && variants[j].model === variant.model && variants[j].tree === variant.tree && variants[j].framesAtOnce === framesAtOnceAsked[0])
      : undefined;
  const atOnceRatio = firstAtOnce ? firstAtOnce.wallS / wallS : null;
  const ratio = baseline ? baseline.wallS / wallS : null;
  // A model's ratio is the first model's CPU a store second over its own, the same cameras, way and tree.
  const firstModel =
    variant.model !== models[0]
      ? totals.find((_, j) => same(j) && variants[j].detectorThreads === variant.detectorThreads && variants[j].tree === variant.tree && variants[j].model === models[0])
      : undefined;
  const modelRatio = firstModel ? firstModel.cpuS / cpuS : null;
  // A tree's ratio is the first tree's CPU a store second over its own, the same cameras, way and model.
  const firstTree =
    variant.tree !== trees[0]
      ? totals.find((_, j) => same(j) && variants[j].detectorThreads === variant.detectorThreads && variants[j].model === variant.model && variants[j].tree === trees[0])
      : undefined;
  const treeRatio = firstTree ? firstTree.cpuS / cpuS : null;
  const result = { ...variant, ids: undefined, frames, realTimeFactor, framesPerSecond: frames / wallS, cpuPerStoreSecond: cpuS / (rounds * storeSeconds), coresWorth: cpuS / wallS, ratio, modelRatio, treeRatio, atOnceRatio, passes };
  const modelName =
    (trees.length > 1 ? `, ${variant.tree === THIS_TREE ? 'this tree' : path.basename(variant.tree)}` : '') +
    (models.length > 1 ? `, ${variant.model === SHIPPED ? 'shipped' : path.basename(variant.model)}` : '') +
    (framesAtOnceAsked && variant.detectorThreads ? `, ${variant.framesAtOnce} frames at once` : '');
  print(
    `  ${`${variant.cameras} (${variant.ids.length} cameras), ${variant.detectorThreads ? `${variant.detectorThreads} detector threads` : 'main thread'}${modelName}`.padEnd(40)} ` +
      `real-time factor ${realTimeFactor.toFixed(3)}  ${result.framesPerSecond.toFixed(2)} frames/s  ${result.cpuPerStoreSecond.toFixed(2)} CPU s a store s  ` +
      `${result.coresWorth.toFixed(2)} cores' worth${ratio === null ? '' : `  ${ratio.toFixed(2)}x the main thread`}` +
      `${modelRatio === null ? '' : `  ${modelRatio.toFixed(2)}x ${models[0] === SHIPPED ? 'shipped' : path.basename(models[0])}'s CPU a store s`}` +
      `${treeRatio === null ? '' : `  ${treeRatio.toFixed(2)}x ${trees[0] === THIS_TREE ? 'this tree' : path.basename(trees[0])}'s CPU a store s`}` +
      `${atOnceRatio === null ? '' : `  ${atOnceRatio.toFixed(2)}x the real-time factor with ${framesAtOnceAsked![0]} at once`}`,
  );
  if (values.passes)
    print(
      `    passes a frame: ${Object.entries(passes)
        .map(([kind, tally]) => `${kind} ${(tally.count / frames).toFixed(2)} x ${(tally.ms / Math.max(1, tally.count)).toFixed(1)} ms`)
        .join(', ')}; ${(Object.values(passes).reduce((ms, tally) => ms + tally.ms, 0) / frames).toFixed(1)} ms of passes a frame, ` +
        `${(Object.values(passes).reduce((px, tally) => px + tally.pixels, 0) / frames / 1000).toFixed(0)} kilopixels of model input a frame, ${((1000 * cpuS) / frames).toFixed(1)} CPU ms a frame`,
    );
  return result;
});
if (values.json) console.log(JSON.stringify({ storeSeconds, every, wholeEvery, threads, rounds, results }, null, 2));
