import assert from 'node:assert/strict';
import test from 'node:test';
import { movenetDetector, type MovenetReading } from './movenet.detector.ts';

/**
 * When the second looks run: a MoveNet runtime stand-in that counts its passes and returns one
 * person whose wrist scores the test sets, on a 64x64 frame. The mirrored read's merging is tested
 * in mirror.read.test.ts; here only whether it runs.
 */

const SIDE = 64;
const VALUES_PER_PERSON = 56;

/** The model's raw output for one person standing in the middle, wrists scored `wristScore`. */
function onePerson(wristScore: number, personScore = 0.9): Float32Array {
  const raw = new Float32Array(6 * VALUES_PER_PERSON);
  for (let k = 0; k < 17; k++) {
    raw[k * 3] = 0.3 + k * 0.02; // y
    raw[k * 3 + 1] = 0.5; // x
    raw[k * 3 + 2] = k === 9 || k === 10 ? wristScore : 0.9;
  }
  raw.set([0.3, 0.4, 0.7, 0.6], 17 * 3);
  raw[VALUES_PER_PERSON - 1] = personScore;
  return raw;
}

function countingDetector(looks: MovenetReading['looks'], wristScore: number) {
  let passes = 0;
  const detector = movenetDetector(
    {
      key: 'stand-in',
      backend: 'none',
      run: async () => {
        passes++;
        return onePerson(wristScore);
      },
      dispose: () => undefined,
    },
    { inputSize: SIDE, minPoseScore: 0.2, refine: 'none', mirror: true, looks },
  );
  const frame = { width: SIDE, height: SIDE, data: new Uint8Array(SIDE * SIDE * 3) };
  return { detector, frame, passes: () => passes };
}

test('looks always: the mirrored read runs on every frame, sure or not', async () => {
  const { detector, frame, passes } = countingDetector('always', 0.9);
  await detector.detect(frame);
  await detector.detect(frame);
  assert.equal(passes(), 4);
});

test('looks when-unsure: a person sure of both wrists, as many people as before: one pass a frame', async () => {
  const { detector, frame, passes } = countingDetector('when-unsure', 0.9);
  const poses = await detector.detect(frame, undefined, { peopleBefore: 1 });
  assert.equal(poses.length, 1);
  assert.equal(passes(), 1);
  assert.match(detector.model, /\+mirror\+when-unsure$/);
});

test('looks when-unsure: a wrist scored under 0.5, or a person fewer than the previous frame, makes the mirrored read run', async () => {
  const unsure = countingDetector('when-unsure', 0.4);
  await unsure.detector.detect(unsure.frame, undefined, { peopleBefore: 1 });
  assert.equal(unsure.passes(), 2, 'an unsure wrist: read again');
  const fewer = countingDetector('when-unsure', 0.9);
  await fewer.detector.detect(fewer.frame, undefined, { peopleBefore: 2 });
  assert.equal(fewer.passes(), 2, 'one person where the last frame had two: read again');
  await fewer.detector.detect(fewer.frame);
  assert.equal(fewer.passes(), 3, 'no previous frame and everyone sure: one pass');
});
