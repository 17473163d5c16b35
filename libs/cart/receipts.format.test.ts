import test from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type ReceiptFinalised, type ReviewDecisionRefused, type ReviewItemOpened, type ReviewItemResolved } from '../contracts/index.ts';
import { calibrationTable } from '../fusion/calibration.eval.ts';
import { fixtureStoreIndex } from '../testing/service.fixtures.ts';
import type { ReceiptFigures, ReceiptScore } from './receipts.eval.ts';
import { formatCents, formatReceipt, formatReceiptScorecard, formatReviewQueue } from './receipts.format.ts';

const index = fixtureStoreIndex();
const SODA = index.products.get('p-0001')!;

test('cents are printed without floating point', () => {
  assert.deepEqual([formatCents(0), formatCents(5), formatCents(139), formatCents(100_000_07), formatCents(-250)], ['0.00', '0.05', '1.39', '100000.07', '-2.50']);
});

test('a receipt: a line per product with its name and prices, the pending lines, the total in the store currency', () => {
  const receipt: ReceiptFinalised = {
    schemaVersion: SCHEMA_VERSION,
    eventId: 'receipt/v1',
    storeId: 'kiosk',
    ts: 1_700_000_100_000,
    visitId: 'v1',
    receiptId: 'receipt-v1',
    exitMs: 1_700_000_090_000,
    lines: [{ productId: SODA.id, quantity: 2, unitPriceCents: SODA.priceCents, totalCents: 2 * SODA.priceCents }],
    pending: [{ reviewId: 'r1', shelfEventId: 'e9', candidates: [{ productId: 'p-0002', quantity: 1 }] }],
    totalCents: 2 * SODA.priceCents,
  };
  const text = formatReceipt(receipt, index);
  const lines = text.split('\n');
  assert.match(lines[0], /receipt-v1 +visit v1 +no account \(anonymous visit/);
  assert.match(lines[1], new RegExp(`^ +2 x ${SODA.name.slice(0, 20)}.* ${formatCents(SODA.priceCents)} +${formatCents(2 * SODA.priceCents)}$`));
  assert.match(lines[2], /pending review r1 \(shelf event e9\): 1 x Northfield Water/);
  assert.match(lines[3], new RegExp(`TOTAL ${index.store.currency} +${formatCents(2 * SODA.priceCents)}$`));
});

test('the scorecard prints the figures, a row per confidence bin and a row per tag', () => {
  const { calibration, calibrationError } = calibrationTable([
    { confidence: 0.95, right: true },
    { confidence: 0.35, right: false },
  ]);
  const figures: ReceiptFigures = {
    visits: 4, exactMatch: 0.75, exactMatchBeforeReview: 0.5, receiptPrecision: 0.9, receiptRecall: 0.8, receiptF1: 0.847, receiptF1BeforeReview: 0.8,
    actions: 6, attributionAccuracy: 5 / 6, reviews: 1, reviewsPer1000: 250, reviewsByKind: { attribution: 1 }, operatorFlags: 2, operatorFlagsPer1000: 500, withdrawn: 1, answered: 2, attributions: 2, calibrationError, calibration,
    latency: { count: 5, p50Ms: 1_200, p99Ms: 3_400 }, missingReceipts: 0, visitsWithPending: 1,
  };
  const reviewItems: ReceiptScore['reviewItems'] = [
    {
      reviewId: 'review-se-1', kind: 'attribution', reason: 'not sure enough: 77.3% for v2, below 80%', visitIds: ['v2'], shelfEventId: 'se-1',
      truth: [{ kind: 'pick', visitId: 'v1', productId: 'p-0015', quantity: 1, laneId: 'g1-s3-l3' }],
    },
    { reviewId: 'binding-t7', kind: 'binding', reason: 'two people crossed the entry within 0.4 s', visitIds: ['v1', 'v2'], shelfEventId: null, truth: [] },
  ];
  const score: ReceiptScore = { ...figures, byTag: { 'crossing-arms': figures }, perVisit: [], reviewItems, extraReceipts: [] };
  const text = formatReceiptScorecard(score);
  assert.match(text, /exact receipts +75\.0 % +\(before review 50\.0 %\)/);
  assert.match(text, /pick-to-cart latency +p50 1\.20 s, p99 3\.40 s/);
  assert.match(text, /reviews +250\.0 per 1000 visits \(1: 1 attribution\)/);
  assert.match(text, /operator flags +500\.0 per 1000 visits \(2 tailgating\)/);
  assert.match(text, /withdrawn items +1 \(answered by a decision on another item; nobody decided them\)/);
  assert.doesNotMatch(formatReceiptScorecard({ ...score, withdrawn: 0 }), /withdrawn/, 'shown only when there are some');
  assert.match(text, /answered items +2 \(decided by fusion when their gate binding was decided; nobody decided them\)/);
  assert.doesNotMatch(formatReceiptScorecard({ ...score, answered: 0 }), /answered items/, 'shown only when there are some');
  assert.match(text, /^ +0\.9-1\.0 +1 +0\.950 +1\.000$/m);
  assert.match(text, /^ +0\.3-0\.4 +1 +0\.350 +0\.000$/m);
  assert.equal(text.split('\n').filter((line) => /^ +0\.\d-/.test(line)).length, 10, 'ten bins');
  assert.match(text, /^ +crossing-arms +4 +75\.0 %/m);
  assert.doesNotMatch(text, /review items, and what truly happened/, 'the review items are details');
  const details = formatReceiptScorecard(score, { details: true });
  assert.match(details, /^ +review-se-1 \[attribution\] v2: not sure enough: 77\.3% for v2, below 80% -- truth: v1 pick 1 x p-0015 on g1-s3-l3$/m);
  assert.match(details, /^ +binding-t7 \[binding\] v1, v2: two people crossed the entry within 0\.4 s$/m, 'no shelf event, no truth to show');
});

test('the review queue shows each item open, decided by a person, or withdrawn by the gate with the item that answered it, and a decision the gate did not apply with why', () => {
  const item = (reviewId: string, kind: 'binding' | 'attribution'): ReviewItemOpened => ({
    schemaVersion: SCHEMA_VERSION, eventId: `opened/${reviewId}`, storeId: 'kiosk', ts: 0, reviewId, kind, reason: 'two people crossed the entry within 0.4 s', visitIds: ['v-a', 'v-b'],
  });
  const resolution = (reviewId: string, decision: ReviewItemResolved['decision'], reviewer: string): ReviewItemResolved => ({
    schemaVersion: SCHEMA_VERSION, eventId: `resolved/${reviewId}/${reviewer}`, storeId: 'kiosk', ts: 1, reviewId, decision, reviewer,
  });
  const refused: ReviewDecisionRefused = {
    schemaVersion: SCHEMA_VERSION, eventId: 'refused-1', storeId: 'kiosk', ts: 2, reviewId: 'b3', decisionEventId: 'resolved/b3/operator-1',
    refusedBy: 'gate', why: 'after-exit', reason: 'v-a has ended and its receipt is final',
  };
  const lines = formatReviewQueue(
    [item('b1', 'binding'), item('b2', 'binding'), item('b3', 'binding'), item('r1', 'attribution')],
    [
      resolution('b1', { outcome: 'bound', visitId: 'v-b', trackId: 't-1' }, 'operator-1'),
      resolution('b2', { outcome: 'withdrawn', note: 't-1 is v-b\'s, so t-2 is v-a\'s', settledBy: 'b1' }, 'gate'),
      resolution('b2', { outcome: 'bound', visitId: 'v-a', trackId: 't-2' }, 'operator-2'),
      resolution('b3', { outcome: 'bound', visitId: 'v-a', trackId: 't-3' }, 'operator-1'),
    ],
    [refused],
  );
  assert.deepEqual(lines, [
    '  b1 [binding] v-a, v-b: two people crossed the entry within 0.4 s  [decided bound by operator-1]',
    '  b2 [binding] v-a, v-b: two people crossed the entry within 0.4 s  [withdrawn by gate, answered by b1]',
    '  b3 [binding] v-a, v-b: two people crossed the entry within 0.4 s  [decided bound by operator-1; resolved/b3/operator-1 not applied by gate (after-exit): v-a has ended and its receipt is final]',
    '  r1 [attribution] v-a, v-b: two people crossed the entry within 0.4 s',
  ]);
});
