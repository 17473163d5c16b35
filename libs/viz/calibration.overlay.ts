import sharp from 'sharp';
import type { Camera, Store, Vec3 } from '../contracts/index.ts';
import { inImage, projectPoint } from '../geometry/index.ts';
import { esc } from './svg.ts';

/**
 * A camera's view of the store as the calibration says it is: the floor's edge, each gondola's box,
 * each shelf's surface and each plate, projected through the camera model (lens included) and drawn
 * over a real frame of that camera. Where the outlines sit on the shelves in the picture, the
 * calibration and the layout agree.
 */

/** Points per 3D edge: the lens bends straight edges, so each is drawn as a polyline. */
const EDGE_SAMPLES = 24;
/** How far outside the frame a projected point may fall and still be drawn, pixels. */
const DRAW_MARGIN_PX = 400;

type Box = { min: Vec3; max: Vec3 };

const COLOURS = { floor: '#ffffff', gondola: '#00b7ff', shelf: '#35ff4a', plate: '#ffe000' } as const;

/** The 12 edges of a box, each as its two corners. */
function boxEdges(box: Box): Array<[Vec3, Vec3]> {
  const corner = (bits: number): Vec3 => [bits & 1 ? box.max[0] : box.min[0], bits & 2 ? box.max[1] : box.min[1], bits & 4 ? box.max[2] : box.min[2]];
  const edges: Array<[Vec3, Vec3]> = [];
  for (let bits = 0; bits < 8; bits++) for (const axis of [1, 2, 4]) if (!(bits & axis)) edges.push([corner(bits), corner(bits | axis)]);
  return edges;
}

/** The four edges of a box's top face. */
function topEdges(box: Box): Array<[Vec3, Vec3]> {
  const z = box.max[2];
  const corners: Vec3[] = [[box.min[0], box.min[1], z], [box.max[0], box.min[1], z], [box.max[0], box.max[1], z], [box.min[0], box.max[1], z]];
  return corners.map((corner, i) => [corner, corners[(i + 1) % 4]]);
}

/** One edge as SVG path data: sampled, projected, broken where it goes behind the camera or far off the frame. */
function edgePath(camera: Camera, [from, to]: [Vec3, Vec3]): string {
  let data = '';
  let drawing = false;
  for (let i = 0; i <= EDGE_SAMPLES; i++) {
    const t = i / EDGE_SAMPLES;
    const pixel = projectPoint(camera, [from[0] + (to[0] - from[0]) * t, from[1] + (to[1] - from[1]) * t, from[2] + (to[2] - from[2]) * t]);
    if (!inImage(camera, pixel, DRAW_MARGIN_PX)) {
      drawing = false;
      continue;
    }
    data += `${drawing ? 'L' : 'M'}${pixel[0].toFixed(1)},${pixel[1].toFixed(1)}`;
    drawing = true;
  }
  return data;
}

const stroke = (camera: Camera, edges: Array<[Vec3, Vec3]>, colour: string, width: number) => {
  const data = edges.map((edge) => edgePath(camera, edge)).join('');
  return data ? `<path d="${data}" fill="none" stroke="${colour}" stroke-width="${width}" stroke-opacity="0.9"/>` : '';
};

/** The SVG layer: the store's outlines as `camera` sees them, over a transparent background. */
export function calibrationLayer(store: Store, camera: Camera): string {
  const body: string[] = [];
  const floor = store.layout.floor;
  body.push(stroke(camera, floor.map((corner, i) => [[corner[0], corner[1], 0], [floor[(i + 1) % floor.length][0], floor[(i + 1) % floor.length][1], 0]] as [Vec3, Vec3]), COLOURS.floor, 1.5));
  for (const gondola of store.layout.gondolas) {
    body.push(stroke(camera, boxEdges(gondola.box), COLOURS.gondola, 1.5));
    for (const shelf of gondola.shelves) {
      body.push(stroke(camera, shelf.plates.flatMap((plate) => topEdges(plate.box)), COLOURS.plate, 0.6));
      const surface = { min: [Math.min(...shelf.plates.map((p) => p.box.min[0])), Math.min(...shelf.plates.map((p) => p.box.min[1])), 0] as Vec3, max: [Math.max(...shelf.plates.map((p) => p.box.max[0])), Math.max(...shelf.plates.map((p) => p.box.max[1])), shelf.surfaceHeightM] as Vec3 };
      body.push(stroke(camera, topEdges(surface), COLOURS.shelf, 1.5));
    }
    const label = projectPoint(camera, [(gondola.box.min[0] + gondola.box.max[0]) / 2, (gondola.box.min[1] + gondola.box.max[1]) / 2, gondola.box.max[2]]);
    if (inImage(camera, label))
      body.push(`<text x="${label[0].toFixed(1)}" y="${label[1].toFixed(1)}" fill="${COLOURS.gondola}" font-size="14" font-weight="bold">${esc(gondola.id)}</text>`);
  }
  body.push(`<text x="6" y="16" fill="#ffffff" font-size="13" stroke="#000000" stroke-width="0.4">${esc(camera.id)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${camera.width}" height="${camera.height}" font-family="DejaVu Sans, Arial, sans-serif">\n${body.filter(Boolean).join('\n')}\n</svg>\n`;
}

/** Draws the layer over `frame` (any picture sharp reads, scaled to the camera's size) into a PNG at `out`. */
export async function writeCalibrationOverlay(store: Store, camera: Camera, frame: string, out: string): Promise<void> {
  const base = sharp(frame).resize(camera.width, camera.height, { fit: 'fill' });
  await base.composite([{ input: Buffer.from(calibrationLayer(store, camera)) }]).png().toFile(out);
}
