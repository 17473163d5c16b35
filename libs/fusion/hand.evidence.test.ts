import test from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type Box3, type Vec3 } from '../contracts/index.ts';
import { HandHistory } from './hand.evidence.ts';

const BOX: Box3 = { min: [0, 0, 1], max: [0.3, 0.4, 1.3] };
const T0 = 1_700_000_000_000;
/** A wrist `metres` in front of the box's max-x face, at its middle. */
const at = (metres: number): Vec3 => [0.3 + metres, 0.2, 1.1];

/** One hand's course, a sample every 100 ms from 0 to 3 s after T0; the change runs from 1.0 to 1.6 s. */
function cameInAfter(course: (ms: number) => number): boolean | undefined {
  const history = new HandHistory();
  for (let ms = 0; ms <= 3_000; ms += 100) {
    const keypoints: Array<Vec3 | null> = Array.from({ length: 17 }, () => null);
    keypoints[10] = at(course(ms));
    history.add({ schemaVersion: SCHEMA_VERSION, eventId: `t-${ms}`, storeId: 'kiosk', ts: T0 + ms, people: [{ trackId: 't-a', keypoints, cameras: ['cam-1'] }] });
  }
  const [evidence] = history.evidence([BOX], { fromMs: T0, toMs: T0 + 2_600, contactFromMs: T0 + 700, contactToMs: T0 + 1_900, changeMs: T0 + 1_000, changeEndMs: T0 + 1_600, kind: 'pick' });
  return evidence.cameInAfter;
}

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
