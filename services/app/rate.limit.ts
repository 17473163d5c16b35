import type { Clock } from '../../libs/clock/clock.ts';

/**
 * A token bucket per key (an account): `burst` requests at once, then one more every `refillMs`.
 * On the injected store clock, so that a test moves time instead of waiting. Buckets that have
 * filled up again are dropped, so memory follows the accounts active in the last few refills.
 */
export interface RateLimit {
  /** Takes one request of `key`: allowed, or refused with how long until the next one is, ms. */
  take(key: string): { allowed: true } | { allowed: false; retryAfterMs: number };
}

export interface RateLimitOptions {
  readonly burst: number;
  readonly refillMs: number;
}

/** Entry codes: five in a row (a phone that retries, a code that expired in the queue), then one every 10 s. */
export const ENTRY_CODE_LIMIT: RateLimitOptions = Object.freeze({ burst: 5, refillMs: 10_000 });
/** Buckets kept before full ones are swept. */
const SWEEP_ABOVE = 10_000;

export function createRateLimit(options: RateLimitOptions, clock: Clock): RateLimit {
  if (!Number.isInteger(options.burst) || options.burst < 1) throw new RangeError(`burst must be a whole number from 1, not ${options.burst}`);
  if (!Number.isInteger(options.refillMs) || options.refillMs < 1) throw new RangeError(`refillMs must be a whole number from 1, not ${options.refillMs}`);
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  const level = (bucket: { tokens: number; atMs: number }, now: number) => Math.min(options.burst, bucket.tokens + (now - bucket.atMs) / options.refillMs);
  const sweep = (now: number) => {
    for (const [key, bucket] of buckets) if (level(bucket, now) >= options.burst) buckets.delete(key);
  };
  return {
    take(key) {
      const now = clock.now();
      if (buckets.size > SWEEP_ABOVE) sweep(now);
      const bucket = buckets.get(key) ?? { tokens: options.burst, atMs: now };
      const tokens = level(bucket, now);
      if (tokens < 1) return { allowed: false, retryAfterMs: Math.ceil((1 - tokens) * options.refillMs) };
      buckets.set(key, { tokens: tokens - 1, atMs: now });
      return { allowed: true };
    },
  };
}
