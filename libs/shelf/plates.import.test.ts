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

/** How the files are laid out: as our own export (header, one bad row) or as the published data. */
interface DatasetShape {
  /** The published files have no header row. */
  header: boolean;
  /** Readings per sensor batch; each batch starts BATCH_OVERLAP_MS before the previous one ended. */
  batchRows?: number;
  /** Changes to the plate files' rows (one list of lines per plate) before they are written. */
  editPlates?: (rows: string[][]) => void;
  /** Product names and prices as listed (by lane); the kiosk's own when absent. */
  names?: string[];
  prices?: string[];
}

/** Where the published files' batches meet, the next batch starts this far back in time. */
const BATCH_OVERLAP_MS = 25;

/** Writes one shelf of simulated data in the public per-plate layout. */
async function writeDataset(dir: string, shape: DatasetShape = { header: true, editPlates: (rows) => rows[2].splice(100, 0, 'not-a-time,12.0') }) {
  const shelfId = 'g1-s1';
  // Lanes resting on one plate each: the public layout has one product per plate.
  const lanes = ['g1-s1-l1', 'g1-s1-l3', 'g1-s1-l4', 'g1-s1-l6'];
  const unit = (laneId: string) => kiosk.products.get(kiosk.placementByLane.get(laneId)!.productId)!;
  const changes = lanes.flatMap((laneId, i) => laneLoadChanges(kiosk, laneId, unit(laneId).unitWeightGrams, T0 + 2_000 + i * 3_000, 400, 'pick'));
  const plates = kiosk.shelves.get(shelfId)!.shelf.plates;
  const rows = plates.map(() => [] as string[]);
  let tick = 0;
  for (const sample of simulateShelfLoadCells({ index: kiosk, shelfId, startMs: T0, endMs: T0 + 16_000, initialGrams: plateStockGrams(kiosk, shelfId), changes, seed: 8 })) {
    const batchStart = shape.batchRows !== undefined && tick > 0 && tick % shape.batchRows === 0;
    const ts = sample.ts - (batchStart ? BATCH_OVERLAP_MS : 0);
    plates.forEach((_, p) => rows[p].push(`${(ts / 1000).toFixed(3)},${sample.grams[p].toFixed(1)}`));
    tick++;
  }
  shape.editPlates?.(rows);
  for (const [p, lines] of rows.entries())
    await writeFile(path.join(dir, `gondola_1_shelf_1_plate_${p + 1}.csv`), `${shape.header ? 'unix_seconds,grams\n' : ''}${lines.join('\n')}\n`);
  const names = shape.names ?? lanes.map((laneId) => unit(laneId).name);
  const csvName = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const products = lanes.map((laneId, p) => {
    const product = unit(laneId);
    return `${csvName(names[p])},1,1,${p + 1},${product.unitWeightGrams},${shape.prices?.[p] ?? (product.priceCents / 100).toFixed(2)}`;
  });
  await writeFile(path.join(dir, 'products.csv'), `name,gondola,shelf,plate,weight,price\n${products.join('\n')}\n`);
  const truth = lanes.map((laneId, p) => `${((T0 + 2_000 + p * 3_000) / 1000).toFixed(3)},1,1,${p + 1},${csvName(names[p])},-1`);
  truth.push(`${(T0 / 1000 + 15).toFixed(3)},1,1,2,No Such Product,-1`);
  await writeFile(path.join(dir, 'truth.csv'), `unix_seconds,gondola,shelf,plates,product,quantity_delta\n${truth.join('\n')}\n`);
}

/** Imports the dataset in dir and scores shelf perception on the recording it made. */
async function importAndScore(dir: string) {
  const out = path.join(dir, 'recording');
  const report = await importPlates({ folder: dir, productsCsv: path.join(dir, 'products.csv'), truthCsv: path.join(dir, 'truth.csv'), out });
  const recording = await openRecording(out);
  const truth = await collect(recording.truthActions());
  const result = await evaluateShelfPerception({ index: recording.index, ticks: recordingShelfTicks(recording), truth });
  return { report, recording, truth, result, out };
}

async function inTempDir(run: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'walkout-plates-'));
  try {
    await run(dir);
  } finally {
    if (!process.env.KEEP) await rm(dir, { recursive: true, force: true });
    else console.log('KEPT', dir);
  }
}

test('importing the public per-plate layout gives a recording the shelf evaluation can score', () =>
  inTempDir(async (dir) => {
    await writeDataset(dir);
    const { report, recording, truth, result, out } = await importAndScore(dir);
    assert.deepEqual([report.gondolas, report.shelves, report.plates, report.products, report.actions], [1, 1, 4, 4, 4]);
    assert.equal(report.rowsRejected, 1);
    // Bad rows are named by file and line; the good ones are all kept.
    assert.deepEqual(
      report.issues.map((i) => [path.basename(i.file), i.line, i.severity]),
      [['gondola_1_shelf_1_plate_3.csv', 102, 'error'], ['truth.csv', 6, 'error']],
    );
    assert.match(report.issues[1].message, /No Such Product/);
    assert.equal(recording.index.store.loadCells[0].sampleRateHz, 60);
    const noise = recording.index.store.loadCells[0].noiseGrams;
    assert.ok(noise > 1 && noise < 2.5, `noise estimated from the data: ${noise} g`);
    assert.equal(truth.length, 4);
    assert.equal(result.detector.f1, 1, JSON.stringify({ missed: result.detector.missed, spurious: result.detector.spurious.map((e) => [e.laneIds, e.deltaGrams, e.startMs, e.hypotheses]) }));
    assert.equal(result.detector.productTop1, 1);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8'));
    assert.equal(manifest.source.kind, 'import');
  }));

test('published files: batches stepping back a few ms are put in order, one row far ahead is the one error, names with commas and quotes survive', () =>
  inTempDir(async (dir) => {
    await writeDataset(dir, {
      header: false,
      batchRows: 60,
      // Line 290 of plate 2 jumps 1000 s ahead; the 670 rows after it are good.
      editPlates: (rows) => (rows[1][289] = `${(T0 / 1000 + 1_000).toFixed(3)},2866.0`),
      names: ['Crisps, salted', 'The "Big" Bar', 'Water 0,5 l', 'Tea'],
      prices: ['1.50', '2.00', '', '3.10'],
    });
    const { report, recording, result } = await importAndScore(dir);
    const rowsPerPlate = (await readFile(path.join(dir, 'gondola_1_shelf_1_plate_1.csv'), 'utf8')).trimEnd().split('\n').length;
    const boundaries = Math.floor((rowsPerPlate - 1) / 60);
    assert.equal(report.rowsReordered, 4 * boundaries, 'every batch boundary of every plate put in order');
    assert.equal(report.rowsRejected, 1, "the far row (rows counts plate rows only)");
    assert.deepEqual(
      report.issues.filter((i) => i.severity === 'error').map((i) => [path.basename(i.file), i.line]),
      [['gondola_1_shelf_1_plate_2.csv', 290], ['truth.csv', 6]],
    );
    assert.match(report.firstError!.message, /time is 9\d\d\.\d{3} s ahead of the rows around it \(lines 289 and 291\)/);
    const warnings = report.issues.filter((i) => i.severity === 'warning');
    assert.deepEqual(
      warnings.map((i) => [path.basename(i.file), i.line]),
      [1, 2, 3, 4].map((p) => [`gondola_1_shelf_1_plate_${p}.csv`, 61]).concat([['products.csv', 4]]),
    );
    assert.match(warnings[0].message, new RegExp(`^${boundaries} readings step back in time, by up to \\d+ ms`));
    assert.match(warnings[4].message, /"Water 0,5 l" has no price: imported at 0 \(unknown\)/);
    assert.deepEqual(recording.index.store.planogram.products.map((p) => [p.name, p.priceCents]), [['Crisps, salted', 150], ['The "Big" Bar', 200], ['Water 0,5 l', 0], ['Tea', 310]]);
    // Written in time order (the reader refuses anything else), and the picks are still found.
    assert.equal(result.detector.f1, 1);
    assert.equal(result.detector.productTop1, 1);
  }));

test('a plate file in milliseconds is refused with the unit named; the other plates are imported', () =>
  inTempDir(async (dir) => {
    await writeDataset(dir, {
      header: false,
      editPlates: (rows) => (rows[3] = rows[3].map((row) => row.replace(/^(\d+)\.(\d{3})/, '$1$2'))),
    });
    const { report } = await importAndScore(dir);
    assert.equal(report.plates, 3);
    const [plate4] = report.issues.filter((i) => i.file.endsWith('plate_4.csv'));
    assert.equal(plate4.severity, 'error');
    assert.match(plate4.message, /unix_seconds 1700000000000 looks like milliseconds since 1970, not seconds \(divide by 1000 to import it\): the plate is left out/);
  }));

test('a product listed twice with two weights is an error naming both lines; an empty field is never read as 0', () =>
  inTempDir(async (dir) => {
    await writeDataset(dir, { header: true });
    const productsCsv = path.join(dir, 'products.csv');
    const listed = (await readFile(productsCsv, 'utf8')).trimEnd().split('\n');
    const [, firstProduct] = listed; // line 2, on plate 1
    const name = firstProduct.slice(0, firstProduct.indexOf('",') + 1);
    const [weight, price] = firstProduct.split(',').slice(-2);
    const more = [
      `${name},1,1,3,999,${price}`, // line 6: the same name weighing something else
      `${name},1,1,3,${weight},${price}`, // line 7: the same product on another plate: fine
      '"Ghost",1,,1,100,1.00', // line 8: an empty shelf number
    ];
    await writeFile(productsCsv, `${[...listed, ...more].join('\n')}\n`);
    const out = path.join(dir, 'recording');
    const report = await importPlates({ folder: dir, productsCsv, out });
    const productIssues = report.issues.filter((i) => i.file === productsCsv);
    assert.deepEqual(productIssues.map((i) => [i.line, i.severity]), [[6, 'error'], [8, 'error']]);
    assert.match(productIssues[0].message, /weighs 999 g here but \d+(\.\d+)? g at line 2: one product, one weight/);
    assert.match(productIssues[1].message, /gondola, shelf and plate must be whole numbers, found "1,,1"/);
    const recording = await openRecording(out);
    const lanesOfFirst = recording.index.lanesByProduct.get(recording.index.store.planogram.products[0].id);
    assert.equal(lanesOfFirst?.length, 2, 'listed again with the same weight: on a second plate');
  }));

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
