import type { Product } from '../contracts/index.ts';
import { chiSquareUpperTail } from './chi-square.stats.ts';
import type { ShelfInventory } from './inventory.model.ts';

/**
 * Explains a change of weight on a shelf's plates as units moved on lanes: which lanes, which
 * products, how many, and how likely each explanation is. One explanation is a small set of items
 * (one, or two when two hands worked at once; three or more on several plates, read plate by plate,
 * see explainPlatesApart); each item is a signed quantity of one product on one lane, whose weight
 * the lane's plates share by the lane's plate shares.
 *
 * Score = prior (what the lane holds, what this shelf gave out lately, how many units one hand grabs,
 * how rare two simultaneous items are) + Gaussian likelihood of the per-plate changes.
 *
 * An explanation must also fit on its own: its residuals, against the plates' measured noise, the
 * model error and the products' weight spread, must not be worse than the truth would give but once in
 * 1 / FIT_REJECT_P (a chi-square test). A change that no explanation fits is unexplained, however
 * much likelier one of them is than the others: 4 g is not a 24 g item.
 *
 * Only this shelf's own state is used: what a shopper carries from other shelves is the carts' to know.
 * So a put of something from elsewhere in the store weighs every product alike, and the event lists
 * every product its weight allows, for fusion to settle with the shopper's cart.
 */

/** Unmodelled error on a plate's change, grams (residual ringing, drift during the event). */
export const MODEL_GRAMS = 1.0;
/**
 * How rarely the true explanation fits as badly as a rejected one (chi-square upper tail): the share of
 * true picks and puts that the test turns into unexplained changes.
 */
export const FIT_REJECT_P = 1e-4;
/** How far the real split of an item across two plates may stray from the lane geometry. */
export const SHARE_SD = 0.02;
export const MAX_QUANTITY = 6;
/**
 * A plate changed when its net change exceeds this many of its uncertainties: the plate's measured
 * noise over the windows averaged, and the model's error (MODEL_GRAMS: ringing, drift during the event).
 */
export const CHANGE_SIGMAS = 5;

/** Whether a plate's net change is a change at all (see CHANGE_SIGMAS), not noise. */
export function plateChanged(change: PlateChange): boolean {
  return Number.isFinite(change.deltaGrams) && Math.abs(change.deltaGrams) > CHANGE_SIGMAS * Math.hypot(change.sigmaGrams, MODEL_GRAMS);
}
/** log P(quantity) for a hand grabbing 1, 2, 3, ... units at once. */
const QUANTITY_LOG_PRIOR = [0, 0, Math.log(0.3), Math.log(0.1), Math.log(0.03), Math.log(0.01), Math.log(0.003)];
/** Two items at once on one shelf, against one. */
const PAIR_LOG_PRIOR = Math.log(0.03);
/** Of the puts of units this shelf gave out, this share go to another product's lane of the shelf. */
const FOREIGN_PUT_SHARE = 0.3;
/** Puts of the lane's own product that this shelf did not give out (a restock, a unit from another shelf, a missed pick). */
const UNSEEN_OWN_PUT_SHARE = 0.02;
/**
 * Puts of a unit this shelf did not give out, of any other product (from elsewhere in the store; which
 * one, the shopper's cart knows): together as likely as an unseen unit of the lane's own product.
 */
const ELSEWHERE_PUT_SHARE = UNSEEN_OWN_PUT_SHARE;
/** Puts of the lane's own product while staff are restocking it (see ShelfInventory.restocking). */
const RESTOCKING_PUT_SHARE = 0.5;
/** A pick of a misplaced item, against the lane's own product. */
const MISPLACED_PICK_LOG_PRIOR = Math.log(0.5);
/** A pick hidden under a heavier put on plates it shares (two hands at once, the put outweighing the pick), against a pick seen as one. */
const HIDDEN_PICK_LOG_PRIOR = Math.log(0.03);
/**
 * An item the other hand's item outweighs on the lane's plates (a put on a lane that went down, a
 * pick on one that went up) is tried only beside an item at least this many times as heavy.
 */
const HIDDEN_WEIGHT_RATIO = 2;
/** A lane the inventory believes cannot give this many. */
const SHORT_STOCK_LOG_PRIOR = Math.log(0.02);
/**
 * A hand resting on a plate (not pressing: its wrist's weight, a few fingers) while another hand
 * takes or puts on another plate of the shelf: the resting plate goes up by some grams no product
 * weighs. Its weight is taken as anything from LEAN_MIN_GRAMS to LEAN_MAX_GRAMS alike (a uniform
 * spread, given to the Gaussian fit as its mean and variance), and a lean beside an item is as rare,
 * against a second item beside it, as LEAN_LOG_PRIOR says: rare enough that half of a light unit
 * from elsewhere put on a lane across two plates is not taken for a hand (see the shelf's doc).
 */
export const LEAN_MIN_GRAMS = 10;
export const LEAN_MAX_GRAMS = 100;
const LEAN_LOG_PRIOR = Math.log(0.03);

export interface PlateChange {
  /** Change of the plate's reading, grams; NaN when the plate cannot be read. */
  deltaGrams: number;
  sigmaGrams: number;
}

export interface LaneGeometry {
  laneId: string;
  /** Share of the lane's weight each plate of the shelf carries, in shelf plate order. */
  shares: Float64Array;
}

export interface Item {
  lane: number;
  laneId: string;
  /** Where the inventory keeps the unit taken (a twin lane, for a misplaced item); laneId otherwise. */
  stockLaneId: string;
  productId: string;
  quantity: number;
  /** -1 for a pick, +1 for a put. */
  sign: -1 | 1;
  meanGrams: number;
  varGrams: number;
  logPrior: number;
  /**
   * Which pairs it may join: 'any' (the lane's own product, a misplaced item), 'ordinary' (only with an
   * 'any' item: puts of other products this shelf gave out, too many to pair among themselves), 'never'
   * (puts of units from elsewhere in the store: alone, or with a pick).
   */
  pairing: 'any' | 'ordinary' | 'never';
  /**
   * False for an item only the other hand of a pair can be (see HIDDEN_WEIGHT_RATIO): a put on a
   * lane whose plates went down, a pick on a lane whose plates went up.
   */
  alone: boolean;
  /** A hand resting on this plate (an index into the shelf's plates), not a unit: no lane, no product, no stock moved (see LEAN_MIN_GRAMS). */
  leanPlate?: number;
}

/** Whether an item of an explanation is a hand resting on a plate, not a unit moved. */
export function isLean(item: Pick<Item, 'leanPlate'>): boolean {
  return item.leanPlate !== undefined;
}

export interface Explanation {
  items: Item[];
  logScore: number;
  /**
   * Squared residuals over their variances, summed over the plates the fit is judged on: those that
   * changed and those its items' lanes rest on (see explain).
   */
  chi2: number;
  /** Among the explanations that fit (see FIT_REJECT_P). */
  posterior: number;
}

export interface ExplainInput {
  plates: PlateChange[];
  lanes: LaneGeometry[];
  /** Lanes (indexes into lanes) allowed in the explanation. */
  candidateLanes: number[];
  products: Map<string, Product>;
  inventory: ShelfInventory;
  nowMs: number;
}

const KEEP_EXPLANATIONS = 40;

/** The lane itself and the lanes that rest on exactly the same plates with the same shares. */
export function twinLanes(lanes: LaneGeometry[], lane: number): number[] {
  const shares = lanes[lane].shares;
  return lanes.flatMap((other, i) => (i === lane || other.shares.every((s, p) => Math.abs(s - shares[p]) < 1e-9) ? [i] : []));
}

export function candidateItems(input: ExplainInput): Item[] {
  const { lanes, plates, products, inventory, nowMs } = input;
  const items: Item[] = [];
  const given = inventory.givenOut(nowMs);
  let givenTotal = 0;
  for (const count of given.values()) givenTotal += count;
  const elsewhere = Math.log(ELSEWHERE_PUT_SHARE / Math.max(1, products.size));
  const push = (lane: number, productId: string, quantity: number, sign: -1 | 1, logPrior: number, pairing: Item['pairing'] = 'any', from = lane, alone = true) => {
    const product = products.get(productId);
    if (!product) return;
    items.push({
      lane,
      laneId: lanes[lane].laneId,
      stockLaneId: lanes[from].laneId,
      productId,
      quantity,
      sign,
      meanGrams: quantity * product.unitWeightGrams,
      varGrams: quantity * product.weightSpreadGrams ** 2,
      logPrior: logPrior + QUANTITY_LOG_PRIOR[quantity],
      pairing,
      alone,
    });
  };
  // Plates that moved both ways (one hand took, another put back, on plates a lane ties together):
  // a lane's summed direction says nothing then, so every lane is tried both ways.
  const moved = plates.filter(plateChanged);
  const bothWays = moved.some((c) => c.deltaGrams > 0) && moved.some((c) => c.deltaGrams < 0);
  for (const lane of input.candidateLanes) {
    const geometry = lanes[lane];
    // The direction the lane's plates moved, weighted by how much of the lane each carries.
    let projection = 0;
    for (let p = 0; p < plates.length; p++) if (Number.isFinite(plates[p].deltaGrams)) projection += geometry.shares[p] * plates[p].deltaGrams;
    const stock = inventory.lane(geometry.laneId);
    if (projection < 0 || (bothWays && projection !== 0)) {
      if (stock.productId)
        for (let q = 1; q <= MAX_QUANTITY; q++) push(lane, stock.productId, q, -1, q <= stock.stock ? 0 : SHORT_STOCK_LOG_PRIOR);
      // A misplaced item may sit on this lane or on a twin lane (same plates, same shares): weight
      // could not tell them apart when it was put there, so it cannot tell them apart now either.
      for (const twin of twinLanes(lanes, lane))
        for (const [productId, count] of inventory.lane(lanes[twin].laneId).misplaced)
          for (let q = 1; q <= Math.min(count, MAX_QUANTITY); q++) push(lane, productId, q, -1, MISPLACED_PICK_LOG_PRIOR, 'any', twin);
    }
    const own = stock.productId;
    const ownGiven = own ? (given.get(own) ?? 0) : 0;
    const foreignGiven = givenTotal - ownGiven;
    // Where a unit this shelf gave out goes back: its own lane, or (FOREIGN_PUT_SHARE) another lane.
    const ownPutLogPrior = (quantity: number) =>
      Math.log(quantity <= ownGiven ? (foreignGiven > 0 ? 1 - FOREIGN_PUT_SHARE : 1) : inventory.restocking(geometry.laneId, nowMs) ? RESTOCKING_PUT_SHARE : UNSEEN_OWN_PUT_SHARE);
    const foreignPutLogPrior = (count: number) => Math.log((FOREIGN_PUT_SHARE * count) / foreignGiven);
    if (projection > 0 || (bothWays && projection !== 0)) {
      if (own) for (let q = 1; q <= 3; q++) push(lane, own, q, 1, ownPutLogPrior(q));
      for (const [productId, count] of given) {
        if (productId === own) continue;
        for (let q = 1; q <= Math.min(count, 2); q++) push(lane, productId, q, 1, foreignPutLogPrior(count), 'ordinary');
      }
      for (const productId of products.keys())
        if (productId !== own && !given.has(productId)) push(lane, productId, 1, 1, elsewhere, 'never');
      // One hand took a unit of this lane where another put a heavier one down on plates it shares:
      // the lane went up on the whole, so the pick is tried only beside such a put.
      if (!bothWays && stock.productId && stock.stock > 0) push(lane, stock.productId, 1, -1, HIDDEN_PICK_LOG_PRIOR, 'any', lane, false);
    } else if (projection < 0) {
      // One hand put a unit down where another took a heavier one, from this lane or from a lane
      // sharing its plates: the lane went down on the whole, so the put is tried only beside such a
      // pick. Its priors are a plain put's (the lane's own product back where it belongs, or another).
      if (own) push(lane, own, 1, 1, ownPutLogPrior(1), 'never', lane, false);
      for (const productId of products.keys()) {
        if (productId === own) continue;
        const count = given.get(productId);
        push(lane, productId, 1, 1, count ? foreignPutLogPrior(count) : elsewhere, 'never', lane, false);
      }
    }
  }
  return items;
}

/** The chi-square value a fitting explanation stays within, for this many readable plates. */
const fitLimits = new Map<number, number>();
const BISECTION_STEPS = 60;
export function fitLimit(plates: number): number {
  let limit = fitLimits.get(plates);
  if (limit === undefined) {
    // The upper tail falls as chi2 grows: double a bound past the limit, then halve the bracket
    // until it is as tight as a double can hold.
    let low = 0;
    let high = 1;
    while (chiSquareUpperTail(high, plates) > FIT_REJECT_P) high *= 2;
    for (let step = 0; step < BISECTION_STEPS; step++) {
      const middle = (low + high) / 2;
      if (chiSquareUpperTail(middle, plates) > FIT_REJECT_P) low = middle;
      else high = middle;
    }
    limit = high;
    fitLimits.set(plates, limit);
  }
  return limit;
}

/**
 * Scores every explanation of one or two items and keeps the best of those that fit, with posteriors
 * among them. None fitting (or none to try) means the change is unexplained.
 */
export function explain(input: ExplainInput): Explanation[] {
  const { plates, lanes } = input;
  const items = candidateItems(input);
  const used: number[] = [];
  for (let p = 0; p < plates.length; p++) if (Number.isFinite(plates[p].deltaGrams)) used.push(p);
  if (items.length === 0 || used.length === 0) return [];
  // The fit is judged on the plates that changed and on those the explanation moves something on.
  // A plate that did not change and that none of its items rests on says nothing of it: a hand
  // leaning a few grams on the next plate must not make a fitting explanation unexplained. Scores
  // still sum every readable plate, so explanations stay comparable with each other.
  const changed = used.map((p) => plateChanged(plates[p]));
  const judged = new Uint8Array(used.length);

  // The residuals' covariance over the readable plates. A unit's weight, and its spread, fall on its
  // lane's plates in the lane's shares: one heavier unit weighs more on every plate it rests on
  // (rank one along the shares). Where it lies along a lane spanning plates only moves weight between
  // them: the plates' sum stays the unit's weight, so the share error adds nothing to it.
  // A lean's shares: all of it on its own plate (one array a plate, made once a call).
  const leanShareOf = plates.map((_, p) => {
    const shares = new Float64Array(plates.length);
    shares[p] = 1;
    return shares;
  });
  const leanShares = (plate: number) => leanShareOf[plate];
  const n = used.length;
  const mean = new Float64Array(n);
  const cov = new Float64Array(n * n);
  const factor = new Float64Array(n * n);
  const residual = new Float64Array(n);
  const judgedAt: number[] = [];
  const sub = new Float64Array(n * n);
  const subResidual = new Float64Array(n);
  const solved = new Float64Array(n);
  const score = (chosen: Item[]): { logScore: number; chi2: number; judgedPlates: number } => {
    cov.fill(0);
    for (let i = 0; i < n; i++) {
      mean[i] = 0;
      cov[i * n + i] = plates[used[i]].sigmaGrams ** 2 + MODEL_GRAMS ** 2;
      judged[i] = changed[i] ? 1 : 0;
    }
    let logPrior = chosen.length > 1 ? PAIR_LOG_PRIOR : 0;
    for (const item of chosen) {
      logPrior += item.logPrior;
      const shares = item.leanPlate === undefined ? lanes[item.lane].shares : leanShares(item.leanPlate);
      let spans = 0;
      for (let i = 0; i < n; i++) {
        const share = shares[used[i]];
        if (share === 0) continue;
        spans++;
        judged[i] = 1;
        mean[i] += item.sign * item.meanGrams * share;
        for (let j = 0; j < n; j++) cov[i * n + j] += item.varGrams * share * shares[used[j]];
      }
      if (spans > 1) {
        // Independent shifts of each plate's share, less their mean: (I - 11'/k) scaled so that each
        // plate keeps a share error of SHARE_SD.
        const shift = ((SHARE_SD * item.meanGrams) ** 2 * spans) / (spans - 1);
        for (let i = 0; i < n; i++) {
          if (shares[used[i]] === 0) continue;
          for (let j = 0; j < n; j++) if (shares[used[j]] > 0) cov[i * n + j] += shift * ((i === j ? 1 : 0) - 1 / spans);
        }
      }
    }
    for (let i = 0; i < n; i++) residual[i] = plates[used[i]].deltaGrams - mean[i];
    const all = gaussianTerms(residual, cov, n, factor, solved);
    judgedAt.length = 0;
    for (let i = 0; i < n; i++) if (judged[i]) judgedAt.push(i);
    let chi2 = all.chi2;
    if (judgedAt.length < n) {
      // The judged plates' own fit: their marginal covariance.
      const m = judgedAt.length;
      for (let a = 0; a < m; a++) {
        subResidual[a] = residual[judgedAt[a]];
        for (let b = 0; b < m; b++) sub[a * m + b] = cov[judgedAt[a] * n + judgedAt[b]];
      }
      chi2 = m === 0 ? 0 : gaussianTerms(subResidual, sub, m, factor, solved).chi2;
    }
    return { logScore: logPrior - 0.5 * (all.chi2 + all.logDet), chi2, judgedPlates: judgedAt.length };
  };

  const found: Explanation[] = [];
  let worstKept = -Infinity;
  const consider = (chosen: Item[]) => {
    const { logScore, chi2, judgedPlates } = score(chosen);
    if (chi2 > fitLimit(Math.max(1, judgedPlates))) return;
    if (found.length >= KEEP_EXPLANATIONS && logScore <= worstKept) return;
    found.push({ items: chosen, logScore, chi2, posterior: 0 });
    if (found.length > KEEP_EXPLANATIONS * 2) {
      found.sort((a, b) => b.logScore - a.logScore);
      found.length = KEEP_EXPLANATIONS;
      worstKept = found[found.length - 1].logScore;
    }
  };
  for (const item of items) if (item.alone) consider([item]);
  // Two hands at once: on two lanes, or two different products from one lane. A put of a unit from
  // elsewhere in the store pairs only with a pick (one hand put back what it brought while another
  // took): picks are tried only when some plate went down, so this stays a small set.
  const ordinary = items.filter((i) => i.pairing === 'any');
  const others = items.filter((i) => i.pairing === 'ordinary');
  const fromElsewhere = items.filter((i) => i.pairing === 'never');
  const compatible = (a: Item, b: Item) => a.lane !== b.lane || a.productId !== b.productId;
  const sharePlate = (a: Item, b: Item) => lanes[a.lane].shares.some((share, p) => share > 0 && lanes[b.lane].shares[p] > 0);
  // An item tried only beside another (see Item.alone): a light put beside a pick at least twice as
  // heavy on its lane or a lane sharing a plate; a light pick beside a put at least twice as heavy
  // of a lane's own product on a lane sharing a plate (a put of another product could be any of
  // many, and would explain a put of one unit as a pick and a put a hundred ways).
  const beside = (hidden: Item, other: Item) =>
    other.sign === -hidden.sign &&
    (hidden.sign > 0 ? other.quantity === 1 : other.pairing === 'any') &&
    other.meanGrams >= HIDDEN_WEIGHT_RATIO * hidden.meanGrams &&
    sharePlate(hidden, other);
  const pairable = (a: Item, b: Item) => compatible(a, b) && (a.alone || beside(a, b)) && (b.alone || beside(b, a));
  for (let a = 0; a < ordinary.length; a++) {
    for (let b = a + 1; b < ordinary.length; b++) if (pairable(ordinary[a], ordinary[b])) consider([ordinary[a], ordinary[b]]);
    for (const other of others) if (pairable(ordinary[a], other)) consider([ordinary[a], other]);
    if (ordinary[a].sign < 0) for (const put of fromElsewhere) if (pairable(ordinary[a], put)) consider([ordinary[a], put]);
  }

  // A hand resting on a plate that went up by what a hand may weigh, beside one item on other plates.
  for (const lean of leanItems(plates)) for (const item of items) if (item.alone && lanes[item.lane].shares[lean.leanPlate!] === 0) consider([item, lean]);

  if (found.length === 0) return [];
  found.sort((a, b) => b.logScore - a.logScore);
  found.length = Math.min(found.length, KEEP_EXPLANATIONS);
  return withPosteriors(found);
}

/**
 * A change of several plates read plate by plate: each changed plate's change by the lanes resting on
 * that plate alone (one or two items each, as `explain` reads any change), the readings joined across
 * plates. Three items or more at once (one hand's grab of two products beside another hand's pick on
 * the next plate) are read so; `explain` tries one or two. Each joined reading is scored as `explain`
 * would score it over all the readable plates: its plates' scores summed (items on lanes of one plate
 * each leave the plates independent), the unchanged plates' own terms (nothing moved there), and one
 * PAIR_LOG_PRIOR for each item beyond the first that a plate's own score did not already count. So
 * the readings compete with `explain`'s by score. Nothing when a changed plate has no such reading (a
 * lane tying the plates moved, or a hand rests there). Posteriors are among these readings only.
 */
export function explainPlatesApart(input: ExplainInput, changedPlates: readonly number[]): Explanation[] {
  const { plates, lanes } = input;
  let unchanged = 0;
  for (let p = 0; p < plates.length; p++) {
    const change = plates[p];
    if (!Number.isFinite(change.deltaGrams) || changedPlates.includes(p)) continue;
    const variance = change.sigmaGrams ** 2 + MODEL_GRAMS ** 2;
    unchanged -= 0.5 * (change.deltaGrams ** 2 / variance + Math.log(variance));
  }
  let joined: Explanation[] = [{ items: [], logScore: unchanged + (changedPlates.length - 1) * PAIR_LOG_PRIOR, chi2: 0, posterior: 0 }];
  for (const p of changedPlates) {
    const candidateLanes = input.candidateLanes.filter((lane) => lanes[lane].shares[p] > 0 && lanes[lane].shares.every((share, q) => q === p || share === 0));
    const found = explain({ ...input, plates: onPlate(plates, p), candidateLanes });
    if (found.length === 0) return [];
    joined = joined
      .flatMap((a) => found.map((b) => ({ items: [...a.items, ...b.items], logScore: a.logScore + b.logScore, chi2: a.chi2 + b.chi2, posterior: 0 })))
      .sort((a, b) => b.logScore - a.logScore)
      .slice(0, KEEP_EXPLANATIONS);
  }
  return withPosteriors(joined);
}

/**
 * `explain`'s readings of a change of several plates together with the plate-by-plate ones of three
 * items or more (explainPlatesApart; those of two, `explain` has already scored), likeliest first,
 * posteriors among them all. Where `explain` found nothing, the plate-by-plate readings alone.
 */
export function explainWithPlatesApart(input: ExplainInput, changedPlates: readonly number[]): Explanation[] {
  const whole = explain(input);
  if (changedPlates.length < 2) return whole;
  const apart = explainPlatesApart(input, changedPlates);
  if (whole.length === 0) return apart;
  const more = apart.filter((e) => e.items.length > 2);
  if (more.length === 0) return whole;
  return withPosteriors([...whole, ...more].sort((a, b) => b.logScore - a.logScore).slice(0, KEEP_EXPLANATIONS));
}

/** One plate's change alone: every other plate unread. */
export function onPlate(changes: readonly PlateChange[], plate: number): PlateChange[] {
  return changes.map((change, p) => (p === plate ? change : { deltaGrams: Number.NaN, sigmaGrams: Number.NaN }));
}

/** Posteriors of readings sorted likeliest first, among them (scores relative to the first). */
function withPosteriors(found: Explanation[]): Explanation[] {
  if (found.length === 0) return found;
  const top = found[0].logScore;
  let total = 0;
  for (const e of found) total += Math.exp(e.logScore - top);
  for (const e of found) e.posterior = Math.exp(e.logScore - top) / total;
  return found;
}

/** The leans a change may hold: one on each plate that went up by what a resting hand weighs. */
function leanItems(plates: readonly PlateChange[]): Item[] {
  const mean = (LEAN_MIN_GRAMS + LEAN_MAX_GRAMS) / 2;
  const variance = (LEAN_MAX_GRAMS - LEAN_MIN_GRAMS) ** 2 / 12;
  return plates.flatMap((change, p) =>
    plateChanged(change) && change.deltaGrams > 0 && change.deltaGrams <= LEAN_MAX_GRAMS
      ? [{ lane: -1, laneId: '', stockLaneId: '', productId: '', quantity: 0, sign: 1 as const, meanGrams: mean, varGrams: variance, logPrior: LEAN_LOG_PRIOR, pairing: 'never' as const, alone: false, leanPlate: p }]
      : [],
  );
}

/**
 * r' C^-1 r and log det C for a symmetric positive definite C (n x n, row-major; r its first n), by
 * Cholesky into `work` (at least n x n), solving into `y` (at least n): buffers the caller reuses.
 */
function gaussianTerms(r: Float64Array, cov: Float64Array, n: number, work: Float64Array, y: Float64Array): { chi2: number; logDet: number } {
  let logDet = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = cov[i * n + j];
      for (let k = 0; k < j; k++) sum -= work[i * n + k] * work[j * n + k];
      if (i === j) {
        const d = Math.sqrt(Math.max(sum, 1e-12));
        work[i * n + i] = d;
        logDet += 2 * Math.log(d);
      } else work[i * n + j] = sum / work[j * n + j];
    }
  }
  // Forward substitution: L y = r; chi2 = |y|^2.
  let chi2 = 0;
  for (let i = 0; i < n; i++) {
    let sum = r[i];
    for (let k = 0; k < i; k++) sum -= work[i * n + k] * y[k];
    y[i] = sum / work[i * n + i];
    chi2 += y[i] * y[i];
  }
  return { chi2, logDet };
}
