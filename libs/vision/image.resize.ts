import type { RgbFrame } from '../video/rgb.frame.ts';

/**
 * Area resampling of an RGB frame: every output pixel is the mean of the input area it covers.
 * Shrinking 640 px to 256 by bilinear sampling would read 2 of every 5 columns and let thin limbs
 * flicker in and out; averaging keeps every input pixel's contribution. Separable: rows, then columns.
 */

interface Taps {
  /** First input index per output index. */
  start: Int32Array;
  count: Int32Array;
  /** Weights, `maxTaps` per output index. */
  weight: Float32Array;
  maxTaps: number;
}

function areaTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const maxTaps = Math.ceil(scale) + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weight = new Float32Array(outSize * maxTaps);
  for (let o = 0; o < outSize; o++) {
    const from = o * scale;
    const to = Math.min(inSize, (o + 1) * scale);
    const first = Math.floor(from);
    let n = 0;
    for (let i = first; i < to && n < maxTaps; i++, n++) {
      const covered = Math.min(to, i + 1) - Math.max(from, i);
      weight[o * maxTaps + n] = covered / (to - from);
    }
    start[o] = first;
    count[o] = n;
  }
  return { start, count, weight, maxTaps };
}

/** The horizontal pass's floats, kept between calls (the resize is synchronous): a scout's are 1.5 MB a frame. */
let rowsScratch = new Float32Array(0);

/**
 * The frame shrunk (or grown) to outWidth x outHeight, written into the top-left of an
 * padWidth x padHeight int32 RGB canvas whose rest is 0 (black letterbox). Written into `into`
 * when it has the canvas's length (an array to reuse, whatever it holds: its padding is cleared).
 */
export function resizeAreaInt32(frame: RgbFrame, outWidth: number, outHeight: number, padWidth: number, padHeight: number, into?: Int32Array): Int32Array {
  const { width, height, data } = frame;
  const reused = into?.length === padWidth * padHeight * 3;
  const out = reused ? into : new Int32Array(padWidth * padHeight * 3);
  if (reused) {
    for (let y = 0; y < outHeight; y++) out.fill(0, (y * padWidth + outWidth) * 3, (y + 1) * padWidth * 3);
    out.fill(0, outHeight * padWidth * 3);
  }
  if (outWidth === width && outHeight === height) {
    // Same size: every output pixel covers exactly one input pixel, so the mean is that pixel.
    for (let y = 0; y < height; y++) out.set(data.subarray(y * width * 3, (y + 1) * width * 3), y * padWidth * 3);
    return out;
  }
  const { start: hStart, count: hCount, weight: hWeight, maxTaps: hTaps } = areaTaps(width, outWidth);
  const { start: vStart, count: vCount, weight: vWeight, maxTaps: vTaps } = areaTaps(height, outHeight);
  // Horizontal pass into floats: height x outWidth x 3.
  if (rowsScratch.length < height * outWidth * 3) rowsScratch = new Float32Array(height * outWidth * 3);
  const rows = rowsScratch;
  for (let y = 0; y < height; y++) {
    const inRow = y * width * 3;
    const outRow = y * outWidth * 3;
    for (let x = 0; x < outWidth; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const base = x * hTaps;
      const taps = hCount[x];
      let i = inRow + hStart[x] * 3;
      for (let k = 0; k < taps; k++, i += 3) {
        const w = hWeight[base + k];
        r += data[i] * w;
        g += data[i + 1] * w;
        b += data[i + 2] * w;
      }
      rows[outRow + x * 3] = r;
      rows[outRow + x * 3 + 1] = g;
      rows[outRow + x * 3 + 2] = b;
    }
  }
  const rowLength = outWidth * 3;
  for (let y = 0; y < outHeight; y++) {
    const base = y * vTaps;
    const taps = vCount[y];
    const first = vStart[y] * rowLength;
    const outRow = y * padWidth * 3;
    for (let x = 0; x < rowLength; x++) {
      let sum = 0;
      for (let k = 0, i = first + x; k < taps; k++, i += rowLength) sum += rows[i] * vWeight[base + k];
      // Means of 0 to 255: rounded as Math.round rounds them, and cheaper in V8.
      out[outRow + x] = Math.floor(sum + 0.5);
    }
  }
  return out;
}

/**
 * A square window of the frame centred on (centreX, centreY), `side` frame pixels across and turned
 * by `angleRad` (the window's own up, -y, points along (sin a, -cos a) in the frame), resampled
 * bilinearly to size x size int32 RGB; what lies past the frame's edges reads as black. A window
 * pixel (u, v) comes from frame point centre + R(a) ((u + 0.5) s - side/2, (v + 0.5) s - side/2),
 * s = side / size: `fromRotatedCrop` maps results back the same way. Written into `into` when it
 * has the window's length (an array to reuse, whatever it holds).
 */
export function cropRotatedInt32(frame: RgbFrame, centreX: number, centreY: number, side: number, angleRad: number, size: number, into?: Int32Array): Int32Array {
  const { width, height, data } = frame;
  // Every pixel of the window is written below, so `into` may hold anything.
  const out = into?.length === size * size * 3 ? into : new Int32Array(size * size * 3);
  const step = side / size;
  const cos = Math.cos(angleRad);
  const sin = Math.sin(angleRad);
  // Each column's turned offset, once for all rows (the same products as computed in place).
  const cosX = new Float64Array(size);
  const sinX = new Float64Array(size);
  for (let ox = 0; ox < size; ox++) {
    const dx = (ox + 0.5) * step - side / 2;
    cosX[ox] = cos * dx;
    sinX[ox] = sin * dx;
  }
  for (let oy = 0; oy < size; oy++) {
    const dy = (oy + 0.5) * step - side / 2;
    const sinY = sin * dy;
    const cosY = cos * dy;
    for (let ox = 0; ox < size; ox++) {
      // In frame pixel-centre coordinates.
      const fx = centreX + cosX[ox] - sinY - 0.5;
      const fy = centreY + sinX[ox] + cosY - 0.5;
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const wx = fx - x0;
      const wy = fy - y0;
      const o = (oy * size + ox) * 3;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
        // All four neighbours inside the frame, as in most of a window: no edge to test. For
        // values of 0 to 255, floor(v + 0.5) rounds as Math.round does, and costs V8 far less.
        const a = (y0 * width + x0) * 3;
        const c = a + width * 3;
        const [vx, vy] = [1 - wx, 1 - wy];
        out[o] = Math.floor((data[a] * vx + data[a + 3] * wx) * vy + (data[c] * vx + data[c + 3] * wx) * wy + 0.5);
        out[o + 1] = Math.floor((data[a + 1] * vx + data[a + 4] * wx) * vy + (data[c + 1] * vx + data[c + 4] * wx) * wy + 0.5);
        out[o + 2] = Math.floor((data[a + 2] * vx + data[a + 5] * wx) * vy + (data[c + 2] * vx + data[c + 5] * wx) * wy + 0.5);
        continue;
      }
      // The four neighbours' offsets in the frame, -1 past its edges (read as black).
      const left = x0 >= 0 && x0 < width;
      const right = x0 + 1 >= 0 && x0 + 1 < width;
      const top = y0 >= 0 && y0 < height;
      const bottom = y0 + 1 >= 0 && y0 + 1 < height;
      const row = y0 * width + x0;
      const a = top && left ? row * 3 : -1;
      const b = top && right ? (row + 1) * 3 : -1;
      const c = bottom && left ? (row + width) * 3 : -1;
      const d = bottom && right ? (row + width + 1) * 3 : -1;
      for (let ch = 0; ch < 3; ch++) {
        const upper = (a < 0 ? 0 : data[a + ch]) * (1 - wx) + (b < 0 ? 0 : data[b + ch]) * wx;
        const lower = (c < 0 ? 0 : data[c + ch]) * (1 - wx) + (d < 0 ? 0 : data[d + ch]) * wx;
        out[o + ch] = Math.round(upper * (1 - wy) + lower * wy);
      }
    }
  }
  return out;
}

/** A point in a window cut by cropRotatedInt32 (its pixel units, 0..size) back in the frame's pixels. */
export function fromRotatedCrop(x: number, y: number, centreX: number, centreY: number, side: number, angleRad: number, size: number): [number, number] {
  const step = side / size;
  const dx = x * step - side / 2;
  const dy = y * step - side / 2;
  const cos = Math.cos(angleRad);
  const sin = Math.sin(angleRad);
  return [centreX + cos * dx - sin * dy, centreY + sin * dx + cos * dy];
}
