import type {
  ActionTruth,
  AttributedDecision,
  CartLine,
  CartUpdated,
  EventAttributed,
  ReceiptFinalised,
  ReceiptTruth,
  ReviewItemOpened,
  ReviewItemResolved,
  ShelfEventDetected,
  VisitTruth,
} from '../contracts/index.ts';
import { calibrationTable, type CalibrationBin } from '../fusion/calibration.eval.ts';
import { CartBook } from './cart.model.ts';
import { matchSharedEvents } from '../shelf/shelf.eval.ts';
import { FUSION_STAGE } from '../fusion/fusion.engine.ts';

/**
 * Scoring receipts against a recording's truth: what each visit was charged against what it took.
 * Plain inputs (what the pipeline published, collected by whoever ran it), no bus. The formulas are
 * written out in docs/stages/cart.md; in short, per visit:
 *
 * - exact: the receipt's lines equal the true lines (product and quantity; prices come from the same
 *   planogram on both sides). A line pending review counts as resolved the right way (the truth of its
 *   shelf event), folded by the cart model as a reviewer's decision would be, so a receipt that waits
 *   for a person is exact if that person can make it so; exactBeforeReview takes the decided lines
 *   alone.
 * - precision and recall over product units: right = sum over products of min(charged, taken);
 *   precision = right / charged, recall = right / taken, each 1 when both sides are empty and 0 when
 *   only its own denominator is. receiptPrecision and receiptRecall average them over visits;
 *   receiptF1 is their harmonic mean.
 *
 * Over shelf events: attribution accuracy (the share of true picks and puts whose shelf event fusion
 * gave to the right visit with the right product and quantity), the calibration of fusion's stated
 * confidence (expected calibration error, libs/fusion/calibration.eval.ts),
 * reviews per 1000 visits, and pick-to-cart latency (from the true action's end to the store-clock
 * ts of the cart update that applied its shelf event). Staff visits are not scored; every figure is
 * also given per tag of the true visits.
 */

const PER_THOUSAND = 1000;
/**
 * Review items that flag what the gate saw rather than ask about a doubt: a tailgater is flagged for
 * the operator for certain, which no better weighing or tracking makes rarer (the hard runs mix them
 * in on purpose). They are scored as operator flags, next to the reviews.
 */
export const OPERATOR_FLAG_KINDS: ReadonlySet<string> = new Set(['tailgating']);

/** A true visit, with what the scenario library adds to it when present. */
export type ScoredVisitTruth = Omit<VisitTruth, 'tags' | 'kind'> & { tags?: readonly string[]; kind?: string };

export interface ReceiptTruthSet {
  visits: readonly ScoredVisitTruth[];
  receipts: readonly ReceiptTruth[];
  actions: readonly ActionTruth[];
  /** The store's products, for matching shelf events to actions by weight too (MatchOptions). */
  products?: ReadonlyMap<string, { unitWeightGrams: number }>;
}

export interface ReceiptRun {
  receipts: readonly ReceiptFinalised[];
  attributions: readonly EventAttributed[];
  reviews: readonly ReviewItemOpened[];
  shelfEvents: readonly ShelfEventDetected[];
  /** For pick-to-cart latency; without them the latency has no samples. */
  cartUpdates?: readonly CartUpdated[];
  /** Decisions and withdrawals of review items, when the run had any: a withdrawn item is counted apart from the reviews. */
  resolutions?: readonly ReviewItemResolved[];
}

export interface ReceiptFigures {
  /** True visits scored (staff visits are not). */
  visits: number;
  exactMatch: number;
  exactMatchBeforeReview: number;
  receiptPrecision: number;
  receiptRecall: number;
  receiptF1: number;
  receiptF1BeforeReview: number;
  /** True picks and puts of scored visits on shelves. */
  actions: number;
  attributionAccuracy: number;
  /** Review items that ask a person to decide something the pipeline was unsure of (every kind but the operator flags). */
  reviews: number;
  reviewsPer1000: number;
  /** Those review items by kind (attribution, unexpected-put, binding, ...). */
  reviewsByKind: Record<string, number>;
  /**
   * Operator flags: review items that report what the gate saw for sure rather than a doubt (someone
   * came in without a scan: `tailgating`). Counted apart from the reviews, never left out.
   */
  operatorFlags: number;
  operatorFlagsPer1000: number;
  /**
   * Review items withdrawn by the stage that opened them, because a decision on another item answered
   * them (the other binding of a pair at the gate): nobody decided them. Counted apart from the reviews.
   */
  withdrawn: number;
  /**
   * Review items the stage that opened them decided from a decision on another item, before any
   * person decided them: a pick through a track whose gate binding was in doubt, once a reviewer
   * decided the binding (followsReviewId). Counted apart from the reviews.
   */
  answered: number;
  /** Fusion attributions to visits other than staff: what the calibration is measured on. */
  attributions: number;
  calibrationError: number;
  calibration: CalibrationBin[];
  latency: { count: number; p50Ms: number | null; p99Ms: number | null };
  missingReceipts: number;
  visitsWithPending: number;
}

export interface VisitReceiptScore {
  visitId: string;
  tags: string[];
  /** The pipeline visit whose receipt was scored for it (its own id, or an anonymous visit matched by its picks). */
  receiptVisitId: string | null;
  exact: boolean;
  exactBeforeReview: boolean;
  precision: number;
  recall: number;
  f1: number;
  pending: number;
  /** Units taken and not charged, and charged and not taken (after review). */
  missing: CartLine[];
  extra: CartLine[];
}

/**
 * One review item the reviews count (no operator flag, nothing withdrawn), for an engineer reading why
 * the run asked a person: its reason, and what truly happened at its shelf event (the true actions the
 * event stands for, by the scorer's matching; none for an item of no shelf event, or an event that
 * matched no true action, such as a hand resting on a plate).
 */
export interface ReviewItemScore {
  reviewId: string;
  kind: string;
  reason: string;
  /** The pipeline's visits the item names. */
  visitIds: string[];
  shelfEventId: string | null;
  truth: Array<{ kind: ActionTruth['kind']; visitId: string | null; productId: string; quantity: number; laneId: string | null }>;
}

export interface ReceiptScore extends ReceiptFigures {
  byTag: Record<string, ReceiptFigures>;
  perVisit: VisitReceiptScore[];
  /** The review items counted in `reviews`, in the order they were opened. */
  reviewItems: ReviewItemScore[];
  /** Receipts of pipeline visits that match no true visit. */
  extraReceipts: string[];
}

type Units = Map<string, number>;

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
const harmonic = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);
const mean = (values: number[]) => ratio(values.reduce((sum, v) => sum + v, 0), values.length);
const unitCount = (units: Units) => [...units.values()].reduce((sum, q) => sum + q, 0);

function unitsOf(lines: readonly CartLine[]): Units {
  const units: Units = new Map();
  for (const { productId, quantity } of lines) units.set(productId, (units.get(productId) ?? 0) + quantity);
  return units;
}

const sameUnits = (a: Units, b: Units) => unitCount(a) === unitCount(b) && [...a].every(([productId, q]) => b.get(productId) === q);

/** Per-visit precision and recall over product units (see the module comment for the empty cases). */
export function unitPrecisionRecall(charged: Units, taken: Units): { precision: number; recall: number; f1: number } {
  let right = 0;
  for (const [productId, q] of charged) right += Math.min(q, taken.get(productId) ?? 0);
  const chargedUnits = unitCount(charged);
  const takenUnits = unitCount(taken);
  const both = chargedUnits === 0 && takenUnits === 0;
  const precision = both ? 1 : ratio(right, chargedUnits);
  const recall = both ? 1 : ratio(right, takenUnits);
  return { precision, recall, f1: harmonic(precision, recall) };
}

/** The difference a - b where positive, as lines. */
function exceeding(a: Units, b: Units): CartLine[] {
  const lines: CartLine[] = [];
  for (const [productId, q] of a) if (q > (b.get(productId) ?? 0)) lines.push({ productId, quantity: q - (b.get(productId) ?? 0) });
  return lines;
}

/** Nearest-rank percentile of sorted values, or null without any. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

interface ActionRecord {
  visitId: string;
  right: boolean;
  latencyMs: number | null;
}
interface AttributionRecord {
  visitIds: string[];
  confidence: number;
  right: boolean;
}

const isShelfAction = (action: ActionTruth) => (action.kind === 'pick' || action.kind === 'put') && action.shelfId !== undefined;

/**
 * Whether an attribution says what its matched action did: that action's product and units, and
 * each other line (fusion's grab of a lane's own product with a misplaced one) another true action
 * of the same person, kind and shelf at the same time, the shelf having seen both as one change.
 */
function attributionFits(attribution: EventAttributed, action: ActionTruth, actions: readonly ActionTruth[]): boolean {
  const says = (line: EventAttributed['lines'][number], what: ActionTruth) => line.productId === what.productId && line.quantity === what.quantity;
  if (attribution.kind !== action.kind || !attribution.lines.some((line) => says(line, action))) return false;
  if (attribution.lines.length === 1) return true;
  const sameGrab = (other: ActionTruth) =>
    other.kind === action.kind && other.shelfId === action.shelfId && other.personId === action.personId && other.startMs < action.endMs && action.startMs < other.endMs;
  const grab = [action, ...actions.filter((other) => other !== action && sameGrab(other))];
  return attribution.lines.every((line) => grab.some((other) => says(line, other)));
}

/** The true visit an action belongs to: its own, or that of the person who did it (a group's member). */
/** The true visit of each person of the truth. */
export function trueVisitOfPerson(visits: ReceiptTruthSet['visits']): Map<string, string> {
  return new Map(visits.flatMap((visit) => visit.personIds.map((personId): [string, string] => [personId, visit.visitId])));
}

export function trueVisitResolver(visits: ReceiptTruthSet['visits']): (action: ActionTruth) => string | undefined {
  const visitOfPerson = trueVisitOfPerson(visits);
  return (action) => action.visitId ?? (action.personId ? visitOfPerson.get(action.personId) : undefined);
}

export function scoreReceipts(truth: ReceiptTruthSet, run: ReceiptRun): ReceiptScore {
  const scored = truth.visits.filter((visit) => (visit.kind ?? 'shopper') !== 'staff');
  const scoredIds = new Set(scored.map((visit) => visit.visitId));
  const tagsOf = new Map(scored.map((visit) => [visit.visitId, [...(visit.tags ?? [])]]));
  const trueVisitOf = trueVisitResolver(truth.visits);

  // Two shoppers at one lane at once make one shelf event of both their actions.
  const actionsByEvent = new Map([...matchSharedEvents([...run.shelfEvents], [...truth.actions], { products: truth.products })].map(([event, actions]) => [event.shelfEventId, actions]));
  const fusionByEvent = new Map<string, EventAttributed[]>();
  for (const attribution of run.attributions)
    if (attribution.source === 'fusion') fusionByEvent.set(attribution.shelfEventId, [...(fusionByEvent.get(attribution.shelfEventId) ?? []), attribution]);

  const alias = aliasVisits(scoredIds, run, actionsByEvent, trueVisitOf);
  const truthVisitOfPipeline = (visitId: string) => (scoredIds.has(visitId) ? visitId : alias.get(visitId));
  /** The true action an attribution stands for: its visit's among its event's actions, else the event's first. */
  const actionOf = (attribution: EventAttributed) => {
    const actions = actionsByEvent.get(attribution.shelfEventId) ?? [];
    const charged = truthVisitOfPipeline(attribution.visitId);
    return actions.find((action) => trueVisitOf(action) === charged) ?? actions[0];
  };
  const receiptOf = new Map<string, ReceiptFinalised>();
  for (const receipt of run.receipts) {
    const visitId = truthVisitOfPipeline(receipt.visitId);
    if (visitId !== undefined) receiptOf.set(visitId, receipt);
  }
  const extraReceipts = [...new Set(run.receipts.map((r) => r.visitId).filter((visitId) => truthVisitOfPipeline(visitId) === undefined))];

  const trueReceipts = new Map(truth.receipts.map((receipt) => [receipt.visitId, receipt]));
  const pipelineVisitOf = new Map([...alias].map(([pipelineId, truthId]) => [truthId, pipelineId]));
  const reviewed = cartsAfterReview(run, actionsByEvent, (action) => {
    const visitId = trueVisitOf(action);
    return visitId === undefined ? undefined : (pipelineVisitOf.get(visitId) ?? visitId);
  });
  const perVisit = scored.map((visit) => {
    const receipt = receiptOf.get(visit.visitId);
    const afterReview = receipt && receipt.pending.length > 0 ? (reviewed.get(receipt.visitId) ?? new Map()) : unitsOf(receipt?.lines ?? []);
    return scoreVisit(visit.visitId, tagsOf.get(visit.visitId)!, receipt, afterReview, truthUnits(visit.visitId, trueReceipts.get(visit.visitId), truth.actions, trueVisitOf));
  });

  const firstApplied = new Map<string, CartUpdated>();
  for (const update of run.cartUpdates ?? []) {
    if (update.appliedShelfEventId === undefined) continue;
    const key = `${update.visitId}/${update.appliedShelfEventId}`;
    const before = firstApplied.get(key);
    if (!before || update.version < before.version) firstApplied.set(key, update);
  }

  const actions: ActionRecord[] = [];
  const eventOfAction = new Map<ActionTruth, string>();
  for (const [shelfEventId, actions] of actionsByEvent) for (const action of actions) eventOfAction.set(action, shelfEventId);
  for (const action of truth.actions) {
    const visitId = trueVisitOf(action);
    if (!isShelfAction(action) || visitId === undefined || !scoredIds.has(visitId)) continue;
    const shelfEventId = eventOfAction.get(action);
    const decided = shelfEventId === undefined ? [] : (fusionByEvent.get(shelfEventId) ?? []);
    const attribution = decided.find((a) => truthVisitOfPipeline(a.visitId) === visitId) ?? decided[0];
    const right = attribution !== undefined && truthVisitOfPipeline(attribution.visitId) === visitId && attributionFits(attribution, action, truth.actions);
    const update = right ? firstApplied.get(`${attribution.visitId}/${shelfEventId}`) : undefined;
    actions.push({ visitId, right, latencyMs: update ? update.ts - action.endMs : null });
  }

  const attributions: AttributionRecord[] = [];
  for (const attribution of [...fusionByEvent.values()].flat()) {
    if (attribution.visitKind === 'staff') continue;
    const action = actionOf(attribution);
    const actual = action ? trueVisitOf(action) : undefined;
    const charged = truthVisitOfPipeline(attribution.visitId);
    const right = action !== undefined && actual !== undefined && charged === actual && attributionFits(attribution, action, truth.actions);
    const visitIds = [...new Set([actual, charged].filter((id): id is string => id !== undefined && scoredIds.has(id)))];
    attributions.push({ visitIds, confidence: attribution.confidence, right });
  }

  const reviews = new Map<string, { kind: string; visitIds: string[]; withdrawn: boolean; answered: boolean }>();
  const withdrawnIds = withdrawnReviews(run);
  const answeredIds = answeredReviews(run);
  for (const item of run.reviews)
    reviews.set(item.reviewId, {
      kind: item.kind,
      visitIds: [...new Set(item.visitIds.map(truthVisitOfPipeline).filter((id): id is string => id !== undefined))],
      withdrawn: withdrawnIds.has(item.reviewId),
      answered: answeredIds.has(item.reviewId),
    });

  const figures = (inSubset: (visitId: string) => boolean, allReviews: boolean): ReceiptFigures => {
    const visits = perVisit.filter((v) => inSubset(v.visitId));
    const subsetActions = actions.filter((a) => inSubset(a.visitId));
    const subsetAttributions = attributions.filter((a) => allReviews || a.visitIds.some(inSubset));
    const subsetItems = [...reviews.values()].filter(({ visitIds }) => allReviews || visitIds.some(inSubset));
    const subsetFlags = subsetItems.filter(({ kind }) => OPERATOR_FLAG_KINDS.has(kind));
    const subsetReviews = subsetItems.filter(countsAsReview);
    const flagCount = subsetFlags.length;
    const reviewCount = subsetReviews.length;
    const reviewsByKind: Record<string, number> = {};
    for (const { kind } of subsetReviews) reviewsByKind[kind] = (reviewsByKind[kind] ?? 0) + 1;
    const latencies = subsetActions.flatMap((a) => (a.latencyMs === null ? [] : [a.latencyMs])).sort((a, b) => a - b);
    const precision = mean(visits.map((v) => v.precision));
    const recall = mean(visits.map((v) => v.recall));
    const before = visits.map((v) => v.before);
    return {
      visits: visits.length,
      exactMatch: ratio(visits.filter((v) => v.exact).length, visits.length),
      exactMatchBeforeReview: ratio(visits.filter((v) => v.exactBeforeReview).length, visits.length),
      receiptPrecision: precision,
      receiptRecall: recall,
      receiptF1: harmonic(precision, recall),
      receiptF1BeforeReview: harmonic(mean(before.map((b) => b.precision)), mean(before.map((b) => b.recall))),
      actions: subsetActions.length,
      attributionAccuracy: ratio(subsetActions.filter((a) => a.right).length, subsetActions.length),
      reviews: reviewCount,
      reviewsPer1000: ratio(reviewCount * PER_THOUSAND, visits.length),
      reviewsByKind,
      operatorFlags: flagCount,
      operatorFlagsPer1000: ratio(flagCount * PER_THOUSAND, visits.length),
      withdrawn: subsetItems.filter(({ kind, withdrawn }) => withdrawn && !OPERATOR_FLAG_KINDS.has(kind)).length,
      answered: subsetItems.filter(({ kind, withdrawn, answered }) => answered && !withdrawn && !OPERATOR_FLAG_KINDS.has(kind)).length,
      attributions: subsetAttributions.length,
      ...calibrationTable(subsetAttributions),
      latency: { count: latencies.length, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) },
      missingReceipts: visits.filter((v) => v.receiptVisitId === null).length,
      visitsWithPending: visits.filter((v) => v.pending > 0).length,
    };
  };

  const tags = [...new Set(scored.flatMap((visit) => tagsOf.get(visit.visitId)!))].sort();
  const byTag: Record<string, ReceiptFigures> = {};
  for (const tag of tags) byTag[tag] = figures((visitId) => tagsOf.get(visitId)?.includes(tag) ?? false, false);
  const reviewItems = run.reviews
    .filter((item) => countsAsReview({ kind: item.kind, withdrawn: withdrawnIds.has(item.reviewId), answered: answeredIds.has(item.reviewId) }))
    .map((item): ReviewItemScore => ({
      reviewId: item.reviewId,
      kind: item.kind,
      reason: item.reason,
      visitIds: [...item.visitIds],
      shelfEventId: item.shelfEventId ?? null,
      truth: (item.shelfEventId === undefined ? [] : (actionsByEvent.get(item.shelfEventId) ?? [])).map((action) => ({
        kind: action.kind,
        visitId: trueVisitOf(action) ?? null,
        productId: action.productId,
        quantity: action.quantity,
        laneId: action.laneId ?? null,
      })),
    }));
  return {
    ...figures((visitId) => scoredIds.has(visitId), true),
    byTag,
    perVisit: perVisit.map(({ before: _before, ...visit }) => visit),
    reviewItems,
    extraReceipts,
  };
}

/** What the visit took: its true receipt, or (without one) its picks less its puts. */
function truthUnits(visitId: string, receipt: ReceiptTruth | undefined, actions: readonly ActionTruth[], trueVisitOf: (action: ActionTruth) => string | undefined): Units {
  if (receipt) return unitsOf(receipt.lines);
  const units: Units = new Map();
  for (const action of actions) {
    if (trueVisitOf(action) !== visitId || (action.kind !== 'pick' && action.kind !== 'put')) continue;
    const sign = action.kind === 'pick' ? 1 : -1;
    const q = (units.get(action.productId) ?? 0) + sign * action.quantity;
    if (q > 0) units.set(action.productId, q);
    else units.delete(action.productId);
  }
  return units;
}

/** Whether a review item counts among the reviews: a doubt a person must settle, not an operator flag, not withdrawn, not answered by its stage. */
function countsAsReview(item: { kind: string; withdrawn: boolean; answered: boolean }): boolean {
  return !OPERATOR_FLAG_KINDS.has(item.kind) && !item.withdrawn && !item.answered;
}

/** The review items the run saw withdrawn by the stage that opened them (nobody decided them). */
function withdrawnReviews(run: Pick<ReceiptRun, 'resolutions'>): Set<string> {
  return new Set((run.resolutions ?? []).filter((r) => r.decision.outcome === 'withdrawn').map((r) => r.reviewId));
}

/**
 * The review items whose first decision the run saw was fusion's own, from a decision on another
 * item (see ReceiptFigures.answered), with that decision: nobody decided them, and the receipts
 * after review hold what it decided.
 */
function answeredReviews(run: Pick<ReceiptRun, 'resolutions'>): Map<string, ReviewItemResolved> {
  const first = new Map<string, ReviewItemResolved>();
  for (const resolution of run.resolutions ?? []) if (!first.has(resolution.reviewId)) first.set(resolution.reviewId, resolution);
  return new Map([...first].filter(([, r]) => r.reviewer === FUSION_STAGE && r.decision.outcome === 'attributed'));
}

/**
 * Every pipeline visit's cart once each review about a shelf event is decided as the truth says (for
 * the visit that truly did it, dismissed when nobody did), folded by the cart model itself: a put
 * decided while the pick it undoes waited for review then takes that pick's unit away, as it will
 * live. Review items about no shelf event (a binding, a tailgater) change no cart, nor do items
 * their stage withdrew (a pick in review that its shopper's put-back answered). An item fusion
 * answered from another decision (a pick through a doubted gate binding, once the binding was
 * decided) keeps that answer.
 */
function cartsAfterReview(run: ReceiptRun, actionsByEvent: Map<string, ActionTruth[]>, pipelineVisitOf: (action: ActionTruth) => string | undefined): Map<string, Units> {
  const book = new CartBook(() => 0);
  for (const attribution of run.attributions) book.attributed(attribution);
  for (const item of run.reviews) book.reviewOpened(item);
  // An item its stage withdrew waits for nobody: the decision that answered it stands.
  const withdrawn = withdrawnReviews(run);
  const answered = answeredReviews(run);
  for (const item of run.reviews) {
    if (item.shelfEventId === undefined || withdrawn.has(item.reviewId)) continue;
    const answer = answered.get(item.reviewId);
    if (answer) {
      book.reviewResolved(answer);
      continue;
    }
    const decision = truthDecision(actionsByEvent.get(item.shelfEventId) ?? [], pipelineVisitOf);
    book.reviewResolved({
      schemaVersion: item.schemaVersion,
      eventId: `truth-${item.reviewId}`,
      storeId: item.storeId,
      ts: item.ts,
      reviewId: item.reviewId,
      reviewer: 'truth',
      decision: decision ?? { outcome: 'dismissed', note: 'no true action at this shelf event' },
    });
  }
  return new Map([...book.all()].map((cart) => [cart.visitId, unitsOf(cart.view().lines)]));
}

/**
 * The decision the truth makes of a shelf event's actions: each visit's units, the first visit's own
 * and the others' shared, each other visit's kind named where it differs (a put and a pick netted
 * into one change); none without a shopper's action.
 */
export function truthDecision(actions: readonly ActionTruth[], pipelineVisitOf: (action: ActionTruth) => string | undefined): AttributedDecision | undefined {
  const byVisit = new Map<string, { kind: 'pick' | 'put'; units: Map<string, number> }>();
  for (const action of actions) {
    const visitId = isShelfAction(action) ? pipelineVisitOf(action) : undefined;
    if (visitId === undefined || (action.kind !== 'pick' && action.kind !== 'put')) continue;
    const share = byVisit.get(visitId) ?? { kind: action.kind, units: new Map<string, number>() };
    // One visit's pick and put of a product in one change: what it did is what is left of both.
    share.units.set(action.productId, (share.units.get(action.productId) ?? 0) + (action.kind === share.kind ? action.quantity : -action.quantity));
    byVisit.set(visitId, share);
  }
  const shares = [...byVisit]
    .map(([visitId, { kind, units }]) => ({ visitId, kind, lines: [...units].filter(([, quantity]) => quantity > 0).map(([productId, quantity]) => ({ productId, quantity })) }))
    .filter((share) => share.lines.length > 0);
  if (shares.length === 0) return undefined;
  const [first, ...others] = shares;
  const sharedWith = others.map(({ visitId, kind, lines }) => ({ visitId, lines, ...(kind !== first.kind ? { kind } : {}) }));
  return { outcome: 'attributed', visitId: first.visitId, kind: first.kind, lines: first.lines, ...(sharedWith.length > 0 ? { sharedWith } : {}) };
}

function scoreVisit(
  visitId: string,
  tags: string[],
  receipt: ReceiptFinalised | undefined,
  reviewed: Units,
  taken: Units,
): VisitReceiptScore & { before: { precision: number; recall: number } } {
  const decided = unitsOf(receipt?.lines ?? []);
  const after = unitPrecisionRecall(reviewed, taken);
  const before = unitPrecisionRecall(decided, taken);
  return {
    visitId,
    tags,
    receiptVisitId: receipt?.visitId ?? null,
    exact: receipt !== undefined && sameUnits(reviewed, taken),
    exactBeforeReview: receipt !== undefined && sameUnits(decided, taken),
    precision: after.precision,
    recall: after.recall,
    f1: after.f1,
    pending: receipt?.pending.length ?? 0,
    missing: exceeding(taken, reviewed),
    extra: exceeding(reviewed, taken),
    before,
  };
}

/**
 * Pipeline visits whose id no true visit has (an anonymous visit named by the pipeline, say) stand
 * for the true visit most of their attributed shelf events belong to, each true visit taken once,
 * the strongest evidence first. Then a review item whose true actor no pipeline visit stands for
 * yet, naming one such visit still free, is that visit's: its reviewer, deciding for the actor, names
 * the visit the item waits on (a tailgater whose only pick went to review has nothing attributed).
 */
function aliasVisits(
  scoredIds: Set<string>,
  run: ReceiptRun,
  actionsByEvent: Map<string, ActionTruth[]>,
  trueVisitOf: (action: ActionTruth) => string | undefined,
): Map<string, string> {
  const votes = new Map<string, Map<string, number>>();
  for (const attribution of run.attributions) {
    if (scoredIds.has(attribution.visitId) || attribution.visitKind === 'staff') continue;
    const action = actionsByEvent.get(attribution.shelfEventId)?.[0];
    const actual = action ? trueVisitOf(action) : undefined;
    if (actual === undefined || !scoredIds.has(actual)) continue;
    const tally = votes.get(attribution.visitId) ?? new Map<string, number>();
    tally.set(actual, (tally.get(actual) ?? 0) + 1);
    votes.set(attribution.visitId, tally);
  }
  const pairs = [...votes].flatMap(([pipelineId, tally]) => [...tally].map(([truthId, count]) => ({ pipelineId, truthId, count })));
  pairs.sort((a, b) => b.count - a.count || (a.pipelineId < b.pipelineId ? -1 : 1));
  // A true visit the pipeline already names stands for itself.
  const taken = new Set([...run.receipts, ...run.attributions].map((m) => m.visitId).filter((id) => scoredIds.has(id)));
  const alias = new Map<string, string>();
  for (const { pipelineId, truthId } of pairs) {
    if (alias.has(pipelineId) || taken.has(truthId)) continue;
    alias.set(pipelineId, truthId);
    taken.add(truthId);
  }
  for (const review of run.reviews) {
    if (review.shelfEventId === undefined) continue;
    const actors = new Set((actionsByEvent.get(review.shelfEventId) ?? []).map(trueVisitOf).filter((id): id is string => id !== undefined && scoredIds.has(id) && !taken.has(id)));
    const free = review.visitIds.filter((visitId) => !scoredIds.has(visitId) && !alias.has(visitId));
    if (actors.size !== 1 || free.length !== 1) continue;
    const [truthId] = actors;
    alias.set(free[0], truthId);
    taken.add(truthId);
  }
  return alias;
}
