import type { Vec3 } from '../contracts/index.ts';
import type { Mat3 } from './camera.ts';

/**
 * Rodrigues rotation vectors (OpenCV's rvec): the axis of rotation scaled by the angle in radians.
 * Layouts exported from calibration tools give poses this way; the camera model wants matrices.
 */

/** Below this angle (radians) the rotation is the identity to double precision. */
const NEGLIGIBLE_ANGLE = 1e-12;

/** The rotation matrix of a Rodrigues vector: R = I + sin(θ) K + (1 - cos(θ)) K², K the unit axis's cross-product matrix. */
export function rodriguesToMatrix(vector: Vec3): Mat3 {
  const angle = Math.hypot(vector[0], vector[1], vector[2]);
  if (angle < NEGLIGIBLE_ANGLE)
    return [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
  const [x, y, z] = [vector[0] / angle, vector[1] / angle, vector[2] / angle];
  const sin = Math.sin(angle);
  const versine = 1 - Math.cos(angle);
  return [
    [1 + versine * (x * x - 1), -sin * z + versine * x * y, sin * y + versine * x * z],
    [sin * z + versine * x * y, 1 + versine * (y * y - 1), -sin * x + versine * y * z],
    [-sin * y + versine * x * z, sin * x + versine * y * z, 1 + versine * (z * z - 1)],
  ];
}
