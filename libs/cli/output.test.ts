import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RECORDING_FORMAT, WalkoutError } from '../contracts/index.ts';
import { outputKinds, prepareOutput, type OutputRequest } from './output.ts';

const root = new URL('../../', import.meta.url).pathname;
const scratch = () => mkdtemp(path.join(tmpdir(), 'walkout-output-'));

/** A folder that passes for a recording: what the output helper looks at is its manifest. */
async function fakeRecording(folder: string, marker: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, 'manifest.json'), JSON.stringify({ format: RECORDING_FORMAT, marker }));
}

const marker = async (folder: string) => JSON.parse(await readFile(path.join(folder, 'manifest.json'), 'utf8')).marker;

async function refusal(request: OutputRequest): Promise<WalkoutError> {
  try {
    await prepareOutput(request);
  } catch (error) {
    assert.ok(error instanceof WalkoutError, String(error));
    return error;
  }
  assert.fail(`${request.target} was accepted`);
}

test('a recording is replaced only when the work succeeded, and nothing is left beside it', async () => {
  const dir = await scratch();
  const target = path.join(dir, 'rec');
  await fakeRecording(target, 'old');
  const output = await prepareOutput({ verb: 'sim', target, kind: outputKinds.recording });
  await assert.rejects(
    output.write(async (into) => {
      await fakeRecording(into, 'half-written');
      throw new Error('the encoder died');
    }),
    /the encoder died/,
  );
  assert.equal(await marker(target), 'old', 'a failed run leaves the old recording as it was');
  assert.deepEqual(await readdir(dir), ['rec'], 'and no temporary folder behind');

  const result = await output.write(async (into) => {
    assert.equal(path.dirname(into), dir, 'the work goes beside the target, on the same filesystem');
    await fakeRecording(into, 'new');
    return 42;
  });
  assert.equal(result, 42);
  assert.equal(await marker(target), 'new');
  assert.deepEqual(await readdir(dir), ['rec'], 'the old recording is gone, nothing is left aside');
  const usual = path.join(await scratch(), 'usual');
  await mkdir(usual);
  assert.equal((await stat(target)).mode & 0o777, (await stat(usual)).mode & 0o777, 'the folder gets the permissions any new folder gets');
});

test('a folder that is not a recording is replaced only with --force', async () => {
  const dir = await scratch();
  const target = path.join(dir, 'photos');
  await mkdir(target);
  await writeFile(path.join(target, 'holiday.jpg'), 'precious');
  const refused = await refusal({ verb: 'sim', target, kind: outputKinds.recording });
  assert.equal(refused.code, 'OUTPUT_REFUSED');
  assert.match(refused.message, /--out .*photos already exists and is not a recording \(a folder with a walkout manifest\.json\).*add --force/);
  assert.equal(await readFile(path.join(target, 'holiday.jpg'), 'utf8'), 'precious');

  const forced = await prepareOutput({ verb: 'sim', target, kind: outputKinds.recording, force: true });
  await forced.write((into) => fakeRecording(into, 'new'));
  assert.deepEqual(await readdir(target), ['manifest.json']);

  const empty = path.join(dir, 'empty');
  await mkdir(empty);
  await (await prepareOutput({ verb: 'sim', target: empty, kind: outputKinds.recording })).write((into) => fakeRecording(into, 'new'));
  assert.equal(await marker(empty), 'new', 'an empty folder holds nothing to lose');
});

test('the target may not be, hold or sit inside an input', async () => {
  const dir = await scratch();
  const plates = path.join(dir, 'plates');
  await mkdir(plates);
  await writeFile(path.join(plates, 'products.csv'), 'name\n');
  const request = (target: string, inputs: Record<string, string>) => ({ verb: 'import plates', target, kind: outputKinds.recording, inputs, force: true });
  assert.match((await refusal(request(plates, { '<folder>': plates }))).message, /is <folder>, which walkout import plates reads/);
  assert.match(
    (await refusal(request(dir, { '--products': path.join(plates, 'products.csv') }))).message,
    /holds --products .*products\.csv, which walkout import plates reads/,
  );
  assert.match((await refusal(request(path.join(plates, 'rec'), { '<folder>': plates }))).message, /lies inside <folder> .*plates, which walkout import plates reads/);
  // The same folder reached through another spelling is still the same folder.
  assert.match((await refusal(request(path.join(plates, '..', 'plates', '.'), { '<folder>': plates }))).message, /is <folder>/);
  assert.deepEqual(await readdir(plates), ['products.csv']);
});

test('a missing input is named before anything is touched', async () => {
  const dir = await scratch();
  const target = path.join(dir, 'rec');
  await fakeRecording(target, 'old');
  const refused = await refusal({ verb: 'import plates', target, kind: outputKinds.recording, inputs: { '--products': path.join(dir, 'prodcts.csv'), '--truth': undefined } });
  assert.equal(refused.code, 'USAGE');
  assert.match(refused.message, /--products .*prodcts\.csv does not exist; nothing was written/);
  assert.equal(await marker(target), 'old');
});

test('the folder the command runs in, or one holding it, is never replaced', async () => {
  const here = process.cwd();
  for (const target of [here, path.dirname(here), '.', '..'])
    assert.match((await refusal({ verb: 'sim', target, kind: outputKinds.recording, force: true })).message, /holds the folder this command runs in/, target);
});

test('a picture replaces a picture in one rename; other files only with --force; a folder never', async () => {
  const dir = await scratch();
  const map = path.join(dir, 'map.png');
  await writeFile(map, '<svg xmlns="http://www.w3.org/2000/svg"></svg>');
  await (await prepareOutput({ verb: 'recording map', target: map, kind: outputKinds.picture })).write(async (into) => {
    assert.equal(path.basename(into), 'map.png', 'the file keeps its name, so its extension still says PNG or SVG');
    await writeFile(into, '<svg>new</svg>');
  });
  assert.equal(await readFile(map, 'utf8'), '<svg>new</svg>');
  assert.deepEqual(await readdir(dir), ['map.png']);

  const thesis = path.join(dir, 'thesis.tex');
  await writeFile(thesis, '\\documentclass{article}');
  assert.match((await refusal({ verb: 'recording map', target: thesis, kind: outputKinds.picture })).message, /is not a picture \(an SVG or PNG file\)/);
  assert.equal(await readFile(thesis, 'utf8'), '\\documentclass{article}');

  assert.match((await refusal({ verb: 'recording map', target: dir, kind: outputKinds.picture, force: true })).message, /is a folder, and walkout recording map writes a picture file/);
});

test('missing parent folders are made, and taken away again when the work fails', async () => {
  const dir = await scratch();
  const target = path.join(dir, '.walkout', 'runs', 'demo');
  const output = await prepareOutput({ verb: 'start', target, kind: outputKinds.recording });
  await assert.rejects(output.write(async () => Promise.reject(new Error('no'))), /no/);
  assert.deepEqual(await readdir(dir), []);
  await output.write((into) => fakeRecording(into, 'new'));
  assert.equal(await marker(target), 'new');
});

test('something that appears at the target while the work runs is not replaced', async () => {
  const dir = await scratch();
  const target = path.join(dir, 'rec');
  const output = await prepareOutput({ verb: 'sim', target, kind: outputKinds.recording });
  await assert.rejects(
    output.write(async (into) => {
      await mkdir(target);
      await writeFile(path.join(target, 'notes.txt'), 'mine');
      await fakeRecording(into, 'new');
    }),
    (error: unknown) => error instanceof WalkoutError && error.code === 'OUTPUT_REFUSED',
  );
  assert.deepEqual(await readdir(target), ['notes.txt']);
  assert.deepEqual(await readdir(dir), ['rec']);
});

test('a run stopped by SIGINT or SIGTERM leaves the old recording as it was and nothing beside it', async () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const dir = await scratch();
    const target = path.join(dir, 'rec');
    await fakeRecording(target, 'old');
    // A child that starts writing, says so, and then works for ever.
    const program = `
      import { mkdir, writeFile } from 'node:fs/promises';
      import path from 'node:path';
      import { outputKinds, prepareOutput } from ${JSON.stringify(path.join(root, 'libs/cli/output.ts'))};
      const output = await prepareOutput({ verb: 'sim', target: ${JSON.stringify(target)}, kind: outputKinds.recording });
      await output.write(async (into) => {
        await writeFile(path.join(into, 'manifest.json'), '{}');
        process.stdout.write('writing\\n');
        await new Promise(() => setInterval(() => {}, 1 << 30));
      });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, how) => resolve(how)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('writing') && resolve());
      child.on('exit', () => reject(new Error('the child ended before it started writing')));
    });
    assert.equal((await readdir(dir)).length, 2, 'the work in progress sits beside the target');
    child.kill(signal);
    assert.equal(await exited, signal, 'the signal still ends the process');
    assert.equal(await marker(target), 'old');
    assert.deepEqual(await readdir(dir), ['rec']);
  }
});
