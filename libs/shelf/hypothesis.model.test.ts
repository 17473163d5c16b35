import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { indexStore, parseStore, plateShares } from '../contracts/index.ts';
import { explain, fitLimit, type LaneGeometry, type PlateChange } from './hypothesis.model.ts';
import { ShelfInventory } from './inventory.model.ts';

const kiosk = indexStore(parseStore(JSON.parse(readFileSync(new URL('../../fixtures/stores/kiosk.json', import.meta.url), 'utf8'))));
const SHELF = 'g1-s3';
const GUM_LANE = 'g1-s3-l4'; // chewing gum, 29.9 g, alone on plate 3
const plates = kiosk.shelves.get(SHELF)!.shelf.plates.map((p) => p.id);
const lanes: LaneGeometry[] = kiosk.shelves.get(SHELF)!.shelf.lanes.map((lane) => {
  const shares = new Float64Array(plates.length);
  for (const [plateId, share] of plateShares(kiosk, lane.id)) shares[plates.indexOf(plateId)] = share;
  return { laneId: lane.id, shares };
});
const gum = lanes.findIndex((l) => l.laneId === GUM_LANE);

const explainPut = (grams: number) => {
  const changes: PlateChange[] = plates.map((id) => ({ deltaGrams: id === 'g1-s3-p3' ? grams : 0, sigmaGrams: 0.3 }));
  return explain({ plates: changes, lanes, candidateLanes: [gum], products: kiosk.products, inventory: new ShelfInventory(kiosk, SHELF), nowMs: 0 });
};

test('the fit limit is the chi-square value the truth exceeds once in 10,000', () => {
  // Published critical values of the chi-square distribution at 0.0001.
  for (const [dof, critical] of [[1, 15.137], [2, 18.421], [4, 23.513], [6, 27.856]]) assert.ok(Math.abs(fitLimit(dof) - critical) < 2e-3, `${dof}: ${fitLimit(dof)}`);
});

test('a put of one pack of gum is explained; a fifth of one, or a pack and a half, is not', () => {
  const one = explainPut(29.9);
  assert.equal(one[0].items[0].productId, kiosk.placementByLane.get(GUM_LANE)!.productId);
  assert.equal(one[0].items[0].quantity, 1);
  assert.deepEqual(explainPut(6), []);
  assert.deepEqual(explainPut(45), []);
});
