import assert from 'node:assert/strict';
import test from 'node:test';
import { boxIou } from '../vision/pose.detector.ts';
import { floorDistances, MotAccumulator, motMetrics, scoreMot, sumMotCounts, type MotFrame } from './mot.eval.ts';

/**
 * Small sequences on the floor, worked by hand: people (objects A, B, ...) and tracks (hypotheses 1,
 * 2, ...) at points in metres, matched within 0.5 m. Each test says what the figures must be and why.
 */
type Place = Record<string, [number, number]>;

const MAX_M = 0.5;

function frame(objects: Place, hypotheses: Place): MotFrame {
  const ids = (place: Place) => Object.keys(place).map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  return {
    objects: ids(objects),
    hypotheses: ids(hypotheses),
    distances: floorDistances(Object.values(objects), Object.values(hypotheses), MAX_M),
  };
}

test('a perfect track: MOTA 1, IDF1 1, MOTP the mean distance, the object mostly tracked', () => {
  const m = scoreMot([frame({ A: [0, 0] }, { 1: [0.1, 0] }), frame({ A: [1, 0] }, { 1: [1.3, 0] })]);
  assert.equal(m.mota, 1);
  assert.equal(m.idf1, 1);
  assert.ok(Math.abs(m.motp! - 0.2) < 1e-12);
  assert.deepEqual([m.matches, m.misses, m.falsePositives, m.idSwitches, m.fragmentations], [2, 0, 0, 0, 0]);
  assert.deepEqual([m.mostlyTracked, m.partlyTracked, m.mostlyLost, m.uniqueObjects], [1, 0, 0, 1]);
});

test('a switch: track 1 follows A for two frames, then track 2 does; one switch, IDF1 2/3', () => {
  const m = scoreMot([
    frame({ A: [0, 0] }, { 1: [0, 0] }),
    frame({ A: [0.2, 0] }, { 1: [0.2, 0] }),
    frame({ A: [0.4, 0] }, { 2: [0.4, 0] }),
  ]);
  assert.equal(m.idSwitches, 1);
  assert.equal(m.matches, 3);
  // MOTA = 1 - (0 misses + 0 false positives + 1 switch) / 3 objects.
  assert.ok(Math.abs(m.mota! - 2 / 3) < 1e-12);
  // Identity pairing: A with 1 shares two frames; IDTP 2 of 3 object-frames and of 3 track-frames.
  assert.deepEqual([m.idTruePositives, m.idFalsePositives, m.idFalseNegatives], [2, 1, 1]);
  assert.ok(Math.abs(m.idf1! - 2 / 3) < 1e-12);
  assert.ok(Math.abs(m.idp! - 2 / 3) < 1e-12 && Math.abs(m.idr! - 2 / 3) < 1e-12);
});

test('last frame\'s match is kept while it may still match, even when another track comes closer', () => {
  const m = scoreMot([
    frame({ A: [0, 0] }, { 1: [0.3, 0] }),
    // Track 2 is nearer (0.1 m), but A's track 1 is still within 0.5 m: no switch, 2 is a false positive.
    frame({ A: [0, 0] }, { 1: [0.4, 0], 2: [0.1, 0] }),
  ]);
  assert.deepEqual([m.idSwitches, m.falsePositives, m.matches], [0, 1, 2]);
  assert.ok(Math.abs(m.motp! - 0.35) < 1e-12);
  // ...but only last frame's: after a frame missed, the nearer track wins, and that is a switch.
  const afterMiss = scoreMot([
    frame({ A: [0, 0] }, { 1: [0.3, 0] }),
    frame({ A: [0, 0] }, {}),
    frame({ A: [0, 0] }, { 1: [0.4, 0], 2: [0.1, 0] }),
  ]);
  assert.deepEqual([afterMiss.idSwitches, afterMiss.falsePositives, afterMiss.misses], [1, 1, 1]);
});

test('a track that comes back after a miss: one fragmentation, no switch; misses after the last match are not one', () => {
  const m = scoreMot([
    frame({ A: [0, 0] }, { 1: [0, 0] }),
    frame({ A: [0, 0] }, { 1: [0, 0] }),
    frame({ A: [0, 0] }, {}),
    frame({ A: [0, 0] }, { 1: [3, 3] }),
    frame({ A: [0, 0] }, { 1: [0, 0] }),
    frame({ A: [0, 0] }, {}),
  ]);
  assert.equal(m.fragmentations, 1);
  assert.equal(m.idSwitches, 0);
  // Frame 4: track 1 is 4 m away, a false positive, and A is missed.
  assert.deepEqual([m.misses, m.falsePositives, m.matches], [3, 1, 3]);
  // Matched in 3 of its 6 frames: partly tracked.
  assert.deepEqual([m.mostlyTracked, m.partlyTracked, m.mostlyLost], [0, 1, 0]);
  assert.ok(Math.abs(m.mota! - (1 - 4 / 6)) < 1e-12);
});

test('a false positive and an object never matched: precision, recall, mostly lost', () => {
  const m = scoreMot([
    frame({ A: [0, 0], B: [5, 5] }, { 1: [0, 0], 2: [2, 2] }),
    frame({ A: [0, 0], B: [5, 5] }, { 1: [0, 0] }),
  ]);
  assert.deepEqual([m.matches, m.misses, m.falsePositives], [2, 2, 1]);
  assert.equal(m.recall, 0.5);
  assert.ok(Math.abs(m.precision! - 2 / 3) < 1e-12);
  assert.deepEqual([m.mostlyTracked, m.partlyTracked, m.mostlyLost, m.uniqueObjects], [1, 0, 1, 2]);
  // 1 - (2 misses + 1 false positive) / 4 objects.
  assert.equal(m.mota, 0.25);
  // A with 1 for both frames; B pairs with nothing (2 never came near it).
  assert.equal(m.idTruePositives, 2);
  assert.ok(Math.abs(m.idf1! - 4 / 7) < 1e-12);
});

test('mostly tracked from 80 % of frames, mostly lost below 20 %', () => {
  const present = (matched: boolean) => frame({ A: [0, 0] }, matched ? { 1: [0, 0] } : {});
  const fourOfFive = scoreMot([true, true, true, true, false].map(present));
  assert.deepEqual([fourOfFive.mostlyTracked, fourOfFive.partlyTracked, fourOfFive.mostlyLost], [1, 0, 0]);
  const oneOfFive = scoreMot([false, false, true, false, false].map(present));
  assert.deepEqual([oneOfFive.mostlyTracked, oneOfFive.partlyTracked, oneOfFive.mostlyLost], [0, 1, 0]);
  const none = scoreMot([false, false].map(present));
  assert.deepEqual([none.mostlyTracked, none.partlyTracked, none.mostlyLost], [0, 0, 1]);
});

test('two tracks trading people half way: two switches; the identity pairing keeps half of each', () => {
  const m = scoreMot([
    frame({ A: [0, 0], B: [3, 0] }, { 1: [0, 0], 2: [3, 0] }),
    frame({ A: [0, 0], B: [3, 0] }, { 1: [0, 0], 2: [3, 0] }),
    frame({ A: [0, 0], B: [3, 0] }, { 1: [3, 0], 2: [0, 0] }),
    frame({ A: [0, 0], B: [3, 0] }, { 1: [3, 0], 2: [0, 0] }),
  ]);
  assert.equal(m.idSwitches, 2);
  assert.equal(m.mota, 0.75);
  assert.equal(m.idTruePositives, 4);
  assert.equal(m.idf1, 0.5);
});

test('within one frame the pairing is the cheapest over all, not nearest first', () => {
  // Nearest first would pair B with 1 (0.1 m) and leave A nothing within 0.5 m.
  const m = scoreMot([frame({ A: [0, 0], B: [0.45, 0] }, { 1: [0.35, 0], 2: [0.9, 0] })]);
  assert.deepEqual([m.matches, m.misses, m.falsePositives], [2, 0, 0]);
});

test('sequences summed: identities of different sequences never meet, ratios from the summed counts', () => {
  const one = new MotAccumulator();
  one.update(frame({ A: [0, 0] }, { 1: [0, 0] }));
  const two = new MotAccumulator();
  two.update(frame({ A: [0, 0] }, {}));
  two.update(frame({ A: [0, 0] }, { 1: [0, 0] }));
  const overall = motMetrics(sumMotCounts([one.counts(), two.counts()]));
  assert.deepEqual([overall.objects, overall.matches, overall.misses, overall.uniqueObjects, overall.idTruePositives], [3, 2, 1, 2, 2]);
  assert.ok(Math.abs(overall.mota! - 2 / 3) < 1e-12);
});

test('nothing to score gives null ratios, not NaN', () => {
  const m = scoreMot([]);
  assert.deepEqual([m.mota, m.motp, m.idf1, m.recall, m.precision], [null, null, null, null, null]);
});

test('a frame whose distances do not fit its ids, or with an id twice, is refused', () => {
  const accumulator = new MotAccumulator();
  assert.throws(() => accumulator.update({ objects: ['A'], hypotheses: [1, 2], distances: [[0]] }), /must be 1 x 2/);
  assert.throws(() => accumulator.update({ objects: ['A', 'A'], hypotheses: [], distances: [[], []] }), /object id appears twice/);
});

test('IoU of boxes given as left, top, width, height', () => {
  assert.equal(boxIou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  // Half overlapping: 50 / (100 + 100 - 50).
  assert.ok(Math.abs(boxIou([0, 0, 10, 10], [5, 0, 10, 10]) - 1 / 3) < 1e-12);
  assert.equal(boxIou([0, 0, 10, 10], [10, 0, 10, 10]), 0);
});
