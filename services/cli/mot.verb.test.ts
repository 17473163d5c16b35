import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { runWalkout } from './cli.run.ts';

const run = (...args: string[]) => runWalkout(args);

async function files(contents: Record<string, string>): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-eval-mot-'));
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(contents)) {
    paths[name] = path.join(dir, name);
    await writeFile(paths[name], text);
  }
  return paths;
}

// One person in frames 1 to 4. Track 5 covers them exactly in frames 1 and 2, track 6 in frame 4
// (a switch after a missed frame), and track 9 is a box nobody is in (a false positive).
const TRUTH = ['1,1,0,0,10,10,1,0,0,0', '2,1,0,0,10,10,1,0,0,0', '3,1,0,0,10,10,1,0,0,0', '4,1,0,0,10,10,1,0,0,0', ''].join('\n');
const TRACKS = ['1,5,0,0,10,10,1,0.2,0,0', '2,5,0,0,10,10,1,0.2,0,0', '2,9,50,50,10,10,1,9,9,0', '4,6,0,0,10,10,1,0.4,0,0', ''].join('\n');

test('eval mot --json: the figures of a sequence worked by hand, with an overall column for two', async () => {
  const f = await files({ 'gt.txt': TRUTH, 'tracks.txt': TRACKS });
  const result = await run('eval', 'mot', f['gt.txt'], f['tracks.txt'], '--json');
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.deepEqual(report.matching, { by: 'iou', minIou: 0.5 });
  const [one] = report.sequences;
  // 3 matches of 4, 1 miss (frame 3), 1 false positive (track 9), 1 switch (5 -> 6), 1 fragmentation.
  assert.deepEqual(
    [one.matches, one.objects, one.misses, one.falsePositives, one.idSwitches, one.fragmentations, one.mostlyTracked, one.partlyTracked],
    [3, 4, 1, 1, 1, 1, 0, 1],
  );
  assert.equal(one.mota, 1 - 3 / 4);
  assert.equal(one.motp, 0);
  // The person and track 5 share 2 frames: IDF1 = 2 x 2 / (4 objects + 4 track boxes).
  assert.equal(one.idf1, 0.5);
  assert.deepEqual(report.overall, Object.fromEntries(Object.entries(one).filter(([key]) => !['name', 'truth', 'tracks'].includes(key))));

  const twice = JSON.parse((await run('eval', 'mot', f['gt.txt'], f['tracks.txt'], f['gt.txt'], f['gt.txt'], '--json')).stdout);
  assert.equal(twice.sequences.length, 2);
  assert.equal(twice.sequences[1].mota, 1);
  assert.equal(twice.overall.objects, 8);
  assert.equal(twice.overall.mota, 1 - 3 / 8);
});

test('eval mot --distance matches world positions on the floor; --iou moves the box threshold', async () => {
  const f = await files({ 'gt.txt': TRUTH, 'tracks.txt': TRACKS });
  // Track 6 stands 0.4 m away: matched within 0.5, not within 0.3.
  const wide = JSON.parse((await run('eval', 'mot', f['gt.txt'], f['tracks.txt'], '--distance', '0.5', '--json')).stdout);
  assert.deepEqual(wide.matching, { by: 'floor', maxDistance: 0.5 });
  assert.equal(wide.overall.matches, 3);
  assert.ok(Math.abs(wide.overall.motp - (0.2 + 0.2 + 0.4) / 3) < 1e-12);
  const narrow = JSON.parse((await run('eval', 'mot', f['gt.txt'], f['tracks.txt'], '--distance', '0.3', '--json')).stdout);
  assert.deepEqual([narrow.overall.matches, narrow.overall.idSwitches, narrow.overall.falsePositives], [2, 0, 2]);
  const text = await run('eval', 'mot', f['gt.txt'], f['tracks.txt'], '--iou', '0.9');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /matched by IoU at least 0\.9/);
  assert.match(text.stdout, /^MOTA +0\.250000$/m);
});

test('eval mot refuses what it cannot score: an odd file count, two ways to match, a bad threshold, a damaged line', async () => {
  const f = await files({ 'gt.txt': TRUTH, 'bad.txt': '1,5,0,0,10,10\n2,5,0,zero,10,10\n' });
  const odd = await run('eval', 'mot', f['gt.txt']);
  assert.equal(odd.code, 2);
  assert.match(odd.stderr, /give pairs of files, ground truth then tracks \(got 1 file\)/);
  const both = await run('eval', 'mot', f['gt.txt'], f['gt.txt'], '--iou', '0.5', '--distance', '1');
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--iou and --distance are two ways to match; give one/);
  const iou = await run('eval', 'mot', f['gt.txt'], f['gt.txt'], '--iou', '0');
  assert.equal(iou.code, 2);
  assert.match(iou.stderr, /--iou takes a number above 0 up to 1, not "0"/);
  const damaged = await run('eval', 'mot', f['gt.txt'], f['bad.txt']);
  assert.equal(damaged.code, 1);
  assert.match(damaged.stderr, /\[RECORDING_INVALID\] .*bad\.txt:2: column 4 \(y\) is not a number: "zero"/);
});
