import test from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type EventAttributed, type ReviewItemOpened, type ReviewItemResolved } from '../contracts/index.ts';
import { CartBook, reviewCandidates, type PriceList } from './cart.model.ts';

const PRICES: Record<string, number> = { cola: 120, chips: 250, gum: 99 };
const priceOf: PriceList = (productId) => PRICES[productId];
const T0 = 1_700_000_000_000;

function attribution(shelfEventId: string, visitId: string, kind: 'pick' | 'put', productId: string, quantity = 1, extra: Partial<EventAttributed> = {}): EventAttributed {
  return {
    schemaVersion: SCHEMA_VERSION,
    eventId: `attr/${shelfEventId}`,
    storeId: 'kiosk-1',
    ts: T0 + Number(shelfEventId.replace(/\D/g, '')) * 1000,
    shelfEventId,
    visitId,
    visitKind: 'shopper',
    kind,
    lines: [{ productId, quantity }],
    laneIds: ['g1-s1-l1'],
    misplaced: false,
    confidence: 0.99,
    candidates: [],
    source: 'fusion',
    ...extra,
  };
}

function opened(reviewId: string, shelfEventId: string, visitIds: string[]): ReviewItemOpened {
  return {
    schemaVersion: SCHEMA_VERSION,
    eventId: `open/${reviewId}`,
    storeId: 'kiosk-1',
    ts: T0 + 5_000,
    reviewId,
    kind: 'attribution',
    reason: 'two hands at the lane',
    shelfEventId,
    visitIds,
    change: 'pick',
    evidence: {
      candidates: [],
      hypotheses: [
        { productId: 'chips', quantity: 1, probability: 0.3 },
        { productId: 'cola', quantity: 1, probability: 0.7 },
      ],
      weight: { shelfId: 'g1-s1', plateIds: ['g1-s1-p1'], startMs: T0 + 5_000, endMs: T0 + 5_400, deltaGrams: -350 },
      frames: [],
    },
  };
}

function resolved(reviewId: string, decision: ReviewItemResolved['decision']): ReviewItemResolved {
  return { schemaVersion: SCHEMA_VERSION, eventId: `resolve/${reviewId}`, storeId: 'kiosk-1', ts: T0 + 60_000, reviewId, decision, reviewer: 'ops-1' };
}

const linesOf = (book: CartBook, visitId: string) => book.cart(visitId)?.view().lines.map((l) => [l.productId, l.quantity, l.totalCents]);

test('picks add priced lines; a put takes one away; the total is in cents', () => {
  const book = new CartBook(priceOf);
  book.attributed(attribution('e1', 'v1', 'pick', 'cola', 2));
  book.attributed(attribution('e2', 'v1', 'pick', 'chips'));
  book.attributed(attribution('e3', 'v1', 'put', 'cola'));
  const view = book.cart('v1')!.view();
  assert.deepEqual(linesOf(book, 'v1'), [['cola', 1, 120], ['chips', 1, 250]]);
  assert.equal(view.totalCents, 370);
  assert.equal(view.version, 3);
  assert.deepEqual(view.unheldRemovals, []);
});

test('an attribution delivered twice applies once', () => {
  const book = new CartBook(priceOf);
  assert.equal(book.attributed(attribution('e1', 'v1', 'pick', 'cola')).length, 1);
  assert.equal(book.attributed(attribution('e1', 'v1', 'pick', 'cola')).length, 0);
  assert.deepEqual(linesOf(book, 'v1'), [['cola', 1, 120]]);
  assert.equal(book.cart('v1')!.version, 1);
});

test('a put of more than the cart holds never goes negative: the rest is kept as an unheld removal', () => {
  const book = new CartBook(priceOf);
  book.attributed(attribution('e1', 'v1', 'pick', 'cola'));
  book.attributed(attribution('e2', 'v1', 'put', 'cola', 3));
  book.attributed(attribution('e3', 'v1', 'put', 'gum'));
  const view = book.cart('v1')!.view();
  assert.deepEqual(view.lines, []);
  assert.equal(view.totalCents, 0);
  assert.deepEqual(view.unheldRemovals, [
    { shelfEventId: 'e2', productId: 'cola', quantity: 2 },
    { shelfEventId: 'e3', productId: 'gum', quantity: 1 },
  ]);
});

test('the fold follows store time, not arrival: a pick decided after the put it preceded still pairs with it', () => {
  const book = new CartBook(priceOf);
  book.attributed(attribution('e9', 'v1', 'put', 'cola'));
  assert.equal(book.cart('v1')!.view().unheldRemovals.length, 1);
  book.attributed(attribution('e4', 'v1', 'pick', 'cola'));
  const view = book.cart('v1')!.view();
  assert.deepEqual(view.lines, []);
  assert.deepEqual(view.unheldRemovals, []);
});

test('a pick decided seconds after its change folds where the change happened: before the put-back a reviewer decides', () => {
  const book = new CartBook(priceOf);
  // The pick's change ended at 3 s and was decided at 7 s (fusion waited); the put-back's ran from
  // 5 s to 5.4 s, and a person decides it was this shopper's.
  book.attributed(attribution('e7', 'v1', 'pick', 'cola', 1, { changeEndMs: T0 + 3_000 }));
  book.reviewOpened({ ...opened('r-put', 'e5', ['v1']), change: 'put' });
  book.reviewResolved(resolved('r-put', { outcome: 'attributed', visitId: 'v1', kind: 'put', lines: [{ productId: 'cola', quantity: 1 }] }));
  const view = book.cart('v1')!.view();
  assert.deepEqual(view.lines, [], 'the unit taken and put back');
  assert.deepEqual(view.unheldRemovals, []);
});

test('a pick folds where its change began and a put where its change ended, so a put overlapping the pick takes the unit back', () => {
  // The shelf dated the pick's end late (a hand still on the plate): it ran from 3 s to 6 s, and the
  // put-back of the same unit from 4.5 s to 5.5 s. Folded by their ends, the put would come first.
  const late = new CartBook(priceOf);
  late.attributed(attribution('e1', 'v1', 'pick', 'cola', 1, { changeStartMs: T0 + 3_000, changeEndMs: T0 + 6_000 }));
  late.attributed(attribution('e2', 'v1', 'put', 'cola', 1, { changeStartMs: T0 + 4_500, changeEndMs: T0 + 5_500 }));
  assert.deepEqual(late.cart('v1')!.view().lines, []);
  assert.deepEqual(late.cart('v1')!.view().unheldRemovals, []);
  // The shelf dated the put's start early (a hand resting before the unit came down), from 2 s to
  // 5.4 s, and the pick ran from 3 s to 3.5 s. Folded by their starts, the put would come first. The
  // put is a reviewer's decision, folded by the evidence's weight span.
  const early = new CartBook(priceOf);
  early.attributed(attribution('e1', 'v1', 'pick', 'cola', 1, { changeStartMs: T0 + 3_000, changeEndMs: T0 + 3_500 }));
  const item = opened('r-put', 'e2', ['v1']);
  early.reviewOpened({ ...item, change: 'put', evidence: { ...item.evidence!, weight: { ...item.evidence!.weight, startMs: T0 + 2_000, endMs: T0 + 5_400 } } });
  early.reviewResolved(resolved('r-put', { outcome: 'attributed', visitId: 'v1', kind: 'put', lines: [{ productId: 'cola', quantity: 1 }] }));
  assert.deepEqual(early.cart('v1')!.view().lines, []);
  assert.deepEqual(early.cart('v1')!.view().unheldRemovals, []);
  // A put that ended before a pick began still comes first: put back, then taken again.
  const again = new CartBook(priceOf);
  again.attributed(attribution('e1', 'v1', 'pick', 'cola', 1, { changeStartMs: T0 + 1_000, changeEndMs: T0 + 1_500 }));
  again.attributed(attribution('e2', 'v1', 'put', 'cola', 1, { changeStartMs: T0 + 2_000, changeEndMs: T0 + 2_500 }));
  again.attributed(attribution('e3', 'v1', 'pick', 'cola', 1, { changeStartMs: T0 + 2_600, changeEndMs: T0 + 3_000 }));
  assert.deepEqual(linesOf(again, 'v1'), [['cola', 1, 120]]);
});

test('a pick and its put-back decided at one instant (a pick in review answered by the put) net to nothing, whatever their ids', () => {
  const book = new CartBook(priceOf);
  // The put's shelf event id sorts before the pick's.
  book.attributed({ ...attribution('e9', 'v1', 'pick', 'cola'), shelfEventId: 'z-pick', ts: T0 + 20_000 });
  book.attributed({ ...attribution('e9', 'v1', 'put', 'cola'), shelfEventId: 'a-put', ts: T0 + 20_000 });
  const view = book.cart('v1')!.view();
  assert.deepEqual(view.lines, []);
  assert.deepEqual(view.unheldRemovals, []);
});

test('a review opened leaves a pending line with its candidates; resolving it adds the decided line once', () => {
  const book = new CartBook(priceOf);
  book.attributed(attribution('e1', 'v1', 'pick', 'gum'));
  const changes = book.reviewOpened(opened('r1', 'e5', ['v1', 'v2']));
  assert.deepEqual(changes.map((c) => c.cart.visitId).sort(), ['v1', 'v2']);
  const pending = book.cart('v1')!.view();
  assert.deepEqual(pending.pendingReviewIds, ['r1']);
  assert.deepEqual(pending.pending[0].candidates, [{ productId: 'cola', quantity: 1 }, { productId: 'chips', quantity: 1 }]);
  const decided = book.reviewResolved(resolved('r1', { outcome: 'attributed', visitId: 'v1', kind: 'pick', lines: [{ productId: 'cola', quantity: 1 }] }));
  assert.deepEqual(decided.map((c) => [c.cart.visitId, c.appliedShelfEventId]).sort(), [['v1', 'e5'], ['v2', 'e5']]);
  assert.deepEqual(linesOf(book, 'v1'), [['gum', 1, 99], ['cola', 1, 120]]);
  assert.deepEqual(book.cart('v1')!.view().pendingReviewIds, []);
  assert.deepEqual(book.cart('v2')!.view().pendingReviewIds, []);
  assert.deepEqual(book.cart('v2')!.view().lines, []);
  assert.equal(book.reviewResolved(resolved('r1', { outcome: 'attributed', visitId: 'v1', kind: 'pick', lines: [{ productId: 'cola', quantity: 1 }] })).length, 0);
  assert.equal(book.cart('v1')!.hasApplied('e5'), true);
});

test('a review decision about a shelf event already attributed replaces it, in the cart it leaves too', () => {
  const book = new CartBook(priceOf);
  book.attributed(attribution('e1', 'v1', 'pick', 'cola'));
  book.reviewOpened({ ...opened('r1', 'e1', ['v1']), kind: 'contest' });
  book.reviewResolved(resolved('r1', { outcome: 'attributed', visitId: 'v2', kind: 'pick', lines: [{ productId: 'chips', quantity: 1 }] }));
  assert.deepEqual(linesOf(book, 'v1'), []);
  assert.deepEqual(linesOf(book, 'v2'), [['chips', 1, 250]]);
  // Fusion's attribution delivered again does not undo the reviewer.
  book.attributed(attribution('e1', 'v2', 'pick', 'cola'));
  assert.deepEqual(linesOf(book, 'v2'), [['chips', 1, 250]]);
});

test('a decision for the same shelf event in the same cart replaces its line rather than adding a second', () => {
  const book = new CartBook(priceOf);
  book.attributed(attribution('e1', 'v1', 'pick', 'cola'));
  book.reviewOpened({ ...opened('r1', 'e1', ['v1']), kind: 'contest' });
  book.reviewResolved(resolved('r1', { outcome: 'attributed', visitId: 'v1', kind: 'pick', lines: [{ productId: 'cola', quantity: 2 }] }));
  assert.deepEqual(linesOf(book, 'v1'), [['cola', 2, 240]]);
});

test('a dismissed review clears the pending line and adds nothing', () => {
  const book = new CartBook(priceOf);
  book.reviewOpened(opened('r1', 'e5', ['v1']));
  book.reviewResolved(resolved('r1', { outcome: 'dismissed', note: 'nobody took anything' }));
  assert.deepEqual(book.cart('v1')!.view().pendingReviewIds, []);
  assert.deepEqual(book.cart('v1')!.view().lines, []);
});

test('a resolution that arrives before its opening leaves no pending line behind', () => {
  const book = new CartBook(priceOf);
  book.reviewResolved(resolved('r1', { outcome: 'dismissed', note: 'nothing' }));
  assert.deepEqual(book.reviewOpened(opened('r1', 'e5', ['v1'])), []);
  assert.equal(book.cart('v1'), undefined);
});

test('staff visits never get a cart, even when a review named them before their kind was known', () => {
  const book = new CartBook(priceOf);
  assert.deepEqual(book.attributed(attribution('e1', 's1', 'pick', 'cola', 1, { visitKind: 'staff' })), []);
  assert.equal(book.cart('s1'), undefined);
  book.reviewOpened(opened('r1', 'e2', ['s2']));
  assert.ok(book.cart('s2'));
  book.visitKind('s2', 'staff');
  assert.equal(book.cart('s2'), undefined);
  assert.deepEqual(book.attributed(attribution('e3', 's2', 'pick', 'cola', 1, { visitKind: 'shopper' })), [], 'once staff, always staff');
});

test('anonymous visits get a cart like anyone else, marked with their kind', () => {
  const book = new CartBook(priceOf);
  book.attributed(attribution('e1', 'anon-1', 'pick', 'gum', 1, { visitKind: 'anonymous' }));
  assert.equal(book.cart('anon-1')!.view().kind, 'anonymous');
  assert.deepEqual(linesOf(book, 'anon-1'), [['gum', 1, 99]]);
});

test('a product the planogram does not price is charged at 0 and listed', () => {
  const book = new CartBook(priceOf);
  book.attributed(attribution('e1', 'v1', 'pick', 'caviar'));
  assert.deepEqual(book.cart('v1')!.view().unpriced, ['caviar']);
});

test('review candidates: each product and quantity once, likeliest first', () => {
  const item = opened('r1', 'e1', ['v1']);
  item.evidence!.hypotheses.push({ productId: 'cola', quantity: 1, probability: 0.1 });
  assert.deepEqual(reviewCandidates(item), [{ productId: 'cola', quantity: 1 }, { productId: 'chips', quantity: 1 }]);
  assert.deepEqual(reviewCandidates({ evidence: undefined }), []);
});

test('two shoppers at once: a decision shared between two visits gives each cart its own lines, and a third named visit nothing', () => {
  const book = new CartBook(priceOf);
  book.reviewOpened(opened('r1', 'e1', ['v1', 'v2', 'v3']));
  const changes = book.reviewResolved(
    resolved('r1', { outcome: 'attributed', visitId: 'v1', kind: 'pick', lines: [{ productId: 'cola', quantity: 1 }], sharedWith: [{ visitId: 'v2', lines: [{ productId: 'cola', quantity: 2 }] }] }),
  );
  assert.deepEqual(changes.map((c) => c.cart.visitId).sort(), ['v1', 'v2', 'v3']);
  assert.deepEqual(linesOf(book, 'v1'), [['cola', 1, 120]]);
  assert.deepEqual(linesOf(book, 'v2'), [['cola', 2, 240]]);
  assert.deepEqual(linesOf(book, 'v3'), []);
  for (const visitId of ['v1', 'v2', 'v3']) assert.deepEqual(book.cart(visitId)!.view().pendingReviewIds, []);
});

test('two shoppers at once decided by fusion: one attribution a visit, each applied to its own cart', () => {
  const book = new CartBook(priceOf);
  book.attributed(attribution('e1', 'v1', 'pick', 'cola', 1, { sharedWith: [{ visitId: 'v2', lines: [{ productId: 'cola', quantity: 1 }] }] }));
  book.attributed(attribution('e1', 'v2', 'pick', 'cola', 1, { eventId: 'attributed-e1/v2', sharedWith: [{ visitId: 'v1', lines: [{ productId: 'cola', quantity: 1 }] }] }));
  assert.deepEqual(linesOf(book, 'v1'), [['cola', 1, 120]]);
  assert.deepEqual(linesOf(book, 'v2'), [['cola', 1, 120]]);
});

test('a put and a pick netted into one change: a decision naming each visit\'s own kind takes the put off one cart and adds the pick to the other', () => {
  const book = new CartBook(priceOf);
  book.attributed(attribution('e0', 'v1', 'pick', 'chips', 1));
  book.reviewOpened(opened('r1', 'e1', ['v1', 'v2']));
  book.reviewResolved(
    resolved('r1', { outcome: 'attributed', visitId: 'v2', kind: 'pick', lines: [{ productId: 'cola', quantity: 1 }], sharedWith: [{ visitId: 'v1', kind: 'put', lines: [{ productId: 'chips', quantity: 1 }] }] }),
  );
  assert.deepEqual(linesOf(book, 'v1'), []);
  assert.deepEqual(linesOf(book, 'v2'), [['cola', 1, 120]]);
});
