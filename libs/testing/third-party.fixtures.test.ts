import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { sharedData } from './shared-data.ts';

/**
 * Data walkout did not make ships in fixtures/ only with its licence and attribution beside it, and
 * unchanged, as its attribution says. The suite must stand alone: no test reads ../shared except
 * through sharedData, which skips (or fails under CI=true) when the folder is not there.
 */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = path.join(PROJECT_ROOT, 'fixtures');

interface ThirdPartyFolder {
  /** Inside fixtures/, and the same inside ../shared/data where the original is kept. */
  readonly folder: string;
  /** The licence as the attribution names it. */
  readonly licences: readonly RegExp[];
  /** A licence text shipped beside the data; CC BY needs only its address, which ATTRIBUTION.md gives. */
  readonly licenceFile?: string;
}

const THIRD_PARTY: readonly ThirdPartyFolder[] = [
  { folder: 'calibration/meva-2018-03', licences: [/CC BY 4\.0/], licenceFile: 'MEVA_LICENSE' },
  { folder: 'pose', licences: [/CC BY 2\.0/, /CC BY 4\.0/] },
  { folder: 'video', licences: [/Apache License 2\.0/], licenceFile: 'LICENSE-mmpose' },
];
/** Our own files in those folders: everything else is the publisher's. */
const OURS = new Set(['ATTRIBUTION.md', '.gitattributes', 'LICENSE-mmpose']);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

for (const { folder, licences, licenceFile } of THIRD_PARTY) {
  const dir = path.join(FIXTURES, folder);

  test(`fixtures/${folder} ships with its attribution and licence`, () => {
    const attribution = readFileSync(path.join(dir, 'ATTRIBUTION.md'), 'utf8');
    for (const licence of licences) assert.match(attribution, licence, `fixtures/${folder}/ATTRIBUTION.md names the licence`);
    if (licenceFile) assert.ok(existsSync(path.join(dir, licenceFile)), `fixtures/${folder}/${licenceFile} is there`);
    const data = filesUnder(dir).filter((file) => !OURS.has(path.basename(file)) && !/README\.md$|LICENSE/.test(file));
    assert.ok(data.length > 0);
    // Each data file is accounted for by name, or by its folder's pattern (cameras/*.krtd).
    for (const file of data) {
      const named = attribution.includes(path.basename(file)) || attribution.includes(`${path.dirname(file)}/*${path.extname(file)}`);
      assert.ok(named, `fixtures/${folder}/ATTRIBUTION.md does not mention ${file}`);
    }
  });

  const original = sharedData(folder, 'the published originals of the shipped copies, to compare them with');
  test(`fixtures/${folder} holds the published files unchanged`, { skip: original.skip }, () => {
    const originalDir = original.use();
    for (const file of filesUnder(dir).filter((name) => !OURS.has(path.basename(name))))
      assert.ok(readFileSync(path.join(dir, file)).equals(readFileSync(path.join(originalDir, file))), `fixtures/${folder}/${file} differs from the original`);
  });
}

test('no test or fixture helper reads ../shared but through sharedData', () => {
  const offenders: string[] = [];
  for (const top of ['libs', 'services', 'bench', 'bin']) {
    for (const file of filesUnder(path.join(PROJECT_ROOT, top))) {
      if (!/\.[cm]?[jt]s$/.test(file) || file.includes('node_modules')) continue;
      const relative = path.join(top, file);
      if (relative === path.join('libs', 'testing', 'shared-data.ts') || relative === path.join('libs', 'testing', 'third-party.fixtures.test.ts')) continue;
      const source = readFileSync(path.join(PROJECT_ROOT, relative), 'utf8');
      if (/\.\.\/shared\/|shared\/data\//.test(source)) offenders.push(relative);
    }
  }
  assert.deepEqual(offenders, [], 'these files reach into ../shared directly; use libs/testing/shared-data.ts');
});
