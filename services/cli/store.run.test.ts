import test from 'node:test';
import assert from 'node:assert/strict';
import { defaultWholeEvery, WHOLE_READ_EVERY_S } from './store.run.ts';

test('cameras are read whole every couple of store seconds when the frames detected are close enough for windows, else every frame whole', () => {
  const demo = [{ fps: 10 }, { fps: 10 }];
  // Every 2nd frame of 10 a second: 0.2 s apart, whole one in 10.
  assert.equal(defaultWholeEvery(demo, 2), WHOLE_READ_EVERY_S * 5);
  assert.equal(defaultWholeEvery(demo, 1), WHOLE_READ_EVERY_S * 10);
  // Every 10th: a second apart, too far for windows: every frame whole.
  assert.equal(defaultWholeEvery(demo, 10), 1);
  assert.equal(defaultWholeEvery(demo, 3), 1);
  // The slowest camera sets it.
  assert.equal(defaultWholeEvery([{ fps: 10 }, { fps: 5 }], 1), WHOLE_READ_EVERY_S * 5);
  assert.equal(defaultWholeEvery([{ fps: 10 }, { fps: 5 }], 2), 1);
  assert.equal(defaultWholeEvery([], 2), 1);
});
