import type { Vec3 } from '../contracts/index.ts';
import type { Mat3 } from './camera.ts';

/**
 * The little linear algebra camera geometry needs: 3-vectors, 3x3 matrices, a dense solve for small
 * systems and a symmetric eigen-solver. Written here rather than pulled in because the sizes are tiny
 * (at most 4x4) and plain arrays keep the hot loops allocation-light and dependency-free.
 */

/** A dense row-major matrix of any small size. */
export type Matrix = number[][];

export const add3 = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
export const sub3 = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
export const scale3 = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
export const dot3 = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
export const cross3 = (a: Vec3, b: Vec3): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
export const norm3 = (a: Vec3): number => Math.hypot(a[0], a[1], a[2]);
export const distance3 = (a: Vec3, b: Vec3): number => norm3(sub3(a, b));

/** Unit vector along `a`; throws on a zero vector, which always means a caller bug upstream. */
export function normalize3(a: Vec3): Vec3 {
  const length = norm3(a);
  if (!(length > 0) || !Number.isFinite(length)) throw new Error(`normalize3: cannot normalise [${a.join(', ')}]`);
  return scale3(a, 1 / length);
}

export const mat3MulVec = (m: Mat3, v: Vec3): Vec3 => [dot3(m[0], v), dot3(m[1], v), dot3(m[2], v)];

/** m^T v without building the transpose (rotations are stored world-to-camera; this goes back). */
export const mat3TransposeMulVec = (m: Mat3, v: Vec3): Vec3 => [
  m[0][0] * v[0] + m[1][0] * v[1] + m[2][0] * v[2],
  m[0][1] * v[0] + m[1][1] * v[1] + m[2][1] * v[2],
  m[0][2] * v[0] + m[1][2] * v[1] + m[2][2] * v[2],
];

export const mat3Transpose = (m: Mat3): Mat3 => [
  [m[0][0], m[1][0], m[2][0]],
  [m[0][1], m[1][1], m[2][1]],
  [m[0][2], m[1][2], m[2][2]],
];

export function mat3Mul(a: Mat3, b: Mat3): Mat3 {
  const row = (r: Vec3): Vec3 => [
    r[0] * b[0][0] + r[1] * b[1][0] + r[2] * b[2][0],
    r[0] * b[0][1] + r[1] * b[1][1] + r[2] * b[2][1],
    r[0] * b[0][2] + r[1] * b[1][2] + r[2] * b[2][2],
  ];
  return [row(a[0]), row(a[1]), row(a[2])];
}

export const mat3Det = (m: Mat3): number => dot3(m[0], cross3(m[1], m[2]));

/** A pivot this small against the largest entry of the matrix means the system has no unique solution. */
const SINGULAR_RELATIVE = 1e-13;

/** Inverse by the adjugate; null when the matrix is singular relative to its own scale. */
export function mat3Inverse(m: Mat3): Mat3 | null {
  // Columns of the adjugate are the cross products of the rows.
  const c0 = cross3(m[1], m[2]);
  const c1 = cross3(m[2], m[0]);
  const c2 = cross3(m[0], m[1]);
  const det = dot3(m[0], c0);
  const scale = Math.max(...m.flat().map(Math.abs));
  if (!(Math.abs(det) > SINGULAR_RELATIVE * scale ** 3)) return null;
  const s = 1 / det;
  return [
    [c0[0] * s, c1[0] * s, c2[0] * s],
    [c0[1] * s, c1[1] * s, c2[1] * s],
    [c0[2] * s, c1[2] * s, c2[2] * s],
  ];
}

export const identity3 = (): Mat3 => [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

/**
 * Solves A x = b for a small square system by Gaussian elimination with partial pivoting. Returns
 * null when A is singular (to working precision). A and b are not modified.
 */
export function solveLinear(A: Matrix, b: number[]): number[] | null {
  const n = b.length;
  if (A.length !== n || A.some((row) => row.length !== n)) throw new Error(`solveLinear: A must be ${n}x${n}`);
  const m = A.map((row, i) => [...row, b[i]]);
  const scale = Math.max(0, ...A.flat().map(Math.abs));
  if (scale === 0) return null;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    if (!(Math.abs(m[pivot][col]) > SINGULAR_RELATIVE * scale)) return null;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const f = m[r][col] / m[col][col];
      if (f === 0) continue;
      for (let c = col; c <= n; c++) m[r][c] -= f * m[col][c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let c = r + 1; c < n; c++) s -= m[r][c] * x[c];
    x[r] = s / m[r][r];
  }
  return x;
}

/** Sweeps of the cyclic Jacobi method; a 4x4 converges in 5 to 8, so hitting this means bad input (NaN). */
const JACOBI_MAX_SWEEPS = 50;

export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: number[];
  /** vectors[i] is the unit eigenvector for values[i]. */
  vectors: number[][];
}

/**
 * Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations. Jacobi is slow for big
 * matrices but accurate to the last bits for small ones, including the smallest eigenvalue that the
 * DLT needs, and it is short enough to check by eye.
 */
export function symmetricEigen(A: Matrix): SymmetricEigen {
  const n = A.length;
  const a = A.map((row) => {
    if (row.length !== n) throw new Error('symmetricEigen: matrix must be square');
    return [...row];
  });
  const v: Matrix = a.map((_, i) => a.map((__, j) => (i === j ? 1 : 0)));
  const offDiagonal = () => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += a[i][j] * a[i][j];
    return s;
  };
  const total = a.flat().reduce((s, x) => s + x * x, 0);
  for (let sweep = 0; sweep < JACOBI_MAX_SWEEPS; sweep++) {
    if (offDiagonal() <= Number.EPSILON ** 2 * total) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        if (a[p][q] === 0) continue;
        // The rotation angle that zeroes a[p][q], in the numerically stable form (Golub & Van Loan 8.4).
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  const order = a.map((_, i) => i).sort((i, j) => a[i][i] - a[j][j]);
  return { values: order.map((i) => a[i][i]), vectors: order.map((i) => v.map((row) => row[i])) };
}
