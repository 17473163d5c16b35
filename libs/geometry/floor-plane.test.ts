import test from 'node:test';
import assert from 'node:assert/strict';
import type { Vec2 } from '../contracts/index.ts';
import { projectPoint } from './camera.ts';
import { NO_LENS, pixelGrid, syntheticCamera } from './camera.fixture.ts';
import { applyHomography, floorHomography, floorToPixel, pixelToFloor } from './floor-plane.ts';
import { undistortPixel } from './lens.ts';

const ROUND_TRIP_TOLERANCE_PX = 1e-6;
const FLOOR_TOLERANCE_M = 1e-9;
/** A shelf surface, to check planes other than the floor. */
const SHELF_HEIGHT_M = 1.35;

test('pixel -> floor -> pixel returns every floor-seeing pixel of a distorted camera', () => {
  const camera = syntheticCamera();
  let onFloor = 0;
  for (const pixel of pixelGrid(camera)) {
    const floor = pixelToFloor(camera, pixel);
    if (!floor) continue;
    onFloor++;
    assert.equal(floor[2], 0);
    const back = floorToPixel(camera, [floor[0], floor[1]])!;
    assert.ok(Math.hypot(back[0] - pixel[0], back[1] - pixel[1]) < ROUND_TRIP_TOLERANCE_PX, `${pixel} came back as ${back}`);
  }
  // The camera looks down at 30 degrees: most of the image is floor, the top rows are above the horizon.
  assert.ok(onFloor > 400, `only ${onFloor} of 625 pixels see the floor`);
});

test('floor -> pixel -> floor returns the floor point, on the floor and on a shelf-height plane', () => {
  const camera = syntheticCamera();
  for (const heightM of [0, SHELF_HEIGHT_M])
    for (let x = 2; x <= 8; x += 0.5)
      for (let y = 1; y <= 7; y += 0.5) {
        const pixel = floorToPixel(camera, [x, y], heightM);
        if (!pixel || pixel[0] < 0 || pixel[1] < 0 || pixel[0] >= camera.width || pixel[1] >= camera.height) continue;
        const back = pixelToFloor(camera, pixel, heightM)!;
        assert.ok(Math.hypot(back[0] - x, back[1] - y) < FLOOR_TOLERANCE_M, `(${x}, ${y}) came back as ${back}`);
        assert.equal(back[2], heightM);
      }
});

test('pixels at or above the horizon, and planes above the camera, give no floor point', () => {
  const camera = syntheticCamera({ eye: [0, 0, 3], target: [10, 0, 3] }); // looking level
  assert.equal(pixelToFloor(camera, [camera.intrinsics.cx, 10]), null, 'above the horizon');
  assert.ok(pixelToFloor(camera, [camera.intrinsics.cx, 1000]), 'below the horizon sees the floor');
  assert.equal(pixelToFloor(camera, [camera.intrinsics.cx, 1000], 4), null, 'a plane above the camera is not seen looking down');
});

test('the floor homography of a pinhole camera agrees with projectPoint, both ways', () => {
  const camera = syntheticCamera({ distortion: NO_LENS });
  for (const heightM of [0, SHELF_HEIGHT_M]) {
    const { floorToImage, imageToFloor } = floorHomography(camera, heightM);
    for (const floor of [
      [3, 2],
      [5.5, 4.1],
      [7, 6.5],
      [2.2, 5],
    ] as Vec2[]) {
      const expected = projectPoint(camera, [floor[0], floor[1], heightM])!;
      const viaH = applyHomography(floorToImage, floor)!;
      assert.ok(Math.hypot(viaH[0] - expected[0], viaH[1] - expected[1]) < 1e-9);
      const back = applyHomography(imageToFloor, expected)!;
      assert.ok(Math.hypot(back[0] - floor[0], back[1] - floor[1]) < FLOOR_TOLERANCE_M);
    }
  }
});

test('for a distorted camera, undistortPixel then the homography matches pixelToFloor', () => {
  const camera = syntheticCamera();
  const { imageToFloor } = floorHomography(camera);
  for (const pixel of pixelGrid(camera, 10)) {
    const exact = pixelToFloor(camera, pixel);
    if (!exact) continue;
    const viaH = applyHomography(imageToFloor, undistortPixel(camera, pixel)!)!;
    assert.ok(Math.hypot(viaH[0] - exact[0], viaH[1] - exact[1]) < FLOOR_TOLERANCE_M * 10, `${pixel}: ${viaH} vs ${exact}`);
  }
});

test('a camera lying in the plane has no floor homography', () => {
  const camera = syntheticCamera({ eye: [0, 0, 0], target: [5, 0, 0] });
  assert.throws(() => floorHomography(camera), /lies in the plane z = 0/);
});
