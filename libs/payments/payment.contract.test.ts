import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { WalkoutError, type ErrorCode } from '../contracts/errors.ts';
import { ManualClock } from '../clock/clock.ts';
import { openDatabase } from '../db/db.factory.ts';
import { embeddedMemoryKind, postgresKind, postgresTarget } from '../db/db.harness.ts';
import type { Database } from '../db/db.types.ts';
import { createLocalProvider, readLedger, type PaymentFaults } from './local.provider.ts';
import { HOLD_EXPIRY_MS, IDEMPOTENCY_RETENTION_MS, type PaymentProvider } from './payment.types.ts';

/**
 * The contract of a payment provider (payment.types.ts), run against the local provider on both
 * databases: holds, captures up to the hold, voids, partial refunds, idempotency keys, and what a
 * caller that retries with the same key gets from a processor that times out and fails.
 */

const target = await postgresTarget();
if ('fail' in target) test('a PostgreSQL server answers for the payment contract', () => assert.fail(target.fail));
const kinds = [embeddedMemoryKind(), postgresKind(target)];
const TEST_TIMEOUT_MS = 120_000;

const fails = (code: ErrorCode) => (error: unknown) => error instanceof WalkoutError && error.code === code;

/** Calls `request` until it answers, as a caller must: again with the same key on a timeout or a transient failure. */
async function untilAnswered<T>(request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof WalkoutError && error.retriable) || attempt > 200) throw error;
    }
  }
}

for (const kind of kinds) {
  describe(`payment provider contract: local on ${kind.name}`, { skip: kind.skip || kind.fail || false }, () => {
    let db: Promise<Database> | undefined;
    const clock = new ManualClock(1_767_225_600_000);
    after(async () => {
      if (db) await (await db).close();
      await kind.cleanup();
    });
    // One database per kind (PGlite takes seconds to open); each test names its own keys.
    const provider = async (faults?: PaymentFaults, holdExpiryMs?: number): Promise<{ provider: PaymentProvider; db: Database }> => {
      const opened = await (db ??= kind.config('payments').then(openDatabase));
      return { provider: createLocalProvider({ db: opened, clock, faults, holdExpiryMs }), db: opened };
    };
    const hold = (provider: PaymentProvider, visit: string, amountCents = 5_000) =>
      provider.authorise({ idempotencyKey: `hold/${visit}`, accountId: 'acct-1', amountCents, currency: 'EUR', reference: visit });
    const authorised = async (provider: PaymentProvider, visit: string, amountCents = 5_000) => {
      const answer = await hold(provider, visit, amountCents);
      assert.equal(answer.outcome, 'authorised');
      return answer.outcome === 'authorised' ? answer.authorisationId : '';
    };

    test('a hold is captured once, up to what it holds; above it the processor refuses', { timeout: TEST_TIMEOUT_MS }, async () => {
      const { provider, db } = await provider_();
      const auth = await authorised(provider, 'v-cap');
      await assert.rejects(provider.capture({ idempotencyKey: 'v-cap-over', authorisationId: auth, amountCents: 5_001, reference: 'v-cap' }), fails('PAYMENT_REFUSED'));
      const first = await provider.capture({ idempotencyKey: 'v-cap', authorisationId: auth, amountCents: 1_234, reference: 'v-cap' });
      assert.deepEqual({ ...first, captureId: undefined }, { outcome: 'captured', captureId: undefined, authorisationId: auth, amountCents: 1_234 });
      // The same key and request: the first answer, and no second movement.
      assert.deepEqual(await provider.capture({ idempotencyKey: 'v-cap', authorisationId: auth, amountCents: 1_234, reference: 'v-cap' }), first);
      // Another key on the same hold: a hold is captured once.
      await assert.rejects(provider.capture({ idempotencyKey: 'v-cap-again', authorisationId: auth, amountCents: 10, reference: 'v-cap' }), fails('PAYMENT_REFUSED'));
      const moves = (await readLedger(db)).filter((entry) => entry.reference === 'v-cap').map((entry) => [entry.operation, entry.amountCents]);
      assert.deepEqual(moves, [['authorise', 5_000], ['capture', 1_234]]);
    });

    test('the same key with a different request is IDEMPOTENCY_CONFLICT, and changes nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
      const { provider } = await provider_();
      const auth = await authorised(provider, 'v-conflict');
      await provider.capture({ idempotencyKey: 'v-conflict', authorisationId: auth, amountCents: 700, reference: 'v-conflict' });
      await assert.rejects(provider.capture({ idempotencyKey: 'v-conflict', authorisationId: auth, amountCents: 800, reference: 'v-conflict' }), fails('IDEMPOTENCY_CONFLICT'));
      await assert.rejects(provider.void({ idempotencyKey: 'v-conflict', authorisationId: auth, reference: 'v-conflict' }), fails('IDEMPOTENCY_CONFLICT'));
      await assert.rejects(hold(provider, 'v-conflict', 6_000), fails('IDEMPOTENCY_CONFLICT'));
    });

    test('a void releases a hold nothing was taken from; nothing is captured after it', { timeout: TEST_TIMEOUT_MS }, async () => {
      const { provider } = await provider_();
      const auth = await authorised(provider, 'v-void');
      assert.deepEqual(await provider.void({ idempotencyKey: 'void/v-void', authorisationId: auth, reference: 'v-void' }), { outcome: 'voided', authorisationId: auth, releasedCents: 5_000 });
      assert.deepEqual(await provider.void({ idempotencyKey: 'void/v-void', authorisationId: auth, reference: 'v-void' }), { outcome: 'voided', authorisationId: auth, releasedCents: 5_000 });
      await assert.rejects(provider.capture({ idempotencyKey: 'v-void', authorisationId: auth, amountCents: 100, reference: 'v-void' }), fails('PAYMENT_REFUSED'));
      await assert.rejects(provider.capture({ idempotencyKey: 'v-nope', authorisationId: 'auth_unknown', amountCents: 100, reference: 'v-nope' }), fails('PAYMENT_REFUSED'));
    });

    test('refunds are partial, line by line, each once, never more than was captured', { timeout: TEST_TIMEOUT_MS }, async () => {
      const { provider, db } = await provider_();
      const auth = await authorised(provider, 'v-refund');
      await provider.capture({ idempotencyKey: 'v-refund', authorisationId: auth, amountCents: 900, reference: 'v-refund' });
      const line1 = { idempotencyKey: 'refund/v-refund/1', authorisationId: auth, amountCents: 300, reference: 'v-refund' };
      const first = await provider.refund(line1);
      assert.deepEqual(await provider.refund(line1), first);
      await provider.refund({ ...line1, idempotencyKey: 'refund/v-refund/2', amountCents: 500 });
      await assert.rejects(provider.refund({ ...line1, idempotencyKey: 'refund/v-refund/3', amountCents: 101 }), fails('PAYMENT_REFUSED'));
      const refunds = (await readLedger(db)).filter((entry) => entry.reference === 'v-refund' && entry.operation === 'refund');
      assert.deepEqual(refunds.map((entry) => [entry.idempotencyKey, entry.amountCents]), [['refund/v-refund/1', 300], ['refund/v-refund/2', 500]]);
      const uncaptured = await authorised(provider, 'v-refund-nothing');
      await assert.rejects(provider.refund({ ...line1, idempotencyKey: 'refund/v-refund-nothing/1', authorisationId: uncaptured }), fails('PAYMENT_REFUSED'));
    });

    test('a key is kept at least 24 hours of store time; purged after, it is a new request', { timeout: TEST_TIMEOUT_MS }, async () => {
      const { provider } = await provider_();
      const auth = await authorised(provider, 'v-aged');
      await clock.advance(IDEMPOTENCY_RETENTION_MS - 1);
      assert.equal(await provider.purgeExpiredKeys(), 0, 'nothing is younger than a day yet');
      assert.deepEqual(await hold(provider, 'v-aged'), { outcome: 'authorised', authorisationId: auth, amountCents: 5_000 });
      await clock.advance(2);
      assert.ok((await provider.purgeExpiredKeys()) >= 1);
      // The key is forgotten: the same request again is a new authorisation.
      const again = await hold(provider, 'v-aged');
      assert.ok(again.outcome === 'authorised' && again.authorisationId !== auth, JSON.stringify(again));
    });

    test('a hold lasts HOLD_EXPIRY_MS (or what it is set to): captured later it is AUTHORISATION_EXPIRED, again and again, and nothing is taken', { timeout: TEST_TIMEOUT_MS }, async () => {
      assert.equal(HOLD_EXPIRY_MS, 7 * 24 * 3_600_000);
      const { provider, db } = await provider_(undefined, 60_000);
      const fresh = await authorised(provider, 'v-fresh');
      await clock.advance(59_999);
      await provider.capture({ idempotencyKey: 'v-fresh', authorisationId: fresh, amountCents: 100, reference: 'v-fresh' });
      const stale = await authorised(provider, 'v-stale');
      await clock.advance(60_000);
      for (let i = 0; i < 2; i++)
        await assert.rejects(provider.capture({ idempotencyKey: 'v-stale', authorisationId: stale, amountCents: 100, reference: 'v-stale' }), fails('AUTHORISATION_EXPIRED'));
      // Nothing was captured under the key: a new authorisation is captured under it.
      const renewed = await provider.authorise({ idempotencyKey: 'v-stale/auth-1', accountId: 'acct-1', amountCents: 100, currency: 'EUR', reference: 'v-stale' });
      assert.equal(renewed.outcome, 'authorised');
      await provider.capture({ idempotencyKey: 'v-stale', authorisationId: renewed.outcome === 'authorised' ? renewed.authorisationId : '', amountCents: 100, reference: 'v-stale' });
      assert.deepEqual((await readLedger(db)).filter((entry) => entry.reference === 'v-stale').map((entry) => entry.operation), ['authorise', 'authorise', 'capture']);
      const expired = await authorised(provider, 'v-lapsed');
      await clock.advance(60_000);
      assert.deepEqual(await provider.void({ idempotencyKey: 'void/v-lapsed', authorisationId: expired, reference: 'v-lapsed' }), { outcome: 'voided', authorisationId: expired, releasedCents: 0 });
    });

    test('a declined capture ends its authorisation and takes nothing; asked again it is declined again', { timeout: TEST_TIMEOUT_MS }, async () => {
      const { provider, db } = await provider_({ captureDeclineRate: 1 });
      const auth = await authorised(provider, 'v-capture-declined');
      const capture = { idempotencyKey: 'v-capture-declined', authorisationId: auth, amountCents: 300, reference: 'v-capture-declined' };
      await assert.rejects(provider.capture(capture), fails('PAYMENT_DECLINED'));
      await assert.rejects((await provider_()).provider.capture(capture), fails('PAYMENT_DECLINED'), 'the authorisation is over, whatever the faults');
      assert.deepEqual((await readLedger(db)).filter((entry) => entry.reference === 'v-capture-declined').map((entry) => [entry.operation, entry.amountCents]), [['authorise', 5_000], ['decline', 300]]);
    });

    test('ten requests with one key at once move money once and all get the same answer', { timeout: TEST_TIMEOUT_MS }, async () => {
      const { provider, db } = await provider_();
      const auth = await authorised(provider, 'v-race');
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => provider.capture({ idempotencyKey: 'v-race', authorisationId: auth, amountCents: 4_321, reference: 'v-race' })),
      );
      for (const answer of answers) assert.deepEqual(answer, answers[0]);
      assert.equal((await readLedger(db)).filter((entry) => entry.reference === 'v-race' && entry.operation === 'capture').length, 1);
    });

    test('through declines, timeouts and transient failures, a caller that retries with the same key captures each visit once', { timeout: TEST_TIMEOUT_MS }, async () => {
      const { provider, db } = await provider_({ declineRate: 0.3, timeoutRate: 0.3, transientRate: 0.2, seed: 7 });
      let declined = 0;
      let timeouts = 0;
      const counting = <T>(request: () => Promise<T>) => () =>
        request().catch((error) => {
          if (error instanceof WalkoutError && error.code === 'PAYMENT_TIMEOUT') timeouts++;
          throw error;
        });
      const visits = Array.from({ length: 40 }, (_, i) => `v-fault-${i}`);
      for (const visit of visits) {
        // A decline is definitive: the caller asks again under a new key (here: the attempt number).
        for (let attempt = 1; ; attempt++) {
          const answer = await untilAnswered(counting(() => provider.authorise({ idempotencyKey: `${visit}/auth-${attempt}`, accountId: 'acct-1', amountCents: 2_000, currency: 'EUR', reference: visit })));
          if (answer.outcome === 'declined') {
            declined++;
            continue;
          }
          await untilAnswered(counting(() => provider.capture({ idempotencyKey: visit, authorisationId: answer.authorisationId, amountCents: 1_500, reference: visit })));
          break;
        }
      }
      const captures = (await readLedger(db)).filter((entry) => entry.operation === 'capture' && entry.reference.startsWith('v-fault-'));
      assert.deepEqual(captures.map((entry) => entry.reference).sort(), [...visits].sort(), 'each visit captured exactly once');
      assert.ok(declined > 0 && timeouts > 0, `the faults happened: ${declined} declines, ${timeouts} timeouts`);
    });

    async function provider_(faults?: PaymentFaults, holdExpiryMs?: number) {
      return provider(faults, holdExpiryMs);
    }
  });
}
