import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  WalkoutError,
  indexStore,
  loadStore,
  topics,
  type CameraPosesDetected,
  type MessageDeadLettered,
  type PeopleTracked,
  type ShelfEventDetected,
} from '../../libs/contracts/index.ts';
import { createBus, loadBusConfig } from '../../libs/bus/index.ts';
import { createLogger, logLevelFromEnv } from '../../libs/log/logger.ts';
import { outputKinds, prepareOutput } from '../../libs/cli/output.ts';
import { optionalInt, report, storeFile, type Verb } from '../../libs/cli/verb.ts';
import { collect, formatSummary, openRecording, summariseRecording, type Recording } from '../../libs/recording/index.ts';
import { scoreShelfEvents } from '../../libs/shelf/shelf.eval.ts';
import { loadScenario } from '../../libs/sim/scenario.load.ts';
import { simulate } from '../../libs/sim/store.sim.ts';
import { writeSimulation } from '../../libs/sim/recording.sim.ts';
import { scorePoseEvents } from '../../libs/tracking/pose-events.eval.ts';
import { scoreTracks } from '../../libs/tracking/tracks.eval.ts';
import { createChosenDetector, parseDetectorThreads, parsePrecision } from '../../libs/vision/detector.registry.ts';
import type { PassTally, PoseDetector } from '../../libs/vision/pose.detector.ts';
import { scoreReceipts } from '../../libs/cart/receipts.eval.ts';
import { formatReceipt, formatReceiptScorecard, formatReviewQueue, reviewState } from '../../libs/cart/receipts.format.ts';
import { formatCharges, formatCheckoutSummary, summariseCharges } from '../../libs/checkout/charges.format.ts';
import { cameraFootage } from './footage.ts';
import type { CameraServiceStats, ShelfOnDemand } from '../camera/camera.service.ts';
import { floorTracking } from './pose.verb.ts';
import { DEFAULT_NOISE_M, defaultWholeEvery, receiptRun, WHOLE_READ_EVERY_S, WINDOWS_HOLD_S, runStore, type PeopleSource, type StoreRunResult } from './store.run.ts';
import { parseShelfCameras, SHELF_CAMERAS_USAGE, shelfCameraOptions } from './store.run.ts';

/**
 * The main job: the store on the bus the environment names (the in-process bus by default), fed by
 * a freshly simulated demo recording exactly as live devices would feed it. It prints what the
 * pipeline decides as it happens and scores it against the simulator's ground truth at the end.
 * The pipeline runs to each visit's receipt, and checkout charges it on the embedded database; the
 * run ends once every receipt has its charge's answer, and prints them after the receipts.
 */
const DEMO_SCENARIO = 'fixtures/scenarios/kiosk-demo.json';
const COMMITTED_RECORDING = 'fixtures/recordings/kiosk-demo';
const DEMO_SEED = 1;
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export const startVerb: Verb = {
  name: 'start',
  summary: 'Run the store on the embedded default: simulate the demo, replay it through the pipeline, score it.',
  usage: `walkout start [--out .walkout/demo] [--force] [--no-video] [--detect-every N] [--whole-every N]
                     [--shelf-every N] [--shelf-whole-every N] [--shelf-cameras always|on-demand]
                     [--shelf-pre-roll-ms N] [--shelf-tail-ms N] [--detector onnx|movenet]
                     [--detector-threads N] [--precision int8-fused|int8|float] [--json]

Simulates ${DEMO_SCENARIO} (seed ${DEMO_SEED}) into --out and checks its ground truth against the
committed recording ${COMMITTED_RECORDING}; then runs the whole store (WALKOUT_BUS=memory by default,
or kafka with WALKOUT_KAFKA_BROKERS) and replays the recording into it as live devices would,
printing every shelf event, then each visit's receipt and what checkout charged for it (once every
receipt is charged, voided or declined), and scores both against the ground truth.
Without --detect-every the people come from the recording's true skeletons with ${DEFAULT_NOISE_M} m of
tracker-like error (the cameras are slow on two cores). A recording already at --out is replaced
once the new one is written; anything else there only with --force.

  --detect-every N  also run camera perception: replay every camera's frames and detect people in
                    every N-th frame of each (MoveNet, about a second a frame on two cores: N 10,
                    one frame a second of each camera, took 6 minutes for the demo's six);
                    the poses are scored against the pose truth, each camera alone, fused and
                    followed, and the tracked people feed visits and attribution
  --whole-every N   with --detect-every: read every N-th frame detected of each camera whole (with
                    the second looks), the others only in windows round the people the camera's
                    previous frame showed, and look for newcomers only where the image changed
                    (default: whole every ${WHOLE_READ_EVERY_S} s of each camera when the frames read
                    are ${WINDOWS_HOLD_S} s apart or closer, 10 for the demo's 10 frames a second at
                    --detect-every 2, else every frame whole; 1: every frame whole, 2.6 times the
                    model's work for as many wrists followed)
  --shelf-every N   with --detect-every: the shelf cameras' own stride, every N-th frame of each
                    (default: --detect-every's); a multiple of --detect-every keeps their frames
                    at instants the ceiling cameras read too
  --shelf-whole-every N
                    with --detect-every: read every N-th frame detected of each shelf camera whole
                    (default: --whole-every's, or by the same rule at the shelf cameras' stride)
${SHELF_CAMERAS_USAGE}
  --detector D      onnx (default): MoveNet on ONNX Runtime; movenet: the same model on TF.js
                    (WebAssembly), the fallback when ONNX Runtime cannot load
  --detector-threads N
                    onnx: worker threads that run the model, each with its own ONNX Runtime
                    session, several cameras' frames read at once (default: one per core; 0: on
                    the main thread, one frame at a time)
  --precision P     onnx: int8-fused (default: integer kernels throughout, the least CPU), int8 (only
                    its convolutions in int8: a few wrists more for more CPU) or float`,
  options: {
    out: { type: 'string' },
    force: { type: 'boolean' },
    'no-video': { type: 'boolean' },
    'detect-every': { type: 'string' },
    'whole-every': { type: 'string' },
    'shelf-every': { type: 'string' },
    'shelf-whole-every': { type: 'string' },
    ...shelfCameraOptions,
    detector: { type: 'string' },
    'detector-threads': { type: 'string' },
    precision: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }) {
    const out = typeof values.out === 'string' ? values.out : '.walkout/demo';
    const json = values.json === true;
    const say = (line: string) => {
      if (!json) process.stdout.write(`${line}\n`);
    };
    const detectEvery = values['detect-every'] === undefined ? undefined : optionalInt(values, 'detect-every', startVerb, 1, { min: 1, unit: 'frames' });
    const precision = parsePrecision(values.precision, 'walkout start');
    const wholeEveryAsked = values['whole-every'] === undefined ? undefined : optionalInt(values, 'whole-every', startVerb, 1, { min: 1, unit: 'frames' });
    const shelfEveryAsked = values['shelf-every'] === undefined ? undefined : optionalInt(values, 'shelf-every', startVerb, 1, { min: 1, unit: 'frames' });
    const shelfWholeEveryAsked =
      values['shelf-whole-every'] === undefined ? undefined : optionalInt(values, 'shelf-whole-every', startVerb, 1, { min: 1, unit: 'frames' });
    if (detectEvery === undefined && (shelfEveryAsked !== undefined || shelfWholeEveryAsked !== undefined))
      throw new WalkoutError('USAGE', 'walkout start: --shelf-every and --shelf-whole-every read the shelf cameras of --detect-every, which is missing');
    const shelfOnDemand = parseShelfCameras(values, startVerb, detectEvery !== undefined);
    if (detectEvery !== undefined && values['no-video']) throw new WalkoutError('USAGE', 'walkout start: --detect-every needs the video that --no-video leaves out');
    const busConfig = loadBusConfig();
    const logger = createLogger({ level: logLevelFromEnv() });
    const scenario = await loadScenario(DEMO_SCENARIO);
    const demoStore = storeFile(scenario.store);
    const index = indexStore(await loadStore(demoStore));
    const output = await prepareOutput({
      verb: startVerb.name,
      target: out,
      kind: outputKinds.recording,
      inputs: { 'the demo scenario': DEMO_SCENARIO, 'the demo store': demoStore, 'the committed recording': COMMITTED_RECORDING },
      force: values.force === true,
    });
    const simulation = simulate(scenario, index, DEMO_SEED);
    await output.write((into) =>
      writeSimulation(simulation, into, { seed: DEMO_SEED, footage: values['no-video'] ? undefined : cameraFootage(index.store), quiet: json }),
    );
    const fresh = await summariseRecording(out);
    const same = async (relative: string) =>
      (await readFile(path.join(out, relative), 'utf8')) === (await readFile(path.join(COMMITTED_RECORDING, relative), 'utf8'));
    const truthFiles = ['truth/actions.jsonl', 'truth/receipts.jsonl', 'truth/visits.jsonl', 'gates.jsonl'];
    const agreement = Object.fromEntries(await Promise.all(truthFiles.map(async (f) => [f, await same(f)] as const)));
    say(`simulated now:\n${formatSummary(fresh)}`);
    say(`ground truth identical to the committed recording ${COMMITTED_RECORDING}: ${Object.values(agreement).every(Boolean) ? 'yes' : `no (${JSON.stringify(agreement)})`}`);

    // The store, on the configured bus, fed by the recording.
    const recording = await openRecording(out);
    const bus = await createBus({ topics, config: busConfig, logger: logger.child({ component: 'bus' }) });
    await bus.start();
    const t0 = recording.manifest.startMs;
    const { detectorThreads, framesAtOnce } = parseDetectorThreads(values['detector-threads'], 'walkout start');
    const chosen = detectEvery
      ? await createChosenDetector(
          { detector: values.detector as string | undefined, inputSize: 640, refine: 'upright', mirror: true, looks: 'when-unsure', detectorThreads, precision },
          'walkout start',
        )
      : undefined;
    if (chosen?.fellBack) say(`pose detection on TF.js: ${chosen.fellBack}`);
    const detector = chosen?.detector;
    const shelfReading = detectEvery ? shelfCameraReading(recording, detectEvery, wholeEveryAsked, shelfEveryAsked, shelfWholeEveryAsked) : undefined;
    const people: PeopleSource = detector
      ? {
          kind: 'tracked',
          detector,
          stride: detectEvery!,
          wholeFrameEvery: wholeEveryAsked ?? defaultWholeEvery(recording.manifest.streams.cameras, detectEvery!),
          byKind: shelfReading && { shelf: shelfReading },
          framesAtOnce,
          shelfOnDemand,
        }
      : { kind: 'truth', noiseM: DEFAULT_NOISE_M, seed: DEMO_SEED };
    say(
      `store running on the ${bus.kind} bus; replaying ${out} (load cells and gates, ` +
        (detector
          ? `frames of ${recording.manifest.streams.cameras.length} cameras`
          : `people from the true skeletons with ${DEFAULT_NOISE_M} m of tracker-like error: --detect-every N runs the cameras instead`) +
        ') as live devices:',
    );
    const receiptsShown: string[] = [];
    const run = await runStore(recording, {
      bus,
      logger,
      people,
      quiet: json,
      onShelfEvent: (message) => say(formatShelfEvent(message, recording, t0)),
      // Receipts are printed after the shelf events, as each visit's is finalised.
      onReceipt: (receipt) => receiptsShown.push(formatReceipt(receipt, recording.index)),
    });
    await bus.close();
    detector?.dispose();
    const camera =
      detector && run.store.camera
        ? await scoreCameraStage(recording, detector.model, run.poses, run.deadFrames, run.store.camera.stats(), detector, { detectorThreads, framesAtOnce }, run.tracked, run.cameraPace)
        : undefined;
    const actions = await collect(recording.truthActions());
    const score = scoreShelfEvents(recording.index, run.shelfEvents, actions);
    const { missed, spurious, wrongProduct, ...figures } = score;
    const receiptScore = scoreReceipts(
      { visits: await collect(recording.truthVisits()), receipts: await collect(recording.truthReceipts()), actions, products: recording.index.products },
      receiptRun(run),
    );
    const { perVisit, reviewItems: _reviewItems, ...receiptFigures } = receiptScore;
    const checkout = summariseCharges(run.charges);
    const currency = recording.index.store.currency;
    const stats = run.replay;
    report(
      json,
      {
        recording: fresh,
        truthMatchesCommitted: agreement,
        bus: bus.kind,
        replay: stats,
        shelfEvents: figures,
        inventory: run.store.shelf.inventory(),
        people:
          people.kind === 'truth'
            ? { source: 'truth', noiseM: people.noiseM }
            : { source: 'tracked', detectEvery, shelfCameras: shelfReading ?? null, shelfOnDemand: shelfOnDemand ?? null },
        receipts: run.receipts,
        charges: run.charges,
        checkout,
        reviews: run.reviews.map(({ reviewId, kind, reason, visitIds, shelfEventId, contest }) => ({ reviewId, kind, reason, visitIds, shelfEventId, contest, state: reviewState(reviewId, run.resolutions, run.refusals) })),
        receiptScore: receiptFigures,
        camera,
      },
      () =>
        [
          `replayed ${stats.samples} load-cell samples in ${stats.sampleMessages} messages, ${stats.gateMessages} gate events` +
            (stats.frameMessages ? ` and ${stats.frameMessages} camera frames` : '') +
            (stats.peopleMessages ? ` and ${stats.peopleMessages} instants of people` : ''),
          `shelf events against the ground truth: ${score.matched}/${score.actions} picks and puts found, precision ${pct(score.precision)}, ` +
            `recall ${pct(score.recall)}, F1 ${score.f1.toFixed(3)}, quantity ${pct(score.quantityAccuracy)}, product top-1 ${pct(score.productTop1)}` +
            ` (${pct(score.productTop1Separable)} where weight tells products apart)`,
          ...missed.map((a) => `  missed: ${a.kind} ${a.quantity} x ${a.productId} at ${a.laneId} (${((a.startMs - t0) / 1000).toFixed(1)} s)`),
          ...wrongProduct.map((w) => `  wrong product: ${w.action.productId} taken at ${w.action.laneId}, event said ${w.event.hypotheses[0]?.productId}`),
          '',
          `receipts (${run.receipts.length}):`,
          ...receiptsShown,
          '',
          `charges (${run.charges.length}):`,
          ...formatCharges(run.charges, currency),
          formatCheckoutSummary(checkout, currency),
          '',
          `review queue (${run.reviews.length}):`,
          ...formatReviewQueue(run.reviews, run.resolutions, run.refusals),
          '',
          formatReceiptScorecard(receiptScore, { details: true }),
          ...(camera ? ['', ...formatCameraStage(camera, detectEvery!, shelfReading, shelfOnDemand)] : []),
        ].join('\n'),
    );
  },
};

/**
 * The shelf cameras' own reading when it differs from the ceiling cameras' (--shelf-every,
 * --shelf-whole-every), else undefined: their stride, and whole reads as asked or by the rule the
 * ceiling cameras' follow (defaultWholeEvery) at that stride.
 */
function shelfCameraReading(
  recording: Recording,
  detectEvery: number,
  wholeEveryAsked: number | undefined,
  shelfEveryAsked: number | undefined,
  shelfWholeEveryAsked: number | undefined,
): { stride: number; wholeFrameEvery: number } | undefined {
  if (shelfEveryAsked === undefined && shelfWholeEveryAsked === undefined) return undefined;
  const stride = shelfEveryAsked ?? detectEvery;
  const shelfCameras = recording.manifest.streams.cameras.filter((c) => recording.index.cameras.get(c.cameraId)?.kind === 'shelf');
  const wholeFrameEvery = shelfWholeEveryAsked ?? (stride === detectEvery ? wholeEveryAsked : undefined) ?? defaultWholeEvery(shelfCameras, stride);
  return { stride, wholeFrameEvery };
}

/** One shelf event as the console shows it: when, pick or put, where, how much weight, what it most likely was. */
function formatShelfEvent(message: ShelfEventDetected, recording: Recording, t0: number): string {
  const best = message.hypotheses[0];
  const product = best ? recording.index.products.get(best.productId) : undefined;
  return (
    `  ${((message.startMs - t0) / 1000).toFixed(1).padStart(5)} s  ${message.kind.padEnd(4)} ${message.laneIds.join('+').padEnd(10)} ` +
    `${message.deltaGrams.toFixed(1).padStart(8)} g  ${best ? `${best.quantity} x ${product?.name ?? best.productId} (${pct(best.probability)})` : 'unexplained'}` +
    `${message.health !== 'ok' ? `  [${message.health}]` : ''}`
  );
}

type CameraStage = Awaited<ReturnType<typeof scoreCameraStage>>;

/** What the camera stage published, scored against the pose truth: wrists in view, three ways. */
async function scoreCameraStage(
  recording: Recording,
  model: string,
  poses: ReadonlyMap<string, readonly CameraPosesDetected[]>,
  deadFrames: readonly MessageDeadLettered[],
  stats: Pick<CameraServiceStats, 'detected' | 'detectMs' | 'readMs' | 'detectedByKind' | 'onDemand'>,
  detector: Pick<PoseDetector, 'passes' | 'passesBy' | 'backend'>,
  threads: { detectorThreads: number; framesAtOnce: number },
  tracked: readonly PeopleTracked[],
  pace: StoreRunResult['cameraPace'],
) {
  const passes = detector.passes?.() ?? {};
  // Threads only where the detector runs on them (the TF.js fallback ignores --detector-threads).
  const onThreads = detector.backend.includes('detector threads') ? threads.detectorThreads : 0;
  const { poses: alone, fusion } = await scorePoseEvents(recording, { model, byCamera: poses });
  const tracks = await scoreTracks(recording, [...tracked].sort((a, b) => a.ts - b.ts));
  const wrists = (w: { found: number; total: number }) => ({ found: w.found, total: w.total });
  return {
    model,
    frames: stats.detected,
    msPerFrame: stats.detected ? stats.detectMs / stats.detected : 0,
    pace,
    time: cameraStageTime(stats, passes, pace, onThreads ? threads.framesAtOnce : 1),
    threads: onThreads,
    byKind: cameraKinds(stats.detectedByKind, detector.passesBy?.() ?? {}, pace),
    onDemand: stats.onDemand ?? null,
    framesFailed: deadFrames.map((d) => `${d.error.code}: ${d.error.message}`),
    wristsInView: {
      detector: wrists(alone.overall.wristsInView),
      fused: fusion ? wrists(fusion.overall.wristsInView) : null,
      followed: fusion?.tracked ? wrists(fusion.tracked.overall.wristsInView) : null,
      followedByKind: fusion?.tracked ? followedByKind(recording, fusion.tracked.cameras) : null,
    },
    floor: fusion?.tracked?.floor ?? null,
    tracks,
  };
}

/**
 * Wrists followed in the views of each kind of camera (ceiling, shelf), pooled over its cameras: the
 * ceiling cameras' views are the same frames whatever the shelf cameras' stride, so they compare
 * runs that read the shelf cameras differently.
 */
function followedByKind(recording: Recording, cameras: ReadonlyArray<{ cameraId: string; summary: { wristsInView: { found: number; total: number } } }>) {
  const byKind: Record<string, { found: number; total: number }> = {};
  for (const { cameraId, summary } of cameras) {
    const kind = recording.index.cameras.get(cameraId)?.kind ?? 'unknown';
    const pooled = (byKind[kind] ??= { found: 0, total: 0 });
    pooled.found += summary.wristsInView.found;
    pooled.total += summary.wristsInView.total;
  }
  return byKind;
}

/**
 * Where the camera stage's wall time went, seconds: waiting for decoded frames, each kind of model
 * pass, the rest of the detector (letterbox, decoding the output, merging readings, and on detector
 * threads waiting for a free one), and everything else in the process meanwhile (the tracker and
 * the other stages, the bus, the replay, idle). With frames detected at once the parts are summed
 * over the frames (and passes over the threads), so they add up to more than the wall time.
 */
function cameraStageTime(stats: { detectMs: number; readMs: number }, passes: Readonly<Record<string, PassTally>>, pace: StoreRunResult['cameraPace'], framesAtOnce: number) {
  if (!pace) return undefined;
  const inPasses = Object.values(passes).reduce((ms, tally) => ms + tally.ms, 0);
  return {
    wallS: pace.wallSeconds,
    framesAtOnce,
    readS: stats.readMs / 1000,
    passes: Object.fromEntries(Object.entries(passes).map(([kind, tally]) => [kind, { count: tally.count, s: tally.ms / 1000 }])),
    passesS: inPasses / 1000,
    detectorRestS: (stats.detectMs - inPasses) / 1000,
    elsewhereS: framesAtOnce === 1 ? pace.wallSeconds - (stats.detectMs + stats.readMs) / 1000 : null,
  };
}

/**
 * The frames of each kind of camera (ceiling, shelf) and their model passes' share of all the
 * passes' time; `alone` is the real-time factor the stage would have with those cameras only at
 * this run's pace, on the assumption that the rest of the stage's time goes with the passes'.
 */
function cameraKinds(frames: Record<string, number>, passesBy: Readonly<Record<string, PassTally>>, pace: StoreRunResult['cameraPace']) {
  const totalMs = Object.values(passesBy).reduce((ms, tally) => ms + tally.ms, 0);
  return Object.entries(frames).map(([kind, count]) => {
    const share = totalMs > 0 ? (passesBy[kind]?.ms ?? 0) / totalMs : 0;
    return { kind, frames: count, passS: (passesBy[kind]?.ms ?? 0) / 1000, share, alone: pace && share > 0 ? pace.realTimeFactor / share : null };
  });
}

function formatCameraStageTime(time: NonNullable<ReturnType<typeof cameraStageTime>>, threads: number): string {
  const share = (s: number) => `${s.toFixed(1)} s (${((100 * s) / time.wallS).toFixed(0)} %)`;
  const parts =
    `reading frames ${share(time.readS)}, ` +
    Object.entries(time.passes)
      .map(([kind, { count, s }]) => `${kind} passes ${share(s)} (${count}, ${((1000 * s) / Math.max(1, count)).toFixed(0)} ms each)`)
      .join(', ');
  if (time.elsewhereS !== null)
    return `camera stage wall time ${time.wallS.toFixed(1)} s: ${parts}, the rest of detection ${share(time.detectorRestS)}, outside the camera stage ${share(time.elsewhereS)}`;
  return (
    `camera stage wall time ${time.wallS.toFixed(1)} s, up to ${time.framesAtOnce} frames at once on ${threads} detector threads, ` +
    `so summed over them (shares of the wall time): ${parts}; the threads ran passes ${((100 * time.passesS) / (time.wallS * Math.max(1, threads))).toFixed(0)} % of the time; ` +
    `the rest of detection, waiting for a thread included, ${share(time.detectorRestS)}`
  );
}

function formatCameraStage(
  camera: CameraStage,
  every: number,
  shelf: { stride: number; wholeFrameEvery: number } | undefined,
  onDemand: ShelfOnDemand | undefined,
): string[] {
  const share = (w: { found: number; total: number } | null) => (w ? `${w.found}/${w.total} (${w.total ? pct(w.found / w.total) : '-'})` : 'n/a');
  const { detector, fused, followed, followedByKind } = camera.wristsInView;
  const frames = shelf ? `1 in ${every} of each ceiling camera's, 1 in ${shelf.stride} of each shelf camera's, whole 1 in ${shelf.wholeFrameEvery} of those` : `1 in ${every} of each camera's`;
  return [
    `camera perception: ${camera.frames} frames (${frames}), ${camera.msPerFrame.toFixed(0)} ms a frame in ${camera.model}` +
      (camera.threads ? ` on ${camera.threads} detector threads (a frame's time includes its waits for one)` : '') +
      (camera.framesFailed.length ? `; ${camera.framesFailed.length} frames could not be read: ${camera.framesFailed[0]}` : ''),
    ...(camera.pace
      ? [
          `camera stage real-time factor ${camera.pace.realTimeFactor.toFixed(3)} (${camera.pace.storeSeconds.toFixed(1)} store s in ${camera.pace.wallSeconds.toFixed(1)} wall s, ` +
            `${(camera.frames / camera.pace.wallSeconds).toFixed(2)} frames/s; 1 or more keeps up live); ` +
            `${camera.pace.cpuSeconds.toFixed(1)} CPU s in this process meanwhile, ${(camera.pace.cpuSeconds / camera.pace.wallSeconds).toFixed(2)} cores' worth: ` +
            `${(camera.pace.storeSeconds / camera.pace.cpuSeconds).toFixed(3)} store s a CPU s`,
        ]
      : []),
    ...(camera.time ? [formatCameraStageTime(camera.time, camera.threads)] : []),
    ...(camera.onDemand && onDemand
      ? [
          `shelf cameras on demand (from ${onDemand.preRollMs} ms before a shelf they look at is active to ${onDemand.tailMs} ms after): ` +
            `${camera.onDemand.read} frames read, ${camera.onDemand.passedOver} passed over` +
            ` (${pct(camera.onDemand.passedOver / Math.max(1, camera.onDemand.read + camera.onDemand.passedOver))}); ${camera.onDemand.readUnheard} read before their shelves' word came`,
        ]
      : []),
    ...(camera.pace && camera.byKind.length > 1
      ? [
          'by kind of camera: ' +
            camera.byKind
              .map(
                (kind) =>
                  `${kind.kind} ${kind.frames} frames, ${kind.passS.toFixed(1)} s of passes (${pct(kind.share)})` +
                  (kind.alone === null ? '' : `, alone at this pace a real-time factor of about ${kind.alone.toFixed(3)}`),
              )
              .join('; '),
        ]
      : []),
    `wrists in view against the pose truth: each camera alone ${share(detector)}, fused across cameras ${share(fused)}, followed ${followed ? share(followed) : 'n/a (frames more than a second apart)'}` +
      (followedByKind && Object.keys(followedByKind).length > 1
        ? ` (${Object.entries(followedByKind)
            .map(([kind, wrists]) => `${kind} cameras' views ${share(wrists)}`)
            .join(', ')})`
        : ''),
    ...(camera.floor ? [`followed in the evaluation, ${floorTracking(camera.floor)}`] : []),
    `tracker (live, a second behind): ${camera.tracks.instants} instants, ${camera.tracks.tracks} tracks; people found ${share(camera.tracks.people)}, ` +
      `3D wrists within 11 cm ${share(camera.tracks.wrists)}, tracks that stay one person ${camera.tracks.purity === null ? 'n/a' : pct(camera.tracks.purity)}, ` +
      `people who stay on one track ${camera.tracks.continuity === null ? 'n/a' : pct(camera.tracks.continuity)}`,
  ];
}
