import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { indexStore, loadStore } from '../contracts/index.ts';
import { createCameraRenderer } from '../render/scene.renderer.ts';
import { peopleAt } from '../sim/recording.sim.ts';
import { loadScenario } from '../sim/scenario.load.ts';
import { simulate } from '../sim/store.sim.ts';
import { kioskSampleScenes } from '../render/sample-people.fixture.ts';
import { createStoreRenderers } from '../render/scene.renderer.ts';
import { readVideoFrames } from '../video/mp4.reader.ts';
import { createDetector } from './detector.registry.ts';
import { emptyTally, formatRecall, summariseRecall, tallyFrame } from './keypoint.recall.ts';
import { objectKeypointSimilarity } from './oks.metric.ts';
import { cameraViewGeometry } from './view.geometry.ts';

const data = (p: string) => fileURLToPath(new URL(`../../fixtures/${p}`, import.meta.url));
const KIOSK = fileURLToPath(new URL('../../fixtures/stores/kiosk.json', import.meta.url));
const TWO_SHOPPERS = fileURLToPath(new URL('../../fixtures/scenarios/two-shoppers-one-shelf.json', import.meta.url));

// One model per input size for the whole file: loading costs more than a frame.
const trainedSize = await createDetector({ type: 'movenet', inputSize: 256 });
const nativeSize = await createDetector({ type: 'movenet', inputSize: 640 });
const upright = await createDetector({ type: 'movenet', inputSize: 640, refine: 'upright' });
const mirroredUpright = await createDetector({ type: 'movenet', inputSize: 640, mirror: true, refine: 'upright' });
const mirroredTrained = await createDetector({ type: 'movenet', inputSize: 256, mirror: true });
test.after(() => {
  for (const detector of [trainedSize, nativeSize, upright, mirroredUpright, mirroredTrained]) detector.dispose();
});

test('MoveNet puts the skier of COCO image 785 where the annotation does (OKS)', async () => {
  const annotation = JSON.parse(await readFile(data('pose/coco-000000000785.keypoints.json'), 'utf8')).annotations[0];
  const truth = Array.from({ length: 17 }, (_, k) => annotation.keypoints.slice(k * 3, k * 3 + 3) as [number, number, number]);
  const { data: pixels, info } = await sharp(data('pose/coco-000000000785.jpg')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const poses = await trainedSize.detect({ width: info.width, height: info.height, data: new Uint8Array(pixels) });
  assert.ok(poses.length >= 1);
  const oks = objectKeypointSimilarity(poses[0].keypoints, truth, annotation.area);
  console.log(`COCO 785 (${info.width}x${info.height}) at input 256: ${poses.length} pose(s), best score ${poses[0].score.toFixed(2)}, OKS ${oks.toFixed(3)}`);
  // Measured 0.944 on the WebAssembly backend. 0.85 leaves room for another backend's arithmetic and
  // is well above COCO's strict match (0.75); a letterbox or axis mistake scores near 0.
  assert.ok(oks >= 0.85, `OKS ${oks.toFixed(3)}`);
  // Mirrored left and right would be a plausible bug that still looks right: it must score worse.
  const FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15];
  assert.ok(objectKeypointSimilarity(FLIP.map((k) => poses[0].keypoints[k]), truth, annotation.area) < oks - 0.05);
  // Read a second time mirrored and merged: the same people, no ghost of the skier beside her (a
  // reading put back in the wrong place would not overlap and be added), and as close to the truth.
  const both = await mirroredTrained.detect({ width: info.width, height: info.height, data: new Uint8Array(pixels) });
  const bothOks = objectKeypointSimilarity(both[0].keypoints, truth, annotation.area);
  console.log(`with the mirrored second read: ${both.length} pose(s), OKS ${bothOks.toFixed(3)}`);
  assert.equal(both.length, poses.length);
  assert.ok(bothOks >= 0.85, `OKS ${bothOks.toFixed(3)}`);
});

test('MoveNet finds the people walking in the real people-walking.mp4', async () => {
  for await (const frame of readVideoFrames(data('video/people-walking.mp4'), { maxFrames: 1 })) {
    const poses = await trainedSize.detect(frame);
    console.log(`people-walking frame 0: ${poses.map((p) => `${p.score.toFixed(2)} at [${p.box.map(Math.round).join(', ')}]`).join('; ')}`);
    assert.ok(poses.length >= 2, `${poses.length} people found`);
    // The woman in white walking on the right, nearest the camera, is the clearest person.
    const near = poses.find((p) => p.box[0] + p.box[2] / 2 > 700 && p.box[3] > 250);
    assert.ok(near, 'the nearest walker on the right was not found');
    for (const [x, y] of near.keypoints) assert.ok(x >= near.box[0] - 20 && x <= near.box[0] + near.box[2] + 20 && y >= near.box[1] - 20 && y <= near.box[1] + near.box[3] + 20);
  }
});

test('MoveNet finds the rendered shoppers of the kiosk cameras: keypoint recall against the render truth', async () => {
  const store = await loadStore(KIOSK);
  const renderers = createStoreRenderers(store);
  const tally = emptyTally();
  for (const scene of kioskSampleScenes(store))
    for (const renderer of renderers) {
      const frame = renderer.render(scene);
      tallyFrame(tally, frame.people, await nativeSize.detect(frame));
    }
  const summary = summariseRecall(tally);
  console.log(`MoveNet MultiPose at input 640 on ${summary.frames} kiosk renders:\n${formatRecall(summary)}`);
  assert.ok(summary.people.matched >= 0.85 * summary.people.truth, `${summary.people.matched} of ${summary.people.truth} people matched`);
  // Measured on the WebAssembly backend: 0.83 of visible keypoints, 0.79 of wrists in view (42 of 53);
  // after later changes to the figures and cameras 0.78 and 0.82 (40 of 49).
  // The thresholds leave room for a few keypoints to go the other way on another backend, and fail
  // if the figures, lighting or lens drift away from what the model recognises.
  assert.ok(summary.recallVisible! >= 0.78, `visible keypoint recall ${summary.recallVisible}`);
  assert.ok(summary.wristsInView.recall! >= 0.72, `wrist recall ${summary.wristsInView.recall}`);
});

test('MoveNet finds the simulated shoppers of two-shoppers-one-shelf through every kiosk camera', async () => {
  // The simulator's own people (walking, turning, bending and reaching at the shelf), rendered raw
  // (no H.264) at evenly spaced instants while anyone is in the store.
  const store = await loadStore(KIOSK);
  const sim = simulate(await loadScenario(TWO_SHOPPERS), indexStore(store), 1);
  const start = Math.min(...sim.people.map((p) => p.timeline.enterMs));
  const end = Math.max(...sim.people.map((p) => p.timeline.endMs));
  const INSTANTS = 12;
  const tally = emptyTally();
  const uprightTally = emptyTally();
  const mirroredTally = emptyTally();
  for (const camera of store.cameras) {
    const renderer = createCameraRenderer(store, camera.id);
    const view = cameraViewGeometry(camera);
    for (let i = 0; i < INSTANTS; i++) {
      const frame = renderer.render(peopleAt(sim, start + ((end - start) * (i + 0.5)) / INSTANTS));
      tallyFrame(tally, frame.people, await nativeSize.detect(frame));
      tallyFrame(uprightTally, frame.people, await upright.detect(frame, view));
      tallyFrame(mirroredTally, frame.people, await mirroredUpright.detect(frame, view));
    }
  }
  const summary = summariseRecall(tally);
  const uprightSummary = summariseRecall(uprightTally);
  console.log(`MoveNet MultiPose at input 640 on ${summary.frames} simulated kiosk frames:\n${formatRecall(summary)}`);
  // Measured on the WebAssembly backend: visible keypoints 0.67, wrists in view 0.59 (43 of 73; the
  // 7 people too little in view to count had no visible wrist). Before the gait, head and camera
  // mount fixes the same measure gave about 0.5; since people stop walking through each other,
  // 0.75 and 0.71 (60 of 84), with the upright second look 0.75 and 0.75 (63 of 84; 64 since its reading is
  // turned to the first pass's sides before merging, 65 since close keypoints are averaged), read
  // mirrored too 66 of 84. The floors sit a few wrists below, so a change in
  // the figures, gait, postures or camera mounts that loses MoveNet's people fails here.
  assert.ok(summary.people.matched >= 0.6 * summary.people.truth, `${summary.people.matched} of ${summary.people.truth} people matched`);
  assert.ok(summary.recallVisible! >= 0.62, `visible keypoint recall ${summary.recallVisible}`);
  assert.ok(summary.wristsInView.recall! >= 0.52, `wrist recall ${summary.wristsInView.recall}`);
  assert.ok(summary.countable.wristsInView.recall! >= 0.52, `wrist recall of countable people ${summary.countable.wristsInView.recall}`);
  // The upright second look (people turned upright in a window by the camera's calibration) finds
  // at least as many: a window cut or mapped back wrongly puts its keypoints off the person, and
  // when its scores beat the first pass's they replace good keypoints.
  console.log(`with the upright second look:\n${formatRecall(uprightSummary)}`);
  assert.ok(uprightSummary.wristsInView.found >= summary.wristsInView.found, `upright ${uprightSummary.wristsInView.found} against ${summary.wristsInView.found} wrists`);
  assert.ok(uprightSummary.recallVisible! >= summary.recallVisible! - 0.01, `upright visible keypoints ${uprightSummary.recallVisible} against ${summary.recallVisible}`);
  // Reading each frame mirrored too and merging the readings finds more: people one reading missed,
  // keypoints both place close together averaged. A merge that put the mirror's people back in the
  // wrong place, or swapped sides wrongly, would lose wrists here.
  const mirroredSummary = summariseRecall(mirroredTally);
  console.log(`mirrored too:\n${formatRecall(mirroredSummary)}`);
  assert.ok(mirroredSummary.wristsInView.found > uprightSummary.wristsInView.found, `mirrored ${mirroredSummary.wristsInView.found} against ${uprightSummary.wristsInView.found} wrists`);
  assert.ok(mirroredSummary.people.matched >= uprightSummary.people.matched, `mirrored ${mirroredSummary.people.matched} against ${uprightSummary.people.matched} people`);
});
