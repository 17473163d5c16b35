import type { Clock } from '../../libs/clock/clock.ts';
import type { Queryable } from '../../libs/db/db.types.ts';

/**
 * A rate limit per key (an account), counted in the database so that every app process behind a
 * load balancer counts the same requests: `burst` requests at once, then one more every `refillMs`.
 *
 * It is a token bucket kept as one number, the generic cell rate algorithm: `tat_ms` (table
 * `rate_limits`, migration 003) is when the bucket would be full again. A request at `now` is
 * allowed while that lies at most (burst - 1) refills ahead, and moves it one refill on; the check
 * and the move are one statement, so requests of one key from several processes take turns on its
 * row. On the injected store clock, so that a test moves time instead of waiting. A key keeps one
 * row (an account, one a purpose), so nothing needs sweeping.
 */
export interface RateLimit {
  /** Takes one request of `key`: allowed, or refused with how long until the next one is, ms. */
  take(key: string): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }>;
}

export interface RateLimitOptions {
  readonly burst: number;
  readonly refillMs: number;
}

/** Entry codes: five in a row (a phone that retries, a code that expired in the queue), then one every 10 s. */
export const ENTRY_CODE_LIMIT: RateLimitOptions = Object.freeze({ burst: 5, refillMs: 10_000 });

/** `scope` names what is limited (`entry-codes`): keys of different limits never share a row. */
export function createRateLimit(db: Queryable, scope: string, options: RateLimitOptions, clock: Clock): RateLimit {
  if (!Number.isInteger(options.burst) || options.burst < 1) throw new RangeError(`burst must be a whole number from 1, not ${options.burst}`);
  if (!Number.isInteger(options.refillMs) || options.refillMs < 1) throw new RangeError(`refillMs must be a whole number from 1, not ${options.refillMs}`);
  const aheadMs = (options.burst - 1) * options.refillMs;
  return {
    async take(key) {
      const now = clock.now();
      const limitKey = `${scope}/${key}`;
      const taken = await db.query(
        `INSERT INTO rate_limits (limit_key, tat_ms) VALUES ($1, $2::bigint + $3::bigint)
         ON CONFLICT (limit_key) DO UPDATE SET tat_ms = greatest(rate_limits.tat_ms, $2::bigint) + $3::bigint
         WHERE greatest(rate_limits.tat_ms, $2::bigint) - $2::bigint <= $4::bigint`,
        [limitKey, now, options.refillMs, aheadMs],
      );
      if (taken.rowCount > 0) return { allowed: true };
      const { rows } = await db.query<{ tat_ms: number }>('SELECT tat_ms FROM rate_limits WHERE limit_key = $1', [limitKey]);
      return { allowed: false, retryAfterMs: Math.max(1, (rows[0]?.tat_ms ?? now) - now - aheadMs) };
    },
  };
}
