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

test('FrameReads: a camera given a wholeEvery of its own is read whole at its own count, the others at the shared one', () => {
  const reads = new FrameReads(3, new Map([['cam-5', 2]]));
  const people = [fannedPose(100, 100)];
  const kinds = (cameraId: string) =>
    Array.from({ length: 5 }, () => {
      const hints = reads.hints(cameraId);
      reads.record(cameraId, hints, people);
      return hints.around ? 'around' : 'whole';
    });
  assert.deepEqual(kinds('cam-1'), ['whole', 'around', 'around', 'whole', 'around']);
  assert.deepEqual(kinds('cam-5'), ['whole', 'around', 'whole', 'around', 'whole']);
  assert.throws(() => new FrameReads(3, new Map([['cam-5', 0]])), /wholeEvery of cam-5 is a whole number of frames >= 1, not 0/);
});

test('FrameReads: given the frames, a frame read round people says where the image changed outside their windows since the camera\'s previous frame', () => {
  const floor = (paint?: [number, number, number, number]) => {
    const data = new Uint8Array(640 * 480 * 3).fill(120);
    if (paint) {
      const [x0, y0, w, h] = paint;
      for (let y = y0; y < y0 + h; y++) data.fill(30, (y * 640 + x0) * 3, (y * 640 + x0 + w) * 3);
    }
    return { width: 640, height: 480, data };
  };
  const reads = new FrameReads(3);
  const person = fannedPose(100, 100); // keypoint box round (100, 148), 96 px tall: a 192 px window
  const first = reads.hints('cam-1', floor());
  assert.equal(first.changes, undefined, 'read whole: nothing to compare');
  reads.record('cam-1', first, [person]);
  const still = reads.hints('cam-1', floor([60, 120, 30, 60]));
  assert.deepEqual(still.changes, [], 'the person moved inside their window: nothing changed outside it');
  assert.deepEqual([still.around?.length, still.unchanged?.length], [1, 0], 'and they moved: their window is read');
  reads.record('cam-1', still, [person]);
  const newcomer = reads.hints('cam-1', floor([500, 300, 40, 100]));
  assert.ok(newcomer.around, 'still read round people');
  assert.equal(newcomer.changes?.length, 1, 'the newcomer (where the person was before is inside their window)');
  assert.ok(newcomer.changes!.some(([x, y, w, h]) => x <= 500 && y <= 300 && x + w >= 540 && y + h >= 400), `a box round the newcomer, got ${JSON.stringify(newcomer.changes)}`);
  reads.record('cam-1', newcomer, [person]);
  assert.equal(reads.hints('cam-1', floor([500, 300, 40, 100])).changes, undefined, 'read whole again');
  const always = new FrameReads(1);
  always.record('cam-1', always.hints('cam-1', floor()), [person]);
  assert.deepEqual(always.hints('cam-1', floor([500, 300, 40, 100])), { peopleBefore: 1 }, 'every frame whole: no sampling');
  const blind = new FrameReads(3);
  blind.record('cam-1', blind.hints('cam-1'), [person]);
  assert.equal(blind.hints('cam-1').changes, undefined, 'without the frames, unknown');
});

test('FrameReads: someone in whose keypoint box nothing changed stands still: their pose is carried over, not read again', () => {
  const floor = () => ({ width: 640, height: 480, data: new Uint8Array(640 * 480 * 3).fill(120) });
  const reads = new FrameReads(5);
  const [standing, walking] = [fannedPose(100, 100), fannedPose(400, 100)];
  reads.record('cam-1', reads.hints('cam-1', floor()), [standing, walking]);
  const moved = floor();
  for (let y = 150; y < 200; y++) moved.data.fill(30, (y * 640 + 410) * 3, (y * 640 + 440) * 3);
  const hints = reads.hints('cam-1', moved);
  assert.deepEqual(hints.around, [walking]);
  assert.deepEqual(hints.unchanged, [standing]);
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
function windowDetector(scouted: Float32Array = new Float32Array(6 * VALUES_PER_PERSON), window: Float32Array = personInTheMiddle(), looks: 'always' | 'when-unsure' = 'when-unsure') {
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
    { inputSize: 640, minPoseScore: 0.2, refine: 'upright', mirror: true, looks },
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

test('around people: the scout reads the whole frame only when something changed outside the windows, or when nobody knows', async () => {
  const { detector, frame, passes } = windowDetector(personInTheMiddle());
  const alone = await detector.detect(frame, undefined, { around: [fannedPose(100, 100)], changes: [] });
  assert.deepEqual(passes, [[192, 192]], 'nothing changed outside the window: the window alone');
  assert.equal(alone.length, 1);
  passes.length = 0;
  const more = await detector.detect(frame, undefined, { around: [fannedPose(100, 100)], changes: [[300, 200, 40, 80]] });
  assert.deepEqual(passes, [[192, 192], [256, 192], [256, 256]], 'a change: the scout, and the newcomer\'s window');
  assert.equal(more.length, 2);
});

test('around people: people who stood still keep their poses without a pass, unless a window round someone else found them again', async () => {
  const { detector, frame, passes } = windowDetector();
  const standing = fannedPose(500, 300);
  const poses = await detector.detect(frame, undefined, { around: [], unchanged: [standing], changes: [] });
  assert.deepEqual(passes, [], 'nobody moved, nothing changed elsewhere: no pass at all');
  assert.deepEqual(poses, [standing]);
  // A window round a walker centred where the standing person is finds them again: one person, the window's reading.
  const again = await detector.detect(frame, undefined, { around: [fannedPose(200, 150)], unchanged: [fannedPose(200, 150, 0.3)], changes: [] });
  assert.equal(again.length, 1);
  assert.ok(Math.abs(again[0].score - 0.9) < 1e-6, 'the window\'s reading');
});

test('around people: a window whose only pose is off its centre finds nobody (a neighbour, not the person followed)', async () => {
  const offCentre = new Float32Array(6 * VALUES_PER_PERSON);
  for (let k = 0; k < 17; k++) offCentre.set([0.05 + k * 0.01, 0.9, 0.9], k * 3);
  offCentre[VALUES_PER_PERSON - 1] = 0.9;
  const { detector, frame, passes } = windowDetector(undefined, offCentre);
  assert.deepEqual(await detector.detect(frame, undefined, { around: [fannedPose(200, 150)] }), []);
  assert.deepEqual(passes, [[192, 192], [256, 192], [192, 192]], 'the window, the scout, and the window again mirrored, since nobody was in its middle');
});

test('around people: a window unsure of its person is read again mirrored and the two readings merged; a sure one, or any without the mirrored read, once', async () => {
  const unsure = personInTheMiddle();
  for (const wrist of [9, 10]) unsure[wrist * 3 + 2] = 0.2;
  const { detector, frame, passes } = windowDetector(undefined, unsure);
  const poses = await detector.detect(frame, undefined, { around: [fannedPose(200, 150)], changes: [] });
  assert.deepEqual(passes, [[192, 192], [192, 192]], 'the window, then the same window mirrored');
  assert.equal(poses.length, 1, 'one person from the two readings');
  assert.deepEqual(Object.keys(detector.passes!()), ['window', 'window-mirrored']);
  const sure = windowDetector();
  await sure.detector.detect(sure.frame, undefined, { around: [fannedPose(200, 150)], changes: [] });
  assert.equal(sure.passes.length, 1, 'sure of them: once');
  const always = windowDetector(undefined, personInTheMiddle(), 'always');
  await always.detector.detect(always.frame, undefined, { around: [fannedPose(200, 150)], changes: [] });
  assert.equal(always.passes.length, 2, 'looks always: every window mirrored too');
});
