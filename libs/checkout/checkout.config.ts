import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { WalkoutError } from '../contracts/errors.ts';
import { describeIssues } from '../contracts/store.load.ts';
import { HOLD_EXPIRY_MS } from '../payments/payment.types.ts';

/**
 * How checkout takes money, validated once and frozen. The decline policy is the part a shopper
 * feels: a declined charge is tried again after each wait in `declineRetryMs` in turn, then every
 * last wait for ever (the visit stays "payment failed" and the account may not enter meanwhile);
 * `retryPaymentNow` skips the wait when the shopper has changed the card.
 */
const ms = (max: number) => z.number().int().min(1).max(max);
const HOUR_MS = 3_600_000;

export const CheckoutConfigSchema = z
  .strictObject({
    holdCents: z.number().int().min(1).default(5_000).describe('Hold put on the card at entry, minor units, for a store without its own.'),
    holdCentsByStore: z.record(z.string(), z.number().int().min(1)).default({}).describe('Hold per store id.'),
    retry: z
      .strictObject({
        initialMs: ms(60_000).default(200).describe('First wait after a timeout or transient failure.'),
        maxMs: ms(3_600_000).default(30_000).describe('Longest wait between tries.'),
      })
      .prefault({}),
    declineRetryMs: z
      .array(ms(30 * 24 * HOUR_MS))
      .min(1)
      .default([15 * 60_000, HOUR_MS, 6 * HOUR_MS, 24 * HOUR_MS])
      .describe('Waits before trying a declined charge again (a new authorisation each time); the last repeats.'),
    leaseMs: ms(600_000).default(30_000).describe('How long a dispatcher owns an outbox row it took; a dead one\'s rows go to another after this.'),
    pollMs: ms(60_000).default(250).describe('How often the dispatcher looks for due rows (it is also woken by every new row).'),
    deferMs: ms(60_000).default(250).describe('Wait for a charge whose hold is still being authorised.'),
    batch: z.number().int().min(1).max(1_000).default(32).describe('Rows a dispatcher takes at once.'),
    concurrency: z.number().int().min(1).max(256).default(8).describe('Rows a dispatcher works on at once.'),
    localProvider: z
      .strictObject({
        holdExpiryMs: ms(31 * 24 * HOUR_MS).default(HOLD_EXPIRY_MS).describe('How long the local card processor keeps a hold before letting it go uncaptured (7 days, as for card-present).'),
      })
      .prefault({})
      .describe('The local card processor (the default provider).'),
  })
  .superRefine((config, ctx) => {
    if (config.retry.initialMs > config.retry.maxMs) ctx.addIssue({ code: 'custom', path: ['retry', 'initialMs'], message: 'the first wait is longer than the longest wait' });
  });

export type CheckoutConfigInput = z.input<typeof CheckoutConfigSchema>;
export type CheckoutConfig = Readonly<z.output<typeof CheckoutConfigSchema>>;

export function parseCheckoutConfig(input: CheckoutConfigInput = {}, source = 'checkout config'): CheckoutConfig {
  const result = CheckoutConfigSchema.safeParse(input);
  if (!result.success) {
    throw new WalkoutError('CONFIG_INVALID', `${source} is invalid:\n${describeIssues(result.error, source)}`, { details: result.error.issues });
  }
  return Object.freeze(result.data);
}

/** The environment variable naming checkout's settings file (JSON, CheckoutConfigSchema); unset: the defaults. */
export const CHECKOUT_CONFIG_VARIABLE = 'WALKOUT_CHECKOUT_CONFIG';

/**
 * Checkout's settings as a store operator sets them: the JSON file WALKOUT_CHECKOUT_CONFIG names
 * (hold per store, retry and decline policy), validated once; the defaults when it is unset. A file
 * that cannot be read or is not JSON is CONFIG_INVALID naming the file; a bad field names the file
 * and the field.
 */
export function loadCheckoutConfig(env: NodeJS.ProcessEnv = process.env): CheckoutConfig {
  const file = env[CHECKOUT_CONFIG_VARIABLE]?.trim();
  if (!file) return parseCheckoutConfig();
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new WalkoutError('CONFIG_INVALID', `${CHECKOUT_CONFIG_VARIABLE}: cannot read ${file} as JSON: ${(cause as Error).message}`, { cause });
  }
  return parseCheckoutConfig(input as CheckoutConfigInput, `${CHECKOUT_CONFIG_VARIABLE} file ${file}`);
}

/**
 * The environment variable naming this checkout process for its outbox leases (a host or pod name):
 * started again under the same name, it takes back at once the rows its killed life held. One live
 * process per name; unset, a random name (a restarted process waits out its dead life's leases).
 */
export const CHECKOUT_WORKER_VARIABLE = 'WALKOUT_CHECKOUT_WORKER';
const WORKER_PATTERN = /^[A-Za-z0-9._:-]{1,100}$/;

export function loadCheckoutWorker(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const name = env[CHECKOUT_WORKER_VARIABLE]?.trim();
  if (!name) return undefined;
  if (!WORKER_PATTERN.test(name))
    throw new WalkoutError('CONFIG_INVALID', `${CHECKOUT_WORKER_VARIABLE}: "${name}" is not a worker name (1 to 100 letters, digits, '.', '_', ':' or '-')`);
  return name;
}

/** The wait before the n-th retry of a declined charge (n from 1). */
export function declineWaitMs(config: CheckoutConfig, declines: number): number {
  return config.declineRetryMs[Math.min(declines, config.declineRetryMs.length) - 1];
}

/** Exponential backoff with jitter: between half and all of initial·2^(attempt-1), capped. */
export function backoffMs(config: CheckoutConfig, attempt: number, random: () => number): number {
  const ceiling = Math.min(config.retry.maxMs, config.retry.initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
