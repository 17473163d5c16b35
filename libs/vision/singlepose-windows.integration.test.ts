import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { indexStore, loadStore } from '../contracts/index.ts';
import { createCameraRenderer } from '../render/scene.renderer.ts';
import { peopleAt } from '../sim/recording.sim.ts';
import { loadScenario } from '../sim/scenario.load.ts';
import { simulate } from '../sim/store.sim.ts';
import { readImageFile } from '../video/still.read.ts';
import { createDetector } from './detector.registry.ts';
import { cropRotatedInt32, fromRotatedCrop } from './image.resize.ts';
import { decodeSinglePoseOutput, SINGLE_POSE_INPUT } from './movenet.detector.ts';
import { onnxSessionOptions } from './onnx.detector.ts';
import { objectKeypointSimilarity } from './oks.metric.ts';
import { boxIou, keypointBox, type DetectedPose, type PoseDetector } from './pose.detector.ts';
import { loadGraphModelFromFile, loadTfRuntime } from './tfjs.runtime.ts';
import { cameraViewGeometry } from './view.geometry.ts';

/**
 * MoveNet SinglePose Lightning, the window model of `windowModel: 'lightning'`: converted to ONNX
 * by `npm run models` it reads a crop as the TF.js model does, and the onnx detector reads the
 * windows round known people with it.
 */

const fixture = (p: string) => fileURLToPath(new URL(`../../fixtures/${p}`, import.meta.url));
const models = (p: string) => fileURLToPath(new URL(`../../models/${p}`, import.meta.url));
const TOLERANCE = 1e-3;

test('SinglePose Lightning on ONNX Runtime gives the TF.js keypoints within 1e-3 on the COCO skier, and finds them where COCO put them', async () => {
  const truth = JSON.parse(await readFile(fixture('pose/coco-000000000785.keypoints.json'), 'utf8')).annotations[0];
  const frame = await readImageFile(fixture('pose/coco-000000000785.jpg'));
  const [x, y, w, h] = truth.bbox as number[];
  const [cx, cy, side] = [x + w / 2, y + h / 2, Math.max(w, h) * 1.25];
  const crop = cropRotatedInt32(frame, cx, cy, side, 0, SINGLE_POSE_INPUT);
  const { tf } = await loadTfRuntime('wasm');
  const graph = await loadGraphModelFromFile(tf, models('movenet-lightning.json'));
  const session = await ort.InferenceSession.create(models('movenet-lightning.onnx'), onnxSessionOptions(1));
  try {
    const input = tf.tensor4d(crop, [1, SINGLE_POSE_INPUT, SINGLE_POSE_INPUT, 3], 'int32');
    const output = graph.execute(input) as import('@tensorflow/tfjs').Tensor;
    const expected = (await output.data()) as Float32Array;
    input.dispose();
    output.dispose();
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('int32', crop, [1, SINGLE_POSE_INPUT, SINGLE_POSE_INPUT, 3]) });
    const got = result[session.outputNames[0]].data as Float32Array;
    assert.equal(got.length, 17 * 3);
    const worst = Math.max(...expected.map((value, k) => Math.abs(got[k] - value)));
    assert.ok(worst <= TOLERANCE, `differs by ${worst}`);
    // In the photo's pixels, against COCO's annotation: the skier read well, not just alike.
    const [pose] = decodeSinglePoseOutput(got, SINGLE_POSE_INPUT, 0.2);
    const keypoints = pose.keypoints.map(([kx, ky, score]) => [...fromRotatedCrop(kx, ky, cx, cy, side, 0, SINGLE_POSE_INPUT), score] as [number, number, number]);
    const labelled = Array.from({ length: 17 }, (_, k) => truth.keypoints.slice(k * 3, k * 3 + 3) as [number, number, number]);
    const oks = objectKeypointSimilarity(keypoints, labelled, truth.area);
    assert.ok(oks >= 0.85, `OKS ${oks.toFixed(3)}`);
    console.log(`COCO 785 by SinglePose Lightning: largest difference ${worst.toExponential(1)}, OKS ${oks.toFixed(3)}, pose score ${pose.score.toFixed(3)}`);
  } finally {
    graph.dispose();
    await session.release();
  }
});

/** Kiosk renders of the ceiling cameras with their views, and the people the whole read finds in each. */
async function kioskFrames(whole: PoseDetector) {
  const store = await loadStore(fixture('stores/kiosk.json'));
  const sim = simulate(await loadScenario(fixture('scenarios/two-shoppers-one-shelf.json')), indexStore(store), 1);
  const start = Math.min(...sim.people.map((p) => p.timeline.enterMs));
  const end = Math.max(...sim.people.map((p) => p.timeline.endMs));
  const frames = [];
  for (const camera of store.cameras.filter((c) => c.kind === 'ceiling'))
    for (const at of [0.3, 0.7]) {
      const frame = createCameraRenderer(store, camera.id).render(peopleAt(sim, start + (end - start) * at));
      const view = cameraViewGeometry(camera);
      frames.push({ frame, view, people: await whole.detect(frame, view) });
    }
  return frames;
}

test('windows read by SinglePose Lightning: one 192 px pass a window, each person found again where they are, the same on detector threads', async () => {
  const reading = { type: 'onnx', inputSize: 640, mirror: true, refine: 'upright', looks: 'when-unsure' } as const;
  const whole = await createDetector(reading);
  const lightning = await createDetector({ ...reading, windowModel: 'lightning' });
  const threaded = await createDetector({ ...reading, windowModel: 'lightning', detectorThreads: 2 });
  try {
    assert.match(lightning.model, /\+windows-singlepose-lightning@192$/);
    assert.doesNotMatch(whole.model, /singlepose/);
    const frames = await kioskFrames(whole);
    const around = frames.map(({ people }) => people.filter((p) => p.score >= 0.3));
    assert.ok(around.flat().length >= 6, `${around.flat().length} people to read in windows`);
    const found: DetectedPose[][] = [];
    for (const [f, { frame, view }] of frames.entries()) found.push(await lightning.detect(frame, view, { around: around[f], changes: [] }));
    // Windows only (no scout: nothing changed elsewhere), every one at Lightning's input size.
    const passes = lightning.passes!();
    assert.deepEqual(Object.keys(passes).sort(), passes['window-mirrored'] ? ['window', 'window-mirrored'] : ['window']);
    assert.equal(passes.window.count, around.flat().length, 'one window a person');
    for (const tally of Object.values(passes)) assert.equal(tally.pixels, tally.count * SINGLE_POSE_INPUT * SINGLE_POSE_INPUT);
    // Each person before is read again in their window, near where the whole read put them.
    let again = 0;
    for (const [f, people] of around.entries())
      for (const person of people) if (found[f].some((pose) => boxIou(keypointBox(pose.keypoints), keypointBox(person.keypoints)) >= 0.5)) again++;
    assert.ok(again >= 0.8 * around.flat().length, `${again} of ${around.flat().length} people found again in their windows`);
    // Mapped back from the window to the frame: every person's middle lies in the frame.
    for (const [f, poses] of found.entries())
      for (const pose of poses) {
        const [x, y, w, h] = keypointBox(pose.keypoints);
        assert.ok(x + w / 2 >= 0 && x + w / 2 < frames[f].frame.width && y + h / 2 >= 0 && y + h / 2 < frames[f].frame.height, `a person at ${[x, y]} in a ${frames[f].frame.width} px frame`);
      }
    const onThreads = await Promise.all(frames.map(({ frame, view }, f) => threaded.detect(frame, view, { around: around[f], changes: [] })));
    assert.deepEqual(onThreads, found, 'detector threads read the windows with the same model');
  } finally {
    for (const detector of [whole, lightning, threaded]) detector.dispose();
  }
});

test('lightning-mirrored: windows read by MultiPose at their own size, their mirrored second reads by SinglePose Lightning at 192 px', async () => {
  const reading = { type: 'onnx', inputSize: 640, mirror: true, refine: 'upright', looks: 'always' } as const;
  const whole = await createDetector(reading);
  const multipose = await createDetector(reading);
  const mirrored = await createDetector({ ...reading, windowModel: 'lightning-mirrored' });
  try {
    assert.match(mirrored.model, /\+mirrored-windows-singlepose-lightning@192$/);
    const frames = await kioskFrames(whole);
    const around = frames.map(({ people }) => people.filter((p) => p.score >= 0.3));
    let people = 0;
    let merged = 0;
    for (const [f, { frame, view }] of frames.entries()) {
      const [byMultipose, byBoth] = [await multipose.detect(frame, view, { around: around[f], changes: [] }), await mirrored.detect(frame, view, { around: around[f], changes: [] })];
      // The same people, their keypoints merged with Lightning's mirrored reading of them.
      for (const person of byMultipose) {
        people++;
        const same = byBoth.find((pose) => boxIou(pose.box, person.box) >= 0.5);
        if (same && same.keypoints.some((k, j) => k[0] !== person.keypoints[j][0])) merged++;
      }
    }
    assert.ok(people >= 6, `${people} people read in windows`);
    assert.ok(merged >= 0.8 * people, `${merged} of ${people} people found again with Lightning's mirrored reading merged in`);
    const [passes, before] = [mirrored.passes!(), multipose.passes!()];
    assert.equal(passes.window.count, before.window.count);
    assert.equal(passes.window.pixels, before.window.pixels, 'the first reads of the windows are MultiPose\'s, at their own sizes');
    assert.equal(passes['window-mirrored'].count, passes.window.count, 'looks always: every window read again mirrored');
    assert.equal(passes['window-mirrored'].pixels, passes.window.count * SINGLE_POSE_INPUT * SINGLE_POSE_INPUT);
  } finally {
    for (const detector of [whole, multipose, mirrored]) detector.dispose();
  }
});
