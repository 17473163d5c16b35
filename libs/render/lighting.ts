/**
 * One light for the whole store: the ceiling panels, approximated by a direction slightly off the
 * vertical (so vertical faces facing one way are brighter than the other, which shows 3D form) plus
 * an ambient term for light bounced off floor and walls. Surfaces facing the floor get less of the
 * ambient: that darkens undersides (chins, under arms) the way a room does.
 *
 * Shops are lit brightly and evenly, and cameras expose for it: a strong ambient share. Measured on
 * the kiosk renders, going from a moody 0.38 ambient / 0.72 direct to 0.65 / 0.5 lifted MoveNet's
 * wrist recall from 0.68 to 0.79 (faces and forearms were in shadow).
 */
const LIGHT_TOWARDS = normalise([0.35, 0.25, 1]);
const AMBIENT = 0.65;
const AMBIENT_FROM_BELOW = 0.45;
const DIFFUSE = 0.5;

function normalise(v: [number, number, number]): [number, number, number] {
  const l = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / l, v[1] / l, v[2] / l];
}

const [LX, LY, LZ] = LIGHT_TOWARDS;

/** Brightness factor for a unit store-frame normal (about 0.2 .. 1.1). */
export function lambert(nx: number, ny: number, nz: number): number {
  const direct = nx * LX + ny * LY + nz * LZ;
  const ambient = AMBIENT_FROM_BELOW + (AMBIENT - AMBIENT_FROM_BELOW) * (0.5 + 0.5 * nz);
  return ambient + (direct > 0 ? DIFFUSE * direct : 0);
}
