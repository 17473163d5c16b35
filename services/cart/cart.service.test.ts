import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  SCHEMA_VERSION,
  topics,
  type EventAttributed,
  type ReviewItemOpened,
  type TopicMessage,
  type VisitKind,
} from '../../libs/contracts/index.ts';
import type { Bus } from '../../libs/bus/index.ts';
import { recordingLogger, waitFor } from '../../libs/bus/bus.harness.ts';
import { ManualClock } from '../../libs/clock/clock.ts';
import { scoreReceipts } from '../../libs/cart/receipts.eval.ts';
import { collectingBus, fixtureStoreIndex } from '../../libs/testing/service.fixtures.ts';
import { createCartService, receiptIdOf, type CartService } from './cart.service.ts';

const index = fixtureStoreIndex();
const T0 = 1_700_000_000_000;
const [SODA, WATER, JUICE] = ['p-0001', 'p-0002', 'p-0003'];
const price = (productId: string) => index.products.get(productId)!.priceCents;
const base = (eventId: string, atMs: number) => ({ schemaVersion: SCHEMA_VERSION, eventId, storeId: index.store.id, ts: T0 + atMs });

type Input = { [T in keyof typeof topics]: { topic: T; message: TopicMessage<T> } }[keyof typeof topics];

const started = (visitId: string, kind: VisitKind = 'shopper'): Input => ({
  topic: 'visit.started',
  message: { ...base(`start/${visitId}`, 0), visitId, kind, partySize: 1, ...(kind === 'shopper' ? { accountId: `acc-${visitId}` } : {}) },
});
const attributed = (shelfEventId: string, visitId: string, kind: 'pick' | 'put', productId: string, atMs: number, visitKind: VisitKind = 'shopper'): Input => ({
  topic: 'fusion.event-attributed',
  message: {
    ...base(`attr/${shelfEventId}`, atMs),
    shelfEventId,
    visitId,
    visitKind,
    kind,
    lines: [{ productId, quantity: 1 }],
    laneIds: ['g1-s1-l1'],
    misplaced: false,
    confidence: 0.97,
    candidates: [],
    source: 'fusion',
  } satisfies EventAttributed,
});
const ended = (visitId: string, atMs: number): Input => ({ topic: 'visit.ended', message: { ...base(`end/${visitId}`, atMs), visitId, exitMs: T0 + atMs, confirmedByGate: true } });
const settled = (visitId: string, atMs: number, shelfEventIds: string[], reviewIds: string[] = []): Input => ({
  topic: 'fusion.visit-settled',
  message: { ...base(`settled/${visitId}`, atMs), visitId, exitMs: T0 + atMs - 500, shelfEventIds, reviewIds },
});
const reviewOpened = (reviewId: string, shelfEventId: string, visitIds: string[], atMs: number): Input => ({
  topic: 'review.item-opened',
  message: {
    ...base(`open/${reviewId}`, atMs),
    reviewId,
    kind: 'attribution',
    reason: 'two shoppers at the lane',
    shelfEventId,
    visitIds,
    change: 'pick',
    evidence: {
      candidates: [],
      hypotheses: [
        { productId: JUICE, quantity: 1, probability: 0.8 },
        { productId: WATER, quantity: 2, probability: 0.2 },
      ],
      weight: { shelfId: 'g1-s1', plateIds: ['g1-s1-p1'], startMs: T0 + atMs, endMs: T0 + atMs + 400, deltaGrams: -1000 },
      frames: [],
    },
  } satisfies ReviewItemOpened,
});

/** A memory bus with every cart update and receipt collected as it comes. */
async function outputBus(t: TestContext) {
  const { bus, messages } = await collectingBus(t, ['cart.updated', 'visit.receipt-finalised']);
  return { bus, updates: messages['cart.updated'], receipts: messages['visit.receipt-finalised'] };
}

async function publishAll(bus: Pick<Bus<typeof topics>, 'publish'>, inputs: Input[]) {
  for (const { topic, message } of inputs) await bus.publish(topic, message as never);
}

const taken = (service: CartService, messages: number) => waitFor(() => service.stats().messages >= messages, () => `${messages} messages taken, have ${JSON.stringify(service.stats())}`);

async function startService(bus: Pick<Bus<typeof topics>, 'publish' | 'subscribe'>, logger = recordingLogger()) {
  const service = createCartService({ index, bus, clock: new ManualClock(T0), logger });
  await service.start();
  return service;
}

const shopping: Input[] = [
  started('v1'),
  attributed('e1', 'v1', 'pick', SODA, 10_000),
  attributed('e2', 'v1', 'pick', SODA, 20_000),
  attributed('e3', 'v1', 'pick', WATER, 30_000),
  attributed('e4', 'v1', 'put', SODA, 40_000),
];

test('a visit shops, leaves and is settled: cart updates in version order, then one receipt', async (t) => {
  const { bus, updates, receipts } = await outputBus(t);
  const service = await startService(bus);
  await publishAll(bus, [...shopping, ended('v1', 60_000), settled('v1', 61_000, ['e1', 'e2', 'e3', 'e4'])]);
  await waitFor(() => receipts.length >= 1, 'the receipt');
  await service.flush();
  assert.deepEqual(
    updates.map((u) => [u.version, u.appliedShelfEventId, u.ts - T0, u.totalCents]),
    [
      [1, 'e1', 10_000, price(SODA)],
      [2, 'e2', 20_000, 2 * price(SODA)],
      [3, 'e3', 30_000, 2 * price(SODA) + price(WATER)],
      [4, 'e4', 40_000, price(SODA) + price(WATER)],
    ],
  );
  const [receipt] = receipts;
  assert.equal(receipt.receiptId, receiptIdOf('v1'));
  assert.equal(receipt.accountId, 'acc-v1');
  assert.deepEqual(receipt.lines, [
    { productId: SODA, quantity: 1, unitPriceCents: price(SODA), totalCents: price(SODA) },
    { productId: WATER, quantity: 1, unitPriceCents: price(WATER), totalCents: price(WATER) },
  ]);
  assert.equal(receipt.totalCents, price(SODA) + price(WATER));
  assert.deepEqual(receipt.pending, []);
  assert.equal(service.stats().held, 0, 'the receipt is out: nothing held');
  await service.stop();
});

test('the receipt waits for visit-settled, and for every shelf event it lists to reach the cart', async (t) => {
  const { bus, receipts } = await outputBus(t);
  const service = await startService(bus);
  // The settled message names e5, whose attribution comes after it.
  await publishAll(bus, [...shopping, ended('v1', 60_000)]);
  await taken(service, shopping.length + 1);
  assert.equal(receipts.length, 0, 'ended but not settled');
  await publishAll(bus, [settled('v1', 61_000, ['e1', 'e2', 'e3', 'e4', 'e5'])]);
  await taken(service, shopping.length + 2);
  assert.equal(receipts.length, 0, 'settled, but e5 has not reached the cart');
  assert.equal(service.stats().waiting, 1);
  assert.ok(service.stats().held > 0, 'the visit\'s messages are held while its receipt waits');
  await publishAll(bus, [attributed('e5', 'v1', 'pick', JUICE, 50_000)]);
  await waitFor(() => receipts.length >= 1, 'the receipt');
  assert.deepEqual(
    receipts[0].lines.map((l) => [l.productId, l.quantity]),
    [
      [SODA, 1],
      [WATER, 1],
      [JUICE, 1],
    ],
  );
  assert.equal(service.stats().waiting, 0);
  assert.equal(service.stats().held, 0);
  await service.stop();
});

test('messages delivered again change nothing: the same cart versions, one receipt', async (t) => {
  const { bus, updates, receipts } = await outputBus(t);
  const service = await startService(bus);
  const inputs = [...shopping, ended('v1', 60_000), settled('v1', 61_000, ['e1', 'e2', 'e3', 'e4'])];
  await publishAll(bus, [...inputs, ...inputs, ...shopping]);
  await taken(service, 2 * inputs.length + shopping.length);
  await service.flush();
  assert.equal(receipts.length, 1);
  assert.deepEqual(
    updates.map((u) => u.version),
    [1, 2, 3, 4],
  );
  assert.equal(service.stats().duplicates, inputs.length + shopping.length);
  await service.stop();
});

test('a service stopped before the receipt leaves the visit\'s messages held; the next one rebuilds the cart from them', async (t) => {
  const { bus, receipts } = await outputBus(t);
  const first = await startService(bus);
  await publishAll(bus, shopping);
  await taken(first, shopping.length);
  assert.equal(first.stats().held, shopping.length);
  await first.stop(); // a crash would leave the same: every message of the open visit uncommitted

  const second = await startService(bus);
  await publishAll(bus, [ended('v1', 60_000), settled('v1', 61_000, ['e1', 'e2', 'e3', 'e4'])]);
  await waitFor(() => receipts.length >= 1, () => `the receipt, second service at ${JSON.stringify(second.stats())}`);
  assert.deepEqual(
    receipts[0].lines.map((l) => [l.productId, l.quantity]),
    [
      [SODA, 1],
      [WATER, 1],
    ],
  );
  assert.equal(second.stats().messages, shopping.length + 2, 'the held messages came again');
  await second.stop();
});

test('a failed publish fails the handler; the message comes again and the receipt goes out once', async (t) => {
  const { bus, receipts } = await outputBus(t);
  let refused = 0;
  const flaky: Pick<Bus<typeof topics>, 'publish' | 'subscribe'> = {
    subscribe: (options) => bus.subscribe(options),
    publish: (topic, message) => {
      if (topic === 'visit.receipt-finalised' && refused < 2) {
        refused++;
        return Promise.reject(new Error('broker unavailable'));
      }
      return bus.publish(topic, message);
    },
  };
  const logger = recordingLogger();
  const service = await startService(flaky, logger);
  await publishAll(bus, [...shopping, ended('v1', 60_000), settled('v1', 61_000, ['e1', 'e2', 'e3', 'e4'])]);
  await waitFor(() => receipts.length >= 1, () => `the receipt after ${refused} refusals`);
  await service.flush();
  assert.equal(refused, 2);
  assert.equal(service.stats().publishFailures, 2);
  assert.equal(logger.lines.filter((l) => l.level === 'error').length, 2);
  assert.equal(receipts.length, 1);
  assert.equal(service.stats().receipts, 1);
  assert.equal(service.stats().held, 0);
  await service.stop();
});

test('a line pending review is on the receipt with its candidates; the receipt waits until the review item is seen', async (t) => {
  const { bus, receipts, updates } = await outputBus(t);
  const service = await startService(bus);
  await publishAll(bus, [started('v1'), attributed('e1', 'v1', 'pick', SODA, 10_000), ended('v1', 60_000), settled('v1', 61_000, ['e1'], ['r7'])]);
  await taken(service, 4);
  assert.equal(receipts.length, 0, 'r7 is listed but not seen yet');
  await publishAll(bus, [reviewOpened('r7', 'e2', ['v1', 'v2'], 20_000)]);
  await waitFor(() => receipts.length >= 1, 'the receipt');
  const [receipt] = receipts;
  assert.deepEqual(receipt.pending, [
    {
      reviewId: 'r7',
      shelfEventId: 'e2',
      candidates: [
        { productId: JUICE, quantity: 1 },
        { productId: WATER, quantity: 2 },
      ],
    },
  ]);
  assert.equal(receipt.totalCents, price(SODA), 'the total counts decided lines only');
  assert.deepEqual(
    updates.filter((u) => u.visitId === 'v2').map((u) => u.pendingReviewIds),
    [['r7']],
    'the other visit named gets a pending line too',
  );
  await service.stop();
});

test('a pick in review that fusion withdrew (its shopper put the unit back): the receipt waits for the withdrawal and holds neither line', async (t) => {
  const { bus, receipts } = await outputBus(t);
  const service = await startService(bus);
  const settledWithWithdrawal: Input = { topic: 'fusion.visit-settled', message: { ...base('settled/v1', 61_000), visitId: 'v1', exitMs: T0 + 60_500, shelfEventIds: ['e1', 'e2', 'e3'], reviewIds: [], withdrawnReviewIds: ['r7'] } };
  await publishAll(bus, [
    started('v1'),
    attributed('e1', 'v1', 'pick', SODA, 10_000),
    reviewOpened('r7', 'e2', ['v1'], 20_000),
    attributed('e2', 'v1', 'pick', JUICE, 20_000),
    attributed('e3', 'v1', 'put', JUICE, 25_000),
    ended('v1', 60_000),
    settledWithWithdrawal,
  ]);
  await taken(service, 7);
  assert.equal(receipts.length, 0, 'r7 is listed as withdrawn, and its withdrawal has not been seen');
  await publishAll(bus, [
    {
      topic: 'review.item-resolved',
      message: { ...base('r7-withdrawn', 26_000), reviewId: 'r7', decision: { outcome: 'withdrawn', note: 'v1 put the unit back', settledBy: 'e3' }, reviewer: 'fusion' },
    },
  ]);
  await waitFor(() => receipts.length >= 1, 'the receipt');
  assert.deepEqual(receipts[0].pending, []);
  assert.deepEqual(receipts[0].lines.map((l) => [l.productId, l.quantity]), [[SODA, 1]]);
  await service.stop();
});

test('staff visits get no cart and no receipt, and hold nothing; anonymous ones get a receipt without an account', async (t) => {
  const { bus, updates, receipts } = await outputBus(t);
  const service = await startService(bus);
  await publishAll(bus, [
    started('s1', 'staff'),
    attributed('e1', 's1', 'pick', SODA, 10_000, 'staff'),
    ended('s1', 60_000),
    settled('s1', 61_000, ['e1']),
    started('anon-1', 'anonymous'),
    attributed('e2', 'anon-1', 'pick', WATER, 12_000, 'anonymous'),
    ended('anon-1', 62_000),
    settled('anon-1', 63_000, ['e2']),
  ]);
  await waitFor(() => receipts.length >= 1, 'the anonymous receipt');
  await taken(service, 8);
  await service.flush();
  assert.deepEqual(
    updates.map((u) => u.visitId),
    ['anon-1'],
  );
  assert.deepEqual(
    receipts.map((r) => [r.visitId, r.accountId, r.totalCents]),
    [['anon-1', undefined, price(WATER)]],
  );
  assert.deepEqual(
    service.carts().map((c) => [c.visitId, c.kind]),
    [['anon-1', 'anonymous']],
  );
  assert.equal(service.stats().held, 0);
  assert.equal(service.stats().staffMessages, 4);
  await service.stop();
});

test('what the service publishes is what the receipt scorer reads: exact receipts and pick-to-cart latency', async (t) => {
  const { bus, updates, receipts } = await outputBus(t);
  const service = await startService(bus);
  await publishAll(bus, [...shopping, ended('v1', 60_000), settled('v1', 61_000, ['e1', 'e2', 'e3', 'e4'])]);
  await waitFor(() => receipts.length >= 1, 'the receipt');
  // The cart updates come to this test by a subscription of their own, which may lag the receipt's.
  await waitFor(() => new Set(updates.map((u) => u.appliedShelfEventId).filter(Boolean)).size >= 4, 'a cart update for each shelf event');
  await service.flush();
  await service.stop();
  const attributions = shopping.flatMap((input) => (input.topic === 'fusion.event-attributed' ? [input.message] : []));
  // The true actions end 1.2 s before fusion's attribution is stamped; each shelf event spans the action.
  const actions = attributions.map((a, i) => ({
    actionId: `a${i}`,
    kind: a.kind,
    startMs: a.ts - 2_000,
    endMs: a.ts - 1_200,
    personId: 'p1',
    visitId: 'v1',
    productId: a.lines[0].productId,
    quantity: 1,
    shelfId: 'g1-s1',
    laneId: 'g1-s1-l1',
  }));
  const shelfEvents = attributions.map((a, i) => ({
    ...base(a.shelfEventId, 0),
    shelfEventId: a.shelfEventId,
    shelfId: 'g1-s1',
    plateIds: ['g1-s1-p1'],
    laneIds: ['g1-s1-l1'],
    kind: a.kind,
    startMs: actions[i].startMs,
    endMs: actions[i].endMs,
    deltaGrams: a.kind === 'pick' ? -330 : 330,
    sigmaGrams: 2,
    hypotheses: [{ productId: a.lines[0].productId, quantity: 1, probability: 1 }],
    confidence: 1,
    health: 'ok' as const,
  }));
  const score = scoreReceipts(
    {
      visits: [{ visitId: 'v1', accountId: 'acc-v1', personIds: ['p1'], entryMs: T0, exitMs: T0 + 60_000 }],
      receipts: [{ visitId: 'v1', accountId: 'acc-v1', lines: [{ productId: SODA, quantity: 1, unitPriceCents: price(SODA) }, { productId: WATER, quantity: 1, unitPriceCents: price(WATER) }], totalCents: price(SODA) + price(WATER) }],
      actions,
    },
    { receipts, attributions, reviews: [], shelfEvents, cartUpdates: updates },
  );
  assert.equal(score.exactMatch, 1);
  assert.equal(score.attributionAccuracy, 1);
  assert.deepEqual(score.latency, { count: 4, p50Ms: 1_200, p99Ms: 1_200 });
});
