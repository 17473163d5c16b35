import { WalkoutError } from '../contracts/index.ts';
import type { StoreMeta } from './store-meta.reader.ts';

/**
 * The AutoCheckout files do not name their units, and they do not share one: the published store
 * writes its calibration (camera positions, the floor's extent, look_at) in inches and its gondolas,
 * shelves and plates in metres. Each part's unit is found from a length everyone knows the size of
 * (how high a ceiling camera hangs, how tall a gondola stands), and the two are then checked against
 * each other (the gondolas must stand on the calibrated floor). A unit can also be given, and the
 * report says which was used and why.
 */

export const LENGTH_UNITS = { metre: 1, centimetre: 0.01, millimetre: 0.001, inch: 0.0254, foot: 0.3048 } as const;
export type LengthUnit = keyof typeof LENGTH_UNITS;
const PLURAL: Record<LengthUnit, string> = { metre: 'metres', centimetre: 'centimetres', millimetre: 'millimetres', inch: 'inches', foot: 'feet' };

/** Ceiling cameras in shops hang this high, metres: lower is a shelf camera, higher a warehouse. */
export const CEILING_CAMERA_HEIGHT_M = { min: 1.8, max: 8 } as const;
/** The tallest gondola (shelving unit) of a shop stands this tall, metres. */
export const GONDOLA_HEIGHT_M = { min: 1, max: 3 } as const;
/** How far a gondola may reach past the calibrated floor's extent, metres, before the two parts disagree. */
const FLOOR_SLACK_M = 0.25;

export interface UnitChoice {
  unit: LengthUnit;
  /** Metres per file unit. */
  metres: number;
  /** Why this unit: the measure it was told by, or that it was given. */
  reason: string;
}

export interface StoreMetaUnits {
  calibration: UnitChoice;
  layout: UnitChoice;
  /** Findings worth a reader's attention (the parts disagree, or a check could not be made). */
  notes: string[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
};
const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** The one unit that puts `measure` in `range` metres, or an error explaining what each unit would mean. */
function unitBy(measure: number, range: { min: number; max: number }, what: string, file: string): UnitChoice {
  const fits = (Object.entries(LENGTH_UNITS) as Array<[LengthUnit, number]>).filter(([, metres]) => measure * metres >= range.min && measure * metres <= range.max);
  const readings = (Object.entries(LENGTH_UNITS) as Array<[LengthUnit, number]>).map(([unit, metres]) => `${round(measure * metres)} m in ${PLURAL[unit]}`).join(', ');
  if (fits.length !== 1)
    throw new WalkoutError(
      'STORE_INVALID',
      `${file}: cannot tell its unit: ${what} is ${round(measure, 4)}, which is ${readings}; ${fits.length === 0 ? 'none' : fits.map(([unit]) => PLURAL[unit]).join(' and ')} of these within ${range.min} to ${range.max} m. Give the unit (--calibration-unit, --layout-unit)`,
    );
  const [unit, metres] = fits[0];
  return { unit, metres, reason: `${what} is ${round(measure, 4)}: ${round(measure * metres)} m in ${PLURAL[unit]}, the only unit within ${range.min} to ${range.max} m` };
}

const given = (unit: LengthUnit): UnitChoice => ({ unit, metres: LENGTH_UNITS[unit], reason: 'given' });

/** Gondola heights (z of the corner plus height, through their shelves' clearance): the tallest one. */
function tallestGondola(meta: StoreMeta): number {
  return Math.max(...meta.gondolas.map((g) => g.pose.translation[2] + g.size[2]));
}

export function detectUnits(meta: StoreMeta, override: { calibration?: LengthUnit; layout?: LengthUnit } = {}): StoreMetaUnits {
  if (meta.cameras.length === 0 && !override.calibration)
    throw new WalkoutError('CALIBRATION_INVALID', `${meta.folder}/calibration.json has no colour camera to tell its unit by: give --calibration-unit`);
  const calibration = override.calibration
    ? given(override.calibration)
    : unitBy(median(meta.cameras.map((c) => c.cameraToWorld[2][3])), CEILING_CAMERA_HEIGHT_M, 'the median camera height (Tw z)', `${meta.folder}/calibration.json`);
  const layout = override.layout ? given(override.layout) : unitBy(tallestGondola(meta), GONDOLA_HEIGHT_M, 'the tallest gondola (translation z + dim_z)', `${meta.folder}/Gondolas.json`);
  const notes: string[] = [];
  if (calibration.unit !== layout.unit)
    notes.push(`calibration.json is in ${PLURAL[calibration.unit]} and the layout files in ${PLURAL[layout.unit]}: both converted to metres`);
  notes.push(...gondolasOffTheFloor(meta, calibration.metres, layout.metres));
  return { calibration, layout, notes };
}

/** Gondola corners (before rotation: translation only) beyond the floor's extent: the two units, or the two frames, disagree. */
function gondolasOffTheFloor(meta: StoreMeta, calibrationMetres: number, layoutMetres: number): string[] {
  const [left, top, right, bottom] = meta.worldLtrb.map((v) => v * calibrationMetres);
  const [minX, maxX, minY, maxY] = [Math.min(left, right), Math.max(left, right), Math.min(top, bottom), Math.max(top, bottom)];
  return meta.gondolas
    .filter((g) => {
      const [x, y] = g.pose.translation.map((v) => v * layoutMetres);
      return x < minX - FLOOR_SLACK_M || x > maxX + FLOOR_SLACK_M || y < minY - FLOOR_SLACK_M || y > maxY + FLOOR_SLACK_M;
    })
    .map((g) => {
      const [x, y] = g.pose.translation.map((v) => round(v * layoutMetres));
      return `gondola ${g.gondola} stands at (${x}, ${y}) m, outside the calibrated floor (${round(minX)} to ${round(maxX)}, ${round(minY)} to ${round(maxY)} m): the layout and the calibration may not share a unit or a frame`;
    });
}
