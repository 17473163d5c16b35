import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseStore, indexStore, plateShares, WalkoutError, type Store } from './index.ts';

const kioskJson = () => JSON.parse(readFileSync(new URL('../../fixtures/stores/kiosk.json', import.meta.url), 'utf8')) as Store;

function rejection(store: unknown): string {
  try {
    parseStore(store, 'kiosk.json');
  } catch (error) {
    assert.ok(error instanceof WalkoutError);
    assert.equal(error.code, 'STORE_INVALID');
    return error.message;
  }
  assert.fail('the store was accepted');
}

test('the committed fixtures are valid stores', () => {
  for (const name of ['kiosk', 'convenience']) {
    const json = JSON.parse(readFileSync(new URL(`../../fixtures/stores/${name}.json`, import.meta.url), 'utf8'));
    const index = indexStore(parseStore(json, name));
    assert.ok(index.lanes.size > 0);
  }
});

test('unknown keys are errors that say where', () => {
  const store = kioskJson() as unknown as { cameras: Array<Record<string, unknown>> };
  store.cameras[2].zoom = 2;
  assert.match(rejection(store), /kiosk\.json at cameras\.2: Unrecognized key.*zoom/);
});

test('a cross-field error names the camera', () => {
  const store = kioskJson();
  store.cameras[2].intrinsics.cx = 9000;
  assert.match(rejection(store), /camera cam-3: principal point \(9000, 240\) lies outside its 640x480 image/);
});

test('a lane resting on a plate of another shelf is named', () => {
  const store = kioskJson();
  store.layout.gondolas[1].shelves[4 - 1].lanes[3].plateIds = ['g1-s1-p1'];
  assert.match(rejection(store), /lane g2-s4-l4 rests on plate g1-s1-p1, which is not on shelf g2-s4/);
});

test('every bad value is listed at once', () => {
  const store = kioskJson();
  store.planogram.placements[0].productId = 'p-9999';
  store.loadCells.pop();
  store.gates = store.gates.filter((g) => g.kind !== 'exit');
  const message = rejection(store);
  assert.match(message, /lane g1-s1-l1 holds unknown product p-9999/);
  assert.match(message, /plate g2-s4-p4 has no load cell/);
  assert.match(message, /the store has no exit gate/);
});

test('a lane across two plates splits its weight by overlap', () => {
  const index = indexStore(parseStore(kioskJson()));
  // Kiosk shelves are 2 m long with 4 plates of 0.5 m and 6 lanes of 1/3 m: lane 2 spans plates 1 and 2.
  const shares = plateShares(index, 'g1-s1-l2');
  assert.deepEqual([...shares.keys()], ['g1-s1-p1', 'g1-s1-p2']);
  assert.ok(Math.abs(shares.get('g1-s1-p1')! - 0.49) < 0.02);
  assert.ok(Math.abs([...shares.values()].reduce((a, b) => a + b) - 1) < 1e-9);
  assert.deepEqual([...plateShares(index, 'g1-s1-l1').entries()], [['g1-s1-p1', 1]]);
});
