import type { EntryRefusalReason } from '../contracts/events.schema.ts';
import { systemClock, type Clock } from '../clock/clock.ts';
import type { AccountStatus } from './account.status.ts';
import { decodeEntryCode, MAX_VALIDITY_MS, signatureHolds, signEntryCode, type EntryCodeFields } from './entry.code.ts';
import type { EntryKeyRing } from './entry.keys.ts';
import type { NonceStore } from './nonce.store.ts';

/**
 * Checking an entry code, in the order that says the most about it: is it a code at all
 * (malformed), is it ours (forged: unknown or retired key, or a signature that does not hold), is
 * it for this store (wrong-store), is it valid now on the store clock (expired), may its account
 * come in (account-blocked, unpaid-visit), and has it let someone in already (used). Only a code
 * that passes all of them claims its nonce, so a refused code is not spent.
 *
 * Nothing here throws on what a code says: every outcome is a verdict.
 */

/** A code issued up to this far ahead of the store clock still counts (the issuer's clock may run a little ahead), ms. */
export const CLOCK_SKEW_MS = 2_000;

export type EntryVerdict =
  | { readonly admitted: true; readonly code: EntryCodeFields }
  | {
      readonly admitted: false;
      readonly reason: EntryRefusalReason;
      readonly detail: string;
      /** What the code says, only when its signature holds: a forged code's fields mean nothing. */
      readonly code?: EntryCodeFields;
    };

export type CodeCheck = EntryVerdict;

const refuse = (reason: EntryRefusalReason, detail: string, code?: EntryCodeFields): EntryVerdict => ({ admitted: false, reason, detail, ...(code ? { code } : {}) });

/**
 * The checks that need nothing but the keys and the time: malformed, forged, wrong-store, expired.
 * `atMs` is when the code was read (store clock). Pure and synchronous: the property test's target.
 */
export function checkEntryCode(text: unknown, context: { keys: EntryKeyRing; storeId: string; atMs: number }): EntryVerdict {
  const decoded = decodeEntryCode(text);
  if (!decoded.ok) return refuse('malformed', decoded.detail);
  const { fields } = decoded.code;
  const key = context.keys.verificationKey(fields.keyId);
  if (key.state === 'unknown') return refuse('forged', `signed with key "${fields.keyId}", which this gate does not know`);
  if (key.state === 'retired') return refuse('forged', `signed with key "${fields.keyId}", which is retired`);
  if (!signatureHolds(decoded.code, key.key)) return refuse('forged', `the signature does not hold for key "${fields.keyId}"`);
  if (fields.storeId !== context.storeId) return refuse('wrong-store', `issued for store ${fields.storeId}; this is ${context.storeId}`, fields);
  if (context.atMs < fields.issuedAtMs - CLOCK_SKEW_MS) return refuse('expired', `issued ${fields.issuedAtMs - context.atMs} ms ahead of the store clock`, fields);
  const expiresAtMs = fields.issuedAtMs + fields.validForMs;
  if (context.atMs >= expiresAtMs) return refuse('expired', `expired ${context.atMs - expiresAtMs} ms before it was read`, fields);
  return { admitted: true, code: fields };
}

export interface EntryVerifierDependencies {
  keys: EntryKeyRing;
  /** The store this gate lets people into. */
  storeId: string;
  nonces: NonceStore;
  accounts: AccountStatus;
  /** The store clock; used when a reading does not say when it was made. */
  clock?: Clock;
}

export interface EntryVerifier {
  /**
   * The whole verdict on a reading of a code, spending its nonce when it admits. `claimant` names the
   * reading (the same reading delivered again gets the same verdict); `atMs` is when it was read.
   */
  admit(text: unknown, reading: { claimant: string; atMs?: number }): Promise<EntryVerdict>;
}

export function createEntryVerifier(deps: EntryVerifierDependencies): EntryVerifier {
  const clock = deps.clock ?? systemClock;
  return {
    async admit(text, reading) {
      const atMs = reading.atMs ?? clock.now();
      const checked = checkEntryCode(text, { keys: deps.keys, storeId: deps.storeId, atMs });
      if (!checked.admitted) return checked;
      const { code } = checked;
      const standing = await deps.accounts.standing(code.accountId);
      if (standing.blocked) return refuse('account-blocked', `account ${code.accountId} is blocked`, code);
      if (standing.unpaidVisitId) return refuse('unpaid-visit', `account ${code.accountId} has visit ${standing.unpaidVisitId} to settle first`, code);
      const claimed = await deps.nonces.claim(code.nonce, { accountId: code.accountId, storeId: code.storeId, usedAtMs: atMs, claimant: reading.claimant });
      if (!claimed) return refuse('used', `this code already let someone in`, code);
      return checked;
    },
  };
}

export interface IssuedEntryCode {
  /** The text to show as a QR code. */
  readonly code: string;
  readonly nonce: string;
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
}

export interface EntryIssuer {
  issue(request: { accountId: string; storeId: string }): IssuedEntryCode;
}

/**
 * Signs codes with the active key (the app API's side). `validForMs` is how long a code lasts, at
 * most MAX_VALIDITY_MS.
 */
export function createEntryIssuer(deps: { keys: EntryKeyRing; clock?: Clock; validForMs?: number }): EntryIssuer {
  const clock = deps.clock ?? systemClock;
  const validForMs = deps.validForMs ?? MAX_VALIDITY_MS;
  if (!Number.isInteger(validForMs) || validForMs < 1 || validForMs > MAX_VALIDITY_MS) throw new RangeError(`entry codes last 1 to ${MAX_VALIDITY_MS} ms, not ${validForMs}`);
  const signing = deps.keys.signingKey();
  if (!signing) throw new RangeError('no active entry-code key with a private key is configured: this process cannot issue codes');
  return {
    issue({ accountId, storeId }) {
      const issuedAtMs = clock.now();
      const code = signEntryCode({ keyId: signing.keyId, accountId, storeId, issuedAtMs, validForMs }, signing.key);
      const decoded = decodeEntryCode(code);
      // Our own layout read back: it cannot fail unless the layout code is broken.
      if (!decoded.ok) throw new Error(`entry code layout broken: ${decoded.detail}`);
      return { code, nonce: decoded.code.fields.nonce, issuedAtMs, expiresAtMs: issuedAtMs + validForMs };
    },
  };
}
