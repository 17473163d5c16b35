import assert from 'node:assert/strict';
import test from 'node:test';
import { RecentIds } from './recent-ids.ts';

test('recent ids remember what was handled and forget the oldest past their capacity', () => {
  const recent = new RecentIds(2);
  assert.equal(recent.add('a'), true);
  assert.equal(recent.add('a'), false, 'a redelivery');
  recent.add('b');
  recent.add('c');
  assert.deepEqual(['a', 'b', 'c'].map((id) => recent.has(id)), [false, true, true]);
});
