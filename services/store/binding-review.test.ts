import test from 'node:test';
import assert from 'node:assert/strict';
import {
  SCHEMA_VERSION,
  type GateLine,
  type PeopleTracked,
  type ReviewItemResolved,
  type ShelfEventDetected,
  type Vec3,
} from '../../libs/contracts/index.ts';
import { waitFor } from '../../libs/bus/bus.harness.ts';
import { TRACKER_LAG_MS } from '../../libs/visits/bindings.eval.ts';
import { collectingBus, fixtureStoreIndex } from '../../libs/testing/service.fixtures.ts';
import { AT_EXIT, STEP_MS, T0, opened, resolved, scan, then, walk, type Path } from '../../libs/visits/binder.fixtures.ts';
import { createStore } from './store.service.ts';

/**
 * The gate's binder and fusion on one bus, as the store runs them: two shoppers through the entry
 * within a second, bound the wrong way round with a doubt; an operator places one of them, and the
 * store ends with each shopper's picks on their own receipt.
 */

const index = fixtureStoreIndex();

/** A lane, where its shopper stands in front of it, and where a hand closes on its front item. */
function laneSpot(laneId: string, front: 'max-x' | 'min-y') {
  const { box, plateIds } = index.lanes.get(laneId)!.lane;
  const [midX, midY] = [(box.min[0] + box.max[0]) / 2, (box.min[1] + box.max[1]) / 2];
  const inLane: Vec3 = front === 'max-x' ? [box.max[0] - 0.06, midY, box.min[2] + 0.07] : [midX, box.min[1] + 0.06, box.min[2] + 0.07];
  const stand: [number, number] = front === 'max-x' ? [box.max[0] + 0.36, midY] : [midX, box.min[1] - 0.36];
  return { laneId, shelfId: laneId.split('-').slice(0, 2).join('-'), plateIds, productId: index.placementByLane.get(laneId)!.productId, inLane, stand };
}

const MILK_AISLE = laneSpot('g2-s2-l3', 'max-x');
const BACK_WALL = laneSpot('g1-s2-l3', 'min-y');
/** A hand is in the lane from this long before a change starts until this long after (the fusion tests' reach). */
const REACH_BEFORE_MS = 700;
const REACH_AFTER_MS = 200;
const CHANGE_MS = 300;

/** A pick of one unit at a lane, the change starting `atMs` after T0. */
function pick(spot: ReturnType<typeof laneSpot>, atMs: number): ShelfEventDetected {
  const startMs = T0 + atMs;
  const shelfEventId = `se-${spot.shelfId}-${startMs}-pick-0`;
  return {
    schemaVersion: SCHEMA_VERSION,
    eventId: shelfEventId,
    storeId: index.store.id,
    ts: startMs + CHANGE_MS + 500,
    shelfEventId,
    shelfId: spot.shelfId,
    plateIds: spot.plateIds,
    laneIds: [spot.laneId],
    kind: 'pick',
    startMs,
    endMs: startMs + CHANGE_MS,
    deltaGrams: -index.products.get(spot.productId)!.unitWeightGrams,
    sigmaGrams: 2,
    hypotheses: [{ productId: spot.productId, quantity: 1, probability: 1 }],
    confidence: 1,
    health: 'ok',
  };
}

interface Shopper {
  path: Path;
  /** Where the right wrist is instead of at rest, when it reaches. */
  reaches: Array<{ picked: ShelfEventDetected; at: Vec3 }>;
}

/** One tracked person: hips and ankles where the path is (the gate reads the floor), wrists at rest by the body or in a lane. */
function person(trackId: string, shopper: Shopper, ts: number) {
  const floor = shopper.path(ts);
  if (!floor) return [];
  const [x, y] = floor;
  const keypoints: Array<Vec3 | null> = Array.from({ length: 17 }, () => null);
  keypoints[11] = keypoints[12] = [x, y, 0.95];
  keypoints[15] = keypoints[16] = [x, y, 0.05];
  keypoints[9] = [x, y, 0.9];
  const reach = shopper.reaches.find(({ picked }) => ts >= picked.startMs - REACH_BEFORE_MS && ts <= picked.startMs + REACH_AFTER_MS);
  keypoints[10] = reach ? reach.at : [x, y, 0.9];
  return [{ trackId, keypoints, cameras: ['cam-1', 'cam-2'] }];
}

test('two shoppers through the gate at once, bound the wrong way round: an operator places one, the gate trades the pair and withdraws the other item, fusion decides the pick that followed the binding and charges each later pick to its shopper, and the receipts are right', async (t) => {
  const { bus, messages } = await collectingBus(t, ['review.item-opened', 'review.item-resolved', 'visit.track-bound', 'fusion.event-attributed', 'visit.receipt-finalised']);
  const store = createStore({ index, bus, visits: true, checkout: false });
  await store.start();
  t.after(() => store.stop());
  const { gate, fusion, cart } = store;

  // track-a crosses first and is bound to the first scan (v-a), but is v-b's shopper; track-b is v-a's.
  const picks = { aFirst: pick(MILK_AISLE, 8_000), aSecond: pick(MILK_AISLE, 14_000), b: pick(BACK_WALL, 16_000) };
  const shoppers: Record<string, Shopper> = {
    'track-a': {
      path: then(
        walk([3.8, 0.4], MILK_AISLE.stand, T0, T0 + 1_000, T0 + 6_000),
        T0 + 18_000,
        then(walk(MILK_AISLE.stand, [5.3, 1.5], T0, T0 + 18_000, T0 + 21_000), T0 + 21_000, walk([5.3, 1.5], AT_EXIT, T0, T0 + 21_000, T0 + 22_000, T0 + 23_000)),
      ),
      reaches: [picks.aFirst, picks.aSecond].map((picked) => ({ picked, at: MILK_AISLE.inLane })),
    },
    'track-b': {
      path: then(
        walk([4.4, 0.4], BACK_WALL.stand, T0, T0 + 1_400, T0 + 6_400),
        T0 + 19_000,
        then(walk(BACK_WALL.stand, [5.5, 1.5], T0, T0 + 19_000, T0 + 23_000), T0 + 23_000, walk([5.5, 1.5], [5.5, 0.4], T0, T0 + 23_000, T0 + 24_000, T0 + 25_000)),
      ),
      reaches: [{ picked: picks.b, at: BACK_WALL.inLane }],
    },
  };
  const gates: GateLine[] = [
    { topic: 'gate.qr-scanned', message: scan('v-a', T0 + 300) },
    { topic: 'gate.qr-scanned', message: scan('v-b', T0 + 600) },
    { topic: 'gate.opened', message: opened('exit', T0 + 23_000) },
    { topic: 'gate.opened', message: opened('exit', T0 + 25_000) },
  ];
  const instants: PeopleTracked[] = [];
  for (let ts = T0; ts <= T0 + 45_000; ts += STEP_MS)
    instants.push({ schemaVersion: SCHEMA_VERSION, eventId: `i-${ts}`, storeId: index.store.id, ts, people: Object.entries(shoppers).flatMap(([trackId, shopper]) => person(trackId, shopper, ts)) });

  // Everything in the order it reaches the store live: gate messages and shelf events when they are
  // sent, each people instant a tracker lag after it happened.
  type Input = { at: number; publish: () => Promise<unknown> };
  const inputs: Input[] = [
    ...gates.map((line): Input => ({ at: line.message.ts, publish: () => (line.topic === 'gate.qr-scanned' ? bus.publish(line.topic, line.message) : bus.publish('gate.opened', line.message)) })),
    ...Object.values(picks).map((event): Input => ({ at: event.ts, publish: () => bus.publish('shelf.event-detected', event) })),
    ...instants.map((instant): Input => ({ at: instant.ts + TRACKER_LAG_MS, publish: () => bus.publish('tracking.people-tracked', instant) })),
  ].sort((a, b) => a.at - b.at);
  let next = 0;
  /** Publishes what reaches the store before `untilMs`, then waits until the gate and fusion have taken all of it. */
  const feedUntil = async (untilMs: number) => {
    for (; next < inputs.length && inputs[next].at < untilMs; next++) await inputs[next].publish();
    const instantsOut = instants.filter((instant) => instant.ts + TRACKER_LAG_MS < untilMs).length;
    const gateLinesOut = gates.filter((line) => line.message.ts < untilMs).length;
    // The gate takes the people, the gate lines and every decision or withdrawal on the bus.
    const gateInputs = () => instantsOut + gateLinesOut + messages['review.item-resolved'].length;
    await waitFor(() => gate!.stats().messages >= gateInputs() && fusion!.stats().messages['tracking.people-tracked'] === instantsOut, 'the gate and fusion caught up');
  };
  const fusionTook = (topic: 'visit.track-bound' | 'review.item-opened') => fusion!.stats().messages[topic];
  const decide = (reviewId: string, decision: ReviewItemResolved['decision'], ts: number) => bus.publish('review.item-resolved', resolved(reviewId, decision, ts));

  // The pair crosses; once the gate is sure nobody else is coming, both are bound with a doubt, and fusion has their items.
  await feedUntil(T0 + 7_000);
  await waitFor(() => fusionTook('visit.track-bound') === 2 && fusionTook('review.item-opened') === 2, 'fusion took both doubtful bindings');
  const bindingItem = (trackId: string) => messages['review.item-opened'].find((m) => m.kind === 'binding' && m.trackId === trackId)!;
  assert.deepEqual(
    messages['visit.track-bound'].map((m) => [m.trackId, m.visitId, m.doubt !== undefined]),
    [['track-a', 'v-a', true], ['track-b', 'v-b', true]],
  );

  // track-a's first pick: fusion is sure of the hand, not of whose visit it is.
  await feedUntil(T0 + 11_000);
  await waitFor(() => messages['review.item-opened'].some((m) => m.shelfEventId === picks.aFirst.shelfEventId), 'the first pick in review');
  const firstPick = messages['review.item-opened'].find((m) => m.shelfEventId === picks.aFirst.shelfEventId)!;
  assert.match(firstPick.reason, /track track-a, whose binding to it is in doubt/);
  assert.deepEqual([...firstPick.visitIds].sort(), ['v-a', 'v-b']);
  assert.equal(firstPick.followsReviewId, bindingItem('track-a').reviewId, 'the pick follows the binding item');

  // The operator places track-a on v-b: the gate trades the pair, fusion hears both bindings again,
  // track-b's item is withdrawn, and fusion decides the pick that followed track-a's binding.
  await decide(bindingItem('track-a').reviewId, { outcome: 'bound', visitId: 'v-b', trackId: 'track-a' }, T0 + 11_500);
  await waitFor(() => fusionTook('visit.track-bound') === 4 && messages['review.item-resolved'].length === 3, 'the reviewed bindings taken by fusion, the withdrawal and the answer out');
  assert.deepEqual(
    messages['visit.track-bound'].slice(2).map((m) => [m.trackId, m.visitId, m.reason, m.doubt]),
    [['track-a', 'v-b', 'reviewed', undefined], ['track-b', 'v-a', 'reviewed', undefined]],
  );
  const withdrawal = messages['review.item-resolved'].find((m) => m.reviewer === 'gate')!;
  assert.deepEqual([withdrawal.reviewId, withdrawal.decision.outcome], [bindingItem('track-b').reviewId, 'withdrawn']);
  const answer = messages['review.item-resolved'].find((m) => m.reviewer === 'fusion')!;
  assert.deepEqual([answer.reviewId, answer.decision], [firstPick.reviewId, { outcome: 'attributed', visitId: 'v-b', kind: 'pick', lines: [{ productId: MILK_AISLE.productId, quantity: 1 }] }]);

  // The rest of the trip: fusion charges each later pick to the shopper's own visit, nobody is asked again, and both leave.
  await feedUntil(Infinity);
  await waitFor(() => messages['visit.receipt-finalised'].length === 2, () => `receipts: ${JSON.stringify(cart!.stats())}`);
  assert.deepEqual(
    messages['fusion.event-attributed'].map((m) => [m.shelfEventId, m.visitId, m.trackId]),
    [[picks.aSecond.shelfEventId, 'v-b', 'track-a'], [picks.b.shelfEventId, 'v-a', 'track-b']],
  );
  assert.deepEqual(messages['review.item-opened'].map((m) => m.reviewId).sort(), [bindingItem('track-a').reviewId, bindingItem('track-b').reviewId, firstPick.reviewId].sort());
  const receipts = new Map(messages['visit.receipt-finalised'].map((r) => [r.visitId, r]));
  assert.deepEqual(receipts.get('v-b')!.lines.map((l) => [l.productId, l.quantity]), [[MILK_AISLE.productId, 2]]);
  assert.deepEqual(receipts.get('v-a')!.lines.map((l) => [l.productId, l.quantity]), [[BACK_WALL.productId, 1]]);
  assert.deepEqual([receipts.get('v-a')!.pending, receipts.get('v-b')!.pending], [[], []], 'nothing left for anyone to decide');
  assert.deepEqual(gate!.stats().reviewDecisions, { applied: 1, unchanged: 1, unknown: 0, refused: 0, 'after-exit': 0, ignored: 1 });
});
