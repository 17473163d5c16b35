import test from 'node:test';
import assert from 'node:assert/strict';
import { ThinnedSeries } from './thinned.series.ts';

test('a thinned series keeps everything until it is full, then an even spread with the first and the last', () => {
  const short = new ThinnedSeries<number>(8);
  for (let i = 0; i < 7; i++) short.push(i);
  assert.deepEqual(short.items(), [0, 1, 2, 3, 4, 5, 6]);

  const long = new ThinnedSeries<number>(8);
  for (let i = 0; i < 1_000; i++) long.push(i);
  const kept = long.items();
  assert.deepEqual(kept, [0, 256, 512, 768, 999], 'every 256th of the 1,000 items, then the last');
  assert.ok(kept.length <= 9, `at most the capacity and the last item: ${kept.length}`);
  assert.equal(kept[0], 0);
  assert.equal(kept[kept.length - 1], 999);
  const gaps = new Set(kept.slice(1, -1).map((item, i) => item - kept[i]));
  assert.equal(gaps.size, 1, `evenly spaced: gaps ${[...gaps].join(', ')}`);
  assert.ok([...gaps][0] >= 1_000 / 8, 'spread over the whole stream');
});
