import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { openDatabase } from '../../libs/db/index.ts';
import { accountOfToken } from '../../libs/accounts/accounts.repository.ts';
import { repositoryRoot, runWalkout } from './cli.run.ts';
import { envWithoutWalkout } from './serve.harness.ts';

test('accounts token makes the account and a token the app accepts, shown once; a new one replaces it; a database in memory is refused', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-accounts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = { ...envWithoutWalkout(), WALKOUT_DATABASE_URL: `embedded:${path.join(dir, 'db')}` };
  const issue = async () => {
    const run = await runWalkout(['accounts', 'token', 'acct-new', '--json'], repositoryRoot, env);
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as { accountId: string; token: string; database: string };
  };
  const first = await issue();
  assert.equal(first.accountId, 'acct-new');
  assert.match(first.token, /^wo_[A-Za-z0-9_-]{43}$/);
  const second = await issue();
  assert.notEqual(second.token, first.token);
  const db = await openDatabase({ kind: 'embedded', dataDir: path.join(dir, 'db') });
  try {
    assert.equal((await accountOfToken(db, second.token))?.accountId, 'acct-new');
    assert.equal(await accountOfToken(db, first.token), undefined, 'the earlier token no longer works');
    const stored = await db.query<{ token_hash: string }>("SELECT token_hash FROM accounts WHERE account_id = 'acct-new'");
    assert.ok(!JSON.stringify(stored.rows).includes(second.token), 'only its hash is kept');
  } finally {
    await db.close();
  }
  const inMemory = await runWalkout(['accounts', 'token', 'acct-new'], repositoryRoot, envWithoutWalkout());
  assert.equal(inMemory.code, 2);
  assert.match(inMemory.stderr, /names no lasting database/);
  const badId = await runWalkout(['accounts', 'token', 'not an id'], repositoryRoot, env);
  assert.equal(badId.code, 2);
  assert.match(badId.stderr, /"not an id" is not an account id/);
});
