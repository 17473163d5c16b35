import test from 'node:test';
import assert from 'node:assert/strict';
import type { Camera } from '../contracts/index.ts';
import { distortNormalised, projectPoint } from './camera.ts';
import { NO_LENS, STRONG_LENS, pixelGrid, syntheticCamera } from './camera.fixture.ts';
import {
  distortionJacobian,
  distortPixel,
  normalisedToPixel,
  pixelToNormalised,
  undistortNormalised,
  undistortPixel,
} from './lens.ts';

/** The round trip the rest of the pipeline relies on, in pixels. */
const ROUND_TRIP_TOLERANCE_PX = 1e-6;

/** MEVA's two real lens models (G328/G505/G506 and G336/G340/G436), on their own intrinsics. */
const mevaWide: Camera = {
  ...syntheticCamera({ focalPx: 1460.19 }),
  width: 1920,
  height: 1072,
  intrinsics: { fx: 1460.19079702, fy: 1460.19079702, cx: 959.5, cy: 535.5 },
  distortion: { k1: -0.353997555311, k2: 0.122164890204, p1: 0, p2: 0, k3: 0 },
};
const mevaNarrow: Camera = {
  ...mevaWide,
  height: 1080,
  intrinsics: { fx: 2196.4170273, fy: 2196.4170273, cx: 959.5, cy: 539.5 },
  distortion: { k1: -0.188099076566, k2: 0, p1: 0, p2: 0, k3: 0 },
};

const lenses: [string, Camera][] = [
  ['synthetic strong lens with tangential and k3 terms', syntheticCamera()],
  ['MEVA G328 wide lens', mevaWide],
  ['MEVA G336 narrow lens', mevaNarrow],
  ['the synthetic strong lens on a wider view (f = 700 px)', syntheticCamera({ focalPx: 700 })],
];

for (const [name, camera] of lenses) {
  test(`undistort then distort returns every pixel of the image to within 1e-6 px: ${name}`, () => {
    let worst = 0;
    for (const pixel of pixelGrid(camera, 40)) {
      const normalised = pixelToNormalised(camera, pixel);
      assert.ok(normalised, `pixel ${pixel} should undistort`);
      const [xd, yd] = distortNormalised(camera, normalised[0], normalised[1]);
      const back = normalisedToPixel(camera, xd, yd);
      worst = Math.max(worst, Math.hypot(back[0] - pixel[0], back[1] - pixel[1]));
    }
    assert.ok(worst < ROUND_TRIP_TOLERANCE_PX, `worst round trip ${worst} px`);
  });

  test(`distort then undistort recovers the normalised point: ${name}`, () => {
    // Undistorted points spread over K^-1 of the frame (barrel distortion pulls their images inward).
    for (const pixel of pixelGrid(camera, 20)) {
      const ideal: [number, number] = [(pixel[0] - camera.intrinsics.cx) / camera.intrinsics.fx, (pixel[1] - camera.intrinsics.cy) / camera.intrinsics.fy];
      const [xd, yd] = distortNormalised(camera, ideal[0], ideal[1]);
      const back = undistortNormalised(camera, xd, yd);
      assert.ok(back);
      assert.ok(Math.hypot(back[0] - ideal[0], back[1] - ideal[1]) < 1e-12, `at ${ideal}: got ${back}`);
    }
  });
}

test('undistortPixel and distortPixel are inverses, and undistortPixel matches a pinhole projection', () => {
  const camera = syntheticCamera();
  const pinhole = { ...camera, distortion: NO_LENS };
  for (const pixel of pixelGrid(camera, 12)) {
    const ideal = undistortPixel(camera, pixel)!;
    const back = distortPixel(camera, ideal);
    assert.ok(Math.hypot(back[0] - pixel[0], back[1] - pixel[1]) < ROUND_TRIP_TOLERANCE_PX);
  }
  // A store point seen through the real lens, undistorted, lands where the pinhole camera sees it.
  const point: [number, number, number] = [2.5, 1.2, 0.4];
  const seen = projectPoint(camera, point)!;
  const expected = projectPoint(pinhole, point)!;
  const got = undistortPixel(camera, seen)!;
  assert.ok(Math.hypot(got[0] - expected[0], got[1] - expected[1]) < ROUND_TRIP_TOLERANCE_PX);
});

test('a camera without distortion undistorts to exactly the inverse of K', () => {
  const camera = syntheticCamera({ distortion: NO_LENS });
  const [x, y] = pixelToNormalised(camera, [100, 900])!;
  assert.equal(x, (100 - camera.intrinsics.cx) / camera.intrinsics.fx);
  assert.equal(y, (900 - camera.intrinsics.cy) / camera.intrinsics.fy);
});

test('a pixel past the fold of the lens model has no undistortion', () => {
  // r_d = r (1 + k1 r^2) with k1 = -0.188 peaks at r_d = 0.887 (r = 1.33): nothing real images further out.
  const camera = mevaNarrow;
  assert.equal(undistortNormalised(camera, 0.95, 0), null);
  assert.equal(undistortNormalised(camera, 0.7, 0.7), null);
  // Just inside the peak it still converges, on the inner branch.
  const inside = undistortNormalised(camera, 0.88, 0)!;
  assert.ok(inside[0] < 1.33 && Math.abs(distortNormalised(camera, inside[0], inside[1])[0] - 0.88) < 1e-12);
});

test('distortionJacobian matches finite differences of distortNormalised', () => {
  const camera = syntheticCamera({ distortion: STRONG_LENS });
  const h = 1e-6;
  for (const [x, y] of [
    [0.3, -0.2],
    [-0.7, 0.45],
    [0.05, 0.9],
  ] as const) {
    const J = distortionJacobian(camera, x, y);
    const dx = distortNormalised(camera, x + h, y).map((v, i) => (v - distortNormalised(camera, x - h, y)[i]) / (2 * h));
    const dy = distortNormalised(camera, x, y + h).map((v, i) => (v - distortNormalised(camera, x, y - h)[i]) / (2 * h));
    for (let r = 0; r < 2; r++) {
      assert.ok(Math.abs(J[r][0] - dx[r]) < 1e-8, `d/dx row ${r}: ${J[r][0]} vs ${dx[r]}`);
      assert.ok(Math.abs(J[r][1] - dy[r]) < 1e-8, `d/dy row ${r}: ${J[r][1]} vs ${dy[r]}`);
    }
  }
});
