import test from 'node:test';
import assert from 'node:assert/strict';
import {
  SCHEMA_VERSION,
  type ActionTruth,
  type CartLine,
  type CartUpdated,
  type EventAttributed,
  type ReceiptFinalised,
  type ReceiptTruth,
  type ReviewItemOpened,
  type ReviewItemResolved,
  type ShelfEventDetected,
} from '../contracts/index.ts';
import { scoreReceipts, unitPrecisionRecall, type ReceiptRun, type ReceiptTruthSet, type ScoredVisitTruth } from './receipts.eval.ts';

const T0 = 1_700_000_000_000;
const PRICE = 100;

/** A store's worth of one recording, built by hand: every action gets a shelf event; attributions are said per case. */
class Case {
  readonly truth: ReceiptTruthSet & { visits: ScoredVisitTruth[]; receipts: ReceiptTruth[]; actions: ActionTruth[] } = { visits: [], receipts: [], actions: [] };
  readonly run: ReceiptRun & { receipts: ReceiptFinalised[]; attributions: EventAttributed[]; reviews: ReviewItemOpened[]; shelfEvents: ShelfEventDetected[]; cartUpdates: CartUpdated[] } = {
    receipts: [],
    attributions: [],
    reviews: [],
    shelfEvents: [],
    cartUpdates: [],
  };
  private clock = 0;

  visit(visitId: string, taken: CartLine[], extra: Partial<ScoredVisitTruth> = {}) {
    this.truth.visits.push({ visitId, accountId: `acc-${visitId}`, personIds: [`p-${visitId}`], entryMs: T0, exitMs: T0 + 600_000, ...extra });
    this.truth.receipts.push({
      visitId,
      accountId: `acc-${visitId}`,
      lines: taken.map((line) => ({ ...line, unitPriceCents: PRICE })),
      totalCents: taken.reduce((sum, line) => sum + line.quantity * PRICE, 0),
    });
  }

  /** A true pick (or put) on its own lane, and the shelf event that saw it; returns the shelf event id. */
  action(visitId: string | undefined, kind: 'pick' | 'put', productId: string, quantity = 1): { shelfEventId: string; action: ActionTruth } {
    this.clock += 10_000;
    const n = this.truth.actions.length;
    const lane = `g1-s1-l${n}`;
    const action: ActionTruth = {
      actionId: `a${n}`,
      kind,
      startMs: T0 + this.clock,
      endMs: T0 + this.clock + 1_000,
      ...(visitId === undefined ? { personId: 'p-staff' } : { personId: `p-${visitId}`, visitId }),
      productId,
      quantity,
      shelfId: 'g1-s1',
      laneId: lane,
    };
    this.truth.actions.push(action);
    const shelfEventId = `se-${n}`;
    this.run.shelfEvents.push({
      schemaVersion: SCHEMA_VERSION,
      eventId: shelfEventId,
      storeId: 'kiosk',
      ts: action.endMs,
      shelfEventId,
      shelfId: 'g1-s1',
      plateIds: ['g1-s1-p1'],
      laneIds: [lane],
      kind,
      startMs: action.startMs + 200,
      endMs: action.endMs + 300,
      deltaGrams: kind === 'pick' ? -300 : 300,
      sigmaGrams: 3,
      hypotheses: [{ productId, quantity, probability: 0.9 }],
      confidence: 0.9,
      health: 'ok',
    } as ShelfEventDetected);
    return { shelfEventId, action };
  }

  attribute(shelfEventId: string, visitId: string, kind: 'pick' | 'put', productId: string, confidence = 0.95, quantity = 1, alongside: CartLine[] = []) {
    const event = this.run.shelfEvents.find((e) => e.shelfEventId === shelfEventId)!;
    this.run.attributions.push({
      schemaVersion: SCHEMA_VERSION,
      eventId: `attr/${shelfEventId}`,
      storeId: 'kiosk',
      ts: event.endMs + 2_000,
      shelfEventId,
      visitId,
      visitKind: 'shopper',
      kind,
      lines: [{ productId, quantity }, ...alongside],
      laneIds: event.laneIds,
      misplaced: false,
      confidence,
      candidates: [],
      source: 'fusion',
    });
  }

  /** A true pick attributed rightly. */
  pick(visitId: string, productId: string, quantity = 1) {
    const { shelfEventId } = this.action(visitId, 'pick', productId, quantity);
    this.attribute(shelfEventId, visitId, 'pick', productId, 0.95, quantity);
    return shelfEventId;
  }

  receipt(visitId: string, lines: CartLine[], pending: ReceiptFinalised['pending'] = []) {
    this.run.receipts.push({
      schemaVersion: SCHEMA_VERSION,
      eventId: `receipt/${visitId}`,
      storeId: 'kiosk',
      ts: T0 + 700_000,
      visitId,
      receiptId: `receipt-${visitId}`,
      exitMs: T0 + 600_000,
      lines: lines.map((line) => ({ ...line, unitPriceCents: PRICE, totalCents: PRICE * line.quantity })),
      pending,
      totalCents: lines.reduce((sum, line) => sum + line.quantity * PRICE, 0),
    });
  }

  review(reviewId: string, shelfEventId: string | undefined, visitIds: string[], kind: 'attribution' | 'tailgating' | 'binding' = 'attribution') {
    this.run.reviews.push({
      schemaVersion: SCHEMA_VERSION,
      eventId: `open/${reviewId}`,
      storeId: 'kiosk',
      ts: T0 + this.clock,
      reviewId,
      kind,
      reason: kind === 'tailgating' ? 'came in without a scan' : 'close call',
      ...(shelfEventId === undefined ? {} : { shelfEventId }),
      visitIds,
    });
  }

  score() {
    return scoreReceipts(this.truth, this.run);
  }
}

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);

test('every receipt right: exact 1, F1 1, every action attributed right, nothing missing', () => {
  const c = new Case();
  c.visit('v1', [{ productId: 'soda', quantity: 2 }]);
  c.visit('v2', [{ productId: 'chips', quantity: 1 }]);
  c.pick('v1', 'soda', 2);
  c.pick('v2', 'chips');
  c.receipt('v1', [{ productId: 'soda', quantity: 2 }]);
  c.receipt('v2', [{ productId: 'chips', quantity: 1 }]);
  const score = c.score();
  assert.equal(score.visits, 2);
  assert.equal(score.exactMatch, 1);
  assert.equal(score.exactMatchBeforeReview, 1);
  assert.equal(score.receiptF1, 1);
  assert.equal(score.actions, 2);
  assert.equal(score.attributionAccuracy, 1);
  assert.equal(score.missingReceipts, 0);
  assert.equal(score.reviewsPer1000, 0);
});

test('one wrong line: that visit scores precision and recall 1/2, the average over visits 3/4', () => {
  const c = new Case();
  c.visit('v1', [{ productId: 'soda', quantity: 2 }]);
  c.visit('v2', [{ productId: 'chips', quantity: 1 }]);
  // v1 took two sodas in two picks; the second was put on v1's cart as water.
  c.pick('v1', 'soda');
  const { shelfEventId } = c.action('v1', 'pick', 'soda');
  c.attribute(shelfEventId, 'v1', 'pick', 'water');
  c.pick('v2', 'chips');
  c.receipt('v1', [
    { productId: 'soda', quantity: 1 },
    { productId: 'water', quantity: 1 },
  ]);
  c.receipt('v2', [{ productId: 'chips', quantity: 1 }]);
  const score = c.score();
  assert.equal(score.exactMatch, 0.5);
  const v1 = score.perVisit.find((v) => v.visitId === 'v1')!;
  assert.deepEqual([v1.precision, v1.recall, v1.exact], [0.5, 0.5, false]);
  assert.deepEqual(v1.missing, [{ productId: 'soda', quantity: 1 }]);
  assert.deepEqual(v1.extra, [{ productId: 'water', quantity: 1 }]);
  close(score.receiptPrecision, 0.75, 'precision');
  close(score.receiptRecall, 0.75, 'recall');
  close(score.receiptF1, 0.75, 'F1');
  close(score.attributionAccuracy, 2 / 3, 'attribution accuracy');
});

test('a line pending review counts as exact when the right decision makes it so, not before', () => {
  const c = new Case();
  c.visit('v1', [
    { productId: 'soda', quantity: 1 },
    { productId: 'juice', quantity: 1 },
  ]);
  c.visit('v2', []);
  c.pick('v1', 'soda');
  const { shelfEventId } = c.action('v1', 'pick', 'juice');
  c.review('r1', shelfEventId, ['v1', 'v2']);
  const pending = [{ reviewId: 'r1', shelfEventId, candidates: [{ productId: 'juice', quantity: 1 }] }];
  c.receipt('v1', [{ productId: 'soda', quantity: 1 }], pending);
  c.receipt('v2', [], pending);
  const score = c.score();
  assert.equal(score.exactMatch, 1, 'after review, both receipts are right (v2 is given nothing)');
  assert.equal(score.exactMatchBeforeReview, 0.5, 'before review, v1 lacks the juice');
  assert.equal(score.receiptF1, 1);
  assert.ok(score.receiptF1BeforeReview < 1);
  assert.equal(score.reviews, 1);
  assert.equal(score.reviewsPer1000, 500);
  assert.deepEqual(score.reviewsByKind, { attribution: 1 });
  assert.equal(score.visitsWithPending, 2);
  close(score.attributionAccuracy, 1 / 2, 'the juice went to review, not attributed');
});

test('a tailgating flag is an operator flag, counted next to the reviews and not among them', () => {
  const c = new Case();
  c.visit('v1', [{ productId: 'soda', quantity: 1 }]);
  c.visit('v2', [], { kind: 'anonymous', tags: ['tailgating'] });
  c.pick('v1', 'soda');
  const { shelfEventId } = c.action('v2', 'pick', 'chips');
  c.review('r1', shelfEventId, ['v1', 'v2']);
  c.review('t1', undefined, ['v2'], 'tailgating');
  c.receipt('v1', [{ productId: 'soda', quantity: 1 }]);
  c.receipt('v2', [], [{ reviewId: 'r1', shelfEventId, candidates: [{ productId: 'chips', quantity: 1 }] }]);
  const score = c.score();
  assert.equal(score.reviews, 1);
  assert.deepEqual(score.reviewsByKind, { attribution: 1 });
  assert.equal(score.reviewsPer1000, 500);
  assert.equal(score.operatorFlags, 1);
  assert.equal(score.operatorFlagsPer1000, 500);
  assert.deepEqual([score.byTag['tailgating']?.operatorFlags, score.byTag['tailgating']?.reviews], [1, 1], 'per tag: the items naming a visit with the tag');
});

test('a binding item withdrawn by the gate (a decision on the other of the pair answered it) is counted apart from the reviews', () => {
  const c = new Case();
  c.visit('v1', []);
  c.visit('v2', []);
  c.review('b1', undefined, ['v1', 'v2'], 'binding');
  c.review('b2', undefined, ['v1', 'v2'], 'binding');
  const resolution = (reviewId: string, decision: ReviewItemResolved['decision'], reviewer: string): ReviewItemResolved => ({
    schemaVersion: SCHEMA_VERSION, eventId: `resolved/${reviewId}`, storeId: 'kiosk', ts: T0 + 1_000, reviewId, decision, reviewer,
  });
  c.receipt('v1', []);
  c.receipt('v2', []);
  const run = {
    ...c.run,
    resolutions: [
      resolution('b1', { outcome: 'bound', visitId: 'v2', trackId: 't-1' }, 'operator-1'),
      resolution('b2', { outcome: 'withdrawn', note: 'the pair traded places', settledBy: 'b1' }, 'gate'),
    ],
  };
  const score = scoreReceipts(c.truth, run);
  assert.deepEqual([score.reviews, score.reviewsByKind, score.withdrawn, score.operatorFlags], [1, { binding: 1 }, 1, 0]);
  assert.equal(score.reviewsPer1000, 500);
  assert.equal(c.score().reviews, 2, 'without the resolutions, both are reviews');
});

test('the review items counted are listed with their reasons and what truly happened at their shelf events; flags and withdrawn items are not', () => {
  const c = new Case();
  c.visit('v1', [{ productId: 'juice', quantity: 1 }]);
  c.visit('v2', [], { kind: 'anonymous', tags: ['tailgating'] });
  const { shelfEventId: juice } = c.action('v1', 'pick', 'juice');
  c.review('r1', juice, ['v1', 'v2']);
  c.review('t1', undefined, ['v2'], 'tailgating');
  c.review('b1', undefined, ['v1', 'v2'], 'binding');
  c.review('b2', undefined, ['v1', 'v2'], 'binding');
  c.receipt('v1', [], [{ reviewId: 'r1', shelfEventId: juice, candidates: [{ productId: 'juice', quantity: 1 }] }]);
  c.receipt('v2', []);
  const withdrawal: ReviewItemResolved = {
    schemaVersion: SCHEMA_VERSION, eventId: 'b2-withdrawn', storeId: 'kiosk', ts: T0 + 1_000, reviewId: 'b2',
    decision: { outcome: 'withdrawn', note: 'the pair traded places', settledBy: 'b1' }, reviewer: 'gate',
  };
  const score = scoreReceipts(c.truth, { ...c.run, resolutions: [withdrawal] });
  assert.equal(score.reviewItems.length, score.reviews, 'the items listed are the ones counted');
  assert.deepEqual(score.reviewItems, [
    { reviewId: 'r1', kind: 'attribution', reason: 'close call', visitIds: ['v1', 'v2'], shelfEventId: juice, truth: [{ kind: 'pick', visitId: 'v1', productId: 'juice', quantity: 1, laneId: 'g1-s1-l0' }] },
    { reviewId: 'b1', kind: 'binding', reason: 'close call', visitIds: ['v1', 'v2'], shelfEventId: null, truth: [] },
  ]);
});

test('a put decided while the pick it undoes waits for review: once the pick is decided, the put takes its unit away', () => {
  const c = new Case();
  c.visit('v1', []);
  const { shelfEventId: pick } = c.action('v1', 'pick', 'soda');
  c.review('r1', pick, ['v1']);
  // The put is sure and decided; the cart holds no soda yet, so the put takes nothing away for now.
  const { shelfEventId: put } = c.action('v1', 'put', 'soda');
  c.attribute(put, 'v1', 'put', 'soda');
  c.receipt('v1', [], [{ reviewId: 'r1', shelfEventId: pick, candidates: [{ productId: 'soda', quantity: 1 }] }]);
  const [v1] = c.score().perVisit;
  assert.equal(v1.exact, true, `after review: missing ${JSON.stringify(v1.missing)}, extra ${JSON.stringify(v1.extra)}`);
  assert.equal(v1.exactBeforeReview, true);
});

test('a pick in review fusion withdrew (the shopper put the unit back) is no review, and its decision with the put stands after review', () => {
  const c = new Case();
  c.visit('v1', []);
  // The soda was picked and put back; fusion decided both as its look-alike, water, and withdrew the pick's item.
  const { shelfEventId: pick } = c.action('v1', 'pick', 'soda');
  c.review('r1', pick, ['v1']);
  c.attribute(pick, 'v1', 'pick', 'water', 0.55);
  const { shelfEventId: put } = c.action('v1', 'put', 'soda');
  c.attribute(put, 'v1', 'put', 'water', 0.55);
  // A receipt that went out before the withdrawal reached the cart still lists the item.
  c.receipt('v1', [], [{ reviewId: 'r1', shelfEventId: pick, candidates: [{ productId: 'soda', quantity: 1 }] }]);
  const withdrawal: ReviewItemResolved = {
    schemaVersion: SCHEMA_VERSION,
    eventId: 'r1-withdrawn',
    storeId: 'kiosk',
    ts: T0 + 30_000,
    reviewId: 'r1',
    decision: { outcome: 'withdrawn', note: 'v1 put the unit back', settledBy: put },
    reviewer: 'fusion',
  };
  const score = scoreReceipts(c.truth, { ...c.run, resolutions: [withdrawal] });
  assert.deepEqual([score.reviews, score.withdrawn], [0, 1]);
  const [v1] = score.perVisit;
  assert.equal(v1.exact, true, `after review: missing ${JSON.stringify(v1.missing)}, extra ${JSON.stringify(v1.extra)}`);
  close(score.attributionAccuracy, 0, 'both decisions named the look-alike');
});

test('figures per tag: each tag sees only its visits; staff visits are not scored; a visit without a receipt is missing', () => {
  const c = new Case();
  c.visit('v1', [{ productId: 'soda', quantity: 1 }], { tags: ['crossing-arms'] });
  c.visit('v2', [{ productId: 'chips', quantity: 1 }], { tags: ['crossing-arms', 'group'] });
  c.visit('v3', [{ productId: 'gum', quantity: 1 }], { tags: ['group'] });
  c.visit('s1', [], { kind: 'staff', tags: ['restocking'] } as Partial<ScoredVisitTruth>);
  c.pick('v1', 'soda');
  const wrong = c.action('v2', 'pick', 'chips');
  c.attribute(wrong.shelfEventId, 'v1', 'pick', 'chips', 0.6);
  c.pick('v3', 'gum');
  c.receipt('v1', [
    { productId: 'soda', quantity: 1 },
    { productId: 'chips', quantity: 1 },
  ]);
  c.receipt('v3', [{ productId: 'gum', quantity: 1 }]);
  const score = c.score();
  assert.equal(score.visits, 3, 'the staff visit is not scored');
  close(score.exactMatch, 1 / 3, 'only v3 is exact');
  assert.equal(score.missingReceipts, 1);
  assert.deepEqual(Object.keys(score.byTag), ['crossing-arms', 'group']);
  const crossing = score.byTag['crossing-arms'];
  assert.equal(crossing.visits, 2);
  assert.equal(crossing.exactMatch, 0);
  assert.equal(crossing.missingReceipts, 1);
  close(crossing.attributionAccuracy, 1 / 2, 'crossing-arms attribution');
  assert.equal(crossing.attributions, 2, 'the wrong attribution counts for the visit charged and the visit that took it');
  const group = score.byTag.group;
  assert.equal(group.visits, 2);
  assert.equal(group.exactMatch, 0.5);
  close(group.receiptRecall, 0.5, 'v2 recalls nothing, v3 everything');
});

test('the scorer measures calibration on fusion attributions: right ones at 0.95 and a wrong one at 0.6', () => {
  const c = new Case();
  c.visit('v1', [{ productId: 'soda', quantity: 3 }]);
  c.visit('v2', [{ productId: 'soda', quantity: 1 }]);
  for (let i = 0; i < 3; i++) c.pick('v1', 'soda');
  const wrong = c.action('v2', 'pick', 'soda');
  c.attribute(wrong.shelfEventId, 'v1', 'pick', 'soda', 0.6);
  const score = c.score();
  assert.equal(score.attributions, 4);
  // 3/4 x |1 - 0.95| + 1/4 x |0 - 0.6|
  close(score.calibrationError, 0.75 * 0.05 + 0.25 * 0.6, 'ECE');
});

test('pick-to-cart latency runs from the action\'s end to the cart update that applied its shelf event', () => {
  const c = new Case();
  c.visit('v1', [{ productId: 'soda', quantity: 2 }]);
  const picks = [c.pick('v1', 'soda'), c.pick('v1', 'soda')];
  const delays = [1_500, 4_000];
  picks.forEach((shelfEventId, i) => {
    const action = c.truth.actions[i];
    const update = (version: number, ts: number): CartUpdated => ({
      schemaVersion: SCHEMA_VERSION,
      eventId: `cart/v1/${version}`,
      storeId: 'kiosk',
      ts,
      visitId: 'v1',
      version,
      lines: [],
      pendingReviewIds: [],
      totalCents: 0,
      appliedShelfEventId: shelfEventId,
    });
    c.run.cartUpdates.push(update(i + 1, action.endMs + delays[i]));
  });
  c.receipt('v1', [{ productId: 'soda', quantity: 2 }]);
  const { latency } = c.score();
  assert.deepEqual(latency, { count: 2, p50Ms: 1_500, p99Ms: 4_000 });
});

test('an anonymous visit the pipeline named itself is scored against the true visit its picks belong to', () => {
  const c = new Case();
  c.visit('t1', [{ productId: 'gum', quantity: 1 }], { tags: ['tailgating'] });
  const { shelfEventId } = c.action('t1', 'pick', 'gum');
  c.attribute(shelfEventId, 'anon-7', 'pick', 'gum');
  c.receipt('anon-7', [{ productId: 'gum', quantity: 1 }]);
  const score = c.score();
  assert.equal(score.exactMatch, 1);
  assert.equal(score.attributionAccuracy, 1);
  assert.equal(score.perVisit[0].receiptVisitId, 'anon-7');
  assert.deepEqual(score.extraReceipts, []);
});

test('unit precision and recall: both empty is right, one side empty is wrong', () => {
  const none = new Map<string, number>();
  const one = new Map([['soda', 1]]);
  assert.deepEqual(unitPrecisionRecall(none, none), { precision: 1, recall: 1, f1: 1 });
  assert.deepEqual(unitPrecisionRecall(one, none), { precision: 0, recall: 0, f1: 0 });
  assert.deepEqual(unitPrecisionRecall(none, one), { precision: 0, recall: 0, f1: 0 });
  assert.deepEqual(unitPrecisionRecall(new Map([['soda', 3]]), one), { precision: 1 / 3, recall: 1, f1: 0.5 });
});

test('without a true receipt, what a visit took is its picks less its puts', () => {
  const c = new Case();
  c.visit('v1', []);
  c.truth.receipts.length = 0;
  c.pick('v1', 'soda', 2);
  const { shelfEventId } = c.action('v1', 'put', 'soda');
  c.attribute(shelfEventId, 'v1', 'put', 'soda');
  c.receipt('v1', [{ productId: 'soda', quantity: 1 }]);
  const score = c.score();
  assert.equal(score.exactMatch, 1);
  assert.equal(score.attributionAccuracy, 1);
  c.run.receipts[0].lines[0].quantity = 2;
  assert.equal(c.score().exactMatch, 0);
});

/** Two shoppers each take one unit from one lane at once; the shelf sees one change of two units. */
function twoAtOnce(c: Case): string {
  c.visit('v1', [{ productId: 'soda', quantity: 1 }]);
  c.visit('v2', [{ productId: 'soda', quantity: 1 }]);
  const { shelfEventId, action } = c.action('v1', 'pick', 'soda');
  c.truth.actions.push({ ...action, actionId: 'a-second', personId: 'p-v2', visitId: 'v2', startMs: action.startMs + 300, endMs: action.endMs + 200 });
  const event = c.run.shelfEvents.find((e) => e.shelfEventId === shelfEventId)!;
  Object.assign(event, { deltaGrams: -600, hypotheses: [{ productId: 'soda', quantity: 2, probability: 0.9 }] });
  return shelfEventId;
}

test('two shoppers at one lane at once, in review: the truth decides one unit each, so both receipts can be exact', () => {
  const c = new Case();
  const shelfEventId = twoAtOnce(c);
  c.review('r1', shelfEventId, ['v1', 'v2']);
  const pending = [{ reviewId: 'r1', shelfEventId, candidates: [{ productId: 'soda', quantity: 2 }] }];
  c.receipt('v1', [], pending);
  c.receipt('v2', [], pending);
  const score = c.score();
  assert.equal(score.exactMatch, 1);
  assert.equal(score.exactMatchBeforeReview, 0);
  assert.deepEqual(score.perVisit.map((v) => v.missing), [[], []]);
});

test('two shoppers at one lane at once, decided: each share is an attribution of its own, scored against that shopper\'s action', () => {
  const c = new Case();
  const shelfEventId = twoAtOnce(c);
  c.attribute(shelfEventId, 'v1', 'pick', 'soda');
  c.attribute(shelfEventId, 'v2', 'pick', 'soda');
  c.receipt('v1', [{ productId: 'soda', quantity: 1 }]);
  c.receipt('v2', [{ productId: 'soda', quantity: 1 }]);
  const score = c.score();
  assert.equal(score.exactMatch, 1);
  assert.equal(score.attributionAccuracy, 1, 'both actions attributed right');
  assert.equal(score.calibration.reduce((sum, bin) => sum + bin.count, 0), 2, 'two decisions, both right');
});

test('one grab of two products the shelf saw as one change: an attribution with both lines is right, one with a line nobody took is not', () => {
  for (const [alongside, right] of [
    ['crisps', true],
    ['candy', false],
  ] as const) {
    const c = new Case();
    c.visit('v1', [
      { productId: 'soda', quantity: 1 },
      { productId: 'crisps', quantity: 1 },
    ]);
    const { shelfEventId, action } = c.action('v1', 'pick', 'soda');
    // The same hand took a misplaced bag of crisps with the soda: a second action, no event of its own.
    c.truth.actions.push({ ...action, actionId: `${action.actionId}-with`, productId: 'crisps' });
    c.attribute(shelfEventId, 'v1', 'pick', 'soda', 0.9, 1, [{ productId: alongside, quantity: 1 }]);
    c.receipt('v1', [
      { productId: 'soda', quantity: 1 },
      { productId: alongside, quantity: 1 },
    ]);
    const score = c.score();
    assert.equal(score.exactMatch, right ? 1 : 0, alongside);
    // The calibration's one decision is right or wrong with the receipt.
    assert.deepEqual(score.calibration.filter((bin) => bin.count > 0).map((bin) => [bin.count, bin.accuracy]), [[1, right ? 1 : 0]], alongside);
  }
});

test('an anonymous visit whose only pick went to review is scored against the true visit that pick was, once the reviewer decides', () => {
  const c = new Case();
  c.visit('t1', [{ productId: 'gum', quantity: 1 }], { kind: 'anonymous', tags: ['tailgating'] });
  c.visit('v1', []);
  const { shelfEventId } = c.action('t1', 'pick', 'gum');
  c.review('r1', shelfEventId, ['v1', 'anon-7']);
  const pending = [{ reviewId: 'r1', shelfEventId, candidates: [{ productId: 'gum', quantity: 1 }] }];
  c.receipt('anon-7', [], pending);
  c.receipt('v1', [], pending);
  const score = c.score();
  assert.equal(score.perVisit[0].receiptVisitId, 'anon-7');
  assert.deepEqual(score.perVisit[0].missing, [], 'the reviewer gives the gum to the visit the item waits on');
  assert.equal(score.exactMatch, 1);
  assert.equal(score.exactMatchBeforeReview, 0.5, 'before review only v1, who took nothing, is right');
  assert.deepEqual(score.extraReceipts, []);
});

test('a put and a pick by two shoppers netted into one change, in review: the truth decides each shopper\'s own kind, so both receipts can be exact', () => {
  const c = new Case();
  c.truth.products = new Map([
    ['soda', { unitWeightGrams: 300 }],
    ['crisps', { unitWeightGrams: 160 }],
  ]);
  c.visit('v1', []); // took crisps earlier, puts them back on the plate now
  c.visit('v2', [{ productId: 'soda', quantity: 1 }]);
  c.pick('v1', 'crisps');
  const { shelfEventId, action } = c.action('v2', 'pick', 'soda');
  const event = c.run.shelfEvents.find((e) => e.shelfEventId === shelfEventId)!;
  c.truth.actions.push({ ...action, actionId: 'a-put', kind: 'put', personId: 'p-v1', visitId: 'v1', productId: 'crisps', startMs: action.startMs + 300, plateIds: event.plateIds });
  // The plate weighed the crisps put back less the soda taken, which no product explains.
  Object.assign(event, { deltaGrams: -141, hypotheses: [], confidence: 0 });
  c.review('r1', shelfEventId, ['v1', 'v2']);
  const pending = [{ reviewId: 'r1', shelfEventId, candidates: [] }];
  c.receipt('v1', [{ productId: 'crisps', quantity: 1 }], pending);
  c.receipt('v2', [], pending);
  const score = c.score();
  assert.equal(score.exactMatchBeforeReview, 0);
  assert.equal(score.exactMatch, 1);
  assert.deepEqual(score.perVisit.map((v) => [v.visitId, v.missing, v.extra]), [
    ['v1', [], []],
    ['v2', [], []],
  ]);
});

test('a pick in review that fusion answered when its gate binding was decided is no review, and its answer stands after review; one a person decided first is a review', () => {
  const c = new Case();
  c.visit('v1', [{ productId: 'soda', quantity: 1 }, { productId: 'juice', quantity: 1 }]);
  c.visit('v2', []);
  c.review('b1', undefined, ['v1', 'v2'], 'binding');
  const { shelfEventId: soda } = c.action('v1', 'pick', 'soda');
  c.review('r1', soda, ['v1', 'v2']);
  const { shelfEventId: juice } = c.action('v1', 'pick', 'juice');
  c.review('r2', juice, ['v1', 'v2']);
  c.receipt('v1', [], [
    { reviewId: 'r1', shelfEventId: soda, candidates: [{ productId: 'soda', quantity: 1 }] },
    { reviewId: 'r2', shelfEventId: juice, candidates: [{ productId: 'juice', quantity: 1 }] },
  ]);
  c.receipt('v2', []);
  const resolution = (reviewId: string, decision: ReviewItemResolved['decision'], reviewer: string): ReviewItemResolved => ({
    schemaVersion: SCHEMA_VERSION, eventId: `resolved/${reviewId}/${reviewer}`, storeId: 'kiosk', ts: T0 + 1_000, reviewId, decision, reviewer,
  });
  const picked = (productId: string): ReviewItemResolved['decision'] => ({ outcome: 'attributed', visitId: 'v1', kind: 'pick', lines: [{ productId, quantity: 1 }] });
  const score = scoreReceipts(c.truth, {
    ...c.run,
    resolutions: [
      resolution('b1', { outcome: 'bound', visitId: 'v1', trackId: 't-1' }, 'operator-1'),
      resolution('r2', picked('juice'), 'operator-1'),
      resolution('r1', picked('soda'), 'fusion'),
      resolution('r2', picked('juice'), 'fusion'),
    ],
  });
  assert.deepEqual([score.reviews, score.reviewsByKind, score.answered, score.withdrawn], [2, { binding: 1, attribution: 1 }, 1, 0]);
  assert.deepEqual(score.reviewItems.map((item) => item.reviewId), ['b1', 'r2']);
  const [v1] = score.perVisit;
  assert.equal(v1.exact, true, `after review: missing ${JSON.stringify(v1.missing)}, extra ${JSON.stringify(v1.extra)}`);
  // An answer that says otherwise than the truth is what the receipt after review holds.
  const wrong = scoreReceipts(c.truth, { ...c.run, resolutions: [resolution('r1', { outcome: 'attributed', visitId: 'v2', kind: 'pick', lines: [{ productId: 'soda', quantity: 1 }] }, 'fusion')] });
  assert.equal(wrong.perVisit.find((v) => v.visitId === 'v1')?.exact, false);
});
