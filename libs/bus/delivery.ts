import { isUtf8 } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { WalkoutError } from '../contracts/errors.ts';
import { describeIssues } from '../contracts/store.load.ts';
import { DEAD_LETTER_TOPIC, type MessageDeadLettered } from '../contracts/topics.ts';
import { SCHEMA_VERSION } from '../contracts/common.schema.ts';
import type { RetryPolicy, TopicSpec } from './bus.types.ts';

/**
 * What both buses do with one message once it reaches a consumer: validate it, call the handler under
 * the retry policy, and describe a give-up as a dead letter. Sharing it is what keeps the in-process
 * and the Kafka bus behaving the same.
 */

export type Decoded = { ok: true; message: unknown } | { ok: false; error: WalkoutError };

/** Validates a value already in memory (the in-process bus keeps objects, not bytes). */
export function validate(topic: string, spec: TopicSpec, value: unknown): Decoded {
  // parse, not safeParse: it allocates less per call, and a bad message is the exception.
  try {
    return { ok: true, message: spec.schema.parse(value) };
  } catch (error) {
    if (error instanceof z.ZodError) return { ok: false, error: invalidMessage(topic, error) };
    throw error;
  }
}

/** Validates and freezes: what every handler receives is read-only, in both buses. */
export function validateFrozen(topic: string, spec: TopicSpec, value: unknown): Decoded {
  const result = validate(topic, spec, value);
  if (result.ok) deepFreeze(result.message);
  return result;
}

/**
 * Messages are facts that happened; a handler that changes one is a bug. In the in-process bus all
 * groups share one object, so it is frozen (objects and arrays, all the way down); the Kafka bus
 * freezes too, so a handler that mutates fails the same way on both.
 */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key in value) {
      const child = (value as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') deepFreeze(child);
    }
  }
  return value;
}

/** Decodes bytes off the wire (JSON), validates and freezes them. */
export function decode(topic: string, spec: TopicSpec, value: Buffer | null): Decoded {
  if (value === null) return { ok: false, error: new WalkoutError('MESSAGE_INVALID', `${topic}: message has no value`) };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (cause) {
    return {
      ok: false,
      error: new WalkoutError('MESSAGE_INVALID', `${topic}: message is not JSON: ${(cause as Error).message}`, { cause }),
    };
  }
  return validateFrozen(topic, spec, json);
}

export function invalidMessage(topic: string, error: z.ZodError): WalkoutError {
  return new WalkoutError('MESSAGE_INVALID', `message does not match its topic schema:\n${describeIssues(error, topic)}`, {
    details: error.issues,
  });
}

/** Unknown errors are assumed transient: a retry is cheap, a wrongly dead-lettered payment is not. */
export function isRetriable(error: unknown): boolean {
  return error instanceof WalkoutError ? error.retriable : true;
}

export function errorSummary(error: unknown): { code: string; message: string } {
  if (error instanceof WalkoutError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: 'HANDLER_FAILED', message: `${error.name}: ${error.message}` };
  return { code: 'HANDLER_FAILED', message: String(error) };
}

/** Delay before call number `attempt + 1`, exponential with a cap; no jitter, partitions retry independently. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1));
}

export type Outcome =
  | { kind: 'handled'; attempts: number }
  | { kind: 'gave-up'; attempts: number; error: unknown }
  /** The member is leaving or lost the partition: leave the message uncommitted for the next owner. */
  | { kind: 'aborted'; attempts: number };

export interface RetryControl {
  /** Aborted when the subscription closes or the partition is taken away. */
  readonly signal: AbortSignal;
  /** Called between attempts (Kafka heartbeats here, so a long backoff does not cost the partition). */
  readonly between?: () => Promise<void>;
}

const HANDLED_FIRST_TIME: Outcome = Object.freeze({ kind: 'handled', attempts: 1 });

function isThenable(value: unknown): value is PromiseLike<void> {
  return value !== undefined && value !== null && typeof (value as PromiseLike<void>).then === 'function';
}

/**
 * Calls the handler until it succeeds, the policy runs out, or the error says retrying cannot help.
 * The first call is made synchronously and, when the handler is synchronous and succeeds, the
 * outcome is returned as a plain value: no promise is made for the common case, which is what lets
 * the in-process bus reach its rate.
 */
export function runWithRetry<D extends { readonly attempt: number }>(
  handle: (delivery: D) => void | Promise<void>,
  first: D,
  policy: RetryPolicy,
  control: RetryControl,
): Outcome | Promise<Outcome> {
  try {
    const result = handle(first);
    if (!isThenable(result)) return HANDLED_FIRST_TIME;
    return Promise.resolve(result).then(
      () => HANDLED_FIRST_TIME,
      (error: unknown) => retryAfterFailure(handle, first, policy, control, error),
    );
  } catch (error) {
    return retryAfterFailure(handle, first, policy, control, error);
  }
}

async function retryAfterFailure<D extends { readonly attempt: number }>(
  handle: (delivery: D) => void | Promise<void>,
  first: D,
  policy: RetryPolicy,
  control: RetryControl,
  firstError: unknown,
): Promise<Outcome> {
  let error = firstError;
  for (let attempt = 1; ; attempt++) {
    if (!isRetriable(error) || attempt >= policy.maxAttempts) return { kind: 'gave-up', attempts: attempt, error };
    if (control.signal.aborted) return { kind: 'aborted', attempts: attempt };
    try {
      await sleep(backoffMs(policy, attempt), undefined, { signal: control.signal });
    } catch {
      return { kind: 'aborted', attempts: attempt };
    }
    if (control.between) await control.between();
    if (control.signal.aborted) return { kind: 'aborted', attempts: attempt };
    try {
      // A fresh delivery per attempt: a handler may have kept the previous one.
      await handle({ ...first, attempt: attempt + 1 });
      return { kind: 'handled', attempts: attempt + 1 };
    } catch (next) {
      error = next;
    }
  }
}

export interface DeadLetterSource {
  readonly reason: MessageDeadLettered['reason'];
  readonly error: unknown;
  readonly sourceTopic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly group: string;
  readonly attempts: number;
  /** Bytes as they came off the wire, or the in-memory value. */
  readonly payload: Buffer | unknown;
  readonly publishedAt: number | null;
}

/**
 * A dead letter must itself fit on the bus (Kafka refuses messages over about 1 MB by default): a
 * letter that cannot be written would stop its consumer. Longer payloads are cut, and the error says so.
 */
export const MAX_DEAD_LETTER_PAYLOAD_CHARS = 512 * 1024;

export function deadLetterRecord(source: DeadLetterSource, now: number): MessageDeadLettered {
  const text = payloadText(source.payload);
  const error = errorSummary(source.error);
  let payload = text.payload;
  if (payload.length > MAX_DEAD_LETTER_PAYLOAD_CHARS) {
    error.message += ` (payload cut from ${payload.length} to ${MAX_DEAD_LETTER_PAYLOAD_CHARS} characters)`;
    payload = payload.slice(0, MAX_DEAD_LETTER_PAYLOAD_CHARS);
  }
  return {
    schemaVersion: SCHEMA_VERSION,
    eventId: `${source.group}/${source.sourceTopic}/${source.partition}/${source.offset}`,
    reason: source.reason,
    error,
    sourceTopic: source.sourceTopic,
    partition: source.partition,
    offset: source.offset,
    key: source.key,
    group: source.group,
    attempts: source.attempts,
    payload,
    payloadEncoding: text.payloadEncoding,
    publishedAt: source.publishedAt,
    deadLetteredAt: now,
  };
}

function payloadText(value: unknown): { payload: string; payloadEncoding: 'utf8' | 'base64' } {
  if (Buffer.isBuffer(value))
    return isUtf8(value) ? { payload: value.toString('utf8'), payloadEncoding: 'utf8' } : { payload: value.toString('base64'), payloadEncoding: 'base64' };
  if (typeof value === 'string') return { payload: value, payloadEncoding: 'utf8' };
  try {
    return { payload: JSON.stringify(value) ?? String(value), payloadEncoding: 'utf8' };
  } catch {
    // Cycles or BigInts: keep what can be kept rather than lose the letter.
    return { payload: String(value), payloadEncoding: 'utf8' };
  }
}

export function isDeadLetterTopic(topic: string): boolean {
  return topic === DEAD_LETTER_TOPIC;
}
