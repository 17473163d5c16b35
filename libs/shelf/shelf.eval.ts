import type { ActionTruth, ShelfEventDetected, StoreIndex } from '../contracts/index.ts';
import { BaselineDetector } from './baseline.detector.ts';
import { ShelfPerception, type ShelfEventSource } from './shelf.perception.ts';

/**
 * Scoring shelf events against ground truth. An event matches a true pick or put when it is on the
 * same shelf, of the same kind, lists the true lane among its lanes, and starts within MATCH_WINDOW_MS
 * of it (and, given the products, weighs at least TOO_LIGHT_SHARE of the action's units); each event
 * and each action match at most once (closest in time first). Then:
 * event precision, recall and F1; quantity accuracy and product top-1 accuracy over matched actions;
 * top-1 again over the actions whose product weight can tell it apart from every other product
 * that could have moved there (see separableActions); and how often the true product and quantity
 * is among the event's hypotheses at all (what fusion, which knows the shoppers' carts, can settle).
 */

export const MATCH_WINDOW_MS = 1_000;
/** Two products can be told apart by weight when their weights differ by this many sigmas. */
export const SEPARABLE_SIGMAS = 4;
/** Extra uncertainty of a measured change on top of the products' own spreads, grams. */
export const SEPARABLE_MEASURE_GRAMS = 2;
const MAX_CONFUSABLE_QUANTITY = 6;
/**
 * An event whose change, four of its sigmas added, weighs less than this share of an action's units
 * is not that action's: beside a change two shoppers made at one lane, the few grams of a hand
 * resting there are no shopper's item. (A grab the shelf split in parts still matches its parts.)
 */
export const TOO_LIGHT_SHARE = 0.25;

export interface MatchOptions {
  /** The store's products: with them, an event far too light for an action's units does not match it. */
  products?: ReadonlyMap<string, { unitWeightGrams: number }>;
}

/** Time between an event's span and an action's, ms: 0 when they overlap. */
const gapMs = (event: Pick<ShelfEventDetected, 'startMs' | 'endMs'>, action: Pick<ActionTruth, 'startMs' | 'endMs'>) =>
  Math.max(0, event.startMs - action.endMs, action.startMs - event.endMs);

/** Whether the event weighs far too little to be the action's units (see TOO_LIGHT_SHARE). */
function tooLight(event: ShelfEventDetected, action: ActionTruth, options: MatchOptions): boolean {
  const unit = options.products?.get(action.productId)?.unitWeightGrams;
  if (unit === undefined) return false;
  return Math.abs(event.deltaGrams) + 4 * event.sigmaGrams < TOO_LIGHT_SHARE * unit * action.quantity;
}

export interface ShelfTick {
  shelfId: string;
  ts: number;
  grams: ArrayLike<number>;
}

export interface ShelfScore {
  actions: number;
  events: number;
  matched: number;
  precision: number;
  recall: number;
  f1: number;
  quantityAccuracy: number;
  productTop1: number;
  /** Matched actions whose true product and quantity is among the event's hypotheses. */
  productListed: number;
  /** Actions whose weight tells the product apart from every other candidate, and top-1 on those. */
  separableActions: number;
  productTop1Separable: number;
  /** Separable actions found with the right product: comparable across detectors. */
  separableRight: number;
  /** What went wrong, for reading: unmatched actions and events. */
  missed: ActionTruth[];
  spurious: ShelfEventDetected[];
  wrongProduct: Array<{ action: ActionTruth; event: ShelfEventDetected }>;
}

export interface ShelfMatch {
  action: ActionTruth;
  event: ShelfEventDetected;
}

const shelfActions = (truth: ActionTruth[]) =>
  truth.filter((a) => (a.kind === 'pick' || a.kind === 'put') && a.shelfId !== undefined).sort((a, b) => a.startMs - b.startMs);

export function matchShelfEvents(events: ShelfEventDetected[], truth: ActionTruth[], options: MatchOptions = {}): ShelfMatch[] {
  const actions = shelfActions(truth);
  const byShelf = new Map<string, ShelfEventDetected[]>();
  for (const e of events) byShelf.set(e.shelfId, [...(byShelf.get(e.shelfId) ?? []), e]);
  const pairs: Array<{ gap: number; centres: number; other: number; a: number; e: ShelfEventDetected }> = [];
  actions.forEach((action, a) => {
    for (const event of byShelf.get(action.shelfId!) ?? []) {
      if (event.kind !== action.kind) continue;
      if (action.laneId !== undefined && !event.laneIds.includes(action.laneId)) continue;
      if (tooLight(event, action, options)) continue;
      // Within one second of the truth: the gap between the true action's span (a reach, say) and
      // the event's span. Among candidates, one that names the action's product pairs first (two
      // products taken from one lane at once; the hand's own weight on the plate during a long
      // reach, which makes small changes no product explains), then the nearest centres.
      const gap = gapMs(event, action);
      const centres = Math.abs(event.startMs + event.endMs - action.startMs - action.endMs) / 2;
      const other = event.hypotheses[0]?.productId === action.productId ? 0 : 1;
      if (gap <= MATCH_WINDOW_MS) pairs.push({ gap, centres, other, a, e: event });
    }
  });
  pairs.sort((x, y) => x.gap - y.gap || x.other - y.other || x.centres - y.centres);
  const usedActions = new Set<number>();
  const usedEvents = new Set<ShelfEventDetected>();
  const matches: ShelfMatch[] = [];
  for (const { a, e } of pairs) {
    if (usedActions.has(a) || usedEvents.has(e)) continue;
    usedActions.add(a);
    usedEvents.add(e);
    matches.push({ action: actions[a], event: e });
  }
  return swapCrossedMatches(matches, new Map(pairs.map((pair) => [pairKey(actions[pair.a], pair.e), pair])));
}

const pairKey = (action: ActionTruth, event: ShelfEventDetected) => `${action.actionId} ${event.shelfEventId}`;

/**
 * Taken pair by pair, the nearest match first can cross two shoppers' overlapping reaches of one
 * product on one lane: the earlier event goes to the later reach when its centre lies a little
 * closer, and the later event is left to the earlier reach, far off. Two matches trade events when
 * both new pairs are allowed, neither pairs more loosely (gap, then product), and their centres lie
 * closer in all; repeated until no trade helps.
 */
function swapCrossedMatches(
  matches: ShelfMatch[],
  allowed: ReadonlyMap<string, { gap: number; other: number; centres: number }>,
): ShelfMatch[] {
  const cost = (m: ShelfMatch) => allowed.get(pairKey(m.action, m.event));
  for (let traded = true; traded; ) {
    traded = false;
    for (let i = 0; i < matches.length; i++)
      for (let j = i + 1; j < matches.length; j++) {
        const [x, y] = [matches[i], matches[j]];
        if (x.event.shelfId !== y.event.shelfId) continue;
        const [xNow, yNow] = [cost(x)!, cost(y)!];
        const [xThen, yThen] = [cost({ action: x.action, event: y.event }), cost({ action: y.action, event: x.event })];
        if (!xThen || !yThen) continue;
        const looser = (k: 'gap' | 'other') => Math.max(xThen[k], yThen[k]) > Math.max(xNow[k], yNow[k]);
        if (looser('gap') || looser('other')) continue;
        if (xThen.centres + yThen.centres >= xNow.centres + yNow.centres - 1e-9) continue;
        matches[i] = { action: x.action, event: y.event };
        matches[j] = { action: y.action, event: x.event };
        traded = true;
      }
  }
  return matches;
}

/**
 * Two shoppers at one lane at once make one change: after the one-to-one match, each action left
 * over joins an event already matched to an action of the same product, kind and lane within
 * MATCH_WINDOW_MS, when the event's likeliest hypothesis holds the units of both. A put and a pick
 * on the same plates at once net into one change: with the store's products known, an action of the
 * other kind left over joins such an event when its weight makes up what the event's actions leave
 * unexplained (see nettedEvent). An action still left over matches an event nothing matched that
 * read it on another lane of its plates (see besideEvent). Every matched event with all its
 * actions, the first being its one-to-one match (for scoring attribution and receipts; shelf
 * perception itself is scored one to one, since it cannot tell hands apart).
 */
export function matchSharedEvents(events: ShelfEventDetected[], truth: ActionTruth[], options: MatchOptions = {}): Map<ShelfEventDetected, ActionTruth[]> {
  const matches = matchShelfEvents(events, truth, options);
  const shared = new Map(matches.map((m) => [m.event, [m.action]]));
  const matched = new Set(matches.map((m) => m.action));
  for (const action of shelfActions(truth)) {
    if (matched.has(action)) continue;
    let best: { event: ShelfEventDetected; gap: number } | undefined;
    for (const [event, actions] of shared) {
      const top = event.hypotheses[0];
      if (event.shelfId !== action.shelfId || event.kind !== action.kind || top?.productId !== action.productId) continue;
      if (action.laneId !== undefined && !event.laneIds.includes(action.laneId)) continue;
      if (actions.some((a) => a.productId !== action.productId)) continue;
      if (actions.reduce((sum, a) => sum + a.quantity, action.quantity) > top.quantity) continue;
      const gap = gapMs(event, action);
      if (gap <= MATCH_WINDOW_MS && (!best || gap < best.gap)) best = { event, gap };
    }
    if (best) {
      shared.get(best.event)!.push(action);
      matched.add(action);
    }
  }
  if (options.products)
    for (const action of shelfActions(truth)) {
      if (matched.has(action)) continue;
      const event = nettedEvent(shared, action, options.products);
      if (event) {
        shared.get(event)!.push(action);
        matched.add(action);
      }
    }
  for (const action of shelfActions(truth)) {
    if (matched.has(action)) continue;
    const event = besideEvent(events, shared, action, options);
    if (event) shared.set(event, [action]);
  }
  return shared;
}

/**
 * The event nothing matched that an action left over was read on the wrong lane of its plates, if
 * any: of its kind, on its shelf, covering the action's plates, naming its product, within
 * MATCH_WINDOW_MS and not too light; the nearest in time. A lane that shares its plate with the
 * action's lane weighs the same on it, and a reviewer judges the hand, not the lane.
 */
function besideEvent(events: readonly ShelfEventDetected[], shared: ReadonlyMap<ShelfEventDetected, ActionTruth[]>, action: ActionTruth, options: MatchOptions): ShelfEventDetected | undefined {
  if (action.plateIds === undefined) return undefined;
  let best: { event: ShelfEventDetected; gap: number } | undefined;
  for (const event of events) {
    if (shared.has(event) || event.shelfId !== action.shelfId || event.kind !== action.kind) continue;
    if (!action.plateIds.every((plateId) => event.plateIds.includes(plateId)) || !event.hypotheses.some((h) => h.productId === action.productId)) continue;
    if (tooLight(event, action, options)) continue;
    const gap = gapMs(event, action);
    if (gap <= MATCH_WINDOW_MS && (!best || gap < best.gap)) best = { event, gap };
  }
  return best?.event;
}

/**
 * The event an action left over was netted into, if any: on its shelf and plates, of the other
 * kind, within MATCH_WINDOW_MS, whose measured change the signed weights of its actions explain
 * to within TOO_LIGHT_SHARE of this action's weight only with this action added (and better than
 * without it). The nearest such fit wins.
 */
function nettedEvent(
  shared: ReadonlyMap<ShelfEventDetected, ActionTruth[]>,
  action: ActionTruth,
  products: NonNullable<MatchOptions['products']>,
): ShelfEventDetected | undefined {
  const signed = (a: ActionTruth) => (a.kind === 'put' ? 1 : -1) * (products.get(a.productId)?.unitWeightGrams ?? Number.NaN) * a.quantity;
  const own = signed(action);
  if (!Number.isFinite(own) || action.plateIds === undefined) return undefined;
  let best: { event: ShelfEventDetected; miss: number } | undefined;
  for (const [event, actions] of shared) {
    if (event.shelfId !== action.shelfId || event.kind === action.kind || !action.plateIds.every((plateId) => event.plateIds.includes(plateId))) continue;
    if (gapMs(event, action) > MATCH_WINDOW_MS) continue;
    const explained = actions.reduce((total, a) => total + signed(a), 0);
    const without = Math.abs(event.deltaGrams - explained);
    const miss = Math.abs(event.deltaGrams - explained - own);
    if (miss <= TOO_LIGHT_SHARE * Math.abs(own) && miss < without && (!best || miss < best.miss)) best = { event, miss };
  }
  return best?.event;
}

/**
 * The actions whose product weight tells it apart: replaying the true inventory, the products that
 * could have moved are those on any lane sharing a plate with the action's lane (for a pick), plus
 * whatever shoppers carry (for a put). The action is separable when no other such product, in any
 * quantity, weighs within SEPARABLE_SIGMAS of what moved.
 */
export function separableActions(index: StoreIndex, truth: ActionTruth[]): Set<string> {
  const onLane = new Map<string, Map<string, number>>();
  for (const [laneId] of index.lanes) {
    const placement = index.placementByLane.get(laneId);
    onLane.set(laneId, new Map(placement ? [[placement.productId, placement.initialStock]] : []));
  }
  const carried = new Map<string, number>();
  const add = (m: Map<string, number>, id: string, q: number) => {
    const v = (m.get(id) ?? 0) + q;
    if (v > 0) m.set(id, v);
    else m.delete(id);
  };
  const separable = new Set<string>();
  for (const action of shelfActions(truth)) {
    const laneId = action.laneId;
    const lane = laneId ? index.lanes.get(laneId) : undefined;
    if (!laneId || !lane) continue;
    const neighbours = lane.shelf.lanes.filter((l) => l.plateIds.some((p) => lane.lane.plateIds.includes(p)));
    const candidates = new Set<string>();
    for (const l of neighbours) {
      for (const [productId] of onLane.get(l.id)!) candidates.add(productId);
      const own = index.placementByLane.get(l.id)?.productId;
      if (own && action.kind === 'put') candidates.add(own);
    }
    if (action.kind === 'put') for (const productId of carried.keys()) candidates.add(productId);
    const moved = index.products.get(action.productId);
    if (moved) {
      const q = action.quantity;
      const apart = [...candidates].every((id) => {
        if (id === action.productId) return true;
        const other = index.products.get(id);
        if (!other) return true;
        for (let q2 = 1; q2 <= MAX_CONFUSABLE_QUANTITY; q2++) {
          const sigma = Math.sqrt(q * moved.weightSpreadGrams ** 2 + q2 * other.weightSpreadGrams ** 2 + SEPARABLE_MEASURE_GRAMS ** 2);
          if (Math.abs(q * moved.unitWeightGrams - q2 * other.unitWeightGrams) <= SEPARABLE_SIGMAS * sigma) return false;
        }
        return true;
      });
      if (apart) separable.add(action.actionId);
    }
    if (action.kind === 'pick') {
      add(onLane.get(laneId)!, action.productId, -action.quantity);
      add(carried, action.productId, action.quantity);
    } else {
      add(onLane.get(laneId)!, action.productId, action.quantity);
      add(carried, action.productId, -action.quantity);
    }
  }
  return separable;
}

export function scoreShelfEvents(index: StoreIndex, events: ShelfEventDetected[], truth: ActionTruth[]): ShelfScore {
  const actions = shelfActions(truth);
  const matches = matchShelfEvents(events, truth);
  const separable = separableActions(index, truth);
  const matchedActions = new Set(matches.map((m) => m.action));
  const matchedEvents = new Set(matches.map((m) => m.event));
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  const precision = ratio(matches.length, events.length);
  const recall = ratio(matches.length, actions.length);
  const rightProduct = (m: ShelfMatch) => m.event.hypotheses[0]?.productId === m.action.productId;
  const listed = (m: ShelfMatch) => m.event.hypotheses.some((h) => h.productId === m.action.productId && h.quantity === m.action.quantity);
  const separableMatches = matches.filter((m) => separable.has(m.action.actionId));
  return {
    actions: actions.length,
    events: events.length,
    matched: matches.length,
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    quantityAccuracy: ratio(matches.filter((m) => m.event.hypotheses[0]?.quantity === m.action.quantity).length, matches.length),
    productTop1: ratio(matches.filter(rightProduct).length, matches.length),
    productListed: ratio(matches.filter(listed).length, matches.length),
    separableActions: actions.filter((a) => separable.has(a.actionId)).length,
    productTop1Separable: ratio(separableMatches.filter(rightProduct).length, separableMatches.length),
    separableRight: separableMatches.filter(rightProduct).length,
    missed: actions.filter((a) => !matchedActions.has(a)),
    spurious: events.filter((e) => !matchedEvents.has(e)),
    wrongProduct: matches.filter((m) => !rightProduct(m)),
  };
}

export interface ShelfEvaluation {
  detector: ShelfScore & { seconds: number; samplesPerSecond: number };
  baseline: ShelfScore & { seconds: number; samplesPerSecond: number };
  ticks: number;
  samples: number;
}

/**
 * Runs the detector and the baseline over the same ticks (in store-clock order across shelves), side
 * by side, timing each, and scores both against the truth.
 */
export async function evaluateShelfPerception(opts: {
  index: StoreIndex;
  ticks: AsyncIterable<ShelfTick> | Iterable<ShelfTick>;
  truth: ActionTruth[];
  onTick?: (ts: number) => void;
}): Promise<ShelfEvaluation> {
  const detectorEvents: ShelfEventDetected[] = [];
  const baselineEvents: ShelfEventDetected[] = [];
  const detector = new ShelfPerception({ index: opts.index, onEvent: (e) => detectorEvents.push(e) });
  const baseline = new BaselineDetector({ index: opts.index, onEvent: (e) => baselineEvents.push(e) });
  let detectorMs = 0;
  let baselineMs = 0;
  let ticks = 0;
  let samples = 0;
  const run = (source: ShelfEventSource, tick: ShelfTick) => {
    const t0 = performance.now();
    source.push(tick.shelfId, tick.ts, tick.grams);
    return performance.now() - t0;
  };
  for await (const tick of opts.ticks) {
    detectorMs += run(detector, tick);
    baselineMs += run(baseline, tick);
    ticks++;
    samples += tick.grams.length;
    opts.onTick?.(tick.ts);
  }
  detector.finish();
  baseline.finish();
  const rate = (ms: number) => (ms > 0 ? (samples * 1000) / ms : 0);
  return {
    detector: { ...scoreShelfEvents(opts.index, detectorEvents, opts.truth), seconds: detectorMs / 1000, samplesPerSecond: rate(detectorMs) },
    baseline: { ...scoreShelfEvents(opts.index, baselineEvents, opts.truth), seconds: baselineMs / 1000, samplesPerSecond: rate(baselineMs) },
    ticks,
    samples,
  };
}
