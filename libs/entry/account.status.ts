import type { Queryable } from '../db/db.types.ts';

/**
 * Whether an account may come in: not when it is blocked, and not while one of its visits is unpaid
 * (a declined charge still to settle). The accounts live in the database (libs/db); the gate asks
 * through this interface so that it can be tested, and run embedded, without one.
 */
export interface AccountStanding {
  readonly blocked: boolean;
  /** A visit of this account whose charge has not gone through, if any. */
  readonly unpaidVisitId?: string;
}

export interface AccountStatus {
  standing(accountId: string): Promise<AccountStanding>;
}

const GOOD_STANDING: AccountStanding = Object.freeze({ blocked: false });

/** The in-memory adapter: every account in good standing unless a test (or the embedded store) says otherwise. */
export class MemoryAccountStatus implements AccountStatus {
  private readonly blocked = new Set<string>();
  private readonly unpaid = new Map<string, string>();

  async standing(accountId: string): Promise<AccountStanding> {
    const unpaidVisitId = this.unpaid.get(accountId);
    if (!this.blocked.has(accountId) && !unpaidVisitId) return GOOD_STANDING;
    return { blocked: this.blocked.has(accountId), ...(unpaidVisitId ? { unpaidVisitId } : {}) };
  }

  block(accountId: string): void {
    this.blocked.add(accountId);
  }

  unblock(accountId: string): void {
    this.blocked.delete(accountId);
  }

  owe(accountId: string, visitId: string): void {
    this.unpaid.set(accountId, visitId);
  }

  settle(accountId: string): void {
    this.unpaid.delete(accountId);
  }
}

/**
 * The database adapter (libs/db, either database): an account is blocked while `accounts.blocked_reason`
 * is set, and owes a visit while one of its visits is `payment-failed` (checkout's declined charge,
 * retried by policy; the oldest is named). An account the database has never seen is in good
 * standing: it has nothing to pay and nobody blocked it.
 */
export class SqlAccountStatus implements AccountStatus {
  constructor(private readonly db: Queryable) {}

  async standing(accountId: string): Promise<AccountStanding> {
    const { rows } = await this.db.query<{ blocked: boolean; unpaid_visit_id: string | null }>(
      `SELECT EXISTS (SELECT 1 FROM accounts WHERE account_id = $1 AND blocked_reason IS NOT NULL) AS blocked,
              (SELECT visit_id FROM visits WHERE account_id = $1 AND status = 'payment-failed' ORDER BY updated_ms, visit_id LIMIT 1) AS unpaid_visit_id`,
      [accountId],
    );
    const { blocked, unpaid_visit_id: unpaidVisitId } = rows[0];
    if (!blocked && !unpaidVisitId) return GOOD_STANDING;
    return { blocked, ...(unpaidVisitId ? { unpaidVisitId } : {}) };
  }
}
