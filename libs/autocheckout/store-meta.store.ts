import path from 'node:path';
import { parseStore, SCHEMA_VERSION, WalkoutError, type Camera, type Gondola, type Lane, type LoadCell, type Placement, type Plate, type Shelf, type Store, type Vec3 } from '../contracts/index.ts';
import { add3, cameraCentre, mat3Det, mat3Mul, mat3MulVec, mat3Transpose, type Mat3, rodriguesToMatrix } from '../geometry/index.ts';
import { CAPACITY_GRAMS, DEFAULT_RATE_HZ, ids, UNKNOWN_STOCK, type ImportedProducts, type PlateSurvey } from '../shelf/plates.import.ts';
import { NOISE_FLOOR_GRAMS } from '../shelf/sensor.health.ts';
import type { MetaCamera, MetaPlate, MetaShelf, PlacedBox, Pose, StoreMeta } from './store-meta.reader.ts';
import type { StoreMetaUnits } from './store-meta.units.ts';

/**
 * The AutoCheckout store in walkout's store frame: metres, x and y on the floor, z up, the same
 * world the calibration uses. Poses are chained (world from gondola, gondola from shelf, shelf from
 * plate); each element's box is the axis-aligned box around its rotated corners, since the store
 * format has axis-aligned boxes only. A lane is a run of neighbouring plates holding one product
 * (or a share of a plate that holds several). The layout has no gates: an entry and an exit zone are
 * put in the corner of the floor and the report says so.
 */

/** The published frames are 640x360; a camera without a video is taken to be that size. */
export const DEFAULT_CAMERA_SIZE = { width: 640, height: 360 } as const;
/** A camera without a video: its frame rate is unknown, and nothing reads it but replay of that video. */
export const DEFAULT_CAMERA_FPS = 15;
/** Plates have no thickness in the files: drawn 1 cm thick under the shelf surface. */
const PLATE_THICKNESS_M = 0.01;
/** Neighbouring lanes are kept this far apart so that each lies on its own plates only. */
const LANE_INSET_M = 0.001;
/** The synthesised entry and exit zones, metres a side. */
const GATE_ZONE_M = 0.6;
/** A rotation this far from orthonormal is not a rotation. */
const ROTATION_TOLERANCE = 1e-4;

interface Transform {
  rotation: Mat3;
  /** Metres. */
  translation: Vec3;
}

const transformOf = (pose: Pose, metres: number): Transform => ({
  rotation: rodriguesToMatrix(pose.rotation),
  translation: [pose.translation[0] * metres, pose.translation[1] * metres, pose.translation[2] * metres],
});
const compose = (parent: Transform, child: Transform): Transform => ({
  rotation: mat3Mul(parent.rotation, child.rotation),
  translation: add3(mat3MulVec(parent.rotation, child.translation), parent.translation),
});
const apply = (transform: Transform, local: Vec3): Vec3 => add3(mat3MulVec(transform.rotation, local), transform.translation);

/** The axis-aligned world box around a box given in an element's own frame. */
function worldBox(transform: Transform, min: Vec3, max: Vec3): { min: Vec3; max: Vec3 } {
  const corners = [0, 1, 2, 3, 4, 5, 6, 7].map((bits) => apply(transform, [bits & 1 ? max[0] : min[0], bits & 2 ? max[1] : min[1], bits & 4 ? max[2] : min[2]]));
  const axis = (i: number, pick: (...values: number[]) => number) => pick(...corners.map((corner) => corner[i]));
  return { min: [axis(0, Math.min), axis(1, Math.min), axis(2, Math.min)], max: [axis(0, Math.max), axis(1, Math.max), axis(2, Math.max)] };
}
const unionBox = (boxes: Array<{ min: Vec3; max: Vec3 }>) => ({
  min: [0, 1, 2].map((i) => Math.min(...boxes.map((b) => b.min[i]))) as Vec3,
  max: [0, 1, 2].map((i) => Math.max(...boxes.map((b) => b.max[i]))) as Vec3,
});
const sizeIn = (box: PlacedBox, metres: number): Vec3 => [box.size[0] * metres, box.size[1] * metres, box.size[2] * metres];

export interface MetaStoreOptions {
  storeId?: string;
  /** Image size and frame rate of each camera that has a video, by source id; others get the defaults. */
  videos?: Map<string, { width: number; height: number; fps: number }>;
  /** What the weight files told of each plate they cover, by plate id. */
  surveys?: Map<string, PlateSurvey>;
}

export interface MetaStoreResult {
  store: Store;
  /** What the importer decided that the files did not say. */
  notes: string[];
}

/** Where each shelf and plate is in the world, and its size in metres. */
interface PlacedShelf {
  meta: MetaShelf;
  transform: Transform;
  size: Vec3;
  plates: Array<{ meta: MetaPlate; transform: Transform; size: Vec3 }>;
}

export function storeFromMeta(meta: StoreMeta, units: StoreMetaUnits, products: ImportedProducts, options: MetaStoreOptions = {}): MetaStoreResult {
  const notes: string[] = [];
  const placements: Placement[] = [];
  const gondolas = [...meta.gondolas]
    .sort((a, b) => a.gondola - b.gondola)
    .map((gondola) => {
      const transform = transformOf(gondola.pose, units.layout.metres);
      const shelves = meta.shelves
        .filter((s) => s.gondola === gondola.gondola)
        .sort((a, b) => a.shelf - b.shelf)
        .map((shelf): PlacedShelf => {
          const shelfTransform = compose(transform, transformOf(shelf.pose, units.layout.metres));
          const plates = meta.plates
            .filter((p) => p.gondola === shelf.gondola && p.shelf === shelf.shelf)
            .sort((a, b) => a.plate - b.plate)
            .map((plate) => ({ meta: plate, transform: compose(shelfTransform, transformOf(plate.pose, units.layout.metres)), size: sizeIn(plate, units.layout.metres) }));
          return { meta: shelf, transform: shelfTransform, size: sizeIn(shelf, units.layout.metres), plates };
        });
      return gondolaOf(gondola.gondola, transform, sizeIn(gondola, units.layout.metres), shelves, products, placements);
    });
  const plateIds = gondolas.flatMap((g) => g.shelves.flatMap((s) => s.plates.map((p) => p.id)));
  const loadCells = plateIds.map((plateId) => loadCellOf(plateId, options.surveys?.get(plateId)));
  const cameras = meta.cameras.flatMap((camera) => {
    if (!camera.ip) {
      notes.push(`camera ${camera.sourceId} left out: camera_mapping.json gives it no address, so no video names it`);
      return [];
    }
    return [cameraOf(camera, units.calibration.metres, options.videos?.get(camera.sourceId))];
  });
  for (const skipped of meta.skippedCameras) notes.push(`camera ${skipped.sourceId} left out: ${skipped.reason}`);
  const [left, top, right, bottom] = meta.worldLtrb.map((v) => v * units.calibration.metres);
  const [x0, x1, y0, y1] = [Math.min(left, right), Math.max(left, right), Math.min(top, bottom), Math.max(top, bottom)];
  const rect = (ax: number, ay: number, bx: number, by: number): Array<[number, number]> => [[ax, ay], [bx, ay], [bx, by], [ax, by]];
  notes.push(`the layout has no gates: entry and exit zones (${GATE_ZONE_M} m squares) put in the floor's corner at (${x0.toFixed(2)}, ${y0.toFixed(2)}) m`);
  const usedProducts = new Set(placements.map((p) => p.productId));
  const unplaced = products.products.filter((p) => !usedProducts.has(p.id));
  if (unplaced.length > 0) notes.push(`${unplaced.length} product(s) of the list stand on no plate of Plates.json`);
  const wallHeightM = Math.ceil(Math.max(...gondolas.map((g) => g.box.max[2]), ...cameras.map((c) => cameraCentre(c)[2])) * 10) / 10;
  const store = parseStore(
    {
      schemaVersion: SCHEMA_VERSION,
      id: options.storeId ?? 'autocheckout',
      name: `AutoCheckout store from ${path.basename(path.resolve(meta.folder, '..'))}`,
      currency: 'USD',
      layout: {
        floor: rect(x0, y0, x1, y1),
        wallHeightM,
        zones: [
          { id: 'entry', kind: 'entry', polygon: rect(x0, y0, x0 + GATE_ZONE_M, y0 + GATE_ZONE_M) },
          { id: 'exit', kind: 'exit', polygon: rect(x0 + GATE_ZONE_M, y0, x0 + 2 * GATE_ZONE_M, y0 + GATE_ZONE_M) },
          { id: 'floor', kind: 'shopping', polygon: rect(x0, y0, x1, y1) },
        ],
        gondolas,
      },
      planogram: { products: products.products, placements },
      cameras,
      loadCells,
      gates: [
        { id: 'gate-entry', zoneId: 'entry', kind: 'entry' },
        { id: 'gate-exit', zoneId: 'exit', kind: 'exit' },
      ],
    },
    `the store of ${meta.folder}`,
  );
  return { store, notes };
}

function gondolaOf(number: number, transform: Transform, size: Vec3, placed: PlacedShelf[], products: ImportedProducts, placements: Placement[]): Gondola {
  const panel = worldBox(transform, [0, 0, 0], size);
  const shelves = placed.map((shelf) => shelfOf(shelf, products, placements));
  const shelfBoxes = placed.map((shelf) => worldBox(shelf.transform, [0, 0, -PLATE_THICKNESS_M], shelf.size));
  const box = unionBox([panel, ...shelfBoxes, ...shelves.flatMap((s) => [...s.plates.map((p) => p.box), ...s.lanes.map((l) => l.box)])]);
  return { id: ids.gondola(number), box, facing: facingOf(panel, shelfBoxes), shelves };
}

/** The side shoppers stand: from the back panel towards the shelves, to the nearest axis. */
function facingOf(panel: { min: Vec3; max: Vec3 }, shelves: Array<{ min: Vec3; max: Vec3 }>): Gondola['facing'] {
  const centre = (box: { min: Vec3; max: Vec3 }) => [0, 1].map((i) => (box.min[i] + box.max[i]) / 2);
  const from = centre(panel);
  const to = centre(unionBox(shelves.length > 0 ? shelves : [panel]));
  const [dx, dy] = [to[0] - from[0], to[1] - from[1]];
  if (Math.abs(dx) > Math.abs(dy)) return dx > 0 ? '+x' : '-x';
  return dy > 0 ? '+y' : '-y';
}

/** A run of neighbouring plates of one shelf that hold one product, or a share of one plate. */
interface LaneSpan {
  productId?: string;
  plates: PlacedShelf['plates'];
  /** Share of the first plate along x, 0 to 1. */
  from: number;
  to: number;
}

function laneSpans(shelf: PlacedShelf, products: ImportedProducts): LaneSpan[] {
  const spans: LaneSpan[] = [];
  for (const plate of shelf.plates) {
    const here = products.onPlate.get(ids.plate(plate.meta.gondola, plate.meta.shelf, plate.meta.plate)) ?? [];
    const last = spans.at(-1);
    const neighbour = last && last.plates.at(-1)!.meta.plate === plate.meta.plate - 1 && last.from === 0 && last.to === 1;
    if (here.length === 1 && neighbour && last.productId === here[0].id) last.plates.push(plate);
    else here.forEach((product, slot) => spans.push({ productId: product.id, plates: [plate], from: slot / here.length, to: (slot + 1) / here.length }));
  }
  // A shelf needs a lane: a shelf without products carries one empty lane on its first plate.
  if (spans.length === 0 && shelf.plates.length > 0) spans.push({ plates: [shelf.plates[0]], from: 0, to: 1 });
  return spans;
}

function shelfOf(shelf: PlacedShelf, products: ImportedProducts, placements: Placement[]): Shelf {
  const shelfId = ids.shelf(shelf.meta.gondola, shelf.meta.shelf);
  if (shelf.plates.length === 0) throw new WalkoutError('STORE_INVALID', `shelf ${shelf.meta.shelf} of gondola ${shelf.meta.gondola} has no plate in Plates.json: nothing on it can be weighed`);
  const plates: Plate[] = shelf.plates.map((plate) => ({
    id: ids.plate(plate.meta.gondola, plate.meta.shelf, plate.meta.plate),
    box: worldBox(plate.transform, [0, 0, -PLATE_THICKNESS_M], [plate.size[0], plate.size[1], 0]),
  }));
  const lanes: Lane[] = laneSpans(shelf, products).map((span, index) => {
    const laneId = `${shelfId}-l${span.productId ? index + 1 : 0}`;
    if (span.productId) placements.push({ laneId, productId: span.productId, capacity: 99, initialStock: UNKNOWN_STOCK });
    const first = span.plates[0];
    const last = span.plates.at(-1)!;
    // The lane's corners in the first plate's frame: plates of one shelf share its axes.
    const width = first.size[0];
    const lastOffset = mat3MulVec(mat3Transpose(first.transform.rotation), [0, 1, 2].map((i) => last.transform.translation[i] - first.transform.translation[i]) as Vec3);
    const xFrom = width * span.from + LANE_INSET_M;
    const xTo = (span.plates.length === 1 ? width * span.to : lastOffset[0] + last.size[0]) - LANE_INSET_M;
    return {
      id: laneId,
      plateIds: span.plates.map((plate) => ids.plate(plate.meta.gondola, plate.meta.shelf, plate.meta.plate)),
      box: worldBox(first.transform, [xFrom, LANE_INSET_M, 0], [xTo, first.size[1] - LANE_INSET_M, shelf.size[2]]),
    };
  });
  return { id: shelfId, surfaceHeightM: Math.max(0, shelf.transform.translation[2]), plates, lanes };
}

function loadCellOf(plateId: string, survey: PlateSurvey | undefined): LoadCell {
  return {
    id: `lc-${plateId}`,
    plateId,
    sampleRateHz: survey?.rateHz ?? DEFAULT_RATE_HZ,
    noiseGrams: survey?.noiseGrams ?? NOISE_FLOOR_GRAMS,
    capacityGrams: CAPACITY_GRAMS,
  };
}

/**
 * calibration.json's camera in the shared camera model: K times the image size, and the
 * camera-to-world Tw inverted to OpenCV's world-to-camera [R|t] in metres.
 */
export function cameraOf(camera: MetaCamera, metres: number, video?: { width: number; height: number; fps: number }): Camera {
  const { width, height } = video ?? DEFAULT_CAMERA_SIZE;
  const [[fxN, skew, cxN], [, fyN, cyN]] = camera.normalisedK;
  if (Math.abs(skew) > 1e-9) throw new WalkoutError('CALIBRATION_INVALID', `calibration.json camera ${camera.sourceId}: K has skew ${skew}, which the camera model has no term for`);
  const Tw = camera.cameraToWorld;
  const cameraToWorld: Mat3 = [
    [Tw[0][0], Tw[0][1], Tw[0][2]],
    [Tw[1][0], Tw[1][1], Tw[1][2]],
    [Tw[2][0], Tw[2][1], Tw[2][2]],
  ];
  const gram = mat3Mul(mat3Transpose(cameraToWorld), cameraToWorld);
  const orthonormal = gram.every((row, i) => row.every((value, j) => Math.abs(value - (i === j ? 1 : 0)) < ROTATION_TOLERANCE));
  if (!orthonormal || Math.abs(mat3Det(cameraToWorld) - 1) > ROTATION_TOLERANCE)
    throw new WalkoutError('CALIBRATION_INVALID', `calibration.json camera ${camera.sourceId}: Tw's rotation part is not a proper rotation`);
  const rotation = mat3Transpose(cameraToWorld);
  const centre: Vec3 = [Tw[0][3] * metres, Tw[1][3] * metres, Tw[2][3] * metres];
  const [k1, k2, p1, p2, k3] = camera.distortion;
  return {
    id: `cam-${camera.sourceId.toLowerCase()}`,
    kind: 'ceiling',
    width,
    height,
    fps: video?.fps ?? DEFAULT_CAMERA_FPS,
    intrinsics: { fx: fxN * width, fy: fyN * height, cx: cxN * width, cy: cyN * height },
    distortion: { k1, k2, p1, p2, k3 },
    pose: { rotation, translation: mat3MulVec(rotation, centre).map((v) => -v) as Vec3 },
  };
}
