import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Store } from '../../libs/contracts/index.ts';
import { moveCamera, moveGondola } from '../../libs/contracts/store.fixture.ts';
import { repositoryRoot as root, runWalkout } from './cli.run.ts';

/** Stores and scenarios that once passed without a word, or crashed, are refused before any work. */

const run = (...args: string[]) => runWalkout(args);
const kiosk = async () => JSON.parse(await readFile(path.join(root, 'fixtures/stores/kiosk.json'), 'utf8')) as Store;

test('stores check names the file and the gondola, zone and camera that lie outside the store', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-stores-'));
  const store = await kiosk();
  moveGondola(store.layout.gondolas[1], [100, 0, 0]);
  store.layout.zones[0].polygon = store.layout.zones[0].polygon.map(([x, y]) => [x, y - 10] as [number, number]);
  moveCamera(store.cameras[2], [0, 1700, 0]);
  const file = path.join(dir, 'bad-kiosk.json');
  await writeFile(file, JSON.stringify(store));
  const checked = await run('stores', 'check', file);
  assert.equal(checked.code, 1, checked.stderr);
  assert.match(checked.stderr, /\[STORE_INVALID\]/);
  assert.match(checked.stderr, /bad-kiosk\.json at layout\.gondolas\.1\.box: gondola g2 stands off the floor/);
  assert.match(checked.stderr, /bad-kiosk\.json at layout\.zones\.0\.polygon: entry zone entry lies off the floor/);
  assert.match(checked.stderr, /bad-kiosk\.json at cameras\.2\.pose: camera cam-3 sits at \(0\.8, 1701, 3\.1\), 1696 m outside the floor/);
});

test('sim refuses a 20 km floor with the limit instead of crashing, and writes nothing', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-floor-'));
  const store = await kiosk();
  store.layout.floor = [[0, 0], [20_000, 0], [20_000, 20_000], [0, 20_000]];
  const file = path.join(dir, 'huge.json');
  await writeFile(file, JSON.stringify(store));
  const result = await run('sim', '--scenario', 'fixtures/scenarios/two-shoppers-one-shelf.json', '--store', file, '--no-video', '--out', path.join(dir, 'rec'));
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /\[STORE_INVALID\][^]*huge\.json at layout\.floor: the floor spans 20000 x 20000 m; walkout handles floors up to 200 m a side/);
  assert.doesNotMatch(result.stderr, /RangeError/);
  assert.deepEqual(await readdir(dir), ['huge.json']);
});

test('sim refuses a scenario that waits until 100,000 s before writing a byte', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-long-'));
  const scenario = JSON.parse(await readFile(path.join(root, 'fixtures/scenarios/two-shoppers-one-shelf.json'), 'utf8'));
  scenario.people[0].actions.splice(0, 0, { do: 'wait-until', atS: 100_000 });
  const file = path.join(dir, 'long.json');
  await writeFile(file, JSON.stringify(scenario));
  const result = await run('sim', '--scenario', file, '--no-video', '--out', path.join(dir, 'rec'));
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /\[SCENARIO_INVALID\][^]*long\.json at people\.0\.actions\.0\.atS: at most 3600 s, the longest scenario the simulator records \(MAX_SCENARIO_SECONDS\)/);
  assert.deepEqual(await readdir(dir), ['long.json']);
});

test('shelf simulate refuses --seconds past the limit with the limit, as a usage error, and writes nothing', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-shelf-long-'));
  for (const seconds of ['4000', '0', '2.5']) {
    const result = await run('shelf', 'simulate', '--seconds', seconds, '--out', path.join(dir, 'rec'));
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`\\[USAGE\\][^]*--seconds must be a whole number of seconds, from 1 to 3600 \\(MAX_SCENARIO_SECONDS, the longest the simulator records\\), got "${seconds.replace('.', '\\.')}"`),
    );
  }
  assert.deepEqual(await readdir(dir), []);
});
