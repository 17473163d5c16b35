import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { WalkoutError } from '../contracts/errors.ts';
import { openDatabase } from './db.factory.ts';
import { embeddedDiskKind, embeddedMemoryKind, postgresKind, postgresTarget } from './db.harness.ts';
import { migrate, readMigrations, statementsOf, type Migration } from './migrations.ts';
import type { Database } from './db.types.ts';

/**
 * The one contract both databases keep (PGlite in memory and on disk, the PostgreSQL server in a
 * schema of this run's own): the same migrations, the same SQL, the same numbers and transactions.
 * Checkout and payments are written against it and run unchanged on either.
 */

const target = await postgresTarget();
if ('fail' in target) test('a PostgreSQL server answers for the database contract', () => assert.fail(target.fail));
const kinds = [embeddedMemoryKind(), embeddedDiskKind(), postgresKind(target)];
const TEST_TIMEOUT_MS = 60_000;

for (const kind of kinds) {
  describe(`database contract: ${kind.name}`, { skip: kind.skip || kind.fail || false }, () => {
    const open: Database[] = [];
    // Opening PGlite costs seconds (WebAssembly and initdb), so the tests share one database per kind
    // and name their own rows; only the reopen and start-together tests open more.
    let shared: Promise<Database> | undefined;
    const make = async (place?: string) => {
      if (place === undefined) return (shared ??= openDatabase(await kind.config('shared')).then((db) => (open.push(db), db)));
      const db = await openDatabase(await kind.config(place));
      open.push(db);
      return db;
    };
    after(async () => {
      for (const db of open) await db.close();
      await kind.cleanup();
    });

    test('applies every migration once, records it, and finds it applied on the next start', { timeout: TEST_TIMEOUT_MS }, async () => {
      const db = await make();
      const recorded = await db.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
      assert.deepEqual(
        recorded.rows.map((row) => [row.version, row.name]),
        readMigrations().map((migration) => [migration.version, migration.name]),
      );
      assert.deepEqual(await migrate(db), { applied: [], current: readMigrations().at(-1)!.version });
      // A restart finds everything applied with one read: no lock, no transaction (a second on PGlite).
      const calls: string[] = [];
      const watched: Database = { ...db, query: (sql, params) => (calls.push('query'), db.query(sql, params)), transaction: (work) => (calls.push('transaction'), db.transaction(work)) };
      assert.deepEqual((await migrate(watched)).applied, []);
      assert.deepEqual(calls, ['query']);
      const tables = await db.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name",
      );
      for (const table of ['accounts', 'visits', 'cart_events', 'receipts', 'receipt_lines', 'charges', 'outbox', 'review_items', 'refunds', 'used_entry_nonces', 'provider_ledger', 'review_decisions'])
        assert.ok(tables.rows.some((row) => row.table_name === table), `table ${table}`);
    });

    test('a migration edited after it was applied is refused; a new one is applied once', { timeout: TEST_TIMEOUT_MS }, async () => {
      const db = await make();
      const [first] = readMigrations();
      const edited: Migration = { ...first, sql: `${first.sql}\nCREATE TABLE sneaky (id int);`, checksum: 'f'.repeat(64) };
      await assert.rejects(migrate(db, [edited]), (error: WalkoutError) => error.code === 'MIGRATION_INVALID' && /001_checkout\.sql/.test(error.message));
      const added: Migration = { version: 900, name: '900_extra.sql', sql: 'CREATE TABLE extra (id int PRIMARY KEY);\nINSERT INTO extra VALUES (1);', checksum: 'e'.repeat(64) };
      assert.deepEqual((await migrate(db, [...readMigrations(), added])).applied, [900]);
      assert.deepEqual((await migrate(db, [...readMigrations(), added])).applied, []);
      assert.equal((await db.query('SELECT * FROM extra')).rowCount, 1);
      // A failing migration leaves nothing half done: its transaction rolls back.
      const broken: Migration = { version: 901, name: '901_broken.sql', sql: 'CREATE TABLE half (id int);\nSELECT no_such_function();', checksum: 'd'.repeat(64) };
      await assert.rejects(migrate(db, [...readMigrations(), added, broken]), (error: WalkoutError) => error.code === 'MIGRATION_INVALID' && /901_broken/.test(error.message));
      assert.equal((await db.query("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'half'")).rowCount, 0);
    });

    test('a transaction commits when its work resolves and rolls back when it throws', { timeout: TEST_TIMEOUT_MS }, async () => {
      const db = await make();
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO accounts (account_id, created_ms) VALUES ($1, $2)', ['acct-kept', 1]);
      });
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO accounts (account_id, created_ms) VALUES ($1, $2)', ['acct-dropped', 1]);
          throw new Error('the card machine caught fire');
        }),
        /caught fire/,
      );
      const rows = (await db.query<{ account_id: string }>("SELECT account_id FROM accounts WHERE account_id IN ('acct-kept', 'acct-dropped')")).rows;
      assert.deepEqual(rows.map((row) => row.account_id), ['acct-kept']);
    });

    test('money and store times are bigint minor units and come back as exact numbers; beyond 2^53 is an error', { timeout: TEST_TIMEOUT_MS }, async () => {
      const db = await make();
      const cents = 987_654_321_012; // nine billion and some, in cents
      const at = 1_767_225_600_123;
      await db.query('INSERT INTO accounts (account_id, created_ms) VALUES ($1, $2)', ['acct-1', at]);
      await db.query(
        "INSERT INTO visits (visit_id, store_id, account_id, kind, status, hold_cents, currency, updated_ms) VALUES ('v-1', 's-1', 'acct-1', 'shopper', 'in-store', $1, 'EUR', $2)",
        [cents, at],
      );
      const row = (await db.query<{ hold_cents: number; updated_ms: number }>("SELECT hold_cents, updated_ms FROM visits WHERE visit_id = 'v-1'")).rows[0];
      assert.deepEqual(row, { hold_cents: cents, updated_ms: at });
      assert.equal(typeof row.hold_cents, 'number');
      const sum = (await db.query<{ total: number }>("SELECT sum(hold_cents + 1)::bigint AS total FROM visits WHERE visit_id = 'v-1'")).rows[0];
      assert.equal(sum.total, cents + 1);
      await assert.rejects(db.query('SELECT 9007199254740993::bigint AS big'), (error: WalkoutError) => error.code === 'DATABASE_FAILED');
      const json = (await db.query<{ cart: unknown }>(`SELECT '{"lines":[{"productId":"p-1","quantity":2}]}'::jsonb AS cart`)).rows[0];
      assert.deepEqual(json.cart, { lines: [{ productId: 'p-1', quantity: 2 }] });
    });

    test('transactions that lock the same row take turns: none of twenty increments is lost', { timeout: TEST_TIMEOUT_MS }, async () => {
      const db = await make();
      await db.query("INSERT INTO accounts (account_id, created_ms) VALUES ('acct-c', 0)");
      await Promise.all(
        Array.from({ length: 20 }, () =>
          db.transaction(async (tx) => {
            const { rows } = await tx.query<{ created_ms: number }>("SELECT created_ms FROM accounts WHERE account_id = 'acct-c' FOR UPDATE");
            await tx.query("UPDATE accounts SET created_ms = $1 WHERE account_id = 'acct-c'", [rows[0].created_ms + 1]);
          }),
        ),
      );
      assert.equal((await db.query<{ created_ms: number }>("SELECT created_ms FROM accounts WHERE account_id = 'acct-c'")).rows[0].created_ms, 20);
    });

    test('what was committed is there when the database is opened again', { timeout: TEST_TIMEOUT_MS, skip: kind.name === 'embedded (memory)' ? 'memory is gone with the process' : false }, async () => {
      const first = await openDatabase(await kind.config('reopened'));
      await first.query("INSERT INTO used_entry_nonces (nonce, account_id, store_id, used_at, claimed_by) VALUES ('n-1', 'acct-1', 'kiosk', 5, 'reading-1')");
      await first.close();
      const second = await make('reopened');
      assert.deepEqual((await second.query('SELECT nonce, account_id, store_id, used_at, claimed_by FROM used_entry_nonces')).rows, [
        { nonce: 'n-1', account_id: 'acct-1', store_id: 'kiosk', used_at: 5, claimed_by: 'reading-1' },
      ]);
      await assert.rejects(second.query("INSERT INTO used_entry_nonces (nonce, account_id, store_id, used_at, claimed_by) VALUES ('n-1', 'acct-2', 'kiosk', 6, 'reading-2')"), (error: { code?: string }) => error.code === '23505');
    });

    test('two processes starting at once migrate once between them', { timeout: TEST_TIMEOUT_MS, skip: kind.name === 'postgres' ? false : 'one process at a time opens an embedded database' }, async () => {
      const config = await kind.config('together');
      const [a, b] = await Promise.all([openDatabase(config), openDatabase(config)]);
      open.push(a, b);
      const recorded = await a.query<{ version: number }>('SELECT version FROM schema_migrations');
      assert.equal(recorded.rowCount, readMigrations().length);
    });
  });
}

test('a migration splits into its statements at semicolons that end a line, comments left out', () => {
  assert.deepEqual(statementsOf('-- a note; with a semicolon;\nCREATE TABLE a (x text DEFAULT \'a;b\');\n\nCREATE INDEX i ON a (x);\n'), [
    "CREATE TABLE a (x text DEFAULT 'a;b')",
    'CREATE INDEX i ON a (x)',
  ]);
});
