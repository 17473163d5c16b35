/**
 * The cheapest one-to-one pairing of rows with columns (the assignment problem), solved with the
 * Hungarian method (Kuhn and Munkres, with row and column potentials; O(n^2 m) for n <= m).
 *
 * A cost that is not a finite number (Infinity, NaN) marks a pair that may not be made. Among all
 * pairings, the one returned makes as many allowed pairs as can be made, and of those the cheapest:
 * forbidden pairs are solved at a penalty so large that one of them costs more than any set of
 * allowed pairs could save, then left out. So a rectangular matrix leaves rows or columns unpaired,
 * and a row whose every pair is forbidden stays unpaired.
 */

/** One pair of the solution: row index, column index. */
export type AssignedPair = [row: number, column: number];

/** The pairs of the cheapest pairing with the most allowed pairs, in row order. `costs` is rows x columns. */
export function minCostAssignment(costs: ReadonlyArray<ReadonlyArray<number>>): AssignedPair[] {
  const rows = costs.length;
  const columns = rows ? costs[0].length : 0;
  costs.forEach((row, i) => {
    if (row.length !== columns) throw new RangeError(`minCostAssignment: row ${i} has ${row.length} costs, row 0 has ${columns}`);
  });
  if (!rows || !columns) return [];
  const largest = largestAllowedCost(costs);
  if (largest === null) return [];
  // The solver pairs every one of the shorter side; it works on rows, so a tall matrix is turned.
  const turned = rows > columns;
  const short = turned ? columns : rows;
  const long = turned ? rows : columns;
  const allowed = (i: number, j: number) => Number.isFinite(turned ? costs[j][i] : costs[i][j]);
  // Any `short` allowed costs lie within [-short * c, short * c]: one forbidden pair at this penalty
  // costs more than trading it for allowed ones could ever recover.
  const penalty = 2 * short * (largest + 1) + 1;
  const cost = (i: number, j: number) => (allowed(i, j) ? (turned ? costs[j][i] : costs[i][j]) : penalty);
  const ownerOf = solveShortSide(short, long, cost);
  const pairs: AssignedPair[] = [];
  ownerOf.forEach((i, j) => {
    if (i < 0 || !allowed(i, j)) return;
    pairs.push(turned ? [j, i] : [i, j]);
  });
  return pairs.sort((a, b) => a[0] - b[0]);
}

/** The largest absolute allowed cost, or null when no pair is allowed. */
function largestAllowedCost(costs: ReadonlyArray<ReadonlyArray<number>>): number | null {
  let largest: number | null = null;
  for (const row of costs) for (const c of row) if (Number.isFinite(c)) largest = Math.max(largest ?? 0, Math.abs(c));
  return largest;
}

/**
 * Pairs each of `short` rows with one of `long` columns (short <= long) at least total cost; every
 * cost finite. Returns, for each column, its row or -1. Rows join one at a time; each join finds the
 * cheapest augmenting path in reduced costs (cost - rowPotential - columnPotential, never negative
 * along the way), raising the potentials as it grows, so every partial pairing stays optimal.
 */
function solveShortSide(short: number, long: number, cost: (row: number, column: number) => number): Int32Array {
  // Column 0 is a virtual column from which each new row's search starts; columns are 1-based here.
  const rowPotential = new Float64Array(short + 1);
  const columnPotential = new Float64Array(long + 1);
  const owner = new Int32Array(long + 1); // owner[j]: 1-based row paired with column j, 0 for none
  const cameFrom = new Int32Array(long + 1); // the column before j on the cheapest path found to j
  for (let row = 1; row <= short; row++) {
    owner[0] = row;
    let column = 0;
    const slack = new Float64Array(long + 1).fill(Infinity);
    const visited = new Uint8Array(long + 1);
    do {
      visited[column] = 1;
      const from = owner[column];
      let delta = Infinity;
      let next = 0;
      for (let j = 1; j <= long; j++) {
        if (visited[j]) continue;
        const reduced = cost(from - 1, j - 1) - rowPotential[from] - columnPotential[j];
        if (reduced < slack[j]) {
          slack[j] = reduced;
          cameFrom[j] = column;
        }
        if (slack[j] < delta) {
          delta = slack[j];
          next = j;
        }
      }
      for (let j = 0; j <= long; j++) {
        if (visited[j]) {
          rowPotential[owner[j]] += delta;
          columnPotential[j] -= delta;
        } else slack[j] -= delta;
      }
      column = next;
    } while (owner[column] !== 0);
    // Flip the path: every column on it takes the row of the column before it.
    while (column !== 0) {
      const previous = cameFrom[column];
      owner[column] = owner[previous];
      column = previous;
    }
  }
  const result = new Int32Array(long).fill(-1);
  for (let j = 1; j <= long; j++) if (owner[j] !== 0) result[j - 1] = owner[j] - 1;
  return result;
}
