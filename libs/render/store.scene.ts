import type { Gondola, Lane, Product, Store, Vec3 } from '../contracts/index.ts';
import { parseHexColour, type Rgb } from './colour.ts';

/**
 * The still part of a store as axis-aligned boxes: gondola frames and shelves, and the products
 * standing on each lane. Floor, walls and ceiling are planes drawn by the static layer.
 */

export const enum Finish {
  /** One colour. */
  Plain = 0,
  /** A product: a pale label band round its sides and a lighter lid, so packs read as packs. */
  Pack = 1,
}

export interface SceneBox {
  min: Vec3;
  max: Vec3;
  colour: Rgb;
  finish: Finish;
}

const FRAME_COLOUR = parseHexColour('#7d848c');
const SHELF_COLOUR = parseHexColour('#c9cdd2');
const PLINTH_COLOUR = parseHexColour('#454a50');
const PRICE_STRIP_COLOUR = parseHexColour('#ece6cc');
const PANEL_THICKNESS_M = 0.01;
const SHELF_BOARD_M = 0.02;
const CAP_M = 0.03;
const PRICE_STRIP_HEIGHT_M = 0.035;
const PRICE_STRIP_DEPTH_M = 0.008;
/** Space left between neighbouring packs on a lane. */
const PACK_GAP_M = 0.004;

/** The shelf axes of a gondola: which store axis runs along the shelf, and which way is out. */
function gondolaAxes(gondola: Gondola): { along: 0 | 1; depth: 0 | 1; outwards: 1 | -1 } {
  const depth = gondola.facing === '+x' || gondola.facing === '-x' ? 0 : 1;
  return { along: depth === 0 ? 1 : 0, depth, outwards: gondola.facing.startsWith('+') ? 1 : -1 };
}

function box(min: Vec3, max: Vec3, colour: Rgb, finish: Finish = Finish.Plain): SceneBox {
  return { min, max, colour, finish };
}

/** Gondola frame: plinth, back panel, end panels, a shelf board with a price strip per shelf, a top cap. */
export function gondolaBoxes(gondola: Gondola): SceneBox[] {
  const { along, depth, outwards } = gondolaAxes(gondola);
  const { min, max } = gondola.box;
  const boxes: SceneBox[] = [];
  const make = (alongRange: [number, number], depthRange: [number, number], zRange: [number, number], colour: Rgb) => {
    const lo: Vec3 = [0, 0, zRange[0]];
    const hi: Vec3 = [0, 0, zRange[1]];
    lo[along] = alongRange[0];
    hi[along] = alongRange[1];
    lo[depth] = depthRange[0];
    hi[depth] = depthRange[1];
    boxes.push(box(lo, hi, colour));
  };
  const fullAlong: [number, number] = [min[along], max[along]];
  const fullDepth: [number, number] = [min[depth], max[depth]];
  const frontEdge = outwards > 0 ? max[depth] : min[depth];
  const backPanel: [number, number] = outwards > 0 ? [min[depth], min[depth] + PANEL_THICKNESS_M] : [max[depth] - PANEL_THICKNESS_M, max[depth]];
  const lowestShelf = Math.min(...gondola.shelves.map((s) => s.surfaceHeightM));
  make(fullAlong, fullDepth, [0, Math.max(0.02, lowestShelf - SHELF_BOARD_M)], PLINTH_COLOUR);
  make(fullAlong, backPanel, [0, max[2]], FRAME_COLOUR);
  make([min[along], min[along] + PANEL_THICKNESS_M], fullDepth, [0, max[2]], FRAME_COLOUR);
  make([max[along] - PANEL_THICKNESS_M, max[along]], fullDepth, [0, max[2]], FRAME_COLOUR);
  make(fullAlong, fullDepth, [max[2] - CAP_M, max[2]], FRAME_COLOUR);
  for (const shelf of gondola.shelves) {
    const top = shelf.surfaceHeightM;
    make(fullAlong, fullDepth, [top - SHELF_BOARD_M, top], SHELF_COLOUR);
    const strip: [number, number] =
      outwards > 0 ? [frontEdge, frontEdge + PRICE_STRIP_DEPTH_M] : [frontEdge - PRICE_STRIP_DEPTH_M, frontEdge];
    make(fullAlong, strip, [top - PRICE_STRIP_HEIGHT_M, top + 0.005], PRICE_STRIP_COLOUR);
  }
  return boxes;
}

/**
 * The packs on a lane: columns across the lane, rows from the front backwards, then layers on top.
 * Only the count is known, not which pack a shopper took, so the front rows are filled first (as
 * after staff face up a shelf) and a lane visibly empties from the back.
 */
export function laneItemBoxes(lane: Lane, gondola: Gondola, product: Product, count: number): SceneBox[] {
  if (count <= 0) return [];
  const { along, depth, outwards } = gondolaAxes(gondola);
  const { min, max } = lane.box;
  const [packW, packD, packH] = product.sizeM;
  const laneW = max[along] - min[along];
  const laneD = max[depth] - min[depth];
  const laneH = max[2] - min[2];
  const cols = Math.max(1, Math.floor((laneW + PACK_GAP_M) / (packW + PACK_GAP_M)));
  const rows = Math.max(1, Math.floor((laneD + PACK_GAP_M) / (packD + PACK_GAP_M)));
  const layers = Math.max(1, Math.floor(laneH / packH));
  const w = Math.min(packW, laneW);
  const d = Math.min(packD, laneD);
  const h = Math.min(packH, laneH);
  const colour = parseHexColour(product.colour);
  const cellW = laneW / cols;
  const front = outwards > 0 ? max[depth] : min[depth];
  const boxes: SceneBox[] = [];
  const shown = Math.min(count, cols * rows * layers);
  for (let i = 0; i < shown; i++) {
    const layer = Math.floor(i / (cols * rows));
    const row = Math.floor((i % (cols * rows)) / cols);
    const col = i % cols;
    const centreAlong = min[along] + (col + 0.5) * cellW;
    const frontFace = front - outwards * (row * (d + PACK_GAP_M));
    const backFace = frontFace - outwards * d;
    const lo: Vec3 = [0, 0, min[2] + layer * h];
    const hi: Vec3 = [0, 0, min[2] + (layer + 1) * h];
    lo[along] = centreAlong - w / 2;
    hi[along] = centreAlong + w / 2;
    lo[depth] = Math.min(frontFace, backFace);
    hi[depth] = Math.max(frontFace, backFace);
    boxes.push(box(lo, hi, colour, Finish.Pack));
  }
  return boxes;
}

/** Initial stock per lane from the planogram. */
export function initialStock(store: Store): Map<string, number> {
  return new Map(store.planogram.placements.map((p) => [p.laneId, p.initialStock]));
}
