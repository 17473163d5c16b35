import type { Camera, Vec3 } from '../contracts/index.ts';

/**
 * The camera model every part of the project shares: OpenCV's pinhole with radial (k1, k2, k3) and
 * tangential (p1, p2) distortion, extrinsics as world-to-camera [R|t].
 */

export type Mat3 = [Vec3, Vec3, Vec3];

/** World point to camera frame: x_cam = R x_world + t. */
export function worldToCamera(camera: Camera, p: Vec3): Vec3 {
  const R = camera.pose.rotation;
  const t = camera.pose.translation;
  return [
    R[0][0] * p[0] + R[0][1] * p[1] + R[0][2] * p[2] + t[0],
    R[1][0] * p[0] + R[1][1] * p[1] + R[1][2] * p[2] + t[1],
    R[2][0] * p[0] + R[2][1] * p[1] + R[2][2] * p[2] + t[2],
  ];
}

// The store checks need the camera centre too, and contracts sits below geometry: one implementation, there.
export { cameraCentre } from '../contracts/store.frame.ts';

/** Applies lens distortion to normalised image coordinates (x/z, y/z). */
export function distortNormalised(camera: Camera, x: number, y: number): [number, number] {
  const { k1, k2, p1, p2, k3 } = camera.distortion;
  const r2 = x * x + y * y;
  const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
  return [x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x), y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y];
}

/**
 * Projects a store-frame point to pixels, with distortion. Returns null for points behind the camera.
 * The pixel may fall outside the image; callers decide what "in view" means.
 */
export function projectPoint(camera: Camera, p: Vec3): [number, number] | null {
  const [xc, yc, zc] = worldToCamera(camera, p);
  if (zc <= 1e-6) return null;
  const [xd, yd] = distortNormalised(camera, xc / zc, yc / zc);
  const { fx, fy, cx, cy } = camera.intrinsics;
  return [fx * xd + cx, fy * yd + cy];
}

export function inImage(camera: Camera, px: [number, number] | null, marginPx = 0): px is [number, number] {
  return !!px && px[0] >= -marginPx && px[1] >= -marginPx && px[0] < camera.width + marginPx && px[1] < camera.height + marginPx;
}

/**
 * A world-to-camera pose for a camera at `eye` looking at `target`, image x to the right and image y
 * down (OpenCV). `up` is the store's up direction by default.
 */
export function lookAt(eye: Vec3, target: Vec3, up: Vec3 = [0, 0, 1]): { rotation: Mat3; translation: Vec3 } {
  const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const norm = (a: Vec3): Vec3 => {
    const l = Math.hypot(a[0], a[1], a[2]);
    if (l < 1e-12) throw new Error('lookAt: degenerate direction');
    return [a[0] / l, a[1] / l, a[2] / l];
  };
  const forward = norm(sub(target, eye)); // camera +z
  let right = cross(forward, up); // camera +x
  if (Math.hypot(...right) < 1e-9) right = cross(forward, [0, 1, 0]);
  right = norm(right);
  const down = cross(forward, right); // camera +y
  const rotation: Mat3 = [right, down, forward];
  const translation: Vec3 = [
    -(right[0] * eye[0] + right[1] * eye[1] + right[2] * eye[2]),
    -(down[0] * eye[0] + down[1] * eye[1] + down[2] * eye[2]),
    -(forward[0] * eye[0] + forward[1] * eye[1] + forward[2] * eye[2]),
  ];
  return { rotation, translation };
}
