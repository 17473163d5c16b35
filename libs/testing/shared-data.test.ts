import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sharedData } from './shared-data.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HELPER = pathToFileURL(fileURLToPath(new URL('./shared-data.ts', import.meta.url))).href;
const WHY = 'no licence: test use only';

function withFolder(body: (root: string) => void) {
  const root = mkdtempSync(path.join(tmpdir(), 'walkout-shared-'));
  try {
    body(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('present shared data runs, in CI or not, and hands back its path', () =>
  withFolder((root) => {
    writeFileSync(path.join(root, 'plates.csv'), '1,2\n');
    for (const env of [{}, { CI: 'true' }]) {
      const data = sharedData('plates.csv', WHY, { root, env });
      assert.equal(data.skip, false);
      assert.equal(data.use(), path.join(root, 'plates.csv'));
    }
  }));

test('missing shared data is skipped with its path and reason outside CI, and fails under CI=true', () =>
  withFolder((root) => {
    const local = sharedData('autocheckout/plates.csv', WHY, { root, env: {} });
    assert.ok(local.skip);
    assert.match(local.skip, /autocheckout\/plates\.csv is not there: no licence: test use only, kept in \.\.\/shared\/data beside the repository/);
    assert.match(local.skip, /CI=true makes this a failure/);
    const ci = sharedData('autocheckout/plates.csv', WHY, { root, env: { CI: 'true' } });
    assert.equal(ci.skip, false, 'under CI the test is not skipped');
    assert.throws(() => ci.use(), /CI=true but .*autocheckout\/plates\.csv is not there: no licence: test use only/);
  }));

test('node:test reports a test of missing shared data as skipped with the reason, and as failed under CI=true', () =>
  withFolder((root) => {
    const file = path.join(root, 'uses-missing.test.ts');
    writeFileSync(
      file,
      [
        `import test from 'node:test';`,
        `import { sharedData } from ${JSON.stringify(HELPER)};`,
        `const data = sharedData('mot/gt.txt', 'CC BY-NC-SA: test use only', { root: ${JSON.stringify(root)} });`,
        `test('reads the ground truth', { skip: data.skip }, () => { data.use(); });`,
      ].join('\n'),
    );
    const run = (ci: string | undefined) => {
      // NODE_TEST_CONTEXT would make the child report to this runner instead of printing TAP.
      const { NODE_TEST_CONTEXT: _runner, CI: _ci, ...inherited } = process.env;
      const env = ci === undefined ? inherited : { ...inherited, CI: ci };
      return spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], { cwd: PROJECT_ROOT, env, encoding: 'utf8' });
    };
    const local = run(undefined);
    assert.equal(local.status, 0, local.stdout + local.stderr);
    assert.match(local.stdout, /ok 1 - reads the ground truth # SKIP .*mot\/gt\.txt is not there: CC BY-NC-SA: test use only/);
    const ci = run('true');
    assert.equal(ci.status, 1, ci.stdout + ci.stderr);
    assert.match(ci.stdout, /not ok 1 - reads the ground truth/);
    assert.match(ci.stdout, /CI=true but .*mot\/gt\.txt is not there/);
  }));
