import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { indexStore, parseStore } from '../contracts/index.ts';
import { createRandom } from './random.ts';
import {
  drawPlateNoiseGrams,
  PLATE_NOISE_MAX_GRAMS,
  PLATE_NOISE_MEDIAN_GRAMS,
  PLATE_NOISE_P95_GRAMS,
  plateNoiseGrams,
  plateStockGrams,
  READING_RESOLUTION_GRAMS,
  simulateShelfLoadCells,
  TARE_GRAMS_MAX,
  TARE_GRAMS_MIN,
  type LoadCellFault,
  type PlateLoadChange,
  type ShelfLoadCellTick,
} from './loadcell.sim.ts';

const index = indexStore(parseStore(JSON.parse(readFileSync(new URL('../../fixtures/stores/kiosk.json', import.meta.url), 'utf8'))));
const SHELF = 'g1-s1';
const plates = index.shelves.get(SHELF)!.shelf.plates.map((p) => p.id);
const initialGrams = plateStockGrams(index, SHELF);

const T0 = 1_000_000;
/** Runs the shelf from T0 for endMs; change and fault times are relative to T0. */
function run(changes: PlateLoadChange[], endMs: number, seed = 7, faults: LoadCellFault[] = []) {
  return [
    ...simulateShelfLoadCells({
      index,
      shelfId: SHELF,
      startMs: T0,
      endMs: T0 + endMs,
      initialGrams,
      changes: changes.map((c) => ({ ...c, atMs: T0 + c.atMs })),
      seed,
      faults: faults.map((f) => ({ ...f, fromMs: T0 + f.fromMs })),
    }),
  ];
}
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const column = (rows: ShelfLoadCellTick[], slot: number, fromMs: number, toMs: number) =>
  rows.filter((r) => r.ts >= T0 + fromMs && r.ts < T0 + toMs).map((r) => r.grams[slot]);
/** Four standard deviations of the difference of two means of `samples` resting readings of a plate (seed 7), plus drift. */
const restingTolerance = (slot: number, samples: number) =>
  0.5 + 4 * plateNoiseGrams(7, SHELF, index.loadCellByPlate.get(plates[slot])!.id) * Math.sqrt(2 / samples);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

test('ticks come at the cell rate with one value per plate, in plate order', () => {
  const rows = run([], 2_000);
  assert.equal(rows.length, 121);
  assert.equal(rows[0].grams.length, plates.length);
  for (let i = 1; i < rows.length; i++) assert.ok(Math.abs(rows[i].ts - rows[i - 1].ts - 1000 / 60) <= 1);
});

test('each plate rests with its own noise, and absolute values carry an unknown tare', () => {
  const rows = run([], 60_000);
  const estimates: number[] = [];
  for (let slot = 0; slot < plates.length; slot++) {
    const noise = plateNoiseGrams(7, SHELF, index.loadCellByPlate.get(plates[slot])!.id);
    const values = rows.map((r) => r.grams[slot]);
    // Differences of neighbouring samples cancel the slow drift: their spread is sqrt(2) times the noise.
    const diffs = values.slice(1).map((v, i) => v - values[i]);
    const estimate = sd(diffs) / Math.SQRT2;
    estimates.push(estimate);
    assert.ok(estimate > 0.85 * noise && estimate < 1.15 * noise, `cell ${slot}: noise ${estimate.toFixed(2)} g, want ~${noise.toFixed(2)}`);
    const tare = mean(values) - initialGrams.get(plates[slot])!;
    assert.ok(tare > TARE_GRAMS_MIN - 20 && tare < TARE_GRAMS_MAX + 20, `cell ${slot}: tare ${tare.toFixed(0)} g`);
  }
  const tares = plates.map((p, slot) => mean(rows.map((r) => r.grams[slot])) - initialGrams.get(p)!);
  assert.ok(new Set(tares.map((t) => Math.round(t))).size === plates.length, 'each cell has its own tare');
  assert.ok(Math.max(...estimates) > 3 * Math.min(...estimates), `plates of one shelf rest alike: ${estimates.map((e) => e.toFixed(2)).join(', ')} g`);
});

test('plates differ in resting noise as in a real store: median 0.71 g, 95th percentile 4.6 g, a long tail', () => {
  const random = createRandom(1).fork('plate-noise-test');
  const drawn = Array.from({ length: 20_000 }, () => drawPlateNoiseGrams(random)).sort((a, b) => a - b);
  // Sampling error of these quantiles over 20,000 draws is about 1 % (median) and 2 % (95th percentile).
  assert.ok(Math.abs(quantile(drawn, 0.5) / PLATE_NOISE_MEDIAN_GRAMS - 1) < 0.05, `median ${quantile(drawn, 0.5).toFixed(3)} g`);
  assert.ok(Math.abs(quantile(drawn, 0.95) / PLATE_NOISE_P95_GRAMS - 1) < 0.08, `95th percentile ${quantile(drawn, 0.95).toFixed(2)} g`);
  // Heavy-tailed: the noisiest twentieth is over six times the median plate, and some plates are near the cap.
  assert.ok(quantile(drawn, 0.05) < 0.2, `5th percentile ${quantile(drawn, 0.05).toFixed(3)} g`);
  assert.ok(quantile(drawn, 0.99) > 7, `99th percentile ${quantile(drawn, 0.99).toFixed(2)} g`);
  assert.ok(drawn[0] >= READING_RESOLUTION_GRAMS && drawn[drawn.length - 1] <= PLATE_NOISE_MAX_GRAMS);

  // The same spread across the plates of a store.
  const store = indexStore(parseStore(JSON.parse(readFileSync(new URL('../../fixtures/stores/convenience.json', import.meta.url), 'utf8'))));
  const cells = [1, 2, 3, 4].flatMap((seed) =>
    [...store.shelves].flatMap(([shelfId, { shelf }]) => shelf.plates.map((p) => plateNoiseGrams(seed, shelfId, store.loadCellByPlate.get(p.id)!.id))),
  );
  cells.sort((a, b) => a - b);
  assert.equal(cells.length, 640);
  assert.ok(Math.abs(quantile(cells, 0.5) / PLATE_NOISE_MEDIAN_GRAMS - 1) < 0.2, `store median ${quantile(cells, 0.5).toFixed(3)} g`);
  assert.ok(Math.abs(quantile(cells, 0.95) / PLATE_NOISE_P95_GRAMS - 1) < 0.3, `store 95th percentile ${quantile(cells, 0.95).toFixed(2)} g`);
});

test('a plate keeps its resting noise for a seed, and another seed draws it anew', () => {
  /** Each plate's resting noise as read off 20 s of simulated readings (neighbouring differences cancel drift). */
  const measured = (seed: number) => {
    const rows = run([], 20_000, seed);
    return plates.map((_, slot) => {
      const values = rows.map((r) => r.grams[slot]);
      return sd(values.slice(1).map((v, i) => v - values[i])) / Math.SQRT2;
    });
  };
  const bySeed = new Map([3, 4].map((seed) => [seed, measured(seed)]));
  for (const [seed, noise] of bySeed) {
    plates.forEach((plate, slot) => {
      const drawn = plateNoiseGrams(seed, SHELF, index.loadCellByPlate.get(plate)!.id);
      assert.ok(Math.abs(noise[slot] / drawn - 1) < 0.15, `seed ${seed}, cell ${slot}: noise ${noise[slot].toFixed(2)} g, plateNoiseGrams says ${drawn.toFixed(2)}`);
    });
  }
  assert.deepEqual(measured(3), bySeed.get(3), 'a second simulation with seed 3 reads the same on every plate');
  const [three, four] = [bySeed.get(3)!, bySeed.get(4)!];
  assert.ok(
    plates.some((_, slot) => Math.max(three[slot], four[slot]) > 2 * Math.min(three[slot], four[slot])),
    `seeds 3 and 4 give the plates their noise alike: ${three.map((g) => g.toFixed(2)).join(', ')} g and ${four.map((g) => g.toFixed(2)).join(', ')} g`,
  );
});

test('cells drift slowly: absolute values wander over minutes, but barely within a second', () => {
  const rows = run([], 600_000);
  let largest = 0;
  for (let slot = 0; slot < plates.length; slot++) {
    const first = mean(column(rows, slot, 0, 5_000));
    const last = mean(column(rows, slot, 595_000, 600_000));
    largest = Math.max(largest, Math.abs(last - first));
    const a = mean(column(rows, slot, 300_000, 300_500));
    const b = mean(column(rows, slot, 300_500, 301_000));
    assert.ok(Math.abs(a - b) < 1.5, `cell ${slot} moved ${Math.abs(a - b).toFixed(2)} g in half a second at rest`);
  }
  assert.ok(largest > 1, `some cell should drift over ten minutes (largest ${largest.toFixed(2)} g)`);
});

test('after a pick or put settles, the net change equals the delta; before that it overshoots', () => {
  const deltas = [-350, 520, -30, -1096, 165, -55];
  const changes: PlateLoadChange[] = deltas.map((deltaGrams, i) => ({
    plateId: plates[i % plates.length],
    atMs: 2_000 + i * 4_000,
    durationMs: 400,
    deltaGrams,
    kind: deltaGrams < 0 ? 'pick' : 'put',
  }));
  const rows = run(changes, 2_000 + deltas.length * 4_000);
  changes.forEach((change, i) => {
    const slot = i % plates.length;
    const before = mean(column(rows, slot, change.atMs - 600, change.atMs));
    const after = mean(column(rows, slot, change.atMs + 1_400, change.atMs + 2_000));
    assert.ok(Math.abs(after - before - change.deltaGrams) < 2, `change ${i}: net ${(after - before).toFixed(1)} g, want ${change.deltaGrams}`);
    // The transient leaves the settled range: a press before, ringing past the final level after.
    const during = column(rows, slot, change.atMs, change.atMs + 900);
    const lo = Math.min(before, after);
    const hi = Math.max(before, after);
    const excursion = Math.max(Math.max(...during) - hi, lo - Math.min(...during));
    assert.ok(excursion > 5, `change ${i}: transient leaves the settled range by only ${excursion.toFixed(1)} g`);
  });
});

test('neighbours twitch by a few grams and come back; a lean moves a plate a lot and leaves nothing', () => {
  const changes: PlateLoadChange[] = [
    { plateId: plates[1], atMs: 1_000, durationMs: 400, deltaGrams: -520, kind: 'pick' },
    { plateId: plates[2], atMs: 5_000, durationMs: 1_500, deltaGrams: 0, kind: 'lean', leanGrams: 300 },
  ];
  const rows = run(changes, 9_000);
  for (const slot of [0, 2]) {
    const before = mean(column(rows, slot, 400, 1_000));
    const during = column(rows, slot, 1_000, 1_500);
    const after = mean(column(rows, slot, 2_400, 3_000));
    const twitch = Math.max(...during.map((v) => Math.abs(v - before)));
    assert.ok(twitch > 2 && twitch < 40, `neighbour ${slot} twitched ${twitch.toFixed(1)} g`);
    assert.ok(Math.abs(after - before) < restingTolerance(slot, 36), `neighbour ${slot} kept ${(after - before).toFixed(1)} g`);
  }
  const before = mean(column(rows, 2, 4_400, 5_000));
  const peak = Math.max(...column(rows, 2, 5_000, 6_500));
  const after = mean(column(rows, 2, 7_500, 8_500));
  assert.ok(peak - before > 150, `lean peak ${(peak - before).toFixed(0)} g`);
  assert.ok(Math.abs(after - before) < restingTolerance(2, 36), `lean left ${(after - before).toFixed(1)} g`);
});

test('the same seed gives the same readings; another seed does not', () => {
  const changes: PlateLoadChange[] = [{ plateId: plates[0], atMs: 500, durationMs: 400, deltaGrams: -357, kind: 'pick' }];
  const a = run(changes, 3_000, 42);
  const b = run(changes, 3_000, 42);
  const c = run(changes, 3_000, 43);
  assert.deepEqual(a.map((r) => [...r.grams]), b.map((r) => [...r.grams]));
  assert.notDeepEqual(a.map((r) => [...r.grams]), c.map((r) => [...r.grams]));
});

test('faults: stuck holds a value, dead reads zero, saturated reads capacity, noisy is wild', () => {
  const cells = plates.map((p) => index.loadCellByPlate.get(p)!);
  const rows = run([{ plateId: plates[0], atMs: 3_000, durationMs: 400, deltaGrams: -357, kind: 'pick' }], 6_000, 9, [
    { loadCellId: cells[0].id, kind: 'stuck', fromMs: 2_000 },
    { loadCellId: cells[1].id, kind: 'dead', fromMs: 2_000 },
    { loadCellId: cells[2].id, kind: 'saturated', fromMs: 2_000 },
    { loadCellId: cells[3].id, kind: 'noisy', fromMs: 2_000 },
  ]);
  const stuck = column(rows, 0, 2_000, 6_000);
  assert.equal(new Set(stuck).size, 1, 'a stuck cell holds one value even through a pick');
  assert.ok(column(rows, 1, 2_000, 6_000).every((v) => v === 0));
  assert.ok(column(rows, 2, 2_000, 6_000).every((v) => v === cells[2].capacityGrams));
  const noisy = column(rows, 3, 2_000, 6_000);
  const diffs = noisy.slice(1).map((v, i) => v - noisy[i]);
  assert.ok(sd(diffs) / Math.SQRT2 > 10 * cells[3].noiseGrams);
  assert.ok(column(rows, 0, 0, 2_000).length > 100 && new Set(column(rows, 0, 0, 2_000)).size > 1, 'healthy before the fault');
});

test('a change on a plate of another shelf is refused with its index', () => {
  assert.throws(
    () => run([{ plateId: 'g2-s1-p1', atMs: 0, durationMs: 400, deltaGrams: -1, kind: 'pick' }], 100),
    /change 0 .* g2-s1-p1/,
  );
});
