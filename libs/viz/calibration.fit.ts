import type { Camera, Gondola, Store, Vec3 } from '../contracts/index.ts';
import { projectPoint } from '../geometry/index.ts';

/**
 * How well a camera's view of the store lines up with a real frame, as a number. The front lips of
 * the shelves are long straight edges in any shop picture; where the calibration and the layout
 * agree, each projected front edge lies on an image edge running the same way. The score is the
 * image gradient across each projected edge (the strongest within a few pixels), averaged over the
 * samples that fall in the frame, divided by the frame's mean gradient: about 1 for a line drawn
 * anywhere, higher where the lines sit on edges of their own direction.
 */

/** A frame as one grey byte a pixel, row by row. */
export interface GreyFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface EdgeFit {
  /** Mean cross-edge gradient at the projected shelf fronts over the frame's mean gradient. */
  score: number;
  /** Share of the edge samples that project into the frame. */
  inFrame: number;
  /** Samples that project into the frame. */
  samples: number;
}

/** Samples per shelf front edge. */
const EDGE_SAMPLES = 40;
/** How far across the projected line the image edge may lie, pixels. */
const SEARCH_PX = 3;

/** The front edge of each shelf surface: the side of the plates' union that faces the shoppers. */
export function shelfFrontEdges(store: Store): Array<[Vec3, Vec3]> {
  const edges: Array<[Vec3, Vec3]> = [];
  for (const gondola of store.layout.gondolas)
    for (const shelf of gondola.shelves) {
      const x0 = Math.min(...shelf.plates.map((p) => p.box.min[0]));
      const x1 = Math.max(...shelf.plates.map((p) => p.box.max[0]));
      const y0 = Math.min(...shelf.plates.map((p) => p.box.min[1]));
      const y1 = Math.max(...shelf.plates.map((p) => p.box.max[1]));
      const z = shelf.surfaceHeightM;
      const front: Record<Gondola['facing'], [Vec3, Vec3]> = {
        '-y': [[x0, y0, z], [x1, y0, z]],
        '+y': [[x0, y1, z], [x1, y1, z]],
        '-x': [[x0, y0, z], [x0, y1, z]],
        '+x': [[x1, y0, z], [x1, y1, z]],
      };
      edges.push(front[gondola.facing]);
    }
  return edges;
}

/** Central-difference gradient of a lightly smoothed frame. */
function gradients(frame: GreyFrame): { gx: Float32Array; gy: Float32Array; mean: number } {
  const { width: w, height: h, data } = frame;
  const smooth = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let sum = 0;
      let n = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
            sum += data[yy * w + xx];
            n++;
          }
        }
      smooth[y * w + x] = sum / n;
    }
  const gx = new Float32Array(w * h);
  const gy = new Float32Array(w * h);
  let total = 0;
  for (let y = 1; y < h - 1; y++)
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      gx[i] = (smooth[i + 1] - smooth[i - 1]) / 2;
      gy[i] = (smooth[i + w] - smooth[i - w]) / 2;
      total += Math.hypot(gx[i], gy[i]);
    }
  return { gx, gy, mean: total / Math.max(1, (w - 2) * (h - 2)) };
}

/** The fit of `camera`'s view of the shelf fronts to `frame` (scaled to the camera's image size beforehand). */
export function shelfEdgeFit(store: Store, camera: Camera, frame: GreyFrame): EdgeFit {
  const { gx, gy, mean } = gradients(frame);
  const edges = shelfFrontEdges(store);
  let sum = 0;
  let samples = 0;
  for (const [from, to] of edges) {
    const pixels = Array.from({ length: EDGE_SAMPLES + 1 }, (_, i) => {
      const t = i / EDGE_SAMPLES;
      return projectPoint(camera, [from[0] + (to[0] - from[0]) * t, from[1] + (to[1] - from[1]) * t, from[2] + (to[2] - from[2]) * t]);
    });
    pixels.forEach((pixel, i) => {
      const before = pixels[Math.max(0, i - 1)];
      const after = pixels[Math.min(EDGE_SAMPLES, i + 1)];
      if (!pixel || !before || !after) return;
      const [u, v] = pixel;
      if (u < SEARCH_PX + 1 || v < SEARCH_PX + 1 || u >= frame.width - SEARCH_PX - 1 || v >= frame.height - SEARCH_PX - 1) return;
      const du = after[0] - before[0];
      const dv = after[1] - before[1];
      const length = Math.hypot(du, dv);
      if (length < 1e-9) return;
      const [nx, ny] = [-dv / length, du / length];
      let best = 0;
      for (let d = -SEARCH_PX; d <= SEARCH_PX; d++) {
        const i2 = Math.round(v + ny * d) * frame.width + Math.round(u + nx * d);
        best = Math.max(best, Math.abs(gx[i2] * nx + gy[i2] * ny));
      }
      sum += best;
      samples++;
    });
  }
  const total = edges.length * (EDGE_SAMPLES + 1);
  return { score: samples > 0 && mean > 0 ? sum / samples / mean : 0, inFrame: total > 0 ? samples / total : 0, samples };
}
