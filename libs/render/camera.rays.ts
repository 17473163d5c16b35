import type { Camera } from '../contracts/index.ts';
import { distortNormalised } from '../geometry/camera.ts';
import { pixelToNormalised } from '../geometry/lens.ts';
import { WalkoutError } from '../contracts/index.ts';

/**
 * The direction every output pixel looks along, through the lens. The renderer casts rays instead
 * of rasterising a pinhole image and warping it: with a per-pixel ray table the distortion is exact
 * and there is no resampling blur, and only the table (computed once per lens) knows about the lens.
 */
export interface CameraRays {
  width: number;
  height: number;
  /** Undistorted normalised coordinates of each pixel centre: the camera-frame ray is (x, y, 1). */
  x: Float32Array;
  y: Float32Array;
}

// The table depends only on image size, intrinsics and distortion, not on where the camera hangs,
// so cameras with the same lens share it (every kiosk camera does).
const cache = new Map<string, CameraRays>();

export function cameraRays(camera: Camera): CameraRays {
  const key = JSON.stringify([camera.width, camera.height, camera.intrinsics, camera.distortion]);
  const cached = cache.get(key);
  if (cached) return cached;
  const { width, height } = camera;
  const x = new Float32Array(width * height);
  const y = new Float32Array(width * height);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      // Pixel centres sit at integer coordinates (OpenCV), as in libs/geometry.
      const n = pixelToNormalised(camera, [col, row]);
      if (!n)
        throw new WalkoutError('CONFIG_INVALID', `camera ${camera.id}: pixel (${col}, ${row}) lies past the fold of its lens model`);
      x[row * width + col] = n[0];
      y[row * width + col] = n[1];
    }
  }
  const rays = { width, height, x, y };
  cache.set(key, rays);
  return rays;
}

/**
 * A camera-frame point to distorted pixels (projectPoint without the extrinsics). Returns false for
 * points at or behind `nearM`; otherwise writes the pixel into `out`.
 */
export function projectCameraPoint(camera: Camera, xc: number, yc: number, zc: number, nearM: number, out: [number, number]): boolean {
  if (zc <= nearM) return false;
  const [xd, yd] = distortNormalised(camera, xc / zc, yc / zc);
  out[0] = camera.intrinsics.fx * xd + camera.intrinsics.cx;
  out[1] = camera.intrinsics.fy * yd + camera.intrinsics.cy;
  return true;
}

/** A pixel rectangle, inclusive bounds. Empty when x1 < x0 or y1 < y0. */
export interface PixelRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Barrel distortion bows straight edges outwards, so the box of projected corners can miss the
 * middle of an edge by a fraction of a pixel for small objects: pad by this much.
 */
const BOUNDS_PAD_PX = 2;

/**
 * The pixels a camera-frame axis-aligned box can cover. A box reaching behind `nearM` covers the
 * whole image as far as we can tell cheaply (the caller's per-pixel test sorts it out).
 */
export function cameraBoxBounds(
  camera: Camera,
  min: [number, number, number],
  max: [number, number, number],
  nearM: number,
): PixelRect | null {
  if (max[2] <= nearM) return null;
  const full = { x0: 0, y0: 0, x1: camera.width - 1, y1: camera.height - 1 };
  if (min[2] <= nearM) return full;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  const px: [number, number] = [0, 0];
  for (let i = 0; i < 8; i++) {
    const xc = i & 1 ? max[0] : min[0];
    const yc = i & 2 ? max[1] : min[1];
    const zc = i & 4 ? max[2] : min[2];
    projectCameraPoint(camera, xc, yc, zc, nearM, px);
    if (px[0] < x0) x0 = px[0];
    if (px[0] > x1) x1 = px[0];
    if (px[1] < y0) y0 = px[1];
    if (px[1] > y1) y1 = px[1];
  }
  return clipRect(
    { x0: Math.floor(x0) - BOUNDS_PAD_PX, y0: Math.floor(y0) - BOUNDS_PAD_PX, x1: Math.ceil(x1) + BOUNDS_PAD_PX, y1: Math.ceil(y1) + BOUNDS_PAD_PX },
    camera.width,
    camera.height,
  );
}

export function clipRect(rect: PixelRect, width: number, height: number): PixelRect | null {
  const out = { x0: Math.max(0, rect.x0), y0: Math.max(0, rect.y0), x1: Math.min(width - 1, rect.x1), y1: Math.min(height - 1, rect.y1) };
  return out.x1 < out.x0 || out.y1 < out.y0 ? null : out;
}

export function unionRect(a: PixelRect | null, b: PixelRect | null): PixelRect | null {
  if (!a) return b;
  if (!b) return a;
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

export function intersectRect(a: PixelRect, b: PixelRect): PixelRect | null {
  const out = { x0: Math.max(a.x0, b.x0), y0: Math.max(a.y0, b.y0), x1: Math.min(a.x1, b.x1), y1: Math.min(a.y1, b.y1) };
  return out.x1 < out.x0 || out.y1 < out.y0 ? null : out;
}

/** Edges of big boxes (gondolas, walls) are sampled this often so the bow of distortion stays inside. */
const EDGE_SAMPLES = 8;

/**
 * The pixels a store-frame axis-aligned box can cover: its edges are sampled, moved into the camera
 * frame and projected through the lens. Null when it lies wholly behind the camera.
 */
export function worldBoxBounds(camera: Camera, min: readonly number[], max: readonly number[], nearM: number): PixelRect | null {
  const R = camera.pose.rotation;
  const t = camera.pose.translation;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  let behind = 0;
  let total = 0;
  const px: [number, number] = [0, 0];
  const visit = (wx: number, wy: number, wz: number) => {
    const xc = R[0][0] * wx + R[0][1] * wy + R[0][2] * wz + t[0];
    const yc = R[1][0] * wx + R[1][1] * wy + R[1][2] * wz + t[1];
    const zc = R[2][0] * wx + R[2][1] * wy + R[2][2] * wz + t[2];
    total++;
    if (!projectCameraPoint(camera, xc, yc, zc, nearM, px)) {
      behind++;
      return;
    }
    if (px[0] < x0) x0 = px[0];
    if (px[0] > x1) x1 = px[0];
    if (px[1] < y0) y0 = px[1];
    if (px[1] > y1) y1 = px[1];
  };
  for (let axis = 0; axis < 3; axis++) {
    const a = (axis + 1) % 3;
    const b = (axis + 2) % 3;
    for (let corner = 0; corner < 4; corner++) {
      const p = [0, 0, 0];
      p[a] = corner & 1 ? max[a] : min[a];
      p[b] = corner & 2 ? max[b] : min[b];
      for (let s = 0; s <= EDGE_SAMPLES; s++) {
        p[axis] = min[axis] + ((max[axis] - min[axis]) * s) / EDGE_SAMPLES;
        visit(p[0], p[1], p[2]);
      }
    }
  }
  if (behind === total) return null;
  if (behind > 0) return { x0: 0, y0: 0, x1: camera.width - 1, y1: camera.height - 1 };
  return clipRect(
    { x0: Math.floor(x0) - BOUNDS_PAD_PX, y0: Math.floor(y0) - BOUNDS_PAD_PX, x1: Math.ceil(x1) + BOUNDS_PAD_PX, y1: Math.ceil(y1) + BOUNDS_PAD_PX },
    camera.width,
    camera.height,
  );
}
