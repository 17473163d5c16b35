/**
 * Memory of the commands that read whole recordings: does the peak stay flat as a file grows?
 * For each reader (recording map over the skeleton truth, recording weights over a load-cell file,
 * replay over the gate events, import plates over per-plate CSVs) it writes the same kind of file at
 * 1x and at 10x the size, runs the reader on each in a fresh process, and prints the peak live heap
 * (after full collections) and peak resident memory of both, and their ratios. The 1x run is the
 * baseline: a reader that streams stays near 1x, one that collects the file grows with it (the
 * issue's `recording map`: 1.72 GB on 150 MB).
 *
 *   node --import tsx bench/recording-memory.bench.ts [--mb 10] [--only map,weights,replay,import] [--code <tree>] [--json]
 *
 * --mb is the 1x size of each file in megabytes; --code runs the readers of another checkout of the
 * project (for a before/after comparison); the files are written by this one (the format is the same).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { loadStore, type SkeletonTruth, type Vec3 } from '../libs/contracts/index.ts';
import { RecordingWriter } from '../libs/recording/index.ts';

const GROWTH = 10;
/** What "flat" means here: the live heap on the 10x file at most this many times that on the 1x file. */
const LIVE_TARGET_RATIO = 1.2;
const PEOPLE = 6;
const TICK_MS = 100;
const SAMPLE_MS = 1000 / 60;
const START_MS = 1_780_000_000_000;
const SHELF = 'g1-s1';
const CELLS = ['lc-g1-s1-p1', 'lc-g1-s1-p2', 'lc-g1-s1-p3', 'lc-g1-s1-p4'];
const READERS = ['map', 'weights', 'replay', 'import'] as const;
type Reader = (typeof READERS)[number];

const here = path.dirname(new URL(import.meta.url).pathname);
const kioskFile = path.join(here, '../fixtures/stores/kiosk.json');

const { values } = parseArgs({
  options: {
    mb: { type: 'string' },
    only: { type: 'string' },
    code: { type: 'string' },
    json: { type: 'boolean' },
    child: { type: 'string' },
    dir: { type: 'string' },
  },
});

/** Writes `bytes` of lines from `line(i)` through a stream that respects backpressure. */
async function writeLines(file: string, bytes: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file);
  let written = 0;
  for (let i = 0; written < bytes; i++) {
    const text = `${line(i)}\n`;
    written += text.length;
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

const keypoints = (person: number, tick: number): Vec3[] => {
  const angle = tick / 50 + person;
  const [x, y] = [3 + 2 * Math.cos(angle), 3 + 2 * Math.sin(angle)];
  return Array.from({ length: 17 }, (_, k) => [x + (k % 3) * 0.05, y + (k % 2) * 0.05, 0.1 * k] as Vec3);
};

/** A recording of the kiosk: one shelf's load cells and the given stream made `bytes` long. */
async function writeRecording(dir: string, reader: Reader, bytes: number): Promise<void> {
  const store = await loadStore(kioskFile);
  const writer = await RecordingWriter.create(dir, store, { kind: 'simulator', detail: `memory bench, ${reader}` });
  const cells = writer.loadCells(SHELF, CELLS, 60);
  const grams = [1000, 2000, 3000, 4000];
  // The weights reader gets its load-cell file made big below; the others a second of samples.
  for (let i = 0; i < 60; i++) cells.write(START_MS + Math.round(i * SAMPLE_MS), grams);
  await writer.close({ startMs: START_MS, endMs: START_MS + 1000 });
  const gates = path.join(dir, 'gates.jsonl');
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
  if (reader === 'map')
    await writeLines(path.join(dir, manifest.truth.skeletons), bytes, (i) =>
      JSON.stringify({
        ts: START_MS + i * TICK_MS,
        people: Array.from({ length: PEOPLE }, (_, person) => ({ personId: `p${person}`, role: 'shopper', keypoints: keypoints(person, i) })),
      } satisfies SkeletonTruth),
    );
  if (reader === 'weights')
    await writeLines(path.join(dir, manifest.streams.loadCells[0].file), bytes, (i) =>
      i === 0 ? ['ts_ms', ...CELLS].join(',') : `${START_MS + Math.round(i * SAMPLE_MS)},${grams.map((g) => (g + (i % 7) * 0.1).toFixed(1)).join(',')}`,
    );
  if (reader === 'replay') {
    await writeLines(gates, bytes, (i) =>
      JSON.stringify({
        topic: 'gate.qr-scanned',
        message: { schemaVersion: 1, eventId: `scan-${i}`, storeId: store.id, ts: START_MS + i, gateId: 'gate-entry', visitId: `v-${i}`, accountId: `acct-${i}`, partySize: 1 },
      }),
    );
    manifest.streams.gates = 'gates.jsonl';
  }
  manifest.endMs = START_MS + 1000;
  await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Per-plate CSVs of the public layout (no header, batches stepping back 20 ms), `bytes` in all. */
async function writePlates(dir: string, bytes: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let plate = 1; plate <= 4; plate++)
    await writeLines(path.join(dir, `gondola_1_shelf_1_plate_${plate}.csv`), bytes / 4, (i) => {
      const seconds = START_MS / 1000 + (i * SAMPLE_MS) / 1000 - (i > 0 && i % 60 === 0 ? 0.02 : 0);
      return `${seconds.toFixed(3)},${(1000 * plate + (i % 5) * 0.4).toFixed(1)}`;
    });
  await writeFile(path.join(dir, 'products.csv'), 'name,gondola,shelf,plate,weight,price\n' + [1, 2, 3, 4].map((plate) => `Item ${plate},1,1,${plate},${100 * plate},1.00`).join('\n') + '\n');
}

/** At least this long between two samples of the live heap. */
const LIVE_SAMPLE_MS = 100;
/** And at least this many times the last full collection took, so sampling never takes over the run. */
const LIVE_SAMPLE_COST_SHARE = 10;

/**
 * In a fresh process: run one reader over dir, then report the peak resident memory, and the peak of
 * the heap still alive after a full collection (sampled): resident memory also holds garbage not yet
 * collected, the live heap only what the reader keeps.
 */
async function child(reader: Reader, dir: string, code: string): Promise<void> {
  const collect = (globalThis as { gc?: () => void }).gc!;
  let livePeak = 0;
  let sampler: NodeJS.Timeout | undefined;
  const sampleLive = () => {
    const started = performance.now();
    collect();
    livePeak = Math.max(livePeak, process.memoryUsage().heapUsed);
    return performance.now() - started;
  };
  const scheduleSample = (lastCostMs: number) => {
    sampler = setTimeout(() => scheduleSample(sampleLive()), Math.max(LIVE_SAMPLE_MS, LIVE_SAMPLE_COST_SHARE * lastCostMs));
  };
  scheduleSample(0);
  const { main } = await import(path.join(code, 'services/cli/main.ts'));
  let exit = 0;
  // Outputs go beside the folder read: walkout refuses to write inside its own input.
  if (reader === 'map') exit = await main(['recording', 'map', dir, '--out', `${dir}-map.svg`, '--json']);
  if (reader === 'weights') exit = await main(['recording', 'weights', dir, '--shelf', SHELF, '--out', `${dir}-trace.svg`, '--json']);
  if (reader === 'import') exit = await main(['import', 'plates', dir, '--products', path.join(dir, 'products.csv'), '--out', `${dir}-imported`, '--json']);
  if (reader === 'replay') {
    const { openRecording } = await import(path.join(code, 'libs/recording/index.ts'));
    const { replayRecording } = await import(path.join(code, 'libs/replay/recording.replay.ts'));
    let published = 0;
    await replayRecording(await openRecording(dir), { publish: async () => void published++ });
    if (published === 0) exit = 1;
  }
  clearTimeout(sampler);
  sampleLive();
  process.stderr.write(`${JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, liveHeapBytes: livePeak, exit })}\n`);
}

/** Peak resident memory and live heap of the child in MB, and its exit code. */
async function measure(reader: Reader, dir: string, code: string): Promise<{ peakRssMb: number; liveHeapMb: number; exit: number }> {
  const run = promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', new URL(import.meta.url).pathname, '--child', reader, '--dir', dir, '--code', code], {
    maxBuffer: 1 << 26,
  });
  const { stderr } = await run;
  const last = stderr.trim().split('\n').at(-1)!;
  const { maxRssKb, liveHeapBytes, exit } = JSON.parse(last) as { maxRssKb: number; liveHeapBytes: number; exit: number };
  if (exit !== 0) process.stderr.write(`${reader} on ${dir} exited ${exit}: ${stderr.slice(-500)}\n`);
  return { peakRssMb: maxRssKb / 1024, liveHeapMb: liveHeapBytes / 1e6, exit };
}

async function fileBytes(dir: string, reader: Reader): Promise<number> {
  const files: Record<Reader, string[]> = {
    map: ['truth/skeletons.jsonl'],
    weights: [`loadcells/${SHELF}.csv`],
    replay: ['gates.jsonl'],
    import: [1, 2, 3, 4].map((plate) => `gondola_1_shelf_1_plate_${plate}.csv`),
  };
  let total = 0;
  for (const file of files[reader]) total += (await stat(path.join(dir, file))).size;
  return total;
}

async function bench(): Promise<void> {
  const baseBytes = Number(values.mb ?? 10) * 1e6;
  const code = path.resolve(values.code ?? path.join(here, '..'));
  const only = values.only ? (values.only.split(',') as Reader[]) : [...READERS];
  const root = await mkdtemp(path.join(tmpdir(), 'walkout-memory-bench-'));
  const rows = [];
  try {
    for (const reader of only) {
      const sizes = [];
      for (const scale of [1, GROWTH]) {
        const dir = path.join(root, `${reader}-${scale}x`);
        if (reader === 'import') await writePlates(dir, baseBytes * scale);
        else await writeRecording(dir, reader, baseBytes * scale);
        sizes.push({ scale, fileMb: (await fileBytes(dir, reader)) / 1e6, ...(await measure(reader, dir, code)) });
        await rm(dir, { recursive: true, force: true });
      }
      const [one, ten] = sizes;
      rows.push({
        reader,
        fileMb: [one.fileMb, ten.fileMb],
        peakRssMb: [one.peakRssMb, ten.peakRssMb],
        ratio: ten.peakRssMb / one.peakRssMb,
        liveHeapMb: [one.liveHeapMb, ten.liveHeapMb],
        liveRatio: ten.liveHeapMb / one.liveHeapMb,
        exit: [one.exit, ten.exit],
      });
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  // A reader that failed measured nothing: that is a miss too, whatever its memory.
  const failed = (r: { exit: number[] }) => r.exit.some((code) => code !== 0);
  if (rows.some((r) => r.liveRatio > LIVE_TARGET_RATIO || failed(r))) process.exitCode = 1;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ code, growth: GROWTH, liveTargetRatio: LIVE_TARGET_RATIO, rows, load: loadavg() }, null, 2)}\n`);
    return;
  }
  const mb = (x: number) => `${x.toFixed(0)} MB`.padStart(8);
  process.stdout.write(
    [
      `peak resident memory of one process reading a file at 1x and ${GROWTH}x its size (code: ${code}; load ${loadavg().map((l) => l.toFixed(1)).join(' ')})`,
      '                                 live heap (peak)                resident memory (peak)',
      '  reader    file 1x  file 10x      1x       10x   10x / 1x        1x       10x   10x / 1x',
      ...rows.map(
        (r) =>
          `  ${r.reader.padEnd(8)}${mb(r.fileMb[0])}  ${mb(r.fileMb[1])}  ${mb(r.liveHeapMb[0])}  ${mb(r.liveHeapMb[1])}   ${r.liveRatio.toFixed(2).padStart(5)}x  ` +
          `${mb(r.peakRssMb[0])}  ${mb(r.peakRssMb[1])}   ${r.ratio.toFixed(2).padStart(5)}x` +
          (r.exit.some((code) => code !== 0) ? `   (exit ${r.exit.join(', ')})` : ''),
      ),
      `  target: live heap at ${GROWTH}x within ${LIVE_TARGET_RATIO}x of 1x (a reader that holds the file grows towards ${GROWTH}x). Resident memory`,
      '  also holds garbage not yet collected, which follows the rate of allocation more than the size of the file.',
      ...rows.filter((r) => r.liveRatio > LIVE_TARGET_RATIO).map((r) => `  MISSED: ${r.reader} keeps ${r.liveRatio.toFixed(2)}x the live heap on a ${GROWTH}x file`),
      ...rows.filter(failed).map((r) => `  MISSED: ${r.reader} failed (exit ${r.exit.join(', ')}), so its figures measure nothing`),
      '',
    ].join('\n'),
  );
}

if (values.child) await child(values.child as Reader, values.dir!, path.resolve(values.code!));
else await bench();
