import assert from 'node:assert/strict';
import test from 'node:test';
import { KP } from '../contracts/index.ts';
import { keypointBox, mirrorPose, withSidesOf } from './pose.detector.ts';
import { fannedPose as person } from './pose.fixture.ts';
import { mergePoseReadings, mergeReadings, sameReadingIndex } from './readings.merge.ts';

test('merging: close keypoints are averaged by score, far ones keep the surer reading', () => {
  const direct = person(100, 50, 0.6);
  const mirrored = person(100, 50, 0.6);
  // Both place the left wrist, 4 px apart (within 0.15 of the keypoint box's ~105 px diagonal): the
  // score-weighted mean, with the surer score.
  direct.keypoints[KP.left_wrist] = [80, 120, 0.6];
  mirrored.keypoints[KP.left_wrist] = [84, 120, 0.4];
  // They disagree on the right wrist by 60 px: the surer reading's wrist, unchanged.
  direct.keypoints[KP.right_wrist] = [150, 130, 0.3];
  mirrored.keypoints[KP.right_wrist] = [150, 70, 0.7];
  // One of them is unsure of the left ankle (below the 0.2 limit): no average, the surer one.
  direct.keypoints[KP.left_ankle] = [90, 160, 0.5];
  mirrored.keypoints[KP.left_ankle] = [92, 160, 0.1];
  const [merged, ...rest] = mergeReadings([direct], [mirrored]);
  assert.equal(rest.length, 0);
  const [x, y, score] = merged.keypoints[KP.left_wrist];
  assert.ok(Math.abs(x - (80 * 0.6 + 84 * 0.4)) < 1e-9 && y === 120 && score === 0.6, `left wrist ${merged.keypoints[KP.left_wrist]}`);
  assert.deepEqual(merged.keypoints[KP.right_wrist], [150, 70, 0.7]);
  assert.deepEqual(merged.keypoints[KP.left_ankle], [90, 160, 0.5]);
  assert.deepEqual(merged.box, direct.box);
});

test('merging pairs people one to one by overlap and adds those only the second reading found', () => {
  const left = person(100, 50, 0.9);
  const right = person(300, 50, 0.5);
  // The second reading (say, the mirror) sees the right-hand person a little shifted, misses the
  // left one, and finds a third person (half hidden in the first reading) at x 500.
  const rightAgain = person(303, 50, 0.7);
  const third = person(500, 60, 0.4);
  const merged = mergeReadings([left, right], [third, rightAgain]);
  assert.equal(merged.length, 3);
  assert.deepEqual(
    merged.map((p) => p.score),
    [0.9, 0.7, 0.4],
    'best first; a merged person takes the surer reading score',
  );
  assert.equal(merged[0], left, 'a person the second reading did not see passes through');
  assert.equal(merged[2], third);
  assert.equal(merged[1].keypoints[KP.nose][0], (305 * 0.5 + 308 * 0.7) / 1.2);
  // Keypoint boxes 41 px wide: 25 px to the side they overlap by IoU 0.24, under sameIou (0.3), and
  // stay two people; 15 px to the side, by 0.46, and are one.
  assert.equal(mergeReadings([left], [person(125, 50)]).length, 2);
  assert.equal(mergeReadings([left], [person(115, 50)]).length, 1);
});

test('two readings of a person are made to agree on sides before merging', () => {
  const reference = person(100, 50, 0.8);
  // The same person read with left and right the other way round, a few pixels off.
  const shifted = person(102, 51, 0.6);
  const swapped = mirrorPose(shifted);
  assert.deepEqual(withSidesOf(reference, swapped, 0.2), shifted, 'turned back to the reference sides');
  assert.equal(withSidesOf(reference, shifted, 0.2), shifted, 'already agreeing: unchanged');
  // Nothing sure on either side to compare: left as it is.
  const unsure = { ...swapped, keypoints: swapped.keypoints.map(([x, y]) => [x, y, 0.1] as [number, number, number]) };
  assert.equal(withSidesOf(reference, unsure, 0.2), unsure);
  // Merged, the swapped reading's keypoints are averaged with the right ones: every keypoint stays
  // within the 2 px the readings differ by, none is taken from the person's other side.
  const [merged] = mergeReadings([reference], [swapped]);
  merged.keypoints.forEach(([x, y], k) =>
    assert.ok(Math.hypot(x - reference.keypoints[k][0], y - reference.keypoints[k][1]) <= 2.3, `${k}: ${x}, ${y}`),
  );
});

test('the upright look picks the window pose overlapping most and merges it with the person', () => {
  const pose = person(100, 50, 0.5);
  const neighbour = person(118, 50, 0.9);
  const again = person(104, 50, 0.7);
  const boxes = [neighbour, again].map((p) => keypointBox(p.keypoints));
  // Both overlap the person's keypoint box; the nearer one overlaps most, whatever the scores.
  assert.equal(sameReadingIndex(pose, boxes, 0.2), 1);
  assert.equal(sameReadingIndex(pose, boxes, 0.2, new Set([1])), 0, 'a pose already taken is passed over');
  assert.equal(sameReadingIndex(pose, boxes, 0.95), -1, 'none overlaps enough');
  const merged = mergePoseReadings(pose, again);
  assert.deepEqual(merged.box, pose.box, 'the first reading keeps its box');
  assert.equal(merged.score, 0.7);
  // 4 px apart, well within 0.15 of the diagonal: averaged by score.
  assert.equal(merged.keypoints[KP.nose][0], (105 * 0.5 + 109 * 0.7) / 1.2);
});
