import assert from 'node:assert/strict';
import test from 'node:test';
import { KP } from '../contracts/index.ts';
import { mirrorRowsInt32, unmirrorPose } from './mirror.read.ts';
import { fannedPose as person } from './pose.fixture.ts';

test('mirroring reverses each row of the picture and leaves the letterbox where it is', () => {
  // Two rows of 4 pixels, the first 3 of them picture, the 4th padding; each pixel's red is its index.
  const pixels = new Int32Array(2 * 4 * 3);
  for (let i = 0; i < 8; i++) pixels[i * 3] = i + 1;
  const mirrored = mirrorRowsInt32(pixels, 4, 3);
  assert.deepEqual(
    Array.from({ length: 8 }, (_, i) => mirrored[i * 3]),
    [3, 2, 1, 4, 7, 6, 5, 8],
  );
  assert.equal(pixels[0], 1, 'the input is left alone');
  // Into an array to reuse, whatever it held: the same pixels, letterbox and all.
  const reused = mirrorRowsInt32(pixels, 4, 3, new Int32Array(pixels.length).fill(99));
  assert.deepEqual(reused, mirrored);
  assert.deepEqual(mirrorRowsInt32(pixels, 4, 4, new Int32Array(pixels.length).fill(99)), mirrorRowsInt32(pixels, 4, 4));
});

test('a pose read in the mirror comes back with x reflected and its sides swapped', () => {
  const read = person(30, 10);
  read.keypoints[KP.left_wrist] = [20, 50, 0.9];
  read.keypoints[KP.right_wrist] = [45, 52, 0.4];
  const back = unmirrorPose(read, 200);
  // The wrist the mirror showed as left is the person's right, at 200 - x.
  assert.deepEqual(back.keypoints[KP.right_wrist], [180, 50, 0.9]);
  assert.deepEqual(back.keypoints[KP.left_wrist], [155, 52, 0.4]);
  assert.deepEqual(back.keypoints[KP.nose], [200 - read.keypoints[KP.nose][0], read.keypoints[KP.nose][1], 0.8]);
  assert.deepEqual(back.box, [200 - 5 - 50, 5, 50, 110]);
  // Twice is the identity.
  assert.deepEqual(unmirrorPose(back, 200), read);
});
