import test from 'node:test';
import assert from 'node:assert/strict';
import { chiSquareUpperTail } from './chi-square.stats.ts';

test('the chi-square upper tail agrees with published critical values', () => {
  // [chi2, dof, upper tail]: critical values as tabulated in statistics references.
  const table: Array<[number, number, number]> = [
    [3.841, 1, 0.05],
    [10.828, 1, 0.001],
    [5.991, 2, 0.05],
    [13.816, 2, 0.001],
    [7.815, 3, 0.05],
    [9.488, 4, 0.05],
    [18.467, 4, 0.001],
    [23.513, 4, 0.0001],
    [20.515, 5, 0.001],
    [2.342, 4, 0.673],
    [31.264, 11, 0.001],
  ];
  for (const [chi2, dof, tail] of table) {
    const got = chiSquareUpperTail(chi2, dof);
    assert.ok(Math.abs(got / tail - 1) < 2e-3, `chi2 ${chi2} on ${dof}: ${got}, want ${tail}`);
  }
  // Two degrees of freedom have a closed form: exp(-chi2 / 2), far into the tail too.
  for (const chi2 of [0.5, 3, 40, 400]) assert.ok(Math.abs(chiSquareUpperTail(chi2, 2) / Math.exp(-chi2 / 2) - 1) < 1e-9, `chi2 ${chi2}`);
  assert.equal(chiSquareUpperTail(0, 3), 1);
  assert.equal(chiSquareUpperTail(Infinity, 3), 0);
  assert.throws(() => chiSquareUpperTail(1, 0), /degrees of freedom/);
});
