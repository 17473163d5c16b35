import type { Camera, Vec2, Vec3 } from '../contracts/index.ts';
import { projectPoint, type Mat3 } from './camera.ts';
import type { Pixel } from './lens.ts';
import { mat3Inverse, mat3MulVec } from './linalg.ts';
import { unproject } from './ray.ts';

/**
 * Pixels to the floor and back. Feet touch the floor, products sit on shelf surfaces: both are
 * horizontal planes z = heightM in the store frame, so one pair of functions covers them. The exact
 * path goes through the lens model; the homography is the fast path for an undistorted image.
 */

/**
 * Rays closer to horizontal than this (sine of the angle to the plane) are treated as never meeting
 * it: at 1e-9 a camera 3 m up would meet the floor 3,000 km away.
 */
const PARALLEL_SINE = 1e-9;

/**
 * Where the ray through a distorted pixel meets the horizontal plane z = heightM (metres; 0 is the
 * floor). Null when the pixel looks at or above the horizon of that plane, or is unusable (past the
 * fold of the lens model).
 */
export function pixelToFloor(camera: Camera, pixel: Pixel, heightM = 0): Vec3 | null {
  const ray = unproject(camera, pixel);
  if (!ray) return null;
  const dz = ray.direction[2];
  if (Math.abs(dz) < PARALLEL_SINE) return null;
  const distanceM = (heightM - ray.origin[2]) / dz;
  if (!(distanceM > 0)) return null;
  return [ray.origin[0] + distanceM * ray.direction[0], ray.origin[1] + distanceM * ray.direction[1], heightM];
}

/** The distorted pixel where the point `floorPoint` on the plane z = heightM appears; null if behind the camera. */
export function floorToPixel(camera: Camera, floorPoint: Vec2, heightM = 0): Pixel | null {
  return projectPoint(camera, [floorPoint[0], floorPoint[1], heightM]);
}

/** The two directions of a plane-to-image homography; both act on homogeneous coordinates. */
export interface FloorHomography {
  /** [x, y, 1] on the plane (metres) to homogeneous undistorted pixels: K [r1 r2 (h r3 + t)]. */
  floorToImage: Mat3;
  /** Homogeneous undistorted pixels to [x, y, w] on the plane. */
  imageToFloor: Mat3;
}

/**
 * The homography between the plane z = heightM and the image of an ideal pinhole camera with the same
 * K, R and t (no lens distortion). For a real lens, undistort pixels first (undistortPixel) or use
 * pixelToFloor. Throws when the camera centre lies in the plane, where no homography exists.
 */
export function floorHomography(camera: Camera, heightM = 0): FloorHomography {
  const R = camera.pose.rotation;
  const t = camera.pose.translation;
  const { fx, fy, cx, cy } = camera.intrinsics;
  // Camera-frame point of (x, y, h) is x r1 + y r2 + (h r3 + t), with r_i the columns of R.
  const M: Mat3 = [
    [R[0][0], R[0][1], R[0][2] * heightM + t[0]],
    [R[1][0], R[1][1], R[1][2] * heightM + t[1]],
    [R[2][0], R[2][1], R[2][2] * heightM + t[2]],
  ];
  const floorToImage: Mat3 = [
    [fx * M[0][0] + cx * M[2][0], fx * M[0][1] + cx * M[2][1], fx * M[0][2] + cx * M[2][2]],
    [fy * M[1][0] + cy * M[2][0], fy * M[1][1] + cy * M[2][1], fy * M[1][2] + cy * M[2][2]],
    M[2],
  ];
  const imageToFloor = mat3Inverse(floorToImage);
  if (!imageToFloor) throw new Error(`floorHomography: camera ${camera.id} lies in the plane z = ${heightM} m`);
  return { floorToImage, imageToFloor };
}

/** |w| below this share of the largest homogeneous coordinate puts the point at the horizon. */
const HORIZON_RELATIVE = 1e-12;

/**
 * Applies a homography to a 2D point and dehomogenises. Null on the line at infinity (the horizon).
 * A homography cannot tell points in front of the camera from points behind it; use
 * pixelToFloor / floorToPixel when that matters.
 */
export function applyHomography(H: Mat3, point: [number, number]): [number, number] | null {
  const [x, y, w] = mat3MulVec(H, [point[0], point[1], 1]);
  const scale = Math.max(Math.abs(x), Math.abs(y), Math.abs(w));
  if (!(Math.abs(w) > HORIZON_RELATIVE * scale)) return null;
  return [x / w, y / w];
}

// The store checks need the even-odd test too, and contracts sits below geometry: one implementation, there.
export { insidePolygon } from '../contracts/store.frame.ts';
