import { WalkoutError, topics } from '../../libs/contracts/index.ts';
import { createBus, loadBusConfig } from '../../libs/bus/index.ts';
import { createLogger, logLevelFromEnv } from '../../libs/log/logger.ts';
import { optionalInt, report, type Verb } from '../../libs/cli/verb.ts';
import { collect, openRecording } from '../../libs/recording/index.ts';
import { scoreReceipts } from '../../libs/cart/receipts.eval.ts';
import { formatReceiptScorecard } from '../../libs/cart/receipts.format.ts';
import { TRUTH_REVIEWER, TruthReviewer } from '../../libs/cart/truth.reviewer.ts';
import { createChosenDetector, parsePrecision } from '../../libs/vision/detector.registry.ts';
import { DEFAULT_ONNX_PRECISION } from '../../libs/vision/onnx.detector.ts';
import { DEFAULT_NOISE_M, defaultWholeEvery, receiptRun, WHOLE_READ_EVERY_S, WINDOWS_HOLD_S, runStore, type PeopleSource } from './store.run.ts';
import { parseShelfCameras, SHELF_CAMERAS_USAGE, shelfCameraOptions } from './store.run.ts';


const USAGE = `walkout eval receipts <recording> [--people truth|tracked] [--noise METRES] [--seed N] [--detect-every N] [--whole-every N]
                             [--detector onnx|movenet] [--precision int8-fused|int8|float] [--shelf-cameras on-demand|always]
                             [--shelf-pre-roll-ms N] [--shelf-tail-ms N] [--review-after SECONDS] [--details] [--json]

Runs the whole store over a recording (shelf perception, visits, attribution, carts) on the bus the
environment names, and scores every finalised receipt against the recording's ground truth: the share
of visits whose receipt is exactly right, per-visit receipt precision, recall and F1 over units (the
competition metric), attribution accuracy, reviews per 1000 visits, the reliability of the stated
confidence (expected calibration error and its table), pick-to-cart latency on the store clock;
overall and per scenario tag.

  --people truth    people from the recording's true skeletons in place of the cameras (default), so
                    attribution is measured apart from vision
  --noise METRES    with truth people: the tracker's typical error to add (default ${DEFAULT_NOISE_M})
  --seed N          with truth people: the noise seed (default 1)
  --people tracked  people from the cameras: pose detection on every N-th frame (--detect-every,
                    default 10) of every camera, then the tracker (slow: about a second a frame)
  --whole-every N   with --people tracked: read every N-th frame detected of each camera whole,
                    the others in windows round its people, as \`walkout start\` does (default:
                    whole every ${WHOLE_READ_EVERY_S} s of each camera when the frames read are
                    ${WINDOWS_HOLD_S} s apart or closer, else every frame whole)
  --precision P     with --people tracked, onnx: int8-fused (default), int8 or float, as \`walkout start\`
${SHELF_CAMERAS_USAGE.replaceAll('with --detect-every', 'with --people tracked')}
  --review-after S  a reviewer in the replay decides each review item about a shelf event as the
                    truth says, S store seconds after it opened, during the run: the shelf's stock,
                    fusion and the carts follow the decisions as they would live. Receipts "before
                    review" then hold the decisions made before each visit left
  --details         list the receipts that are not exactly right, and each review item counted with
                    its reason and what truly happened at its shelf event
  --json            print the scorecard as JSON (keys: visits, exactMatch, receiptF1,
                    attributionAccuracy, reviewsPer1000, calibrationError, byTag, ...)`;

/** Parses --noise: metres, a number from 0 to 1. */
function noiseMetres(value: unknown): number {
  if (value === undefined) return DEFAULT_NOISE_M;
  const metres = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(metres) || metres < 0 || metres > 1)
    throw new WalkoutError('USAGE', `walkout eval receipts: --noise takes metres from 0 to 1 (the tracker's typical error is about ${DEFAULT_NOISE_M}), not ${JSON.stringify(value)}`);
  return metres;
}

/** Parses --review-after: store seconds from 0 to an hour, or undefined when not given. */
function reviewAfterSeconds(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600)
    throw new WalkoutError('USAGE', `walkout eval receipts: --review-after takes store seconds from 0 to 3600 (how long a reviewer takes to decide an item), not ${JSON.stringify(value)}`);
  return seconds;
}

/**
 * Latency is read off the replay's store clock, which does not wait for the camera stage: when the
 * cameras run slower than the store clock the replay is over before most poses are out, and the
 * latency measures that backlog rather than the store's decisions.
 */
function latencyCaveat(pace: { storeSeconds: number; wallSeconds: number; realTimeFactor: number }): string {
  return (
    `note: the camera stage took ${pace.wallSeconds.toFixed(0)} s for ${pace.storeSeconds.toFixed(0)} s of store time (${pace.realTimeFactor.toFixed(2)}x real time) ` +
    `while the replay ran at store speed, so pick-to-cart latency above measures the cameras' backlog, not the store's decisions`
  );
}

export const evalReceiptsVerb: Verb = {
  name: 'eval receipts',
  summary: 'Run the whole store over a recording and score its receipts against the ground truth.',
  usage: USAGE,
  options: {
    people: { type: 'string' },
    noise: { type: 'string' },
    seed: { type: 'string' },
    'detect-every': { type: 'string' },
    'whole-every': { type: 'string' },
    detector: { type: 'string' },
    precision: { type: 'string' },
    ...shelfCameraOptions,
    'review-after': { type: 'string' },
    details: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  allowPositionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new WalkoutError('USAGE', `walkout eval receipts: give one recording folder\n\n${USAGE}`);
    const kind = values.people ?? 'truth';
    if (kind !== 'truth' && kind !== 'tracked') throw new WalkoutError('USAGE', `walkout eval receipts: --people is truth or tracked, not ${JSON.stringify(kind)}`);
    if (kind === 'tracked' && values.noise !== undefined) throw new WalkoutError('USAGE', 'walkout eval receipts: --noise applies to --people truth (tracked people carry the tracker\'s own error)');
    const json = values.json === true;
    const recording = await openRecording(positionals[0]);
    const noiseM = noiseMetres(values.noise);
    const seed = optionalInt(values, 'seed', evalReceiptsVerb, 1);
    const stride = optionalInt(values, 'detect-every', evalReceiptsVerb, 10, { min: 1, unit: 'frames' });
    const precision = parsePrecision(values.precision, 'walkout eval receipts');
    if (kind === 'truth' && precision !== undefined) throw new WalkoutError('USAGE', 'walkout eval receipts: --precision applies to --people tracked (the model the cameras are read with)');
    if (kind === 'truth' && values['whole-every'] !== undefined) throw new WalkoutError('USAGE', 'walkout eval receipts: --whole-every applies to --people tracked (how the cameras are read)');
    const shelfOnDemand = parseShelfCameras(values, evalReceiptsVerb, kind === 'tracked');
    const wholeFrameEvery =
      values['whole-every'] === undefined
        ? defaultWholeEvery(recording.manifest.streams.cameras, stride)
        : optionalInt(values, 'whole-every', evalReceiptsVerb, 1, { min: 1, unit: 'frames' });
    let people: PeopleSource;
    let dispose = () => {};
    if (kind === 'tracked') {
      if (recording.manifest.streams.cameras.length === 0)
        throw new WalkoutError('USAGE', `walkout eval receipts: ${positionals[0]} has no camera video for --people tracked (it was simulated with --no-video?)`);
      const { detector, fellBack } = await createChosenDetector(
        { detector: values.detector as string | undefined, inputSize: 640, refine: 'upright', mirror: true, looks: 'when-unsure', precision },
        'walkout eval receipts',
      );
      if (fellBack && !json) process.stderr.write(`pose detection on TF.js: ${fellBack}\n`);
      dispose = () => detector.dispose();
      people = { kind: 'tracked', detector, stride, wholeFrameEvery, shelfOnDemand };
    } else people = { kind: 'truth', noiseM, seed };

    const reviewAfterS = reviewAfterSeconds(values['review-after']);
    const truth = {
      visits: await collect(recording.truthVisits()),
      receipts: await collect(recording.truthReceipts()),
      actions: await collect(recording.truthActions()),
      products: recording.index.products,
    };
    if (truth.visits.length === 0) throw new WalkoutError('RECORDING_INVALID', `${positionals[0]}: no visit truth (truth/visits.jsonl) to score receipts against`);
    const reviewer = reviewAfterS === undefined ? undefined : new TruthReviewer(truth, reviewAfterS * 1000);
    const logger = createLogger({ level: logLevelFromEnv() });
    const bus = await createBus({ topics, config: loadBusConfig(), logger: logger.child({ component: 'bus' }) });
    await bus.start();
    try {
      const run = await runStore(recording, { bus, logger, people, quiet: json, reviewer });
      const score = scoreReceipts(truth, receiptRun(run));
      const decisions = run.resolutions.filter((r) => r.reviewer === TRUTH_REVIEWER).length;
      const { perVisit, reviewItems, ...figures } = score;
      const pace = run.cameraPace;
      const onDemand = run.store.camera?.stats().onDemand;
      report(
        json,
        {
          recording: positionals[0],
          people: kind === 'truth' ? { source: 'truth', noiseM, seed } : { source: 'tracked', detectEvery: stride, wholeEvery: wholeFrameEvery, precision: precision ?? DEFAULT_ONNX_PRECISION, shelfOnDemand: shelfOnDemand ?? null },
          ...figures,
          ...(reviewer ? { reviewedDuringRun: { afterS: reviewAfterS, decisions } } : {}),
          ...(pace ? { cameraPace: pace } : {}),
          ...(onDemand ? { shelfCamerasOnDemand: onDemand } : {}),
          ...(values.details ? { perVisit, reviewItems } : {}),
        },
        () =>
          [
            `receipts of ${positionals[0]} (${recording.index.store.id}; people ${kind === 'truth' ? `from the true skeletons with ${noiseM} m noise, seed ${seed}` : `tracked from every ${stride}th frame, whole every ${wholeFrameEvery}th of those`})`,
            ...(reviewer
              ? [
                  `a reviewer in the replay decided ${decisions} review items by the truth, ${reviewAfterS} s after each opened; receipts before review hold the decisions made before their visits left`,
                ]
              : []),
            formatReceiptScorecard(score, { details: values.details === true }),
            ...(onDemand ? [`shelf cameras on demand: ${onDemand.read} frames read, ${onDemand.passedOver} passed over, ${onDemand.readUnheard} read before their shelves' word came`] : []),
            ...(pace ? [`camera stage: ${pace.storeSeconds.toFixed(1)} store s in ${pace.wallSeconds.toFixed(1)} wall s (real-time factor ${pace.realTimeFactor.toFixed(3)}), ${pace.cpuSeconds.toFixed(1)} CPU s`] : []),
            ...(pace && pace.realTimeFactor < 1 ? [latencyCaveat(pace)] : []),
          ].join('\n'),
      );
    } finally {
      await bus.close();
      dispose();
    }
  },
};
