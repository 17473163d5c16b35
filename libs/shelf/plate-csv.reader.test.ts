import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { collect } from '../recording/index.ts';
import { MAX_STEP_BACK_MS, readPlateCsv, wrongTimeUnit, type ImportIssue } from './plate-csv.reader.ts';

const START_SECONDS = 1_580_000_000;
const PERIOD_MS = 1000 / 60;

/** A plate file of `count` readings at 60 Hz; `edit` may change the row texts (0-based) before writing. */
async function plateFile(dir: string, count: number, edit: (rows: string[]) => void = () => {}, ending = '\n') {
  const rows = Array.from({ length: count }, (_, i) => `${(START_SECONDS + (i * PERIOD_MS) / 1000).toFixed(3)},${(2866 + (i % 3) * 0.5).toFixed(1)}`);
  edit(rows);
  const file = path.join(dir, `gondola_1_shelf_1_plate_${Math.random().toString(36).slice(2, 8)}.csv`);
  await writeFile(file, rows.join('\n') + ending);
  return file;
}

async function read(file: string) {
  const issues: ImportIssue[] = [];
  const counts = { accepted: 0, rejected: 0, reordered: 0 };
  const readings = await collect(readPlateCsv(file, (issue) => issues.push(issue), counts));
  return { readings, issues, counts };
}

const inOrder = (readings: Array<{ ms: number }>) => readings.every((r, i) => i === 0 || readings[i - 1].ms <= r.ms);

async function inTempDir(run: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'walkout-plate-csv-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('timestamps that step back a few ms where batches meet are put in order, with one warning that counts them', () =>
  inTempDir(async (dir) => {
    // Batches of 20 readings; each batch starts 30 ms before the last one ended, as the real files do.
    const file = await plateFile(dir, 1_200, (rows) => {
      for (let i = 20; i < rows.length; i += 20) {
        const [, grams] = rows[i].split(',');
        const previous = Number(rows[i - 1].split(',')[0]);
        rows[i] = `${(previous - 0.03).toFixed(3)},${grams}`;
      }
    });
    const { readings, issues, counts } = await read(file);
    assert.equal(readings.length, 1_200, 'every reading kept');
    assert.ok(inOrder(readings), 'in time order');
    assert.deepEqual(counts, { accepted: 1_200, rejected: 0, reordered: 59 });
    assert.equal(issues.length, 1, JSON.stringify(issues));
    assert.equal(issues[0].severity, 'warning');
    assert.equal(issues[0].line, 21);
    assert.match(issues[0].message, /59 readings step back in time, by up to 30 ms .*put in time order/);
  }));

test('one row far ahead is the one bad row: the 900 good rows after it are kept', () =>
  inTempDir(async (dir) => {
    const file = await plateFile(dir, 1_000, (rows) => {
      rows[99] = `${START_SECONDS + 1_000},2866.0`;
    });
    const { readings, issues, counts } = await read(file);
    assert.deepEqual(
      issues.map((i) => [i.severity, i.line]),
      [['error', 100]],
    );
    assert.match(issues[0].message, /time is 998\.\d{3} s ahead of the rows around it \(lines 99 and 101\): this row is left out/);
    assert.equal(readings.length, 999);
    assert.deepEqual(counts, { accepted: 999, rejected: 1, reordered: 0 });
    assert.ok(inOrder(readings));
  }));

test('a first row far ahead of the rest is the bad one, not the rest', () =>
  inTempDir(async (dir) => {
    const file = await plateFile(dir, 300, (rows) => {
      rows[0] = `${START_SECONDS + 50_000},2866.0`;
    });
    const { readings, issues } = await read(file);
    assert.deepEqual(issues.map((i) => [i.severity, i.line]), [['error', 1]]);
    assert.match(issues[0].message, /ahead of the rows after it \(line 2\)/);
    assert.equal(readings.length, 299);
  }));

test('a real gap in the data is kept, and a row far back is the bad one', () =>
  inTempDir(async (dir) => {
    const file = await plateFile(dir, 600, (rows) => {
      // Five seconds without readings from row 300 on.
      for (let i = 300; i < rows.length; i++) rows[i] = `${(Number(rows[i].split(',')[0]) + 5).toFixed(3)},2866.0`;
      rows[450] = `${START_SECONDS - 100},2866.0`;
      rows[500] = `${(Number(rows[499].split(',')[0]) - (MAX_STEP_BACK_MS * 4) / 1000).toFixed(3)},2866.0`;
    });
    const { readings, issues } = await read(file);
    assert.deepEqual(issues.map((i) => [i.severity, i.line]), [['error', 451], ['error', 501]]);
    assert.match(issues[0].message, /time goes back 112\.48\d s to before line 450: this row is left out/);
    assert.match(issues[1].message, /time goes back 0\.200 s/);
    assert.equal(readings.length, 598);
    assert.ok(readings[300].ms - readings[299].ms > 5_000, 'the gap is there');
  }));

test('times in milliseconds are refused with the unit named; a cut last line is left out with a warning', () =>
  inTempDir(async (dir) => {
    const inMs = await plateFile(dir, 10, (rows) => {
      for (let i = 0; i < rows.length; i++) rows[i] = rows[i].replace(/^(\d+)\.(\d{3})/, '$1$2');
    });
    const ms = await read(inMs);
    assert.equal(ms.readings.length, 0);
    assert.equal(ms.issues.length, 1);
    assert.match(ms.issues[0].message, /^unix_seconds 1580000000000 looks like milliseconds since 1970, not seconds \(divide by 1000 to import it\): the plate is left out$/);

    const cut = await plateFile(dir, 10, (rows) => (rows[9] = rows[9].slice(0, -3)), '');
    const { readings, issues } = await read(cut);
    assert.equal(readings.length, 9);
    assert.deepEqual(issues.map((i) => [i.severity, i.line]), [['warning', 10]]);
    assert.match(issues[0].message, /no newline: the file may have been cut inside it/);
  }));

test('time units: seconds pass, milliseconds, microseconds and times before 2000 are named', () => {
  assert.equal(wrongTimeUnit(1_580_000_000.123), null);
  assert.match(wrongTimeUnit(1_580_000_000_123)!, /milliseconds/);
  assert.match(wrongTimeUnit(1_580_000_000_123_456)!, /microseconds/);
  assert.match(wrongTimeUnit(3_600)!, /before the year 2000/);
});
