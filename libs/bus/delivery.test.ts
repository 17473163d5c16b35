import assert from 'node:assert/strict';
import test from 'node:test';
import { HeldOffsets } from './delivery.ts';

test('held offsets: the oldest still held is what a partition commits up to, through thousands of holds released out of order', () => {
  const held = new HeldOffsets<number>();
  const releases = Array.from({ length: 5_000 }, (_, offset) => held.hold(offset));
  // A stateful consumer lets messages go in its own order, and keeps one for long.
  const order = releases.map((_, offset) => offset).filter((offset) => offset !== 3_000);
  for (let i = order.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  let lowest = 0;
  const released = new Set<number>();
  for (const offset of order) {
    releases[offset]();
    released.add(offset);
    while (released.has(lowest)) lowest++;
    assert.equal(held.oldest(), lowest, `after releasing ${offset}`);
  }
  assert.equal(held.oldest(), 3_000, 'the one kept is the oldest held');
  assert.equal(held.size, 1);
  releases[3_000]();
  releases[3_000](); // twice does nothing
  assert.equal(held.empty, true);
  assert.equal(held.size, 0);
  // Holds go on after the front was dropped.
  const more = held.hold(5_000);
  assert.equal(held.oldest(), 5_000);
  more();
  assert.equal(held.empty, true);
  held.revoke();
  assert.doesNotThrow(() => held.hold(5_001)());
});
