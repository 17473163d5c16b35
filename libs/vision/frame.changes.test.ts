import assert from 'node:assert/strict';
import test from 'node:test';
import type { RgbFrame } from '../video/rgb.frame.ts';
import { changedWithin, changeMap, changesOutside, thumbnailOf, type Thumbnail } from './frame.changes.ts';

/** A 640x480 frame of a grey floor with some noise, as video compression leaves it, and `people` drawn as dark rectangles [x, y, w, h]. */
function floorWith(people: Array<[number, number, number, number]>, seed = 1): RgbFrame {
  const width = 640;
  const height = 480;
  const data = new Uint8Array(width * height * 3);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    data[i] = 120 + (state % 7) - 3;
  }
  for (const [x0, y0, w, h] of people)
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) data.fill(40, (y * width + x) * 3, (y * width + x) * 3 + 3);
  return { width, height, data };
}

/** What changed outside `known` between two thumbnails. */
const outside = (before: Thumbnail, now: Thumbnail, known: Array<[number, number, number, number]>) => {
  const map = changeMap(before, now);
  assert.ok(map, 'thumbnails of one size');
  return changesOutside(map, known);
};

test('a still scene with compression noise has changed nowhere; a newcomer shows as one box round them', () => {
  const before = thumbnailOf(floorWith([], 1));
  assert.deepEqual([before.width, before.height], [160, 120], 'one sample every 4 px');
  assert.deepEqual(outside(before, thumbnailOf(floorWith([], 2)), []), [], 'the noise of another frame of the same floor');
  const changes = outside(before, thumbnailOf(floorWith([[500, 200, 40, 100]], 2)), []);
  assert.equal(changes.length, 1);
  const [x, y, w, h] = changes[0];
  assert.ok(x <= 500 && y <= 200 && x + w >= 540 && y + h >= 300, `the box holds the newcomer, got ${changes[0]}`);
  assert.ok(w <= 40 + 32 && h <= 100 + 32, `and not much more, got ${changes[0]}`);
});

test('changes inside the windows round known people, and specks of a cell, are not reported outside them; thumbnails of two sizes cannot be compared', () => {
  const before = thumbnailOf(floorWith([[100, 100, 40, 100]]));
  // The known person stepped right; a speck (one 16 px cell) changed elsewhere.
  const now = thumbnailOf(floorWith([[130, 100, 40, 100], [400, 400, 12, 12]]));
  assert.deepEqual(outside(before, now, [[20, 50, 240, 200]]), []);
  assert.equal(outside(before, now, []).length, 1, 'without the window, the step is a change');
  const small = thumbnailOf({ width: 320, height: 240, data: new Uint8Array(320 * 240 * 3) });
  assert.equal(changeMap(before, small), null);
});

test('two newcomers apart are two boxes', () => {
  const before = thumbnailOf(floorWith([]));
  const changes = outside(before, thumbnailOf(floorWith([[20, 20, 40, 80], [560, 380, 40, 80]])), []);
  assert.equal(changes.length, 2);
});

test('whether anything changed within a box: where someone moved, not where someone stood still', () => {
  const before = thumbnailOf(floorWith([[100, 100, 40, 100], [400, 100, 40, 100]], 1));
  const map = changeMap(before, thumbnailOf(floorWith([[110, 100, 40, 100], [400, 100, 40, 100]], 2)));
  assert.ok(map);
  assert.equal(changedWithin(map, [90, 90, 70, 120]), true, 'the one who stepped right');
  assert.equal(changedWithin(map, [390, 90, 60, 120]), false, 'the one who stood still');
  assert.equal(changedWithin(map, [-50, -50, 20, 20]), false, 'off the frame');
});
