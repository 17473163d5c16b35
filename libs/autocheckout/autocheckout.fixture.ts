import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A small store in the AutoCheckout layout with answers known by hand, for tests: one gondola at
 * (1, 2) m turned a quarter turn about z (so its shelves open to +x), one shelf 0.5 m up, two plates
 * 0.3 m wide side by side, all in metres; one camera in inches, 2.5 m up at (1.2, 2.45), looking
 * straight down with image x along world +x, 320 px focal length on a 640x360 image and no lens
 * distortion. Plate 2 then covers x 1.0 to 1.4 m, y 2.3 to 2.6 m at z 0.5 m, and the camera sees
 * (1.2, 2.45, 0.5) at the image centre.
 */

export const MINI_CAMERA_IP = '192.168.1.100';
const INCH_M = 0.0254;
const CAMERA_CENTRE_M = [1.2, 2.45, 2.5];

const coordinates = (translation: number[], rotation: number[], size: number[]) => ({
  transform: { translation: { x: translation[0], y: translation[1], z: translation[2] }, rotation: { x: rotation[0], y: rotation[1], z: rotation[2] } },
  dim_x: size[0],
  dim_y: size[1],
  dim_z: size[2],
});

export async function writeMiniStoreMeta(folder: string, options: { cameraHeightInches?: number } = {}): Promise<void> {
  const meta = path.join(folder, 'store_meta');
  await mkdir(meta, { recursive: true });
  const shelf = { gondola_id: { id: 1 }, shelf_index: 1 };
  const files: Record<string, unknown> = {
    'Gondolas.json': { gondolas: [{ id: { id: 1 }, shelf_ids: [shelf], coordinates: coordinates([1, 2, 0], [0, 0, Math.PI / 2], [0.6, 0.03, 2]) }] },
    'Shelves.json': { shelves: [{ id: shelf, coordinates: coordinates([0, -0.4, 0.5], [0, 0, 0], [0.6, 0.4, 0.3]) }] },
    'Plates.json': {
      plates: [1, 2].map((plate) => ({ id: { shelf_id: shelf, plate_index: plate }, coordinates: coordinates([(plate - 1) * 0.3, 0, 0], [0, 0, 0], [0.3, 0.4, 0]) })),
    },
    'calibration.json': {
      world_ltrb: [0, 0, 4 / INCH_M, 4 / INCH_M],
      cameras: {
        '1': {
          K: [
            [0.5, 0, 0.5],
            [0, 320 / 360, 0.5],
            [0, 0, 1],
          ],
          Tw: [
            [1, 0, 0, CAMERA_CENTRE_M[0] / INCH_M],
            [0, -1, 0, CAMERA_CENTRE_M[1] / INCH_M],
            [0, 0, -1, options.cameraHeightInches ?? CAMERA_CENTRE_M[2] / INCH_M],
            [0, 0, 0, 1],
          ],
          dist_coeffs: [0, 0, 0, 0, 0],
          look_at: [CAMERA_CENTRE_M[0] / INCH_M, CAMERA_CENTRE_M[1] / INCH_M, 0],
        },
        '1-depth': { K: [[0.5, 0, 0.5], [0, 0.9, 0.5], [0, 0, 1]], Tw: [[1, 0, 0, 40], [0, -1, 0, 90], [0, 0, -1, 98], [0, 0, 0, 1]], dist_coeffs: [0, 0, 0, 0, 0] },
      },
    },
    'camera_mapping.json': { [MINI_CAMERA_IP]: '1' },
  };
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(meta, name), `${JSON.stringify(content, null, 2)}\n`);
}
