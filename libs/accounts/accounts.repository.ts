import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/db.types.ts';

/**
 * Accounts as the shopper app and the operators see them: a bearer token per account (only its
 * SHA-256 is stored: a token is 32 random bytes, so a plain hash cannot be guessed back, and the
 * table leaked is no token leaked), and a blocked flag with its reason (`blocked_reason`), which
 * the gate refuses and the app answers with ACCOUNT_BLOCKED.
 */

/** Prefix of every token, so that one pasted in the wrong place is recognisable. */
export const TOKEN_PREFIX = 'wo_';
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^wo_[A-Za-z0-9_-]{43}$/;

export interface Account {
  readonly accountId: string;
  readonly blockedReason: string | null;
}

export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Makes a new token for the account (creating the account when it is new) and returns it: the only
 * time it exists in the clear. An earlier token of the account stops working.
 */
export async function issueAccountToken(db: Queryable, accountId: string, nowMs: number): Promise<string> {
  const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url');
  await db.query(
    `INSERT INTO accounts (account_id, created_ms, token_hash) VALUES ($1, $2, $3)
     ON CONFLICT (account_id) DO UPDATE SET token_hash = excluded.token_hash`,
    [accountId, nowMs, tokenHash(token)],
  );
  return token;
}

/** The account a bearer token belongs to, or undefined for anything that is not a live token. */
export async function accountOfToken(db: Queryable, token: string): Promise<Account | undefined> {
  if (!TOKEN_PATTERN.test(token)) return undefined;
  const hash = tokenHash(token);
  const { rows } = await db.query<{ account_id: string; blocked_reason: string | null; token_hash: string }>(
    'SELECT account_id, blocked_reason, token_hash FROM accounts WHERE token_hash = $1',
    [hash],
  );
  const row = rows[0];
  // The index found it by equality; compared again in constant time so that timing says nothing.
  if (!row || !timingSafeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(hash, 'hex'))) return undefined;
  return { accountId: row.account_id, blockedReason: row.blocked_reason };
}

/** Blocks an account (creating it when new): no entry codes, refused at the gate. */
export async function blockAccount(db: Queryable, accountId: string, reason: string, nowMs: number): Promise<void> {
  await db.query(
    `INSERT INTO accounts (account_id, created_ms, blocked_reason) VALUES ($1, $2, $3)
     ON CONFLICT (account_id) DO UPDATE SET blocked_reason = excluded.blocked_reason`,
    [accountId, nowMs, reason],
  );
}

/** Whether an account may come in and get entry codes: not while blocked, nor while one of its visits is unpaid. */
export interface AccountStanding {
  readonly blocked: boolean;
  /** A visit of this account whose charge has not gone through (the oldest), if any. */
  readonly unpaidVisitId?: string;
}

const GOOD_STANDING: AccountStanding = Object.freeze({ blocked: false });

/**
 * An account's standing in one query: blocked while `blocked_reason` is set, owing while one of its
 * visits is `payment-failed` (checkout's declined charge, retried by policy). An account never seen
 * is in good standing: it owes nothing and nobody blocked it.
 */
export async function accountStanding(db: Queryable, accountId: string): Promise<AccountStanding> {
  const { rows } = await db.query<{ blocked: boolean; unpaid_visit_id: string | null }>(
    `SELECT EXISTS (SELECT 1 FROM accounts WHERE account_id = $1 AND blocked_reason IS NOT NULL) AS blocked,
            (SELECT visit_id FROM visits WHERE account_id = $1 AND status = 'payment-failed' ORDER BY updated_ms, visit_id LIMIT 1) AS unpaid_visit_id`,
    [accountId],
  );
  const { blocked, unpaid_visit_id: unpaidVisitId } = rows[0];
  if (!blocked && !unpaidVisitId) return GOOD_STANDING;
  return { blocked, ...(unpaidVisitId ? { unpaidVisitId } : {}) };
}

export async function unblockAccount(db: Queryable, accountId: string): Promise<void> {
  await db.query('UPDATE accounts SET blocked_reason = NULL WHERE account_id = $1', [accountId]);
}
