import test from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type PeopleTracked, type Vec3 } from '../../libs/contracts/index.ts';
import { waitFor } from '../../libs/bus/bus.harness.ts';
import type { PlateLoadChange } from '../../libs/sim/loadcell.sim.ts';
import { laneLoadChanges } from '../../libs/sim/shelf-activity.sim.ts';
import { fixtureStoreIndex } from '../../libs/testing/service.fixtures.ts';
import { shelfAndFusion, shelfSampleMessages, wristInLane } from './shelf-and-fusion.fixture.ts';

/**
 * The shelf and fusion on one bus, as the store runs them: a shopper puts back on the wrong lane a
 * unit of a look-alike of that lane's own product. The shelf, which cannot know what she carries,
 * takes it for the lane's own; fusion decides it was what she took, and the shelf's stock follows
 * fusion, so the next shopper's pick of that unit is read as the look-alike.
 */

const index = fixtureStoreIndex();
const T0 = 1_700_000_000_000;
const PUT_SHELF = 'g2-s2';
const PUT_LANE = 'g2-s2-l3';
const OWN = index.placementByLane.get(PUT_LANE)!.productId;
/** A product of the lane's product's weight, planned on another shelf. */
const LOOKALIKE = [...index.products].find(([id, p]) => id !== OWN && Math.abs(p.unitWeightGrams - index.products.get(OWN)!.unitWeightGrams) < 5)![0];
const FROM_LANE = [...index.placementByLane].find(([laneId, p]) => p.productId === LOOKALIKE && !laneId.startsWith(`${PUT_SHELF}-`))![0];
const FROM_SHELF = index.lanes.get(FROM_LANE)!.shelf.id;
const grams = index.products.get(LOOKALIKE)!.unitWeightGrams;

const inLane = (laneId: string): Vec3 => wristInLane(index, laneId);
const away = (laneId: string, metres: number): Vec3 => {
  const [x, y, z] = inLane(laneId);
  return [x + metres, y, z];
};

/** One shelf's samples over 14 s with the given changes. */
const samples = (shelfId: string, changes: PlateLoadChange[]) => shelfSampleMessages(index, shelfId, changes, T0, T0 + 14_000);

/** v-a takes the look-alike from its lane at 1.5 s and puts it on PUT_LANE at 5.5 s; v-b takes it from there at 10.5 s. */
function instant(ts: number): PeopleTracked {
  const person = (trackId: string, wrist: Vec3) => {
    const keypoints: Array<Vec3 | null> = Array.from({ length: 17 }, () => null);
    keypoints[10] = wrist;
    return { trackId, keypoints, cameras: ['cam-1', 'cam-2'] };
  };
  const at = (fromMs: number) => ts >= T0 + fromMs - 300 && ts <= T0 + fromMs + 600;
  const a = at(1_500) ? inLane(FROM_LANE) : at(5_500) ? inLane(PUT_LANE) : ts < T0 + 3_500 ? away(FROM_LANE, 0.5) : away(PUT_LANE, 0.5);
  const b = at(10_500) ? inLane(PUT_LANE) : away(PUT_LANE, 1.2);
  return { schemaVersion: SCHEMA_VERSION, eventId: `tracked-${ts}`, storeId: index.store.id, ts, people: [person('track-a', a), person('track-b', b)] };
}

test("fusion's decision of a put-back as the look-alike the shopper took reaches the shelf's stock, and the next pick of that unit is read as it", async (t) => {
  const { bus, messages, shelf, fusion } = await shelfAndFusion(t, index, T0, ['shelf.event-detected', 'fusion.event-attributed', 'fusion.change-reexplained']);
  const all = [
    ...samples(FROM_SHELF, laneLoadChanges(index, FROM_LANE, grams, T0 + 1_500, 400, 'pick')),
    ...samples(PUT_SHELF, [...laneLoadChanges(index, PUT_LANE, grams, T0 + 5_500, 400, 'put'), ...laneLoadChanges(index, PUT_LANE, grams, T0 + 10_500, 400, 'pick')]),
  ].sort((x, y) => x.ts - y.ts);
  const feed = async (fromMs: number, toMs: number) => {
    for (let ts = T0 + fromMs; ts < T0 + toMs; ts += 100) {
      for (const message of all) if (message.ts >= ts && message.ts < ts + 100) await bus.publish('shelf.samples-recorded', message);
      await bus.publish('tracking.people-tracked', instant(ts));
    }
  };
  const putLane = () => shelf.inventory(PUT_SHELF).lanes.find((l) => l.laneId === PUT_LANE)!;

  // The take and the put-back, settled.
  await feed(0, 9_000);
  const attributed = () => messages['fusion.event-attributed'].map((a) => [a.visitId, a.kind, a.lines]);
  await waitFor(() => messages['fusion.event-attributed'].length === 2, () => `both decided, have ${JSON.stringify(attributed())}, fusion ${JSON.stringify(fusion.stats())}`);
  assert.deepEqual(attributed(), [
    ['v-a', 'pick', [{ productId: LOOKALIKE, quantity: 1 }]],
    ['v-a', 'put', [{ productId: LOOKALIKE, quantity: 1 }]],
  ]);
  const put = messages['shelf.event-detected'].find((e) => e.kind === 'put')!;
  assert.equal(put.hypotheses[0].productId, OWN, "fixture: the shelf took the put for the lane's own product");
  const [reading] = messages['fusion.change-reexplained'];
  assert.deepEqual([reading.attributed, reading.replaces, reading.events[0].hypotheses[0].productId], [`attributed-${put.shelfEventId}`, [put.shelfEventId], LOOKALIKE]);
  await waitFor(() => shelf.stats().rereadsTaken === 1, () => `fusion's reading taken into the stock, shelf ${JSON.stringify(shelf.stats())}`);
  assert.deepEqual(putLane().misplaced, [{ productId: LOOKALIKE, quantity: 1 }], 'the look-alike lies misplaced on the lane');
  assert.equal(putLane().stock, index.placementByLane.get(PUT_LANE)!.initialStock, "and the lane's own stock is as it was");

  // v-b takes that unit: the shelf names the look-alike, and fusion charges v-b for it.
  await feed(9_000, 14_000);
  await waitFor(() => messages['fusion.event-attributed'].length === 3, () => `the second pick decided, have ${JSON.stringify(attributed())}`);
  const pick = messages['shelf.event-detected'].filter((e) => e.kind === 'pick' && e.shelfId === PUT_SHELF)[0];
  assert.ok(pick.hypotheses.some((h) => h.productId === LOOKALIKE), `the shelf offers the look-alike: ${JSON.stringify(pick.hypotheses)}`);
  assert.deepEqual(attributed()[2], ['v-b', 'pick', [{ productId: LOOKALIKE, quantity: 1 }]]);
});
