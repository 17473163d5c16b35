import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { indexStore, parseStore, type ShelfEventDetected } from '../contracts/index.ts';
import { plateStockGrams, simulateShelfLoadCells, type ShelfLoadCellTick } from '../sim/loadcell.sim.ts';
import { laneLoadChanges } from '../sim/shelf-activity.sim.ts';
import { ShelfPerception } from './shelf.perception.ts';

const kiosk = indexStore(parseStore(JSON.parse(readFileSync(new URL('../../fixtures/stores/kiosk.json', import.meta.url), 'utf8'))));
const T0 = 1_700_000_000_000;

// Crisps (167.5 g) and yogurt (165.8 g) weigh within each other's spread.
const CRISPS_LANE = 'g2-s3-l4';
const CRISPS = 'p-0040';
const YOGURT = 'p-0008';
const PICK_SHELF = 'g2-s3';
const PUT_SHELF = 'g1-s1';
const PUT_LANE = 'g1-s1-l3';

function shelfTicks(shelfId: string, laneId: string, kind: 'pick' | 'put', atMs: number): Array<ShelfLoadCellTick & { shelfId: string }> {
  const grams = kiosk.products.get(CRISPS)!.unitWeightGrams;
  const ticks = simulateShelfLoadCells({
    index: kiosk,
    shelfId,
    startMs: T0,
    endMs: T0 + 8_000,
    initialGrams: plateStockGrams(kiosk, shelfId),
    changes: laneLoadChanges(kiosk, laneId, grams, T0 + atMs, 400, kind),
    seed: 5,
  });
  return [...ticks].map((tick) => ({ ...tick, shelfId }));
}

function eventsOf(ticks: Array<ShelfLoadCellTick & { shelfId: string }>): ShelfEventDetected[] {
  const events: ShelfEventDetected[] = [];
  const perception = new ShelfPerception({ index: kiosk, onEvent: (e) => events.push(e) });
  for (const tick of ticks) perception.push(tick.shelfId, tick.ts, tick.grams);
  perception.finish();
  return events;
}

test('a shelf decides from its own samples only: how the shelves interleave changes none of its events', () => {
  // A shopper takes crisps on one shelf and puts them down on a lane of another, three seconds later.
  const picks = shelfTicks(PICK_SHELF, CRISPS_LANE, 'pick', 1_000);
  const puts = shelfTicks(PUT_SHELF, PUT_LANE, 'put', 4_000);
  const byTime = [...picks, ...puts].sort((a, b) => a.ts - b.ts || a.shelfId.localeCompare(b.shelfId));
  // Kafka hands each shelf's partition over in order, but in no defined order across partitions.
  const orders = { 'store-clock order': byTime, 'pick shelf first': [...picks, ...puts], 'put shelf first': [...puts, ...picks] };
  const putEvents = Object.entries(orders).map(([order, ticks]) => ({ order, events: eventsOf(ticks).filter((e) => e.shelfId === PUT_SHELF) }));
  for (const { order, events } of putEvents.slice(1)) assert.deepEqual(events, putEvents[0].events, `${order} against ${putEvents[0].order}`);

  // The put lists every product its weight allows, for fusion to settle with the shopper's cart.
  const [put] = putEvents[0].events;
  assert.equal(putEvents[0].events.length, 1);
  assert.equal(put.kind, 'put');
  assert.equal(put.laneIds[0], PUT_LANE);
  const listed = put.hypotheses.filter((h) => h.quantity === 1).map((h) => h.productId);
  assert.ok(listed.includes(CRISPS) && listed.includes(YOGURT), `hypotheses ${JSON.stringify(put.hypotheses)}`);
  assert.ok(put.confidence < 0.8, `a put that weight alone cannot name is not sure of itself: confidence ${put.confidence}`);
});

test('the inventory of a shelf follows its own events; shelves never seen are as planned', () => {
  const events: ShelfEventDetected[] = [];
  const perception = new ShelfPerception({ index: kiosk, onEvent: (e) => events.push(e) });
  for (const tick of shelfTicks(PICK_SHELF, CRISPS_LANE, 'pick', 1_000)) perception.push(tick.shelfId, tick.ts, tick.grams);
  perception.finish();
  assert.equal(events.length, 1);
  const stockOf = (laneId: string) => perception.inventory().lanes.find((l) => l.laneId === laneId)!.stock;
  assert.equal(stockOf(CRISPS_LANE), kiosk.placementByLane.get(CRISPS_LANE)!.initialStock - 1);
  assert.equal(stockOf(PUT_LANE), kiosk.placementByLane.get(PUT_LANE)!.initialStock);
  assert.equal(perception.inventory().lanes.length, kiosk.lanes.size);
  assert.deepEqual(perception.inventory(PICK_SHELF).lanes.map((l) => l.shelfId), kiosk.shelves.get(PICK_SHELF)!.shelf.lanes.map(() => PICK_SHELF));
});
