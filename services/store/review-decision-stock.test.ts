import test from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type PeopleTracked, type ShelfSamplesRecorded, type Vec3 } from '../../libs/contracts/index.ts';
import { waitFor } from '../../libs/bus/bus.harness.ts';
import { laneLoadChanges } from '../../libs/sim/shelf-activity.sim.ts';
import { fixtureStoreIndex } from '../../libs/testing/service.fixtures.ts';
import { shelfAndFusion, shelfSampleMessages, wristInLane } from './shelf-and-fusion.fixture.ts';

/**
 * The shelf and fusion on one bus, as the store runs them: a put of something nobody there took goes
 * to review; a person decides what it was, and the shelf's stock follows the decision.
 */

const index = fixtureStoreIndex();
const T0 = 1_700_000_000_000;
const SHELF = 'g2-s2';
const LANE = 'g2-s2-l3';
const OWN = index.placementByLane.get(LANE)!.productId;
/** A product of the lane's product's weight, planned elsewhere: weight alone cannot tell which was put. */
const LOOKALIKE = [...index.products].find(([id, p]) => id !== OWN && Math.abs(p.unitWeightGrams - index.products.get(OWN)!.unitWeightGrams) < 5)![0];
const IN_LANE = wristInLane(index, LANE);

/** The shelf's samples over `endMs`, six a message per cell, a put of `grams` on the lane at 1.5 s (one look-alike unit unless said). */
function samples(endMs: number, grams = index.products.get(LOOKALIKE)!.unitWeightGrams): ShelfSamplesRecorded[] {
  return shelfSampleMessages(index, SHELF, laneLoadChanges(index, LANE, grams, T0 + 1_500, 400, 'put'), T0, T0 + endMs);
}

/** v-a's hand is in the lane from 1.2 s to 2.1 s; v-b stands a metre off. */
function instant(ts: number): PeopleTracked {
  const person = (trackId: string, wrist: Vec3) => {
    const keypoints: Array<Vec3 | null> = Array.from({ length: 17 }, () => null);
    keypoints[10] = wrist;
    return { trackId, keypoints, cameras: ['cam-1', 'cam-2'] };
  };
  const reaching = ts >= T0 + 1_200 && ts <= T0 + 2_100;
  return {
    schemaVersion: SCHEMA_VERSION,
    eventId: `tracked-${ts}`,
    storeId: index.store.id,
    ts,
    people: [person('track-a', reaching ? IN_LANE : [IN_LANE[0] + 0.5, IN_LANE[1], IN_LANE[2]]), person('track-b', [IN_LANE[0] + 1, IN_LANE[1], IN_LANE[2]])],
  };
}

/** The shelf and fusion on one bus, v-a and v-b in the store; `feed` gives them the samples of a put of `grams` (default: a look-alike unit) and the people, from and to ms after T0. */
async function store(t: test.TestContext, grams?: number) {
  const { bus, messages, shelf, fusion } = await shelfAndFusion(t, index, T0, ['review.item-opened', 'fusion.change-reexplained']);
  const all = samples(12_000, grams);
  const feed = async (fromMs: number, toMs: number) => {
    for (const message of all) if (message.ts >= T0 + fromMs && message.ts < T0 + toMs) await bus.publish('shelf.samples-recorded', message);
    for (let ts = T0 + fromMs; ts < T0 + toMs; ts += 100) await bus.publish('tracking.people-tracked', instant(ts));
  };
  const lane = () => shelf.inventory(SHELF).lanes.find((l) => l.laneId === LANE)!;
  const misplacedLookalike = () => lane().misplaced.find((m) => m.productId === LOOKALIKE)?.quantity;
  const decide = (item: { reviewId: string }) =>
    bus.publish('review.item-resolved', {
      schemaVersion: SCHEMA_VERSION, eventId: 'decided-op-1', storeId: index.store.id, ts: T0 + 7_000, reviewId: item.reviewId,
      decision: { outcome: 'attributed', visitId: 'v-a', kind: 'put', lines: [{ productId: LOOKALIKE, quantity: 1 }] }, reviewer: 'op-1',
    });
  return { shelf, fusion, messages, feed, lane, misplacedLookalike, decide };
}

const initial = index.placementByLane.get(LANE)!.initialStock;

test("a reviewer's decision on a put in review reaches the shelf's stock through fusion: the look-alike the reviewer named lies misplaced on the lane", async (t) => {
  const { shelf, fusion, messages, feed, lane, misplacedLookalike, decide } = await store(t);

  // Nobody there took anything: the put goes to review. The shelf, weighing it, took it for the lane's own.
  await feed(0, 6_000);
  await waitFor(() => messages['review.item-opened'].length === 1, () => `the put in review, fusion ${JSON.stringify(fusion.stats())}`);
  const [item] = messages['review.item-opened'];
  assert.equal(item.change, 'put');
  assert.deepEqual([lane().stock, misplacedLookalike()], [initial + 1, undefined], 'fixture: the shelf read the lane\'s own product put back');

  // The reviewer decides, at 7 s, that v-a put back the look-alike.
  await decide(item);
  await feed(6_000, 12_000);
  await waitFor(() => shelf.stats().rereadsTaken === 1, () => `the decision taken into the stock, shelf ${JSON.stringify(shelf.stats())}`);
  const [reading] = messages['fusion.change-reexplained'];
  assert.deepEqual([reading.review, reading.replaces, reading.ts], [item.reviewId, [item.shelfEventId], T0 + 7_000]);
  assert.deepEqual([lane().stock, misplacedLookalike()], [initial, 1]);
});

test("a reviewer's decision on a change no product explained moves the stock the shelf could not: the look-alike the reviewer named lies on the lane", async (t) => {
  // Sixty per cent more than a unit: the shelf names no product, and moves nothing.
  const { shelf, fusion, messages, feed, lane, misplacedLookalike, decide } = await store(t, 1.6 * index.products.get(LOOKALIKE)!.unitWeightGrams);
  await feed(0, 6_000);
  await waitFor(() => messages['review.item-opened'].length === 1, () => `the change in review, fusion ${JSON.stringify(fusion.stats())}`);
  const [item] = messages['review.item-opened'];
  assert.match(item.reason, /fits no product/, 'fixture: a change no product explains');
  assert.deepEqual([lane().stock, misplacedLookalike()], [initial, undefined], 'fixture: the shelf moved no stock');

  // A person looks at the frames: v-a put back the look-alike (and something light the scale misread).
  await decide(item);
  await feed(6_000, 12_000);
  await waitFor(() => shelf.stats().rereadsTaken === 1, () => `the decision taken into the stock, shelf ${JSON.stringify(shelf.stats())}`);
  const [reading] = messages['fusion.change-reexplained'];
  assert.deepEqual([reading.review, reading.replaces], [item.reviewId, [item.shelfEventId]]);
  // The change's plate carries more than one lane, none planned for the look-alike: it lies misplaced on the first of them.
  const [first] = reading.events[0].laneIds;
  assert.ok(item.evidence!.weight.plateIds.some((plateId) => index.plates.get(plateId)?.lanes.some((l) => l.id === first)), `${first} is a lane of the change's plates`);
  assert.deepEqual(shelf.inventory(SHELF).misplaced, [{ laneId: first, productId: LOOKALIKE, quantity: 1 }]);
  assert.equal(lane().stock, initial);
});
