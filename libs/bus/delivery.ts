import { isUtf8 } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { WalkoutError } from '../contracts/errors.ts';
import { describeIssues } from '../contracts/store.load.ts';
import { DEAD_LETTER_TOPIC, type MessageDeadLettered } from '../contracts/topics.ts';
import { SCHEMA_VERSION } from '../contracts/common.schema.ts';
import type { Logger } from '../log/logger.ts';
import type { BusStats, RetryPolicy, TopicSpec } from './bus.types.ts';

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

/** What the delivery path counts: a bus's BusStats, as the path keeps them up to date. */
export type DeliveryCounters = { -readonly [Field in keyof BusStats]: BusStats[Field] };

export const newDeliveryCounters = (): DeliveryCounters => ({ deadLettered: 0, deadLettersFailed: 0, deadlinesMissed: 0, handlersAbandoned: 0 });

/**
 * The messages of one partition that a consumer holds past its handler (see Delivery.hold), oldest
 * first. The bus commits the partition only up to the oldest one still held. Releases come in any
 * order; the queue only moves its head past released entries, so a hold and a release cost O(1)
 * amortised.
 */
export class HeldOffsets<O extends number | string = number | string> {
  private offsets: O[] = [];
  private released: boolean[] = [];
  /** Index of the oldest entry not yet released, in the arrays. */
  private head = 0;
  /** Entries dropped from the front of the arrays so far: a hold's position is counted from the first hold ever. */
  private dropped = 0;
  private revoked = false;
  /** Holds not yet released. */
  private unreleased = 0;

  /** Unreleased holds. */
  get size(): number {
    return this.unreleased;
  }

  get empty(): boolean {
    return this.head === this.offsets.length;
  }

  /** The oldest offset still held, or undefined. */
  oldest(): O | undefined {
    return this.head < this.offsets.length ? this.offsets[this.head] : undefined;
  }

  /**
   * Holds an offset; offsets must come in delivery order (never older than one held before). Returns
   * the release, which is safe to call twice, and does nothing once the partition has moved on.
   */
  hold(offset: O, onRelease?: () => void): () => void {
    if (this.revoked) return () => undefined;
    const position = this.dropped + this.offsets.length;
    this.offsets.push(offset);
    this.released.push(false);
    this.unreleased++;
    return () => {
      const index = position - this.dropped;
      if (this.revoked || index < this.head || this.released[index]) return;
      this.released[index] = true;
      this.unreleased--;
      const before = this.head;
      while (this.head < this.offsets.length && this.released[this.head]) this.head++;
      if (this.head > COMPACT_AFTER_HOLDS && this.head * 2 > this.offsets.length) {
        // Drop the released front now and then, so a long-lived partition does not keep every offset it held.
        this.offsets = this.offsets.slice(this.head);
        this.released = this.released.slice(this.head);
        this.dropped += this.head;
        this.head = 0;
      }
      if (this.head !== before) onRelease?.();
    };
  }

  /** The partition went to another owner (or this one left): every hold is void, releases do nothing. */
  revoke(): void {
    this.revoked = true;
    this.offsets = [];
    this.released = [];
    this.head = 0;
    this.unreleased = 0;
  }
}

/** Released holds kept at the front of a HeldOffsets before they are dropped. */
const COMPACT_AFTER_HOLDS = 1024;

/**
 * The member, or the partition of a member, that handlers run under: aborted when the subscription
 * closes or the member loses the partition. Every handler attempt in flight is told through its own
 * signal and then has `graceMs` to finish; one that is still running after that is left behind (its
 * message stays uncommitted for the next owner), so nothing can block a close for ever.
 */
export class HandlerScope {
  private readonly controller = new AbortController();
  /** Attempts whose handler returned a promise that has not settled. */
  readonly inFlight = new Set<(reason: unknown) => void>();

  constructor(
    readonly group: string,
    /** How long one handler attempt may take, ms. */
    readonly deadlineMs: number,
    readonly graceMs: number,
    readonly counters: DeliveryCounters,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  abort(reason: unknown): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(reason);
    for (const tell of [...this.inFlight]) tell(reason);
  }
}

/** What every delivery of one partition to one member shares: made once, not per message. */
export interface AttemptContext {
  readonly scope: HandlerScope;
  /** Where the partition's held messages are kept (for this owner). */
  readonly held: HeldOffsets;
  /** Called when a release lets the partition commit further. */
  readonly onRelease: () => void;
}

/**
 * One attempt at handling one message: what a handler receives (the Delivery of bus.types.ts). A class,
 * not a literal, so that the abort signal is made only for handlers that look at it, the offset is
 * turned into text only for handlers that read it, and the clock is read only for handlers that
 * wait: a synchronous handler pays for none of it.
 */
export class HandlerAttempt {
  /** Wall clock when the attempt started waiting (0: not yet known). */
  startedAt = 0;
  settled = false;
  /** Made when the handler asks for its signal, or when the attempt is aborted. */
  private aborting: { controller: AbortController | null; reason: unknown } | null = null;

  constructor(
    readonly topic: string,
    readonly message: unknown,
    readonly key: string | null,
    readonly partition: number,
    /** The offset: a number on the in-process bus, text (64 bits) on Kafka. */
    private readonly position: number | string,
    readonly attempt: number,
    readonly publishedAt: number,
    private readonly context: AttemptContext,
  ) {}

  get offset(): string {
    return typeof this.position === 'string' ? this.position : String(this.position);
  }

  get signal(): AbortSignal {
    this.aborting ??= { controller: null, reason: undefined };
    if (!this.aborting.controller) {
      const controller = (this.aborting.controller = new AbortController());
      const { scope } = this.context;
      const reason = this.aborting.reason !== undefined ? this.aborting.reason : scope.aborted ? scope.signal.reason : undefined;
      if (reason !== undefined) controller.abort(reason);
    }
    return this.aborting.controller.signal;
  }

  /**
   * Counted from the moment the handler first waits (or first asks): the synchronous part of a
   * handler cannot be interrupted anyway, and most handlers never wait, so most never read the clock.
   */
  get deadline(): number {
    if (this.startedAt === 0) this.startedAt = Date.now();
    return this.startedAt + this.context.scope.deadlineMs;
  }

  hold(): () => void {
    if (this.settled)
      throw new WalkoutError(
        'USAGE',
        `${this.topic}/${this.partition}/${this.offset}: hold() must be called while the handler runs, before it returns; this message may already be committed`,
      );
    return this.context.held.hold(this.position, this.context.onRelease);
  }

  abort(reason: unknown): void {
    this.aborting ??= { controller: null, reason: undefined };
    if (this.aborting.reason !== undefined) return;
    this.aborting.reason = reason;
    this.aborting.controller?.abort(reason);
  }

  /** The next attempt at the same message: a fresh signal and deadline (a handler may have kept this one). */
  retry(): HandlerAttempt {
    return new HandlerAttempt(this.topic, this.message, this.key, this.partition, this.position, this.attempt + 1, this.publishedAt, this.context);
  }
}

const HANDLED_FIRST_TIME: Outcome = Object.freeze({ kind: 'handled', attempts: 1 });

function isThenable(value: unknown): value is PromiseLike<void> {
  return value !== undefined && value !== null && typeof (value as PromiseLike<void>).then === 'function';
}

type Waited = { kind: 'ok' } | { kind: 'failed'; error: unknown } | { kind: 'abandoned' };
const WAITED_OK: Waited = Object.freeze({ kind: 'ok' });

/**
 * Waits for an attempt's promise, but not past its deadline (then its signal is aborted and the
 * attempt counts as failed), nor past the scope's grace once the scope is aborted (then it is left
 * behind: the message stays uncommitted).
 */
function waitForAttempt(attempt: HandlerAttempt, pending: PromiseLike<void>, scope: HandlerScope): Promise<Waited> {
  return new Promise<Waited>((resolve) => {
    if (attempt.startedAt === 0) attempt.startedAt = Date.now();
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (result: Waited) => {
      if (attempt.settled) return;
      attempt.settled = true;
      clearTimeout(deadlineTimer);
      clearTimeout(graceTimer);
      scope.inFlight.delete(onScopeAbort);
      resolve(result);
    };
    const deadlineTimer = setTimeout(
      () => {
        const error = new WalkoutError(
          'HANDLER_TIMEOUT',
          `group ${scope.group}: the handler of ${attempt.topic}/${attempt.partition}/${attempt.offset} (attempt ${attempt.attempt}) did not settle within its ${scope.deadlineMs} ms deadline`,
        );
        attempt.abort(error);
        scope.counters.deadlinesMissed++;
        finish({ kind: 'failed', error });
      },
      Math.max(0, attempt.startedAt + scope.deadlineMs - Date.now()),
    );
    const onScopeAbort = (reason: unknown) => {
      attempt.abort(reason);
      graceTimer ??= setTimeout(() => {
        scope.counters.handlersAbandoned++;
        finish({ kind: 'abandoned' });
      }, scope.graceMs);
    };
    if (scope.aborted) onScopeAbort(scope.signal.reason);
    else scope.inFlight.add(onScopeAbort);
    pending.then(
      () => finish(WAITED_OK),
      (error: unknown) => finish({ kind: 'failed', error }),
    );
  });
}

/**
 * Calls the handler until it succeeds, the policy runs out, or the error says retrying cannot help.
 * The first call is made synchronously and, when the handler is synchronous and succeeds, the
 * outcome is returned as a plain value: no promise is made for the common case, which is what lets
 * the in-process bus reach its rate.
 */
export function runWithRetry(
  handle: (delivery: HandlerAttempt) => void | Promise<void>,
  first: HandlerAttempt,
  policy: RetryPolicy,
  scope: HandlerScope,
): Outcome | Promise<Outcome> {
  let result: void | Promise<void>;
  try {
    result = handle(first);
  } catch (error) {
    first.settled = true;
    return retryAfterFailure(handle, first, policy, scope, error);
  }
  if (!isThenable(result)) {
    first.settled = true;
    return HANDLED_FIRST_TIME;
  }
  return waitForAttempt(first, result, scope).then((waited) =>
    waited.kind === 'ok'
      ? HANDLED_FIRST_TIME
      : waited.kind === 'abandoned'
        ? { kind: 'aborted', attempts: 1 }
        : retryAfterFailure(handle, first, policy, scope, waited.error),
  );
}

async function retryAfterFailure(
  handle: (delivery: HandlerAttempt) => void | Promise<void>,
  first: HandlerAttempt,
  policy: RetryPolicy,
  scope: HandlerScope,
  firstError: unknown,
): Promise<Outcome> {
  let error = firstError;
  let current = first;
  for (let attempt = 1; ; attempt++) {
    // Leaving (or losing the partition) wins over giving up: the next owner tries again.
    if (scope.aborted) return { kind: 'aborted', attempts: attempt };
    if (!isRetriable(error) || attempt >= policy.maxAttempts) return { kind: 'gave-up', attempts: attempt, error };
    try {
      await sleep(backoffMs(policy, attempt), undefined, { signal: scope.signal });
    } catch {
      return { kind: 'aborted', attempts: attempt };
    }
    current = current.retry();
    let result: void | Promise<void>;
    try {
      result = handle(current);
    } catch (next) {
      current.settled = true;
      error = next;
      continue;
    }
    if (!isThenable(result)) {
      current.settled = true;
      return { kind: 'handled', attempts: attempt + 1 };
    }
    const waited = await waitForAttempt(current, result, scope);
    if (waited.kind === 'ok') return { kind: 'handled', attempts: attempt + 1 };
    if (waited.kind === 'abandoned') return { kind: 'aborted', attempts: attempt + 1 };
    error = waited.error;
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

/**
 * What becomes of a message given up on: a dead letter, logged and counted, or, when the message is
 * itself a dead letter, only an error line (with the letter's id) and a count. A reader of the
 * dead-letter topic that keeps failing would otherwise turn each letter into another letter, without
 * end (one bad message made 35 letters in 2 s). Returns the letter to publish, or null.
 */
export function giveUp(source: DeadLetterSource, message: unknown, now: number, logger: Logger, counters: DeliveryCounters): MessageDeadLettered | null {
  const where = { topic: source.sourceTopic, partition: source.partition, offset: source.offset, group: source.group };
  if (isDeadLetterTopic(source.sourceTopic)) {
    counters.deadLettersFailed++;
    const letterId = (message as Partial<MessageDeadLettered> | undefined)?.eventId ?? null;
    logger.error('a dead letter could not be handled; it is skipped, not dead-lettered again', {
      ...where,
      letterId,
      attempts: source.attempts,
      error: errorSummary(source.error).message,
    });
    return null;
  }
  const letter = deadLetterRecord(source, now);
  counters.deadLettered++;
  logger.warn('message dead-lettered', { ...where, reason: letter.reason, error: letter.error.message });
  return letter;
}
