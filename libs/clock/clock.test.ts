import assert from 'node:assert/strict';
import test from 'node:test';
import { ManualClock } from './clock.ts';

test('a manual clock fires intervals in time order only when advanced', async () => {
  const clock = new ManualClock(1_000);
  const fired: string[] = [];
  const stopSlow = clock.every(300, () => fired.push(`every 300 at ${clock.now()}`));
  const stop = clock.every(150, () => fired.push(`tick at ${clock.now()}`));
  await clock.advance(99);
  assert.deepEqual(fired, []);
  assert.equal(clock.now(), 1_099);
  await clock.advance(251);
  assert.deepEqual(fired, ['tick at 1150', 'every 300 at 1300', 'tick at 1300']);
  stop();
  stopSlow();
  await clock.advance(1_000);
  assert.equal(fired.length, 3);
  assert.equal(clock.pending, 0);
});

test('a manual clock refuses to go back', async () => {
  await assert.rejects(new ManualClock().advance(-1), RangeError);
});
