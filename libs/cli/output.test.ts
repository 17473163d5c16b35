import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RECORDING_FORMAT, WalkoutError } from '../contracts/index.ts';
import { outputKinds, prepareOutput, writeOutputs, type Output, type OutputRequest } from './output.ts';

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

/** Handlers of the stopping signals now: work in progress adds one, and must take it away when it ends. */
const signalHandlers = () => ['SIGINT', 'SIGTERM', 'SIGHUP'].map((signal) => process.listenerCount(signal));

test('several outputs are put in place together or not at all, and nothing is left beside them', async () => {
  const dir = await scratch();
  const [rec, overlay, detections] = ['rec', 'overlay', 'poses.jsonl'].map((name) => path.join(dir, name));
  await fakeRecording(rec, 'old');
  const handlers = signalHandlers();
  const prepare = async () => ({
    rec: await prepareOutput({ verb: 'eval pose', target: rec, kind: outputKinds.recording }),
    overlay: await prepareOutput({ verb: 'eval pose', option: '--overlay', target: overlay, kind: outputKinds.pictures }),
    detections: undefined as Output | undefined,
  });

  await assert.rejects(writeOutputs(await prepare(), async () => Promise.reject(new Error('the model died'))), /the model died/);
  assert.equal(await marker(rec), 'old');
  assert.deepEqual(await readdir(dir), ['rec'], 'a failed run leaves no partial folder of either');
  assert.deepEqual(signalHandlers(), handlers);

  // The second output's target becomes something else while the work runs: its commit would refuse,
  // so the first, whose commit would succeed, is not put in place either.
  await assert.rejects(
    writeOutputs(await prepare(), async (into) => {
      assert.equal(into.detections, undefined, 'an output not asked for has no path');
      await fakeRecording(into.rec!, 'new');
      await writeFile(path.join(into.overlay!, 'cam-1-000001.png'), '');
      await mkdir(overlay);
      await writeFile(path.join(overlay, 'holiday.jpg'), 'precious');
    }),
    (error: unknown) => error instanceof WalkoutError && error.code === 'OUTPUT_REFUSED' && /--overlay .*overlay already exists and is not a folder of pictures/.test(error.message),
  );
  assert.equal(await marker(rec), 'old', 'the first output was not put in place');
  assert.deepEqual(await readdir(overlay), ['holiday.jpg']);
  assert.deepEqual((await readdir(dir)).sort(), ['overlay', 'rec'], 'no partial folder of either is left');
  assert.deepEqual(signalHandlers(), handlers);

  await rm(overlay, { recursive: true });
  const outputs = { ...(await prepare()), detections: await prepareOutput({ verb: 'eval pose', target: detections, kind: outputKinds.detections }) };
  const written = await writeOutputs(outputs, async (into) => {
    await fakeRecording(into.rec!, 'new');
    await writeFile(path.join(into.overlay!, 'cam-1-000001.png'), '');
    await writeFile(into.detections!, '');
    return 'scored';
  });
  assert.equal(written, 'scored');
  assert.equal(await marker(rec), 'new');
  assert.deepEqual(await readdir(overlay), ['cam-1-000001.png']);
  assert.deepEqual((await readdir(dir)).sort(), ['overlay', 'poses.jsonl', 'rec']);
  assert.deepEqual(signalHandlers(), handlers);
});

test('a commit that fails after the checks discards the outputs after it: no partial folder, no signal handler left', async () => {
  const dir = await scratch();
  const [first, third] = ['first', 'third'].map((name) => path.join(dir, name));
  const handlers = signalHandlers();
  // A rename the filesystem refuses cannot be staged here; an output whose commit fails stands in for it.
  const refusedRename: Output = {
    target: path.join(dir, 'second'),
    begin: async () => ({
      path: await scratch(),
      checkTarget: async () => undefined,
      commit: async () => Promise.reject(new Error('rename refused')),
      discard: async () => undefined,
    }),
    write: () => Promise.reject(new Error('not used')),
  };
  const outputs = {
    first: await prepareOutput({ verb: 'sim', target: first, kind: outputKinds.recording }),
    second: refusedRename,
    third: await prepareOutput({ verb: 'sim', target: third, kind: outputKinds.recording }),
  };
  await assert.rejects(
    writeOutputs(outputs, async (into) => {
      await fakeRecording(into.first!, 'first');
      await fakeRecording(into.third!, 'third');
    }),
    /rename refused/,
  );
  assert.equal(await marker(first), 'first', 'what was committed before the failure stays, whole');
  assert.deepEqual(await readdir(dir), ['first'], 'the third output was discarded, and nothing partial is left');
  assert.deepEqual(signalHandlers(), handlers);
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
