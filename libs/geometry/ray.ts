import type { Camera, Vec3 } from '../contracts/index.ts';
import { cameraCentre } from './camera.ts';
import { pixelToNormalised, type Pixel } from './lens.ts';
import { add3, mat3TransposeMulVec, normalize3, scale3 } from './linalg.ts';

/** A half-line in the store frame: everything the pixel could be looking at. */
export interface Ray {
  /** The camera centre, metres. */
  origin: Vec3;
  /** Unit direction, pointing away from the camera into the scene. */
  direction: Vec3;
}

/**
 * The ray in the store frame through a distorted pixel. Null when the pixel lies past the fold of the
 * lens model (see undistortNormalised), which never happens inside the image of a sane calibration.
 */
export function unproject(camera: Camera, pixel: Pixel): Ray | null {
  const normalised = pixelToNormalised(camera, pixel);
  if (!normalised) return null;
  const inCamera: Vec3 = [normalised[0], normalised[1], 1];
  return { origin: cameraCentre(camera), direction: normalize3(mat3TransposeMulVec(camera.pose.rotation, inCamera)) };
}

/**
 * The store-frame point seen at `pixel` at depth `depthM`. Depth is the distance along the camera's
 * optical axis (camera-frame z), the convention of depth cameras and OpenCV depth maps, not the
 * distance along the ray; use pointOnRay for that.
 */
export function unprojectAtDepth(camera: Camera, pixel: Pixel, depthM: number): Vec3 | null {
  const normalised = pixelToNormalised(camera, pixel);
  if (!normalised) return null;
  const inCamera: Vec3 = [normalised[0] * depthM, normalised[1] * depthM, depthM];
  return add3(cameraCentre(camera), mat3TransposeMulVec(camera.pose.rotation, inCamera));
}

/** The point `distanceM` metres along a ray from its origin. */
export function pointOnRay(ray: Ray, distanceM: number): Vec3 {
  return add3(ray.origin, scale3(ray.direction, distanceM));
}
