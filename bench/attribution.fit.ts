/**
 * Fits the attribution model (libs/fusion/attribution.model.ts) on training recordings and writes
 * libs/fusion/attribution.params.json. Measure on other seeds (bench/attribution.bench.ts).
 *
 *   node --import tsx bench/attribution.fit.ts [--folds K] [--profile-l2 W] [--out FILE] --noise 0.05 /tmp/fusion-runs/f6 /tmp/fusion-runs/f7 ...
 *
 * --out writes the fitted file elsewhere (to try it before it replaces the committed parameters).
 *
 * Steps, each on the events of every training run that match a true action:
 * 1. who: the person-score weights and the unseen score, by maximum likelihood of the true visit
 *    (coordinate search with shrinking steps);
 * 2. what: the put factors (uncarried, unseen) and the pick priors (misplaced, shelf only), by the
 *    likelihood of the true (visit, product, quantity), on a grid;
 * 3. a put and a pick at once: its prior odds (fitPutAndPick), on the out-of-fold events of step 4;
 * 4. calibration: Platt scaling of the best option's joint probability against whether it was right,
 *    on out-of-fold events (each run settled with who and what fitted on the others);
 * 5. the decision threshold: where deciding costs less than a review (WRONG_COST_IN_REVIEWS), with
 *    the table of what other thresholds would do on the training runs printed for comparison.
 * The engine is run once per step with the parameters so far, since what visits hold depends on
 * what was decided before; steps 1 and 2 go round ROUNDS times. Every fit starts from INITIAL, so
 * the same recordings give the same parameters.
 *
 * --unplanned-put-only keeps everything as the parameters file has it but the calibration's term for
 * a put onto a lane not planned for its product, which it fits alone on the recordings given (see
 * fitTerm); the file then says that command too. --pair-only does the same for the term of a change
 * read as two shoppers' at once.
 *
 * --who-only keeps everything as the parameters file has it but the who weights (step 1), fitted on
 * the recordings given from the file's, with what, calibration and threshold as they are; recalibrate
 * after it on other recordings (--calibrate-only), since the who probabilities it calibrated moved.
 * --profile-smooth W penalises W times the squared difference of neighbouring hand-profile weights
 * (default 0): neighbouring offsets say nearly the same, and unpenalised their weights alternate.
 *
 * --came-in-only keeps everything as the parameters file has it but the who model's term for a
 * pick's hand that came into the lanes only after the change (cameInAfterPick), fitted alone on the
 * recordings given by the who likelihood (see fitWhoTerm); the file then says that command too.
 * --moved-only does the same for the term of a hand's own movement around the change (movedPerM).
 *
 * --two-at-once-only keeps everything as the parameters file has it but the factor for a change of
 * several units made by two shoppers at once (twoAtOnce), fitted alone on the recordings given by the
 * likelihood of the truth on every event that may have moved several units (fitTwoAtOnce); the file
 * then says that command too. Refit the pair term after it (--pair-only): it calibrates the pair
 * readings this factor makes.
 *
 * --still-partner-only keeps everything as the parameters file has it but the factor for a pair's
 * shopper whose hand hardly moved around the change (stillPartner), fitted alone the same way on the
 * recordings given (fitStillPartner); the file then says that command too. Refit the pair term after it.
 * --pair-timing-only does the same for the two factors of a pair by how long the weight took to
 * change (quickPair, slowPair), on a grid of both (fitPairTiming).
 *
 * --put-and-pick-only keeps everything as the parameters file has it but the prior odds of a put and
 * a pick by two shoppers at once (putAndPickAtOnce), fitted alone on the recordings given by how
 * well the share it gives such readings says which changes truly were one (see fitPutAndPick); the
 * file then says that command too.
 *
 * --calibrate-only keeps who and what as the parameters file has them, but for two shoppers at once
 * (one factor), and does steps 4 and 5 on the recordings given (which the file's who and what were
 * not fitted on, so they are out of fold already); the file then says both commands.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { collect, openRecording, type Recording } from '../libs/recording/index.ts';
import { calibrate, changeMsOf, jointOptions, nettedShare, QUICK_CHANGE_MS, situationOf, whatHypotheses, type AttributionParams, type Situation } from '../libs/fusion/attribution.model.ts';
import { NETTED_MIN_GRAMS } from '../libs/fusion/netted.reading.ts';
import type { StoreIndex } from '../libs/contracts/index.ts';
import { PROFILE_OFFSETS_MS } from '../libs/fusion/hand.evidence.ts';
import { FLOOR, penalisedWho, WHO_KEYS, whoGradient, whoLogLikelihood, whosUnder, whoVector, withWhoVector } from '../libs/fusion/who.fit.ts';
import { DEFAULT_PARAMS } from '../libs/fusion/fusion.engine.ts';
import fittedFile from '../libs/fusion/attribution.params.json' with { type: 'json' };
import { bestIsRight, fusionInputs, labelRecords, optionIsTruth, runFusion, type FusionInput, type LabelledRecord } from '../libs/fusion/fusion.eval.ts';

/**
 * What a wrong charge costs, in reviews: with a calibrated confidence c, deciding costs (1 - c) times
 * this and a review costs one, so deciding pays from c = 1 - 1 / WRONG_COST_IN_REVIEWS.
 */
const WRONG_COST_IN_REVIEWS = 5;
const PARAMS_FILE = new URL('../libs/fusion/attribution.params.json', import.meta.url);

const { values, positionals } = parseArgs({
  options: {
    noise: { type: 'string' },
    seed: { type: 'string' },
    folds: { type: 'string' },
    'profile-l2': { type: 'string' },
    'calibrate-only': { type: 'boolean' },
    'unplanned-put-only': { type: 'boolean' },
    'pair-only': { type: 'boolean' },
    'who-only': { type: 'boolean' },
    'came-in-only': { type: 'boolean' },
    'moved-only': { type: 'boolean' },
    'put-and-pick-only': { type: 'boolean' },
    'two-at-once-only': { type: 'boolean' },
    'still-partner-only': { type: 'boolean' },
    'pair-timing-only': { type: 'boolean' },
    'profile-smooth': { type: 'string' },
    out: { type: 'string' },
  },
  allowPositionals: true,
});
const noiseM = Number(values.noise ?? 0.05);
/** A light penalty on the profile weights, so offsets that say little stay near zero. */
const PROFILE_L2 = Number(values['profile-l2'] ?? 0.01);
const PROFILE_SMOOTH = Number(values['profile-smooth'] ?? 0);
const seed = Number(values.seed ?? 1);

/** Each training recording with its engine inputs, read once: every step settles it again under other parameters. */
const opened = new Map<string, { recording: Recording; inputs: FusionInput[] }>();

async function labelled(params: AttributionParams, dirs: readonly string[] = positionals): Promise<LabelledRecord[]> {
  const all: LabelledRecord[] = [];
  for (const dir of dirs) {
    let run = opened.get(dir);
    if (!run) {
      const recording = await openRecording(dir);
      run = { recording, inputs: await collect(fusionInputs(recording, { noiseM, seed })) };
      opened.set(dir, run);
    }
    indexes.set(run.recording.manifest.storeId, run.recording.index);
    if (!trainedOn.some((line) => line.startsWith(`${dir}: `))) trainedOn.push(`${dir}: ${run.recording.manifest.source.detail}`);
    all.push(...labelRecords(await runFusion(run.recording, { noiseM, seed, params, inputs: run.inputs })));
  }
  return all;
}

/**
 * The joint's floor is higher: a truth no option names (a quantity two people took at once, an item
 * nobody saw misplaced) is not the priors' doing, and at 1e-300 a handful of them would drown the rest.
 */
const JOINT_FLOOR = 1e-6;

function jointLogLikelihood(params: AttributionParams, records: LabelledRecord[]): number {
  let sum = 0;
  for (const r of records) {
    if (!r.truth || r.event.hypotheses.length === 0) continue;
    const hypotheses = r.whatContext ? whatHypotheses(params, r.event.kind, r.event.hypotheses, r.whatContext) : r.event.hypotheses;
    const options = jointOptions(params, r.event.kind, whosUnder(params, r), hypotheses, changeMsOf(r.event));
    const truth = options.find((o) => optionIsTruth(r, o));
    sum += Math.log(Math.max(JOINT_FLOOR, truth?.probability ?? 0));
  }
  return sum;
}

/**
 * Maximum likelihood by gradient ascent (the gradient in closed form) with a backtracking line
 * search; the likelihood is smooth in these weights and nearly concave (a softmax of linear scores).
 */
function fitWho(start: AttributionParams, records: LabelledRecord[]): AttributionParams {
  let vector = whoVector(start);
  let best = penalisedWho(start, records, PROFILE_L2, PROFILE_SMOOTH);
  for (let iteration = 0; iteration < 300; iteration++) {
    const gradient = whoGradient(withWhoVector(start, vector), records, PROFILE_L2, PROFILE_SMOOTH);
    let step = 1;
    let moved = false;
    while (step > 1e-7) {
      const trial = vector.map((v, i) => v + step * gradient[i]);
      const value = penalisedWho(withWhoVector(start, trial), records, PROFILE_L2, PROFILE_SMOOTH);
      if (value > best + 1e-7) {
        best = value;
        vector = whoVector(withWhoVector(start, trial));
        moved = true;
        break;
      }
      step /= 2;
    }
    if (!moved) break;
  }
  const params = withWhoVector(start, vector);
  console.log(`who fitted: penalised log-likelihood ${best.toFixed(2)}`, Object.fromEntries(WHO_KEYS.map((k) => [k, +params[k].toFixed(3)])));
  console.log(`  pick profile ${params.pickProfilePerM.map((w) => w.toFixed(1)).join(' ')}`);
  console.log(`  put profile  ${params.putProfilePerM.map((w) => w.toFixed(1)).join(' ')}`);
  return params;
}

/**
 * The simulator's shoppers always put back what they took last, so the likelihood alone would drive
 * this factor to zero; the grid stops at 0.05, because shoppers in a real store do sometimes put
 * back something from the basket, and a prior of zero would charge that case wrongly and surely.
 */
const EARLIER_CARRIED_GRID = [0.05, 0.1, 0.2, 0.5, 1];
/** Two shoppers at once: 0 (never), then 1, 2 and 5 times each decade from 1e-10 to 100; the odds it multiplies run over many decades. */
const TWO_AT_ONCE_GRID = [0, ...Array.from({ length: 39 }, (_, i) => Number(`${[1, 2, 5][i % 3]}e${Math.floor(i / 3) - 10}`))];

/** The what priors on a grid, by the likelihood of the true (visit, product, quantity): put factors on puts, pick priors on picks. */
function fitWhat(start: AttributionParams, records: LabelledRecord[]): AttributionParams {
  const puts = records.filter((r) => r.event.kind === 'put');
  const picks = records.filter((r) => r.event.kind === 'pick');
  let put = { params: start, value: jointLogLikelihood(start, puts) };
  for (const uncarriedPut of [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2])
    for (const unseenCarry of [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 1])
      for (const wrongLanePut of [0.02, 0.05, 0.1, 0.2, 0.5, 1])
        for (const earlierCarriedPut of EARLIER_CARRIED_GRID) {
          const trial = { ...start, uncarriedPut, unseenCarry, wrongLanePut, earlierCarriedPut };
          const value = jointLogLikelihood(trial, puts);
          if (value > put.value) put = { params: trial, value };
        }
  let pick = { params: put.params, value: jointLogLikelihood(put.params, picks) };
  for (const misplacedPrior of [0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5])
    for (const misplacedFrontPrior of [0.1, 0.5, 1, 2, 5, 10, 20, 50])
      for (const shelfOnlyPrior of [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1]) {
        const trial = { ...put.params, misplacedPrior, misplacedFrontPrior, shelfOnlyPrior };
        const value = jointLogLikelihood(trial, picks);
        if (value > pick.value) pick = { params: trial, value };
      }
  const p = fitTwoAtOnce(pick.params, records);
  console.log(
    `what fitted: puts ${put.value.toFixed(2)} (uncarried ${p.uncarriedPut}, unseen ${p.unseenCarry}, wrong lane ${p.wrongLanePut}, earlier carried ${p.earlierCarriedPut}), ` +
      `picks ${pick.value.toFixed(2)} (misplaced ${p.misplacedPrior}, at the front ${p.misplacedFrontPrior}, shelf only ${p.shelfOnlyPrior})`,
  );
  return p;
}

/** Two shoppers at once, on a grid, by the likelihood of the truth on every event that may have moved several units (one person's or two people's). */
function fitTwoAtOnce(start: AttributionParams, records: LabelledRecord[]): AttributionParams {
  return fitSeveralUnitsFactor(start, records, 'twoAtOnce', TWO_AT_ONCE_GRID, 'two at once');
}

/** Factors tried for stillPartner: 1 (no weight) down to 1e-4. */
const STILL_PARTNER_GRID = [1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 1e-4];

/** A pair's still hand (stillPartner), as fitTwoAtOnce, from no weight at all. */
function fitStillPartner(start: AttributionParams, records: LabelledRecord[]): AttributionParams {
  return fitSeveralUnitsFactor({ ...start, stillPartner: 1 }, records, 'stillPartner', STILL_PARTNER_GRID, 'still partner');
}

/** Factors tried for quickPair (1 down to 0.01) and slowPair (1 up to a million: twoAtOnce is 1e-5). */
const QUICK_PAIR_GRID = [1, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01];
const SLOW_PAIR_GRID = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/**
 * A pair's weighing by how long the weight took to change (quickPair, slowPair), on a grid of both,
 * as fitTwoAtOnce, from no weight at all.
 */
function fitPairTiming(start: AttributionParams, records: LabelledRecord[]): AttributionParams {
  const several = records.filter((r) => r.event.hypotheses.some((h) => h.quantity > 1));
  let best = { params: { ...start, quickPair: 1, slowPair: 1 }, value: -Infinity };
  const tried: string[] = [];
  for (const quickPair of QUICK_PAIR_GRID)
    for (const slowPair of SLOW_PAIR_GRID) {
      const trial = { ...start, quickPair, slowPair };
      const value = jointLogLikelihood(trial, several);
      tried.push(`${quickPair}/${slowPair}: ${value.toFixed(2)}`);
      if (value > best.value) best = { params: trial, value };
    }
  const timed = several.filter((r) => changeMsOf(r.event) !== undefined);
  const quick = timed.filter((r) => changeMsOf(r.event)! <= QUICK_CHANGE_MS).length;
  console.log(`pair timing fitted on ${several.length} events of several units (${quick} quick, ${timed.length - quick} slow, ${several.length - timed.length} untimed): ${best.value.toFixed(2)} (quick ${best.params.quickPair}, slow ${best.params.slowPair})`);
  console.log(`  log-likelihood by quick/slow: ${tried.join(', ')}`);
  return best.params;
}

/** A factor of the pairs' weighing, on a grid, by the likelihood of the truth on every event that may have moved several units; `start` stands unless a grid value does better. */
function fitSeveralUnitsFactor(start: AttributionParams, records: LabelledRecord[], key: 'twoAtOnce' | 'stillPartner', grid: readonly number[], label: string): AttributionParams {
  const several = records.filter((r) => r.event.hypotheses.some((h) => h.quantity > 1));
  let best = { params: start, value: jointLogLikelihood(start, several) };
  const tried: string[] = [];
  for (const factor of grid) {
    const trial = { ...start, [key]: factor };
    const value = jointLogLikelihood(trial, several);
    tried.push(`${factor}: ${value.toFixed(2)}`);
    if (value > best.value) best = { params: trial, value };
  }
  console.log(`${label} fitted on ${several.length} events of several units: ${best.value.toFixed(2)} (factor ${best.params[key]})`);
  console.log(`  log-likelihood by factor: ${tried.join(', ')}`);
  return best.params;
}

const logit = (p: number) => Math.log(Math.min(1 - 1e-6, Math.max(1e-6, p)) / (1 - Math.min(1 - 1e-6, Math.max(1e-6, p))));

/**
 * Platt scaling with the situation terms (attribution.model.ts calibrate): a logistic regression of
 * right or wrong on the logit of the best joint probability and the situation, by gradient ascent
 * (the likelihood is concave in these weights).
 */
function fitCalibration(start: AttributionParams, records: LabelledRecord[], situation: (r: LabelledRecord) => Situation): AttributionParams {
  const points = records
    .filter((r) => r.options.length > 0)
    .map((r) => {
      const s = situation(r);
      return { x: [logit(r.options[0].probability), 1, s.unplanned ? 1 : 0, s.several ? 1 : 0, s.put ? 1 : 0, s.put && s.unplanned ? 1 : 0], y: bestIsRight(r) ? 1 : 0 };
    });
  const logLikelihood = (w: number[]) =>
    points.reduce((sum, { x, y }) => {
      const p = 1 / (1 + Math.exp(-x.reduce((z, xi, i) => z + xi * w[i], 0)));
      return sum + Math.log(Math.max(FLOOR, y ? p : 1 - p));
    }, 0);
  let w = [1, 0, 0, 0, 0, 0];
  let best = logLikelihood(w);
  for (let iteration = 0; iteration < 2000; iteration++) {
    const gradient = w.map((_, i) =>
      points.reduce((sum, { x, y }) => sum + (y - 1 / (1 + Math.exp(-x.reduce((z, xj, j) => z + xj * w[j], 0)))) * x[i], 0),
    );
    let step = 0.01;
    let moved = false;
    while (step > 1e-9) {
      const trial = w.map((wi, i) => wi + step * gradient[i]);
      const value = logLikelihood(trial);
      if (value > best + 1e-9) {
        best = value;
        w = trial;
        moved = true;
        break;
      }
      step /= 2;
    }
    if (!moved) break;
  }
  const [calibrationSlope, calibrationIntercept, calibrationUnplanned, calibrationSeveral, calibrationPut, calibrationUnplannedPut] = w;
  console.log(`calibration fitted on ${points.length} events: ${w.map((x) => x.toFixed(3)).join(' ')} (slope, intercept, unplanned, several, put, unplanned put)`);
  return { ...start, calibrationSlope, calibrationIntercept, calibrationUnplanned, calibrationSeveral, calibrationPut, calibrationUnplannedPut };
}

/**
 * Calibration terms fitted alone (--unplanned-put-only, --pair-only), every other parameter as the
 * file has it; `file` names the entries that record the fit's command and recordings.
 */
const TERMS = {
  'unplanned-put': { key: 'calibrationUnplannedPut', applies: (s: Situation) => s.put && s.unplanned, what: 'wrong-lane put term', on: 'puts', file: 'unplannedPutCalibrated' },
  pair: { key: 'calibrationPair', applies: (s: Situation) => s.pair, what: 'two-at-once term', on: 'pair readings', file: 'pairCalibrated' },
} as const;
/**
 * The part-fits a recalibration keeps, with their file entries: the pair term and the who weights
 * are not among what --calibrate-only fits again (the wrong-lane put term is, in the Platt fit).
 */
const KEPT_BY_RECALIBRATION = [TERMS.pair.file, 'whoFitted', 'cameInAfterFitted', 'movedFitted', 'putAndPickFitted', 'stillPartner', 'pairTiming'];

/** Prior odds of a put and a pick at once tried: 0, then a decade and three times it, 1e-6 to 3. */
const PUT_AND_PICK_GRID = [0, ...Array.from({ length: 14 }, (_, i) => Number(`${i % 2 === 0 ? 1 : 3}e${Math.floor(i / 2) - 6}`))];

/**
 * The prior odds of a put and a pick by two shoppers at once, alone: on every change with such
 * readings (of at least NETTED_MIN_GRAMS) and a best option, the share nettedShare
 * gives the readings is the model's probability that the change was a put and a pick at once; the
 * value on PUT_AND_PICK_GRID that makes the truth likeliest (actions of both kinds matched to the
 * change, or not) is kept.
 */
function fitPutAndPick(start: AttributionParams, records: LabelledRecord[]): AttributionParams {
  const points = records.filter((r) => r.options.length > 0 && (r.netted?.length ?? 0) > 0 && Math.abs(r.event.deltaGrams) >= NETTED_MIN_GRAMS);
  const logLikelihood = (putAndPickAtOnce: number) =>
    points.reduce((sum, r) => {
      const share = nettedShare({ putAndPickAtOnce }, r.whatContext, r.event.kind, r.options[0], r.netted!);
      return sum + Math.log(Math.max(FLOOR, r.truthNetted ? share : 1 - share));
    }, 0);
  let best = { value: 0, logLikelihood: logLikelihood(0) };
  const tried: string[] = [];
  for (const value of PUT_AND_PICK_GRID) {
    const ll = logLikelihood(value);
    tried.push(`${value}: ${ll.toFixed(2)}`);
    if (ll > best.logLikelihood) best = { value, logLikelihood: ll };
  }
  console.log(`put and pick at once fitted on ${points.length} changes with readings (${points.filter((r) => r.truthNetted).length} truly one): ${best.value} (log-likelihood ${best.logLikelihood.toFixed(2)})`);
  console.log(`  log-likelihood by prior odds: ${tried.join(', ')}`);
  return { ...start, putAndPickAtOnce: best.value };
}

/**
 * A term fitted alone weighs each event's true visit at no less than this probability: an event the
 * model cannot reach (the true doer's hand nowhere near the lane, another's in it) would otherwise
 * pull a small term by its many nats, whatever every other event says.
 */
const TERM_FIT_FLOOR = 1e-6;

/**
 * One who term alone: the value on a grid of 100 steps from 0 to `highest` that makes the true visits
 * likeliest (whoLogLikelihood, floored at TERM_FIT_FLOOR; every other who weight as `start` has it,
 * so the term is judged on what they leave unexplained).
 */
function fitWhoTerm(start: AttributionParams, records: LabelledRecord[], key: 'cameInAfterPick' | 'movedPerM', what: string, highest: number): AttributionParams {
  let best = { value: 0, logLikelihood: whoLogLikelihood({ ...start, [key]: 0 }, records, TERM_FIT_FLOOR) };
  const atZero = best.logLikelihood;
  for (let step = 1; step <= 100; step++) {
    const value = (step / 100) * highest;
    const logLikelihood = whoLogLikelihood({ ...start, [key]: value }, records, TERM_FIT_FLOOR);
    if (logLikelihood > best.logLikelihood) best = { value, logLikelihood };
  }
  console.log(`${what} fitted on ${records.filter((r) => r.truth).length} events: ${best.value} (who log-likelihood floored at ${TERM_FIT_FLOOR} an event ${best.logLikelihood.toFixed(2)}, at 0 ${atZero.toFixed(2)})`);
  return { ...start, [key]: best.value };
}

/**
 * One calibration term alone, by the likelihood of whether each best option it applies to was
 * right, on a grid of hundredths from -3 to 3 (the likelihood is concave in one term). `start` has
 * the term at 0, as the records were settled; every other parameter stays as it has it.
 */
function fitTerm(start: AttributionParams, records: LabelledRecord[], term: (typeof TERMS)[keyof typeof TERMS]): AttributionParams {
  const points = records
    .filter((r) => r.options.length > 0 && typeof r.options[0].who.visitId === 'string')
    .flatMap((r) => {
      const s = situationOfRecord(r);
      if (!term.applies(s)) return [];
      return [{ z: logit(calibrate(start, r.options[0].probability, s)), right: bestIsRight(r) }];
    });
  const logLikelihood = (value: number) => points.reduce((sum, { z, right }) => sum + Math.log(Math.max(FLOOR, right ? 1 / (1 + Math.exp(-(z + value))) : 1 - 1 / (1 + Math.exp(-(z + value))))), 0);
  let best = { value: 0, logLikelihood: logLikelihood(0) };
  for (let step = -300; step <= 300; step++) {
    const value = logLikelihood(step / 100);
    if (value > best.logLikelihood) best = { value: step / 100, logLikelihood: value };
  }
  console.log(`${term.what} fitted on ${points.length} ${term.on} (${points.filter((p) => p.right).length} right): ${best.value} (log-likelihood ${best.logLikelihood.toFixed(2)}, at 0 ${logLikelihood(0).toFixed(2)})`);
  return { ...start, [term.key]: best.value };
}

function chooseThreshold(params: AttributionParams, records: LabelledRecord[]): AttributionParams {
  const scored = records
    .filter((r) => r.options.length > 0 && r.options[0].who.visitId)
    .map((r) => ({ confidence: calibrate(params, r.options[0].probability, situationOfRecord(r)), right: bestIsRight(r) }))
    .sort((x, y) => y.confidence - x.confidence);
  const chosen = 1 - 1 / WRONG_COST_IN_REVIEWS;
  for (const threshold of [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]) {
    const decided = scored.filter((s) => s.confidence >= threshold);
    console.log(`  threshold ${threshold.toFixed(2)}: ${decided.length} decided, ${decided.filter((s) => !s.right).length} wrong, ${scored.length - decided.length} to review`);
  }
  console.log(`decision threshold ${chosen}`);
  return { ...params, decideAbove: chosen };
}

const indexes = new Map<string, StoreIndex>();
/** What each training recording is (its manifest's source), written next to the parameters. */
const trainedOn: string[] = [];
/** The situation of a record's best option, as the engine sees it. */
const situationOfRecord = (r: LabelledRecord): Situation => situationOf(indexes.get(r.event.storeId)!, r.event, r.options[0]);

/**
 * Where every fit starts (not the parameters committed now), so that the same recordings give the
 * same parameters: close to the hand, a little time in the lane, nobody unseen, puts of what the
 * visit holds, no calibration yet.
 */
const INITIAL: AttributionParams = {
  contactPerM: 10,
  nearestPerM: 0,
  inLanePerS: 1,
  timingPerS: 0,
  seen: 1,
  unseen: -5,
  reusedReach: 0,
  cameInAfterPick: 0,
  movedPerM: 0,
  putAndPickAtOnce: 0,
  pickProfilePerM: PROFILE_OFFSETS_MS.map(() => 0),
  putProfilePerM: PROFILE_OFFSETS_MS.map(() => 0),
  // Not fitted: the simulator's hands never take more than two at once, so its runs would drive this
  // to zero, and a real shopper sometimes does (three yogurts in one hand); one in a hundred.
  manyUnitsAtOnce: 0.01,
  uncarriedPut: 0.01,
  earlierCarriedPut: 1,
  unseenCarry: 0.05,
  twoAtOnce: 0,
  stillPartner: 1,
  quickPair: 1,
  slowPair: 1,
  misplacedPrior: 1,
  misplacedFrontPrior: 1,
  shelfOnlyPrior: 0.1,
  wrongLanePut: 0.2,
  calibrationSlope: 1,
  calibrationIntercept: 0,
  calibrationUnplanned: 0,
  calibrationSeveral: 0,
  calibrationPut: 0,
  calibrationUnplannedPut: 0,
  calibrationPair: 0,
  decideAbove: 1 - 1 / WRONG_COST_IN_REVIEWS,
};
/** Who and what are fitted in turn this many times: what visits hold depends on what was decided. */
const ROUNDS = 2;

async function fitWhoAndWhat(dirs: readonly string[], rounds: number): Promise<AttributionParams> {
  let params: AttributionParams = { ...INITIAL };
  for (let round = 0; round < rounds; round++) {
    params = fitWho(params, await labelled(params, dirs));
    params = fitWhat(params, await labelled(params, dirs));
  }
  return params;
}

/**
 * The events calibration and the threshold are fitted on are out of fold: each training run is
 * settled with who and what fitted on runs outside its fold (one round), since on the runs it was
 * fitted on the model is right more often than it will be on new ones, and a calibration fitted
 * there states too much confidence. `--folds K` splits the runs into K folds (every K-th run in one);
 * by default each run is a fold of its own.
 */
async function outOfFoldRecords(folds: number): Promise<LabelledRecord[]> {
  const records: LabelledRecord[] = [];
  for (let fold = 0; fold < folds; fold++) {
    const held = positionals.filter((_, i) => i % folds === fold);
    console.log(`fold without ${held.join(' ')}:`);
    const params = await fitWhoAndWhat(positionals.filter((dir) => !held.includes(dir)), 1);
    records.push(...(await labelled(params, held)));
  }
  return records;
}

const calibrateOnly = values['calibrate-only'] === true;
const whoOnly = values['who-only'] === true;
const cameInOnly = values['came-in-only'] === true;
const movedOnly = values['moved-only'] === true;
const putAndPickOnly = values['put-and-pick-only'] === true;
const twoAtOnceOnly = values['two-at-once-only'] === true;
const stillPartnerOnly = values['still-partner-only'] === true;
const pairTimingOnly = values['pair-timing-only'] === true;
const partial = ['unplanned-put-only', 'pair-only', 'who-only', 'came-in-only', 'moved-only', 'put-and-pick-only', 'two-at-once-only', 'still-partner-only', 'pair-timing-only', 'calibrate-only'].filter((flag) => values[flag as keyof typeof values]);
if (partial.length > 1) throw new Error(`attribution.fit: ${partial.map((flag) => `--${flag}`).join(' and ')} each fit a part of the parameters; give one of them`);
const termOnly = values['unplanned-put-only'] ? TERMS['unplanned-put'] : values['pair-only'] ? TERMS.pair : undefined;
let params: AttributionParams;
let records: LabelledRecord[];
if (termOnly) {
  const start = { ...DEFAULT_PARAMS, [termOnly.key]: 0 };
  params = fitTerm(start, await labelled(start), termOnly);
  records = [];
} else if (whoOnly) {
  params = fitWho({ ...DEFAULT_PARAMS }, await labelled(DEFAULT_PARAMS));
  records = [];
} else if (cameInOnly) {
  const start = { ...DEFAULT_PARAMS, cameInAfterPick: 0 };
  params = fitWhoTerm(start, await labelled(start), 'cameInAfterPick', 'came-in-after term', 5);
  records = [];
} else if (movedOnly) {
  const start = { ...DEFAULT_PARAMS, movedPerM: 0 };
  params = fitWhoTerm(start, await labelled(start), 'movedPerM', "term of a hand's own movement", 40);
  records = [];
} else if (putAndPickOnly) {
  const start = { ...DEFAULT_PARAMS, putAndPickAtOnce: 0 };
  params = fitPutAndPick(start, await labelled(start));
  records = [];
} else if (twoAtOnceOnly) {
  params = fitTwoAtOnce({ ...DEFAULT_PARAMS }, await labelled(DEFAULT_PARAMS));
  records = [];
} else if (stillPartnerOnly) {
  params = fitStillPartner({ ...DEFAULT_PARAMS }, await labelled(DEFAULT_PARAMS));
  records = [];
} else if (pairTimingOnly) {
  const start = { ...DEFAULT_PARAMS, quickPair: 1, slowPair: 1 };
  params = fitPairTiming(start, await labelled(start));
  records = [];
} else if (calibrateOnly) {
  params = fitTwoAtOnce({ ...DEFAULT_PARAMS }, await labelled(DEFAULT_PARAMS));
  records = await labelled(params);
} else {
  params = await fitWhoAndWhat(positionals, ROUNDS);
  records = positionals.length > 1 ? await outOfFoldRecords(Math.min(positionals.length, Number(values.folds ?? positionals.length))) : await labelled(params);
  // The records were settled without it (INITIAL), as its fit alone asks.
  params = fitPutAndPick(params, records);
}
if (!termOnly && !whoOnly && !cameInOnly && !movedOnly && !putAndPickOnly && !twoAtOnceOnly && !stillPartnerOnly && !pairTimingOnly) {
  params = fitCalibration(params, records, situationOfRecord);
  params = chooseThreshold(params, records);
}
// Four decimals, or four significant digits below 0.001 (a factor such as twoAtOnce lives decades below 1).
const round = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? +x.toFixed(4) : +x.toPrecision(4));
const rounded = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, Array.isArray(v) ? v.map(round) : round(v)]));
const command = `node --import tsx bench/attribution.fit.ts${partial.map((flag) => ` --${flag}`).join('')}${values.folds ? ` --folds ${values.folds}` : ''}${values['profile-l2'] ? ` --profile-l2 ${values['profile-l2']}` : ''}${values['profile-smooth'] ? ` --profile-smooth ${values['profile-smooth']}` : ''} --noise ${noiseM} --seed ${seed} ${positionals.join(' ')}`;
const recordings = 'npx walkout sim --random --shoppers 40 --minutes 8 --difficulty hard --store kiosk --seed N --no-video --out <dir>';
const kept = Object.fromEntries(Object.entries(fittedFile).filter(([key]) => KEPT_BY_RECALIBRATION.some((fit) => key.startsWith(fit))));
/** A part fitted alone adds its command and recordings to the file as it was. */
const alone = termOnly?.file ?? (whoOnly ? 'whoFitted' : cameInOnly ? 'cameInAfterFitted' : movedOnly ? 'movedFitted' : putAndPickOnly ? 'putAndPickFitted' : twoAtOnceOnly ? 'twoAtOnceFitted' : stillPartnerOnly ? 'stillPartnerFitted' : pairTimingOnly ? 'pairTimingFitted' : undefined);
const written = alone
  ? { ...fittedFile, [`${alone}With`]: command, [`${alone}On`]: trainedOn, params: rounded }
  : calibrateOnly
    ? { fittedWith: fittedFile.fittedWith, trainedOn: fittedFile.trainedOn, calibratedWith: command, calibratedOn: trainedOn, recordingsMadeWith: recordings, ...kept, params: rounded }
    : { fittedWith: command, trainedOn, recordingsMadeWith: recordings, params: rounded };
const outFile = values.out ?? PARAMS_FILE.pathname;
await writeFile(outFile, JSON.stringify(written, null, 2) + '\n');
console.log(`wrote ${outFile}`);
