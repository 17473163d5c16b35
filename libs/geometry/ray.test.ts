import test from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../contracts/index.ts';
import { cameraCentre, projectPoint, worldToCamera } from './camera.ts';
import { NO_LENS, pixelGrid, seededRandom, syntheticCamera } from './camera.fixture.ts';
import { cross3, distance3, dot3, norm3, sub3 } from './linalg.ts';
import { pointOnRay, unproject, unprojectAtDepth } from './ray.ts';

/** Micrometres: the round trip is limited only by floating point at store distances. */
const POINT_TOLERANCE_M = 1e-9;

/** Store points in front of the synthetic camera, spread over its view. */
function pointsInView(count: number): Vec3[] {
  const camera = syntheticCamera();
  const random = seededRandom(7);
  const points: Vec3[] = [];
  while (points.length < count) {
    const p: Vec3 = [random() * 10, random() * 8, random() * 2.2];
    const pixel = projectPoint(camera, p);
    if (pixel && pixel[0] >= 0 && pixel[1] >= 0 && pixel[0] < camera.width && pixel[1] < camera.height) points.push(p);
  }
  return points;
}

test('the ray through a projected point starts at the camera centre and passes through the point', () => {
  const camera = syntheticCamera();
  for (const point of pointsInView(200)) {
    const ray = unproject(camera, projectPoint(camera, point)!)!;
    assert.deepEqual(ray.origin, cameraCentre(camera));
    assert.ok(Math.abs(norm3(ray.direction) - 1) < 1e-15);
    const toPoint = sub3(point, ray.origin);
    assert.ok(dot3(toPoint, ray.direction) > 0, 'the ray points into the scene, not behind the camera');
    // Distance from the point to the line: |toPoint x direction|.
    assert.ok(norm3(cross3(toPoint, ray.direction)) < POINT_TOLERANCE_M, `point ${point} is off its ray`);
    assert.ok(distance3(pointOnRay(ray, norm3(toPoint)), point) < POINT_TOLERANCE_M);
  }
});

test('unprojectAtDepth with the camera-frame depth recovers the store point', () => {
  const camera = syntheticCamera();
  for (const point of pointsInView(200)) {
    const depthM = worldToCamera(camera, point)[2];
    const back = unprojectAtDepth(camera, projectPoint(camera, point)!, depthM)!;
    assert.ok(distance3(back, point) < POINT_TOLERANCE_M, `${back} vs ${point}`);
  }
});

test('project(unproject(pixel)) returns every pixel of the image', () => {
  const camera = syntheticCamera();
  for (const pixel of pixelGrid(camera)) {
    const ray = unproject(camera, pixel)!;
    const back = projectPoint(camera, pointOnRay(ray, 3.7))!;
    assert.ok(Math.hypot(back[0] - pixel[0], back[1] - pixel[1]) < 1e-6, `${pixel} came back as ${back}`);
  }
});

test('the principal point of a pinhole camera looks along the optical axis, towards its target', () => {
  const target: Vec3 = [4, 3, 0];
  const eye: Vec3 = [1, -2, 3.2];
  const camera = syntheticCamera({ eye, target, distortion: NO_LENS });
  const ray = unproject(camera, [camera.intrinsics.cx, camera.intrinsics.cy])!;
  const expected = sub3(target, eye).map((v) => v / distance3(target, eye));
  ray.direction.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12));
});

test('a pixel past the fold of the lens has no ray', () => {
  const camera = syntheticCamera({ focalPx: 200 }); // corners far past the fold of the strong lens
  assert.equal(unproject(camera, [0, 0]), null);
  assert.equal(unprojectAtDepth(camera, [0, 0], 2), null);
});
