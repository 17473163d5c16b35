import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  SCHEMA_VERSION,
  topics,
  type ShelfEventDetected,
  type ShelfSamplesRecorded,
} from '../../libs/contracts/index.ts';
import type { Bus } from '../../libs/bus/index.ts';
import { recordingLogger, waitFor } from '../../libs/bus/bus.harness.ts';
import { ManualClock } from '../../libs/clock/clock.ts';
import { plateStockGrams, simulateShelfLoadCells, type PlateLoadChange } from '../../libs/sim/loadcell.sim.ts';
import { laneLoadChanges } from '../../libs/sim/shelf-activity.sim.ts';
import { ShelfInventory } from '../../libs/shelf/inventory.model.ts';
import { collectingBus, fixtureStoreIndex } from '../../libs/testing/service.fixtures.ts';
import { ACTIVITY_REPORT_MS, createShelfService, SHELF_SILENT_MS, type ShelfService } from './shelf.service.ts';

const index = fixtureStoreIndex();
const T0 = 1_700_000_000_000;
const SHELF = 'g2-s2';
const LANE = 'g2-s2-l3';
const BATCH = 6; // samples per message, as a device would batch them
const product = index.products.get(index.placementByLane.get(LANE)!.productId)!;
const cells = index.shelves.get(SHELF)!.shelf.plates.map((p) => index.loadCellByPlate.get(p.id)!.id);

const pickAt = (atMs: number, units = 1) => laneLoadChanges(index, LANE, units * product.unitWeightGrams, T0 + atMs, 400, 'pick');

/** What the shelf's cells publish over `endMs`: one message per cell per BATCH samples, in time order. */
function sampleMessages(changes: PlateLoadChange[], endMs: number, options: { dropCellAfterMs?: number } = {}): ShelfSamplesRecorded[] {
  const messages: ShelfSamplesRecorded[] = [];
  const batches = cells.map(() => [] as Array<[number, number]>);
  for (const tick of simulateShelfLoadCells({ index, shelfId: SHELF, startMs: T0, endMs: T0 + endMs, initialGrams: plateStockGrams(index, SHELF), changes, seed: 2 }))
    for (let c = 0; c < cells.length; c++) {
      if (c === 0 && options.dropCellAfterMs !== undefined && tick.ts > T0 + options.dropCellAfterMs) continue;
      batches[c].push([tick.ts, Math.round(tick.grams[c] * 10) / 10]);
      if (batches[c].length === BATCH)
        messages.push({
          schemaVersion: SCHEMA_VERSION,
          eventId: `s-${cells[c]}-${batches[c][0][0]}`,
          storeId: index.store.id,
          ts: batches[c][0][0],
          shelfId: SHELF,
          loadCellId: cells[c],
          samples: batches[c].splice(0),
        });
    }
  return messages;
}

/** An in-process bus with every shelf event and health report on it collected as it comes. */
async function outputBus(t: TestContext) {
  const { bus, deliveries, messages } = await collectingBus(t, ['shelf.event-detected', 'device.health-reported']);
  return { bus, events: deliveries['shelf.event-detected'], health: messages['device.health-reported'] };
}

/**
 * Kafka keeps a topic's messages for its retention, so a group new with an instance reads them from
 * the topic's start; the in-process bus keeps them only until every active group has them. A group
 * that holds every message it is given stands in for the retention.
 */
async function retain(bus: Pick<Bus<typeof topics>, 'subscribe'>, retained: Array<keyof typeof topics>) {
  await bus.subscribe({ group: 'test-retention', topics: retained, handle: (delivery) => void delivery.hold() });
}

async function publishAll(bus: Pick<Bus<typeof topics>, 'publish'>, messages: ShelfSamplesRecorded[]) {
  for (const message of messages) await bus.publish('shelf.samples-recorded', message);
}

/** Waits until the service has taken the messages it was sent (the bus hands them over asynchronously). */
const taken = (service: ShelfService, messages: number) => waitFor(() => service.stats().messages >= messages, () => `${messages} messages taken, have ${JSON.stringify(service.stats())}`);

/** Runs one service over the messages, to the end, and returns what came out. */
async function run(t: TestContext, messages: ShelfSamplesRecorded[]) {
  const { bus, events, health } = await outputBus(t);
  const service = createShelfService({ index, bus, clock: new ManualClock(T0) });
  await service.start();
  await publishAll(bus, messages);
  await taken(service, messages.length);
  await service.flush();
  await service.stop();
  await waitFor(() => events.length + health.length >= service.stats().published, 'everything published to come out');
  return { events, health, service };
}

test('samples in, one shelf event out, keyed by shelf, with the product', async (t) => {
  const { events, health, service } = await run(t, sampleMessages(pickAt(1_500), 5_000));
  assert.equal(events.length, 1, JSON.stringify(events.map((e) => e.message)));
  assert.equal(events[0].key, SHELF);
  assert.equal(events[0].message.laneIds[0], LANE);
  assert.equal(events[0].message.hypotheses[0].productId, product.id);
  // A plate may be noisy for a while (the simulator gives each its own noise); none is dead, stuck or saturated.
  assert.deepEqual(
    health.filter((report) => !['noisy', 'ok'].includes(report.health)),
    [],
  );
  assert.equal(service.stats().ticksWithMissingCells, 0);
  assert.equal(service.stats().held, 0, 'flushed: nothing held');
  assert.equal(service.inventory(SHELF).lanes.find((l) => l.laneId === LANE)!.stock, index.placementByLane.get(LANE)!.initialStock - 1);
});

test('a cell that stops sending does not stall the shelf: it is reported dead and the pick still comes out', async (t) => {
  const { events, health, service } = await run(t, sampleMessages(pickAt(1_500), 5_000, { dropCellAfterMs: 800 }));
  assert.ok(service.stats().ticksWithMissingCells > 0);
  assert.deepEqual(
    health.filter((h) => !['noisy', 'ok'].includes(h.health)).map((h) => [h.deviceId, h.health]),
    [[index.loadCellByPlate.get('g2-s2-p1')!.id, 'dead']],
  );
  assert.equal(events.length, 1);
  assert.equal(events[0].message.laneIds[0], LANE);
});

test('samples delivered again (as Kafka does after a crash) change nothing: no dead cells, the pick weighs what it weighs', async (t) => {
  // Two units picked, so the pick weighs well over a hundred grams.
  const messages = sampleMessages(pickAt(8_000, 2), 12_000);
  const clean = await run(t, messages);
  // Delivered up to the middle of the pick, then the 300 messages before that point again, then the rest.
  const middle = messages.findIndex((m) => m.ts > T0 + 8_300);
  assert.ok(middle > 300);
  const again = [...messages.slice(0, middle), ...messages.slice(middle - 300, middle), ...messages.slice(middle)];
  const redelivered = await run(t, again);
  assert.deepEqual(redelivered.health, clean.health, 'the same health reports: no cell looks dead');
  assert.ok(!redelivered.health.some((report) => report.health === 'dead'));
  assert.deepEqual(
    redelivered.events.map((e) => e.message),
    clean.events.map((e) => e.message),
    'the same events, to the gram',
  );
  assert.ok(clean.events[0].message.deltaGrams < -100, `a two-unit pick: ${clean.events[0].message.deltaGrams} g`);
  assert.equal(redelivered.service.stats().staleSamples, 300 * BATCH);
});

test('a failed publish is not only counted: the handler fails, the samples are delivered again, and the event comes out once', async (t) => {
  const { bus, events } = await outputBus(t);
  const logger = recordingLogger();
  let refused = 0;
  // The broker refuses the first shelf event twice.
  const flaky: Pick<Bus<typeof topics>, 'publish' | 'subscribe'> = {
    subscribe: (options) => bus.subscribe(options),
    publish: (topic, message) => {
      if (topic === 'shelf.event-detected' && refused < 2) {
        refused++;
        return Promise.reject(new Error('broker unavailable'));
      }
      return bus.publish(topic, message);
    },
  };
  const service = createShelfService({ index, bus: flaky, clock: new ManualClock(T0), logger });
  await service.start();
  const messages = sampleMessages(pickAt(1_500), 5_000);
  await publishAll(bus, messages);
  await waitFor(() => events.length >= 1, () => `the event, after ${refused} refusals`);
  assert.equal(refused, 2);
  assert.equal(service.stats().publishFailures, 2);
  assert.equal(bus.stats().deadLettered, 0, 'the samples were retried, not given up on');
  const failures = logger.lines.filter((line) => line.level === 'error');
  assert.equal(failures.length, 2);
  assert.equal(failures[0].fields.eventId, events[0].message.eventId, 'the log says which event');
  await service.flush();
  await service.stop();
  assert.equal(events.length, 1, 'published once');
});

test('commit after output: a service stopped mid-pick leaves its samples held; the next one publishes the pick, named as the first would have', async (t) => {
  // Two picks: the first is published before the stop, the second is under way when it comes.
  const messages = sampleMessages([...pickAt(3_000), ...pickAt(15_000)], 20_000);
  const uninterrupted = await run(t, messages);
  assert.equal(uninterrupted.events.length, 2);

  const { bus, events } = await outputBus(t);
  const first = createShelfService({ index, bus, clock: new ManualClock(T0) });
  await first.start();
  const stopAt = messages.findIndex((m) => m.ts > T0 + 15_200);
  await publishAll(bus, messages.slice(0, stopAt));
  await taken(first, stopAt);
  assert.equal(events.length, 1, 'the first pick is out; the second is not finished');
  assert.ok(first.stats().held > 0);
  await first.stop(); // a crash would leave the same: the held samples uncommitted

  const second = createShelfService({ index, bus, clock: new ManualClock(T0) });
  await second.start();
  await publishAll(bus, messages.slice(stopAt));
  await waitFor(() => events.length >= 2, () => `the second pick, have ${events.length}`);
  await second.flush();
  await second.stop();
  assert.ok(second.stats().ticks < uninterrupted.service.stats().ticks * 0.8, `the second service started from a restart point, not from the beginning (${second.stats().ticks} ticks)`);
  const ids = [...new Set(events.map((e) => e.message.eventId))];
  assert.deepEqual(ids, uninterrupted.events.map((e) => e.message.eventId), 'every pick, once after dedupe by id, named as without the stop');
});

test('a shelf that goes silent has its open segment finished and its samples released, on the service clock', async (t) => {
  const { bus, events } = await outputBus(t);
  const clock = new ManualClock(T0);
  const service = createShelfService({ index, bus, clock });
  await service.start();
  // The samples stop just after the pick, before its readings after it are all in.
  const messages = sampleMessages(pickAt(1_500), 2_200);
  await publishAll(bus, messages);
  await taken(service, messages.length);
  assert.equal(events.length, 0);
  assert.ok(service.stats().held > 0);
  await clock.advance(SHELF_SILENT_MS + 1_000);
  await waitFor(() => events.length >= 1 && service.stats().held === 0, () => `the pick and nothing held, have ${events.length} and ${service.stats().held}`);
  assert.equal(events[0].message.laneIds[0], LANE);
  await service.stop();
});

test('with reportActivity, each shelf says how it stands: at rest every ACTIVITY_REPORT_MS, active from the pick until it settles, silent when its samples stop', async (t) => {
  const { bus, messages } = await collectingBus(t, ['shelf.activity-reported', 'shelf.event-detected']);
  const clock = new ManualClock(T0);
  const service = createShelfService({ index, bus, clock, reportActivity: true });
  await service.start();
  const sent = sampleMessages(pickAt(2_000), 5_000);
  await publishAll(bus, sent);
  await taken(service, sent.length);
  await clock.advance(SHELF_SILENT_MS + 1_000);
  const reports = messages['shelf.activity-reported'];
  await waitFor(() => reports.at(-1)?.state === 'silent', () => `the shelf reported silent (${JSON.stringify(reports.at(-1))})`);
  await service.stop();
  assert.ok(reports.every((r) => r.shelfId === SHELF && r.since <= r.ts));
  const changes = reports.filter((r, k) => k === 0 || reports[k - 1].state !== r.state).map((r) => r.state);
  // The detector's first readings (its resting level still being found) may open a segment that comes to nothing.
  assert.deepEqual(changes.slice(0, 2), ['at-rest', 'active']);
  assert.deepEqual(changes.slice(-3), ['active', 'at-rest', 'silent']);
  const event = messages['shelf.event-detected'][0];
  const active = reports.findLast((r) => r.state === 'active' && r.since === r.ts)!;
  // Active from the weight leaving its level until the readings after the change are taken.
  assert.ok(Math.abs(active.since - event.startMs) < 200, `active at ${active.since - T0}, the pick from ${event.startMs - T0}`);
  const rest = reports.find((r) => r.state === 'at-rest' && r.since > active.since)!;
  assert.ok(rest.since > event.endMs, 'at rest only once the readings after the change are taken');
  // Between changes, a report at least every ACTIVITY_REPORT_MS of store time.
  for (let k = 1; k < reports.length; k++) assert.ok(reports[k].ts - reports[k - 1].ts <= ACTIVITY_REPORT_MS, `reports at ${reports[k - 1].ts - T0} and ${reports[k].ts - T0}`);
  // Ids are derived from what a report is: a restart reports the same instants under the same ids.
  assert.equal(new Set(reports.map((r) => r.eventId)).size, reports.length);
});

test('without reportActivity nothing is reported on shelf.activity-reported', async (t) => {
  const { bus, messages } = await collectingBus(t, ['shelf.activity-reported', 'shelf.event-detected']);
  const service = createShelfService({ index, bus, clock: new ManualClock(T0) });
  await service.start();
  const sent = sampleMessages(pickAt(1_500), 4_000);
  await publishAll(bus, sent);
  await taken(service, sent.length);
  await service.flush();
  await service.stop();
  await waitFor(() => messages['shelf.event-detected'].length === 1, 'the pick');
  assert.equal(messages['shelf.activity-reported'].length, 0);
});

test("fusion's reading of a change is taken into the stock by the instance that made the change; an instance that has not had the shelf keeps it aside, taking nothing", async (t) => {
  const { bus, events } = await outputBus(t);
  const service = createShelfService({ index, bus, clock: new ManualClock(T0) });
  const other = createShelfService({ index, bus, clock: new ManualClock(T0) });
  await service.start();
  const messages = sampleMessages(pickAt(1_500), 5_000);
  await publishAll(bus, messages);
  await taken(service, messages.length);
  await service.flush();
  await other.start();
  await waitFor(() => events.length >= 1, 'the pick');
  const [pick] = events.map((e) => e.message);
  const stock = () => service.inventory(SHELF).lanes.find((l) => l.laneId === LANE)!.stock;
  assert.equal(stock(), index.placementByLane.get(LANE)!.initialStock - 1);

  // Fusion reads the change as two units taken; the message comes twice (at least once delivery).
  const asTwo = { ...pick, eventId: `${pick.shelfEventId}-as-1`, shelfEventId: `${pick.shelfEventId}-as-1`, hypotheses: [{ productId: product.id, quantity: 2, probability: 1 }] };
  const reading = { schemaVersion: SCHEMA_VERSION, eventId: `reexplained-${pick.shelfEventId}`, storeId: index.store.id, ts: pick.endMs, shelfId: SHELF, replaces: [pick.shelfEventId], events: [asTwo], probability: 0.8 };
  await bus.publish('fusion.change-reexplained', reading);
  await bus.publish('fusion.change-reexplained', reading);
  await waitFor(
    () => service.stats().rereadsTaken + service.stats().rereadsPassed >= 2 && other.stats().rereadsWaiting + other.stats().rereadsPassed >= 2,
    () => `both readings seen by both, have ${JSON.stringify([service.stats(), other.stats()])}`,
  );
  assert.equal(service.stats().rereadsTaken, 1, 'taken once');
  assert.equal(other.stats().rereadsTaken, 0, 'the other instance made no such change');
  // It may yet be given the shelf (a rebalance, a restart), so it keeps the reading once, for when it has made those events.
  assert.deepEqual([other.stats().rereadsWaiting, other.stats().rereadsPassed], [1, 1]);
  assert.equal(stock(), index.placementByLane.get(LANE)!.initialStock - 2);
  await service.stop();
  await other.stop();
});

/** Fusion's reading of a pick as two units taken: what the shelf's stock follows (`fusion.change-reexplained`). */
function readAsTwo(pick: ShelfEventDetected) {
  const id = `${pick.shelfEventId}-as-1`;
  const asTwo = { ...pick, eventId: id, shelfEventId: id, hypotheses: [{ ...pick.hypotheses[0], quantity: 2, probability: 1 }] };
  return { schemaVersion: SCHEMA_VERSION, eventId: `reexplained-${pick.shelfEventId}`, storeId: index.store.id, ts: pick.endMs, shelfId: SHELF, replaces: [pick.shelfEventId], events: [asTwo], probability: 0.8 };
}

test("a reviewer's decision passed on by fusion, dated after the samples judged so far, changes the stock only once the shelf gets there", async (t) => {
  const { bus, events } = await outputBus(t);
  const service = createShelfService({ index, bus, clock: new ManualClock(T0) });
  await service.start();
  const messages = sampleMessages(pickAt(1_500), 10_000);
  const early = messages.filter((m) => m.ts < T0 + 5_000);
  await publishAll(bus, early);
  await taken(service, early.length);
  await waitFor(() => events.length >= 1, 'the pick');
  const [pick] = events.map((e) => e.message);
  const stock = () => service.inventory(SHELF).lanes.find((l) => l.laneId === LANE)!.stock;
  const initial = index.placementByLane.get(LANE)!.initialStock;
  assert.equal(stock(), initial - 1);

  // A reviewer decided, at 7 s, that two units went: the shelf has judged its samples to about 5 s.
  const id = `${pick.shelfEventId}-decided-1`;
  const decided = { ...pick, eventId: id, shelfEventId: id, hypotheses: [{ ...pick.hypotheses[0], quantity: 2, probability: 1 }], confidence: 1 };
  await bus.publish('fusion.change-reexplained', {
    schemaVersion: SCHEMA_VERSION, eventId: 'decided-op-1', storeId: index.store.id, ts: T0 + 7_000, shelfId: SHELF,
    replaces: [pick.shelfEventId], events: [decided], probability: 1, review: `review-${pick.shelfEventId}`,
  });
  await waitFor(() => service.stats().rereadsWaiting === 1, () => `the reading waits, have ${JSON.stringify(service.stats())}`);
  assert.equal(stock(), initial - 1, 'not before its time');
  const late = messages.filter((m) => m.ts >= T0 + 5_000);
  await publishAll(bus, late);
  await taken(service, messages.length);
  await waitFor(() => service.stats().rereadsTaken === 1, () => `the reading taken, have ${JSON.stringify(service.stats())}`);
  assert.equal(stock(), initial - 2);
  assert.equal(service.stats().rereadsWaiting, 0);
  await service.stop();
});

test('a restarted service keeps what the shelf learned: a misplaced item, units taken, and fusion\'s re-readings, each counted once', async (t) => {
  const takenLane = 'g2-s2-l1';
  const misplacedOn = 'g2-s2-l6';
  // A unit taken from LANE is put back on another lane; a unit of another lane is taken; after the restart, the misplaced unit is taken again.
  const changes = [
    ...pickAt(1_500),
    ...laneLoadChanges(index, misplacedOn, product.unitWeightGrams, T0 + 4_500, 400, 'put'),
    ...laneLoadChanges(index, takenLane, index.products.get(index.placementByLane.get(takenLane)!.productId)!.unitWeightGrams, T0 + 8_000, 400, 'pick'),
    ...laneLoadChanges(index, misplacedOn, product.unitWeightGrams, T0 + 21_000, 400, 'pick'),
  ];
  const messages = sampleMessages(changes, 25_000);
  const upTo = (ms: number) => messages.findIndex((m) => m.ts > T0 + ms);
  const [firstPart, secondPart] = [upTo(10_000), upTo(17_000)];

  /**
   * Runs the samples through to 17 s (fusion reads the pick of 8 s as two units on the way, a snapshot's
   * restart point passes it), then fusion reads the first pick as two units too (after the last snapshot);
   * with `restart`, the service stops there and a new one takes the rest.
   */
  async function runWith(restart: boolean) {
    const { bus, events } = await outputBus(t);
    await retain(bus, ['shelf.stock-snapshot', 'fusion.change-reexplained']);
    const first = createShelfService({ index, bus, clock: new ManualClock(T0) });
    await first.start();
    await publishAll(bus, messages.slice(0, firstPart));
    await waitFor(() => events.length >= 3, () => `three events by 10 s, have ${events.length}`);
    await bus.publish('fusion.change-reexplained', readAsTwo(events[2].message));
    await waitFor(() => first.stats().rereadsTaken === 1, 'the first reading taken');
    await publishAll(bus, messages.slice(firstPart, secondPart));
    await taken(first, secondPart);
    await bus.publish('fusion.change-reexplained', readAsTwo(events[0].message));
    await waitFor(() => first.stats().rereadsTaken === 2, 'the second reading taken');
    let last = first;
    if (restart) {
      assert.ok(first.stats().snapshotsPublished >= 1, JSON.stringify(first.stats()));
      await first.stop();
      last = createShelfService({ index, bus, clock: new ManualClock(T0) });
      await last.start();
    }
    await publishAll(bus, messages.slice(secondPart));
    await waitFor(() => events.length >= 4, () => `the last pick, have ${events.length}`);
    await last.flush();
    await last.stop();
    const unique = [...new Map(events.map((e) => [e.message.eventId, e.message])).values()];
    return { events: unique, inventory: last.inventory(SHELF), stats: last.stats() };
  }

  const allAlong = await runWith(false);
  assert.deepEqual(
    allAlong.events.map((e) => [e.kind, e.laneIds[0], e.hypotheses[0]?.productId]),
    [
      ['pick', LANE, product.id],
      ['put', misplacedOn, product.id],
      ['pick', takenLane, index.placementByLane.get(takenLane)!.productId],
      ['pick', misplacedOn, product.id],
    ],
    'fixture: the unit put back on the wrong lane is what is taken from it at the end',
  );
  const restarted = await runWith(true);
  assert.deepEqual(restarted.events, allAlong.events, 'the same events, the last pick named as the shelf that ran all along names it');
  assert.deepEqual(restarted.inventory, allAlong.inventory, 'the same stock');
  // Both readings come again to the new instance's group: the one the snapshot holds changes nothing, the one after it is taken once.
  assert.deepEqual([restarted.stats.rereadsTaken, restarted.stats.rereadsPassed], [1, 1]);
  assert.equal(restarted.stats.snapshotsRestored, 1, JSON.stringify(restarted.stats));
  const lane = (laneId: string) => restarted.inventory.lanes.find((l) => l.laneId === laneId)!;
  assert.equal(lane(LANE).stock, index.placementByLane.get(LANE)!.initialStock - 2, 'the first pick as fusion read it: two units');
  assert.equal(lane(takenLane).stock, index.placementByLane.get(takenLane)!.initialStock - 2);
});

test('a stock snapshot that does not fit the store, or of another schema version, is refused with what and where; the shelf starts from the planogram', async (t) => {
  const { bus, events } = await outputBus(t);
  const logger = recordingLogger();
  const planned = new ShelfInventory(index, SHELF).state();
  const snapshot = (eventId: string, lanes: typeof planned.lanes) => ({
    schemaVersion: SCHEMA_VERSION,
    eventId,
    storeId: index.store.id,
    ts: T0,
    shelfId: SHELF,
    resumeFromMs: T0,
    lanes,
    givenOut: [],
    moves: [],
    replaced: [],
  });
  // A good snapshot with five units on LANE, then a newer one naming a lane the shelf lacks, then one of a schema version to come.
  await bus.publish('shelf.stock-snapshot', snapshot('stock-good', planned.lanes.map((lane) => (lane.laneId === LANE ? { ...lane, stock: 5 } : lane))));
  await bus.publish('shelf.stock-snapshot', snapshot('stock-elsewhere', planned.lanes.map((lane) => (lane.laneId === LANE ? { ...lane, laneId: 'g2-s9-l3' } : lane))));
  bus.appendRaw('shelf.stock-snapshot', SHELF, { ...snapshot('stock-v2', planned.lanes), schemaVersion: SCHEMA_VERSION + 1 });
  const service = createShelfService({ index, bus, clock: new ManualClock(T0), logger });
  await service.start();
  await waitFor(() => bus.stats().deadLettered === 2, () => `both bad snapshots dead-lettered, have ${bus.stats().deadLettered}`);
  const refusal = logger.lines.find((line) => line.level === 'warn')!;
  assert.equal(refusal.message, 'stock snapshot refused');
  assert.deepEqual([refusal.fields.shelfId, refusal.fields.snapshot, refusal.fields.then], [SHELF, 'stock-elsewhere', 'the shelf starts here from the planogram']);
  assert.match(String(refusal.fields.error), /stock snapshot stock-elsewhere of shelf g2-s2: lane g2-s9-l3 is not on the shelf/);
  assert.equal(typeof refusal.fields.offset, 'string', 'where it lies on the topic');

  const messages = sampleMessages(pickAt(1_500), 5_000);
  await publishAll(bus, messages);
  await taken(service, messages.length);
  await service.flush();
  await waitFor(() => events.length === 1, 'the pick');
  await service.stop();
  assert.deepEqual([service.stats().snapshotsRefused, service.stats().snapshotsRestored], [1, 0]);
  assert.equal(service.inventory(SHELF).lanes.find((l) => l.laneId === LANE)!.stock, index.placementByLane.get(LANE)!.initialStock - 1, 'the planogram, less the pick: not the refused snapshot, nor the good one before it');
});
