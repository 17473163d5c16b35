import assert from 'node:assert/strict';
import test from 'node:test';
import { createRandom } from '../sim/random.ts';
import { minCostAssignment, type AssignedPair } from './assignment.ts';

const X = Infinity;

const total = (costs: number[][], pairs: AssignedPair[]) => pairs.reduce((sum, [i, j]) => sum + costs[i][j], 0);

/**
 * Every partial pairing, by brute force: the most allowed pairs, then the least cost. Returns that
 * count and cost (several pairings may tie).
 */
function bruteForce(costs: number[][]): { pairs: number; cost: number } {
  const rows = costs.length;
  const columns = rows ? costs[0].length : 0;
  let best = { pairs: 0, cost: 0 };
  const taken = new Array<boolean>(columns).fill(false);
  const visit = (row: number, pairs: number, cost: number) => {
    if (row === rows) {
      if (pairs > best.pairs || (pairs === best.pairs && cost < best.cost)) best = { pairs, cost };
      return;
    }
    visit(row + 1, pairs, cost);
    for (let j = 0; j < columns; j++) {
      if (taken[j] || !Number.isFinite(costs[row][j])) continue;
      taken[j] = true;
      visit(row + 1, pairs + 1, cost + costs[row][j]);
      taken[j] = false;
    }
  };
  visit(0, 0, 0);
  return best;
}

test('a square matrix: the cheapest pairing, not the greedy one', () => {
  // Greedy would take the 1 (row 0, column 0) and then be forced to pay 10.
  const costs = [
    [1, 2],
    [2, 10],
  ];
  assert.deepEqual(minCostAssignment(costs), [
    [0, 1],
    [1, 0],
  ]);
});

test('the classic 3 x 3: total 5 (worked by hand: 1 + 2 + 2)', () => {
  const costs = [
    [4, 1, 3],
    [2, 0, 5],
    [3, 2, 2],
  ];
  const pairs = minCostAssignment(costs);
  assert.deepEqual(pairs, [
    [0, 1],
    [1, 0],
    [2, 2],
  ]);
  assert.equal(total(costs, pairs), 5);
});

test('rectangular matrices leave the extra rows or columns unpaired', () => {
  const wide = [
    [5, 1, 9],
    [1, 4, 9],
  ];
  assert.deepEqual(minCostAssignment(wide), [
    [0, 1],
    [1, 0],
  ]);
  const tall = [
    [5, 1],
    [1, 4],
    [0.5, 0.8],
  ];
  // Row 2 is the cheapest row: 1 + 0.5 (rows 0 and 2) beats 1 + 0.8 (rows 1 and 2) and 1 + 1 (rows 0 and 1).
  const pairs = minCostAssignment(tall);
  assert.equal(pairs.length, 2);
  assert.equal(total(tall, pairs), 1.5);
  assert.deepEqual(pairs, [
    [0, 1],
    [2, 0],
  ]);
});

test('forbidden pairs are never made, and the most allowed pairs win over a cheaper pairing with fewer', () => {
  // Pairing row 0 with column 0 (cost 0) would leave row 1 nothing it is allowed; two pairs at 10 + 10 win.
  const costs = [
    [0, 10],
    [10, X],
  ];
  assert.deepEqual(minCostAssignment(costs), [
    [0, 1],
    [1, 0],
  ]);
  // NaN forbids a pair too.
  assert.deepEqual(minCostAssignment([[Number.NaN, 3]]), [[0, 1]]);
});

test('a row or column with every pair forbidden stays unpaired; all forbidden or empty gives no pairs', () => {
  const costs = [
    [X, X, X],
    [2, X, 1],
    [X, X, 7],
  ];
  assert.deepEqual(minCostAssignment(costs), [
    [1, 0],
    [2, 2],
  ]);
  assert.deepEqual(
    minCostAssignment([
      [X, X],
      [X, X],
    ]),
    [],
  );
  assert.deepEqual(minCostAssignment([]), []);
  assert.deepEqual(minCostAssignment([[], []]), []);
});

test('negative costs are fine (a maximum found as the minimum of negated values)', () => {
  const overlaps = [
    [3, 1],
    [4, 3],
  ];
  const pairs = minCostAssignment(overlaps.map((row) => row.map((v) => -v)));
  assert.deepEqual(pairs, [
    [0, 0],
    [1, 1],
  ]);
});

test('rows of different lengths are refused', () => {
  assert.throws(() => minCostAssignment([[1, 2], [3]]), /row 1 has 1 costs, row 0 has 2/);
});

test('on 400 random matrices up to 6 x 6 with forbidden pairs, it matches brute force in pairs and cost', () => {
  const random = createRandom(18);
  for (let trial = 0; trial < 400; trial++) {
    const rows = random.int(1, 6);
    const columns = random.int(1, 6);
    const forbidden = random.uniform(0, 0.7);
    const costs = Array.from({ length: rows }, () =>
      Array.from({ length: columns }, () => (random.chance(forbidden) ? X : Math.round(random.uniform(-5, 20) * 100) / 100)),
    );
    const pairs = minCostAssignment(costs);
    const expected = bruteForce(costs);
    const label = JSON.stringify(costs);
    assert.equal(new Set(pairs.map(([i]) => i)).size, pairs.length, `a row twice in ${label}`);
    assert.equal(new Set(pairs.map(([, j]) => j)).size, pairs.length, `a column twice in ${label}`);
    assert.ok(pairs.every(([i, j]) => Number.isFinite(costs[i][j])), `a forbidden pair in ${label}`);
    assert.equal(pairs.length, expected.pairs, `pair count for ${label}`);
    assert.ok(Math.abs(total(costs, pairs) - expected.cost) < 1e-9, `cost ${total(costs, pairs)} vs ${expected.cost} for ${label}`);
  }
});
