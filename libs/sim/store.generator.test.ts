import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generateStore, storeToJson, STORE_SPECS } from './store.generator.ts';
import { indexStore, KP, type Camera } from '../contracts/index.ts';
import { cameraCentre, projectPoint } from '../geometry/camera.ts';
import { skeleton } from './body.model.ts';

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

test('the kiosk with shelf cameras: the kiosk plus a camera over each gondola that sees its shoppers from in front', () => {
  const kiosk = generateStore(STORE_SPECS.kiosk);
  const shelfCams = generateStore(STORE_SPECS['kiosk-shelf-cams']);
  assert.deepEqual(shelfCams.cameras.slice(0, 4), kiosk.cameras, "the first four cameras are the kiosk's");
  assert.deepEqual(shelfCams.layout, kiosk.layout);
  assert.deepEqual(
    shelfCams.cameras.slice(4).map((c) => [c.id, c.kind]),
    [
      ['cam-5', 'shelf'],
      ['cam-6', 'shelf'],
    ],
  );
  // A shopper 0.4 m in front of each wall gondola, facing it: g1 (opens to -y) and g2 (opens to +x).
  const shoppers: Array<[string, number, number, number]> = [
    ['g1', 2.0, 4.0, Math.PI / 2],
    ['g2', 1.0, 2.4, Math.PI],
  ];
  const angleFromFacing = (camera: Camera, x: number, y: number, heading: number) => {
    const c = cameraCentre(camera);
    return (Math.acos(((c[0] - x) * Math.cos(heading) + (c[1] - y) * Math.sin(heading)) / Math.hypot(c[0] - x, c[1] - y)) * 180) / Math.PI;
  };
  for (const [gondola, x, y, heading] of shoppers) {
    const body = skeleton({ heightM: 1.75, build: 0.5 }, { x, y, heading, gaitPhase: 0, walk: 0, crouch: 0, lean: 0 });
    const angles = shelfCams.cameras.map((c) => angleFromFacing(c, x, y, heading));
    // Every ceiling camera sees them from the side or behind; one shelf camera from in front, face in its image.
    assert.ok(angles.slice(0, 4).every((a) => a > 60), `${gondola}: ceiling cameras at ${angles.slice(0, 4).map((a) => a.toFixed(0))} degrees`);
    const front = shelfCams.cameras.findIndex((_, i) => angles[i] < 30);
    assert.ok(front >= 4, `${gondola}: a shelf camera in front (${angles.map((a) => a.toFixed(0))})`);
    const nose = projectPoint(shelfCams.cameras[front], body[KP.nose]);
    assert.ok(nose && nose[0] >= 0 && nose[0] < 640 && nose[1] >= 0 && nose[1] < 480, `${gondola}: the nose is in ${shelfCams.cameras[front].id}'s image`);
  }
});
