import type { RgbFrame } from '../video/rgb.frame.ts';

/**
 * Where a camera's image changed since its previous frame, cheaply: a ceiling camera's floor and
 * shelves stand still, so a newcomer (or someone a window lost) shows as pixels that changed outside
 * the windows round the people already known. Between whole reads, the whole-frame scout runs only
 * when there are such changes (FrameReads, movenet.detector.ts).
 *
 * The frame is sampled, not read whole: grey levels every SAMPLE_STEP pixels in x and y, compared in
 * cells of CELL_SAMPLES x CELL_SAMPLES samples.
 */

/** Pixels between samples in x and in y: a person 100 px tall is 25 samples, a 640x480 frame 160x120. */
export const SAMPLE_STEP = 4;
/** Samples a cell's side: cells of 16x16 px, a shopper's head about one. */
const CELL_SAMPLES = 4;
/**
 * A cell changed when its samples moved by this much on average (grey levels of 255). Video
 * compression moves a still scene's samples by a few levels; a person over the floor or a shelf
 * by tens.
 */
export const CHANGED_LEVEL = 12;
/** Changed cells that touch (side or corner) and fewer than this together are noise, not a person. */
const MIN_CELLS = 2;

/** A frame sampled for change detection: grey levels, `width` x `height` samples. */
export interface Thumbnail {
  width: number;
  height: number;
  grey: Uint8Array;
}

/** The frame's grey levels every SAMPLE_STEP pixels (the pixel at each sample's top left). */
export function thumbnailOf(frame: RgbFrame): Thumbnail {
  const width = Math.floor(frame.width / SAMPLE_STEP);
  const height = Math.floor(frame.height / SAMPLE_STEP);
  const grey = new Uint8Array(width * height);
  const { data } = frame;
  for (let y = 0; y < height; y++) {
    const row = y * SAMPLE_STEP * frame.width;
    for (let x = 0; x < width; x++) {
      const at = (row + x * SAMPLE_STEP) * 3;
      grey[y * width + x] = (data[at] + 2 * data[at + 1] + data[at + 2]) >> 2;
    }
  }
  return { width, height, grey };
}

/** Which cells of a frame changed since an earlier one of the same camera. */
export interface ChangeMap {
  cellsX: number;
  cellsY: number;
  /** A cell's side, frame pixels. */
  cellPx: number;
  /** 1 where the cell changed, row by row. */
  changed: Uint8Array;
}

type Box = readonly [number, number, number, number];

/** The cells where `now` differs from `before`; null when the two thumbnails are not of the same size (no comparison can be made). */
export function changeMap(before: Thumbnail, now: Thumbnail): ChangeMap | null {
  if (before.width !== now.width || before.height !== now.height) return null;
  const cellsX = Math.ceil(now.width / CELL_SAMPLES);
  const cellsY = Math.ceil(now.height / CELL_SAMPLES);
  const changed = new Uint8Array(cellsX * cellsY);
  for (let cy = 0; cy < cellsY; cy++)
    for (let cx = 0; cx < cellsX; cx++) {
      let sum = 0;
      let count = 0;
      for (let sy = cy * CELL_SAMPLES; sy < Math.min(now.height, (cy + 1) * CELL_SAMPLES); sy++)
        for (let sx = cx * CELL_SAMPLES; sx < Math.min(now.width, (cx + 1) * CELL_SAMPLES); sx++) {
          sum += Math.abs(now.grey[sy * now.width + sx] - before.grey[sy * now.width + sx]);
          count++;
        }
      if (sum > CHANGED_LEVEL * count) changed[cy * cellsX + cx] = 1;
    }
  return { cellsX, cellsY, cellPx: CELL_SAMPLES * SAMPLE_STEP, changed };
}

/**
 * Regions, as [x, y, width, height] boxes in frame pixels, that changed and lie outside every one of
 * `known` (boxes in frame pixels, the windows round known people): each a group of touching changed
 * cells whose centres are outside them. Empty when nothing changed outside them.
 */
export function changesOutside(map: ChangeMap, known: readonly Box[]): Array<[number, number, number, number]> {
  const { cellsX, cellsY, cellPx } = map;
  const outside = map.changed.map((changed, cell) => {
    if (!changed) return 0;
    const px = ((cell % cellsX) + 0.5) * cellPx;
    const py = (Math.floor(cell / cellsX) + 0.5) * cellPx;
    return known.some(([x, y, w, h]) => px >= x && px < x + w && py >= y && py < y + h) ? 0 : 1;
  });
  return groupsOf(outside, cellsX, cellsY)
    .filter((cells) => cells.length >= MIN_CELLS)
    .map((cells) => {
      const xs = cells.map((c) => c % cellsX);
      const ys = cells.map((c) => Math.floor(c / cellsX));
      const [x0, y0] = [Math.min(...xs) * cellPx, Math.min(...ys) * cellPx];
      return [x0, y0, (Math.max(...xs) + 1) * cellPx - x0, (Math.max(...ys) + 1) * cellPx - y0];
    });
}

/** Whether any cell that overlaps `box` (frame pixels) changed. */
export function changedWithin(map: ChangeMap, [x, y, w, h]: Box): boolean {
  const { cellsX, cellsY, cellPx } = map;
  const [x0, y0] = [Math.max(0, Math.floor(x / cellPx)), Math.max(0, Math.floor(y / cellPx))];
  const [x1, y1] = [Math.min(cellsX - 1, Math.floor((x + w) / cellPx)), Math.min(cellsY - 1, Math.floor((y + h) / cellPx))];
  for (let cy = y0; cy <= y1; cy++) for (let cx = x0; cx <= x1; cx++) if (map.changed[cy * cellsX + cx]) return true;
  return false;
}

/** The changed cells' groups of touching cells (8-connected), each a list of cell indices. */
function groupsOf(changed: Uint8Array, cellsX: number, cellsY: number): number[][] {
  const seen = new Uint8Array(changed.length);
  const groups: number[][] = [];
  for (let start = 0; start < changed.length; start++) {
    if (!changed[start] || seen[start]) continue;
    const group: number[] = [];
    const stack = [start];
    seen[start] = 1;
    while (stack.length) {
      const cell = stack.pop()!;
      group.push(cell);
      const [cx, cy] = [cell % cellsX, Math.floor(cell / cellsX)];
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const [nx, ny] = [cx + dx, cy + dy];
          if (nx < 0 || ny < 0 || nx >= cellsX || ny >= cellsY) continue;
          const next = ny * cellsX + nx;
          if (changed[next] && !seen[next]) {
            seen[next] = 1;
            stack.push(next);
          }
        }
    }
    groups.push(group);
  }
  return groups;
}
