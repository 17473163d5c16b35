import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { MemoryNonceStore, NONCE_KEEP_MS, SqlNonceStore, USED_ENTRY_NONCES_TABLE, type NonceStore, type SqlQueryable } from './nonce.store.ts';

/**
 * One contract for every NonceStore: in memory, PGlite (embedded PostgreSQL) and the PostgreSQL
 * server. The server is at 127.0.0.1:5432 (WALKOUT_TEST_PG_URL overrides); without it the server
 * case is skipped with the reason, except under CI=true, where it fails.
 */

const T0 = 1_780_000_000_000;
const claim = (claimant: string, usedAtMs = T0) => ({ accountId: 'acct-1', storeId: 'kiosk', usedAtMs, claimant });
const nonce = () => randomBytes(16).toString('hex');

interface Adapter {
  name: string;
  open(t: TestContext): Promise<NonceStore | string>;
}

const adapters: Adapter[] = [
  { name: 'memory', open: async () => new MemoryNonceStore() },
  {
    name: 'PGlite',
    async open(t) {
      const db = new PGlite();
      t.after(() => db.close());
      await db.exec(USED_ENTRY_NONCES_TABLE);
      return new SqlNonceStore(db as unknown as SqlQueryable);
    },
  },
  {
    name: 'PostgreSQL server',
    async open(t) {
      const connectionString = process.env.WALKOUT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
      const client = new pg.Client({ connectionString });
      try {
        await client.connect();
      } catch (error) {
        const reason = `no PostgreSQL server: ${(error as Error).message}`;
        if (process.env.CI === 'true') throw new Error(reason);
        return reason;
      }
      // A schema of its own: runs at once never see each other's nonces. A pool, so that concurrent claims are concurrent transactions.
      const schema = `entry_test_${randomBytes(6).toString('hex')}`;
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`SET search_path TO ${schema}`);
      await client.query(USED_ENTRY_NONCES_TABLE);
      const pool = new pg.Pool({ connectionString, options: `-c search_path=${schema}`, max: 8 });
      t.after(async () => {
        await pool.end();
        await client.query(`DROP SCHEMA ${schema} CASCADE`);
        await client.end();
      });
      return new SqlNonceStore(pool);
    },
  },
];

for (const adapter of adapters) {
  test(`${adapter.name}: a nonce is claimed once; the same claimant again succeeds, anyone else fails`, async (t) => {
    const store = await adapter.open(t);
    if (typeof store === 'string') return t.skip(store);
    const first = nonce();
    assert.equal(await store.claim(first, claim('reading-1')), true);
    assert.equal(await store.claim(first, claim('reading-1')), true, 'the same reading delivered again');
    assert.equal(await store.claim(first, claim('reading-2', T0 + 500)), false);
    assert.equal(await store.claim(first, claim('reading-1')), true, 'a failed claim changes nothing');
    assert.equal(await store.claim(nonce(), claim('reading-2')), true, 'another nonce is free');
  });

  test(`${adapter.name}: claims at the same moment from many gates: exactly one wins`, async (t) => {
    const store = await adapter.open(t);
    if (typeof store === 'string') return t.skip(store);
    const contested = nonce();
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => store.claim(contested, claim(`gate-${i}`))));
    assert.equal(results.filter(Boolean).length, 1);
  });

  test(`${adapter.name}: nonces used before a time are forgotten, later ones kept`, async (t) => {
    const store = await adapter.open(t);
    if (typeof store === 'string') return t.skip(store);
    const old = nonce();
    const recent = nonce();
    await store.claim(old, claim('reading-old', T0));
    await store.claim(recent, claim('reading-recent', T0 + 10_000));
    await store.forgetBefore(T0 + 5_000);
    assert.equal(await store.claim(old, claim('someone-else', T0 + 20_000)), true, 'forgotten');
    assert.equal(await store.claim(recent, claim('someone-else', T0 + 20_000)), false, 'kept');
  });
}

test('memory: the store forgets on its own what is far older than its newest use, and keeps what a code could still need', async () => {
  const store = new MemoryNonceStore();
  const early = nonce();
  await store.claim(early, claim('reading-early', T0));
  await store.claim(nonce(), claim('reading-within', T0 + NONCE_KEEP_MS - 1));
  assert.equal(store.size, 2);
  assert.equal(await store.claim(early, claim('thief', T0 + NONCE_KEEP_MS - 1)), false);
  await store.claim(nonce(), claim('reading-late', T0 + NONCE_KEEP_MS + 1));
  assert.equal(store.size, 2, 'the early nonce forgotten');
});
