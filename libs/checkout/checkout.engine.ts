import { randomUUID } from 'node:crypto';
import { SCHEMA_VERSION } from '../contracts/common.schema.ts';
import { WalkoutError } from '../contracts/errors.ts';
import type { CheckoutCharged, CheckoutPaymentFailed, CheckoutRefunded } from '../contracts/checkout.schema.ts';
import type { CartUpdated, ReceiptFinalised, ReviewItemResolved, VisitStarted } from '../contracts/visits.schema.ts';
import { decidedShare } from '../contracts/review.decision.ts';
import type { Clock } from '../clock/clock.ts';
import type { Database, Queryable } from '../db/db.types.ts';
import { accountStanding } from '../accounts/accounts.repository.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import type { CaptureResult, PaymentProvider } from '../payments/payment.types.ts';
import { backoffMs, declineWaitMs, type CheckoutConfig } from './checkout.config.ts';
import {
  enqueue,
  enqueuePublish,
  leaseDue,
  loadCharge,
  loadVisit,
  markDelivered,
  nextDueMs,
  releaseLeasesOf,
  recordCartUpdated,
  recordReceipt,
  recordVisitStarted,
  reschedule,
  type ChargeRow,
  type OutboxRow,
  type VisitRow,
} from './checkout.repository.ts';

/**
 * Checkout: a visit that walked out is charged once, never twice, never zero times.
 *
 * What comes in is written down first, in one transaction with the work it asks for (the outbox):
 * a visit's start with its hold to authorise, a final receipt with its charge. A dispatcher then
 * delivers each outbox row until it is acknowledged, retrying with backoff and jitter; a crash at any
 * point leaves the row undelivered and its lease runs out, so another try (this process restarted,
 * or another) picks it up. Every call to the processor carries an idempotency key that names what it
 * is, never the attempt: a retry after a timeout can only get the first answer.
 *
 * How a visit is charged (chargeVisit):
 * - nothing taken: the hold is voided;
 * - up to the hold: the hold is captured (key: the visit id);
 * - above the hold, or no hold (declined at entry): the full amount is authorised anew (key:
 *   <charge>/auth-<n>), captured (key: the visit id) and the old hold voided. Processors will not
 *   capture above an authorisation, so this is what "capture more than the hold" comes to.
 * A decline is definitive and moves no money: the charge is "declined", the visit "payment failed",
 * checkout.payment-failed goes out, and the charge is tried again by policy (declineRetryMs) under
 * the next authorisation key. Captures are never retried under a new key, so nothing is taken twice.
 * A capture that finds its authorisation over (expired, or declined by the bank at capture) took
 * nothing: the authorisation is forgotten and a new one is made and captured under the same key.
 *
 * Lines pending review at exit: the sure lines are charged at exit; a later decision that the visit
 * took an item adds its lines to the receipt and charges them once (key visit/review/<review id>);
 * a decision that the visit put units back refunds them from its lines of that product (key
 * refund/<receipt>/<line>/review/<review id>); a dismissal or an item given to another visit moves
 * nothing. A decision is kept when it comes, so one that comes before its receipt is applied when
 * the receipt lands. A contest approved refunds what is left of its line, once (key
 * refund/<receipt>/<line>), from the charge that took that line.
 */

type Publish = (topic: string, message: { eventId: string }) => Promise<void>;

type Decision = ReviewItemResolved['decision'];
/** A review item still waiting for its decision, on a recorded receipt. */
interface OpenItem {
  review_id: string;
  visit_id: string;
  receipt_id: string;
  kind: 'pending-line' | 'contest';
  line_no: number | null;
}

export interface CheckoutDependencies {
  db: Database;
  provider: PaymentProvider;
  clock: Clock;
  config: CheckoutConfig;
  /** Publishes a checkout message (the bus's publish); called by the dispatcher, from the outbox. */
  publish: Publish;
  /** Unit price of a product in the store, for lines a review decision adds. */
  priceOf: (productId: string) => number | undefined;
  /** The store's currency. */
  currency: string;
  logger?: Logger;
  /** Jitter; Math.random unless a test or the chaos run seeds it. */
  random?: () => number;
  /**
   * Who holds the outbox rows this dispatcher leases. Given one that outlives the process (a host
   * name, a pod's name; one live process each), a restarted dispatcher takes back its dead life's
   * rows at once instead of waiting out their leases. A new random one by default.
   */
  workerId?: string;
}

export interface CheckoutStats {
  visitsStarted: number;
  receipts: number;
  duplicates: number;
  holds: number;
  holdsDeclined: number;
  captured: number;
  voided: number;
  declines: number;
  /** Authorisations that expired before their capture and were made anew. */
  renewals: number;
  refunds: number;
  published: number;
  retries: number;
}

/** Every count at zero: a new engine's, or a service's before its engine starts. */
export const emptyCheckoutStats = (): CheckoutStats => ({ visitsStarted: 0, receipts: 0, duplicates: 0, holds: 0, holdsDeclined: 0, captured: 0, voided: 0, declines: 0, renewals: 0, refunds: 0, published: 0, retries: 0 });

export interface RefundAnswer {
  readonly refundId: string;
  readonly amountCents: number;
  /** pending until the processor answered; refunded once it did. */
  readonly status: 'pending' | 'refunded';
}

export interface Checkout {
  onVisitStarted(message: VisitStarted): Promise<void>;
  onReceiptFinalised(message: ReceiptFinalised): Promise<void>;
  onCartUpdated(message: CartUpdated): Promise<void>;
  onReviewResolved(message: ReviewItemResolved): Promise<void>;
  /** Refunds one receipt line once, whoever asks and however often. */
  refundLine(receiptId: string, lineNo: number, reason?: string): Promise<RefundAnswer>;
  /** Tries a declined visit's charge now (the shopper changed the card). */
  retryPaymentNow(visitId: string): Promise<boolean>;
  hasUnpaidVisit(accountId: string): Promise<boolean>;
  /** Starts the dispatcher: it looks for due rows every pollMs and whenever a row is written. */
  start(): void;
  /** Stops the dispatcher after the rows it works on; their leases run out if it is killed instead. */
  stop(): Promise<void>;
  /** Delivers every row due now, and again until none is due (for tests and the end of a replay). */
  drain(): Promise<number>;
  /** The earliest time something waits to be delivered, or null. */
  nextDueMs(): Promise<number | null>;
  stats(): CheckoutStats;
}

/**
 * Rows with the same key are delivered in order, others side by side: a visit's hold before its
 * charges (a charge id is the visit id, or <visit>/review/<review>), a visit's messages in the order
 * they were written; each refund on its own (it waits for its charge by itself).
 */
function orderKey(row: OutboxRow): string {
  const payload = row.payload as { visitId?: string; chargeId?: string; message?: { visitId?: string } };
  if (row.kind === 'authorise' && payload.visitId) return `visit:${payload.visitId}`;
  if (row.kind === 'charge' && payload.chargeId) return `visit:${payload.chargeId.split('/')[0]}`;
  if (row.kind === 'publish' && payload.message?.visitId) return `message:${payload.message.visitId}`;
  return `row:${row.outboxId}`;
}

/** What a dispatched row came to. */
type Outcome = { kind: 'handled' } | { kind: 'later'; dueMs: number; error: string | null; countAttempt: boolean };
/** Delivered, or rescheduled by the handler itself in the transaction that recorded why (a decline). */
const handled: Outcome = { kind: 'handled' };

export function createCheckout(deps: CheckoutDependencies): Checkout {
  const { db, provider, clock, config } = deps;
  const logger = deps.logger ?? silentLogger;
  const random = deps.random ?? Math.random;
  const workerId = deps.workerId ?? `checkout-${randomUUID()}`;
  let leasesReleased = false;
  const stats = emptyCheckoutStats();
  let stopTimer: (() => void) | undefined;
  let running: Promise<number> | null = null;
  let again = false;
  let stopped = true;

  const holdFor = (storeId: string) => config.holdCentsByStore[storeId] ?? config.holdCents;
  const base = (storeId: string, eventId: string, now: number) => ({ schemaVersion: SCHEMA_VERSION, eventId, storeId, ts: now });

  /** Wakes the dispatcher after a write (not in tests that drive it by hand). */
  const wake = () => {
    if (!stopped) void dispatch().catch((error) => logger.error('checkout dispatcher failed', { error: (error as Error).message }));
  };

  // --- what comes in -------------------------------------------------------------------------

  const onVisitStarted = async (message: VisitStarted) => {
    const fresh = await db.transaction((tx) => recordVisitStarted(tx, message, { cents: holdFor(message.storeId), currency: deps.currency }, clock.now()));
    if (fresh) stats.visitsStarted++;
    else stats.duplicates++;
    if (fresh) wake();
  };

  const onReceiptFinalised = async (message: ReceiptFinalised) => {
    const fresh = await db.transaction(async (tx) => {
      if (!(await recordReceipt(tx, message, deps.currency, clock.now()))) return false;
      // Decisions that came before the receipt were kept: applied now, in the receipt's transaction.
      await applyKeptDecisions(tx, message.receiptId, clock.now());
      return true;
    });
    if (fresh) stats.receipts++;
    else stats.duplicates++;
    if (fresh) wake();
  };

  const onCartUpdated = async (message: CartUpdated) => {
    if (!(await db.transaction((tx) => recordCartUpdated(tx, message)))) stats.duplicates++;
  };

  /**
   * A review decision is kept first (the first decision of an item stands), then applied to the open
   * items it decides. An item whose receipt is not recorded yet gets it when the receipt lands.
   */
  const onReviewResolved = async (message: ReviewItemResolved) => {
    const now = clock.now();
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO review_decisions (review_id, decision, received_ms) VALUES ($1, $2, $3) ON CONFLICT (review_id) DO NOTHING', [
        message.reviewId,
        JSON.stringify(message.decision),
        now,
      ]);
      const kept = await tx.query<{ decision: Decision }>('SELECT decision FROM review_decisions WHERE review_id = $1', [message.reviewId]);
      const { rows } = await tx.query<OpenItem>(
        "SELECT review_id, visit_id, receipt_id, kind, line_no FROM review_items WHERE review_id = $1 AND status = 'open' AND receipt_id IS NOT NULL FOR UPDATE",
        [message.reviewId],
      );
      for (const item of rows) await applyDecision(tx, item, kept.rows[0].decision, now);
    });
    wake();
  };

  const applyKeptDecisions = async (tx: Queryable, receiptId: string, now: number) => {
    const { rows } = await tx.query<OpenItem & { decision: Decision }>(
      `SELECT i.review_id, i.visit_id, i.receipt_id, i.kind, i.line_no, d.decision
       FROM review_items i JOIN review_decisions d ON d.review_id = i.review_id
       WHERE i.receipt_id = $1 AND i.status = 'open' ORDER BY d.received_ms, i.review_id FOR UPDATE OF i`,
      [receiptId],
    );
    for (const item of rows) await applyDecision(tx, item, item.decision, now);
  };

  /**
   * What a decision does to one open item of a receipt:
   * - a line pending review decided a pick by this visit: its lines are added and charged once;
   * - decided a put by this visit: the visit was charged at exit for what it then put back, so those
   *   units are refunded from its lines of that product (never more than a line has left);
   * - a contest approved: what is left of the contested line is refunded, once;
   * - anything else (dismissed, another visit's, a contest rejected, withdrawn by the gate): nothing
   *   moves; a withdrawn item is closed as `withdrawn`, since nobody decided it.
   */
  const applyDecision = async (tx: Queryable, item: OpenItem, decision: Decision, now: number) => {
    let status: 'attributed' | 'dismissed' | 'withdrawn' | 'approved' | 'rejected';
    if (item.kind === 'contest') {
      status = decision.outcome === 'approved' ? 'approved' : 'rejected';
      if (status === 'approved' && item.line_no !== null)
        await queueLineRefund(tx, { receiptId: item.receipt_id, lineNo: item.line_no, refundId: `refund/${item.receipt_id}/${item.line_no}`, reason: 'contest approved', now });
    } else {
      // Two shoppers at once: each visit the decision names gets its own lines.
      const ours = decision.outcome === 'attributed' ? decidedShare(decision, item.visit_id) : undefined;
      status = ours ? 'attributed' : decision.outcome === 'withdrawn' ? 'withdrawn' : 'dismissed';
      if (ours?.kind === 'pick') await addReviewLines(tx, item.visit_id, item.receipt_id, item.review_id, ours.lines, now);
      if (ours?.kind === 'put') await refundPutBack(tx, item.receipt_id, item.review_id, ours.lines, now);
    }
    await tx.query('UPDATE review_items SET status = $3, resolved_ms = $4, decision = $5 WHERE review_id = $1 AND visit_id = $2', [
      item.review_id,
      item.visit_id,
      status,
      now,
      JSON.stringify(decision),
    ]);
  };

  /** Units a visit put back after it was charged for them: refunded from its lines of each product, newest line first. */
  const refundPutBack = async (tx: Queryable, receiptId: string, reviewId: string, lines: ReadonlyArray<{ productId: string; quantity: number }>, now: number) => {
    for (const put of lines) {
      let units = put.quantity;
      const held = await tx.query<{ line_no: number; unit_price_cents: number }>(
        'SELECT line_no, unit_price_cents FROM receipt_lines WHERE receipt_id = $1 AND product_id = $2 AND unit_price_cents > 0 ORDER BY line_no DESC',
        [receiptId, put.productId],
      );
      for (const line of held.rows) {
        if (units <= 0) break;
        const refunded = await queueLineRefund(tx, {
          receiptId,
          lineNo: line.line_no,
          refundId: `refund/${receiptId}/${line.line_no}/review/${reviewId}`,
          reason: `put back (review ${reviewId})`,
          now,
          capCents: units * line.unit_price_cents,
        });
        units -= Math.floor((refunded?.amountCents ?? 0) / line.unit_price_cents);
      }
      if (units > 0) logger.warn('a put back by review finds fewer units charged than it returns', { receiptId, reviewId, productId: put.productId, units });
    }
  };

  /**
   * Records a refund of a receipt line, once by its id: what is left of the line (its total less what
   * was refunded of it before), at most `capCents`. Undefined when nothing is left to refund.
   */
  const queueLineRefund = async (
    tx: Queryable,
    request: { receiptId: string; lineNo: number; refundId: string; reason: string; now: number; capCents?: number },
  ): Promise<(RefundAnswer & { fresh: boolean }) | undefined> => {
    const { receiptId, lineNo, refundId, now } = request;
    const { rows } = await tx.query<{ total_cents: number; charge_id: string }>(
      'SELECT total_cents, charge_id FROM receipt_lines WHERE receipt_id = $1 AND line_no = $2 FOR UPDATE',
      [receiptId, lineNo],
    );
    if (rows.length === 0) throw new WalkoutError('RECEIPT_NOT_FOUND', `receipt ${receiptId} has no line ${lineNo}`);
    const kept = async () => (await tx.query<{ amount_cents: number; status: 'pending' | 'refunded' }>('SELECT amount_cents, status FROM refunds WHERE refund_id = $1', [refundId])).rows[0];
    const before = await kept();
    if (before) return { refundId, amountCents: before.amount_cents, status: before.status, fresh: false };
    const refunded = await tx.query<{ cents: number }>('SELECT coalesce(sum(amount_cents), 0)::bigint AS cents FROM refunds WHERE receipt_id = $1 AND line_no = $2', [receiptId, lineNo]);
    const amount = Math.min(rows[0].total_cents - refunded.rows[0].cents, request.capCents ?? Infinity);
    if (amount <= 0) return undefined;
    await tx.query(
      "INSERT INTO refunds (refund_id, receipt_id, line_no, charge_id, amount_cents, status, reason, requested_ms) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)",
      [refundId, receiptId, lineNo, rows[0].charge_id, amount, request.reason, now],
    );
    await enqueue(tx, { outboxId: refundId, kind: 'refund', payload: { refundId }, now });
    return { refundId, amountCents: amount, status: 'pending', fresh: true };
  };

  /** The lines a review decision gives a visit, appended to its receipt, with their own charge. */
  const addReviewLines = async (tx: Queryable, visitId: string, receiptId: string, reviewId: string, lines: ReadonlyArray<{ productId: string; quantity: number }>, now: number) => {
    const chargeId = `${visitId}/review/${reviewId}`;
    const { rows } = await tx.query<{ next: number }>('SELECT coalesce(max(line_no), 0) + 1 AS next FROM receipt_lines WHERE receipt_id = $1', [receiptId]);
    let lineNo = rows[0].next;
    let amount = 0;
    const priced = lines.map((line) => {
      const unit = deps.priceOf(line.productId) ?? 0;
      if (deps.priceOf(line.productId) === undefined) logger.warn('a product without a price is charged at 0', { visitId, productId: line.productId });
      amount += unit * line.quantity;
      return { ...line, unit };
    });
    const account = await tx.query<{ account_id: string | null }>('SELECT account_id FROM receipts WHERE receipt_id = $1', [receiptId]);
    const inserted = await tx.query(
      "INSERT INTO charges (charge_id, visit_id, receipt_id, account_id, amount_cents, status, created_ms) VALUES ($1, $2, $3, $4, $5, 'pending', $6) ON CONFLICT DO NOTHING",
      [chargeId, visitId, receiptId, account.rows[0]?.account_id ?? null, amount, now],
    );
    if (inserted.rowCount === 0) return false;
    for (const line of priced)
      await tx.query(
        "INSERT INTO receipt_lines (receipt_id, line_no, product_id, quantity, unit_price_cents, total_cents, source, review_id, charge_id) VALUES ($1, $2, $3, $4, $5, $6, 'review', $7, $8)",
        [receiptId, lineNo++, line.productId, line.quantity, line.unit, line.unit * line.quantity, reviewId, chargeId],
      );
    await tx.query('UPDATE receipts SET total_cents = total_cents + $2 WHERE receipt_id = $1', [receiptId, amount]);
    await enqueue(tx, { outboxId: `charge/${chargeId}`, kind: 'charge', payload: { chargeId }, now });
    return true;
  };

  const refundLine = async (receiptId: string, lineNo: number, reason = 'contest approved'): Promise<RefundAnswer> => {
    const refundId = `refund/${receiptId}/${lineNo}`;
    const answer = await db.transaction((tx) => queueLineRefund(tx, { receiptId, lineNo, refundId, reason, now: clock.now() }));
    if (!answer) throw new WalkoutError('PAYMENT_REFUSED', `receipt ${receiptId} line ${lineNo} has nothing left to refund`);
    if (answer.fresh) wake();
    return { refundId: answer.refundId, amountCents: answer.amountCents, status: answer.status };
  };

  const retryPaymentNow = async (visitId: string) => {
    const { rowCount } = await db.query(
      "UPDATE outbox SET next_attempt_ms = $2 WHERE kind = 'charge' AND delivered_ms IS NULL AND payload->>'chargeId' IN (SELECT charge_id FROM charges WHERE visit_id = $1 AND status = 'declined')",
      [visitId, clock.now()],
    );
    if (rowCount > 0) wake();
    return rowCount > 0;
  };

  // --- the dispatcher ------------------------------------------------------------------------

  const authoriseHold = async (row: OutboxRow): Promise<Outcome> => {
    const { visitId, accountId, amountCents, currency } = row.payload as { visitId: string; accountId: string; amountCents: number; currency: string };
    const answer = await provider.authorise({ idempotencyKey: `hold/${visitId}`, accountId, amountCents, currency, reference: visitId });
    await db.transaction(async (tx) => {
      if (answer.outcome === 'authorised')
        await tx.query("UPDATE visits SET hold_status = 'authorised', hold_authorisation_id = $2, updated_ms = $3 WHERE visit_id = $1 AND hold_status = 'requested'", [visitId, answer.authorisationId, clock.now()]);
      else await tx.query("UPDATE visits SET hold_status = 'declined', updated_ms = $2 WHERE visit_id = $1 AND hold_status = 'requested'", [visitId, clock.now()]);
      await markDelivered(tx, row.seq, clock.now());
    });
    if (answer.outcome === 'authorised') stats.holds++;
    else stats.holdsDeclined++;
    return handled;
  };

  const chargeVisit = async (row: OutboxRow): Promise<Outcome> => {
    const charge = await loadCharge(db, (row.payload as { chargeId: string }).chargeId);
    if (!charge) throw new WalkoutError('RECEIPT_NOT_FOUND', `outbox row ${row.outboxId} names no charge`);
    const visit = (await loadVisit(db, charge.visitId))!;
    const exitCharge = charge.chargeId === charge.visitId;
    if (charge.status === 'captured' || charge.status === 'voided') return finish(row, async () => undefined);
    if (exitCharge && visit.holdStatus === 'requested') return { kind: 'later', dueMs: clock.now() + config.deferMs, error: null, countAttempt: false };
    const hold = exitCharge && visit.holdStatus === 'authorised' ? visit.holdAuthorisationId : null;
    if (charge.status === 'not-charged' || !charge.accountId) {
      if (hold) await provider.void({ idempotencyKey: `void/${visit.visitId}`, authorisationId: hold, reference: visit.visitId });
      return finish(row, (tx) => setHold(tx, visit.visitId, hold ? 'voided' : null));
    }
    if (charge.amountCents === 0) {
      if (hold) await provider.void({ idempotencyKey: `void/${visit.visitId}`, authorisationId: hold, reference: visit.visitId });
      stats.voided++;
      return finish(row, async (tx) => {
        await tx.query("UPDATE charges SET status = 'voided', settled_ms = $2 WHERE charge_id = $1", [charge.chargeId, clock.now()]);
        await tx.query("UPDATE visits SET status = 'nothing-to-charge', updated_ms = $2 WHERE visit_id = $1", [visit.visitId, clock.now()]);
        await setHold(tx, visit.visitId, hold ? 'voided' : null);
      });
    }
    let authorisationId = charge.authorisationId ?? (hold && charge.amountCents <= visit.holdCents ? hold : null);
    if (!authorisationId) {
      const answer = await provider.authorise({
        idempotencyKey: `${charge.chargeId}/auth-${charge.declines + charge.renewals + 1}`,
        accountId: charge.accountId,
        amountCents: charge.amountCents,
        currency: visit.currency,
        reference: visit.visitId,
      });
      if (answer.outcome === 'declined') return declined(row, charge, visit.storeId, answer.reason);
      authorisationId = answer.authorisationId;
      await db.query('UPDATE charges SET authorisation_id = $2 WHERE charge_id = $1', [charge.chargeId, authorisationId]);
    }
    let capture: CaptureResult;
    try {
      capture = await provider.capture({ idempotencyKey: charge.chargeId, authorisationId, amountCents: charge.amountCents, reference: visit.visitId });
    } catch (error) {
      if (error instanceof WalkoutError && (error.code === 'AUTHORISATION_EXPIRED' || error.code === 'PAYMENT_DECLINED'))
        return authorisationEnded(row, charge, visit, authorisationId, error);
      throw error;
    }
    const heldElsewhere = hold !== null && hold !== authorisationId;
    if (heldElsewhere) await provider.void({ idempotencyKey: `void/${visit.visitId}`, authorisationId: hold, reference: visit.visitId });
    const exitMs = (await db.query<{ exit_ms: number }>('SELECT exit_ms FROM receipts WHERE receipt_id = $1', [charge.receiptId])).rows[0].exit_ms;
    stats.captured++;
    return finish(row, async (tx) => {
      const now = clock.now();
      await tx.query("UPDATE charges SET status = 'captured', authorisation_id = $2, capture_id = $3, settled_ms = $4, last_error = NULL WHERE charge_id = $1", [
        charge.chargeId,
        authorisationId,
        capture.captureId,
        now,
      ]);
      if (exitCharge) {
        await tx.query("UPDATE visits SET status = 'charged', updated_ms = $2 WHERE visit_id = $1", [visit.visitId, now]);
        await setHold(tx, visit.visitId, hold === null ? null : heldElsewhere ? 'voided' : 'captured');
      } else await settleVisitIfPaid(tx, visit.visitId, now);
      const message: CheckoutCharged = {
        ...base(visit.storeId, `charged/${charge.chargeId}`, now),
        visitId: visit.visitId,
        receiptId: charge.receiptId,
        chargeId: charge.chargeId,
        accountId: charge.accountId!,
        amountCents: charge.amountCents,
        currency: visit.currency,
        exitMs,
      };
      await enqueuePublish(tx, 'checkout.charged', message, now);
    });
  };

  /**
   * The authorisation a charge was to be captured from is over, and nothing was taken: the processor
   * let it go (expired), or the bank declined the capture. It is forgotten (the visit's hold, or the
   * charge's own), so the next try authorises anew and captures that under the same capture key
   * (nothing was ever captured under it). An expiry is no fault of the card: tried again at once. A
   * decline is a decline: payment failed, retried by policy.
   */
  const authorisationEnded = async (row: OutboxRow, charge: ChargeRow, visit: VisitRow, authorisationId: string, error: WalkoutError): Promise<Outcome> => {
    const expired = error.code === 'AUTHORISATION_EXPIRED';
    const forget = async (tx: Queryable) => {
      await tx.query("UPDATE visits SET hold_status = $3, updated_ms = $4 WHERE visit_id = $1 AND hold_authorisation_id = $2 AND hold_status = 'authorised'", [
        visit.visitId,
        authorisationId,
        expired ? 'expired' : 'declined',
        clock.now(),
      ]);
      await tx.query('UPDATE charges SET authorisation_id = NULL, renewals = renewals + $3 WHERE charge_id = $1 AND authorisation_id = $2', [charge.chargeId, authorisationId, expired ? 1 : 0]);
    };
    if (!expired) return declined(row, charge, visit.storeId, error.message, forget);
    stats.renewals++;
    logger.info('an authorisation expired before its capture; authorising anew', { visitId: visit.visitId, chargeId: charge.chargeId, authorisationId });
    await db.transaction(async (tx) => {
      await forget(tx);
      await reschedule(tx, row.seq, clock.now(), error.message, false);
    });
    return handled;
  };

  /** A visit whose later charge was paid is no longer "payment failed" unless another charge still is. */
  const settleVisitIfPaid = async (tx: Queryable, visitId: string, now: number) => {
    await tx.query(
      "UPDATE visits SET status = 'charged', updated_ms = $2 WHERE visit_id = $1 AND status = 'payment-failed' AND NOT EXISTS (SELECT 1 FROM charges WHERE visit_id = $1 AND status = 'declined')",
      [visitId, now],
    );
  };

  const setHold = async (tx: Queryable, visitId: string, status: 'voided' | 'captured' | null) => {
    if (status) await tx.query('UPDATE visits SET hold_status = $2 WHERE visit_id = $1', [visitId, status]);
  };

  const declined = async (row: OutboxRow, charge: ChargeRow, storeId: string, reason: string, alsoWrite?: (tx: Queryable) => Promise<void>): Promise<Outcome> => {
    const now = clock.now();
    const declines = charge.declines + 1;
    const dueMs = now + declineWaitMs(config, declines);
    stats.declines++;
    await db.transaction(async (tx) => {
      await alsoWrite?.(tx);
      await tx.query("UPDATE charges SET status = 'declined', declines = $2, last_error = $3 WHERE charge_id = $1", [charge.chargeId, declines, reason]);
      await tx.query("UPDATE visits SET status = 'payment-failed', updated_ms = $2 WHERE visit_id = $1", [charge.visitId, now]);
      const message: CheckoutPaymentFailed = {
        ...base(storeId, `payment-failed/${charge.chargeId}/${declines}`, now),
        visitId: charge.visitId,
        receiptId: charge.receiptId,
        chargeId: charge.chargeId,
        accountId: charge.accountId!,
        amountCents: charge.amountCents,
        reason,
        declines,
        nextAttemptMs: dueMs,
      };
      await enqueuePublish(tx, 'checkout.payment-failed', message, now);
      await reschedule(tx, row.seq, dueMs, `declined: ${reason}`);
    });
    logger.warn('payment declined; the visit is payment failed and tried again later', { visitId: charge.visitId, chargeId: charge.chargeId, declines, nextAttemptMs: dueMs });
    return handled;
  };

  const refund = async (row: OutboxRow): Promise<Outcome> => {
    const { refundId } = row.payload as { refundId: string };
    const { rows } = await db.query<{ receipt_id: string; line_no: number; charge_id: string; amount_cents: number; status: string }>(
      'SELECT receipt_id, line_no, charge_id, amount_cents, status FROM refunds WHERE refund_id = $1',
      [refundId],
    );
    const request = rows[0];
    if (request.status === 'refunded') return finish(row, async () => undefined);
    const charge = (await loadCharge(db, request.charge_id))!;
    // A line is refunded from what its charge took: until that charge is captured, the refund waits.
    const authorisationId = charge.status === 'captured' ? charge.authorisationId : null;
    if (!authorisationId) return { kind: 'later', dueMs: clock.now() + config.retry.maxMs, error: `charge ${charge.chargeId} is ${charge.status}`, countAttempt: false };
    const answer = await provider.refund({ idempotencyKey: refundId, authorisationId, amountCents: request.amount_cents, reference: charge.visitId });
    stats.refunds++;
    const storeId = (await loadVisit(db, charge.visitId))!.storeId;
    return finish(row, async (tx) => {
      const now = clock.now();
      await tx.query("UPDATE refunds SET status = 'refunded', settled_ms = $2 WHERE refund_id = $1", [refundId, now]);
      const message: CheckoutRefunded = {
        ...base(storeId, `refunded/${refundId}`, now),
        visitId: charge.visitId,
        receiptId: request.receipt_id,
        lineNo: request.line_no,
        refundId,
        accountId: charge.accountId!,
        amountCents: answer.amountCents,
      };
      await enqueuePublish(tx, 'checkout.refunded', message, now);
    });
  };

  const publishRow = async (row: OutboxRow): Promise<Outcome> => {
    const { topic, message } = row.payload as { topic: string; message: { eventId: string } };
    await deps.publish(topic, message);
    stats.published++;
    return finish(row, async () => undefined);
  };

  /** Marks the row delivered in one transaction with what its answer changed. */
  const finish = async (row: OutboxRow, write: (tx: Queryable) => Promise<void>): Promise<Outcome> => {
    await db.transaction(async (tx) => {
      await write(tx);
      await markDelivered(tx, row.seq, clock.now());
    });
    return handled;
  };

  const handlers: Record<OutboxRow['kind'], (row: OutboxRow) => Promise<Outcome>> = {
    authorise: authoriseHold,
    charge: chargeVisit,
    refund,
    publish: publishRow,
  };

  const deliver = async (row: OutboxRow): Promise<void> => {
    let outcome: Outcome;
    try {
      outcome = await handlers[row.kind](row);
    } catch (error) {
      const retriable = !(error instanceof WalkoutError) || error.retriable;
      // A request the processor refuses as wrong will not pass by itself; it is kept, tried rarely and logged loudly, never dropped.
      const dueMs = clock.now() + (retriable ? backoffMs(config, row.attempts, random) : config.retry.maxMs);
      (retriable ? logger.warn : logger.error).call(logger, 'checkout could not deliver; tried again later', { outboxId: row.outboxId, attempts: row.attempts, error: (error as Error).message, dueMs });
      stats.retries++;
      outcome = { kind: 'later', dueMs, error: (error as Error).message, countAttempt: true };
    }
    if (outcome.kind === 'later') {
      const later = outcome;
      await db.transaction((tx) => reschedule(tx, row.seq, later.dueMs, later.error, later.countAttempt)).catch((error) =>
        logger.warn('could not reschedule an outbox row; its lease runs out instead', { outboxId: row.outboxId, error: (error as Error).message }),
      );
    }
  };

  /** One pass: leases what is due and delivers it, `concurrency` rows at a time; returns rows handled. */
  const pass = async (): Promise<number> => {
    if (!leasesReleased) {
      const released = await releaseLeasesOf(db, workerId);
      leasesReleased = true;
      if (released > 0) logger.info('took back the rows a previous life of this dispatcher held', { workerId, rows: released });
    }
    const rows = await db.transaction((tx) => leaseDue(tx, clock.now(), config.leaseMs, config.batch, workerId));
    // Rows of one visit go in order (its hold before its charge); visits, refunds and messages go side by side.
    const byKey = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const key = orderKey(row);
      byKey.set(key, [...(byKey.get(key) ?? []), row]);
    }
    const queues = [...byKey.values()];
    const workers = Array.from({ length: Math.min(config.concurrency, queues.length) }, async () => {
      for (let queue = queues.shift(); queue; queue = queues.shift()) for (const row of queue) await deliver(row);
    });
    await Promise.all(workers);
    return rows.length;
  };

  /** Passes until nothing due is left; one at a time (a wake while running asks for one more pass). */
  const dispatch = async (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      do {
        again = false;
        for (let handled = await pass(); handled > 0; handled = await pass()) total += handled;
      } while (again);
      return total;
    })();
    try {
      return await running;
    } finally {
      running = null;
    }
  };

  let lastPurgeMs = clock.now();
  const PURGE_EVERY_MS = 3_600_000;

  return {
    onVisitStarted,
    onReceiptFinalised,
    onCartUpdated,
    onReviewResolved,
    refundLine,
    retryPaymentNow,
    hasUnpaidVisit: async (accountId) => (await accountStanding(db, accountId)).unpaidVisitId !== undefined,
    start() {
      stopped = false;
      stopTimer = clock.every(config.pollMs, () => {
        wake();
        if (clock.now() - lastPurgeMs >= PURGE_EVERY_MS) {
          lastPurgeMs = clock.now();
          void provider.purgeExpiredKeys().catch(() => undefined);
        }
      });
      wake();
    },
    async stop() {
      stopped = true;
      stopTimer?.();
      while (running) await running.catch(() => undefined);
    },
    drain: dispatch,
    nextDueMs: () => nextDueMs(db),
    stats: () => ({ ...stats }),
  };
}
