import {
  SCHEMA_VERSION,
  type ActionTruth,
  type EventAttributed,
  type PeopleTracked,
  type ReceiptTruth,
  type ShelfEventDetected,
  type VisitEnded,
  type VisitStarted,
  type VisitTrackBound,
} from '../contracts/index.ts';
import { collect, type Recording } from '../recording/index.ts';
import { truthPeople } from '../replay/people-truth.source.ts';
import { matchSharedEvents } from '../shelf/shelf.eval.ts';
import { ShelfPerception } from '../shelf/shelf.perception.ts';
import { recordingShelfTicks } from '../shelf/shelf.replay.ts';
import { FusionEngine, settledChanges, type FusionOutput, type SettledRecord } from './fusion.engine.ts';
import { sharesOf, type AttributionParams, type JointOption } from './attribution.model.ts';
import { calibrationTable, type CalibrationBin } from './calibration.eval.ts';

/**
 * Measuring attribution on a recording, apart from the engine: shelf events from the recording's load
 * cells (shelf perception, each event handed over when the detector emits it), people from the true
 * skeletons (with the tracker's typical error), visits bound from the truth (each person's track to
 * the visit the truth gives it; staff to a staff visit of their own), and the engine's output scored
 * against the true picks and puts: attribution accuracy, reviews per 1000 visits, calibration (ECE
 * and a reliability table) and receipts built from the attributions.
 */

export type FusionInput =
  | { topic: 'tracking.people-tracked'; message: PeopleTracked }
  | { topic: 'shelf.event-detected'; message: ShelfEventDetected }
  | { topic: 'visit.started'; message: VisitStarted }
  | { topic: 'visit.track-bound'; message: VisitTrackBound }
  | { topic: 'visit.ended'; message: VisitEnded };

/** The staff visit the truth binding gives a member of staff (the truth has no visit for them). */
export const staffVisitId = (personId: string) => `staff-${personId}`;

/** Shelf events of a recording, each with the store time its detector emitted it. */
export async function recordingShelfEvents(recording: Recording): Promise<Array<{ at: number; event: ShelfEventDetected }>> {
  const events: Array<{ at: number; event: ShelfEventDetected }> = [];
  let now = -Infinity;
  const perception = new ShelfPerception({ index: recording.index, onEvent: (event) => events.push({ at: now, event }) });
  for await (const tick of recordingShelfTicks(recording)) {
    now = tick.ts;
    perception.push(tick.shelfId, tick.ts, tick.grams);
  }
  perception.finish();
  return events;
}

/** Visit messages from the truth: started and bound when a person is first seen, ended at their visit's exit. */
async function truthVisitMessages(recording: Recording): Promise<Array<{ at: number; input: FusionInput }>> {
  const storeId = recording.manifest.storeId;
  const base = (eventId: string, ts: number) => ({ schemaVersion: SCHEMA_VERSION, eventId, storeId, ts });
  const exits = new Map((await collect(recording.truthVisits())).map((v) => [v.visitId, v.exitMs]));
  const seen = new Map<string, { first: number; last: number; visitId: string; staff: boolean }>();
  for await (const instant of recording.truthSkeletons())
    for (const person of instant.people) {
      const known = seen.get(person.personId);
      if (known) known.last = instant.ts;
      else
        seen.set(person.personId, {
          first: instant.ts,
          last: instant.ts,
          visitId: person.visitId ?? staffVisitId(person.personId),
          staff: person.role === 'staff',
        });
    }
  const out: Array<{ at: number; input: FusionInput }> = [];
  const started = new Set<string>();
  const members = new Map<string, number>();
  for (const [personId, person] of seen) {
    if (!started.has(person.visitId)) {
      started.add(person.visitId);
      out.push({
        at: person.first,
        input: { topic: 'visit.started', message: { ...base(`started-${person.visitId}`, person.first), visitId: person.visitId, kind: person.staff ? 'staff' : 'shopper', partySize: 1 } },
      });
      const exitMs = exits.get(person.visitId) ?? person.last;
      out.push({ at: exitMs, input: { topic: 'visit.ended', message: { ...base(`ended-${person.visitId}`, exitMs), visitId: person.visitId, exitMs, confirmedByGate: true } } });
    }
    const member = members.get(person.visitId) ?? 0;
    members.set(person.visitId, member + 1);
    out.push({
      at: person.first,
      input: {
        topic: 'visit.track-bound',
        message: { ...base(`bound-${person.visitId}-${personId}`, person.first), visitId: person.visitId, trackId: `truth-${personId}`, member, reason: 'entry' },
      },
    });
  }
  return out;
}

/** Every input of the engine for a recording, in the order a live store would deliver them. */
export async function* fusionInputs(recording: Recording, options: { noiseM: number; seed: number }): AsyncGenerator<FusionInput> {
  const timed = [
    ...(await recordingShelfEvents(recording)).map(({ at, event }) => ({ at, input: { topic: 'shelf.event-detected', message: event } as FusionInput })),
    ...(await truthVisitMessages(recording)),
  ].sort((a, b) => a.at - b.at);
  let next = 0;
  for await (const instant of truthPeople(recording, options)) {
    // A visit is bound as its person is first seen: before the instant that shows them.
    while (next < timed.length && timed[next].at <= instant.ts) yield timed[next++].input;
    yield { topic: 'tracking.people-tracked', message: instant };
  }
  while (next < timed.length) yield timed[next++].input;
}

export function feed(engine: FusionEngine, input: FusionInput): FusionOutput[] {
  switch (input.topic) {
    case 'tracking.people-tracked':
      return engine.onPeople(input.message);
    case 'shelf.event-detected':
      return engine.onShelfEvent(input.message);
    case 'visit.started':
      return engine.onVisitStarted(input.message);
    case 'visit.track-bound':
      return engine.onTrackBound(input.message);
    case 'visit.ended':
      return engine.onVisitEnded(input.message);
  }
}

export interface FusionRun {
  outputs: FusionOutput[];
  records: SettledRecord[];
  events: ShelfEventDetected[];
  truth: ActionTruth[];
  receipts: ReceiptTruth[];
  /** The store's products (events are matched to actions by weight too). */
  products: ReadonlyMap<string, { unitWeightGrams: number }>;
  visits: number;
  storeMs: number;
  /** Wall time the engine itself took, ms (inputs made beforehand). */
  engineMs: number;
}

/**
 * Runs the engine over a recording; the inputs are read first, so engineMs is the engine's time alone.
 * `inputs` are the recording's own, read before with the same noise and seed (a fit settles each
 * recording many times under other parameters, and reading is most of a run's time).
 */
export async function runFusion(
  recording: Recording,
  options: { noiseM: number; seed: number; params?: AttributionParams; inputs?: readonly FusionInput[] },
): Promise<FusionRun> {
  const inputs = options.inputs ?? (await collect(fusionInputs(recording, options)));
  const records: SettledRecord[] = [];
  const engine = new FusionEngine({ index: recording.index, params: options.params, onSettled: (record) => records.push(record) });
  const outputs: FusionOutput[] = [];
  const started = performance.now();
  for (const input of inputs) outputs.push(...feed(engine, input));
  outputs.push(...engine.flush());
  const engineMs = performance.now() - started;
  const shelfEvents = inputs.filter((i): i is Extract<FusionInput, { topic: 'shelf.event-detected' }> => i.topic === 'shelf.event-detected').map((i) => i.message);
  const reexplained = outputs.flatMap((output) => (output.topic === 'fusion.change-reexplained' ? [output.message] : []));
  const events = settledChanges(shelfEvents, reexplained);
  return {
    outputs,
    records,
    events,
    truth: await collect(recording.truthActions()),
    receipts: await collect(recording.truthReceipts()),
    products: recording.index.products,
    visits: inputs.filter((i) => i.topic === 'visit.started' && i.message.kind !== 'staff').length,
    storeMs: recording.manifest.endMs - recording.manifest.startMs,
    engineMs,
  };
}

/** Who truly did what at a settled event, when the event matches a true action. */
export interface LabelledRecord extends SettledRecord {
  truth: { visitId: string; productId: string; quantity: number } | null;
  /** Two shoppers at one lane at once: every visit's units (the first is `truth`'s); absent for one person's change. */
  truthShares?: Array<{ visitId: string; quantity: number }>;
  /** A put and a pick at once: actions of both kinds made the change (the other kind is in no option). */
  truthNetted?: true;
}

export function labelRecords(run: Pick<FusionRun, 'records' | 'events' | 'truth' | 'products'>): LabelledRecord[] {
  const byEvent = new Map([...matchSharedEvents(run.events, run.truth, { products: run.products })].map(([event, actions]) => [event.shelfEventId, actions]));
  return run.records.map((record) => {
    // An action of the other kind netted into the change is no option's share: fusion reads one kind a change.
    const actions = byEvent.get(record.event.shelfEventId) ?? [];
    const kinds = new Set(actions.map((action) => action.kind));
    const netted = kinds.has('pick') && kinds.has('put') ? { truthNetted: true as const } : {};
    const shares = actions
      .filter((action) => action.kind === record.event.kind)
      .map((action) => ({ action, visitId: action.visitId ?? (action.personId ? staffVisitId(action.personId) : undefined) }))
      .filter((share): share is { action: ActionTruth; visitId: string } => share.visitId !== undefined);
    if (shares.length === 0) return { ...record, ...netted, truth: null };
    const [first] = shares;
    const truth = { visitId: first.visitId, productId: first.action.productId, quantity: first.action.quantity };
    // One visit's several actions in one change are one share of all their units.
    const units = new Map<string, number>();
    for (const share of shares) units.set(share.visitId, (units.get(share.visitId) ?? 0) + share.action.quantity);
    if (units.size === 1) return { ...record, ...netted, truth: { ...truth, quantity: units.get(first.visitId)! } };
    return { ...record, ...netted, truth, truthShares: [...units].map(([visitId, quantity]) => ({ visitId, quantity })) };
  });
}

/** Whether an option says exactly what the truth of its record does: the product, and every visit's units. */
export function optionIsTruth(record: Pick<LabelledRecord, 'truth' | 'truthShares'>, option: Pick<JointOption, 'who' | 'productId' | 'quantity' | 'partner'>): boolean {
  if (record.truth === null || option.productId !== record.truth.productId) return false;
  const expected = record.truthShares ?? [{ visitId: record.truth.visitId, quantity: record.truth.quantity }];
  const shares = sharesOf(option);
  return shares.length === expected.length && expected.every((e) => shares.some((share) => share.who.visitId === e.visitId && share.quantity === e.quantity));
}

/** How a settled event came out against the truth: decided or not, and right, or wrong in what way. */
export type EventVerdict = 'right' | 'wrong-who' | 'wrong-what' | 'spurious' | 'nothing-offered';

export interface EventDiagnosis {
  shelfEventId: string;
  shelfId: string;
  kind: 'pick' | 'put';
  plateIds: string[];
  startMs: number;
  deltaGrams: number;
  outcome: SettledRecord['outcome'];
  confidence: number;
  /**
   * right: the best option is the truth; wrong-who / wrong-what: it matches a true action but names
   * another visit, or the right visit with another product or quantity; spurious: no true action
   * matches the event; nothing-offered: it matches one, and fusion had no option (a change nothing
   * explains).
   */
  verdict: EventVerdict;
  truth: string | null;
  best: string | null;
}

/** "v-1:p-1 x 2", or "v-1:p-1 x 1 + v-2:p-1 x 1" for two people at once. */
const optionName = (productId: string, shares: ReadonlyArray<{ visitId: string | null | undefined; quantity: number }>) =>
  shares.map((share) => `${share.visitId ?? '-'}:${productId} x ${share.quantity}`).join(' + ');

/** Whether an option names the same visits as the truth, whatever their units. */
function sameVisits(record: LabelledRecord, option: JointOption): boolean {
  const expected = new Set((record.truthShares ?? (record.truth ? [record.truth] : [])).map((share) => share.visitId));
  const named = new Set(sharesOf(option).map((share) => share.who.visitId));
  return expected.size === named.size && [...expected].every((visitId) => named.has(visitId));
}

/** Every settled event with its verdict (for finding where attribution goes wrong). */
export function diagnoseRecords(records: readonly LabelledRecord[]): EventDiagnosis[] {
  return records.map((record) => {
    const best = record.options[0];
    const verdict: EventVerdict = bestIsRight(record)
      ? 'right'
      : record.truth === null
        ? 'spurious'
        : best === undefined
          ? 'nothing-offered'
          : !sameVisits(record, best)
            ? 'wrong-who'
            : 'wrong-what';
    return {
      shelfEventId: record.event.shelfEventId,
      shelfId: record.event.shelfId,
      kind: record.event.kind,
      plateIds: record.event.plateIds,
      startMs: record.event.startMs,
      deltaGrams: record.event.deltaGrams,
      outcome: record.outcome,
      confidence: record.confidence,
      verdict,
      truth: record.truth ? optionName(record.truth.productId, record.truthShares ?? [record.truth]) : null,
      best: best
        ? optionName(best.productId, sharesOf(best).map((share) => ({ visitId: share.who.visitId, quantity: share.quantity }))) +
          (best.alongside ? ` with ${best.alongside.productId} x ${best.alongside.quantity}` : '')
        : null,
    };
  });
}

export interface AttributionScore {
  visits: number;
  events: number;
  /** True picks and puts at shelves, and the events that match one (what shelf perception left to attribute). */
  trueActions: number;
  matchedEvents: number;
  attributed: number;
  /** Attributions whose visit, product and quantity are all right (spurious events count as wrong). */
  attributedRight: number;
  attributionAccuracy: number;
  reviews: number;
  unexpectedPuts: number;
  reviewsPer1000: number;
  calibrationError: number;
  reliability: CalibrationBin[];
  /** Each decision's stated confidence and whether it was right (for pooling runs). */
  decisions: Array<{ confidence: number; right: boolean }>;
  receiptsExact: number;
  exactMatch: number;
  /** Receipts of visits with no review pending that are wrong. */
  wrongReceipts: string[];
  engineMs: number;
  storeMs: number;
}

/** Whether a record's best option is the truth: its visit, product and quantity all right (a spurious event is never right). */
export function bestIsRight(record: LabelledRecord): boolean {
  const best = record.options[0];
  return best !== undefined && optionIsTruth(record, best);
}

export function scoreRun(run: FusionRun): AttributionScore {
  const labelled = labelRecords(run);
  const decided = labelled.filter((r) => r.outcome === 'attributed');
  const attributedRight = decided.filter(bestIsRight).length;
  const decisions = decided.map((r) => ({ confidence: r.confidence, right: bestIsRight(r) }));
  const { calibration: reliability, calibrationError } = calibrationTable(decisions);
  const withdrawn = withdrawnReviews(run.outputs);
  const reviews = run.outputs.flatMap((o) => (o.topic === 'review.item-opened' && !withdrawn.has(o.message.reviewId) ? [o.message] : []));
  const receipts = scoreReceipts(run);
  return {
    visits: run.visits,
    events: run.events.length,
    trueActions: run.truth.filter((a) => (a.kind === 'pick' || a.kind === 'put') && a.shelfId !== undefined).length,
    matchedEvents: labelled.filter((r) => r.truth !== null).length,
    attributed: decided.length,
    attributedRight,
    attributionAccuracy: decided.length > 0 ? attributedRight / decided.length : 1,
    reviews: reviews.length,
    unexpectedPuts: reviews.filter((item) => item.kind === 'unexpected-put').length,
    reviewsPer1000: run.visits > 0 ? (1000 * reviews.length) / run.visits : 0,
    calibrationError,
    reliability,
    decisions,
    receiptsExact: receipts.exact,
    exactMatch: run.visits > 0 ? receipts.exact / run.visits : 1,
    wrongReceipts: receipts.wrong,
    engineMs: run.engineMs,
    storeMs: run.storeMs,
  };
}

/**
 * Receipts from the attributions (a pick adds, a put removes, staff carry nothing), compared line by
 * line with the true receipts; a visit with a review naming it is not exact (its receipt waits).
 */
function scoreReceipts(run: FusionRun): { exact: number; wrong: string[] } {
  const carts = new Map<string, Map<string, number>>();
  const waiting = new Set<string>();
  const withdrawn = withdrawnReviews(run.outputs);
  for (const output of run.outputs) {
    if (output.topic === 'review.item-opened' && !withdrawn.has(output.message.reviewId)) for (const visitId of output.message.visitIds) waiting.add(visitId);
    if (output.topic !== 'fusion.event-attributed' || output.message.visitKind === 'staff') continue;
    const attributed: EventAttributed = output.message;
    const cart = carts.get(attributed.visitId) ?? new Map<string, number>();
    carts.set(attributed.visitId, cart);
    for (const line of attributed.lines) cart.set(line.productId, Math.max(0, (cart.get(line.productId) ?? 0) + (attributed.kind === 'pick' ? line.quantity : -line.quantity)));
  }
  let exact = 0;
  const wrong: string[] = [];
  for (const receipt of run.receipts) {
    const cart = carts.get(receipt.visitId) ?? new Map<string, number>();
    const expected = new Map(receipt.lines.map((l) => [l.productId, l.quantity]));
    const same = [...new Set([...cart.keys(), ...expected.keys()])].every((productId) => (cart.get(productId) ?? 0) === (expected.get(productId) ?? 0));
    if (same && !waiting.has(receipt.visitId)) exact++;
    else if (!waiting.has(receipt.visitId)) wrong.push(receipt.visitId);
  }
  return { exact, wrong };
}

/** The review items fusion withdrew in a run (a put-back answered the pick): neither reviews nor waits. */
function withdrawnReviews(outputs: readonly FusionOutput[]): Set<string> {
  return new Set(outputs.flatMap((o) => (o.topic === 'review.item-resolved' && o.message.decision.outcome === 'withdrawn' ? [o.message.reviewId] : [])));
}
