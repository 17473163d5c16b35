import type { Queryable } from '../db/db.types.ts';
import { accountStanding, type AccountStanding } from '../accounts/accounts.repository.ts';

export type { AccountStanding };

/**
 * Whether an account may come in: not when it is blocked, and not while one of its visits is unpaid
 * (a declined charge still to settle). The accounts live in the database (libs/db); the gate asks
 * through this interface so that it can be tested, and run embedded, without one.
 */
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

/** The database adapter (libs/db, either database): `accountStanding` of libs/accounts. */
export class SqlAccountStatus implements AccountStatus {
  constructor(private readonly db: Queryable) {}

  standing(accountId: string): Promise<AccountStanding> {
    return accountStanding(this.db, accountId);
  }
}
