import type { Box3, Vec3 } from './common.schema.ts';
import type { Camera, Gondola } from './store.schema.ts';

/**
 * Edits of a store description for the tests of the store checks: move one element and nothing
 * else, so that the only fault a check can find is where that element now stands. They change the
 * store in place (a test's own copy, parsed from JSON).
 */

const moved = (box: Box3, by: Vec3): Box3 => ({
  min: [box.min[0] + by[0], box.min[1] + by[1], box.min[2] + by[2]],
  max: [box.max[0] + by[0], box.max[1] + by[1], box.max[2] + by[2]],
});

/** Moves a gondola by `by`, metres, with its plates and lanes, so that they still sit on it. */
export function moveGondola(gondola: Gondola, by: Vec3): void {
  gondola.box = moved(gondola.box, by);
  for (const shelf of gondola.shelves) for (const item of [...shelf.plates, ...shelf.lanes]) item.box = moved(item.box, by);
}

/** Moves a camera by `by`, metres in the store frame, looking the same way: a world-to-camera translation moves by -R times it. */
export function moveCamera(camera: Camera, by: Vec3): void {
  const { rotation, translation } = camera.pose;
  camera.pose.translation = [0, 1, 2].map((row) => translation[row] - (rotation[row][0] * by[0] + rotation[row][1] * by[1] + rotation[row][2] * by[2])) as Vec3;
}
