import { createHash } from 'node:crypto';
import { WalkoutError } from '../contracts/errors.ts';
import type { Clock } from '../clock/clock.ts';
import type { Database, Queryable } from '../db/db.types.ts';
import { createRandom, type Random } from '../sim/random.ts';
import {
  HOLD_EXPIRY_MS,
  IDEMPOTENCY_RETENTION_MS,
  type AuthoriseRequest,
  type AuthoriseResult,
  type CaptureRequest,
  type CaptureResult,
  type PaymentProvider,
  type RefundRequest,
  type RefundResult,
  type VoidRequest,
  type VoidResult,
} from './payment.types.ts';

/**
 * The local card processor: the default provider, with its own books in the database
 * (provider_idempotency, provider_authorisations, provider_ledger: migrations/001_checkout.sql), so
 * it survives a process kill like a real processor survives its client's crash. Each request is one
 * transaction: its idempotency record, the authorisation it changes and the ledger entry commit
 * together or not at all. Requests with the same key take turns (an advisory lock on the key).
 *
 * It misbehaves on request, from a seed, the way a real one does on a bad day:
 * - `declineRate`: a new authorisation is declined (the answer is kept under its key);
 * - `captureDeclineRate`: a new capture is declined, which ends its authorisation (PAYMENT_DECLINED);
 * - `timeoutRate`: no answer; half of those did the work first (the caller cannot tell);
 * - `transientRate`: a failure before anything happened.
 *
 * Holds end as a real processor's do: an authorisation not captured within `holdExpiryMs` (7 days by
 * default) is let go, and a capture of it is AUTHORISATION_EXPIRED; a void of it releases nothing.
 */

export interface PaymentFaults {
  /** Share of new authorisations declined, 0 to 1. */
  readonly declineRate?: number;
  /** Share of new captures declined, 0 to 1 (the authorisation ends; nothing is taken). */
  readonly captureDeclineRate?: number;
  /** Share of requests that time out, 0 to 1; half of them after the work was done. */
  readonly timeoutRate?: number;
  /** Share of requests that fail before doing anything, 0 to 1. */
  readonly transientRate?: number;
  readonly seed?: number;
}

export interface LocalProviderOptions {
  readonly db: Database;
  /** The store clock: key ages and ledger times. */
  readonly clock: Clock;
  readonly faults?: PaymentFaults;
  /** How long a hold can be captured, store-clock ms (HOLD_EXPIRY_MS by default). */
  readonly holdExpiryMs?: number;
}

type Operation = 'authorise' | 'capture' | 'void' | 'refund';

interface AuthorisationRow {
  authorisation_id: string;
  amount_cents: number;
  captured_cents: number;
  refunded_cents: number;
  status: 'authorised' | 'captured' | 'voided' | 'expired' | 'declined';
  created_ms: number;
}

/**
 * A definitive failure whose bookkeeping must stay (an authorisation marked expired or declined, a
 * ledger entry): the transaction commits, no answer is kept under the key, and the error is thrown.
 * The same request again finds the authorisation ended and fails the same way.
 */
class FailAfterCommit {
  constructor(readonly error: WalkoutError) {}
}

const idFor = (prefix: string, key: string) => `${prefix}_${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;

/** The request without its key, fields in a fixed order: what "the same request" means. */
function requestHash(operation: Operation, request: object): string {
  const { idempotencyKey: _key, ...rest } = request as { idempotencyKey: string };
  const sorted = Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(`${operation}:${JSON.stringify(sorted)}`).digest('hex');
}

function refused(message: string): WalkoutError {
  return new WalkoutError('PAYMENT_REFUSED', message);
}

function checkAmount(amountCents: number, what: string): void {
  if (!Number.isSafeInteger(amountCents) || amountCents <= 0) throw refused(`${what}: the amount is a whole number of minor units above 0, not ${amountCents}`);
}

export function createLocalProvider(options: LocalProviderOptions): PaymentProvider {
  const { db, clock } = options;
  const faults = options.faults ?? {};
  const random: Random = createRandom(faults.seed ?? 1);
  const holdExpiryMs = options.holdExpiryMs ?? HOLD_EXPIRY_MS;
  if (!Number.isSafeInteger(holdExpiryMs) || holdExpiryMs < 1) throw new RangeError(`holdExpiryMs is a whole number of ms from 1, not ${holdExpiryMs}`);

  /** Runs one request: the fault draw, then the key's record or the work, in one transaction. */
  const handle = async <R>(
    operation: Operation,
    request: { idempotencyKey: string },
    work: (tx: Queryable, now: number) => Promise<R | FailAfterCommit>,
    isNew?: (now: number) => void,
  ): Promise<R> => {
    if (!request.idempotencyKey || request.idempotencyKey.length > 255) throw refused(`${operation}: an idempotency key is 1 to 255 characters`);
    if (random.chance(faults.transientRate ?? 0)) throw new WalkoutError('PAYMENT_UNAVAILABLE', `${operation} ${request.idempotencyKey}: the processor failed before doing anything (injected)`);
    const timesOut = random.chance(faults.timeoutRate ?? 0);
    const afterWork = timesOut && random.chance(0.5);
    if (timesOut && !afterWork) throw timeout(operation, request.idempotencyKey, 'before');
    const hash = requestHash(operation, request);
    const answer = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [request.idempotencyKey]);
      const now = clock.now();
      const kept = await tx.query<{ operation: string; request_hash: string; response: R }>(
        'SELECT operation, request_hash, response FROM provider_idempotency WHERE idempotency_key = $1',
        [request.idempotencyKey],
      );
      if (kept.rows.length > 0) {
        const [record] = kept.rows;
        if (record.request_hash !== hash || record.operation !== operation)
          throw new WalkoutError('IDEMPOTENCY_CONFLICT', `idempotency key ${request.idempotencyKey} was used for another request (${record.operation}); a new request needs a new key`);
        return record.response;
      }
      isNew?.(now);
      const response = await work(tx, now);
      if (response instanceof FailAfterCommit) return response;
      await tx.query('INSERT INTO provider_idempotency (idempotency_key, operation, request_hash, response, created_ms) VALUES ($1, $2, $3, $4, $5)', [
        request.idempotencyKey,
        operation,
        hash,
        JSON.stringify(response),
        now,
      ]);
      return response;
    });
    if (answer instanceof FailAfterCommit) throw answer.error;
    if (afterWork) throw timeout(operation, request.idempotencyKey, 'after');
    return answer;
  };

  const ledger = (tx: Queryable, entry: { operation: string; authorisationId: string | null; reference: string; amountCents: number; key: string; now: number }) =>
    tx.query('INSERT INTO provider_ledger (operation, authorisation_id, reference, amount_cents, idempotency_key, at_ms) VALUES ($1, $2, $3, $4, $5, $6)', [
      entry.operation,
      entry.authorisationId,
      entry.reference,
      entry.amountCents,
      entry.key,
      entry.now,
    ]);

  const lockAuthorisation = async (tx: Queryable, authorisationId: string, operation: Operation): Promise<AuthorisationRow> => {
    const { rows } = await tx.query<AuthorisationRow>(
      'SELECT authorisation_id, amount_cents, captured_cents, refunded_cents, status, created_ms FROM provider_authorisations WHERE authorisation_id = $1 FOR UPDATE',
      [authorisationId],
    );
    if (rows.length === 0) throw refused(`${operation}: no authorisation ${authorisationId}`);
    return rows[0];
  };

  /** An authorisation still open past its time is let go now (what the processor did when it ran out). */
  const endIfExpired = async (tx: Queryable, auth: AuthorisationRow, now: number): Promise<AuthorisationRow> => {
    if (auth.status !== 'authorised' || now - auth.created_ms < holdExpiryMs) return auth;
    await tx.query("UPDATE provider_authorisations SET status = 'expired' WHERE authorisation_id = $1", [auth.authorisation_id]);
    return { ...auth, status: 'expired' };
  };

  return {
    name: 'local',

    authorise(request: AuthoriseRequest): Promise<AuthoriseResult> {
      checkAmount(request.amountCents, `authorise ${request.idempotencyKey}`);
      let declined = false;
      return handle<AuthoriseResult>(
        'authorise',
        request,
        async (tx, now) => {
          const key = request.idempotencyKey;
          if (declined) {
            await ledger(tx, { operation: 'decline', authorisationId: null, reference: request.reference, amountCents: request.amountCents, key, now });
            return { outcome: 'declined', reason: 'insufficient funds (injected)' };
          }
          // Named by key and time: after a key has expired, the same key may name a new hold.
          const authorisationId = idFor('auth', `${key}@${now}`);
          await tx.query(
            "INSERT INTO provider_authorisations (authorisation_id, account_id, reference, currency, amount_cents, status, created_ms) VALUES ($1, $2, $3, $4, $5, 'authorised', $6)",
            [authorisationId, request.accountId, request.reference, request.currency, request.amountCents, now],
          );
          await ledger(tx, { operation: 'authorise', authorisationId, reference: request.reference, amountCents: request.amountCents, key, now });
          return { outcome: 'authorised', authorisationId, amountCents: request.amountCents };
        },
        () => (declined = random.chance(faults.declineRate ?? 0)),
      );
    },

    capture(request: CaptureRequest): Promise<CaptureResult> {
      checkAmount(request.amountCents, `capture ${request.idempotencyKey}`);
      let declined = false;
      return handle<CaptureResult>(
        'capture',
        request,
        async (tx, now) => {
          const auth = await endIfExpired(tx, await lockAuthorisation(tx, request.authorisationId, 'capture'), now);
          if (auth.status === 'expired')
            return new FailAfterCommit(
              new WalkoutError('AUTHORISATION_EXPIRED', `capture ${request.idempotencyKey}: authorisation ${auth.authorisation_id} expired (held ${holdExpiryMs} ms at most); nothing was taken, authorise anew`),
            );
          if (auth.status === 'declined') return new FailAfterCommit(new WalkoutError('PAYMENT_DECLINED', `capture ${request.idempotencyKey}: authorisation ${auth.authorisation_id} was declined at capture; nothing was taken, authorise anew`));
          if (auth.status === 'authorised' && declined) {
            await tx.query("UPDATE provider_authorisations SET status = 'declined' WHERE authorisation_id = $1", [auth.authorisation_id]);
            await ledger(tx, { operation: 'decline', authorisationId: auth.authorisation_id, reference: request.reference, amountCents: request.amountCents, key: request.idempotencyKey, now });
            return new FailAfterCommit(new WalkoutError('PAYMENT_DECLINED', `capture ${request.idempotencyKey}: declined by the card's bank (injected); authorisation ${auth.authorisation_id} is over, nothing was taken`));
          }
          if (auth.status !== 'authorised') throw refused(`capture ${request.idempotencyKey}: authorisation ${auth.authorisation_id} is ${auth.status}; a hold is captured once`);
          if (request.amountCents > auth.amount_cents)
            throw refused(`capture ${request.idempotencyKey}: ${request.amountCents} is above the ${auth.amount_cents} held by ${auth.authorisation_id}; authorise the full amount anew`);
          await tx.query("UPDATE provider_authorisations SET status = 'captured', captured_cents = $2 WHERE authorisation_id = $1", [auth.authorisation_id, request.amountCents]);
          await ledger(tx, { operation: 'capture', authorisationId: auth.authorisation_id, reference: request.reference, amountCents: request.amountCents, key: request.idempotencyKey, now });
          return { outcome: 'captured', captureId: idFor('cap', `${request.idempotencyKey}@${now}`), authorisationId: auth.authorisation_id, amountCents: request.amountCents };
        },
        () => (declined = (faults.captureDeclineRate ?? 0) > 0 && random.chance(faults.captureDeclineRate ?? 0)),
      );
    },

    void(request: VoidRequest): Promise<VoidResult> {
      return handle<VoidResult>('void', request, async (tx, now) => {
        const auth = await endIfExpired(tx, await lockAuthorisation(tx, request.authorisationId, 'void'), now);
        // A hold the processor already let go (or a bank declined at capture) holds nothing: voiding it releases nothing.
        if (auth.status === 'expired' || auth.status === 'declined') return { outcome: 'voided', authorisationId: auth.authorisation_id, releasedCents: 0 };
        if (auth.status !== 'authorised') throw refused(`void ${request.idempotencyKey}: authorisation ${auth.authorisation_id} is ${auth.status}`);
        await tx.query("UPDATE provider_authorisations SET status = 'voided' WHERE authorisation_id = $1", [auth.authorisation_id]);
        await ledger(tx, { operation: 'void', authorisationId: auth.authorisation_id, reference: request.reference, amountCents: auth.amount_cents, key: request.idempotencyKey, now });
        return { outcome: 'voided', authorisationId: auth.authorisation_id, releasedCents: auth.amount_cents };
      });
    },

    refund(request: RefundRequest): Promise<RefundResult> {
      checkAmount(request.amountCents, `refund ${request.idempotencyKey}`);
      return handle<RefundResult>('refund', request, async (tx, now) => {
        const auth = await lockAuthorisation(tx, request.authorisationId, 'refund');
        if (auth.status !== 'captured') throw refused(`refund ${request.idempotencyKey}: authorisation ${auth.authorisation_id} is ${auth.status}, nothing was captured`);
        const left = auth.captured_cents - auth.refunded_cents;
        if (request.amountCents > left) throw refused(`refund ${request.idempotencyKey}: ${request.amountCents} is more than the ${left} left to refund on ${auth.authorisation_id}`);
        await tx.query('UPDATE provider_authorisations SET refunded_cents = refunded_cents + $2 WHERE authorisation_id = $1', [auth.authorisation_id, request.amountCents]);
        await ledger(tx, { operation: 'refund', authorisationId: auth.authorisation_id, reference: request.reference, amountCents: request.amountCents, key: request.idempotencyKey, now });
        return { outcome: 'refunded', refundId: idFor('ref', `${request.idempotencyKey}@${now}`), authorisationId: auth.authorisation_id, amountCents: request.amountCents };
      });
    },

    async purgeExpiredKeys() {
      const { rowCount } = await db.query('DELETE FROM provider_idempotency WHERE created_ms < $1', [clock.now() - IDEMPOTENCY_RETENTION_MS]);
      return rowCount;
    },
  };
}

function timeout(operation: Operation, key: string, when: 'before' | 'after'): WalkoutError {
  // The caller is not told which: a real timeout does not say.
  return new WalkoutError('PAYMENT_TIMEOUT', `${operation} ${key}: no answer from the processor in time (injected, ${when === 'after' ? 'the work may be done' : 'the work may not be done'}); retry with the same key`);
}

/** One movement in the local provider's ledger. */
export interface LedgerEntry {
  readonly operation: 'authorise' | 'capture' | 'void' | 'refund' | 'decline';
  readonly authorisationId: string | null;
  readonly reference: string;
  readonly amountCents: number;
  readonly idempotencyKey: string;
  readonly atMs: number;
}

/** The whole ledger, oldest first: what an auditor (or `walkout checkout chaos`) reads. */
export async function readLedger(db: Queryable): Promise<LedgerEntry[]> {
  const { rows } = await db.query<{ operation: LedgerEntry['operation']; authorisation_id: string | null; reference: string; amount_cents: number; idempotency_key: string; at_ms: number }>(
    'SELECT operation, authorisation_id, reference, amount_cents, idempotency_key, at_ms FROM provider_ledger ORDER BY entry_id',
  );
  return rows.map((row) => ({
    operation: row.operation,
    authorisationId: row.authorisation_id,
    reference: row.reference,
    amountCents: row.amount_cents,
    idempotencyKey: row.idempotency_key,
    atMs: row.at_ms,
  }));
}
