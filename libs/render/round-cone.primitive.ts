import type { Vec3 } from '../contracts/index.ts';

/**
 * The one shape people are made of: a round cone, two spheres (radius r1 at the local origin, r2 at
 * local (0, 0, length)) joined by the cone tangent to both, seen through a linear map from the store
 * frame into its local frame. With a rotation the map gives tapered limbs; with a scale as well it
 * gives ellipsoids (length 0) and a torso flattened front to back. Rays are cast analytically, so a
 * figure is smooth at any size and costs a few dozen flops per covered pixel.
 *
 * Derivation, in the local frame with the axis along z: a point at axial height y and distance x
 * from the axis is inside the cone part when x cos(a) + y sin(a) <= r1, where sin(a) = (r1 - r2) /
 * length; the cone touches sphere 1 at y = r1 sin(a) and sphere 2 at y = length + r2 sin(a).
 * Squaring gives a quadratic in the ray parameter; the right nappe is where r1 - y sin(a) >= 0.
 * The first hit of the union of the two spheres and that cone band is the first hit of the shape:
 * the flat caps of the band lie inside the spheres, so a ray entering through a cap has already
 * entered a sphere.
 */

/** How a primitive chooses its colour at a hit point (in its local frame). */
export const enum Material {
  /** One colour. */
  Solid = 0,
  /** Shirt colour above local z = split, trousers colour below, a darker belt in between. */
  Torso = 1,
  /** Skin with hair on the top and back of a unit sphere (local x across, y forward, z up). */
  Head = 2,
}

export const HIT_NONE = 0;
export const HIT_SPHERE_1 = 1;
export const HIT_SPHERE_2 = 2;
export const HIT_CONE = 3;

export interface ShapeSpec {
  /** Store-frame origin of the local frame (centre of sphere 1). */
  origin: Vec3;
  /** Rows are the local x, y and z axes in the store frame, each divided by its scale (metres per local unit). */
  axes: [Vec3, Vec3, Vec3];
  r1: number;
  r2: number;
  /** Distance between sphere centres along local z, local units. */
  length: number;
  /** A store-frame bounding sphere for culling and screen bounds. */
  boundsCentre: Vec3;
  boundsRadius: number;
  material: Material;
  colour: [number, number, number];
  /** Second colour (trousers for Torso, hair for Head). */
  colour2: [number, number, number];
  /** Torso: local z where the shirt ends. */
  split: number;
}

/**
 * A shape ready for casting from one camera: the store-to-local map composed with the camera pose,
 * and every per-ray constant precomputed. Plain numeric fields keep the inner loop monomorphic.
 */
export class RoundConeCaster {
  // Camera frame to local frame, row-major.
  m00 = 0; m01 = 0; m02 = 0;
  m10 = 0; m11 = 0; m12 = 0;
  m20 = 0; m21 = 0; m22 = 0;
  // The camera centre in local coordinates: every ray starts there.
  ox = 0; oy = 0; oz = 0;
  r1 = 0; r2 = 0; length = 0;
  sinA = 0; cosA = 1; cos2 = 1;
  /** Axial range of the cone band. */
  yLow = 0; yHigh = 0;
  /** |o|^2 - r1^2 and |o - (0,0,length)|^2 - r2^2. */
  c1 = 0; c2 = 0;
  /** Cone constants: E0 = r1 - sin(a) oz, C = E0^2 - cos^2(a) (ox^2 + oy^2). */
  e0 = 0; coneC = 0;
  /** One sphere contains the other: only the bigger one is cast. */
  sphereOnly = false;
  // Hit record of the last successful cast.
  hitPart = HIT_NONE;
  hx = 0; hy = 0; hz = 0;

  constructor(readonly spec: ShapeSpec) {}

  /** Re-targets the caster at a camera with world-to-camera rotation R and centre C (store frame). */
  prepare(R: readonly (readonly number[])[], centre: Vec3): void {
    const a = this.spec.axes;
    // Local = A (p_world - origin) and p_world = R^T p_cam + C, so the camera-to-local map is A R^T.
    const m = (i: number, j: number) => a[i][0] * R[j][0] + a[i][1] * R[j][1] + a[i][2] * R[j][2];
    this.m00 = m(0, 0); this.m01 = m(0, 1); this.m02 = m(0, 2);
    this.m10 = m(1, 0); this.m11 = m(1, 1); this.m12 = m(1, 2);
    this.m20 = m(2, 0); this.m21 = m(2, 1); this.m22 = m(2, 2);
    const d = [centre[0] - this.spec.origin[0], centre[1] - this.spec.origin[1], centre[2] - this.spec.origin[2]];
    this.ox = a[0][0] * d[0] + a[0][1] * d[1] + a[0][2] * d[2];
    this.oy = a[1][0] * d[0] + a[1][1] * d[1] + a[1][2] * d[2];
    this.oz = a[2][0] * d[0] + a[2][1] * d[1] + a[2][2] * d[2];
    let { r1, r2, length } = this.spec;
    this.sphereOnly = length <= Math.abs(r1 - r2) + 1e-9;
    if (this.sphereOnly && r2 > r1) {
      // Keep the bigger sphere as sphere 1.
      this.oz -= length;
      r1 = r2;
      length = 0;
    }
    this.r1 = r1;
    this.r2 = r2;
    this.length = this.sphereOnly ? 0 : length;
    this.c1 = this.ox * this.ox + this.oy * this.oy + this.oz * this.oz - r1 * r1;
    const oz2 = this.oz - this.length;
    this.c2 = this.ox * this.ox + this.oy * this.oy + oz2 * oz2 - r2 * r2;
    if (!this.sphereOnly) {
      this.sinA = (r1 - r2) / length;
      this.cos2 = 1 - this.sinA * this.sinA;
      this.cosA = Math.sqrt(this.cos2);
      this.yLow = r1 * this.sinA;
      this.yHigh = length + r2 * this.sinA;
      this.e0 = r1 - this.sinA * this.oz;
      this.coneC = this.e0 * this.e0 - this.cos2 * (this.ox * this.ox + this.oy * this.oy);
    }
  }

  /**
   * Casts the camera-frame ray (x, y, 1); returns the camera depth of the first hit beyond `nearM`
   * and before `farM`, or Infinity. On a hit, hitPart and the local hit point are set.
   */
  cast(x: number, y: number, nearM: number, farM: number): number {
    const dx = this.m00 * x + this.m01 * y + this.m02;
    const dy = this.m10 * x + this.m11 * y + this.m12;
    const dz = this.m20 * x + this.m21 * y + this.m22;
    const ox = this.ox;
    const oy = this.oy;
    const oz = this.oz;
    const dd = dx * dx + dy * dy + dz * dz;
    let best = farM;
    let part = HIT_NONE;
    let b = ox * dx + oy * dy + oz * dz;
    let disc = b * b - dd * this.c1;
    if (disc >= 0) {
      const t = (-b - Math.sqrt(disc)) / dd;
      if (t > nearM && t < best) {
        best = t;
        part = HIT_SPHERE_1;
      }
    }
    if (!this.sphereOnly) {
      const oz2 = oz - this.length;
      b = ox * dx + oy * dy + oz2 * dz;
      disc = b * b - dd * this.c2;
      if (disc >= 0) {
        const t = (-b - Math.sqrt(disc)) / dd;
        if (t > nearM && t < best) {
          best = t;
          part = HIT_SPHERE_2;
        }
      }
      const e1 = -this.sinA * dz;
      const qa = e1 * e1 - this.cos2 * (dx * dx + dy * dy);
      const qb = this.e0 * e1 - this.cos2 * (ox * dx + oy * dy);
      const qc = this.coneC;
      let tA = Infinity;
      let tB = Infinity;
      if (Math.abs(qa) > 1e-12) {
        disc = qb * qb - qa * qc;
        if (disc >= 0) {
          const s = Math.sqrt(disc);
          const u = (-qb - s) / qa;
          const v = (-qb + s) / qa;
          tA = u < v ? u : v;
          tB = u < v ? v : u;
        }
      } else if (Math.abs(qb) > 1e-12) {
        tA = -qc / (2 * qb);
      }
      for (let k = 0; k < 2; k++) {
        const t = k === 0 ? tA : tB;
        if (!(t > nearM && t < best)) continue;
        const axial = oz + t * dz;
        if (this.e0 + t * e1 >= 0 && axial >= this.yLow && axial <= this.yHigh) {
          best = t;
          part = HIT_CONE;
          break;
        }
      }
    }
    if (part === HIT_NONE) return Infinity;
    this.hitPart = part;
    this.hx = ox + best * dx;
    this.hy = oy + best * dy;
    this.hz = oz + best * dz;
    return best;
  }

  /**
   * The outward unit normal at the last hit, in the store frame, written to out. The gradient of
   * the local implicit surface maps back through the transpose of the store-to-local map.
   */
  normal(out: Float64Array): void {
    let nx: number;
    let ny: number;
    let nz: number;
    if (this.hitPart === HIT_CONE) {
      const radial = Math.sqrt(this.hx * this.hx + this.hy * this.hy) || 1;
      nx = (this.hx / radial) * this.cosA;
      ny = (this.hy / radial) * this.cosA;
      nz = this.sinA;
    } else if (this.hitPart === HIT_SPHERE_2) {
      nx = this.hx;
      ny = this.hy;
      nz = this.hz - this.length;
    } else {
      nx = this.hx;
      ny = this.hy;
      nz = this.hz;
    }
    const a = this.spec.axes;
    const wx = a[0][0] * nx + a[1][0] * ny + a[2][0] * nz;
    const wy = a[0][1] * nx + a[1][1] * ny + a[2][1] * nz;
    const wz = a[0][2] * nx + a[1][2] * ny + a[2][2] * nz;
    const l = Math.sqrt(wx * wx + wy * wy + wz * wz) || 1;
    out[0] = wx / l;
    out[1] = wy / l;
    out[2] = wz / l;
  }
}
