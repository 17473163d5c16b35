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

export async function unblockAccount(db: Queryable, accountId: string): Promise<void> {
  await db.query('UPDATE accounts SET blocked_reason = NULL WHERE account_id = $1', [accountId]);
}
