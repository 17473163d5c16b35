import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Camera } from '../contracts/index.ts';
import { projectPoint } from '../geometry/index.ts';
import { readAutocheckoutStore } from '../autocheckout/autocheckout.import.ts';
import { writeMiniStoreMeta } from '../autocheckout/autocheckout.fixture.ts';
import { shelfEdgeFit, shelfFrontEdges, type GreyFrame } from './calibration.fit.ts';

/** A noisy grey frame with the shelf fronts as `camera` sees them painted white, 2 px wide. */
function paint(edges: ReturnType<typeof shelfFrontEdges>, camera: Camera): GreyFrame {
  const { width, height } = camera;
  const data = new Uint8Array(width * height);
  let seed = 7;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    data[i] = 100 + (seed % 40);
  }
  for (const [a, b] of edges)
    for (let t = 0; t <= 1; t += 1 / 2000) {
      const pixel = projectPoint(camera, [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]);
      if (!pixel) continue;
      for (const dx of [0, 1]) {
        const [x, y] = [Math.floor(pixel[0]) + dx, Math.floor(pixel[1])];
        if (x >= 0 && y >= 0 && x < width && y < height) data[y * width + x] = 255;
      }
    }
  return { width, height, data };
}

test('shelf edge fit on the mini store: high for the camera as imported (Tw camera-to-world, layout as given), noise-level for a mirrored or shifted reading', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-fit-'));
  try {
    await writeMiniStoreMeta(dir);
    await writeFile(path.join(dir, 'products.csv'), 'name,gondola,shelf,plate,weight,price\nCrisps,1,1,1,150,1.20\n');
    const { store } = await readAutocheckoutStore({ folder: dir, productsCsv: path.join(dir, 'products.csv') });
    const camera = store.cameras.find((c) => c.id === 'cam-1')!;
    // The shelf opens to +x: its front is the line x = 1.4 m, y 2.0 to 2.6 m, 0.5 m up.
    assert.deepEqual(shelfFrontEdges(store).map((e) => e.map((p) => p.map((v) => Number(v.toFixed(6))))), [[[1.4, 2, 0.5], [1.4, 2.6, 0.5]]]);
    const frame = paint(shelfFrontEdges(store), camera);
    const own = shelfEdgeFit(store, camera, frame);
    assert.equal(own.inFrame, 1);
    assert.ok(own.score > 4, `own camera scores ${own.score}`);
    // The same camera read with the image mirrored left to right (world-to-camera's x row negated).
    const R = camera.pose.rotation;
    const mirrored: Camera = { ...camera, pose: { rotation: [R[0].map((v) => -v) as Camera['pose']['rotation'][0], R[1], R[2]], translation: [-camera.pose.translation[0], camera.pose.translation[1], camera.pose.translation[2]] } };
    const shifted: Camera = { ...camera, pose: { rotation: R, translation: [camera.pose.translation[0] + 0.1, camera.pose.translation[1], camera.pose.translation[2]] } };
    for (const [name, other] of [['mirrored', mirrored], ['shifted 0.1 m', shifted]] as const) {
      const fit = shelfEdgeFit(store, other, frame);
      assert.ok(fit.inFrame > 0.9, `${name}: the line stays in the frame`);
      assert.ok(fit.score < 1.5, `${name}: scores ${fit.score}, no better than a line anywhere`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
