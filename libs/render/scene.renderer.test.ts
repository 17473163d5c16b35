import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { FramePoseTruth, KP, loadStore, type Store } from '../contracts/index.ts';
import { unprojectAtDepth } from '../geometry/ray.ts';
import { skeleton } from '../sim/body.model.ts';
import { probeVideo } from '../video/mp4.reader.ts';
import { renderedFootage } from './camera.footage.ts';
import { kioskSampleScenes, SAMPLE_LOOKS } from './sample-people.fixture.ts';
import { createCameraRenderer, createStoreRenderers } from './scene.renderer.ts';
import { StaticLayer } from './static.layer.ts';
import type { RenderPerson } from './render.types.ts';

const KIOSK = fileURLToPath(new URL('../../fixtures/stores/kiosk.json', import.meta.url));
const store: Store = await loadStore(KIOSK);

function standing(id: string, x: number, y: number, heading: number, look = SAMPLE_LOOKS[0]): RenderPerson {
  return { personId: id, appearance: look, keypoints: skeleton(look, { x, y, heading, gaitPhase: 0, walk: 0, crouch: 0, lean: 0 }) };
}

test('every pixel of the still store, sent back through the lens at its depth, lands on the room or its furniture', () => {
  for (const camera of store.cameras) {
    const layer = new StaticLayer(store, camera);
    let floor = 0;
    for (let row = 0; row < camera.height; row += 7)
      for (let col = 0; col < camera.width; col += 7) {
        const depth = layer.depth[row * camera.width + col];
        assert.ok(Number.isFinite(depth), `${camera.id} (${col}, ${row}) shows nothing`);
        const p = unprojectAtDepth(camera, [col, row], depth)!;
        const inRoom = p[0] > -0.01 && p[0] < 6.01 && p[1] > -0.01 && p[1] < 5.01 && p[2] > -0.01 && p[2] < store.layout.wallHeightM + 0.01;
        assert.ok(inRoom, `${camera.id} (${col}, ${row}) at depth ${depth} is outside the room: ${p.map((v) => v.toFixed(3))}`);
        if (Math.abs(p[2]) < 1e-3) floor++;
      }
    // Oblique ceiling cameras see mostly floor.
    assert.ok(floor > 0.2 * ((camera.width / 7) * (camera.height / 7)), `${camera.id}: only ${floor} floor samples`);
  }
});

test('pose truth matches the pixels drawn, through the distortion, in every kiosk camera', () => {
  const renderers = createStoreRenderers(store, { blur: 0 });
  const empty = renderers.map((r) => r.render([]).data);
  let visibleChecked = 0;
  let hidden = 0;
  for (const scene of kioskSampleScenes(store))
    renderers.forEach((renderer, c) => {
      const frame = renderer.render(scene);
      assert.equal(FramePoseTruth.safeParse({ frameIndex: 0, ts: 0, people: frame.people }).success, true);
      for (const person of frame.people) {
        const [bx, by, bw, bh] = person.box;
        person.keypoints.forEach(([x, y, v], k) => {
          if (v === 1) hidden++;
          if (v !== 2) return;
          // A visible keypoint lies on the person: inside their visible box, on pixels the figure changed.
          assert.ok(x >= bx - 1 && x <= bx + bw + 1 && y >= by - 1 && y <= by + bh + 1, `${renderer.camera.id} ${person.personId} keypoint ${k} outside box`);
          let changed = false;
          for (let dy = -2; dy <= 2 && !changed; dy++)
            for (let dx = -2; dx <= 2 && !changed; dx++) {
              const col = Math.round(x) + dx;
              const row = Math.round(y) + dy;
              if (col < 0 || row < 0 || col >= frame.width || row >= frame.height) continue;
              const i = (row * frame.width + col) * 3;
              changed = Math.abs(frame.data[i] - empty[c][i]) + Math.abs(frame.data[i + 1] - empty[c][i + 1]) + Math.abs(frame.data[i + 2] - empty[c][i + 2]) > 12;
            }
          assert.ok(changed, `${renderer.camera.id} ${person.personId} keypoint ${k} at (${x.toFixed(1)}, ${y.toFixed(1)}) is not on the figure`);
          visibleChecked++;
        });
      }
    });
  assert.ok(visibleChecked > 300, `only ${visibleChecked} visible keypoints checked`);
  assert.ok(hidden > 20, 'the sample scenes should include self-occlusion and people hiding people');
});

test('a person standing behind another is hidden (v = 1) where the nearer one covers them', () => {
  const camera = store.cameras[0];
  const renderer = createCameraRenderer(store, camera);
  const c = [3.2, 2.6];
  const frameAlone = renderer.render([standing('far', c[0] + 0.6, c[1] + 0.9, 0)]);
  const farAlone = frameAlone.people[0];
  assert.ok(farAlone.keypoints.filter((k) => k[2] === 2).length >= 10);
  // Put the near person exactly between the camera and the far one, along the ground.
  const R = camera.pose.rotation;
  const t = camera.pose.translation;
  const centre = [-(R[0][0] * t[0] + R[1][0] * t[1] + R[2][0] * t[2]), -(R[0][1] * t[0] + R[1][1] * t[1] + R[2][1] * t[2])];
  const farAt = [c[0] + 0.6, c[1] + 0.9];
  const between = standing('near', centre[0] + (farAt[0] - centre[0]) * 0.7, centre[1] + (farAt[1] - centre[1]) * 0.7, 0, SAMPLE_LOOKS[1]);
  const both = renderer.render([between, standing('far', farAt[0], farAt[1], 0)]);
  const far = both.people.find((p) => p.personId === 'far');
  const hiddenNow = far ? far.keypoints.filter((k) => k[2] === 1).length : 17;
  assert.ok(hiddenNow >= 6, `only ${hiddenNow} of the far person's keypoints are hidden`);
  const nearTruth = both.people.find((p) => p.personId === 'near')!;
  assert.ok(nearTruth.keypoints[KP.nose][2] === 2 || nearTruth.keypoints[KP.left_eye][2] === 2 || nearTruth.keypoints[KP.left_shoulder][2] === 2);
});

test('people out of view are not in the truth; keypoints past the image edge are v = 0', () => {
  const renderer = createCameraRenderer(store, 'cam-1');
  const frame = renderer.render([standing('behind-wall', 20, 20, 0)]);
  assert.equal(frame.people.length, 0);
  // Walk someone towards the image edge until they are cut by it.
  let cut = false;
  for (let x = 0.8; x < 5.9 && !cut; x += 0.1)
    for (const y of [0.9, 1.7, 2.5, 3.3, 4.1]) {
      const truth = renderer.render([standing('edge', x, y, 0)]).people[0];
      if (truth && truth.keypoints.some((k) => k[2] === 0) && truth.keypoints.some((k) => k[2] === 2)) {
        for (const [px, py, v] of truth.keypoints) {
          const inside = px >= 0 && py >= 0 && px < 640 && py < 480;
          if (v === 0) assert.ok(!inside || Math.round(px) >= 640 || Math.round(py) >= 480);
          else assert.ok(inside);
        }
        cut = true;
        break;
      }
    }
  assert.ok(cut, 'no position cut a person by the image edge');
});

test('emptying a lane redraws only that lane, and restocking restores the picture exactly', () => {
  const renderer = createCameraRenderer(store, 'cam-3', { blur: 0 });
  const before = renderer.render([]).data;
  const lane = 'g1-s3-l2';
  const empty = renderer.render([], new Map([[lane, 0]])).data;
  let changed = 0;
  let minRow = Infinity;
  let maxRow = -Infinity;
  for (let i = 0; i < before.length; i += 3)
    if (before[i] !== empty[i] || before[i + 1] !== empty[i + 1] || before[i + 2] !== empty[i + 2]) {
      changed++;
      const row = Math.floor(i / 3 / 640);
      minRow = Math.min(minRow, row);
      maxRow = Math.max(maxRow, row);
    }
  assert.ok(changed > 50, `emptying ${lane} changed only ${changed} pixels`);
  assert.ok(changed < 640 * 480 * 0.05, `emptying one lane changed ${changed} pixels`);
  assert.ok(maxRow - minRow < 120, 'the change stays within the lane');
  const initial = store.planogram.placements.find((p) => p.laneId === lane)!.initialStock;
  const restocked = renderer.render([], new Map([[lane, initial]])).data;
  assert.deepEqual(restocked, before);
  // The frame handed out is the caller's: rendering again does not change it.
  const kept = restocked.slice();
  renderer.render([standing('p', 3, 2.5, 0)]);
  assert.deepEqual(restocked, kept);
});

test('camera footage renders to an H.264 file and hands back the pose truth', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'walkout-footage-'));
  try {
    const camera = store.cameras[1];
    const video = await renderedFootage(store).open(camera, path.join(dir, 'cam.mp4'));
    let people = 0;
    for (let i = 0; i < 5; i++) people += (await video.frame([standing('p', 2.5 + i * 0.1, 2.5, 0)])).length;
    await video.close();
    assert.equal(people, 5);
    const info = await probeVideo(path.join(dir, 'cam.mp4'));
    assert.deepEqual([info.codec, info.width, info.height, info.fps], ['h264', camera.width, camera.height, camera.fps]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
