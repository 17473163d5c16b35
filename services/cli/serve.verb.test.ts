import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import test from 'node:test';
import { waitFor } from '../../libs/bus/bus.harness.ts';

const root = new URL('../../', import.meta.url).pathname;

/** Starts `walkout serve ...` on the in-process bus; collects its output. */
function serve(...args: string[]) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WALKOUT_')));
  const child = spawn(process.execPath, ['bin/walkout.js', 'serve', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => (out.stdout += chunk));
  child.stderr.on('data', (chunk) => (out.stderr += chunk));
  return { child, out };
}

/** The JSON log lines a process wrote on standard error. */
const logLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

for (const name of ['shelf', 'tracker']) {
  test(`serve ${name} runs the service until SIGTERM, logs as JSON lines, and prints what it counted`, { timeout: 60_000 }, async (t) => {
    const { child, out } = serve(name, '--json');
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await waitFor(() => logLines(out.stderr).some((line) => line.msg === 'serving'), () => `the "serving" line, have ${out.stderr}`, 30_000);
    const serving = logLines(out.stderr).find((line) => line.msg === 'serving')!;
    assert.equal(serving.service, name);
    assert.equal(serving.bus, 'memory');
    assert.equal(serving.store, 'kiosk-shelf-cams');
    assert.ok(logLines(out.stderr).some((line) => line.level === 'warn' && String(line.msg).includes('in-process bus')), 'warns that nothing can reach it');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, out.stderr);
    const summary = JSON.parse(out.stdout);
    assert.equal(summary.service, name);
    assert.equal(typeof summary.stats, 'object');
  });
}

test('serve tracker refuses an --idle-ms that is not a time, and serve a store file that does not exist', async () => {
  const badIdle = serve('tracker', '--idle-ms', '0');
  const [idleCode] = await once(badIdle.child, 'exit');
  assert.equal(idleCode, 2);
  assert.match(badIdle.out.stderr, /--idle-ms must be a whole number of milliseconds, 1 or more, or "infinity"; got "0"/);
  const noStore = serve('shelf', '--store', 'fixtures/stores/nowhere.json');
  const [storeCode] = await once(noStore.child, 'exit');
  assert.equal(storeCode, 1);
  assert.match(noStore.out.stderr, /nowhere\.json/);
});
