import test, { after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock/clock.ts';
import { blockAccount, unblockAccount } from '../accounts/accounts.repository.ts';
import { openDatabase } from '../db/db.factory.ts';
import { embeddedMemoryKind, postgresKind, postgresTarget } from '../db/db.harness.ts';
import type { Database } from '../db/db.types.ts';
import { SqlAccountStatus } from './account.status.ts';
import { createKeyRing, generateEntryKey, parseEntryKeys } from './entry.keys.ts';
import { createEntryIssuer, createEntryVerifier } from './entry.verifier.ts';
import { SqlNonceStore } from './nonce.store.ts';

/**
 * The gate's database adapters on libs/db (PGlite, and the server when it answers): an account
 * blocked in `accounts`, or with a visit checkout left `payment-failed`, is refused at the gate with
 * the reason, and its code is not spent; once cleared the same code lets it in, once.
 */

const target = await postgresTarget();
if ('fail' in target) test('a PostgreSQL server answers for the account status contract', () => assert.fail(target.fail));
const T0 = 1_780_000_000_000;
const STORE = 'kiosk';

for (const kind of [embeddedMemoryKind(), postgresKind(target)])
  describe(`gate standing from the database: ${kind.name}`, { skip: kind.skip || kind.fail || false }, () => {
    let db: Database | undefined;
    const open = async () => (db ??= await openDatabase(await kind.config('standing')));
    after(async () => {
      await db?.close();
      await kind.cleanup();
    });

    test('blocked, then unpaid, then settled: refused twice without spending the code, then admitted once', async () => {
      const database = await open();
      const clock = new ManualClock(T0);
      const keys = createKeyRing(parseEntryKeys({ keys: [generateEntryKey('k1')] }));
      const issuer = createEntryIssuer({ keys, clock });
      const verifier = createEntryVerifier({ keys, storeId: STORE, nonces: new SqlNonceStore(database), accounts: new SqlAccountStatus(database), clock });
      const accounts = new SqlAccountStatus(database);
      assert.deepEqual(await accounts.standing('acct-new'), { blocked: false }, 'an account never seen is in good standing');

      const { code } = issuer.issue({ accountId: 'acct-1', storeId: STORE });
      await blockAccount(database, 'acct-1', 'card reported stolen', T0);
      const blocked = await verifier.admit(code, { claimant: 'read-1' });
      assert.deepEqual(!blocked.admitted && [blocked.reason, blocked.detail], ['account-blocked', 'account acct-1 is blocked']);

      await unblockAccount(database, 'acct-1');
      await database.query(
        "INSERT INTO visits (visit_id, store_id, account_id, kind, status, currency, updated_ms) VALUES ('v-owed', $1, 'acct-1', 'shopper', 'payment-failed', 'EUR', $2)",
        [STORE, T0],
      );
      const unpaid = await verifier.admit(code, { claimant: 'read-2' });
      assert.deepEqual(!unpaid.admitted && [unpaid.reason, unpaid.detail], ['unpaid-visit', 'account acct-1 has visit v-owed to settle first']);
      assert.equal((await database.query('SELECT 1 FROM used_entry_nonces')).rowCount, 0, 'nothing spent');

      await database.query("UPDATE visits SET status = 'charged' WHERE visit_id = 'v-owed'");
      assert.equal((await verifier.admit(code, { claimant: 'read-3' })).admitted, true);
      const again = await verifier.admit(code, { claimant: 'read-4' });
      assert.equal(!again.admitted && again.reason, 'used');
    });
  });
