import type { ProductHypothesis, ShelfEventDetected, StoreIndex } from '../contracts/index.ts';
import { FAR_M, type HandEvidence } from './hand.evidence.ts';
import type { NettedReading } from './netted.reading.ts';

/**
 * The probability model of attribution, apart from the engine so the fit (bench/attribution.fit.ts)
 * scores exactly what runs live.
 *
 * Who: a conditional logit over the people near the shelf plus one more option, "someone the
 * cameras did not follow there". Each person scores from their hand evidence (how close a wrist came
 * around the change, over the whole reach, how long it stayed in the lane, where it was at fixed moments before and after the change, whether it went in or out as the weight changed, how much of the time it
 * was seen); the unseen option has a fixed score. Softmax gives P(person); a visit's probability is
 * the sum over its people (a group's members all count for the payer).
 *
 * What: every product and quantity that could have moved, each weighed by how well its weight fits
 * the change and by a prior: what the lanes are planned for; for a pick, what fusion saw misplaced
 * there, for a put, what the people near the shelf carry (a put-back on the wrong lane); or what only
 * the shelf lists. For a put, what each visit carries weighs in again per visit (a put-back is most
 * likely of an item that person holds): a product the visit does not hold is multiplied by
 * `uncarriedPut`. Who and what are normalised together, so a put of something only one of two
 * people near the shelf carries goes to that one.
 *
 * The joint probability of the best (visit, product, quantity) is then mapped through a Platt
 * calibration (fitted on training runs) into the stated confidence.
 */

export interface AttributionParams {
  /** Score per metre of contact distance (around the change) and of nearest distance (whole reach). */
  contactPerM: number;
  nearestPerM: number;
  /** Score per second a wrist spent in the lane (capped at IN_LANE_CAP_S). */
  inLanePerS: number;
  /** Score per second the hand's crossing into (put) or out of (pick) the lane is off the change. */
  timingPerS: number;
  /** Score per metre the hand moved on its own around the change (HandEvidence.movedM, capped at MOVED_CAP_M). */
  movedPerM: number;
  /** Score per metre of the hand's distance at each profile offset (hand.evidence PROFILE_OFFSETS_MS), for picks and for puts. */
  pickProfilePerM: number[];
  putProfilePerM: number[];
  /** Score for a wrist seen all through the window (less in proportion). */
  seen: number;
  /**
   * Score added for a person whose reach already explains another change of the same kind on these
   * lanes moments before (see REACH_REUSE_MS): positive when fitted, since the shelf gives one hand's
   * grab of two products from a lane as two events.
   */
  reusedReach: number;
  /**
   * Score taken off a pick's candidate whose hand came into the lanes only after the weight stopped
   * changing (HandEvidence.cameInAfter): the picker's hand is in the lane as the weight drops, a
   * neighbour's reaching in for their own item arrives after it.
   */
  cameInAfterPick: number;
  /** Score of "someone unseen did it". */
  unseen: number;
  /**
   * Prior of one shopper moving more than UNITS_IN_ONE_GRAB units in one change, against one grab's
   * worth (1): a hand takes one or two items at a time, so three units at once are two people's,
   * or another product's weight. Staff restocking carry several: not for them.
   */
  manyUnitsAtOnce: number;
  /** Likelihood factor of a put of something the visit does not carry. */
  uncarriedPut: number;
  /**
   * Likelihood factor of a put of a product the visit carries but did not take last, against the
   * one it took last (1): a put-back moments after a pick is of what is still in the hand, and the
   * rest is in the basket.
   */
  earlierCarriedPut: number;
  /** Likelihood factor of the unseen option in a put (what an unseen person holds is unknown). */
  unseenCarry: number;
  /**
   * Two shoppers at one lane at once. A change of several units by two people weighs
   * `twoAtOnce` x P(first) x P(second) / P(unseen), against P(first) for the first alone: the
   * second person's odds against "someone unseen" say how surely their hand was there too, whoever
   * else's was, since the who model's probabilities share one doer among everyone near.
   */
  twoAtOnce: number;
  /**
   * Likelihood factor of each shopper of a pair (two at once) whose hand hardly moved around the
   * change, read from its own lift (`Who.liftMovedM` under PAIR_STILL_M). A hand resting in the
   * lanes, or on the shelf's edge while the other hand reaches for the shelf above, is as near as
   * one that took something, and the who
   * model's odds against "someone unseen" say only that it was there; a hand that moved units reached
   * in and drew back. One shopper's change has proof of a doer in the weight itself; the second of a
   * pair has none but their hand's own movement.
   */
  stillPartner: number;
  /**
   * Likelihood factors of a pair (two at once) by how long the weight took to change
   * (ShelfEventDetected.transitionMs), against one shopper's change (1): one hand lifts or sets down
   * its units together, in one quick step; two hands make a step each, as far apart as their lifts,
   * unless they moved at the same instant. `quickPair` within QUICK_CHANGE_MS, `slowPair` beyond;
   * neither without the timing, nor for a put: one hand setting a unit down presses as it lets go,
   * and its change can take as long as two hands' picks (166 to 217 ms on the fresh set and seeds
   * 151-170, where no pair put anything back at once).
   */
  quickPair: number;
  slowPair: number;
  /**
   * Prior odds of a put and a pick by two shoppers at once on the same plates (netted.reading.ts),
   * against one shopper's change, where two shoppers' hands were in the lanes. What the weight says
   * of each reading is weighed against what it says of the best option (nettedShare): a decision
   * the weight fits worse than a put and a pick at once loses that share of its confidence.
   */
  putAndPickAtOnce: number;
  /**
   * Priors of what a pick takes, against a product the lane is planned for (1): one fusion saw put
   * there by mistake (a misplaced put it attributed), and one only the shelf lists (the shelf's own
   * guess of what lies there, which fusion's carts did not confirm).
   */
  misplacedPrior: number;
  /**
   * Prior of a pick of a misplaced item put on the lane since its last pick, against the lane's own
   * product (1): what is put back lies at the front of its lane, where the next hand takes from.
   */
  misplacedFrontPrior: number;
  shelfOnlyPrior: number;
  /**
   * Prior of a put of a product the lanes are not planned for that someone near the shelf holds (put
   * back on the wrong lane), against one put back where it belongs (1). A product nobody near holds
   * and only the shelf lists has `shelfOnlyPrior`, for puts as for picks.
   */
  wrongLanePut: number;
  /**
   * Platt calibration of the joint probability, with the situations the joint is overconfident in:
   * confidence = sigmoid(slope * logit(p) + intercept + the terms of the situation). A product the
   * lanes are not planned for (the shelf's or fusion's belief of a misplaced item, which can be
   * another item of the same weight), several units at once (two people's picks in one change),
   * a put (what the person carries can be two products of one weight). A put onto a lane not planned
   * for its product has a term of its own on top (`calibrationUnplannedPut`, fitted alone after the
   * rest): a wrong-lane put-back is known by what the shopper carries and took last, a misplaced pick
   * by what fusion believes lies there, and `calibrationUnplanned` cannot serve both.
   */
  calibrationSlope: number;
  calibrationIntercept: number;
  calibrationUnplanned: number;
  calibrationSeveral: number;
  calibrationPut: number;
  calibrationUnplannedPut: number;
  /**
   * A term for a change read as two shoppers' at once (a pair best), fitted alone after the rest
   * like `calibrationUnplannedPut`: the second hand near the lane may be reaching for a change of its
   * own, or just be there, and the joint cannot tell; one shopper's grab of two units beside a
   * neighbour is then read as one each.
   */
  calibrationPair: number;
  /** Decide at or above this calibrated confidence; below, the event goes to review. */
  decideAbove: number;
}

/** Time in the lane beyond this says nothing more (a long reach is no surer than a full one), seconds. */
export const IN_LANE_CAP_S = 1.5;
/** A hand's movement beyond this says nothing more (a reach draws back 0.3 to 0.4 m), metres. */
export const MOVED_CAP_M = 0.4;
/** A pair's shopper whose hand moved less than this around the change (Who.liftMovedM), metres, is weighed by `stillPartner`. */
export const PAIR_STILL_M = 0.2;
/**
 * A weight change from a quarter to three quarters of its net in this long or less is one step
 * (`quickPair`), ms: on the simulator's 60 Hz cells, 665 of 672 timed changes of several units by
 * one shopper took 120 ms or less, and 6 of the 7 slower were puts
 * (docs/experiments/a-pair-by-the-weights-steps.md).
 */
export const QUICK_CHANGE_MS = 120;
/** P(unseen) is at least this when a pair is weighed against it (hands in the lanes leave it next to nothing). */
const MIN_UNSEEN = 1e-200;
/** Joint probabilities are kept inside (EPS, 1 - EPS) before the logit, so calibration stays finite. */
const EPS = 1e-6;

/** What a weight change of a product and quantity is measured with on top of the event's own sigma, grams. */
export const WEIGHT_MODEL_GRAMS = 2;
/** The most units one shopper's hand takes or puts back in one change, as a rule (see `manyUnitsAtOnce`). */
export const UNITS_IN_ONE_GRAB = 2;
/** A product misplaced on a plate (for a pick) or carried (for a put) is considered up to this many units at once. */
const MAX_UNITS_CONSIDERED = 3;
/** A hypothesis further than this many sigmas from the measured change is not considered. */
const MAX_WEIGHT_SIGMAS = 5;

/** What an event's products are weighed with besides the shelf's own list. */
export interface WhatContext {
  deltaGrams: number;
  sigmaGrams: number;
  /** Products the event's lanes are planned for. */
  planned: ReadonlySet<string>;
  /**
   * Picks: units of each product fusion saw put on the event's plates by mistake, as expected units
   * (a put in review adds each product it may have been by its probability).
   */
  misplaced: ReadonlyMap<string, number>;
  /** Picks: the misplaced products put on the event's lanes since their last pick (lying at the front). */
  front: ReadonlySet<string>;
  /** Puts: units of each product the people near the shelf may hold, the most any one of them holds. */
  carried: ReadonlyMap<string, number>;
  /**
   * Units in play that the shelf weighed before, per product: for a put, units the people near the
   * shelf hold, as their picks weighed them; for a pick, units lying misplaced on the event's
   * plates, as their puts weighed them (see weightLikelihood).
   */
  measured?: ReadonlyMap<string, readonly MeasuredUnit[]>;
  product(productId: string): { unitWeightGrams: number; weightSpreadGrams: number } | undefined;
}

/** One unit's weight as a shelf event measured it, grams, with that event's standard deviation. */
export interface MeasuredUnit {
  grams: number;
  sigmaGrams: number;
}

/**
 * A product and quantity that may have moved, with what else moved in the same grab: a pick of a
 * lane's own product together with a unit known to lie misplaced on its plate (one hand takes the
 * front item and the one behind it). Fusion's own: the shelf lists one product per hypothesis.
 */
export interface WhatOption extends ProductHypothesis {
  alongside?: { productId: string; quantity: number };
}

/** Every product and quantity a what option moved, the lead first. */
export function movedBy(option: Pick<WhatOption, 'productId' | 'quantity' | 'alongside'>): Array<{ productId: string; quantity: number }> {
  return [{ productId: option.productId, quantity: option.quantity }, ...(option.alongside ? [option.alongside] : [])];
}

/**
 * How well the units moved explain the change: a Gaussian in grams, or 0 beyond MAX_WEIGHT_SIGMAS (or
 * for a product not known). One unit of a product whose units in play were weighed before (a put-back
 * of something picked, a pick of something put on the wrong lane) is weighed against each of those
 * units alike, as what that earlier weighing says the unit weighs (unitGiven): a unit's own deviation
 * from its product's weight stays with it, so weighed against the nominal weight and spread again it
 * would count as fresh evidence each time the unit moves, and tip a reading between two products
 * within the scale's noise of each other further towards the wrong one at every move. Units in play
 * not weighed before (a cart's word, several taken at once) keep the nominal weight. A pick of a
 * product its lanes are planned for is of the lane's stock as much as of a misplaced unit: nominal.
 */
function weightLikelihood(context: WhatContext, moved: ReadonlyArray<{ productId: string; quantity: number }>, kind: 'pick' | 'put'): number {
  const [only] = moved;
  const measured = moved.length === 1 && only.quantity === 1 && !(kind === 'pick' && context.planned.has(only.productId)) ? context.measured?.get(only.productId) : undefined;
  const product = context.product(only.productId);
  if (!measured?.length || !product) return nominalLikelihood(context, moved);
  const inPlay = Math.max(measured.length, Math.ceil((kind === 'put' ? context.carried : context.misplaced).get(only.productId) ?? 0));
  const known = measured.reduce((sum, unit) => {
    const given = unitGiven(product, unit);
    return sum + gaussian(Math.abs(context.deltaGrams) - given.grams, Math.sqrt(context.sigmaGrams ** 2 + WEIGHT_MODEL_GRAMS ** 2 + given.variance));
  }, 0);
  return (known + (inPlay - measured.length) * nominalLikelihood(context, moved)) / inPlay;
}

/**
 * The share of a change that a put and a pick by two shoppers at once explain, against the best
 * option alone: `putAndPickAtOnce` times what the weight says of every reading (a Gaussian in grams
 * as for the options, the products' spreads and WEIGHT_MODEL_GRAMS with the change's sigma), against
 * what it says of the units the best option moved. 0 without readings or without a weight context.
 */
export function nettedShare(
  params: Pick<AttributionParams, 'putAndPickAtOnce'>,
  context: WhatContext | undefined,
  kind: 'pick' | 'put',
  best: Pick<JointOption, 'productId' | 'quantity' | 'partner' | 'alongside'>,
  readings: ReadonlyArray<Pick<NettedReading, 'predictedGrams' | 'sigmaGrams'>>,
): number {
  if (!context || readings.length === 0 || params.putAndPickAtOnce <= 0) return 0;
  const netted = params.putAndPickAtOnce * readings.reduce((sum, r) => sum + readingFit(context.deltaGrams, r), 0);
  if (netted <= 0) return 0;
  const alone = weightLikelihood(context, movedBy({ ...best, quantity: unitsOf(best) }), kind);
  return netted / (netted + alone);
}

/** What the weight says of a netted reading: the Gaussian density of the change at its prediction, its sigma with WEIGHT_MODEL_GRAMS. */
export function readingFit(deltaGrams: number, reading: Pick<NettedReading, 'predictedGrams' | 'sigmaGrams'>): number {
  return gaussianDensity(deltaGrams - reading.predictedGrams, Math.sqrt(reading.sigmaGrams ** 2 + WEIGHT_MODEL_GRAMS ** 2));
}

/**
 * What a unit of a product weighs, given one weighing of it: its product's weight and spread as the
 * prior, the weighing (with WEIGHT_MODEL_GRAMS) as the measurement. Mean and variance, grams.
 */
function unitGiven(product: { unitWeightGrams: number; weightSpreadGrams: number }, unit: MeasuredUnit): { grams: number; variance: number } {
  const spread = product.weightSpreadGrams ** 2;
  if (spread <= 0) return { grams: product.unitWeightGrams, variance: 0 };
  const measurement = unit.sigmaGrams ** 2 + WEIGHT_MODEL_GRAMS ** 2;
  const variance = 1 / (1 / spread + 1 / measurement);
  return { grams: variance * (product.unitWeightGrams / spread + unit.grams / measurement), variance };
}

/** A zero-mean Gaussian density at `x`, or 0 beyond MAX_WEIGHT_SIGMAS. */
function gaussian(x: number, sigma: number): number {
  return Math.abs(x / sigma) > MAX_WEIGHT_SIGMAS ? 0 : gaussianDensity(x, sigma);
}

/** A zero-mean Gaussian density at `x` (less its constant 1 / sqrt(2 pi)), however far out. */
function gaussianDensity(x: number, sigma: number): number {
  const z = x / sigma;
  return Math.exp(-0.5 * z * z) / sigma;
}

/** How well the units moved explain the change by their products' weights and spreads. */
function nominalLikelihood(context: WhatContext, moved: ReadonlyArray<{ productId: string; quantity: number }>): number {
  let grams = 0;
  let spreadVariance = 0;
  for (const { productId, quantity } of moved) {
    const product = context.product(productId);
    if (!product) return 0;
    grams += quantity * product.unitWeightGrams;
    spreadVariance += quantity * product.weightSpreadGrams ** 2;
  }
  return gaussian(Math.abs(context.deltaGrams) - grams, Math.sqrt(context.sigmaGrams ** 2 + spreadVariance + WEIGHT_MODEL_GRAMS ** 2));
}

/**
 * What moved: the shelf's hypotheses and what fusion knows besides (products misplaced on the plates
 * for a pick, products the people near carry for a put), each weighed by its weight fit and its
 * prior (see WhatContext and AttributionParams). A pick may also have taken one unit of a lane's own
 * product and one misplaced unit together (`alongside`), weighed by their weights summed and the
 * misplaced unit's prior. Falls back to the shelf's list when nothing fits.
 */
export function whatHypotheses(params: AttributionParams, kind: 'pick' | 'put', shelf: readonly ProductHypothesis[], context: WhatContext): WhatOption[] {
  const options = new Map<string, Omit<WhatOption, 'probability'>>();
  for (const h of shelf) options.set(`${h.productId}x${h.quantity}`, h);
  const known = kind === 'pick' ? context.misplaced : context.carried;
  for (const [productId, units] of known)
    for (let quantity = 1; quantity <= Math.min(Math.ceil(units), MAX_UNITS_CONSIDERED); quantity++) options.set(`${productId}x${quantity}`, { productId, quantity });
  if (kind === 'pick')
    for (const planned of context.planned)
      for (const [productId, units] of context.misplaced)
        if (productId !== planned && units > 0) options.set(`${planned}x1+${productId}x1`, { productId: planned, quantity: 1, alongside: { productId, quantity: 1 } });
  const weighed: WhatOption[] = [];
  for (const option of options.values()) {
    const likelihood = weightLikelihood(context, movedBy(option), kind);
    if (likelihood === 0) continue;
    // The lane's own unit of a grab with a misplaced one has prior 1: the pair is as likely as its misplaced unit.
    const prior = option.alongside ? whatPrior(params, kind, context, option.alongside.productId, 1) : whatPrior(params, kind, context, option.productId, option.quantity);
    weighed.push({ ...option, probability: prior * likelihood });
  }
  const total = weighed.reduce((sum, h) => sum + h.probability, 0);
  if (total <= 0) return [...shelf];
  return weighed.map((h) => ({ ...h, probability: h.probability / total })).sort((a, b) => b.probability - a.probability);
}

function whatPrior(params: AttributionParams, kind: 'pick' | 'put', context: WhatContext, productId: string, quantity: number): number {
  if (context.planned.has(productId)) return 1;
  if (kind === 'put') return unitsShare(context.carried.get(productId) ?? 0, quantity) > 0 ? params.wrongLanePut : params.shelfOnlyPrior;
  // A misplaced unit known only in part (a put in review) is there with that probability.
  const there = unitsShare(context.misplaced.get(productId) ?? 0, quantity);
  const prior = context.front.has(productId) ? params.misplacedFrontPrior : params.misplacedPrior;
  return there * prior + (1 - there) * params.shelfOnlyPrior;
}

export interface PersonScoreInput {
  evidence: Pick<HandEvidence, 'contactM' | 'nearestM' | 'inLaneS' | 'timingS' | 'seen' | 'profile' | 'cameInAfter'> & { movedM?: number; reused?: boolean };
}

export function personScore(params: AttributionParams, evidence: PersonScoreInput['evidence'], kind: 'pick' | 'put'): number {
  const weights = kind === 'pick' ? params.pickProfilePerM : params.putProfilePerM;
  let profile = 0;
  for (let i = 0; i < weights.length; i++) profile -= weights[i] * (evidence.profile[i] ?? 0);
  return (
    profile +
    (evidence.reused ? params.reusedReach : 0) -
    (kind === 'pick' && evidence.cameInAfter ? params.cameInAfterPick : 0) +
    -params.contactPerM * Math.min(FAR_M, evidence.contactM) -
    params.nearestPerM * Math.min(FAR_M, evidence.nearestM) +
    params.inLanePerS * Math.min(IN_LANE_CAP_S, evidence.inLaneS) +
    params.movedPerM * Math.min(MOVED_CAP_M, evidence.movedM ?? 0) -
    params.timingPerS * evidence.timingS +
    params.seen * evidence.seen
  );
}

/** P(person) for each person, and P(unseen) last, by softmax of the scores. */
export function whoProbabilities(
  params: AttributionParams,
  evidence: ReadonlyArray<PersonScoreInput['evidence']>,
  kind: 'pick' | 'put',
): { people: number[]; unseen: number } {
  const scores = [...evidence.map((e) => personScore(params, e, kind)), params.unseen];
  const top = Math.max(...scores);
  const weights = scores.map((s) => Math.exp(s - top));
  const total = weights.reduce((sum, w) => sum + w, 0);
  return { people: weights.slice(0, -1).map((w) => w / total), unseen: weights.at(-1)! / total };
}

/** One who of the joint: a visit (or an unbound track, or nobody seen) with its probability. */
export interface Who {
  /** Visit id; null for a track bound to no visit; undefined for "someone unseen". */
  visitId: string | null | undefined;
  /** The track that carries most of its probability (unbound: the track itself). */
  trackId?: string;
  probability: number;
  /** Staff restock: what they put is not theirs to carry. */
  staff: boolean;
  /**
   * Units of each product this visit holds (picks less puts), when known: whole units it was charged
   * for, plus expected units of picks still in review (each option's share), so a fraction is a
   * chance of holding one.
   */
  holds?: ReadonlyMap<string, number>;
  /**
   * The products of the latest pick by `trackId`'s hand (the visit's latest when that track took
   * nothing yet; several when that pick is in review), when known.
   */
  latestPicked?: ReadonlySet<string>;
  /**
   * How far `trackId`'s hand moved around the change, read from its own lift (HandEvidence.liftMovedM;
   * movedM in evidence from before it was read), when known.
   */
  liftMovedM?: number;
}

/**
 * The whos of an event, from each person's P: a visit's tracks summed (a group's members count for
 * the payer) and carried by its likeliest track, each track bound to no visit on its own, and the
 * unseen option last. `visitOf` says, once per visit, whether it is staff and what it holds.
 */
export function whosOf(
  evidence: ReadonlyArray<{ trackId: string; visitId: string | null; movedM?: number; liftMovedM?: number }>,
  who: { people: number[]; unseen: number },
  visitOf: (visitId: string) => Pick<Who, 'staff' | 'holds' | 'latestPicked'>,
): Who[] {
  const byVisit = new Map<string, Who & { best: number }>();
  const unbound: Who[] = [];
  evidence.forEach((e, i) => {
    const probability = who.people[i];
    if (e.visitId === null) {
      unbound.push({ visitId: null, trackId: e.trackId, probability, staff: false, ...movedOf(e) });
      return;
    }
    const entry = byVisit.get(e.visitId);
    if (!entry) {
      byVisit.set(e.visitId, { visitId: e.visitId, trackId: e.trackId, probability, best: probability, ...visitOf(e.visitId), ...movedOf(e) });
      return;
    }
    entry.probability += probability;
    if (probability > entry.best) {
      entry.best = probability;
      entry.trackId = e.trackId;
      entry.liftMovedM = movedOf(e).liftMovedM;
    }
  });
  const visits = [...byVisit.values()].map(({ best: _best, ...who }) => who);
  return [...unbound, ...visits, { visitId: undefined, probability: who.unseen, staff: false }];
}

const movedOf = (e: { movedM?: number; liftMovedM?: number }): Pick<Who, 'liftMovedM'> => {
  const liftMovedM = e.liftMovedM ?? e.movedM;
  return liftMovedM === undefined ? {} : { liftMovedM };
};

/** `stillPartner` for a pair's shopper whose hand hardly moved, 1 otherwise. */
const stillFactor = (params: AttributionParams, who: Who) => (who.liftMovedM !== undefined && who.liftMovedM < PAIR_STILL_M ? params.stillPartner : 1);

export interface JointOption {
  who: Who;
  productId: string;
  /** The units `who` moved (all of them, unless a partner moved the rest). */
  quantity: number;
  /** Another product `who` took in the same grab (WhatOption.alongside). */
  alongside?: { productId: string; quantity: number };
  /** Two shoppers at once: the other who and the units they moved (the change is quantity + partner.quantity). */
  partner?: { who: Who; quantity: number };
  /** The event's own probability of this product and quantity (normalised over its hypotheses). */
  hypothesis: number;
  /** Whether the visit may hold enough of it (puts by shoppers only; true otherwise). */
  carried: boolean;
  probability: number;
}

/**
 * Every (who, product, quantity) with its probability, most likely first. Hypotheses are normalised
 * to sum to one; a put weighs in what each who holds. A change of several units may also have been
 * two people's at once: each pair of people seen there shares the units every way, weighed as
 * `twoAtOnce` says (spread over the ways of sharing) and by how long the weight took to change,
 * `changeMs` (from a quarter to three quarters of it) for a pick, when known.
 */
export function jointOptions(params: AttributionParams, kind: 'pick' | 'put', whos: readonly Who[], hypotheses: readonly WhatOption[], changeMs?: number): JointOption[] {
  const timing = kind !== 'pick' || changeMs === undefined ? 1 : changeMs <= QUICK_CHANGE_MS ? params.quickPair : params.slowPair;
  const hypothesisTotal = hypotheses.reduce((sum, h) => sum + h.probability, 0);
  const seen = whos.filter((who) => who.visitId !== undefined);
  // P(unseen), kept away from 0: a second hand's odds against it are what a pair is weighed by.
  const unseen = Math.max(MIN_UNSEEN, whos.find((who) => who.visitId === undefined)?.probability ?? 1);
  const options: JointOption[] = [];
  for (const h of hypotheses) {
    const hypothesis = hypothesisTotal > 0 ? h.probability / hypothesisTotal : 1 / hypotheses.length;
    for (const who of whos) {
      const carry = carryOf(params, kind, who, h.productId, h.quantity);
      const alongside = h.alongside ? { alongside: h.alongside } : {};
      options.push({ who, productId: h.productId, quantity: h.quantity, ...alongside, hypothesis, carried: carry.carried, probability: who.probability * hypothesis * carry.factor });
    }
    if (h.quantity < 2 || h.alongside || params.twoAtOnce <= 0) continue;
    for (let a = 0; a < seen.length; a++)
      for (let b = a + 1; b < seen.length; b++)
        for (let units = 1; units < h.quantity; units++) {
          const first = carryOf(params, kind, seen[a], h.productId, units);
          const second = carryOf(params, kind, seen[b], h.productId, h.quantity - units);
          const pair = ((params.twoAtOnce * timing) / (h.quantity - 1)) * seen[a].probability * (seen[b].probability / unseen) * stillFactor(params, seen[a]) * stillFactor(params, seen[b]);
          const probability = pair * hypothesis * first.factor * second.factor;
          options.push({
            who: seen[a],
            productId: h.productId,
            quantity: units,
            partner: { who: seen[b], quantity: h.quantity - units },
            hypothesis,
            carried: first.carried && second.carried,
            probability,
          });
        }
  }
  const total = options.reduce((sum, o) => sum + o.probability, 0);
  for (const option of options) option.probability = total > 0 ? option.probability / total : 0;
  return options.sort((a, b) => b.probability - a.probability);
}

/** How long a change's weight took to change, from a quarter to three quarters of it (ShelfEventDetected.transitionMs), ms; undefined when not timed. */
export function changeMsOf(event: Pick<ShelfEventDetected, 'transitionMs'>): number | undefined {
  return event.transitionMs ? event.transitionMs[1] - event.transitionMs[0] : undefined;
}

/** Each who of an option with the units it moved: one, or two for two people at once. */
export function sharesOf(option: Pick<JointOption, 'who' | 'quantity' | 'partner'>): Array<{ who: Who; quantity: number }> {
  return option.partner ? [{ who: option.who, quantity: option.quantity }, option.partner] : [{ who: option.who, quantity: option.quantity }];
}

/** All the units an option moved, whoever moved them. */
export function unitsOf(option: Pick<JointOption, 'quantity' | 'partner'>): number {
  return option.quantity + (option.partner?.quantity ?? 0);
}

/**
 * How the people at a change weigh an item of it, each as likely as they are to have made it: what
 * a whole explanation of a change of several items is weighed with by fusion (see carryOf).
 */
export function expectedCarry(params: AttributionParams, kind: 'pick' | 'put', whos: readonly Who[], productId: string, quantity: number): number {
  return whos.reduce((sum, who) => sum + who.probability * carryOf(params, kind, who, productId, quantity).factor, 0);
}

/**
 * How a who's hand and holdings weigh a change of `quantity` units: more than UNITS_IN_ONE_GRAB by
 * anyone but staff `manyUnitsAtOnce`; and what it holds (carriedBy).
 */
function carryOf(params: AttributionParams, kind: 'pick' | 'put', who: Who, productId: string, quantity: number): { factor: number; carried: boolean } {
  const held = carriedBy(params, kind, who, productId, quantity);
  return who.staff || quantity <= UNITS_IN_ONE_GRAB ? held : { ...held, factor: held.factor * params.manyUnitsAtOnce };
}

/**
 * How a who's holdings weigh a change of `quantity` units: picks and staff 1; a put by the unseen
 * `unseenCarry`; a shopper's put by how likely it holds the units (1 for whole units charged, a pick
 * in review's share for its options) and whether it took them last, else `uncarriedPut`.
 */
function carriedBy(params: AttributionParams, kind: 'pick' | 'put', who: Who, productId: string, quantity: number): { factor: number; carried: boolean } {
  if (kind === 'pick' || who.staff) return { factor: 1, carried: true };
  const share = holdShare(who, productId, quantity);
  if (who.visitId === undefined) return { factor: params.unseenCarry, carried: share > 0 };
  return { factor: share * recency(params, who, productId) + (1 - share) * params.uncarriedPut, carried: share > 0 };
}

/** The chance that a who holds `quantity` units of a product (staff restock anything): what a put by it is weighed with. */
export function holdShare(who: Pick<Who, 'staff' | 'holds'>, productId: string, quantity: number): number {
  return who.staff ? 1 : unitsShare(who.holds?.get(productId) ?? 0, quantity);
}

/**
 * The chance that `units` expected units (whole ones plus shares of doubtful ones: what a visit may
 * hold, what may lie misplaced) include `quantity` of them: 1 from quantity on, 0 at quantity - 1 or less.
 */
function unitsShare(units: number, quantity: number): number {
  return Math.min(1, Math.max(0, units - (quantity - 1)));
}

/** A put of a carried product: 1 for what the visit took last (or when that is not known), less for what lies in its basket. */
function recency(params: AttributionParams, who: Who, productId: string): number {
  const latest = who.latestPicked;
  if (!latest || latest.size === 0 || latest.has(productId)) return 1;
  // Only a product still held can be the one in the hand.
  return [...latest].some((id) => (who.holds?.get(id) ?? 0) > 0) ? params.earlierCarriedPut : 1;
}

/** What the calibration knows of a decision besides its joint probability. */
export interface Situation {
  /** The product is not what the event's lanes are planned for, or a misplaced one came with it. */
  unplanned: boolean;
  /** More than one unit by one person. */
  several: boolean;
  put: boolean;
  /** Two shoppers at once, each with their share. */
  pair: boolean;
}

/** The situation of a decision: its event and best option, against the planogram. */
export function situationOf(
  index: Pick<StoreIndex, 'placementByLane'>,
  event: Pick<ShelfEventDetected, 'laneIds' | 'kind'>,
  best: Pick<JointOption, 'productId' | 'quantity' | 'who' | 'partner' | 'alongside'>,
): Situation {
  // A restock by staff: the doubts the situations stand for (what a shopper carries, two shoppers'
  // picks in one change, a misplaced item) are about carts, and staff have none; several units at
  // once onto a lane's own product is what restocking is.
  if (best.who.staff) return { unplanned: false, several: false, put: false, pair: false };
  return {
    unplanned: best.alongside !== undefined || !event.laneIds.some((laneId) => index.placementByLane.get(laneId)?.productId === best.productId),
    several: sharesOf(best).some((share) => share.quantity > 1),
    put: event.kind === 'put',
    pair: best.partner !== undefined,
  };
}

export function calibrate(params: AttributionParams, probability: number, situation: Situation): number {
  const p = Math.min(1 - EPS, Math.max(EPS, probability));
  const z =
    params.calibrationSlope * Math.log(p / (1 - p)) +
    params.calibrationIntercept +
    (situation.unplanned ? params.calibrationUnplanned : 0) +
    (situation.several ? params.calibrationSeveral : 0) +
    (situation.put ? params.calibrationPut : 0) +
    (situation.put && situation.unplanned ? params.calibrationUnplannedPut : 0) +
    (situation.pair ? params.calibrationPair : 0);
  return 1 / (1 + Math.exp(-z));
}
