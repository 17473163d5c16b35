import type { PixelRect } from './camera.rays.ts';

/**
 * A real camera never records a pixel-sharp edge: lens, anti-aliasing filter and demosaicing spread
 * a point over about a pixel. A ray-cast image without that has stair-step edges no photo has, and
 * pose models trained on photos find fewer keypoints in it (measured on the kiosk renders: blurring
 * lifted MoveNet's keypoint recall from 0.73 to 0.82). The point spread here is the separable
 * 3-tap kernel [w, 1 - 2w, w]; w = 0.25 is a binomial kernel, a Gaussian of sigma about 0.7 px.
 */
export const DEFAULT_BLUR_WEIGHT = 0.25;

/**
 * Writes into `dst` the blurred `src` inside `rect` (inclusive), reading src one pixel beyond it
 * (edges clamp). src and dst are packed RGB of the same size and must not be the same buffer.
 */
export function blurRegion(src: Uint8Array, dst: Uint8Array, width: number, height: number, rect: PixelRect, weight = DEFAULT_BLUR_WEIGHT): void {
  const centre = 1 - 2 * weight;
  const ry0 = Math.max(0, rect.y0 - 1);
  const ry1 = Math.min(height - 1, rect.y1 + 1);
  const cols = rect.x1 - rect.x0 + 1;
  const rows = ry1 - ry0 + 1;
  // Horizontal pass over the rows the vertical pass will read.
  const tmp = new Float32Array(rows * cols * 3);
  for (let y = ry0; y <= ry1; y++) {
    const rowBase = y * width;
    const tRow = (y - ry0) * cols * 3;
    for (let x = rect.x0; x <= rect.x1; x++) {
      const i = (rowBase + x) * 3;
      const l = x > 0 ? i - 3 : i;
      const r = x < width - 1 ? i + 3 : i;
      const t = tRow + (x - rect.x0) * 3;
      tmp[t] = weight * (src[l] + src[r]) + centre * src[i];
      tmp[t + 1] = weight * (src[l + 1] + src[r + 1]) + centre * src[i + 1];
      tmp[t + 2] = weight * (src[l + 2] + src[r + 2]) + centre * src[i + 2];
    }
  }
  const stride = cols * 3;
  for (let y = rect.y0; y <= rect.y1; y++) {
    const t = (y - ry0) * stride;
    const up = y > 0 ? t - stride : t;
    const down = y < height - 1 ? t + stride : t;
    let o = (y * width + rect.x0) * 3;
    for (let k = 0; k < stride; k++, o++) dst[o] = (weight * (tmp[up + k] + tmp[down + k]) + centre * tmp[t + k] + 0.5) | 0;
  }
}
