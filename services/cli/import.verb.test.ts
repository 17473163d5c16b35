import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runWalkout } from './cli.run.ts';

const walkout = (...args: string[]) => runWalkout(args);

const START_SECONDS = 1_590_000_000;
const READINGS = 600;
const BATCH_READINGS = 60;
const OVERLAP_SECONDS = 0.02;

/** Two plates as the published files have them: no header, each batch starting 20 ms back in time. */
async function writePublishedPlates(dir: string, farAheadLine?: number) {
  for (const plate of [1, 2]) {
    const rows = Array.from({ length: READINGS }, (_, i) => {
      const seconds = START_SECONDS + i / 60 - (i > 0 && i % BATCH_READINGS === 0 ? OVERLAP_SECONDS : 0);
      return `${seconds.toFixed(3)},${(1500 * plate + (i % 5) * 0.4).toFixed(1)}`;
    });
    if (farAheadLine && plate === 2) rows[farAheadLine - 1] = `${START_SECONDS + 5_000},1500.0`;
    await writeFile(path.join(dir, `gondola_1_shelf_1_plate_${plate}.csv`), `${rows.join('\n')}\n`);
  }
  await writeFile(path.join(dir, 'products.csv'), 'name,gondola,shelf,plate,weight,price\n"Crisps, salted",1,1,1,150,1.20\nTea,1,1,2,250,2.40\n');
}

test('import plates: steps back where batches meet are warnings and exit 0; one row far ahead is an error naming its line, exit 1', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-import-verb-'));
  try {
    // The plates in one folder, the recordings beside it: walkout will not write inside its input.
    const plates = path.join(dir, 'plates');
    await mkdir(plates);
    await writePublishedPlates(plates);
    const clean = await walkout('import', 'plates', plates, '--products', path.join(plates, 'products.csv'), '--out', path.join(dir, 'clean'));
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /0 error\(s\), 2 warning\(s\)/);
    assert.match(clean.stdout, /gondola_1_shelf_1_plate_1\.csv:61: warning: 9 readings step back in time, by up to \d+ ms/);

    await writePublishedPlates(plates, 300);
    const far = await walkout('import', 'plates', plates, '--products', path.join(plates, 'products.csv'), '--out', path.join(dir, 'far'), '--json');
    assert.equal(far.code, 1);
    const report = JSON.parse(far.stdout);
    assert.equal(report.errors, 1);
    assert.equal(report.rowsRejected, 1, 'only the far row is left out');
    assert.match(far.stderr, /\[RECORDING_INVALID\] 1 error\(s\) in the input .*gondola_1_shelf_1_plate_2\.csv:300: time is 4\d{3}\.\d{3} s ahead of the rows around it/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
