import test, { after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../db/db.factory.ts';
import { embeddedMemoryKind, postgresKind, postgresTarget } from '../db/db.harness.ts';
import type { Database } from '../db/db.types.ts';
import { MemoryNonceStore, NONCE_KEEP_MS, SqlNonceStore, USED_ENTRY_NONCES_COLUMNS, type NonceStore } from './nonce.store.ts';

/**
 * One contract for every NonceStore: in memory, and the SQL adapter on libs/db's databases as the
 * migrations make them (PGlite, and the PostgreSQL server named by WALKOUT_POSTGRES_URL, in a schema
 * of this run's own; an unreachable server skips with the reason, except under CI=true).
 */

const T0 = 1_780_000_000_000;
const claim = (claimant: string, usedAtMs = T0) => ({ accountId: 'acct-1', storeId: 'kiosk', usedAtMs, claimant });
const nonce = () => randomBytes(16).toString('hex');

const target = await postgresTarget();
if ('fail' in target) test('a PostgreSQL server answers for the nonce store contract', () => assert.fail(target.fail));

interface Adapter {
  name: string;
  skip: string | false;
  open(): Promise<NonceStore>;
  close(): Promise<void>;
}

function sqlAdapter(kind: ReturnType<typeof embeddedMemoryKind>): Adapter {
  let db: Promise<Database> | undefined;
  return {
    name: `SQL on ${kind.name}`,
    skip: kind.skip || kind.fail || false,
    async open() {
      db ??= kind.config('nonces').then((config) => openDatabase(config));
      const opened = await db;
      await opened.query('TRUNCATE used_entry_nonces');
      return new SqlNonceStore(opened);
    },
    async close() {
      await (await db)?.close();
      await kind.cleanup();
    },
  };
}

const adapters: Adapter[] = [
  { name: 'memory', skip: false, open: async () => new MemoryNonceStore(), close: async () => undefined },
  sqlAdapter(embeddedMemoryKind()),
  sqlAdapter(postgresKind(target)),
];

for (const adapter of adapters)
  describe(`nonce store: ${adapter.name}`, { skip: adapter.skip }, () => {
    after(() => adapter.close());

    test('a nonce is claimed once; the same claimant again succeeds, anyone else fails', async () => {
      const store = await adapter.open();
      const first = nonce();
      assert.equal(await store.claim(first, claim('reading-1')), true);
      assert.equal(await store.claim(first, claim('reading-1')), true, 'the same reading delivered again');
      assert.equal(await store.claim(first, claim('reading-2', T0 + 500)), false);
      assert.equal(await store.claim(first, claim('reading-1')), true, 'a failed claim changes nothing');
      assert.equal(await store.claim(nonce(), claim('reading-2')), true, 'another nonce is free');
    });

    test('claims at the same moment from many gates: exactly one wins', async () => {
      const store = await adapter.open();
      const contested = nonce();
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => store.claim(contested, claim(`gate-${i}`))));
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('nonces used before a time are forgotten, later ones kept', async () => {
      const store = await adapter.open();
      const old = nonce();
      const recent = nonce();
      await store.claim(old, claim('reading-old', T0));
      await store.claim(recent, claim('reading-recent', T0 + 10_000));
      await store.forgetBefore(T0 + 5_000);
      assert.equal(await store.claim(old, claim('someone-else', T0 + 20_000)), true, 'forgotten');
      assert.equal(await store.claim(recent, claim('someone-else', T0 + 20_000)), false, 'kept');
    });
  });

test('the SQL adapter writes exactly the columns the migrations give used_entry_nonces, store-clock ms kept exactly', async (t) => {
  const db = await openDatabase({ kind: 'embedded' });
  t.after(() => db.close());
  const { rows } = await db.query<{ column_name: string; data_type: string; is_nullable: string }>(
    "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'used_entry_nonces' ORDER BY ordinal_position",
  );
  assert.deepEqual(rows.map((row) => row.column_name), [...USED_ENTRY_NONCES_COLUMNS]);
  assert.ok(rows.every((row) => row.is_nullable === 'NO'), 'every column NOT NULL');
  const store = new SqlNonceStore(db);
  await store.claim('n-exact', claim('reading-exact', T0 + 7));
  assert.deepEqual((await db.query('SELECT used_at, claimed_by FROM used_entry_nonces')).rows, [{ used_at: T0 + 7, claimed_by: 'reading-exact' }]);
});

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
