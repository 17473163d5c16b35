import test from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type Box3, type Vec3 } from '../contracts/index.ts';
import { PAIR_STILL_M } from './attribution.model.ts';
import { HandHistory } from './hand.evidence.ts';

const BOX: Box3 = { min: [0, 0, 1], max: [0.3, 0.4, 1.3] };
const T0 = 1_700_000_000_000;
/** A wrist `metres` in front of the box's max-x face, at its middle. */
const at = (metres: number): Vec3 => [0.3 + metres, 0.2, 1.1];

/**
 * One hand's course, a sample every 100 ms from 0 to 3 s after T0; the change runs from 1.0 to 1.6 s
 * (to `changeEndMs` when given).
 * `place` gives the wrist's whole place, for a hand that moves along the lane's face; `other` the
 * other wrist's.
 */
function evidenceOf(course: (ms: number) => number, kind: 'pick' | 'put' = 'pick', place: (ms: number) => Vec3 = (ms) => at(course(ms)), other?: (ms: number) => Vec3, changeEndMs = 1_600) {
  const history = new HandHistory();
  for (let ms = 0; ms <= 3_000; ms += 100) {
    const keypoints: Array<Vec3 | null> = Array.from({ length: 17 }, () => null);
    keypoints[10] = place(ms);
    if (other) keypoints[9] = other(ms);
    history.add({ schemaVersion: SCHEMA_VERSION, eventId: `t-${ms}`, storeId: 'kiosk', ts: T0 + ms, people: [{ trackId: 't-a', keypoints, cameras: ['cam-1'] }] });
  }
  const [evidence] = history.evidence([BOX], { fromMs: T0, toMs: T0 + 2_600, contactFromMs: T0 + 700, contactToMs: T0 + 1_900, changeMs: T0 + 1_000, changeEndMs: T0 + changeEndMs, kind });
  return evidence;
}

const cameInAfter = (course: (ms: number) => number) => evidenceOf(course).cameInAfter;
const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);

test('a hand came in after a change when it was out of the lanes all through it and in them soon after its end', () => {
  // A neighbour's hand 10 cm out while the weight falls, then in 0.4 s after it stopped.
  assert.equal(cameInAfter((ms) => (ms < 2_000 ? 0.1 : -0.05)), true);
  // In the lane while the weight was still falling (a second shopper taking too): not after.
  assert.equal(cameInAfter((ms) => (ms < 1_300 ? 0.1 : -0.05)), false);
  // The picker: in as the weight falls, out after.
  assert.equal(cameInAfter((ms) => (ms < 1_800 ? -0.05 : 0.3)), false);
  // Never in: not after either.
  assert.equal(cameInAfter(() => 0.1), false);
});

test("a hand's own movement: a pick's taker draws back after the change, a put's putter came in before it, a still hand does neither", () => {
  // The taker: 5 cm inside the lane until 0.2 s after the weight starts to fall, then back 10 cm every 100 ms.
  const taker = (ms: number) => (ms <= 1_200 ? -0.05 : Math.min(0.4, -0.05 + ((ms - 1_200) / 100) * 0.1));
  // At the change (0.9 to 1.1 s) the wrist is 5 cm inside; by 1.8 to 2.0 s it is 0.4 m out: 0.45 m.
  near(evidenceOf(taker).movedM, 0.45);
  // A hand still at the lane's face all along, or resting inside it: nothing.
  near(evidenceOf(() => 0.01).movedM, 0);
  near(evidenceOf(() => -0.05).movedM, 0);
  // A put: the hand came in from 0.3 m over 0.1 to 0.7 s and set the item down at 1.0 s.
  const putter = (ms: number) => (ms <= 100 ? 0.3 : ms >= 700 ? -0.05 : 0.3 - ((ms - 100) / 600) * 0.35);
  // Furthest at 0.1 s, the mean of 0, 0.1 and 0.2 s, from 5 cm inside at the change.
  near(evidenceOf(putter, 'put').movedM, (0.3 + 0.3 + (0.3 - 0.35 / 6)) / 3 + 0.05);
  // The same course read as a pick: the hand stayed after the change.
  near(evidenceOf(putter, 'pick').movedM, 0);
  // A neighbour's hand 0.3 m out at a pick's change, coming in for their own item after it: towards the lanes counts nothing.
  near(evidenceOf((ms) => (ms <= 1_100 ? 0.3 : Math.max(-0.05, 0.3 - ((ms - 1_100) / 100) * 0.1))).movedM, 0);
  // Movement along the lane's face counts as movement: the distance to the box does not change, the place does.
  // It slides 2.5 cm every 100 ms from the change: 0.275 m along at 1.9 s (1.8 to 2.0 s), 0.058 m at the change (0.9 to 1.1 s).
  near(evidenceOf(() => 0.01, 'pick', (ms) => [0.31, 0.05 + Math.max(0, ms - 1_000) / 4_000, 1.1]).movedM, 0.275 - (0.05 + 0.05 + 0.075) / 3);
  // A taker whose hand got into the lane 0.3 s after the weight started to change (a hand resting on
  // the plate started it): the span runs from 1.3 s, when the hand was 1.1 cm out (the mean of 1.2 to
  // 1.4 s), to 2.2 s, 0.4 m out. From the change itself the hand only came nearer.
  const late = (ms: number) => (ms <= 1_000 ? 0.5 : ms <= 1_300 ? 0.5 - ((ms - 1_000) / 300) * 0.55 : ms <= 1_500 ? -0.05 : Math.min(0.4, -0.05 + ((ms - 1_500) / 100) * 0.1));
  near(evidenceOf(late).movedM, 0.4 - (0.5 - (200 / 300) * 0.55 - 0.05 - 0.05) / 3);
  // The wrist read is the one nearest the lanes at the change: the other arm's swing says nothing.
  near(evidenceOf(() => 0.01, 'pick', undefined, (ms) => [1, 0.2 + ms / 1_000, 1]).movedM, 0);
});

test("a pick's hand read from its own lift: a second hand lifting late in the change moved, a hand resting in the lanes or leaving after the change did not", () => {
  // Two units taken one after the other, the weight falling from 1.0 to 2.0 s. The second taker's
  // hand is 5 cm inside the lane from the start, lifts at 1.9 s and is out of it at 2.1 s (a lift
  // counts up to 0.2 s after the change's end), then back 10 cm every 100 ms to 0.4 m out.
  const lateLift = (ms: number) => (ms <= 1_900 ? -0.05 : Math.min(0.4, -0.05 + ((ms - 1_900) / 100) * 0.1));
  const late = evidenceOf(lateLift, 'pick', undefined, undefined, 2_000);
  // From the change's start the span is 1.3 to 1.9 s, and the hand is only starting back at its
  // end (the mean of 1.8 to 2.0 s against 5 cm inside): still.
  near(late.movedM, (-0.05 - 0.05 + 0.05) / 3 + 0.05);
  assert.ok(late.liftMovedM! >= PAIR_STILL_M);
  // From its lift: the span from 1.9 s (the mean of 1.8 to 2.0 s: -5, -5 and 5 cm), 0.2 s before the
  // crossing, over 2.2 to 2.8 s, where the hand is 0.4 m out.
  near(late.liftMovedM!, 0.4 - (-0.05 - 0.05 + 0.05) / 3);
  // A hand resting 5 cm inside the lane all along never leaves it: its lift reads as movedM, nothing.
  const resting = evidenceOf(() => -0.05);
  near(resting.liftMovedM!, 0);
  // A hand leaving the lane 0.5 s after the change ended (1.6 + 0.2 s is the latest a lift counts):
  // not a lift of this change; its reading is movedM's.
  const after = evidenceOf((ms) => (ms <= 2_000 ? -0.05 : Math.min(0.4, -0.05 + ((ms - 2_000) / 100) * 0.1)));
  near(after.liftMovedM!, after.movedM);
  // A put's reading is movedM's, whenever the hand left.
  const put = evidenceOf(lateLift, 'put', undefined, undefined, 2_000);
  near(put.liftMovedM!, put.movedM);
});
