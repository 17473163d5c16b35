import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { describeIssues, WalkoutError, type ErrorCode } from '../contracts/index.ts';

/**
 * Reads the `store_meta` folder of the AutoCheckout competition layout (AiFi Nanostore, CPS-IoT Week
 * 2020) as its files have it, in the files' own units, checking the shape only:
 *
 *   Gondolas.json        gondolas, each pose relative to the world
 *   Shelves.json         shelves, each pose relative to its gondola
 *   Plates.json          weight plates, each pose relative to its shelf
 *                        (pose: translation of the element's corner, plus a Rodrigues rotation vector;
 *                        dim_x, dim_y, dim_z its size along its own axes)
 *   calibration.json     world_ltrb (the floor's extent) and per camera id: K with focal lengths and
 *                        principal point divided by the image width and height, Tw the 4x4
 *                        camera-to-world transform, dist_coeffs (OpenCV k1 k2 p1 p2 k3), look_at (where
 *                        the ray through the image centre meets the floor); ids ending in -depth are
 *                        depth sensors
 *   camera_mapping.json  camera IP address to camera id (the videos are named by IP)
 *
 * Units are whatever the files say, which need not agree between files: store-meta.units.ts decides.
 */

export const STORE_META_FILES = {
  gondolas: 'Gondolas.json',
  shelves: 'Shelves.json',
  plates: 'Plates.json',
  calibration: 'calibration.json',
  cameraMapping: 'camera_mapping.json',
} as const;

/** Camera ids with this ending are depth sensors: no colour video, not a camera of the pipeline. */
export const DEPTH_SENSOR_SUFFIX = '-depth';

const Xyz = z.strictObject({ x: z.number(), y: z.number(), z: z.number() });
const Coordinates = z.object({
  transform: z.object({ translation: Xyz, rotation: Xyz.describe('Rodrigues vector, radians.') }),
  dim_x: z.number().nonnegative(),
  dim_y: z.number().nonnegative(),
  dim_z: z.number().nonnegative(),
});
const Whole = z.number().int().nonnegative();
const GondolaRef = z.object({ id: Whole });
const ShelfRef = z.object({ gondola_id: GondolaRef, shelf_index: Whole });

const GondolasFile = z.object({ gondolas: z.array(z.object({ id: GondolaRef, coordinates: Coordinates })).min(1) });
const ShelvesFile = z.object({ shelves: z.array(z.object({ id: ShelfRef, coordinates: Coordinates })).min(1) });
const PlatesFile = z.object({ plates: z.array(z.object({ id: z.object({ shelf_id: ShelfRef, plate_index: Whole }), coordinates: Coordinates })).min(1) });
const Row3 = z.tuple([z.number(), z.number(), z.number()]);
const Row4 = z.tuple([z.number(), z.number(), z.number(), z.number()]);
const CalibrationFile = z.object({
  world_ltrb: z.tuple([z.number(), z.number(), z.number(), z.number()]).describe('left, top, right, bottom: x from left to right, y from top to bottom.'),
  cameras: z.record(
    z.string(),
    z.object({
      K: z.tuple([Row3, Row3, Row3]),
      Tw: z.tuple([Row4, Row4, Row4, Row4]),
      dist_coeffs: z.array(z.number()).max(5),
      look_at: Row3.optional(),
    }),
  ),
});
const CameraMappingFile = z.record(z.string(), z.string());

export type Xyz = z.infer<typeof Xyz>;
export interface Pose {
  translation: [number, number, number];
  rotation: [number, number, number];
}
export interface PlacedBox {
  pose: Pose;
  size: [number, number, number];
}
export interface MetaGondola extends PlacedBox {
  gondola: number;
}
export interface MetaShelf extends PlacedBox {
  gondola: number;
  shelf: number;
}
export interface MetaPlate extends PlacedBox {
  gondola: number;
  shelf: number;
  plate: number;
}
export interface MetaCamera {
  /** The id calibration.json gives it ("1", "21"). */
  sourceId: string;
  /** K as written: focal lengths and principal point divided by the image width (row 0) and height (row 1). */
  normalisedK: z.infer<typeof CalibrationFile>['cameras'][string]['K'];
  /** Camera-to-world, calibration units. */
  cameraToWorld: z.infer<typeof CalibrationFile>['cameras'][string]['Tw'];
  /** k1 k2 p1 p2 k3, missing ones 0. */
  distortion: [number, number, number, number, number];
  lookAt?: [number, number, number];
  /** The camera's IP address in camera_mapping.json, which names its videos. */
  ip?: string;
}
export interface StoreMeta {
  folder: string;
  /** x from left to right, y from top to bottom, calibration units. */
  worldLtrb: [number, number, number, number];
  gondolas: MetaGondola[];
  shelves: MetaShelf[];
  plates: MetaPlate[];
  cameras: MetaCamera[];
  /** Cameras of calibration.json left out, and why. */
  skippedCameras: Array<{ sourceId: string; reason: string }>;
}

async function readJson<T>(folder: string, name: string, schema: z.ZodType<T>, code: ErrorCode): Promise<T> {
  const file = path.join(folder, name);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new WalkoutError(code, `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new WalkoutError(code, `${file} is not JSON: ${(cause as Error).message}`, { cause });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new WalkoutError(code, `${file} is not in the AutoCheckout layout:\n${describeIssues(parsed.error, file)}`, { details: parsed.error.issues });
  return parsed.data;
}

const vector = (xyz: Xyz): [number, number, number] => [xyz.x, xyz.y, xyz.z];
const placed = (coordinates: z.infer<typeof Coordinates>): PlacedBox => ({
  pose: { translation: vector(coordinates.transform.translation), rotation: vector(coordinates.transform.rotation) },
  size: [coordinates.dim_x, coordinates.dim_y, coordinates.dim_z],
});

/** Two elements with one id: the second would silently replace the first. */
function refuseTwins(file: string, keys: string[]): void {
  const seen = new Set<string>();
  keys.forEach((key, index) => {
    if (seen.has(key)) throw new WalkoutError('STORE_INVALID', `${file} at ${index}: ${key} is listed twice`);
    seen.add(key);
  });
}

/** Every shelf under a gondola of Gondolas.json, every plate under a shelf of Shelves.json. */
function refuseOrphans(folder: string, meta: Pick<StoreMeta, 'gondolas' | 'shelves' | 'plates'>): void {
  const gondolas = new Set(meta.gondolas.map((g) => g.gondola));
  const shelves = new Set(meta.shelves.map((s) => `${s.gondola}/${s.shelf}`));
  meta.shelves.forEach((s, index) => {
    if (!gondolas.has(s.gondola))
      throw new WalkoutError('STORE_INVALID', `${path.join(folder, STORE_META_FILES.shelves)} at ${index}: shelf ${s.shelf} of gondola ${s.gondola}, which Gondolas.json does not list`);
  });
  meta.plates.forEach((p, index) => {
    if (!shelves.has(`${p.gondola}/${p.shelf}`))
      throw new WalkoutError('STORE_INVALID', `${path.join(folder, STORE_META_FILES.plates)} at ${index}: plate ${p.plate} of gondola ${p.gondola} shelf ${p.shelf}, which Shelves.json does not list`);
  });
}

export async function readStoreMeta(folder: string): Promise<StoreMeta> {
  const gondolasFile = await readJson(folder, STORE_META_FILES.gondolas, GondolasFile, 'STORE_INVALID');
  const shelvesFile = await readJson(folder, STORE_META_FILES.shelves, ShelvesFile, 'STORE_INVALID');
  const platesFile = await readJson(folder, STORE_META_FILES.plates, PlatesFile, 'STORE_INVALID');
  const calibration = await readJson(folder, STORE_META_FILES.calibration, CalibrationFile, 'CALIBRATION_INVALID');
  const mapping = await readJson(folder, STORE_META_FILES.cameraMapping, CameraMappingFile, 'CALIBRATION_INVALID');

  const gondolas = gondolasFile.gondolas.map((g) => ({ gondola: g.id.id, ...placed(g.coordinates) }));
  const shelves = shelvesFile.shelves.map((s) => ({ gondola: s.id.gondola_id.id, shelf: s.id.shelf_index, ...placed(s.coordinates) }));
  const plates = platesFile.plates.map((p) => ({ gondola: p.id.shelf_id.gondola_id.id, shelf: p.id.shelf_id.shelf_index, plate: p.id.plate_index, ...placed(p.coordinates) }));
  refuseTwins(path.join(folder, STORE_META_FILES.gondolas), gondolas.map((g) => `gondola ${g.gondola}`));
  refuseTwins(path.join(folder, STORE_META_FILES.shelves), shelves.map((s) => `gondola ${s.gondola} shelf ${s.shelf}`));
  refuseTwins(path.join(folder, STORE_META_FILES.plates), plates.map((p) => `gondola ${p.gondola} shelf ${p.shelf} plate ${p.plate}`));
  refuseOrphans(folder, { gondolas, shelves, plates });

  const ipOf = new Map<string, string>();
  for (const [ip, id] of Object.entries(mapping)) {
    if (ipOf.has(id)) throw new WalkoutError('CALIBRATION_INVALID', `${path.join(folder, STORE_META_FILES.cameraMapping)}: camera ${id} has two addresses, ${ipOf.get(id)} and ${ip}`);
    ipOf.set(id, ip);
  }
  const cameras: MetaCamera[] = [];
  const skippedCameras: StoreMeta['skippedCameras'] = [];
  for (const [sourceId, camera] of Object.entries(calibration.cameras)) {
    if (sourceId.endsWith(DEPTH_SENSOR_SUFFIX)) {
      skippedCameras.push({ sourceId, reason: 'a depth sensor' });
      continue;
    }
    const distortion = [0, 1, 2, 3, 4].map((i) => camera.dist_coeffs[i] ?? 0) as MetaCamera['distortion'];
    cameras.push({ sourceId, normalisedK: camera.K, cameraToWorld: camera.Tw, distortion, lookAt: camera.look_at, ip: ipOf.get(sourceId) });
  }
  for (const [id, ip] of ipOf)
    if (!cameras.some((c) => c.sourceId === id))
      throw new WalkoutError('CALIBRATION_INVALID', `${path.join(folder, STORE_META_FILES.cameraMapping)}: ${ip} is camera ${id}, which ${STORE_META_FILES.calibration} does not calibrate`);
  return { folder, worldLtrb: calibration.world_ltrb, gondolas, shelves, plates, cameras, skippedCameras };
}
