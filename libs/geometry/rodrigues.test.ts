import test from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../contracts/index.ts';
import { mat3Det, mat3Mul, mat3MulVec, mat3Transpose } from './linalg.ts';
import { rodriguesToMatrix } from './rodrigues.ts';

const close = (actual: Vec3, expected: Vec3, tolerance = 1e-12) =>
  actual.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) < tolerance, `${actual} is not ${expected}`));

test('a quarter turn about z takes x to y, and about x takes y to z (right-handed)', () => {
  close(mat3MulVec(rodriguesToMatrix([0, 0, Math.PI / 2]), [1, 0, 0]), [0, 1, 0]);
  close(mat3MulVec(rodriguesToMatrix([0, 0, -Math.PI / 2]), [0, -1, 0]), [-1, 0, 0]);
  close(mat3MulVec(rodriguesToMatrix([Math.PI / 2, 0, 0]), [0, 1, 0]), [0, 0, 1]);
});

test('the axis stays put, the matrix is a proper rotation, and the opposite vector undoes it', () => {
  const vector: Vec3 = [0.3, -1.1, 0.7];
  const matrix = rodriguesToMatrix(vector);
  close(mat3MulVec(matrix, vector), vector);
  assert.ok(Math.abs(mat3Det(matrix) - 1) < 1e-12);
  const product = mat3Mul(matrix, rodriguesToMatrix([-vector[0], -vector[1], -vector[2]]));
  product.forEach((row, i) => close(row, [0, 1, 2].map((j) => (i === j ? 1 : 0)) as Vec3));
  mat3Mul(matrix, mat3Transpose(matrix)).forEach((row, i) => close(row, [0, 1, 2].map((j) => (i === j ? 1 : 0)) as Vec3));
  // The angle is the vector's length: a point at right angles to the axis turns by exactly that much.
  const angle = Math.hypot(...vector);
  const across: Vec3 = [1.1, 0.3, 0];
  const turned = mat3MulVec(matrix, across);
  const cos = (across[0] * turned[0] + across[1] * turned[1] + across[2] * turned[2]) / (across[0] ** 2 + across[1] ** 2);
  assert.ok(Math.abs(cos - Math.cos(angle)) < 1e-12);
});

test('a zero vector is no rotation', () => {
  close(mat3MulVec(rodriguesToMatrix([0, 0, 0]), [1, 2, 3]), [1, 2, 3]);
});
