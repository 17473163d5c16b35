import test from 'node:test';
import assert from 'node:assert/strict';
import { NETTED_MAX_UNITS, NETTED_SIGMAS, nettedReadings, type NettedChange } from './netted.reading.ts';

const PRODUCTS: Record<string, { unitWeightGrams: number; weightSpreadGrams: number }> = {
  crisps: { unitWeightGrams: 107.6, weightSpreadGrams: 2 },
  soda: { unitWeightGrams: 165, weightSpreadGrams: 2 },
  water: { unitWeightGrams: 509.6, weightSpreadGrams: 5 },
};
const change = (deltaGrams: number, hands: NettedChange['hands'], onShelf = ['soda']): NettedChange => ({
  deltaGrams,
  sigmaGrams: 1,
  hands,
  onShelf: new Set(onShelf),
  product: (productId) => PRODUCTS[productId],
});

test('a change that weighs what one shopper holds less what the lane holds reads as that shopper putting back while the other takes', () => {
  const readings = nettedReadings(change(-57.4, [{ visitId: 'v-a', holds: new Map([['crisps', 1]]) }, { visitId: 'v-b', holds: new Map() }]));
  assert.equal(readings.length, 1);
  assert.deepEqual([readings[0].put, readings[0].pick], [
    { visitId: 'v-a', productId: 'crisps', quantity: 1 },
    { visitId: 'v-b', productId: 'soda', quantity: 1 },
  ]);
  assert.ok(Math.abs(readings[0].predictedGrams - -57.4) < 1e-9);
  assert.ok(readings[0].z < 0.1);
});

test('no reading without two shoppers, without a holding, or when the weight does not fit', () => {
  const a = { visitId: 'v-a', holds: new Map([['crisps', 1]]) };
  assert.deepEqual(nettedReadings(change(-57.4, [a])), [], 'one shopper alone');
  assert.deepEqual(nettedReadings(change(-57.4, [{ ...a, holds: new Map([['crisps', 0.3]]) }, { visitId: 'v-b', holds: new Map() }])), [], 'a third of a unit is not in hand');
  const off = -57.4 - (NETTED_SIGMAS + 0.5) * Math.sqrt(1 + 4 + 4);
  assert.deepEqual(nettedReadings(change(off, [a, { visitId: 'v-b', holds: new Map() }])), [], 'beyond the fit');
});

test('readings come best fitting first, each way round, with units up to the most one hand moves', () => {
  const hands = [
    { visitId: 'v-a', holds: new Map([['crisps', 2]]) },
    { visitId: 'v-b', holds: new Map([['soda', 1]]) },
  ];
  // Two crisps put back less one soda; soda put back less one crisps fits the other sign only.
  const readings = nettedReadings(change(2 * 107.6 - 165 + 0.5, hands, ['soda', 'crisps']));
  assert.deepEqual([readings[0].put, readings[0].pick], [
    { visitId: 'v-a', productId: 'crisps', quantity: 2 },
    { visitId: 'v-b', productId: 'soda', quantity: 1 },
  ]);
  for (let i = 1; i < readings.length; i++) assert.ok(readings[i].z >= readings[i - 1].z);
  assert.ok(readings.every((r) => r.put.quantity <= NETTED_MAX_UNITS && r.pick.quantity <= NETTED_MAX_UNITS));
});
