import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import { SCHEMA_VERSION } from '../contracts/common.schema.ts';
import { WalkoutError } from '../contracts/errors.ts';
import type { ReceiptFinalised, ReviewItemOpened, VisitStarted } from '../contracts/visits.schema.ts';
import { ManualClock } from '../clock/clock.ts';
import { openDatabase } from '../db/db.factory.ts';
import { embeddedMemoryKind, postgresKind, postgresTarget } from '../db/db.harness.ts';
import type { Database } from '../db/db.types.ts';
import { createLocalProvider, readLedger, type PaymentFaults } from '../payments/local.provider.ts';
import { HOLD_EXPIRY_MS } from '../payments/payment.types.ts';
import { parseCheckoutConfig } from './checkout.config.ts';
import { createCheckout, type Checkout, type CheckoutDependencies } from './checkout.engine.ts';
import { exitToCharge, leaseDue, loadReceipt, openContest } from './checkout.repository.ts';
import type { PaymentProvider } from '../payments/payment.types.ts';

/**
 * Checkout against the real local provider and a real database (embedded, and the server when it
 * answers), driven by hand on a ManualClock: each visit charged once, holds voided, declines kept
 * and retried by policy, refunds once, review decisions charged once, work left by a dead
 * dispatcher taken over when its lease runs out.
 */

const target = await postgresTarget();
if ('fail' in target) test('a PostgreSQL server answers for the checkout tests', () => assert.fail(target.fail));
const kinds = [embeddedMemoryKind(), postgresKind(target)];
const T0 = 1_767_225_600_000;
const HOLD = 5_000;
const config = parseCheckoutConfig({ holdCents: HOLD, declineRetryMs: [60_000, 600_000], retry: { initialMs: 100, maxMs: 2_000 }, leaseMs: 5_000 });
const PRICES: Record<string, number> = { 'p-cola': 250, 'p-crisps': 180, 'p-wine': 7_900 };

function started(visitId: string, accountId = 'acct-1'): VisitStarted {
  return { schemaVersion: SCHEMA_VERSION, eventId: `visit-started/${visitId}`, storeId: 'kiosk', ts: T0, visitId, kind: 'shopper', accountId, partySize: 1 };
}

function receipt(visitId: string, lines: Array<[string, number]>, pending: ReceiptFinalised['pending'] = [], accountId = 'acct-1'): ReceiptFinalised {
  const priced = lines.map(([productId, quantity]) => ({ productId, quantity, unitPriceCents: PRICES[productId], totalCents: PRICES[productId] * quantity }));
  return {
    schemaVersion: SCHEMA_VERSION,
    eventId: `receipt/${visitId}`,
    storeId: 'kiosk',
    ts: T0 + 60_000,
    visitId,
    receiptId: `receipt-${visitId}`,
    accountId,
    exitMs: T0 + 60_000,
    lines: priced,
    pending,
    totalCents: priced.reduce((sum, line) => sum + line.totalCents, 0),
  };
}

for (const kind of kinds) {
  describe(`checkout on ${kind.name}`, { skip: kind.skip || kind.fail || false }, () => {
    let db: Database | undefined;
    let clock: ManualClock;
    let published: Array<{ topic: string; message: { eventId: string } & Record<string, unknown> }>;
    const open = async () => (db ??= await openDatabase(await kind.config('checkout')));
    after(async () => {
      await db?.close();
      await kind.cleanup();
    });
    beforeEach(async () => {
      const opened = await open();
      // One database for the file (PGlite takes seconds to open); every test starts from empty tables.
      const tables = ['provider_ledger', 'provider_authorisations', 'provider_idempotency', 'refunds', 'outbox', 'charges', 'review_items', 'receipt_lines', 'receipts', 'cart_events', 'visits', 'accounts', 'used_entry_nonces', 'review_decisions'];
      await opened.query(`TRUNCATE ${tables.join(', ')}`);
      clock = new ManualClock(T0);
      published = [];
    });

    const checkout = async (faults?: PaymentFaults, holdExpiryMs?: number, more: Partial<CheckoutDependencies> = {}): Promise<Checkout> =>
      createCheckout({
        db: await open(),
        provider: createLocalProvider({ db: await open(), clock, faults, holdExpiryMs }),
        clock,
        config,
        publish: async (topic, message) => void published.push({ topic, message: message as never }),
        priceOf: (productId) => PRICES[productId],
        currency: 'EUR',
        random: () => 0.5,
        ...more,
      });

    /** Delivers everything, moving the clock to each next due row, until nothing waits (or `untilMs`). */
    const settle = async (engine: Checkout, untilMs = Infinity) => {
      for (let rounds = 0; rounds < 1_000; rounds++) {
        await engine.drain();
        const due = await engine.nextDueMs();
        if (due === null || due > untilMs) return;
        if (due > clock.now()) await clock.advance(due - clock.now());
      }
      assert.fail('the outbox did not empty in 1000 rounds');
    };
    const ledger = async (reference?: string) => (await readLedger(await open())).filter((entry) => reference === undefined || entry.reference === reference);
    const moves = async (reference: string) => (await ledger(reference)).map((entry) => [entry.operation, entry.amountCents, entry.idempotencyKey]);
    const topics = () => published.map((entry) => `${entry.topic} ${entry.message.eventId}`);

    const resolution = (reviewId: string, decision: Parameters<Checkout['onReviewResolved']>[0]['decision']) => ({
      schemaVersion: SCHEMA_VERSION,
      eventId: `resolved/${reviewId}`,
      storeId: 'kiosk',
      ts: clock.now(),
      reviewId,
      decision,
      reviewer: 'op-1',
    });

    test('a visit within its hold: the hold is captured once, for the receipt total, however often the messages come', async () => {
      const engine = await checkout();
      await engine.onVisitStarted(started('v-1'));
      await engine.onVisitStarted(started('v-1'));
      await settle(engine);
      await clock.advance(1_500);
      await engine.onReceiptFinalised(receipt('v-1', [['p-cola', 2], ['p-crisps', 1]]));
      await engine.onReceiptFinalised(receipt('v-1', [['p-cola', 2], ['p-crisps', 1]]));
      await settle(engine);
      assert.deepEqual(await moves('v-1'), [['authorise', HOLD, 'hold/v-1'], ['capture', 680, 'v-1']]);
      assert.deepEqual(topics(), ['checkout.charged charged/v-1']);
      assert.equal(published[0].message.amountCents, 680);
      assert.deepEqual((await exitToCharge(await open())).map((entry) => entry.latencyMs), [clock.now() - (T0 + 60_000)]);
      const view = await loadReceipt(await open(), 'receipt-v-1');
      assert.deepEqual(view?.charges, [{ chargeId: 'v-1', amountCents: 680, status: 'captured', declines: 0 }]);
      assert.equal(await engine.hasUnpaidVisit('acct-1'), false);
    });

    test('an empty receipt voids its hold and takes nothing', async () => {
      const engine = await checkout();
      await engine.onVisitStarted(started('v-empty'));
      await engine.onReceiptFinalised(receipt('v-empty', []));
      await settle(engine);
      assert.deepEqual(await moves('v-empty'), [['authorise', HOLD, 'hold/v-empty'], ['void', HOLD, 'void/v-empty']]);
      assert.deepEqual(topics(), []);
    });

    test('above the hold: the full amount is authorised anew and captured, and the hold voided', async () => {
      const engine = await checkout();
      await engine.onVisitStarted(started('v-big'));
      await engine.onReceiptFinalised(receipt('v-big', [['p-wine', 1]]));
      await settle(engine);
      assert.deepEqual(await moves('v-big'), [
        ['authorise', HOLD, 'hold/v-big'],
        ['authorise', 7_900, 'v-big/auth-1'],
        ['capture', 7_900, 'v-big'],
        ['void', HOLD, 'void/v-big'],
      ]);
    });

    test('a decline: the visit is payment failed, the account owes it, and the policy tries again until it is paid', async () => {
      const failing = await checkout({ declineRate: 1 });
      await failing.onReceiptFinalised(receipt('v-declined', [['p-cola', 1]]));
      await settle(failing, clock.now());
      assert.equal(await failing.hasUnpaidVisit('acct-1'), true);
      assert.deepEqual(topics(), ['checkout.payment-failed payment-failed/v-declined/1']);
      assert.equal(await failing.nextDueMs(), clock.now() + 60_000, 'tried again after the first wait of the policy');
      await settle(failing, clock.now() + 60_000);
      assert.equal((await ledger('v-declined')).filter((entry) => entry.operation === 'decline').length, 2, 'declined again at the next try');
      // The card works again: the next try of the policy (600 s later) takes the money, once.
      const working = await checkout();
      await settle(working);
      assert.deepEqual(
        (await moves('v-declined')).filter(([operation]) => operation !== 'decline'),
        [['authorise', 250, 'v-declined/auth-3'], ['capture', 250, 'v-declined']],
      );
      assert.equal(await working.hasUnpaidVisit('acct-1'), false);
      assert.deepEqual(topics().at(-1), 'checkout.charged charged/v-declined');
    });

    test('a hold that expired before the exit is not captured: a new authorisation is, once, and nothing stays held', async () => {
      const engine = await checkout(undefined, HOLD_EXPIRY_MS);
      await engine.onVisitStarted(started('v-long'));
      await settle(engine);
      await clock.advance(HOLD_EXPIRY_MS);
      await engine.onReceiptFinalised(receipt('v-long', [['p-cola', 2]]));
      await engine.onReceiptFinalised(receipt('v-long', [['p-cola', 2]]));
      await settle(engine);
      assert.deepEqual(await moves('v-long'), [['authorise', HOLD, 'hold/v-long'], ['authorise', 500, 'v-long/auth-1'], ['capture', 500, 'v-long']]);
      assert.deepEqual(topics(), ['checkout.charged charged/v-long']);
      assert.equal(engine.stats().renewals, 1);
      const db = await open();
      const states = await db.query<{ status: string }>("SELECT status FROM provider_authorisations WHERE reference = 'v-long' ORDER BY created_ms");
      assert.deepEqual(states.rows.map((row) => row.status), ['expired', 'captured']);
      const visit = await db.query<{ status: string; hold_status: string }>("SELECT status, hold_status FROM visits WHERE visit_id = 'v-long'");
      assert.deepEqual(visit.rows[0], { status: 'charged', hold_status: 'expired' });
    });

    test('a new authorisation of its own that expires too is made anew under the next key', async () => {
      const engine = await checkout(undefined, 60_000);
      await engine.onVisitStarted(started('v-wine'));
      await settle(engine);
      await engine.onReceiptFinalised(receipt('v-wine', [['p-wine', 1]]));
      // The charge's own authorisation is made, then the capture times out for longer than a hold lasts.
      const db = await open();
      const provider = createLocalProvider({ db, clock, holdExpiryMs: 60_000 });
      const own = await provider.authorise({ idempotencyKey: 'v-wine/auth-1', accountId: 'acct-1', amountCents: 7_900, currency: 'EUR', reference: 'v-wine' });
      assert.equal(own.outcome, 'authorised');
      await db.query("UPDATE charges SET authorisation_id = $1 WHERE charge_id = 'v-wine'", [own.outcome === 'authorised' ? own.authorisationId : '']);
      await clock.advance(60_000);
      await settle(engine);
      assert.deepEqual(
        (await moves('v-wine')).filter(([operation]) => operation !== 'void'),
        [['authorise', HOLD, 'hold/v-wine'], ['authorise', 7_900, 'v-wine/auth-1'], ['authorise', 7_900, 'v-wine/auth-2'], ['capture', 7_900, 'v-wine']],
      );
      assert.equal(engine.stats().renewals, 1);
      const states = await db.query<{ status: string }>("SELECT status FROM provider_authorisations WHERE reference = 'v-wine' ORDER BY created_ms, authorisation_id");
      assert.deepEqual(states.rows.map((row) => row.status).sort(), ['captured', 'expired', 'expired'], 'the hold ran out too; nothing is left held');
    });

    test('a capture the bank declines: payment failed, nothing taken, then a new authorisation is captured once', async () => {
      const failing = await checkout({ captureDeclineRate: 1 });
      await failing.onVisitStarted(started('v-capdecl'));
      await settle(failing);
      await failing.onReceiptFinalised(receipt('v-capdecl', [['p-crisps', 2]]));
      await settle(failing, clock.now());
      assert.deepEqual(await moves('v-capdecl'), [['authorise', HOLD, 'hold/v-capdecl'], ['decline', 360, 'v-capdecl']]);
      assert.equal(await failing.hasUnpaidVisit('acct-1'), true);
      assert.deepEqual(topics(), ['checkout.payment-failed payment-failed/v-capdecl/1']);
      const working = await checkout();
      await settle(working);
      assert.deepEqual((await moves('v-capdecl')).slice(2), [['authorise', 360, 'v-capdecl/auth-2'], ['capture', 360, 'v-capdecl']]);
      assert.equal(await working.hasUnpaidVisit('acct-1'), false);
      const states = await (await open()).query<{ status: string }>("SELECT status FROM provider_authorisations WHERE reference = 'v-capdecl' ORDER BY created_ms");
      assert.deepEqual(states.rows.map((row) => row.status), ['declined', 'captured'], 'no hold is left open');
    });

    test('through timeouts and transient failures, twenty visits are each charged once', async () => {
      const engine = await checkout({ timeoutRate: 0.35, transientRate: 0.25, seed: 11 });
      const visits = Array.from({ length: 20 }, (_, i) => `v-f${i}`);
      for (const [i, visit] of visits.entries()) {
        await engine.onVisitStarted(started(visit));
        await engine.onReceiptFinalised(receipt(visit, i % 5 === 0 ? [] : [['p-cola', i % 3 + 1]]));
      }
      await settle(engine);
      const captures = (await ledger()).filter((entry) => entry.operation === 'capture');
      assert.deepEqual(captures.map((entry) => entry.reference).sort(), visits.filter((_, i) => i % 5 !== 0).sort());
      const voids = (await ledger()).filter((entry) => entry.operation === 'void');
      assert.deepEqual(voids.map((entry) => entry.reference).sort(), visits.filter((_, i) => i % 5 === 0).sort());
      assert.ok(engine.stats().retries > 0, 'the faults happened');
      assert.equal(new Set(topics()).size, 16, 'one charged message per charged visit (after dedupe by id)');
    });

    test('a line is refunded once, however often it is asked, before or after the charge', async () => {
      const engine = await checkout();
      await engine.onVisitStarted(started('v-r'));
      await engine.onReceiptFinalised(receipt('v-r', [['p-cola', 2], ['p-crisps', 1]]));
      const early = await engine.refundLine('receipt-v-r', 2);
      assert.deepEqual(early, { refundId: 'refund/receipt-v-r/2', amountCents: 180, status: 'pending' });
      await settle(engine);
      assert.deepEqual(await engine.refundLine('receipt-v-r', 2), { ...early, status: 'refunded' });
      await settle(engine);
      const again = await checkout();
      await again.refundLine('receipt-v-r', 2);
      await settle(again);
      assert.deepEqual((await moves('v-r')).filter(([operation]) => operation === 'refund'), [['refund', 180, 'refund/receipt-v-r/2']]);
      await assert.rejects(engine.refundLine('receipt-v-r', 9), (error: WalkoutError) => error.code === 'RECEIPT_NOT_FOUND');
      const view = await loadReceipt(await open(), 'receipt-v-r');
      assert.deepEqual(view?.lines.map((line) => line.refund), [null, { status: 'refunded', amountCents: 180 }]);
    });

    test('a line pending review: the sure lines at exit, the decided item once later, a dismissal nothing, a withdrawal nothing and closed as withdrawn', async () => {
      const engine = await checkout();
      await engine.onVisitStarted(started('v-p'));
      const pending = [
        { reviewId: 'rev-1', shelfEventId: 'se-1', candidates: [{ productId: 'p-crisps', quantity: 1 }] },
        { reviewId: 'rev-2', shelfEventId: 'se-2', candidates: [{ productId: 'p-cola', quantity: 1 }] },
        { reviewId: 'rev-3', shelfEventId: 'se-3', candidates: [{ productId: 'p-cola', quantity: 1 }] },
      ];
      await engine.onReceiptFinalised(receipt('v-p', [['p-cola', 1]], pending));
      await settle(engine);
      const taken = resolution('rev-1', { outcome: 'attributed', visitId: 'v-p', lines: [{ productId: 'p-crisps', quantity: 1 }], kind: 'pick' });
      await engine.onReviewResolved(taken);
      await engine.onReviewResolved(taken);
      await engine.onReviewResolved(resolution('rev-2', { outcome: 'dismissed', note: 'a shadow' }));
      await engine.onReviewResolved(resolution('rev-3', { outcome: 'withdrawn', note: 'a trade settled it', settledBy: 'rev-9' }));
      await settle(engine);
      const captures = (await moves('v-p')).filter(([operation]) => operation === 'capture');
      assert.deepEqual(captures, [['capture', 250, 'v-p'], ['capture', 180, 'v-p/review/rev-1']]);
      const closed = await (await open()).query<{ review_id: string; status: string }>("SELECT review_id, status FROM review_items WHERE visit_id = 'v-p' ORDER BY review_id");
      assert.deepEqual(
        closed.rows.map((row) => [row.review_id, row.status]),
        [
          ['rev-1', 'attributed'],
          ['rev-2', 'dismissed'],
          ['rev-3', 'withdrawn'],
        ],
      );
      const view = await loadReceipt(await open(), 'receipt-v-p');
      assert.equal(view?.totalCents, 430);
      assert.deepEqual(view?.lines.map((line) => [line.lineNo, line.productId, line.source]), [[1, 'p-cola', 'exit'], [2, 'p-crisps', 'review']]);
    });

    /** Each visit started and its receipt of that many colas finalised, waiting for one review item; settled. */
    const receiptsWaitingFor = async (engine: Checkout, pending: ReceiptFinalised['pending'][number], colas: Record<string, number>) => {
      for (const [visitId, quantity] of Object.entries(colas)) {
        await engine.onVisitStarted(started(visitId));
        await engine.onReceiptFinalised(receipt(visitId, [['p-cola', quantity]], [pending]));
      }
      await settle(engine);
    };

    test('a review decision shared by two shoppers at once charges each visit its own units', async () => {
      const engine = await checkout();
      await receiptsWaitingFor(engine, { reviewId: 'rev-two', shelfEventId: 'se-two', candidates: [{ productId: 'p-crisps', quantity: 2 }] }, { 'v-one': 1, 'v-two': 1 });
      await engine.onReviewResolved(
        resolution('rev-two', {
          outcome: 'attributed',
          visitId: 'v-one',
          lines: [{ productId: 'p-crisps', quantity: 1 }],
          kind: 'pick',
          sharedWith: [{ visitId: 'v-two', lines: [{ productId: 'p-crisps', quantity: 1 }] }],
        }),
      );
      await settle(engine);
      for (const visitId of ['v-one', 'v-two']) {
        const captures = (await moves(visitId)).filter(([operation]) => operation === 'capture');
        assert.deepEqual(captures, [['capture', 250, visitId], ['capture', 180, `${visitId}/review/rev-two`]], visitId);
      }
    });

    test('a put and a pick netted into one change: the decision charges the picker and refunds the putter, each by its own kind', async () => {
      const engine = await checkout();
      await receiptsWaitingFor(engine, { reviewId: 'rev-net', shelfEventId: 'se-net', candidates: [] }, { 'v-picker': 1, 'v-putter': 2 });
      await engine.onReviewResolved(
        resolution('rev-net', {
          outcome: 'attributed',
          visitId: 'v-picker',
          lines: [{ productId: 'p-crisps', quantity: 1 }],
          kind: 'pick',
          sharedWith: [{ visitId: 'v-putter', kind: 'put', lines: [{ productId: 'p-cola', quantity: 1 }] }],
        }),
      );
      await settle(engine);
      assert.deepEqual((await moves('v-picker')).filter(([operation]) => operation === 'capture'), [['capture', 250, 'v-picker'], ['capture', 180, 'v-picker/review/rev-net']]);
      assert.deepEqual((await moves('v-putter')).filter(([operation]) => operation === 'refund'), [['refund', 250, 'refund/receipt-v-putter/1/review/rev-net']]);
    });

    test('a review decision that comes before its receipt is kept, and charged once when the receipt lands', async () => {
      const engine = await checkout();
      await engine.onVisitStarted(started('v-early'));
      const taken = resolution('rev-early', { outcome: 'attributed', visitId: 'v-early', lines: [{ productId: 'p-crisps', quantity: 2 }], kind: 'pick' });
      await engine.onReviewResolved(taken);
      await settle(engine);
      const pending = [{ reviewId: 'rev-early', shelfEventId: 'se-early', candidates: [{ productId: 'p-crisps', quantity: 2 }] }];
      await engine.onReceiptFinalised(receipt('v-early', [['p-cola', 1]], pending));
      await engine.onReceiptFinalised(receipt('v-early', [['p-cola', 1]], pending));
      await settle(engine);
      const captures = (await moves('v-early')).filter(([operation]) => operation === 'capture');
      assert.deepEqual(captures, [['capture', 250, 'v-early'], ['capture', 360, 'v-early/review/rev-early']]);
      const view = await loadReceipt(await open(), 'receipt-v-early');
      assert.equal(view?.totalCents, 610);
    });

    test('a put decided for the visit refunds the units it put back, once; a contest of that line later refunds only what is left', async () => {
      const engine = await checkout();
      await engine.onVisitStarted(started('v-put'));
      const pending = [{ reviewId: 'rev-put', shelfEventId: 'se-put', candidates: [{ productId: 'p-cola', quantity: 1 }] }];
      await engine.onReceiptFinalised(receipt('v-put', [['p-cola', 3]], pending));
      await settle(engine);
      const put = resolution('rev-put', { outcome: 'attributed', visitId: 'v-put', lines: [{ productId: 'p-cola', quantity: 1 }], kind: 'put' });
      await engine.onReviewResolved(put);
      await engine.onReviewResolved(put);
      await settle(engine);
      assert.deepEqual((await moves('v-put')).filter(([operation]) => operation === 'refund'), [['refund', 250, 'refund/receipt-v-put/1/review/rev-put']]);
      assert.deepEqual(await engine.refundLine('receipt-v-put', 1), { refundId: 'refund/receipt-v-put/1', amountCents: 500, status: 'pending' });
      await settle(engine);
      assert.deepEqual(await engine.refundLine('receipt-v-put', 1), { refundId: 'refund/receipt-v-put/1', amountCents: 500, status: 'refunded' }, 'asked again: the first answer');
      const view = await loadReceipt(await open(), 'receipt-v-put');
      assert.deepEqual(view?.lines[0].refund, { status: 'refunded', amountCents: 750 });
      assert.deepEqual(view?.lines[0].refunds.map((refund) => [refund.refundId, refund.amountCents]).sort(), [
        ['refund/receipt-v-put/1', 500],
        ['refund/receipt-v-put/1/review/rev-put', 250],
      ]);
    });

    test('a contest approved twice refunds its line once; a rejected one nothing', async () => {
      const engine = await checkout();
      await engine.onVisitStarted(started('v-contest'));
      await engine.onReceiptFinalised(receipt('v-contest', [['p-cola', 2], ['p-crisps', 1]]));
      await settle(engine);
      const db = await open();
      const first = await openContest(db, { receiptId: 'receipt-v-contest', lineNo: 2, note: 'I put the crisps back', now: clock.now() });
      const second = await openContest(db, { receiptId: 'receipt-v-contest', lineNo: 2, note: 'again', now: clock.now() });
      assert.deepEqual([first?.fresh, second?.fresh, second?.reviewId], [true, false, 'contest/receipt-v-contest/2']);
      await openContest(db, { receiptId: 'receipt-v-contest', lineNo: 1, note: 'one cola only', now: clock.now() });
      await settle(engine);
      assert.deepEqual(topics(), ['checkout.charged charged/v-contest', 'review.item-opened opened/contest/receipt-v-contest/2', 'review.item-opened opened/contest/receipt-v-contest/1']);
      const opened = published[1].message as unknown as ReviewItemOpened;
      assert.deepEqual(opened.contest, { visitId: 'v-contest', receiptId: 'receipt-v-contest', lineNo: 2, accountId: 'acct-1' }, 'the reviewer sees whose line it is');
      assert.match(opened.reason, /^visit v-contest: /);
      const approved = resolution('contest/receipt-v-contest/2', { outcome: 'approved', note: 'the camera agrees' });
      await engine.onReviewResolved(approved);
      await engine.onReviewResolved({ ...approved, eventId: 'resolved-again' });
      await engine.onReviewResolved(resolution('contest/receipt-v-contest/1', { outcome: 'rejected', note: 'two colas on camera' }));
      await settle(engine);
      await engine.onReviewResolved(approved);
      await settle(engine);
      assert.deepEqual((await moves('v-contest')).filter(([operation]) => operation === 'refund'), [['refund', 180, 'refund/receipt-v-contest/2']]);
      const view = await loadReceipt(db, 'receipt-v-contest');
      assert.deepEqual(view?.lines.map((line) => [line.contest?.status, line.refund?.amountCents ?? 0]), [['rejected', 0], ['approved', 180]]);
    });

    test('a dispatcher started again under its worker id takes back the rows its dead life held at once; another waits out the lease', async () => {
      const first = await checkout(undefined, undefined, { workerId: 'till-1' });
      await first.onVisitStarted(started('v-back'));
      await first.onReceiptFinalised(receipt('v-back', [['p-cola', 1]]));
      // The first life leased every row and was killed before doing any of it.
      const leased = await (await open()).transaction((tx) => leaseDue(tx, clock.now(), config.leaseMs, 100, 'till-1'));
      assert.equal(leased.length, 2);
      const other = await checkout(undefined, undefined, { workerId: 'till-2' });
      assert.equal(await other.drain(), 0, 'another dispatcher leaves them while the lease holds');
      const again = await checkout(undefined, undefined, { workerId: 'till-1' });
      await settle(again, clock.now());
      assert.deepEqual((await moves('v-back')).map(([operation]) => operation), ['authorise', 'capture']);
      assert.equal(clock.now(), T0, 'without waiting for the lease');
    });

    test('refunds and messages of different visits are delivered side by side, not one after another', async () => {
      const base = await open().then((db) => createLocalProvider({ db, clock }));
      let inFlight = 0;
      let most = 0;
      /** Counts how many calls overlap: each yields to the event loop a few times before it goes on. */
      const overlapping = async <T>(work: () => Promise<T>): Promise<T> => {
        most = Math.max(most, ++inFlight);
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        try {
          return await work();
        } finally {
          inFlight--;
        }
      };
      const provider: PaymentProvider = { ...base, refund: (request) => overlapping(() => base.refund(request)) };
      const engine = await checkout(undefined, undefined, { provider });
      const visits = ['v-s1', 'v-s2', 'v-s3'];
      for (const visit of visits) {
        await engine.onVisitStarted(started(visit));
        await engine.onReceiptFinalised(receipt(visit, [['p-cola', 1]]));
      }
      await settle(engine);
      for (const visit of visits) await engine.refundLine(`receipt-${visit}`, 1);
      await settle(engine);
      assert.equal((await ledger()).filter((entry) => entry.operation === 'refund').length, 3);
      assert.ok(most >= 2, `refunds overlapped: at most ${most} at once`);
      most = 0;
      const publishing = await checkout(undefined, undefined, { publish: (topic, message) => overlapping(async () => void published.push({ topic, message: message as never })) });
      for (const visit of ['v-m1', 'v-m2', 'v-m3']) {
        await publishing.onVisitStarted(started(visit));
        await publishing.onReceiptFinalised(receipt(visit, [['p-crisps', 1]]));
      }
      await settle(publishing);
      assert.equal(topics().filter((entry) => entry.startsWith('checkout.charged charged/v-m')).length, 3);
      assert.ok(most >= 2, `messages overlapped: at most ${most} at once`);
    });

    test('work a dead dispatcher leased is taken over when its lease runs out, and done once', async () => {
      const engine = await checkout();
      await engine.onVisitStarted(started('v-lease'));
      await engine.onReceiptFinalised(receipt('v-lease', [['p-cola', 1]]));
      // A dispatcher that leased every row and died before doing any of it.
      await (await open()).query('UPDATE outbox SET lease_until_ms = $1, attempts = attempts + 1', [clock.now() + config.leaseMs]);
      assert.equal(await engine.drain(), 0, 'nothing is taken while the lease holds');
      await clock.advance(config.leaseMs);
      await settle(engine);
      assert.deepEqual((await moves('v-lease')).map(([operation]) => operation), ['authorise', 'capture']);
    });
  });
}
