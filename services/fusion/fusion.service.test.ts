import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  SCHEMA_VERSION,
  type PeopleTracked,
  type ShelfEventDetected,
  type Vec3,
} from '../../libs/contracts/index.ts';
import { waitFor } from '../../libs/bus/bus.harness.ts';
import { ManualClock } from '../../libs/clock/clock.ts';
import { SHELF_EVENT_WAIT_MS } from '../../libs/fusion/fusion.engine.ts';
import { collectingBus, fixtureStoreIndex } from '../../libs/testing/service.fixtures.ts';
import { createFusionService } from './fusion.service.ts';

const index = fixtureStoreIndex();
const T0 = 1_700_000_000_000;
const LANE = 'g2-s2-l3';
const PRODUCT = index.placementByLane.get(LANE)!.productId;
const box = index.lanes.get(LANE)!.lane.box;
const IN_LANE: Vec3 = [box.max[0] - 0.06, (box.min[1] + box.max[1]) / 2, box.min[2] + 0.07];
const EXIT_MS = T0 + 5_000;
const base = (eventId: string, ts: number) => ({ schemaVersion: SCHEMA_VERSION, eventId, storeId: index.store.id, ts });

const pick: ShelfEventDetected = {
  ...base('se-g2-s2-1-pick-0', T0 + 1_800),
  shelfEventId: 'se-g2-s2-1-pick-0',
  shelfId: 'g2-s2',
  plateIds: index.lanes.get(LANE)!.lane.plateIds,
  laneIds: [LANE],
  kind: 'pick',
  startMs: T0 + 1_000,
  endMs: T0 + 1_300,
  deltaGrams: -index.products.get(PRODUCT)!.unitWeightGrams,
  sigmaGrams: 2,
  hypotheses: [{ productId: PRODUCT, quantity: 1, probability: 1 }],
  confidence: 1,
  health: 'ok',
};

/** One shopper reaches into the lane as the weight drops, then the store goes on empty until past the visit's settling. */
function people(): PeopleTracked[] {
  const out: PeopleTracked[] = [];
  for (let t = T0; t <= EXIT_MS + SHELF_EVENT_WAIT_MS; t += 100) {
    const wrist: Vec3 = t >= T0 + 300 && t <= T0 + 1_200 ? IN_LANE : [IN_LANE[0] + 0.5, IN_LANE[1], IN_LANE[2]];
    const keypoints: Array<Vec3 | null> = Array.from({ length: 17 }, () => null);
    keypoints[10] = wrist;
    out.push({ ...base(`tracked-kiosk-${t}`, t), people: t < EXIT_MS ? [{ trackId: 't-a', keypoints, cameras: ['cam-1'] }] : [] });
  }
  return out;
}

async function fusionOnBus(t: TestContext) {
  const { bus, messages } = await collectingBus(t, ['fusion.event-attributed', 'fusion.visit-settled', 'review.item-opened']);
  const service = createFusionService({ index, bus, clock: new ManualClock(T0) });
  await service.start();
  t.after(() => service.stop());
  return { bus, service, attributed: messages['fusion.event-attributed'], settled: messages['fusion.visit-settled'] };
}

async function publishVisitAndPick(bus: Awaited<ReturnType<typeof fusionOnBus>>['bus']) {
  await bus.publish('visit.started', { ...base('started-v-a', T0), visitId: 'v-a', kind: 'shopper', partySize: 1 });
  await bus.publish('visit.track-bound', { ...base('bound-v-a-t-a', T0), visitId: 'v-a', trackId: 't-a', member: 0, reason: 'entry' });
  await bus.publish('shelf.event-detected', pick);
  await bus.publish('visit.ended', { ...base('ended-v-a', EXIT_MS), visitId: 'v-a', exitMs: EXIT_MS, confirmedByGate: true });
}

test('a pick in, its attribution and the visit settled out; everything delivered again changes nothing', async (t) => {
  const { bus, service, attributed, settled } = await fusionOnBus(t);
  const instants = people();
  await publishVisitAndPick(bus);
  for (const instant of instants) await bus.publish('tracking.people-tracked', instant);
  await waitFor(() => settled.length === 1, () => `the visit to settle: ${JSON.stringify(service.stats())}`);
  assert.equal(attributed.length, 1);
  assert.equal(attributed[0].visitId, 'v-a');
  assert.equal(attributed[0].eventId, `attributed-${pick.shelfEventId}`);
  assert.deepEqual(settled[0].shelfEventIds, [pick.shelfEventId]);

  // Redelivery (as after a crash): the same messages again.
  await publishVisitAndPick(bus);
  for (const instant of instants) await bus.publish('tracking.people-tracked', instant);
  const expected = 8 + 2 * instants.length;
  await waitFor(
    () => Object.values(service.stats().messages).reduce((a, b) => a + b, 0) >= expected,
    () => `all ${expected} messages taken: ${JSON.stringify(service.stats())}`,
  );
  await service.flush();
  assert.equal(attributed.length, 1, 'attributed once');
  assert.equal(settled.length, 1, 'settled once');
  assert.equal(service.stats().pending, 0);
  assert.equal(service.stats().reviews, 0, 'no review expected');
});

test('flush settles a waiting event with what is known (end of a replay)', async (t) => {
  const { bus, service, attributed } = await fusionOnBus(t);
  await publishVisitAndPick(bus);
  // The people stream stops before the evidence window after the pick has passed.
  for (const instant of people().filter((p) => p.ts <= T0 + 1_500)) await bus.publish('tracking.people-tracked', instant);
  await waitFor(() => service.stats().messages['tracking.people-tracked'] === 16, () => JSON.stringify(service.stats()));
  assert.equal(service.stats().pending, 1);
  assert.equal(attributed.length, 0);
  await service.flush();
  await waitFor(() => attributed.length === 1, 'the attribution after flush');
  assert.equal(attributed[0].visitId, 'v-a');
  assert.equal(service.stats().reviews, 0, 'no review expected');
});

test('a hand resting on the plate and lifted off settles as no item, and lets go of both shelf events: nothing stays held', async (t) => {
  const { bus, service, attributed, settled } = await fusionOnBus(t);
  const restGrams = 0.9 * index.products.get(PRODUCT)!.unitWeightGrams;
  const rest: ShelfEventDetected = { ...pick, ...base('se-g2-s2-rest-put-0', T0 + 1_800), shelfEventId: 'se-g2-s2-rest-put-0', kind: 'put', deltaGrams: restGrams };
  const lift: ShelfEventDetected = {
    ...pick,
    ...base('se-g2-s2-lift-pick-0', T0 + 4_800),
    shelfEventId: 'se-g2-s2-lift-pick-0',
    startMs: T0 + 4_000,
    endMs: T0 + 4_300,
    deltaGrams: -restGrams - 1,
  };
  await bus.publish('visit.started', { ...base('started-v-a', T0), visitId: 'v-a', kind: 'shopper', partySize: 1 });
  await bus.publish('visit.track-bound', { ...base('bound-v-a-t-a', T0), visitId: 'v-a', trackId: 't-a', member: 0, reason: 'entry' });
  await bus.publish('shelf.event-detected', rest);
  await bus.publish('shelf.event-detected', lift);
  const exitMs = T0 + 8_000;
  await bus.publish('visit.ended', { ...base('ended-v-a', exitMs), visitId: 'v-a', exitMs, confirmedByGate: true });
  // The hand lands at 0.9 s, stays until after the lift, and the shopper leaves.
  for (let ts = T0; ts <= exitMs + SHELF_EVENT_WAIT_MS + 200; ts += 100) {
    const wrist: Vec3 = ts >= T0 + 900 && ts <= T0 + 5_100 ? IN_LANE : [IN_LANE[0] + 0.5, IN_LANE[1], IN_LANE[2]];
    const keypoints: Array<Vec3 | null> = Array.from({ length: 17 }, () => null);
    keypoints[10] = wrist;
    await bus.publish('tracking.people-tracked', { ...base(`tracked-kiosk-${ts}`, ts), people: ts < exitMs ? [{ trackId: 't-a', keypoints, cameras: ['cam-1'] }] : [] });
  }
  await waitFor(() => settled.length === 1, () => `the visit to settle: ${JSON.stringify(service.stats())}`);
  assert.equal(attributed.length, 0);
  assert.equal(service.stats().notItemChanges, 2);
  assert.equal(service.stats().held, 0, 'the rest and its lift are committed once settled as no item');
});
