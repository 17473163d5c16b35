import { fileURLToPath } from 'node:url';
import type { Camera, Vec3 } from '../contracts/index.ts';
import { lookAt } from './camera.ts';

/**
 * Synthetic cameras for the geometry tests: a ceiling camera in a small store, with a lens about as
 * strong as MEVA's widest (G328: k1 = -0.354, k2 = 0.122) plus tangential and k3 terms so that every
 * coefficient of the model is exercised.
 */

export const STRONG_LENS: Camera['distortion'] = { k1: -0.32, k2: 0.11, p1: 0.0012, p2: -0.0008, k3: -0.01 };
export const NO_LENS: Camera['distortion'] = { k1: 0, k2: 0, p1: 0, p2: 0, k3: 0 };

export interface SyntheticCameraOptions {
  id?: string;
  eye?: Vec3;
  target?: Vec3;
  distortion?: Camera['distortion'];
  focalPx?: number;
}

/** A 1920x1080 ceiling camera at `eye` looking at `target`, focal length 1,100 px (about 82 degrees wide). */
export function syntheticCamera(options: SyntheticCameraOptions = {}): Camera {
  const focalPx = options.focalPx ?? 1100;
  return {
    id: options.id ?? 'cam-test',
    kind: 'ceiling',
    width: 1920,
    height: 1080,
    fps: 15,
    intrinsics: { fx: focalPx, fy: focalPx * 1.002, cx: 961.3, cy: 538.7 },
    distortion: options.distortion ?? STRONG_LENS,
    pose: lookAt(options.eye ?? [1, -2, 3.2], options.target ?? [4, 3, 0]),
  };
}

/** Four ceiling cameras in the corners of a 10 x 8 m store, 3.2 m up, all looking at its middle. */
export function cornerCameras(distortion: Camera['distortion'] = STRONG_LENS): Camera[] {
  const middle: Vec3 = [5, 4, 0.8];
  return (
    [
      [0.2, 0.2, 3.2],
      [9.8, 0.2, 3.1],
      [9.8, 7.8, 3.3],
      [0.2, 7.8, 3.2],
    ] as Vec3[]
  ).map((eye, i) => syntheticCamera({ id: `cam-${i + 1}`, eye, target: middle, distortion }));
}

/** Evenly spaced pixels over the whole image, corners included. */
export function pixelGrid(camera: Camera, steps = 24): [number, number][] {
  const pixels: [number, number][] = [];
  for (let i = 0; i <= steps; i++)
    for (let j = 0; j <= steps; j++) pixels.push([((camera.width - 1) * i) / steps, ((camera.height - 1) * j) / steps]);
  return pixels;
}

/** A deterministic pseudo-random sequence in [0, 1) (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The MEVA 2018-03 scene model (CC BY 4.0), shipped in fixtures/ with its licence and attribution
 * (fixtures/calibration/meva-2018-03/ATTRIBUTION.md).
 */
export const MEVA_CALIBRATION_DIR = fileURLToPath(new URL('../../fixtures/calibration/meva-2018-03/', import.meta.url));
