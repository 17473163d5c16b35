import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { WalkoutError } from '../contracts/index.ts';
import { sharedData } from '../testing/shared-data.ts';
import { MotAccumulator, motMetrics, sumMotCounts, type MotMetrics } from './mot.eval.ts';
import { pairFrames, readMotFile } from './mot.file.ts';

const WHY = 'MOTChallenge 2015 ground truth (CC BY-NC-SA 3.0) and a tracker output from the py-motmetrics tests: test use only';
const campus = sharedData('mot/TUD-Campus', WHY);
const stadtmitte = sharedData('mot/TUD-Stadtmitte', WHY);

/** The table in the shared data's README, mot section (py-motmetrics' published figures for these files). */
const PUBLISHED: Record<'TUD-Campus' | 'TUD-Stadtmitte' | 'overall', Partial<MotMetrics>> = {
  'TUD-Campus': {
    idf1: 0.557659, idp: 0.72973, idr: 0.451253, recall: 0.582173, precision: 0.941441,
    uniqueObjects: 8, mostlyTracked: 1, partlyTracked: 6, mostlyLost: 1,
    falsePositives: 13, misses: 150, idSwitches: 7, fragmentations: 7, mota: 0.526462, motp: 0.277201,
  },
  'TUD-Stadtmitte': {
    idf1: 0.644619, idp: 0.81976, idr: 0.531142, recall: 0.608997, precision: 0.93992,
    uniqueObjects: 10, mostlyTracked: 5, partlyTracked: 4, mostlyLost: 1,
    falsePositives: 45, misses: 452, idSwitches: 7, fragmentations: 6, mota: 0.564014, motp: 0.345904,
  },
  overall: {
    idf1: 0.624296, idp: 0.799176, idr: 0.512211, recall: 0.60264, precision: 0.940268,
    uniqueObjects: 18, mostlyTracked: 6, partlyTracked: 10, mostlyLost: 2,
    falsePositives: 58, misses: 602, idSwitches: 14, fragmentations: 13, mota: 0.555116, motp: 0.330177,
  },
};

/** The published figures are rounded to 6 decimals: equal within half of the last digit, plus float noise. */
function assertPublished(name: keyof typeof PUBLISHED, got: MotMetrics) {
  for (const [key, want] of Object.entries(PUBLISHED[name]) as Array<[keyof MotMetrics, number]>) {
    const value = got[key] as number;
    assert.ok(Math.abs(value - want) <= 5e-7 + 1e-12, `${name} ${key}: ${value}, published ${want}`);
  }
}

async function countsOf(folder: string) {
  const accumulator = new MotAccumulator();
  const truth = await readMotFile(path.join(folder, 'gt.txt'));
  const tracks = await readMotFile(path.join(folder, 'test.txt'));
  for (const frame of pairFrames(truth, tracks, { by: 'iou', maxDistance: 0.5 })) accumulator.update(frame);
  return accumulator.counts();
}

test('TUD-Campus and TUD-Stadtmitte: every figure of the published table, per sequence and overall, to 1e-6', { skip: campus.skip || stadtmitte.skip }, async () => {
  const one = await countsOf(campus.use());
  const two = await countsOf(stadtmitte.use());
  assertPublished('TUD-Campus', motMetrics(one));
  assertPublished('TUD-Stadtmitte', motMetrics(two));
  assertPublished('overall', motMetrics(sumMotCounts([one, two])));
});

async function withFile(text: string, check: (file: string) => Promise<void>) {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-mot-'));
  const file = path.join(dir, 'tracks.txt');
  try {
    await writeFile(file, text);
    await check(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rejects(text: string, pattern: RegExp, options: { floor?: boolean } = {}) {
  await withFile(text, async (file) => {
    await assert.rejects(readMotFile(file, options), (error: unknown) => {
      assert.ok(error instanceof WalkoutError, String(error));
      assert.equal(error.code, 'RECORDING_INVALID');
      assert.match(error.message, new RegExp(`^${file.replace(/[.\\]/g, '\\$&')}:\\d+: `));
      assert.match(error.message, pattern);
      return true;
    });
  });
}

test('malformed rows are refused with the file and the line', async () => {
  const good = '1,1,10,10,5,5,1,-1,-1,-1\n';
  await rejects(`${good}2,1,10,x,5,5,1\n`, /:2: column 4 \(y\) is not a number: "x"/);
  await rejects(`${good}2,1,10,10\n`, /:2: 4 columns, expected at least 6/);
  await rejects(`0,1,10,10,5,5\n`, /:1: frame must be a whole number from 1 \(frames are 1-based\), got 0/);
  await rejects(`1.5,1,10,10,5,5\n`, /:1: frame must be a whole number/);
  await rejects(`1,2.5,10,10,5,5\n`, /:1: id must be a whole number, got 2.5/);
  await rejects(`1,1,10,10,-5,5\n`, /:1: the box has a negative width/);
  await rejects(`${good}\n${good}`, /:3: id 1 appears twice in frame 1 \(first on line 1\)/);
  await rejects(good, /:1: no world position/, { floor: true });
  await rejects('1,1,10,10,5,5,1\n', /:1: 7 columns, expected at least 9 .*world position/, { floor: true });
});

test('a missing file is RECORDING_NOT_FOUND', async () => {
  await assert.rejects(readMotFile(path.join(tmpdir(), 'walkout-no-such-gt.txt')), (error: unknown) => error instanceof WalkoutError && error.code === 'RECORDING_NOT_FOUND');
});

test('rows are grouped by frame in frame order whatever order the file has; blank lines are skipped; floor positions read', async () => {
  await withFile('3,1,0,0,1,1,1,2.5,1.5,0\n\n1,1,0,0,1,1,1,0.5,0.25,0\n1,2,0,0,1,1,1,4,4,0\n', async (file) => {
    const sequence = await readMotFile(file, { floor: true });
    assert.deepEqual([...sequence.frames.keys()], [1, 3]);
    assert.deepEqual(sequence.frames.get(1)!.map((r) => [r.id, r.floor, r.line]), [
      [1, [0.5, 0.25], 3],
      [2, [4, 4], 4],
    ]);
  });
});

test('pairFrames scores every frame either file has, and floor matching uses the world position', async () => {
  await withFile('1,1,0,0,1,1,1,0,0,0\n2,1,0,0,1,1,1,0,0,0\n', async (truthFile) => {
    const truth = await readMotFile(truthFile, { floor: true });
    await withFile('1,7,500,500,1,1,1,0.3,0,0\n3,7,0,0,1,1,1,9,9,0\n', async (tracksFile) => {
      const tracks = await readMotFile(tracksFile, { floor: true });
      const frames = [...pairFrames(truth, tracks, { by: 'floor', maxM: 0.5 })];
      assert.equal(frames.length, 3);
      // Boxes far apart, floor positions 0.3 m apart: a match on the floor.
      assert.ok(Math.abs(frames[0].distances[0][0] - 0.3) < 1e-12);
      assert.deepEqual(frames[1], { objects: [1], hypotheses: [], distances: [[]] });
      assert.deepEqual(frames[2].objects, []);
    });
  });
});
