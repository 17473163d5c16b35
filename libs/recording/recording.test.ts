import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isStoreClockMs, loadStore, StoreClockMs, WalkoutError } from '../contracts/index.ts';
import { collect, earliestHead, openRecording, readCsvRecords, RecordingWriter } from './index.ts';

const kioskFile = new URL('../../fixtures/stores/kiosk.json', import.meta.url).pathname;

async function writeSmallRecording(options: { compressLoadCells?: boolean } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-rec-'));
  const store = await loadStore(kioskFile);
  const writer = await RecordingWriter.create(dir, store, { kind: 'simulator', detail: 'unit test' }, options);
  const cells = ['lc-g1-s1-p1', 'lc-g1-s1-p2'];
  const shelf = writer.loadCells('g1-s1', cells, 60);
  for (let i = 0; i < 600; i++) shelf.write(1000 + Math.round((i * 1000) / 60), [1000.04 + i / 100, 2000 - i / 100]);
  const cam = writer.camera('cam-1', 10);
  cam.frame(1000);
  cam.frame(1100);
  writer.truth.actions.write({
    actionId: 'a1', kind: 'pick', startMs: 1200, endMs: 1800, personId: 'alice', visitId: 'v1',
    productId: 'p-0001', quantity: 1, shelfId: 'g1-s1', laneId: 'g1-s1-l1', plateIds: ['g1-s1-p1'],
  });
  writer.gates().write({
    topic: 'gate.qr-scanned',
    message: { schemaVersion: 1, eventId: 'e1', storeId: 'kiosk', ts: 1000, gateId: 'gate-entry', visitId: 'v1', accountId: 'acct-1', partySize: 1 },
  });
  await writer.close({ startMs: 1000, endMs: 11000 });
  return dir;
}

test('a recording written stream by stream reads back the same', async () => {
  for (const compressLoadCells of [false, true]) {
    const dir = await writeSmallRecording({ compressLoadCells });
    const recording = await openRecording(dir);
    assert.equal(recording.manifest.storeId, 'kiosk');
    assert.equal(recording.manifest.streams.cameras[0].frameCount, 2);
    const stream = recording.manifest.streams.loadCells[0];
    assert.equal(stream.file.endsWith('.gz'), compressLoadCells);
    const rows = await collect(recording.loadCellRows(stream));
    assert.equal(rows.length, 600);
    assert.equal(rows[0].ts, 1000);
    assert.deepEqual([...rows[0].grams], [1000, 2000]); // stored to 0.1 g
    assert.deepEqual([...rows[599].grams], [1006, 1994]);
    assert.deepEqual(await collect(recording.frameTimes('cam-1')), [{ frameIndex: 0, ts: 1000 }, { frameIndex: 1, ts: 1100 }]);
    const [action] = await collect(recording.truthActions());
    assert.equal(action.productId, 'p-0001');
    assert.equal((await collect(recording.gateLines()))[0].topic, 'gate.qr-scanned');
    assert.deepEqual(await collect(recording.truthReceipts()), []);
  }
});

async function expectRecordingError(promise: Promise<unknown>, pattern: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof WalkoutError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

test('a bad load-cell row is reported with file and line, after the good rows were delivered', async () => {
  const dir = await writeSmallRecording();
  const recording = await openRecording(dir);
  const stream = recording.manifest.streams.loadCells[0];
  await appendFile(path.join(dir, stream.file), '99999,12.5,oops\n');
  const seen: number[] = [];
  await expectRecordingError(
    (async () => {
      for await (const row of recording.loadCellRows(stream)) seen.push(row.ts);
    })(),
    /loadcells\/g1-s1\.csv:602: shelf g1-s1: column 3 \(lc-g1-s1-p2\) is not a number: "oops"/,
  );
  assert.equal(seen.length, 600, 'every good row before the bad one was delivered');
});

/** Rewrites the small recording's load-cell file through `edit` and returns the recording and the stream. */
async function damagedLoadCells(edit: (text: string) => string) {
  const dir = await writeSmallRecording();
  const recording = await openRecording(dir);
  const stream = recording.manifest.streams.loadCells[0];
  const file = path.join(dir, stream.file);
  await writeFile(file, edit(await readFile(file, 'utf8')));
  const seen: number[] = [];
  const reading = (async () => {
    for await (const row of recording.loadCellRows(stream)) seen.push(row.ts);
  })();
  return { reading, seen };
}

test('a load-cell file cut inside its last number is refused at its last line, after every whole row', async () => {
  // The last reading of the second cell was 1994.0 g; the file ends inside it, at "199".
  const { reading, seen } = await damagedLoadCells((text) => text.slice(0, text.lastIndexOf('1994.0') + 3));
  await expectRecordingError(reading, /loadcells\/g1-s1\.csv:601: shelf g1-s1: the last line has no newline: the file was cut short/);
  assert.equal(seen.length, 599, 'the 599 whole rows were delivered, the cut one was not');
});

test('a load-cell file with a header and no rows is refused', async () => {
  const { reading, seen } = await damagedLoadCells((text) => text.slice(0, text.indexOf('\n') + 1));
  await expectRecordingError(reading, /loadcells\/g1-s1\.csv:2: shelf g1-s1: a header \(ts_ms,lc-g1-s1-p1,lc-g1-s1-p2\) and no rows under it/);
  assert.equal(seen.length, 0);
});

test('load cells renamed between the manifest and the file are refused by column', async () => {
  const { reading } = await damagedLoadCells((text) => text.replace('ts_ms,lc-g1-s1-p1,lc-g1-s1-p2', 'ts_ms,lc-g1-s1-p1,lc-g1-s1-p9'));
  await expectRecordingError(reading, /loadcells\/g1-s1\.csv:1: shelf g1-s1: column 3 is "lc-g1-s1-p9" in the file but "lc-g1-s1-p2" in manifest\.json/);
});

test('load-cell times that are negative, fractional or past 2^53 ms are refused by line', async () => {
  for (const [bad, line] of [['-5', 11], ['1e20', 11], ['1000.5', 2]] as const) {
    const { reading, seen } = await damagedLoadCells((text) => {
      const lines = text.split('\n');
      lines[line - 1] = lines[line - 1].replace(/^[^,]*/, bad);
      return lines.join('\n');
    });
    await expectRecordingError(reading, new RegExp(`g1-s1\\.csv:${line}: shelf g1-s1: ts_ms ${Number(bad)} is not a store-clock time`));
    assert.equal(seen.length, line - 2, `${bad}: the rows before it were delivered`);
  }
});

test('the per-row store-clock predicate agrees with the StoreClockMs schema', () => {
  for (const ts of [0, 1, 1_700_000_000_000, Number.MAX_SAFE_INTEGER, 2 ** 53, 1e20, -1, -0, 1000.5, NaN, Infinity])
    assert.equal(isStoreClockMs(ts), StoreClockMs.safeParse(ts).success, `ts ${ts}`);
});

test('a manifest naming a shelf or a load cell the store lacks is refused when the recording is opened', async () => {
  const cases: Array<[(stream: { shelfId: string; loadCellIds: string[] }) => void, RegExp]> = [
    [(stream) => (stream.shelfId = 'g9-s1'), /manifest\.json:\d+: streams\.loadCells\[0\]\.shelfId: shelf "g9-s1" is not a shelf of store\.json \(it has g1-s1, /],
    [(stream) => (stream.loadCellIds[1] = 'lc-g1-s2-p1'), /manifest\.json:\d+: streams\.loadCells\[0\]\.loadCellIds\[1\]: load cell "lc-g1-s2-p1" is not under a plate of shelf g1-s1/],
    [(stream) => (stream.loadCellIds[1] = 'lc-g1-s1-p1'), /streams\.loadCells\[0\]\.loadCellIds\[1\]: load cell "lc-g1-s1-p1" is listed twice/],
  ];
  for (const [edit, pattern] of cases) {
    const dir = await writeSmallRecording();
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    edit(manifest.streams.loadCells[0]);
    await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
    await expectRecordingError(openRecording(dir), pattern);
  }
});

test('a truth file cut inside its last line is refused as cut, not as bad JSON', async () => {
  const dir = await writeSmallRecording();
  const file = path.join(dir, 'truth/actions.jsonl');
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.slice(0, -5));
  const recording = await openRecording(dir);
  await expectRecordingError(collect(recording.truthActions()), /truth\/actions\.jsonl:1: the last line has no newline/);
});

test('quoted fields with commas, quotes and newlines are read as one field each, lines counted from where records start', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-csv-'));
  const file = path.join(dir, 'quoted.csv');
  await writeFile(file, 'name,price\n"Crisps, salted",1.5\n"The ""Big"" Bar",2\n"Two\nlines",3\n\nlast,4');
  const records = await collect(readCsvRecords(file));
  assert.deepEqual(
    records.map((r) => [r.line, r.fields, r.unterminated]),
    [
      [1, ['name', 'price'], false],
      [2, ['Crisps, salted', '1.5'], false],
      [3, ['The "Big" Bar', '2'], false],
      [4, ['Two\nlines', '3'], false],
      [6, [''], false],
      [7, ['last', '4'], true],
    ],
  );
  await writeFile(file, 'name,price\n"never closed,1\n');
  await expectRecordingError(collect(readCsvRecords(file)), /quoted\.csv:2: not readable as CSV: .*Quote Not Closed/i);
});

test('a malformed truth line names the file and line', async () => {
  const dir = await writeSmallRecording();
  await appendFile(path.join(dir, 'truth/actions.jsonl'), '{"actionId": "a2", "kind": "grab"}\n');
  const recording = await openRecording(dir);
  await expectRecordingError(collect(recording.truthActions()), /truth\/actions\.jsonl:2: kind: /);
});

test('missing or unknown-version manifests are refused clearly', async () => {
  const dir = await writeSmallRecording();
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
  await writeFile(manifestFile, JSON.stringify({ ...manifest, version: 7 }));
  await expectRecordingError(openRecording(dir), /format version 7 is not one this reader knows/);
  await expectRecordingError(openRecording(path.join(dir, 'nope')), /manifest\.json is missing/);
  await writeFile(manifestFile, JSON.stringify({ ...manifest, streams: { ...manifest.streams, gates: '../escape.jsonl' } }));
  await expectRecordingError(openRecording(dir), /streams\.gates: paths stay inside the recording folder/);
});

test('the merge step picks the earliest head, the first of equals, and -1 once every stream has ended', () => {
  const at = (ts: number) => ({ done: false as const, value: { ts } });
  const ended = { done: true as const, value: undefined };
  assert.equal(earliestHead([at(30), at(10), at(10), ended]), 1);
  assert.equal(earliestHead([ended, at(5)]), 1);
  assert.equal(earliestHead([ended, ended]), -1);
  assert.equal(earliestHead([]), -1);
});
