import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Camera, WalkoutError, describeIssues } from '../contracts/index.ts';
import type { Mat3 } from './camera.ts';
import { mat3Det } from './linalg.ts';

/**
 * Reads KRTD camera files, the plain-text calibration format of KWIVER/TeleSculptor used by the MEVA
 * data set:
 *
 *   fx  skew cx        K, 3 rows
 *   0   fy   cy
 *   0   0    1
 *                      (blank lines between blocks are optional)
 *   r00 r01 r02        R, world-to-camera rotation, 3 rows
 *   r10 r11 r12
 *   r20 r21 r22
 *
 *   tx  ty   tz        T, world-to-camera translation, metres
 *
 *   k1 k2 [p1 p2 [k3 ...]]   D, OpenCV distortion, 0 to 5 coefficients (optional line)
 *
 * This is exactly OpenCV's x_cam = R x_world + t, so R and T go into the Camera pose unchanged.
 * KRTD does not record the image size, frame rate or mounting; options supply them.
 */

export interface KrtdOptions {
  /** Camera id; defaults to the file name without extension, lower-cased ("G328.krtd" -> "g328"). */
  id?: string;
  kind?: Camera['kind'];
  /** Image size in pixels; defaults to the size whose centre is the principal point (see below). */
  width?: number;
  height?: number;
  fps?: number;
}

/** MEVA's cameras record at 30 frames per second; the format itself has no frame rate. */
export const KRTD_DEFAULT_FPS = 30;

/** How far K's fixed entries (lower triangle, K[2][2]) may stray from 0 and 1 before the file is wrong. */
const K_FIXED_ENTRY_TOLERANCE = 1e-9;
/**
 * Skew below this (pixels) is rounding in the writer; above it the camera model, which has no skew
 * term, would be wrong by up to skew * y / fy pixels, so we refuse the file rather than drop it.
 */
const MAX_IGNORED_SKEW_PX = 1e-6;
/** KRTD writes about 12 significant digits, so a real rotation is orthonormal to far better than this. */
const ROTATION_TOLERANCE = 1e-6;
/** OpenCV order: only k1, k2, p1, p2, k3 are in our lens model; longer vectors (rational, prism, tilt) must be zero past it. */
const LENS_COEFFICIENTS = ['k1', 'k2', 'p1', 'p2', 'k3'] as const;

/** A malformed calibration: the message names the file and the 1-based line. */
function malformed(source: string, line: number, what: string): WalkoutError {
  return new WalkoutError('CALIBRATION_INVALID', `${source} line ${line}: ${what}`, { details: { file: source, line } });
}

interface NumberRow {
  line: number;
  values: number[];
}

/**
 * Parses KRTD text into a Camera. `source` names the file in error messages. Throws a WalkoutError
 * (CALIBRATION_INVALID) naming the file and line for anything malformed, including a calibration the
 * shared camera model cannot represent (skew, non-zero higher-order distortion).
 */
export function parseKrtd(text: string, source: string, options: KrtdOptions = {}): Camera {
  const lines = text.split(/\r?\n/);
  const rows: NumberRow[] = [];
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === '') return;
    const values = trimmed.split(/\s+/).map((token) => {
      const value = Number(token);
      if (!Number.isFinite(value)) throw malformed(source, index + 1, `"${token}" is not a finite number`);
      return value;
    });
    rows.push({ line: index + 1, values });
  });
  const lastLine = Math.max(1, lines.length - (lines.at(-1)?.trim() === '' ? 1 : 0));
  const take = (what: string, count: number): NumberRow => {
    const row = rows.shift();
    if (!row) throw malformed(source, lastLine, `file ends before ${what}`);
    if (row.values.length !== count)
      throw malformed(source, row.line, `${what} needs ${count} numbers, found ${row.values.length}`);
    return row;
  };

  const K = [take('K row 1', 3), take('K row 2', 3), take('K row 3', 3)];
  const R = [take('R row 1', 3), take('R row 2', 3), take('R row 3', 3)];
  const T = take('T', 3);
  const D = rows.shift();
  if (rows.length > 0) throw malformed(source, rows[0].line, 'unexpected data after the distortion line');

  const [fx, skew, cx] = K[0].values;
  const [k10, fy, cy] = K[1].values;
  const [k20, k21, k22] = K[2].values;
  if (Math.abs(k10) > K_FIXED_ENTRY_TOLERANCE) throw malformed(source, K[1].line, `K[1][0] must be 0, found ${k10}`);
  if (Math.abs(k20) > K_FIXED_ENTRY_TOLERANCE || Math.abs(k21) > K_FIXED_ENTRY_TOLERANCE || Math.abs(k22 - 1) > K_FIXED_ENTRY_TOLERANCE)
    throw malformed(source, K[2].line, `K row 3 must be "0 0 1", found "${K[2].values.join(' ')}"`);
  if (!(fx > 0) || !(fy > 0)) throw malformed(source, fx > 0 ? K[1].line : K[0].line, `focal lengths must be positive, found fx=${fx} fy=${fy}`);
  if (Math.abs(skew) > MAX_IGNORED_SKEW_PX)
    throw malformed(source, K[0].line, `skew ${skew} is not supported by the camera model (it has no skew term)`);

  const rotation = R.map((row) => row.values) as Mat3;
  for (let a = 0; a < 3; a++)
    for (let b = a; b < 3; b++) {
      const d = rotation[a][0] * rotation[b][0] + rotation[a][1] * rotation[b][1] + rotation[a][2] * rotation[b][2];
      if (Math.abs(d - (a === b ? 1 : 0)) > ROTATION_TOLERANCE)
        throw malformed(source, R[b].line, `R is not orthonormal: rows ${a + 1} and ${b + 1} have dot product ${d}`);
    }
  const det = mat3Det(rotation);
  if (Math.abs(det - 1) > ROTATION_TOLERANCE)
    throw malformed(source, R[0].line, `R is a reflection, not a rotation (determinant ${det})`);

  const coefficients = D?.values ?? [];
  const extra = coefficients.slice(LENS_COEFFICIENTS.length).findIndex((c) => c !== 0);
  if (extra >= 0)
    throw malformed(
      source,
      D!.line,
      `distortion coefficient ${LENS_COEFFICIENTS.length + extra + 1} is ${coefficients[LENS_COEFFICIENTS.length + extra]}; only k1 k2 p1 p2 k3 are supported`,
    );
  const distortion = Object.fromEntries(LENS_COEFFICIENTS.map((name, i) => [name, coefficients[i] ?? 0])) as Camera['distortion'];

  const id = options.id ?? basename(source, extname(source)).toLowerCase();
  const candidate = {
    id,
    kind: options.kind ?? 'ceiling',
    width: options.width ?? imageSpanFromPrincipalPoint(cx),
    height: options.height ?? imageSpanFromPrincipalPoint(cy),
    fps: options.fps ?? KRTD_DEFAULT_FPS,
    intrinsics: { fx, fy, cx, cy },
    distortion,
    pose: { rotation, translation: T.values },
  };
  const parsed = Camera.safeParse(candidate);
  if (!parsed.success)
    throw new WalkoutError('CALIBRATION_INVALID', `${source}: not a valid camera:\n${describeIssues(parsed.error, source)}`, {
      details: parsed.error.issues,
    });
  return parsed.data;
}

/**
 * KWIVER writes the principal point at the image centre in OpenCV's pixel-centre convention,
 * (size - 1) / 2, or at size / 2: 959.5 and 960 both mean 1920. Twice the next integer recovers the
 * size in both cases (MEVA's 535.5 gives 1072, matching its sample frames). Only a default: pass the
 * real size when the principal point has been calibrated off-centre.
 */
function imageSpanFromPrincipalPoint(centre: number): number {
  return 2 * Math.ceil(centre);
}

/** Reads and parses one KRTD file; errors name the file. */
export async function readKrtdFile(file: string, options: KrtdOptions = {}): Promise<Camera> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new WalkoutError('CALIBRATION_INVALID', `cannot read camera file ${file}: ${(cause as Error).message}`, { cause });
  }
  return parseKrtd(text, file, options);
}
