import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { indexStore, parseStore, WalkoutError } from '../contracts/index.ts';
import { collect, openRecording } from '../recording/index.ts';
import { plateStockGrams, simulateShelfLoadCells } from '../sim/loadcell.sim.ts';
import { laneLoadChanges } from '../sim/shelf-activity.sim.ts';
import { importPlates } from './plates.import.ts';
import { evaluateShelfPerception } from './shelf.eval.ts';
import { recordingShelfTicks } from './shelf.replay.ts';

const kiosk = indexStore(parseStore(JSON.parse(readFileSync(new URL('../../fixtures/stores/kiosk.json', import.meta.url), 'utf8'))));
const T0 = 1_700_000_000_000;

/** Writes one shelf of simulated data in the public per-plate layout, with one bad row per file kind. */
async function writeDataset(dir: string) {
  const shelfId = 'g1-s1';
  // Lanes resting on one plate each: the public layout has one product per plate.
  const lanes = ['g1-s1-l1', 'g1-s1-l3', 'g1-s1-l4', 'g1-s1-l6'];
  const unit = (laneId: string) => kiosk.products.get(kiosk.placementByLane.get(laneId)!.productId)!;
  const changes = lanes.flatMap((laneId, i) => laneLoadChanges(kiosk, laneId, unit(laneId).unitWeightGrams, T0 + 2_000 + i * 3_000, 400, 'pick'));
  const plates = kiosk.shelves.get(shelfId)!.shelf.plates;
  const rows = plates.map(() => [] as string[]);
  for (const tick of simulateShelfLoadCells({ index: kiosk, shelfId, startMs: T0, endMs: T0 + 16_000, initialGrams: plateStockGrams(kiosk, shelfId), changes, seed: 8 }))
    plates.forEach((_, p) => rows[p].push(`${(tick.ts / 1000).toFixed(3)},${tick.grams[p].toFixed(1)}`));
  rows[2].splice(100, 0, 'not-a-time,12.0'); // line 102 of plate 3's file (after the header)
  for (const [p, lines] of rows.entries()) await writeFile(path.join(dir, `gondola_1_shelf_1_plate_${p + 1}.csv`), `unix_seconds,grams\n${lines.join('\n')}\n`);
  const products = lanes.map((laneId, p) => {
    const product = unit(laneId);
    return `"${product.name}",1,1,${[1, 2, 3, 4][p]},${product.unitWeightGrams},${(product.priceCents / 100).toFixed(2)}`;
  });
  await writeFile(path.join(dir, 'products.csv'), `name,gondola,shelf,plate,weight,price\n${products.join('\n')}\n`);
  const truth = lanes.map((laneId, p) => `${((T0 + 2_000 + p * 3_000) / 1000).toFixed(3)},1,1,${p + 1},${unit(laneId).name},-1`);
  truth.push(`${(T0 / 1000 + 15).toFixed(3)},1,1,2,No Such Product,-1`);
  await writeFile(path.join(dir, 'truth.csv'), `unix_seconds,gondola,shelf,plates,product,quantity_delta\n${truth.join('\n')}\n`);
}

test('importing the public per-plate layout gives a recording the shelf evaluation can score', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'walkout-plates-'));
  try {
    await writeDataset(dir);
    const out = path.join(dir, 'recording');
    const report = await importPlates({ folder: dir, productsCsv: path.join(dir, 'products.csv'), truthCsv: path.join(dir, 'truth.csv'), out });
    assert.deepEqual([report.gondolas, report.shelves, report.plates, report.products, report.actions], [1, 1, 4, 4, 4]);
    assert.equal(report.rowsRejected, 1);
    // Bad rows are named by file and line; the good ones are all kept.
    assert.deepEqual(
      report.issues.map((i) => [path.basename(i.file), i.line]),
      [['gondola_1_shelf_1_plate_3.csv', 102], ['truth.csv', 6]],
    );
    assert.match(report.issues[1].message, /No Such Product/);
    const recording = await openRecording(out);
    assert.equal(recording.index.store.loadCells[0].sampleRateHz, 60);
    const noise = recording.index.store.loadCells[0].noiseGrams;
    assert.ok(noise > 1 && noise < 2.5, `noise estimated from the data: ${noise} g`);
    const truth = await collect(recording.truthActions());
    assert.equal(truth.length, 4);
    const result = await evaluateShelfPerception({ index: recording.index, ticks: recordingShelfTicks(recording), truth });
    assert.equal(result.detector.f1, 1, JSON.stringify({ missed: result.detector.missed, spurious: result.detector.spurious.map((e) => [e.laneIds, e.deltaGrams, e.startMs, e.hypotheses]) }));
    assert.equal(result.detector.productTop1, 1);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    assert.equal(manifest.source.kind, 'import');
  } finally {
    if (!process.env.KEEP) await rm(dir, { recursive: true, force: true });
    else console.log('KEPT', dir);
  }
});

test('a folder without plate files is refused with the folder named', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'walkout-plates-'));
  try {
    await writeFile(path.join(dir, 'products.csv'), 'name,gondola,shelf,plate,weight,price\n');
    await assert.rejects(
      importPlates({ folder: dir, productsCsv: path.join(dir, 'products.csv'), out: path.join(dir, 'out') }),
      (error: unknown) => error instanceof WalkoutError && error.code === 'RECORDING_INVALID' && error.message.includes(dir),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
