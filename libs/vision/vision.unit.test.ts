import assert from 'node:assert/strict';
import test from 'node:test';
import { WalkoutError } from '../contracts/index.ts';
import { createDetector, DetectorConfig } from './detector.registry.ts';
import { cropRotatedInt32, fromRotatedCrop, resizeAreaInt32 } from './image.resize.ts';
import { emptyTally, isCountable, matchDetections, overlapsAnother, summariseRecall, tallyFrame } from './keypoint.recall.ts';
import { decodeMovenetOutput, movenetInputGeometry } from './movenet.detector.ts';
import { objectKeypointSimilarity } from './oks.metric.ts';
import { boxIou, keypointBox, type DetectedPose } from './pose.detector.ts';
import { multiViewWrists } from './pose.eval.ts';
import { cameraViewGeometry } from './view.geometry.ts';
import { projectPoint } from '../geometry/index.ts';
import { syntheticCamera } from '../geometry/camera.fixture.ts';

test('MoveNet input geometry keeps the aspect and pads to multiples of 32', () => {
  assert.deepEqual(movenetInputGeometry(640, 480, 256), { resizedWidth: 256, resizedHeight: 192, paddedWidth: 256, paddedHeight: 192, toFrameX: 2.5, toFrameY: 2.5 });
  const hd = movenetInputGeometry(1920, 1080, 256);
  assert.equal(hd.resizedHeight, 144);
  assert.equal(hd.paddedHeight, 160);
  assert.equal(hd.paddedWidth, 256);
});

test('decoded keypoints and boxes come back in frame pixels, through the letterbox padding', () => {
  const g = movenetInputGeometry(1920, 1080, 256);
  const raw = new Float32Array(6 * 56);
  // Person 0: every keypoint at input (x, y) = (128, 72) px, i.e. the frame centre (960, 540).
  for (let k = 0; k < 17; k++) {
    raw[k * 3] = 72 / g.paddedHeight;
    raw[k * 3 + 1] = 128 / g.paddedWidth;
    raw[k * 3 + 2] = 0.9;
  }
  raw.set([36 / 160, 64 / 256, 108 / 160, 192 / 256, 0.8], 51);
  raw[56 + 55] = 0.05; // a second person below the score threshold
  const poses = decodeMovenetOutput(raw, g, { width: 1920, height: 1080 }, 0.2);
  assert.equal(poses.length, 1);
  const [x, y, s] = poses[0].keypoints[0];
  // float32 outputs: a thousandth of a pixel is exact enough.
  assert.ok(Math.abs(x - 960) < 1e-3 && Math.abs(y - 540) < 1e-3 && Math.abs(s - 0.9) < 1e-6);
  assert.deepEqual(poses[0].box.map((v) => Math.round(v)), [480, 270, 960, 540]);
  assert.ok(Math.abs(poses[0].score - 0.8) < 1e-6);
});

test('area resizing keeps flat colours flat and the mean of a pattern; crops read black outside the frame', () => {
  const width = 40;
  const height = 24;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = 200;
    data[i + 1] = (i / 3) % 2 ? 0 : 100; // alternating columns
    data[i + 2] = 50;
  }
  const out = resizeAreaInt32({ width, height, data }, 20, 12, 32, 32);
  for (let y = 0; y < 12; y++)
    for (let x = 0; x < 20; x++) {
      const i = (y * 32 + x) * 3;
      assert.equal(out[i], 200);
      // Two columns per output pixel: one at 0, one at 100.
      assert.equal(out[i + 1], 50, `green ${out[i + 1]} at ${x},${y}`);
      assert.equal(out[i + 2], 50);
    }
  assert.equal(out[(20 * 32 + 25) * 3], 0, 'padding stays black');
  // At its own size the frame is copied as it is into the top-left of the letterbox.
  const same = resizeAreaInt32({ width, height, data }, width, height, 64, 32);
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 64 * 3; x++) assert.equal(same[y * 64 * 3 + x], y < height && x < width * 3 ? data[y * width * 3 + x] : 0, `${x},${y}`);
  // Into an array to reuse, whatever it held: the same canvas, padding black.
  assert.deepEqual(resizeAreaInt32({ width, height, data }, 20, 12, 32, 32, new Int32Array(32 * 32 * 3).fill(9)), out);
  assert.deepEqual(resizeAreaInt32({ width, height, data }, width, height, 64, 32, new Int32Array(64 * 32 * 3).fill(9)), same);
  const crop = cropRotatedInt32({ width, height, data }, 0, 20, 40, 0, 20);
  assert.equal(crop[(5 * 20 + 2) * 3], 0, 'left of the frame is black');
  assert.equal(crop[(5 * 20 + 15) * 3], 200);
  assert.equal(boxIou([0, 0, 10, 10], [5, 0, 10, 10]), 50 / 150);
});

test('a turned window shows what lies along its up at its top, and maps back to the same frame pixel', () => {
  const width = 40;
  const height = 40;
  const data = new Uint8Array(width * height * 3);
  // A bright 3 x 3 block centred on pixel (35, 20): right of the centre (20, 20).
  for (let y = 19; y <= 21; y++) for (let x = 34; x <= 36; x++) data.fill(250, (y * width + x) * 3, (y * width + x) * 3 + 3);
  const frame = { width, height, data };
  // The bright block's centre in a window, in the window's continuous pixel coordinates.
  const brightest = (pixels: Int32Array, size: number) => {
    let [sx, sy, n] = [0, 0, 0];
    for (let i = 0; i < size * size; i++) if (pixels[i * 3] > 100) [sx, sy, n] = [sx + (i % size) + 0.5, sy + Math.floor(i / size) + 0.5, n + 1];
    return [sx / n, sy / n] as const;
  };
  // Turned a quarter: the window's up points along the frame's +x, so the block is at its top middle.
  const turned = cropRotatedInt32(frame, 20, 20, 40, Math.PI / 2, 40);
  const [u, v] = brightest(turned, 40);
  assert.ok(Math.abs(u - 20.5) <= 0.5 && Math.abs(v - 4.5) <= 0.5, `block at ${u},${v} in the window`);
  const [x, y] = fromRotatedCrop(u, v, 20, 20, 40, Math.PI / 2, 40);
  assert.ok(Math.abs(x - 35.5) <= 0.5 && Math.abs(y - 20.5) <= 0.5, `mapped back to ${x},${y}`);
  // Not turned and at the frame's scale, the window is the frame itself.
  assert.deepEqual(Array.from(cropRotatedInt32(frame, 20, 20, 40, 0, 40)), Array.from(data));
  // Past the frame's edge reads black.
  assert.equal(cropRotatedInt32(frame, 0, 0, 10, 0.3, 10)[0], 0);
});

test('every pixel of a turned window, inside the frame or across its edges, is the rounded bilinear mean of the four frame pixels round its point', () => {
  const [width, height] = [48, 36];
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + ((i * i) % 101)) % 256;
  const frame = { width, height, data };
  const at = (x: number, y: number, ch: number) => (x >= 0 && y >= 0 && x < width && y < height ? data[(y * width + x) * 3 + ch] : 0);
  // Windows wholly inside, over the left and top edges, and mostly past the frame, turned or not.
  for (const [cx, cy, side, angle, size] of [
    [24, 18, 20, 0.4, 16],
    [3, 2, 30, -1.1, 24],
    [45, 33, 40, 2.5, 20],
    [24, 18, 36, 0, 36],
  ] as const) {
    const window = cropRotatedInt32(frame, cx, cy, side, angle, size);
    // Cut into an array to reuse, whatever it held: the same pixels.
    const into = new Int32Array(size * size * 3).fill(77);
    assert.equal(cropRotatedInt32(frame, cx, cy, side, angle, size, into), into);
    assert.deepEqual(into, window);
    const step = side / size;
    for (let v = 0; v < size; v++)
      for (let u = 0; u < size; u++) {
        const [dx, dy] = [(u + 0.5) * step - side / 2, (v + 0.5) * step - side / 2];
        const fx = cx + Math.cos(angle) * dx - Math.sin(angle) * dy - 0.5;
        const fy = cy + Math.sin(angle) * dx + Math.cos(angle) * dy - 0.5;
        const [x0, y0] = [Math.floor(fx), Math.floor(fy)];
        const [wx, wy] = [fx - x0, fy - y0];
        for (let ch = 0; ch < 3; ch++) {
          const want = (at(x0, y0, ch) * (1 - wx) + at(x0 + 1, y0, ch) * wx) * (1 - wy) + (at(x0, y0 + 1, ch) * (1 - wx) + at(x0 + 1, y0 + 1, ch) * wx) * wy;
          const got = window[(v * size + u) * 3 + ch];
          assert.ok(Math.abs(got - want) <= 0.5 + 1e-9, `window ${cx},${cy} turned ${angle}: pixel ${u},${v} channel ${ch} is ${got}, the mean is ${want}`);
        }
      }
  }
});

test('the view says which way a standing person points in a tilted ceiling view', () => {
  const camera = syntheticCamera();
  const view = cameraViewGeometry(camera);
  let checked = 0;
  for (const [fx, fy] of [[2, 1], [4, 3], [6, 2], [3, 5], [7, 6]] as const) {
    const feet = projectPoint(camera, [fx, fy, 0]);
    const head = projectPoint(camera, [fx, fy, 1.7]);
    const middle = projectPoint(camera, [fx, fy, 1.0]);
    if (!feet || !head || !middle) continue;
    const up = view.upAt(middle[0], middle[1]);
    assert.ok(up, `no up at ${middle}`);
    const along = [head[0] - feet[0], head[1] - feet[1]];
    const cosine = (up[0] * along[0] + up[1] * along[1]) / Math.hypot(along[0], along[1]);
    assert.ok(cosine > Math.cos((3 * Math.PI) / 180), `person at ${fx},${fy}: up ${up} against feet-to-head ${along}`);
    checked++;
  }
  assert.ok(checked >= 4);
  // Looking at the ceiling (up the image from a camera looking down and away): no floor, no answer.
  const level = syntheticCamera({ eye: [0, 0, 3], target: [10, 0, 3] });
  assert.equal(cameraViewGeometry(level).upAt(level.width / 2, 10), null);
});

test('a keypoint box spans the keypoints, whatever their scores', () => {
  assert.deepEqual(keypointBox([[3, 4, 1], [1, 9, 0], [5, 6, 1]]), [1, 4, 4, 5]);
});

const truth: [number, number, number][] = Array.from({ length: 17 }, (_, k) => [100 + k * 3, 200 + k * 5, 2]);

test('OKS is 1 for a perfect prediction and falls with distance faster for precise keypoints', () => {
  assert.equal(objectKeypointSimilarity(truth, truth, 5000), 1);
  const shifted = truth.map(([x, y]) => [x + 5, y, 1] as [number, number, number]);
  const oks = objectKeypointSimilarity(shifted, truth, 5000);
  assert.ok(oks > 0.5 && oks < 1);
  assert.ok(objectKeypointSimilarity(shifted, truth, 20000) > oks, 'a bigger person forgives the same pixel error more');
  const unlabelled = truth.map(([x, y]) => [x, y, 0] as [number, number, number]);
  assert.equal(objectKeypointSimilarity(shifted, unlabelled, 5000), 0);
});

test('recall pairs detections with people one to one and counts keypoints within the PCK radius', () => {
  const person = { personId: 'a', keypoints: truth.map(([x, y], k) => [x, y, k === 9 ? 1 : 2] as [number, number, 0 | 1 | 2]), box: [90, 190, 70, 100] as [number, number, number, number] };
  const other = { ...person, personId: 'b', keypoints: person.keypoints.map(([x, y, v]) => [x + 300, y, v] as [number, number, 0 | 1 | 2]) };
  const good: DetectedPose = { score: 0.9, box: [90, 190, 70, 100], keypoints: truth.map(([x, y], k) => [x + (k === 10 ? 40 : 1), y, 0.8]) };
  const weak: DetectedPose = { ...good, keypoints: good.keypoints.map(([x, y], k) => [x + 300, y, k < 5 ? 0.1 : 0.8]) };
  assert.deepEqual(matchDetections([person, other], [weak, good], 0.1), [1, 0]);
  const tally = emptyTally();
  tallyFrame(tally, [person, other], [good, weak]);
  tallyFrame(tally, [person], []);
  const summary = summariseRecall(tally);
  assert.equal(summary.frames, 2);
  assert.deepEqual(summary.people, { truth: 3, matched: 2, detections: 2, countable: 3 });
  // Right wrists (10) are 40 px off: missed. Left wrists (9) are hidden (v = 1): out of the visible
  // count, but found where they are for a and b (not in the frame without detections).
  assert.equal(summary.perKeypoint[10].visibleFound, 0);
  assert.equal(summary.perKeypoint[10].visibleTotal, 3);
  assert.equal(summary.perKeypoint[9].visibleTotal, 0);
  assert.equal(summary.perKeypoint[9].recallInImage, 2 / 3);
  // Face keypoints of person b are in place but scored 0.1 < 0.2: not found.
  assert.equal(summary.perKeypoint[0].visibleFound, 1);
  assert.equal(summary.perKeypoint[5].visibleFound, 2);
  assert.deepEqual(summary.wristsInView, { found: 0, total: 3, recall: 0 });
  assert.deepEqual(summary.countable.wristsInView, { found: 0, total: 3, recall: 0 });
});

test('the countable-people figures leave out people mostly outside the image or too small, and only them', () => {
  const inFrame = { personId: 'a', keypoints: truth.map(([x, y]) => [x, y, 2] as [number, number, 0 | 1 | 2]), box: [90, 190, 70, 100] as [number, number, number, number] };
  // Only the head and one wrist in the image: 4 keypoints, below the 5 COCO-trained models need.
  const cut = { ...inFrame, personId: 'b', keypoints: inFrame.keypoints.map(([x, y], k) => [x + 300, y, k < 3 || k === 10 ? 2 : 0] as [number, number, 0 | 1 | 2]) };
  // Whole but 20 x 30 px: smaller than 32 x 32.
  const tiny = { ...inFrame, personId: 'c', keypoints: inFrame.keypoints.map(([x, y, v]) => [x + 600, y, v] as [number, number, 0 | 1 | 2]), box: [690, 190, 20, 30] as [number, number, number, number] };
  assert.deepEqual([inFrame, cut, tiny].map((p) => isCountable(p)), [true, false, false]);
  const found: DetectedPose = { score: 0.9, box: inFrame.box, keypoints: truth.map(([x, y]) => [x, y, 0.9]) };
  const tally = emptyTally();
  tallyFrame(tally, [inFrame, cut, tiny], [found]);
  const summary = summariseRecall(tally);
  assert.equal(summary.people.countable, 1);
  assert.deepEqual(summary.wristsInView, { found: 2, total: 5, recall: 0.4 });
  assert.deepEqual(summary.countable.wristsInView, { found: 2, total: 2, recall: 1 });
});

test('detector configs are strict and every bad value is reported at once', async () => {
  const defaults = DetectorConfig.parse({ type: 'movenet' });
  assert.equal(defaults.type === 'movenet' && defaults.inputSize, 256);
  await assert.rejects(createDetector({ type: 'movenet', inputSize: 300, minPoseScore: 2, extra: 1 }), (e: unknown) => {
    assert.ok(e instanceof WalkoutError && e.code === 'CONFIG_INVALID');
    assert.match(e.message, /multiple of 32/);
    assert.match(e.message, /minPoseScore/);
    assert.match(e.message, /extra/);
    return true;
  });
  await assert.rejects(createDetector({ type: 'yolo' }), /detector config is invalid/);
  const onnx = DetectorConfig.parse({ type: 'onnx' });
  assert.equal(onnx.type === 'onnx' && onnx.threads, 1);
  await assert.rejects(createDetector({ type: 'onnx', threads: 0, backend: 'wasm' }), (e: unknown) => {
    assert.ok(e instanceof WalkoutError && e.code === 'CONFIG_INVALID');
    assert.match(e.message, /threads/);
    // TF.js's backend is not an ONNX Runtime setting.
    assert.match(e.message, /backend/);
    return true;
  });
});

test('a detection with left and right swapped is still that person: a strict miss, a side-agnostic find', () => {
  // A person seen from behind: left keypoints lie to the image right of the right ones.
  const keypoints = truth.map(([x, y], k) => [k === 0 ? x : x + (k % 2 ? 20 : -20), y, 2] as [number, number, 0 | 1 | 2]);
  const person = { personId: 'a', keypoints, box: [60, 190, 100, 100] as [number, number, number, number] };
  const correct: DetectedPose = { score: 0.9, box: person.box, keypoints: keypoints.map(([x, y]) => [x, y, 0.9]) };
  const swapped: DetectedPose = { ...correct, keypoints: [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15].map((k) => correct.keypoints[k]) };
  const tally = emptyTally();
  tallyFrame(tally, [person], [swapped]);
  const summary = summariseRecall(tally);
  assert.equal(summary.people.matched, 1);
  // Only the nose (no side) is where it should be.
  assert.equal(summary.recallVisible, 1 / 17);
  assert.equal(summary.wristsInView.found, 0);
  assert.equal(summary.sideAgnostic.recallVisible, 1);
  assert.deepEqual(summary.sideAgnostic.wristsInView, { found: 2, total: 2, recall: 1 });
});

test('wrists in view are also reported for people apart from others and for people overlapping another', () => {
  const at = (dx: number, personId: string) => ({
    personId,
    keypoints: truth.map(([x, y]) => [x + dx, y, 2] as [number, number, 0 | 1 | 2]),
    box: [90 + dx, 190, 70, 100] as [number, number, number, number],
  });
  // a stands alone; b and c overlap by half their width (c mostly behind b, say).
  const [a, b, c] = [at(0, 'a'), at(300, 'b'), at(335, 'c')];
  assert.deepEqual([0, 1, 2].map((i) => overlapsAnother([a, b, c], i, 0.05)), [false, true, true]);
  const exact = (p: typeof a): DetectedPose => ({ score: 0.9, box: p.box, keypoints: p.keypoints.map(([x, y]) => [x, y, 0.9]) });
  const tally = emptyTally();
  tallyFrame(tally, [a, b, c], [exact(a), exact(b)]);
  const summary = summariseRecall(tally);
  assert.deepEqual(summary.byOverlap.apart, { found: 2, total: 2, recall: 1 });
  assert.deepEqual(summary.byOverlap.overlapping, { found: 2, total: 4, recall: 0.5 });
  assert.deepEqual(summary.wristsInView, { found: 4, total: 6, recall: 4 / 6 });
});

test('a missed wrist is put down to why: nobody found, sides swapped, unsure, near, or far', () => {
  // Arms spread: the wrists 80 px either side of the body, far more than the ~8 px radius.
  const keypoints = truth.map(([x, y], k) => [k === 9 ? x + 80 : k === 10 ? x - 80 : x, y, 2] as [number, number, 0 | 1 | 2]);
  const person = { personId: 'a', keypoints, box: [40, 190, 170, 100] as [number, number, number, number] };
  const posed = (change: (k: number, p: [number, number, number]) => [number, number, number]): DetectedPose => ({
    score: 0.9,
    box: person.box,
    keypoints: keypoints.map(([x, y], k) => change(k, [x, y, 0.9])),
  });
  const misses = (detections: DetectedPose[]) => tallyFrame(emptyTally(), [person], detections).map((w) => w.miss ?? 'found');
  assert.deepEqual(misses([]), ['person-not-found', 'person-not-found']);
  assert.deepEqual(misses([posed((_, p) => p)]), ['found', 'found']);
  const swapped = posed((k, p) => (k === 9 ? [keypoints[10][0], keypoints[10][1], 0.9] : k === 10 ? [keypoints[9][0], keypoints[9][1], 0.9] : p));
  assert.deepEqual(misses([swapped]), ['other-side', 'other-side']);
  assert.deepEqual(misses([posed((k, p) => (k === 9 ? [p[0], p[1], 0.1] : p))]), ['low-score', 'found']);
  assert.deepEqual(misses([posed((k, p) => (k === 9 ? [p[0] + 12, p[1], 0.9] : k === 10 ? [p[0], p[1] + 40, 0.9] : p))]), ['near', 'far']);
  const tally = emptyTally();
  tallyFrame(tally, [person], [swapped]);
  tallyFrame(tally, [person], []);
  assert.deepEqual(summariseRecall(tally).wristMisses, { 'person-not-found': 2, 'other-side': 2, 'low-score': 0, near: 0, far: 0 });
});

test('across cameras, a wrist instant counts as found when one camera finds it, and as triangulable when two do', () => {
  const person = { personId: 'a', keypoints: truth.map(([x, y]) => [x, y, 2] as [number, number, 0 | 1 | 2]), box: [90, 190, 70, 100] as [number, number, number, number] };
  const offRight: DetectedPose = { score: 0.9, box: person.box, keypoints: truth.map(([x, y], k) => [x + (k === 10 ? 40 : 0), y, 0.9]) };
  assert.deepEqual(tallyFrame(emptyTally(), [person], [offRight]), [
    { personId: 'a', wrist: 'left', found: true },
    // The fixture's two wrists are 6 px apart, within the radius: the left one stands where the right should.
    { personId: 'a', wrist: 'right', found: false, miss: 'other-side' },
  ]);
  // Three wrist instants: seen by 3 cameras and found by 2; seen by 2 and found by 1; seen by 1, found by none.
  assert.deepEqual(multiViewWrists([{ views: 3, found: 2 }, { views: 2, found: 1 }, { views: 1, found: 0 }]), {
    inView: 3,
    foundByOne: 2,
    recallAny: 2 / 3,
    inTwoViews: 2,
    foundByTwo: 1,
    recallTwo: 0.5,
  });
});
