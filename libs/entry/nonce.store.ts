import type { Queryable } from '../db/db.types.ts';
import { MAX_VALIDITY_MS } from './entry.code.ts';

/**
 * Single use of entry codes: a code's nonce is claimed when it lets someone in, and a second claim
 * of the same nonce fails. The claimant is the gate's reading of the code (the gate.code-presented
 * event id), not the code: the bus delivers at least once, and the same reading delivered twice must
 * claim the nonce twice (and give the same answer), while a second reading of the same code (a
 * screenshot at another gate) must not.
 */
export interface NonceClaim {
  readonly accountId: string;
  readonly storeId: string;
  /** When the code was read, store clock, ms. */
  readonly usedAtMs: number;
  /** Who claims: the reading of the code (its event id). The same claimant claiming again succeeds. */
  readonly claimant: string;
}

export interface NonceStore {
  /**
   * Claims a nonce, atomically: true when this claimant now holds it (it was free, or this claimant
   * already held it), false when someone else does.
   */
  claim(nonce: string, claim: NonceClaim): Promise<boolean>;
  /** Forgets nonces used before this store-clock time (their codes have long expired). */
  forgetBefore(ms: number): Promise<void>;
}

/**
 * How long after its use a nonce is kept, ms: longer than any code lives, so that no code can be
 * read twice within its validity and pass, with room for gates whose clocks differ a little.
 */
export const NONCE_KEEP_MS = 4 * MAX_VALIDITY_MS;

/** The in-memory adapter: for unit tests and the embedded store (a restart forgets what was used). */
export class MemoryNonceStore implements NonceStore {
  private readonly claims = new Map<string, NonceClaim>();
  private newestUseMs = -Infinity;

  async claim(nonce: string, claim: NonceClaim): Promise<boolean> {
    const holder = this.claims.get(nonce);
    if (holder) return holder.claimant === claim.claimant;
    this.claims.set(nonce, { ...claim });
    // Memory stays bounded: nonces far older than the newest use cannot matter.
    if (claim.usedAtMs > this.newestUseMs) {
      this.newestUseMs = claim.usedAtMs;
      this.forgetSync(this.newestUseMs - NONCE_KEEP_MS);
    }
    return true;
  }

  async forgetBefore(ms: number): Promise<void> {
    this.forgetSync(ms);
  }

  get size(): number {
    return this.claims.size;
  }

  private forgetSync(ms: number) {
    // Insertion order is roughly use order; stop at the first one still kept.
    for (const [nonce, claim] of this.claims) {
      if (claim.usedAtMs >= ms) break;
      this.claims.delete(nonce);
    }
  }
}

/**
 * The columns this adapter reads and writes, as libs/db's migrations create them (001 and 002):
 * `used_at` is store-clock ms, `claimed_by` the reading that holds the nonce, so that a redelivered
 * reading is recognised. The contract suite runs the adapter on a migrated database, so the two
 * cannot drift apart.
 */
export const USED_ENTRY_NONCES_COLUMNS = ['nonce', 'account_id', 'store_id', 'used_at', 'claimed_by'] as const;

/**
 * The database adapter (PostgreSQL, or PGlite embedded). One statement claims: the insert wins for
 * a free nonce; on a taken one the update applies only when the same claimant holds it, and
 * RETURNING gives a row only when the insert or the update happened. PostgreSQL makes a second
 * concurrent insert of the same key wait for the first and then take the conflict path, so two
 * gates reading one code at the same moment cannot both win.
 */
export class SqlNonceStore implements NonceStore {
  constructor(private readonly db: Queryable) {}

  async claim(nonce: string, claim: NonceClaim): Promise<boolean> {
    const { rows } = await this.db.query(
      `INSERT INTO used_entry_nonces (nonce, account_id, store_id, used_at, claimed_by)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (nonce) DO UPDATE SET claimed_by = excluded.claimed_by
         WHERE used_entry_nonces.claimed_by = excluded.claimed_by
       RETURNING nonce`,
      [nonce, claim.accountId, claim.storeId, claim.usedAtMs, claim.claimant],
    );
    return rows.length === 1;
  }

  async forgetBefore(ms: number): Promise<void> {
    await this.db.query('DELETE FROM used_entry_nonces WHERE used_at < $1', [ms]);
  }
}
