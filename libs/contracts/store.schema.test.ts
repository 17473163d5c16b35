import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { MAX_FLOOR_SIDE_M, parseStore, indexStore, plateShares, WalkoutError, type Store } from './index.ts';
import { moveCamera, moveGondola } from './store.fixture.ts';

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
  const names = readdirSync(new URL('../../fixtures/stores/', import.meta.url)).filter((file) => file.endsWith('.json'));
  assert.deepEqual(names.sort(), ['convenience.json', 'kiosk-shelf-cams.json', 'kiosk.json']);
  for (const name of names) {
    const json = JSON.parse(readFileSync(new URL(`../../fixtures/stores/${name}`, import.meta.url), 'utf8'));
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

test('a gondola off the floor is named, with how far off it stands', () => {
  const store = kioskJson();
  // Its plates and lanes move with it, so that the only fault is where the gondola stands.
  moveGondola(store.layout.gondolas[1], [100, 0, 0]);
  const message = rejection(store);
  assert.match(message, /kiosk\.json at layout\.gondolas\.1\.box: gondola g2 stands off the floor: its corner \(100\.1, 1\.4\) is 94\.1 m outside it/);
});

test('a zone off the floor is named', () => {
  const store = kioskJson();
  store.layout.zones[0].polygon = [[3.6, -5], [4.6, -5], [4.6, -4.2], [3.6, -4.2]];
  assert.match(rejection(store), /layout\.zones\.0\.polygon: entry zone entry lies off the floor: its corner \(3\.6, -5\) is 5 m outside it/);
});

test('overlapping gondolas are named; gondolas back to back are fine', () => {
  const store = kioskJson();
  store.layout.gondolas[1].box = { ...store.layout.gondolas[1].box, max: [1.2, 3.4, 1.9] };
  const g1 = store.layout.gondolas[0];
  g1.box = { min: [g1.box.min[0], 3, g1.box.min[2]], max: g1.box.max };
  const message = rejection(store);
  assert.match(message, /layout\.gondolas\.1\.box: gondola g2 overlaps gondola g1 by 0\.2 x 0\.4 m/);
  const convenience = JSON.parse(readFileSync(new URL('../../fixtures/stores/convenience.json', import.meta.url), 'utf8')) as Store;
  const [g4, g5] = ['g4', 'g5'].map((id) => convenience.layout.gondolas.find((g) => g.id === id)!.box);
  assert.equal(g4.max[1], g5.min[1], 'the convenience store has gondolas back to back, and it is a valid store');
});

test('a camera far from the store is named, with where it is', () => {
  const store = kioskJson();
  moveCamera(store.cameras[0], [1700, 0, 0]);
  assert.match(rejection(store), /kiosk\.json at cameras\.0\.pose: camera cam-1 sits at \(1700\.75, 4\.3, 3\.1\), 1694\.75 m outside the floor/);
  const high = kioskJson();
  moveCamera(high.cameras[1], [0, 0, 40]);
  assert.match(rejection(high), /camera cam-2 sits at \(3\.4, 4\.3, 43\.1\), 39\.8 m above the 3\.3 m walls/);
});

test('a floor larger than walkout handles is refused with the limit, not a crash', () => {
  const store = kioskJson();
  store.layout.floor = [[0, 0], [20_000, 0], [20_000, 5], [0, 5]];
  assert.match(rejection(store), new RegExp(`layout\\.floor: the floor spans 20000 x 5 m; walkout handles floors up to ${MAX_FLOOR_SIDE_M} m a side \\(MAX_FLOOR_SIDE_M\\)`));
});
