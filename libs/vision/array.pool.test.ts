import assert from 'node:assert/strict';
import test from 'node:test';
import { ArrayPool } from './array.pool.ts';

test('an array given back is taken again for the same length, up to a number kept a length; a detached one is let go', () => {
  const pool = new ArrayPool<Int32Array<ArrayBuffer>>((length) => new Int32Array(length), 2);
  const [a, b, c] = [pool.take(4), pool.take(4), pool.take(4)];
  assert.equal(a.length, 4);
  for (const array of [a, b, c]) pool.give(array);
  assert.equal(pool.kept, 2, 'two kept of length 4');
  assert.ok([a, b].includes(pool.take(4)));
  assert.equal(pool.take(8).length, 8, 'another length is made new');
  const sent = pool.take(4);
  structuredClone(sent, { transfer: [sent.buffer] });
  pool.give(sent);
  assert.equal(pool.kept, 0, 'a detached array is not kept');
});
