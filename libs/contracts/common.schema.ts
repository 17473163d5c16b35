import { z } from 'zod';

/** Shared building blocks for every schema: units are in the names (metres, grams, ms). */

export const SCHEMA_VERSION = 1 as const;

export const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'ids are lower-case letters, digits, dot, dash or underscore')
  .describe('A stable identifier, lower-case, e.g. "cam-3" or "g2-s5-l4".');

export const Vec2 = z.tuple([z.number(), z.number()]).describe('A point [x, y] on the store floor in metres.');
export const Vec3 = z
  .tuple([z.number(), z.number(), z.number()])
  .describe('A point [x, y, z] in the store frame in metres: x and y on the floor, z up from the floor.');

export const Box3 = z
  .strictObject({
    min: Vec3.describe('Corner with the smallest x, y and z.'),
    max: Vec3.describe('Corner with the largest x, y and z.'),
  })
  .describe('An axis-aligned box in the store frame, metres.');

export const Polygon = z
  .array(Vec2)
  .min(3)
  .describe('A simple polygon on the floor, corners in order, metres; the last corner joins the first.');

export const StoreClockMs = z
  .number()
  .int()
  .nonnegative()
  .describe('Store-clock time in milliseconds since the Unix epoch.');

/**
 * StoreClockMs's rule as a plain predicate, for readers that check every row of a stream, where a
 * schema parse per value would cost more than the read. zod's int() admits only safe integers.
 */
export const isStoreClockMs = (ts: number): boolean => Number.isSafeInteger(ts) && ts >= 0;

export type Vec2 = z.infer<typeof Vec2>;
export type Vec3 = z.infer<typeof Vec3>;
export type Box3 = z.infer<typeof Box3>;
export type Polygon = z.infer<typeof Polygon>;

/** A file within a recording folder, relative to it: never absolute, never climbing out with `..`. */
export const RelativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), 'paths stay inside the recording folder')
  .describe('A path relative to the recording folder.');
