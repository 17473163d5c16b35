import assert from 'node:assert/strict';
import test from 'node:test';
import type { Vec3 } from '../contracts/index.ts';
import { HIT_CONE, Material, RoundConeCaster, type ShapeSpec } from './round-cone.primitive.ts';

// A camera at the store origin looking along +x (camera z), image x = store -y, image y = store -z.
const R = [
  [0, -1, 0],
  [0, 0, -1],
  [1, 0, 0],
];
const CENTRE: Vec3 = [0, 0, 0];

function shape(a: Vec3, b: Vec3, r1: number, r2: number): ShapeSpec {
  const d: Vec3 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const length = Math.hypot(...d);
  const w: Vec3 = length > 0 ? [d[0] / length, d[1] / length, d[2] / length] : [0, 0, 1];
  const e1n = Math.abs(w[0]) < 0.9 ? ([0, w[2], -w[1]] as Vec3) : ([-w[2], 0, w[0]] as Vec3);
  const l1 = Math.hypot(...e1n);
  const e1: Vec3 = [e1n[0] / l1, e1n[1] / l1, e1n[2] / l1];
  const e2: Vec3 = [w[1] * e1[2] - w[2] * e1[1], w[2] * e1[0] - w[0] * e1[2], w[0] * e1[1] - w[1] * e1[0]];
  return {
    origin: a, axes: [e1, e2, w], r1, r2, length, boundsCentre: a, boundsRadius: length + Math.max(r1, r2),
    material: Material.Solid, colour: [0, 0, 0], colour2: [0, 0, 0], split: 0,
  };
}

/** Signed distance to a round cone, the textbook way (independent of the caster's algebra). */
function roundConeDistance(p: Vec3, a: Vec3, b: Vec3, r1: number, r2: number): number {
  // Distance to the swept spheres: min over the segment of |p - c(s)| - r(s), sampled finely.
  let best = Infinity;
  for (let i = 0; i <= 4000; i++) {
    const s = i / 4000;
    const c = [a[0] + (b[0] - a[0]) * s, a[1] + (b[1] - a[1]) * s, a[2] + (b[2] - a[2]) * s];
    best = Math.min(best, Math.hypot(p[0] - c[0], p[1] - c[1], p[2] - c[2]) - (r1 + (r2 - r1) * s));
  }
  return best;
}

/** March a ray until it enters the shape (the swept-sphere distance is a lower bound, so this is safe). */
function marchedDepth(x: number, y: number, a: Vec3, b: Vec3, r1: number, r2: number): number {
  // Camera ray (x, y, 1) in the store frame: z_cam along +x, x_cam along -y, y_cam along -z.
  const dir: Vec3 = [1, -x, -y];
  // t is camera depth, not distance: a step of d metres along the ray is d / |dir| in t.
  const metresPerT = Math.hypot(...dir);
  let t = 0.05;
  for (let i = 0; i < 4000 && t < 20; i++) {
    const d = roundConeDistance([dir[0] * t, dir[1] * t, dir[2] * t], a, b, r1, r2);
    if (d < 1e-5) return t;
    t += Math.max(d, 1e-5) / metresPerT;
  }
  return Infinity;
}

test('cast depth of a tapered round cone agrees with sphere tracing on a grid of rays', () => {
  const a: Vec3 = [3, 0.2, 0.1];
  const b: Vec3 = [3.4, -0.3, -0.35];
  const r1 = 0.12;
  const r2 = 0.05;
  const caster = new RoundConeCaster(shape(a, b, r1, r2));
  caster.prepare(R, CENTRE);
  let hits = 0;
  let coneHits = 0;
  for (let i = 0; i <= 20; i++)
    for (let j = 0; j <= 20; j++) {
      const x = -0.2 + (0.35 * i) / 20;
      const y = -0.2 + (0.4 * j) / 20;
      const cast = caster.cast(x, y, 0.05, 100);
      const marched = marchedDepth(x, y, a, b, r1, r2);
      if (marched === Infinity) {
        assert.equal(cast, Infinity, `ray (${x}, ${y}) should miss`);
        continue;
      }
      hits++;
      if (caster.hitPart === HIT_CONE) coneHits++;
      assert.ok(Math.abs(cast - marched) < 2e-3, `ray (${x.toFixed(3)}, ${y.toFixed(3)}): cast ${cast}, marched ${marched}`);
    }
  assert.ok(hits > 40, `only ${hits} rays hit`);
  assert.ok(coneHits > 10, 'the cone band between the spheres must be exercised');
});

test('the normal at a hit is the outward unit normal (gradient of the distance)', () => {
  const a: Vec3 = [2.5, 0.1, 0];
  const b: Vec3 = [2.8, -0.2, -0.3];
  const caster = new RoundConeCaster(shape(a, b, 0.1, 0.06));
  caster.prepare(R, CENTRE);
  const normal = new Float64Array(3);
  let checked = 0;
  for (let i = 0; i < 15; i++)
    for (let j = 0; j < 15; j++) {
      const x = -0.08 + (0.2 * i) / 14;
      const y = -0.1 + (0.25 * j) / 14;
      const t = caster.cast(x, y, 0.05, 100);
      if (t === Infinity) continue;
      caster.normal(normal);
      const p: Vec3 = [t, -x * t, -y * t];
      const h = 1e-4;
      const grad = [0, 1, 2].map((k) => {
        const plus = [...p] as Vec3;
        const minus = [...p] as Vec3;
        plus[k] += h;
        minus[k] -= h;
        return (roundConeDistance(plus, a, b, 0.1, 0.06) - roundConeDistance(minus, a, b, 0.1, 0.06)) / (2 * h);
      });
      const g = Math.hypot(...grad);
      const cos = (normal[0] * grad[0] + normal[1] * grad[1] + normal[2] * grad[2]) / g;
      assert.ok(Math.abs(Math.hypot(normal[0], normal[1], normal[2]) - 1) < 1e-9);
      assert.ok(cos > 0.98, `normal off by ${((Math.acos(Math.min(1, cos)) * 180) / Math.PI).toFixed(1)} degrees`);
      checked++;
    }
  assert.ok(checked > 20);
});

test('an ellipsoid (scaled unit sphere) is hit at its analytic depth; a sphere inside a bigger one casts as the bigger', () => {
  const centre: Vec3 = [4, 0, 0];
  const ellipsoid: ShapeSpec = {
    origin: centre, axes: [[1 / 0.2, 0, 0], [0, 1 / 0.1, 0], [0, 0, 1 / 0.3]], r1: 1, r2: 1, length: 0,
    boundsCentre: centre, boundsRadius: 0.3, material: Material.Head, colour: [0, 0, 0], colour2: [0, 0, 0], split: 0,
  };
  const caster = new RoundConeCaster(ellipsoid);
  caster.prepare(R, CENTRE);
  // Straight down the optical axis the first surface is the x half-axis: 4 - 0.2.
  assert.ok(Math.abs(caster.cast(0, 0, 0.05, 100) - 3.8) < 1e-9);
  // Towards store +z (image up, y < 0) the ray meets the tall z half-axis, so it still hits at y = -0.07.
  assert.notEqual(caster.cast(0, -0.07, 0.05, 100), Infinity);
  // Along store y the half-axis is only 0.1: x = -0.03 (store y = 0.12 at depth 4) misses.
  assert.equal(caster.cast(-0.03, 0, 0.05, 100), Infinity);

  const nested = new RoundConeCaster(shape([3, 0, 0], [3.01, 0, 0], 0.05, 0.2));
  nested.prepare(R, CENTRE);
  assert.ok(Math.abs(nested.cast(0, 0, 0.05, 100) - (3.01 - 0.2)) < 1e-9);
  // Nothing nearer than `far` is reported.
  assert.equal(nested.cast(0, 0, 0.05, 2.5), Infinity);
});
