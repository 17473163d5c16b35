import assert from 'node:assert/strict';
import test from 'node:test';
import { FrameReads } from './frame.reads.ts';
import { movenetDetector } from './movenet.detector.ts';
import { fannedPose } from './pose.fixture.ts';
import type { DetectedPose } from './pose.detector.ts';

/**
 * Which frames are read whole and which only round the people before (FrameReads), and how MoveNet
 * reads the windows: a stand-in runtime that records the size of each pass and answers with one
 * person in the middle of whatever it is given.
 */

test('FrameReads: a camera\'s first frame and every n-th after a whole read are read whole, the others round the previous frame\'s people, per camera', () => {
  const reads = new FrameReads(3);
  const people = [fannedPose(100, 100)];
  const kinds: string[] = [];
  for (let frame = 0; frame < 7; frame++) {
    const hints = reads.hints('cam-1');
    kinds.push(hints.around ? `around ${hints.around.length}` : 'whole');
    if (frame > 0) assert.equal(hints.peopleBefore, frame === 4 ? 0 : 1);
    if (hints.around) assert.equal(hints.around.length, frame === 4 ? 0 : 1, 'the previous frame\'s people');
    reads.record('cam-1', hints, frame === 3 ? [] : people);
  }
  assert.deepEqual(kinds, ['whole', 'around 1', 'around 1', 'whole', 'around 0', 'around 1', 'whole']);
  assert.deepEqual(reads.hints('cam-2'), {}, 'another camera starts whole');
  const always = new FrameReads(1);
  always.record('cam-1', always.hints('cam-1'), people);
  assert.deepEqual(always.hints('cam-1'), { peopleBefore: 1 });
  assert.throws(() => new FrameReads(0), /wholeEvery is a whole number of frames >= 1, not 0/);
});

const VALUES_PER_PERSON = 56;

/** Raw model output: one person whose keypoints span the middle of the input (x 0.45 to 0.55, y 0.3 to 0.7). */
function personInTheMiddle(): Float32Array<ArrayBuffer> {
  const raw = new Float32Array(6 * VALUES_PER_PERSON);
  for (let k = 0; k < 17; k++) raw.set([0.3 + (k / 16) * 0.4, k % 2 ? 0.45 : 0.55, 0.9], k * 3);
  raw.set([0.3, 0.45, 0.7, 0.55], 17 * 3);
  raw[VALUES_PER_PERSON - 1] = 0.9;
  return raw;
}

/**
 * A stand-in MoveNet at input 640 on 640x480 frames: windows are square, the scout's whole frame at
 * 256 is 256x192. `scouted` is what the scout sees (nobody by default), every window shows a person
 * in its middle.
 */
function windowDetector(scouted: Float32Array = new Float32Array(6 * VALUES_PER_PERSON), window: Float32Array = personInTheMiddle()) {
  const passes: Array<[number, number]> = [];
  const detector = movenetDetector(
    {
      key: 'stand-in',
      backend: 'none',
      run: async (_pixels, width, height) => {
        passes.push([width, height]);
        return width === height ? window : scouted;
      },
      dispose: () => undefined,
    },
    { inputSize: 640, minPoseScore: 0.2, refine: 'upright', mirror: true, looks: 'always' },
  );
  const frame = { width: 640, height: 480, data: new Uint8Array(640 * 480 * 3) };
  return { detector, frame, passes };
}

test('around people: one window a person at the frame\'s scale, no whole pass nor second looks, the pose put back where the person is', async () => {
  const { detector, frame, passes } = windowDetector();
  const person = fannedPose(200, 150); // keypoint box 42 x 96 px round (200, 198)
  const poses = await detector.detect(frame, undefined, { around: [person] });
  assert.deepEqual(passes, [[192, 192], [256, 192]], 'a window twice the person\'s 96 px, at scale 1, then the scout');
  assert.equal(poses.length, 1);
  const [x, y, w, h] = poses[0].box;
  assert.ok(Math.abs(x + w / 2 - 200) < 1 && Math.abs(y + h / 2 - 198) < 1, `centred on the person, got ${poses[0].box}`);
  assert.ok(Math.abs(h - 0.4 * 192) < 1e-3, `at the window's scale, got ${h}`);
  assert.deepEqual(Object.entries(detector.passes!()).map(([kind, { count }]) => [kind, count]), [['window', 1], ['scout', 1]]);
});

test('around people: a person near the camera is read in a window no larger than 256 px; two windows on one person give one pose; nobody around, no pass', async () => {
  const { detector, frame, passes } = windowDetector();
  const near: DetectedPose = { ...fannedPose(300, 50), keypoints: fannedPose(300, 50).keypoints.map(([x, y, s]) => [x, 50 + (y - 50) * 3, s]) };
  await detector.detect(frame, undefined, { around: [near] });
  assert.deepEqual(passes[0], [256, 256]);
  passes.length = 0;
  const twins = await detector.detect(frame, undefined, { around: [fannedPose(200, 150), fannedPose(202, 151)] });
  assert.equal(passes.length, 3, 'two windows and the scout');
  assert.equal(twins.length, 1, 'the same person found in both windows is one person');
  passes.length = 0;
  assert.deepEqual(await detector.detect(frame, undefined, { around: [] }), []);
  assert.deepEqual(passes, [[256, 192]], 'nobody before: the scout alone');
});

test('around people: someone the scout sees where no window found anyone gets a window of their own and is added', async () => {
  // The scout sees a person in the middle of the frame (x 0.45 to 0.55 of 256, y 0.3 to 0.7 of 192, round (320, 240) in the frame).
  const { detector, frame, passes } = windowDetector(personInTheMiddle());
  const poses = await detector.detect(frame, undefined, { around: [fannedPose(100, 100)] });
  assert.deepEqual(passes, [[192, 192], [256, 192], [256, 256]], 'the window before, the scout, the newcomer\'s window (twice their 192 px, at most 256)');
  assert.equal(poses.length, 2);
  const centres = poses.map(({ box: [x, y, w, h] }) => [Math.round(x + w / 2), Math.round(y + h / 2)]).sort((a, b) => a[0] - b[0]);
  assert.deepEqual(centres, [[101, 148], [320, 240]]);
  // Where the scout's person is someone a window found, no more windows.
  const same = windowDetector(personInTheMiddle());
  await same.detector.detect(same.frame, undefined, { around: [fannedPose(320, 192)] });
  assert.equal(same.passes.length, 2);
});

test('around people: a window whose only pose is off its centre finds nobody (a neighbour, not the person followed)', async () => {
  const offCentre = new Float32Array(6 * VALUES_PER_PERSON);
  for (let k = 0; k < 17; k++) offCentre.set([0.05 + k * 0.01, 0.9, 0.9], k * 3);
  offCentre[VALUES_PER_PERSON - 1] = 0.9;
  const { detector, frame, passes } = windowDetector(undefined, offCentre);
  assert.deepEqual(await detector.detect(frame, undefined, { around: [fannedPose(200, 150)] }), []);
  assert.equal(passes.length, 2, 'the window and the scout');
});
