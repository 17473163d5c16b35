import test from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../contracts/index.ts';
import { projectPoint } from './camera.ts';
import { NO_LENS, cornerCameras, seededRandom, syntheticCamera } from './camera.fixture.ts';
import { distance3 } from './linalg.ts';
import { triangulate, triangulateLinear, type Observation } from './triangulate.ts';

/** Noiseless views must give the point back to a micrometre (the brief's bar). */
const EXACT_TOLERANCE_M = 1e-6;

/** Points a shopper's joints could be at: over the floor of the 10 x 8 m store, up to 2 m high. */
function storePoints(count: number, seed: number): Vec3[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => [1 + random() * 8, 1 + random() * 6, random() * 2] as Vec3);
}

function observe(cameras: ReturnType<typeof cornerCameras>, point: Vec3, noisePx = 0, random = Math.random): Observation[] {
  return cameras.map((camera) => {
    const [u, v] = projectPoint(camera, point)!;
    // Sum of two uniforms: a cheap bell-shaped noise with standard deviation noisePx / sqrt(6).
    const noise = () => noisePx * (random() + random() - 1);
    return { camera, pixel: [u + noise(), v + noise()] };
  });
}

for (const views of [2, 3, 4]) {
  test(`noiseless points from ${views} distorted views triangulate exactly, with zero reprojection error`, () => {
    const cameras = cornerCameras().slice(0, views);
    for (const point of storePoints(100, views)) {
      const result = triangulate(observe(cameras, point))!;
      assert.ok(result, `no triangulation for ${point}`);
      assert.ok(distance3(result.point, point) < EXACT_TOLERANCE_M, `${result.point} vs ${point}`);
      assert.equal(result.reprojectionErrorsPx.length, views);
      for (const error of result.reprojectionErrorsPx) assert.ok(error < 1e-6, `reprojection error ${error} px`);
    }
  });
}

test('the linear estimate alone is exact for noiseless views, pinhole or distorted, so refinement has nothing to do', () => {
  const point: Vec3 = [3.3, 5.1, 1.2];
  // Pinhole: undistorted normalised coordinates are exact, so the DLT has an exact solution.
  const pinhole = triangulateLinear(observe(cornerCameras(NO_LENS), point))!;
  assert.ok(distance3(pinhole, point) < EXACT_TOLERANCE_M);
  // Through the lens too, because triangulateLinear undistorts the pixels first.
  const result = triangulate(observe(cornerCameras(), point))!;
  assert.ok(distance3(result.linearPoint, point) < EXACT_TOLERANCE_M);
  assert.ok(result.refinementSteps <= 2);
});

test('with pixel noise, Gauss-Newton lowers the reprojection error below the DLT and lands near the truth', () => {
  const cameras = cornerCameras();
  const random = seededRandom(42);
  let refinedBetter = 0;
  let worstErrorM = 0;
  const points = storePoints(200, 11);
  for (const point of points) {
    const observations = observe(cameras, point, 1.0, random);
    const result = triangulate(observations)!;
    const sumSquares = (p: Vec3) =>
      observations.reduce((s, { camera, pixel }) => {
        const q = projectPoint(camera, p)!;
        return s + (q[0] - pixel[0]) ** 2 + (q[1] - pixel[1]) ** 2;
      }, 0);
    const refined = sumSquares(result.point);
    const linear = sumSquares(result.linearPoint);
    assert.ok(refined <= linear + 1e-12, `refinement made it worse: ${refined} > ${linear}`);
    if (refined < linear) refinedBetter++;
    // The minimum: no small move in any direction lowers the error.
    for (const axis of [0, 1, 2])
      for (const sign of [-1, 1]) {
        const moved = [...result.point] as Vec3;
        moved[axis] += sign * 1e-5;
        assert.ok(sumSquares(moved) >= refined - 1e-9, `not a minimum along axis ${axis}`);
      }
    worstErrorM = Math.max(worstErrorM, distance3(result.point, point));
  }
  assert.ok(refinedBetter > points.length * 0.9, `refinement helped only ${refinedBetter} of ${points.length}`);
  // Up to 1 px of noise at 3 to 11 m with f = 1,100 px is up to 1 cm across one ray; four well-spread
  // views should keep every point within a couple of centimetres.
  assert.ok(worstErrorM < 0.02, `worst error ${worstErrorM} m`);
});

test('per-view reprojection errors are reported in the order given, and catch the odd view out', () => {
  const cameras = cornerCameras();
  const point: Vec3 = [4, 4, 1];
  const observations = observe(cameras, point);
  observations[2] = { ...observations[2], pixel: [observations[2].pixel[0] + 6, observations[2].pixel[1]] };
  const result = triangulate(observations)!;
  const worst = result.reprojectionErrorsPx.indexOf(Math.max(...result.reprojectionErrorsPx));
  assert.equal(worst, 2);
  assert.ok(Math.abs(result.meanReprojectionErrorPx - result.reprojectionErrorsPx.reduce((a, b) => a + b) / 4) < 1e-12);
});

test('a view weighted low pulls the point less: weights scale each view in both the linear estimate and the refinement', () => {
  const cameras = cornerCameras();
  const point: Vec3 = [4, 4, 1];
  const observations = observe(cameras, point);
  observations[2] = { ...observations[2], pixel: [observations[2].pixel[0] + 12, observations[2].pixel[1] - 8] };
  const even = triangulate(observations)!;
  const weighted = triangulate(observations.map((o, i) => ({ ...o, weight: i === 2 ? 0.1 : 0.9 })))!;
  assert.ok(distance3(weighted.point, point) < distance3(even.point, point) / 3, `${distance3(weighted.point, point)} m against ${distance3(even.point, point)} m`);
  // The linear estimate alone weighs them too.
  const linear = triangulateLinear(observations.map((o, i) => ({ ...o, weight: i === 2 ? 0.1 : 0.9 })))!;
  assert.ok(distance3(linear, point) < distance3(triangulateLinear(observations)!, point));
  // Equal weights of any size are no weights at all.
  const equal = triangulate(observations.map((o) => ({ ...o, weight: 0.4 })))!;
  assert.ok(distance3(equal.point, even.point) < EXACT_TOLERANCE_M);
});

test('too few views is a usage error; degenerate geometry gives null', () => {
  const [a] = cornerCameras();
  const point: Vec3 = [5, 4, 1];
  assert.throws(() => triangulate(observe([a], point)), /at least 2 views/);
  // Two sightings from one camera centre fix a direction, not a point.
  assert.equal(triangulate([...observe([a], point), ...observe([a], point)]), null);
  // Two cameras side by side looking along +x whose rays splay apart: the lines meet 5 m behind them.
  const left = syntheticCamera({ eye: [0, 0, 2], target: [10, 0, 2], distortion: NO_LENS });
  const right = syntheticCamera({ eye: [0, 1, 2], target: [10, 1, 2], distortion: NO_LENS });
  const { fx, cx, cy } = left.intrinsics;
  const splayed: Observation[] = [
    { camera: left, pixel: [cx + 0.1 * fx, cy] }, // image right is store -y
    { camera: right, pixel: [cx - 0.1 * fx, cy] },
  ];
  assert.equal(triangulate(splayed), null);
  // The same pixels swapped converge 5 m in front, as a check that the setup is what it claims.
  const converging = triangulate([
    { camera: left, pixel: splayed[1].pixel },
    { camera: right, pixel: splayed[0].pixel },
  ])!;
  assert.ok(distance3(converging.point, [5, 0.5, 2]) < EXACT_TOLERANCE_M, `${converging.point}`);
});
