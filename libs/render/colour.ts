import { WalkoutError } from '../contracts/index.ts';

export type Rgb = [number, number, number];

/** '#rrggbb' to [r, g, b] in 0..255. */
export function parseHexColour(hex: string): Rgb {
  const m = /^#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})$/.exec(hex);
  if (!m) throw new WalkoutError('CONFIG_INVALID', `"${hex}" is not a colour of the form #rrggbb`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

export function mixColour(a: Rgb, b: Rgb, share: number): Rgb {
  return [a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share, a[2] + (b[2] - a[2]) * share];
}
