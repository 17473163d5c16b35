import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generateStore, storeToJson, STORE_SPECS } from './store.generator.ts';
import { indexStore } from '../contracts/index.ts';

test('committed store fixtures are exactly the generator output (run `walkout stores generate` after a change)', () => {
  for (const [name, spec] of Object.entries(STORE_SPECS)) {
    const committed = readFileSync(new URL(`../../fixtures/stores/${name}.json`, import.meta.url), 'utf8');
    assert.equal(storeToJson(generateStore(spec)), committed, `fixtures/stores/${name}.json is stale`);
  }
});

test('the stores have the sizes the product needs', () => {
  const kiosk = indexStore(generateStore(STORE_SPECS.kiosk));
  assert.equal(kiosk.store.cameras.length, 4);
  assert.equal(kiosk.shelves.size, 8);
  const convenience = indexStore(generateStore(STORE_SPECS.convenience));
  assert.equal(convenience.store.cameras.length, 12);
  assert.equal(convenience.shelves.size, 40);
  assert.equal(convenience.products.size, 300);
  // Every product is on some lane, and products of near-equal weight exist (the hard case for weight).
  for (const product of convenience.products.keys()) assert.ok(convenience.lanesByProduct.has(product), product);
  const weights = [...convenience.products.values()].map((p) => p.unitWeightGrams).sort((a, b) => a - b);
  assert.ok(weights.some((w, i) => i > 0 && w - weights[i - 1] < 1), 'some products weigh within 1 g of another');
});
