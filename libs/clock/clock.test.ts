import assert from 'node:assert/strict';
import test from 'node:test';
import { ManualClock, systemClock } from './clock.ts';

test('a manual clock fires sleeps and intervals in time order only when advanced', async () => {
  const clock = new ManualClock(1_000);
  const fired: string[] = [];
  void clock.sleep(300).then(() => fired.push(`sleep 300 at ${clock.now()}`));
  void clock.sleep(100).then(() => fired.push(`sleep 100 at ${clock.now()}`));
  const stop = clock.every(150, () => fired.push(`tick at ${clock.now()}`));
  await clock.advance(99);
  assert.deepEqual(fired, []);
  assert.equal(clock.now(), 1_099);
  await clock.advance(251);
  assert.deepEqual(fired, ['sleep 100 at 1100', 'tick at 1150', 'sleep 300 at 1300', 'tick at 1300']);
  stop();
  await clock.advance(1_000);
  assert.equal(fired.length, 4);
  assert.equal(clock.pending, 0);
});

test('an aborted sleep rejects with the reason and leaves no timer behind, on both clocks', async () => {
  const clock = new ManualClock();
  const controller = new AbortController();
  const sleeping = clock.sleep(1_000, controller.signal);
  controller.abort(new Error('stopping'));
  await assert.rejects(sleeping, /stopping/);
  assert.equal(clock.pending, 0);
  await assert.rejects(systemClock.sleep(60_000, AbortSignal.abort(new Error('gone'))), /gone/);
});

test('a manual clock refuses to go back', async () => {
  await assert.rejects(new ManualClock().advance(-1), RangeError);
});
