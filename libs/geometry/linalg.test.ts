import test from 'node:test';
import assert from 'node:assert/strict';
import type { Mat3 } from './camera.ts';
import { seededRandom } from './camera.fixture.ts';
import { identity3, mat3Det, mat3Inverse, mat3Mul, solveLinear, symmetricEigen, type Matrix } from './linalg.ts';

const close = (a: number, b: number, tolerance = 1e-12) => Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));

test('solveLinear solves a pivoting-hungry system and refuses a singular one', () => {
  // A zero on the diagonal forces a row swap.
  const A: Matrix = [
    [0, 2, 1],
    [1, -1, 0],
    [3, 0, 4],
  ];
  const x = solveLinear(A, [5, -1, 7])!;
  [1, 2, 1].forEach((expected, i) => assert.ok(close(x[i], expected), `x[${i}] = ${x[i]}`));
  assert.equal(
    solveLinear(
      [
        [1, 2],
        [2, 4],
      ],
      [1, 2],
    ),
    null,
  );
});

test('mat3Inverse gives the identity back and refuses a singular matrix', () => {
  const m: Mat3 = [
    [2, -1, 0.5],
    [0.3, 4, 1],
    [1, 0, 3],
  ];
  const product = mat3Mul(m, mat3Inverse(m)!);
  const I = identity3();
  product.forEach((row, i) => row.forEach((v, j) => assert.ok(close(v, I[i][j]), `(${i}, ${j}) = ${v}`)));
  assert.ok(close(mat3Det(m), 2 * 12 + 1 * (0.9 - 1) + 0.5 * -4));
  assert.equal(
    mat3Inverse([
      [1, 2, 3],
      [2, 4, 6],
      [0, 1, 1],
    ]),
    null,
  );
});

test('symmetricEigen decomposes random symmetric matrices: A v = lambda v, orthonormal, ascending', () => {
  const random = seededRandom(3);
  for (let trial = 0; trial < 50; trial++) {
    const n = 2 + (trial % 4);
    const A: Matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) A[i][j] = A[j][i] = (random() - 0.5) * 10 ** (trial % 3);
    const { values, vectors } = symmetricEigen(A);
    for (let k = 1; k < n; k++) assert.ok(values[k] >= values[k - 1]);
    vectors.forEach((v, k) => {
      const Av = A.map((row) => row.reduce((s, a, j) => s + a * v[j], 0));
      Av.forEach((x, i) => assert.ok(Math.abs(x - values[k] * v[i]) < 1e-12 * 10 ** (trial % 3), `trial ${trial}: A v != lambda v`));
      vectors.forEach((w, l) => assert.ok(close(v.reduce((s, x, i) => s + x * w[i], 0), k === l ? 1 : 0)));
    });
  }
});

test('symmetricEigen finds an exact null vector, as the DLT needs', () => {
  // Rank 3: the rows of B are orthogonal to [1, -2, 1, 3], so B^T B has it as its null vector.
  const B: Matrix = [
    [2, 1, 0, 0],
    [0, 3, 6, 0],
    [3, 0, 0, -1],
    [1, 1, 1, 0],
  ];
  const BtB = B[0].map((_, i) => B[0].map((__, j) => B.reduce((s, row) => s + row[i] * row[j], 0)));
  const { values, vectors } = symmetricEigen(BtB);
  assert.ok(Math.abs(values[0]) < 1e-12);
  const v = vectors[0].map((x) => x / vectors[0][0]);
  [1, -2, 1, 3].forEach((expected, i) => assert.ok(close(v[i], expected, 1e-10), `v = ${v}`));
});
