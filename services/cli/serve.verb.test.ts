import assert from 'node:assert/strict';
import { once } from 'node:events';
import test from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, readMigrations } from '../../libs/db/index.ts';
import { envWithoutWalkout, startServe } from './serve.harness.ts';

// Exits are awaited as 'close', not 'exit': a process may exit before all it wrote has been read.

/** The JSON log lines a process wrote on standard error. */
const logLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

for (const name of ['shelf', 'tracker', 'gate', 'fusion', 'cart', 'checkout', 'app', 'camera']) {
  test(`serve ${name} runs the service until SIGTERM, logs as JSON lines, and prints what it counted`, { timeout: 60_000 }, async (t) => {
    const service = startServe([name, '--json', ...(name === 'app' ? ['--port', '0'] : [])]);
    const { child } = service;
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    await service.serving;
    const serving = logLines(service.stderr()).find((line) => line.msg === 'serving')!;
    assert.equal(serving.service, name);
    assert.equal(serving.bus, 'memory');
    assert.equal(serving.store, 'kiosk-shelf-cams');
    assert.ok(logLines(service.stderr()).some((line) => line.level === 'warn' && String(line.msg).includes('in-process bus')), 'warns that nothing can reach it');
    child.kill('SIGTERM');
    const [code] = await once(child, 'close');
    assert.equal(code, 0, service.stderr());
    const summary = JSON.parse(service.stdout());
    assert.equal(summary.service, name);
    assert.equal(typeof summary.stats, 'object');
    // By default the shelf cameras are read on demand (serve shelf reports the shelves' activity).
    if (name === 'camera') assert.deepEqual(summary.stats.onDemand, { read: 0, passedOver: 0, readUnheard: 0, waiting: 0 });
  });
}

test('serve tracker refuses an --idle-ms that is not a time, serve camera a --looks it does not know or a --whole-every below 1, serve shelf both --report-activity and --no-report-activity, and serve a store file that does not exist', async () => {
  const badIdle = startServe(['tracker', '--idle-ms', '0']);
  const [idleCode] = await once(badIdle.child, 'close');
  assert.equal(idleCode, 2);
  assert.match(badIdle.stderr(), /--idle-ms must be a whole number of milliseconds, 1 or more, or "infinity"; got "0"/);
  const badLooks = startServe(['camera', '--looks', 'sometimes']);
  const [looksCode] = await once(badLooks.child, 'close');
  assert.equal(looksCode, 2);
  assert.match(badLooks.stderr(), /--looks is one of always, when-unsure, not "sometimes"/);
  const badWhole = startServe(['camera', '--whole-every', '0']);
  const [wholeCode] = await once(badWhole.child, 'close');
  assert.equal(wholeCode, 2);
  assert.match(badWhole.stderr(), /--whole-every must be a whole number of frames, 1 or more, got "0"/);
  const bothWays = startServe(['shelf', '--report-activity', '--no-report-activity']);
  const [bothCode] = await once(bothWays.child, 'close');
  assert.equal(bothCode, 2);
  assert.match(bothWays.stderr(), /--report-activity and --no-report-activity say opposite things/);
  const noStore = startServe(['shelf', '--store', 'fixtures/stores/nowhere.json']);
  const [storeCode] = await once(noStore.child, 'close');
  assert.equal(storeCode, 1);
  assert.match(noStore.stderr(), /nowhere\.json/);
});

test('serve app answers on its port: the OpenAPI document, and 401 without a token', { timeout: 60_000 }, async (t) => {
  const service = startServe(['app', '--port', '0']);
  t.after(() => {
    if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
  });
  await service.serving;
  const url = String(logLines(service.stderr()).find((line) => line.msg === 'shopper app API listening')!.url);
  const document = (await (await fetch(`${url}/docs/json`)).json()) as { paths: Record<string, unknown> };
  assert.ok('/v1/entry-codes' in document.paths);
  const refused = await fetch(`${url}/v1/receipts`);
  assert.equal(refused.status, 401);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
  service.child.kill('SIGTERM');
  assert.equal((await once(service.child, 'close'))[0], 0, service.stderr());
});

test('serve gate with WALKOUT_DATABASE_URL keeps used codes and account standing in that database', { timeout: 60_000 }, async (t) => {
  const folder = mkdtempSync(join(tmpdir(), 'serve-gate-db-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const service = startServe(['gate', '--json'], { ...envWithoutWalkout(), WALKOUT_DATABASE_URL: `embedded:${folder}` });
  t.after(() => {
    if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
  });
  await service.serving;
  service.child.kill('SIGTERM');
  assert.equal((await once(service.child, 'close'))[0], 0, service.stderr());
  assert.equal(JSON.parse(service.stdout()).stats.database, `embedded ${folder}`);
  const db = await openDatabase({ kind: 'embedded', dataDir: folder });
  t.after(() => db.close());
  const migrated = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
  assert.deepEqual(migrated.rows.map((row) => row.version), readMigrations().map((migration) => migration.version), 'the gate opened and migrated it');
});
