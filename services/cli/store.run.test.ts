import test from 'node:test';
import assert from 'node:assert/strict';
import { defaultWholeEvery, WHOLE_READ_EVERY_S } from './store.run.ts';

test('cameras are read whole every couple of store seconds whatever the frames detected: more frames between at a finer stride', () => {
  const demo = [{ fps: 10 }, { fps: 10 }];
  // Every 2nd frame of 10 a second: 5 detected a second, whole one in 10.
  assert.equal(defaultWholeEvery(demo, 2), WHOLE_READ_EVERY_S * 5);
  // Every 10th: one detected a second, whole every other one, not once in ten seconds.
  assert.equal(defaultWholeEvery(demo, 10), WHOLE_READ_EVERY_S);
  // Slower than one detected every two seconds: every frame whole.
  assert.equal(defaultWholeEvery(demo, 40), 1);
  // The slowest camera sets it.
  assert.equal(defaultWholeEvery([{ fps: 10 }, { fps: 5 }], 1), WHOLE_READ_EVERY_S * 5);
  assert.equal(defaultWholeEvery([], 2), 1);
});
