import type { Camera } from '../contracts/index.ts';
import { distortNormalised } from './camera.ts';

/**
 * Going back through the lens: OpenCV's distortion has no closed-form inverse, so distorted pixels
 * are undistorted by Newton's method on the forward model in camera.ts. Everything downstream that
 * turns a pixel into a direction (rays, floor points, triangulation) starts here.
 */

/** A position in the image, [column, row] in pixels, origin at the top-left pixel's centre (OpenCV). */
export type Pixel = [number, number];

/** Undistorted normalised image coordinates: [X/Z, Y/Z] in the camera frame. */
export type Normalised = [number, number];

/**
 * Newton stops when the forward model lands this close to the distorted point, in normalised units
 * (scaled up for points beyond unit radius, where the ulp grows).
 * 1e-14 is a few ulps at the image corner; with focal lengths of 1,000 to 5,000 px it is far below
 * the 1e-6 px round trip the tests demand, so round trips are limited by floating point, not by us.
 */
const UNDISTORT_TOLERANCE = 1e-14;
/** Newton converges in 3 to 6 steps for real lenses; the cap only stops hopeless (folded) inputs. */
const UNDISTORT_MAX_STEPS = 50;
/** Halvings of a Newton step that would increase the residual before we give up. */
const UNDISTORT_MAX_HALVINGS = 30;

/** Distorted normalised coordinates to pixels: the last step of projectPoint. */
export function normalisedToPixel(camera: Camera, xd: number, yd: number): Pixel {
  const { fx, fy, cx, cy } = camera.intrinsics;
  return [fx * xd + cx, fy * yd + cy];
}

/** Pixels to distorted normalised coordinates (inverse of K only, lens still applied). */
export function pixelToDistortedNormalised(camera: Camera, pixel: Pixel): Normalised {
  const { fx, fy, cx, cy } = camera.intrinsics;
  return [(pixel[0] - cx) / fx, (pixel[1] - cy) / fy];
}

/**
 * The 2x2 Jacobian of distortNormalised at (x, y), row-major [[dxd/dx, dxd/dy], [dyd/dx, dyd/dy]].
 * Shared by the Newton inverse here and by Gauss-Newton triangulation.
 */
export function distortionJacobian(camera: Camera, x: number, y: number): [[number, number], [number, number]] {
  const { k1, k2, p1, p2, k3 } = camera.distortion;
  const r2 = x * x + y * y;
  const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
  const dRadialDr2 = k1 + r2 * (2 * k2 + 3 * k3 * r2);
  const dxdx = radial + 2 * x * x * dRadialDr2 + 2 * p1 * y + 6 * p2 * x;
  const dxdy = 2 * x * y * dRadialDr2 + 2 * p1 * x + 2 * p2 * y;
  const dydx = 2 * x * y * dRadialDr2 + 2 * p1 * x + 2 * p2 * y;
  const dydy = radial + 2 * y * y * dRadialDr2 + 6 * p1 * y + 2 * p2 * x;
  return [
    [dxdx, dxdy],
    [dydx, dydy],
  ];
}

/**
 * Inverse of distortNormalised: the undistorted (x, y) whose distortion is (xd, yd). Returns null
 * when there is none on the lens's usable branch: strong barrel models fold back on themselves past
 * some radius, and a point out there has either no preimage or one the camera never sees through.
 *
 * OpenCV's undistortPoints uses a fixed-point iteration that stalls near the corners of wide lenses;
 * Newton with step halving converges quadratically everywhere the model is invertible.
 */
export function undistortNormalised(camera: Camera, xd: number, yd: number): Normalised | null {
  const { k1, k2, p1, p2, k3 } = camera.distortion;
  if (k1 === 0 && k2 === 0 && p1 === 0 && p2 === 0 && k3 === 0) return [xd, yd];
  let x = xd;
  let y = yd;
  const residual = (px: number, py: number): [number, number] => {
    const [fx, fy] = distortNormalised(camera, px, py);
    return [fx - xd, fy - yd];
  };
  let [ex, ey] = residual(x, y);
  let error = Math.hypot(ex, ey);
  const tolerance = UNDISTORT_TOLERANCE * Math.max(1, Math.hypot(xd, yd));
  for (let step = 0; step < UNDISTORT_MAX_STEPS && error > tolerance; step++) {
    const [[a, b], [c, d]] = distortionJacobian(camera, x, y);
    const det = a * d - b * c;
    if (!(Math.abs(det) > 0)) return null;
    const dx = (d * ex - b * ey) / det;
    const dy = (a * ey - c * ex) / det;
    let factor = 1;
    let halvings = 0;
    for (; halvings <= UNDISTORT_MAX_HALVINGS; halvings++, factor /= 2) {
      const nx = x - factor * dx;
      const ny = y - factor * dy;
      const [rx, ry] = residual(nx, ny);
      const nextError = Math.hypot(rx, ry);
      if (nextError < error) {
        x = nx;
        y = ny;
        ex = rx;
        ey = ry;
        error = nextError;
        break;
      }
    }
    // No step along the Newton direction helps: we are at a fold, not at the answer.
    if (halvings > UNDISTORT_MAX_HALVINGS) break;
  }
  if (!(error <= tolerance)) return null;
  return onUsableBranch(camera, x, y) ? [x, y] : null;
}

/**
 * The usable branch of the lens is where the model still maps outward rays outward and keeps the
 * image's orientation: the radial factor is positive and the Jacobian has a positive determinant.
 * A root past the fold also satisfies distort(x) = xd, but no real ray arrives through it.
 */
function onUsableBranch(camera: Camera, x: number, y: number): boolean {
  const { k1, k2, k3 } = camera.distortion;
  const r2 = x * x + y * y;
  const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
  const [[a, b], [c, d]] = distortionJacobian(camera, x, y);
  return radial > 0 && a * d - b * c > 0;
}

/**
 * A distorted pixel (what the sensor recorded) to undistorted normalised coordinates: the direction
 * [x, y, 1] in the camera frame. Null if the pixel lies past the fold of the lens model.
 */
export function pixelToNormalised(camera: Camera, pixel: Pixel): Normalised | null {
  const [xd, yd] = pixelToDistortedNormalised(camera, pixel);
  return undistortNormalised(camera, xd, yd);
}

/**
 * A distorted pixel to where an ideal pinhole camera with the same K would have seen it. Plane
 * homographies (floorHomography) work in these coordinates.
 */
export function undistortPixel(camera: Camera, pixel: Pixel): Pixel | null {
  const normalised = pixelToNormalised(camera, pixel);
  return normalised && normalisedToPixel(camera, normalised[0], normalised[1]);
}

/** An ideal pinhole pixel back to the distorted pixel the real lens produces (inverse of undistortPixel). */
export function distortPixel(camera: Camera, pixel: Pixel): Pixel {
  const [x, y] = pixelToDistortedNormalised(camera, pixel);
  const [xd, yd] = distortNormalised(camera, x, y);
  return normalisedToPixel(camera, xd, yd);
}
