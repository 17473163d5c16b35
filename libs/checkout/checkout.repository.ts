import { SCHEMA_VERSION } from '../contracts/common.schema.ts';
import type { CartUpdated, ReceiptFinalised, ReviewItemOpened, VisitStarted } from '../contracts/visits.schema.ts';
import type { Database, Queryable } from '../db/db.types.ts';

/**
 * Checkout's tables (libs/db/migrations/001_checkout.sql) as functions: what the checkout engine
 * writes, and what the gate and the shopper app read. Every write is idempotent (insert once by a
 * natural key, or update from a known state), so a message handled twice changes nothing.
 */

export type OutboxKind = 'authorise' | 'charge' | 'refund' | 'publish';

export interface OutboxRow {
  readonly seq: number;
  readonly outboxId: string;
  readonly kind: OutboxKind;
  readonly payload: Record<string, unknown>;
  readonly attempts: number;
  readonly createdMs: number;
}

export interface ChargeRow {
  readonly chargeId: string;
  readonly visitId: string;
  readonly receiptId: string;
  readonly accountId: string | null;
  readonly amountCents: number;
  /** pending (not tried yet), captured, voided (nothing taken), declined (payment failed), not-charged (no account to charge). */
  readonly status: 'pending' | 'captured' | 'voided' | 'declined' | 'not-charged';
  readonly declines: number;
  /** Authorisations of this charge that expired before capture (they number the next key with declines). */
  readonly renewals: number;
  readonly authorisationId: string | null;
}

export interface VisitRow {
  readonly visitId: string;
  readonly storeId: string;
  readonly accountId: string | null;
  readonly status: string;
  readonly holdStatus: 'none' | 'requested' | 'authorised' | 'declined' | 'voided' | 'captured' | 'expired';
  readonly holdAuthorisationId: string | null;
  readonly holdCents: number;
  readonly currency: string;
}

export async function enqueue(tx: Queryable, row: { outboxId: string; kind: OutboxKind; payload: object; now: number; dueMs?: number }): Promise<boolean> {
  const { rowCount } = await tx.query(
    'INSERT INTO outbox (outbox_id, kind, payload, created_ms, next_attempt_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (outbox_id) DO NOTHING',
    [row.outboxId, row.kind, JSON.stringify(row.payload), row.now, row.dueMs ?? row.now],
  );
  return rowCount > 0;
}

/** A message to publish, in the same transaction as what it reports. */
export function enqueuePublish(tx: Queryable, topic: string, message: { eventId: string }, now: number): Promise<boolean> {
  return enqueue(tx, { outboxId: `publish/${message.eventId}`, kind: 'publish', payload: { topic, message }, now });
}

async function ensureAccount(tx: Queryable, accountId: string | undefined, now: number): Promise<void> {
  if (accountId) await tx.query('INSERT INTO accounts (account_id, created_ms) VALUES ($1, $2) ON CONFLICT (account_id) DO NOTHING', [accountId, now]);
}

/** A visit began: recorded once; a shopper's hold is queued. Returns whether it was new. */
export async function recordVisitStarted(tx: Queryable, visit: VisitStarted, hold: { cents: number; currency: string }, now: number): Promise<boolean> {
  await ensureAccount(tx, visit.accountId, now);
  const wantsHold = visit.kind === 'shopper' && visit.accountId !== undefined;
  const { rowCount } = await tx.query(
    `INSERT INTO visits (visit_id, store_id, account_id, kind, started_ms, status, hold_status, hold_cents, currency, updated_ms)
     VALUES ($1, $2, $3, $4, $5, 'in-store', $6, $7, $8, $9) ON CONFLICT (visit_id) DO NOTHING`,
    [visit.visitId, visit.storeId, visit.accountId ?? null, visit.kind, visit.ts, wantsHold ? 'requested' : 'none', wantsHold ? hold.cents : 0, hold.currency, now],
  );
  if (rowCount === 0) return false;
  if (wantsHold)
    await enqueue(tx, {
      outboxId: `authorise/${visit.visitId}`,
      kind: 'authorise',
      payload: { visitId: visit.visitId, accountId: visit.accountId, amountCents: hold.cents, currency: hold.currency },
      now,
    });
  return true;
}

/** The final receipt, its lines, its pending review items, its charge and the intent to charge: call in one transaction. Returns false when it was recorded before. */
export async function recordReceipt(tx: Queryable, receipt: ReceiptFinalised, currency: string, now: number): Promise<boolean> {
  await ensureAccount(tx, receipt.accountId, now);
  // A receipt may come before its visit.started (another topic): the visit is recorded from it.
  await tx.query(
    `INSERT INTO visits (visit_id, store_id, account_id, kind, status, currency, updated_ms)
     VALUES ($1, $2, $3, $4, 'in-store', $5, $6) ON CONFLICT (visit_id) DO NOTHING`,
    [receipt.visitId, receipt.storeId, receipt.accountId ?? null, receipt.accountId ? 'shopper' : 'anonymous', currency, now],
  );
  const inserted = await tx.query(
    `INSERT INTO receipts (receipt_id, visit_id, store_id, account_id, exit_ms, finalised_ms, currency, total_cents)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
    [receipt.receiptId, receipt.visitId, receipt.storeId, receipt.accountId ?? null, receipt.exitMs, now, currency, receipt.totalCents],
  );
  if (inserted.rowCount === 0) return false;
  const chargeId = receipt.visitId;
  for (const [i, line] of receipt.lines.entries())
    await tx.query(
      `INSERT INTO receipt_lines (receipt_id, line_no, product_id, quantity, unit_price_cents, total_cents, source, charge_id) VALUES ($1, $2, $3, $4, $5, $6, 'exit', $7)`,
      [receipt.receiptId, i + 1, line.productId, line.quantity, line.unitPriceCents, line.totalCents, chargeId],
    );
  for (const pending of receipt.pending)
    await tx.query(
      `INSERT INTO review_items (review_id, visit_id, receipt_id, kind, shelf_event_id, candidates, status, opened_ms)
       VALUES ($1, $2, $3, 'pending-line', $4, $5, 'open', $6) ON CONFLICT DO NOTHING`,
      [pending.reviewId, receipt.visitId, receipt.receiptId, pending.shelfEventId ?? null, JSON.stringify(pending.candidates), now],
    );
  const payable = receipt.accountId !== undefined;
  await tx.query(
    `INSERT INTO charges (charge_id, visit_id, receipt_id, account_id, amount_cents, status, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [chargeId, receipt.visitId, receipt.receiptId, receipt.accountId ?? null, receipt.totalCents, payable ? 'pending' : 'not-charged', now],
  );
  await tx.query('UPDATE visits SET exit_ms = $2, status = $3, updated_ms = $4 WHERE visit_id = $1', [
    receipt.visitId,
    receipt.exitMs,
    payable ? 'awaiting-payment' : 'not-charged',
    now,
  ]);
  // Even an unpayable or empty receipt goes through the dispatcher: a hold may wait to be voided.
  await enqueue(tx, { outboxId: `charge/${chargeId}`, kind: 'charge', payload: { chargeId }, now });
  return true;
}

/** A cart as the cart service published it; an old version again changes nothing. */
export async function recordCartUpdated(tx: Queryable, cart: CartUpdated): Promise<boolean> {
  const { rowCount } = await tx.query(
    'INSERT INTO cart_events (visit_id, version, event_id, ts_ms, total_cents, cart) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
    [cart.visitId, cart.version, cart.eventId, cart.ts, cart.totalCents, JSON.stringify({ lines: cart.lines, pendingReviewIds: cart.pendingReviewIds })],
  );
  return rowCount > 0;
}

/**
 * Takes up to `limit` rows that are due and not leased by a live dispatcher, and leases them. Rows
 * another transaction is taking are skipped (FOR UPDATE SKIP LOCKED), so several dispatchers share
 * the work on the server.
 */
export async function leaseDue(tx: Queryable, now: number, leaseMs: number, limit: number, owner: string): Promise<OutboxRow[]> {
  const { rows } = await tx.query<{ seq: number; outbox_id: string; kind: OutboxKind; payload: Record<string, unknown>; attempts: number; created_ms: number }>(
    `UPDATE outbox SET lease_until_ms = $2, lease_owner = $4, attempts = attempts + 1
     WHERE seq IN (
       SELECT seq FROM outbox
       WHERE delivered_ms IS NULL AND next_attempt_ms <= $1 AND (lease_until_ms IS NULL OR lease_until_ms <= $1)
       ORDER BY next_attempt_ms, seq LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING seq, outbox_id, kind, payload, attempts, created_ms`,
    [now, now + leaseMs, limit, owner],
  );
  return rows
    .map((row) => ({ seq: row.seq, outboxId: row.outbox_id, kind: row.kind, payload: row.payload, attempts: row.attempts, createdMs: row.created_ms }))
    .sort((a, b) => a.seq - b.seq);
}

/**
 * Lets go of every lease `owner` holds: called by a dispatcher as it starts, under a worker id that
 * outlives its process, because whatever held them under that id is its own previous life, now dead.
 * Returns how many rows were let go.
 */
export async function releaseLeasesOf(db: Queryable, owner: string): Promise<number> {
  const { rowCount } = await db.query('UPDATE outbox SET lease_until_ms = NULL, lease_owner = NULL WHERE lease_owner = $1 AND delivered_ms IS NULL AND lease_until_ms IS NOT NULL', [owner]);
  return rowCount;
}

export async function markDelivered(tx: Queryable, seq: number, now: number): Promise<void> {
  await tx.query('UPDATE outbox SET delivered_ms = $2, lease_until_ms = NULL, last_error = NULL WHERE seq = $1', [seq, now]);
}

/** Lets go of a row until `dueMs`; `countAttempt` false for a wait that is not a failure (a hold still being authorised). */
export async function reschedule(tx: Queryable, seq: number, dueMs: number, error: string | null, countAttempt = true): Promise<void> {
  await tx.query(
    `UPDATE outbox SET next_attempt_ms = $2, lease_until_ms = NULL, last_error = $3, attempts = attempts - $4 WHERE seq = $1`,
    [seq, dueMs, error, countAttempt ? 0 : 1],
  );
}

/** The earliest time a row not yet delivered is due, or null when nothing waits. */
export async function nextDueMs(db: Queryable): Promise<number | null> {
  const { rows } = await db.query<{ due: number | null }>(
    'SELECT min(greatest(next_attempt_ms, coalesce(lease_until_ms, 0)))::bigint AS due FROM outbox WHERE delivered_ms IS NULL',
  );
  return rows[0]?.due ?? null;
}

type ChargeRecord = { charge_id: string; visit_id: string; receipt_id: string; account_id: string | null; amount_cents: number; status: ChargeRow['status']; declines: number; renewals: number; authorisation_id: string | null };
const CHARGE_COLUMNS = 'charge_id, visit_id, receipt_id, account_id, amount_cents, status, declines, renewals, authorisation_id';

const chargeOf = (row: ChargeRecord): ChargeRow => ({
  chargeId: row.charge_id,
  visitId: row.visit_id,
  receiptId: row.receipt_id,
  accountId: row.account_id,
  amountCents: row.amount_cents,
  status: row.status,
  declines: row.declines,
  renewals: row.renewals,
  authorisationId: row.authorisation_id,
});

export async function loadCharge(db: Queryable, chargeId: string): Promise<ChargeRow | undefined> {
  const { rows } = await db.query<ChargeRecord>(`SELECT ${CHARGE_COLUMNS} FROM charges WHERE charge_id = $1`, [chargeId]);
  return rows[0] && chargeOf(rows[0]);
}

/** Every charge, by visit then as they were made. */
export async function loadCharges(db: Queryable): Promise<ChargeRow[]> {
  const { rows } = await db.query<ChargeRecord>(`SELECT ${CHARGE_COLUMNS} FROM charges ORDER BY visit_id, created_ms, charge_id`);
  return rows.map(chargeOf);
}

export async function loadVisit(db: Queryable, visitId: string): Promise<VisitRow | undefined> {
  const { rows } = await db.query<{ visit_id: string; store_id: string; account_id: string | null; status: string; hold_status: VisitRow['holdStatus']; hold_authorisation_id: string | null; hold_cents: number; currency: string }>(
    'SELECT visit_id, store_id, account_id, status, hold_status, hold_authorisation_id, hold_cents, currency FROM visits WHERE visit_id = $1',
    [visitId],
  );
  const row = rows[0];
  return row && {
    visitId: row.visit_id,
    storeId: row.store_id,
    accountId: row.account_id,
    status: row.status,
    holdStatus: row.hold_status,
    holdAuthorisationId: row.hold_authorisation_id,
    holdCents: row.hold_cents,
    currency: row.currency,
  };
}

export interface RefundView {
  readonly refundId: string;
  readonly amountCents: number;
  readonly status: 'pending' | 'refunded';
  readonly reason: string;
}

export interface ReceiptLineView {
  readonly lineNo: number;
  readonly productId: string;
  readonly quantity: number;
  readonly unitPriceCents: number;
  readonly totalCents: number;
  readonly source: 'exit' | 'review';
  readonly chargeId: string;
  /** Every refund of the line, and their sum: pending while one of them is. */
  readonly refund: { status: 'pending' | 'refunded'; amountCents: number } | null;
  readonly refunds: RefundView[];
  /** The shopper's contest of this line, if any. */
  readonly contest: { reviewId: string; status: 'open' | 'approved' | 'rejected'; note: string | null } | null;
}

export interface ReceiptView {
  readonly receiptId: string;
  readonly visitId: string;
  readonly storeId: string;
  readonly accountId: string | null;
  readonly exitMs: number;
  readonly currency: string;
  readonly totalCents: number;
  readonly lines: ReceiptLineView[];
  readonly charges: Array<{ chargeId: string; amountCents: number; status: string; declines: number }>;
}

/** A receipt with its lines, what each charge did, each line's refunds and contest: what the shopper app shows. */
export async function loadReceipt(db: Queryable, receiptId: string): Promise<ReceiptView | undefined> {
  return (await loadReceipts(db, { receiptIds: [receiptId] }))[0];
}

/**
 * Receipts with everything loadReceipt shows, in five queries however many there are: those named
 * (in no particular order), or an account's newest first.
 */
export async function loadReceipts(db: Queryable, which: { receiptIds: readonly string[] } | { accountId: string; limit: number }): Promise<ReceiptView[]> {
  const head =
    'receiptIds' in which
      ? await db.query<ReceiptHead>('SELECT receipt_id, visit_id, store_id, account_id, exit_ms, currency, total_cents FROM receipts WHERE receipt_id = ANY($1::text[])', [which.receiptIds])
      : await db.query<ReceiptHead>(
          'SELECT receipt_id, visit_id, store_id, account_id, exit_ms, currency, total_cents FROM receipts WHERE account_id = $1 ORDER BY exit_ms DESC, receipt_id LIMIT $2',
          [which.accountId, which.limit],
        );
  if (head.rows.length === 0) return [];
  const ids = head.rows.map((row) => row.receipt_id);
  const [lines, refunds, contests, charges] = await Promise.all([
    db.query<{ receipt_id: string; line_no: number; product_id: string; quantity: number; unit_price_cents: number; total_cents: number; source: 'exit' | 'review'; charge_id: string }>(
      'SELECT receipt_id, line_no, product_id, quantity, unit_price_cents, total_cents, source, charge_id FROM receipt_lines WHERE receipt_id = ANY($1::text[]) ORDER BY receipt_id, line_no',
      [ids],
    ),
    db.query<{ receipt_id: string; line_no: number; refund_id: string; amount_cents: number; status: 'pending' | 'refunded'; reason: string }>(
      'SELECT receipt_id, line_no, refund_id, amount_cents, status, reason FROM refunds WHERE receipt_id = ANY($1::text[]) ORDER BY requested_ms, refund_id',
      [ids],
    ),
    db.query<{ receipt_id: string; line_no: number; review_id: string; status: 'open' | 'approved' | 'rejected'; note: string | null }>(
      "SELECT receipt_id, line_no, review_id, status, note FROM review_items WHERE receipt_id = ANY($1::text[]) AND kind = 'contest'",
      [ids],
    ),
    db.query<{ receipt_id: string; charge_id: string; amount_cents: number; status: string; declines: number }>(
      'SELECT receipt_id, charge_id, amount_cents, status, declines FROM charges WHERE receipt_id = ANY($1::text[]) ORDER BY created_ms, charge_id',
      [ids],
    ),
  ]);
  const of = <Row extends { receipt_id: string }>(rows: readonly Row[], receiptId: string) => rows.filter((row) => row.receipt_id === receiptId);
  return head.rows.map((row) => {
    const ownRefunds = of(refunds.rows, row.receipt_id);
    const ownContests = of(contests.rows, row.receipt_id);
    return {
      receiptId: row.receipt_id,
      visitId: row.visit_id,
      storeId: row.store_id,
      accountId: row.account_id,
      exitMs: row.exit_ms,
      currency: row.currency,
      totalCents: row.total_cents,
      lines: of(lines.rows, row.receipt_id).map((line) => {
        const ofLine = ownRefunds.filter((refund) => refund.line_no === line.line_no);
        const contest = ownContests.find((item) => item.line_no === line.line_no);
        return {
          lineNo: line.line_no,
          productId: line.product_id,
          quantity: line.quantity,
          unitPriceCents: line.unit_price_cents,
          totalCents: line.total_cents,
          source: line.source,
          chargeId: line.charge_id,
          refund:
            ofLine.length === 0
              ? null
              : { status: ofLine.every((refund) => refund.status === 'refunded') ? 'refunded' : 'pending', amountCents: ofLine.reduce((sum, refund) => sum + refund.amount_cents, 0) },
          refunds: ofLine.map((refund) => ({ refundId: refund.refund_id, amountCents: refund.amount_cents, status: refund.status, reason: refund.reason })),
          contest: contest ? { reviewId: contest.review_id, status: contest.status, note: contest.note } : null,
        };
      }),
      charges: of(charges.rows, row.receipt_id).map((charge) => ({ chargeId: charge.charge_id, amountCents: charge.amount_cents, status: charge.status, declines: charge.declines })),
    };
  });
}

interface ReceiptHead {
  receipt_id: string;
  visit_id: string;
  store_id: string;
  account_id: string | null;
  exit_ms: number;
  currency: string;
  total_cents: number;
}

/** The review item of a shopper's contest of one receipt line. */
export const contestReviewId = (receiptId: string, lineNo: number) => `contest/${receiptId}/${lineNo}`;

/**
 * Opens the contest of a receipt line, once: its review item, and (in the same transaction, through
 * the outbox) the `review.item-opened` of kind contest that puts it in the review queue. Asked
 * again, it answers the contest as it stands. Undefined when the receipt has no such line.
 */
export async function openContest(
  db: Pick<Database, 'transaction'>,
  request: { receiptId: string; lineNo: number; note: string; now: number },
): Promise<{ reviewId: string; status: 'open' | 'approved' | 'rejected'; fresh: boolean } | undefined> {
  const reviewId = contestReviewId(request.receiptId, request.lineNo);
  return db.transaction(async (tx) => {
    const line = await tx.query<{ visit_id: string; store_id: string; account_id: string | null; product_id: string; quantity: number }>(
      `SELECT r.visit_id, r.store_id, r.account_id, l.product_id, l.quantity FROM receipt_lines l JOIN receipts r ON r.receipt_id = l.receipt_id
       WHERE l.receipt_id = $1 AND l.line_no = $2`,
      [request.receiptId, request.lineNo],
    );
    if (line.rows.length === 0) return undefined;
    const { visit_id: visitId, store_id: storeId, account_id: accountId, product_id: productId, quantity } = line.rows[0];
    const inserted = await tx.query(
      `INSERT INTO review_items (review_id, visit_id, receipt_id, kind, line_no, status, opened_ms, note)
       VALUES ($1, $2, $3, 'contest', $4, 'open', $5, $6) ON CONFLICT DO NOTHING`,
      [reviewId, visitId, request.receiptId, request.lineNo, request.now, request.note],
    );
    if (inserted.rowCount > 0) {
      const opened: ReviewItemOpened = {
        schemaVersion: SCHEMA_VERSION,
        eventId: `opened/${reviewId}`,
        storeId,
        ts: request.now,
        reviewId,
        kind: 'contest',
        reason: `visit ${visitId}: the shopper contests line ${request.lineNo} of receipt ${request.receiptId} (${quantity} x ${productId}): ${request.note}`,
        // No receipt waits for a contest: its visit was charged already, so it names none to hold.
        visitIds: [],
        contest: { visitId, receiptId: request.receiptId, lineNo: request.lineNo, ...(accountId ? { accountId } : {}) },
      };
      await enqueuePublish(tx, 'review.item-opened', opened, request.now);
    }
    const { rows } = await tx.query<{ status: 'open' | 'approved' | 'rejected' }>('SELECT status FROM review_items WHERE review_id = $1 AND visit_id = $2', [reviewId, visitId]);
    return { reviewId, status: rows[0].status, fresh: inserted.rowCount > 0 };
  });
}

/** How far checkout has got: receipts recorded, and charges of theirs not yet tried to an answer (captured, voided, declined). */
export async function checkoutProgress(db: Queryable): Promise<{ receipts: number; pendingCharges: number }> {
  const { rows } = await db.query<{ receipts: number; pending: number }>(
    "SELECT (SELECT count(*) FROM receipts)::bigint AS receipts, (SELECT count(*) FROM charges WHERE status = 'pending')::bigint AS pending",
  );
  return { receipts: rows[0].receipts, pendingCharges: rows[0].pending };
}

/** Each charged visit's exit and the store-clock ms from it to its exit charge's capture, quickest first. */
export async function exitToCharge(db: Queryable): Promise<Array<{ exitMs: number; latencyMs: number }>> {
  const { rows } = await db.query<{ exit_ms: number; latency: number }>(
    `SELECT r.exit_ms, (c.settled_ms - r.exit_ms)::bigint AS latency FROM charges c JOIN receipts r ON r.receipt_id = c.receipt_id
     WHERE c.status = 'captured' AND c.charge_id = c.visit_id ORDER BY latency`,
  );
  return rows.map((row) => ({ exitMs: row.exit_ms, latencyMs: row.latency }));
}
