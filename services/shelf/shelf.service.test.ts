import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  indexStore,
  parseStore,
  SCHEMA_VERSION,
  topics,
  type DeviceHealthReported,
  type ShelfEventDetected,
} from '../../libs/contracts/index.ts';
import { createMemoryBus, parseBusConfig } from '../../libs/bus/index.ts';
import { plateStockGrams, simulateShelfLoadCells } from '../../libs/sim/loadcell.sim.ts';
import { laneLoadChanges } from '../../libs/sim/shelf-activity.sim.ts';
import { createShelfService } from './shelf.service.ts';

const index = indexStore(parseStore(JSON.parse(readFileSync(new URL('../../fixtures/stores/kiosk.json', import.meta.url), 'utf8'))));
const T0 = 1_700_000_000_000;
const SHELF = 'g2-s2';
const BATCH = 6; // samples per message, as a device would batch them

async function run(dropCellAfterMs?: number) {
  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory' }) });
  await bus.start();
  const events: Array<{ key: string | null; message: ShelfEventDetected }> = [];
  const health: DeviceHealthReported[] = [];
  await bus.subscribe({
    group: 'test-out',
    topics: ['shelf.event-detected', 'device.health-reported'],
    handle: (d) => {
      if (d.topic === 'shelf.event-detected') events.push({ key: d.key, message: d.message });
      else health.push(d.message as DeviceHealthReported);
    },
  });
  const service = createShelfService({ index, bus });
  await service.start();
  const laneId = 'g2-s2-l3';
  const product = index.products.get(index.placementByLane.get(laneId)!.productId)!;
  const cells = index.shelves.get(SHELF)!.shelf.plates.map((p) => index.loadCellByPlate.get(p.id)!.id);
  const batches = cells.map(() => [] as Array<[number, number]>);
  let seq = 0;
  for (const tick of simulateShelfLoadCells({
    index,
    shelfId: SHELF,
    startMs: T0,
    endMs: T0 + 5_000,
    initialGrams: plateStockGrams(index, SHELF),
    changes: laneLoadChanges(index, laneId, product.unitWeightGrams, T0 + 1_500, 400, 'pick'),
    seed: 2,
  })) {
    for (let c = 0; c < cells.length; c++) {
      if (c === 0 && dropCellAfterMs !== undefined && tick.ts > T0 + dropCellAfterMs) continue;
      batches[c].push([tick.ts, Math.round(tick.grams[c] * 10) / 10]);
      if (batches[c].length === BATCH) {
        await bus.publish('shelf.samples-recorded', {
          schemaVersion: SCHEMA_VERSION,
          eventId: `s-${seq++}`,
          storeId: index.store.id,
          ts: batches[c][0][0],
          shelfId: SHELF,
          loadCellId: cells[c],
          samples: batches[c].splice(0),
        });
      }
    }
  }
  // Let the bus hand everything over, then close what is open.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await service.stop();
  await new Promise((resolve) => setTimeout(resolve, 100));
  await bus.close();
  return { events, health, service, laneId, product };
}

test('samples in, one shelf event out, keyed by shelf, with the product', async () => {
  const { events, health, service, laneId, product } = await run();
  assert.equal(events.length, 1, JSON.stringify(events.map((e) => e.message)));
  assert.equal(events[0].key, SHELF);
  assert.equal(events[0].message.laneIds[0], laneId);
  assert.equal(events[0].message.hypotheses[0].productId, product.id);
  assert.deepEqual(health, []);
  assert.equal(service.stats().ticksWithMissingCells, 0);
  assert.equal(service.inventory(SHELF).lanes.find((l) => l.laneId === laneId)!.stock, index.placementByLane.get(laneId)!.initialStock - 1);
});

test('a cell that stops sending does not stall the shelf: it is reported dead and the pick still comes out', async () => {
  const { events, health, service, laneId } = await run(800);
  assert.ok(service.stats().ticksWithMissingCells > 0);
  assert.deepEqual(
    health.map((h) => [h.deviceId, h.health]),
    [[index.loadCellByPlate.get('g2-s2-p1')!.id, 'dead']],
  );
  assert.equal(events.length, 1);
  assert.equal(events[0].message.laneIds[0], laneId);
});
