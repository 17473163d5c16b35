import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repositoryRoot as root, runWalkout } from './cli.run.ts';

/**
 * No command destroys what the user has: every verb that writes checks its target before any work
 * and puts its result in place only when the work succeeded. Each case here once deleted files.
 */

const fixture = (relative: string) => path.join(root, relative);
const run = runWalkout;

/** Every file under a folder with its content: what must not change. */
async function snapshot(folder: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      files[path.relative(folder, file)] = await readFile(file, 'latin1');
    }
  return files;
}

/** Public cashierless layout: two plates of one shelf, one product on each. */
async function plateFolder(): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), 'walkout-plates-'));
  const rows = Array.from({ length: 120 }, (_, i) => `${1_700_000_000 + i / 60},${(500 + (i % 3) * 0.1).toFixed(1)}`);
  for (const plate of [1, 2]) await writeFile(path.join(folder, `gondola_1_shelf_1_plate_${plate}.csv`), `unix_seconds,grams\n${rows.join('\n')}\n`);
  await writeFile(path.join(folder, 'products.csv'), 'name,gondola,shelf,plate,weight,price\ncrisps,1,1,1,45,1.99\nsoda,1,1,2,355,0.99\n');
  return folder;
}

test('import plates X --out X refuses to write over its own input, which stays whole', async () => {
  const folder = await plateFolder();
  const before = await snapshot(folder);
  const result = await run(['import', 'plates', folder, '--products', path.join(folder, 'products.csv'), '--out', folder]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /\[OUTPUT_REFUSED\] --out .* is <folder>, which walkout import plates reads; nothing was written/);
  assert.deepEqual(await snapshot(folder), before);
});

test('a mistyped --products leaves the recording --out names as it was', async () => {
  const folder = await plateFolder();
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'walkout-import-')), 'imported');
  const first = await run(['import', 'plates', folder, '--products', path.join(folder, 'products.csv'), '--out', out, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const recording = await snapshot(out);
  assert.ok(recording['manifest.json'], 'the first import wrote a recording');
  const typo = await run(['import', 'plates', folder, '--products', path.join(folder, 'prodcts.csv'), '--out', out]);
  assert.equal(typo.code, 2, typo.stderr);
  assert.match(typo.stderr, /--products .*prodcts\.csv does not exist; nothing was written/);
  assert.deepEqual(await snapshot(out), recording);
  assert.deepEqual(await readdir(path.dirname(out)), ['imported'], 'nothing left beside the recording');
});

test('sim --out .. refuses to replace the folder the command runs in', async () => {
  // The parent of the working folder here is a scratch folder: the command must not remove it.
  const parent = await mkdtemp(path.join(tmpdir(), 'walkout-parent-'));
  const here = path.join(parent, 'here');
  await mkdir(here);
  await writeFile(path.join(parent, 'notes.txt'), 'mine\n');
  const result = await run(
    ['sim', '--scenario', fixture('fixtures/scenarios/two-shoppers-one-shelf.json'), '--store', fixture('fixtures/stores/kiosk.json'), '--no-video', '--out', '..'],
    here,
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /\[OUTPUT_REFUSED\] --out \.\. holds the folder this command runs in/);
  assert.deepEqual((await readdir(parent)).sort(), ['here', 'notes.txt']);
});

test('every verb that writes leaves alone what it did not make, and never writes inside what it reads', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-mine-'));
  const folder = path.join(dir, 'thesis');
  await mkdir(folder);
  await writeFile(path.join(folder, 'thesis.tex'), '\\documentclass{article}\n');
  const file = path.join(dir, 'notes.txt');
  await writeFile(file, 'mine\n');
  await writeFile(path.join(dir, 'kiosk.json'), '{"not": "a store"}\n');
  const recording = path.join(dir, 'shelves');
  const simulated = await run(['shelf', 'simulate', '--seconds', '10', '--out', recording, '--json']);
  assert.equal(simulated.code, 0, simulated.stderr);
  const plates = await plateFolder();
  const before = await snapshot(dir);
  const cases: Array<[string[], RegExp]> = [
    [['sim', '--scenario', 'fixtures/scenarios/two-shoppers-one-shelf.json', '--no-video', '--out', folder], /--out .*thesis already exists and is not a recording/],
    [['sim', '--random', '--out', folder], /--out .*thesis already exists and is not a recording/],
    [['shelf', 'simulate', '--out', folder], /--out .*thesis already exists and is not a recording/],
    [['start', '--no-video', '--out', folder], /--out .*thesis already exists and is not a recording/],
    [['import', 'plates', plates, '--products', path.join(plates, 'products.csv'), '--out', folder], /--out .*thesis already exists and is not a recording/],
    [['recording', 'map', recording, '--out', file], /--out .*notes\.txt already exists and is not a picture/],
    [['recording', 'map', recording, '--out', path.join(recording, 'manifest.json'), '--force'], /lies inside <dir> .*shelves, which walkout recording map reads/],
    [['recording', 'weights', recording, '--shelf', 'g1-s1', '--out', file], /--out .*notes\.txt already exists and is not a picture/],
    [['eval', 'pose', recording, '--save-detections', file], /--save-detections .*notes\.txt already exists and is not a detections file/],
    [['eval', 'pose', recording, '--overlay', folder], /--overlay .*thesis already exists and is not a folder of pictures/],
    [['eval', 'pose', recording, '--overlay', path.join(recording, 'overlay')], /lies inside <recording> .*shelves, which walkout eval pose reads/],
    [['stores', 'generate', '--out', dir], /--out .*kiosk\.json already exists and is not a store file/],
    [['start', '--no-video', '--out', 'fixtures/recordings/kiosk-demo', '--force'], /--out fixtures\/recordings\/kiosk-demo is the committed recording, which walkout start reads/],
  ];
  for (const [args, message] of cases) {
    const result = await run(args);
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /\[OUTPUT_REFUSED\]/, args.join(' '));
    assert.match(result.stderr, message, args.join(' '));
  }
  assert.deepEqual(await snapshot(dir), before);
});

test('a recording is replaced by a new one, and anything else with --force, with nothing left beside it', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-replace-'));
  const out = path.join(dir, 'shelves');
  for (const seed of ['1', '2']) {
    const result = await run(['shelf', 'simulate', '--seconds', '10', '--seed', seed, '--out', out, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(await readFile(path.join(out, 'manifest.json'), 'utf8'), new RegExp(`seed ${seed}`));
  }
  assert.deepEqual(await readdir(dir), ['shelves']);
  const folder = path.join(dir, 'old-things');
  await mkdir(folder);
  await writeFile(path.join(folder, 'old.txt'), 'old\n');
  const forced = await run(['shelf', 'simulate', '--seconds', '10', '--out', folder, '--force', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok((await readdir(folder)).includes('manifest.json'));
  assert.ok(!(await readdir(folder)).includes('old.txt'));
  assert.deepEqual((await readdir(dir)).sort(), ['old-things', 'shelves']);
});
