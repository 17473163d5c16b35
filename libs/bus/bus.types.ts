import type { z } from 'zod';
import { DEAD_LETTER_TOPIC, MessageDeadLettered } from '../contracts/topics.ts';

/**
 * The message bus seen by services: publish with a partition key, subscribe as a consumer group.
 * Delivery is at-least-once and ordered per key; an offset is committed only after its handler
 * succeeded, and not while the consumer holds it (Delivery.hold). Handlers have a deadline and an
 * abort signal. The in-process bus and the Kafka bus both implement exactly this, and one contract
 * suite (bus.contract.test.ts) holds them to it.
 */

/** One topic: its schema, how a message picks its partition key, and optionally its partition count. */
export interface TopicSpec<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  readonly key: (message: z.output<S>) => string;
  readonly description?: string;
  /** Overrides the bus-wide partition count for this topic. */
  readonly partitions?: number;
  /**
   * Kept as the newest message of each key rather than for a time (a state topic, such as what each
   * shelf holds): Kafka's `cleanup.policy=compact` when the bus creates the topic.
   */
  readonly compacted?: boolean;
}

/**
 * The topics a bus knows, by name. Production passes `topics` from libs/contracts; tests pass their
 * own small registries, so they never need fake production topics.
 */
// `any` only lets each entry keep its own schema type; every use goes through MessageOf.
export type TopicRegistry = { readonly [name: string]: TopicSpec<any> };

/** Every bus also carries the dead-letter topic, so operators and tests can subscribe to it. */
export const deadLetterTopics = {
  [DEAD_LETTER_TOPIC]: {
    schema: MessageDeadLettered,
    // Keyed by the source topic, so one topic's dead letters stay in order for whoever reads them.
    key: (message: MessageDeadLettered) => message.sourceTopic,
    description: 'A message no handler could take, with the reason.',
  },
} as const satisfies TopicRegistry;

export type WithDeadLetters<R extends TopicRegistry> = R & typeof deadLetterTopics;
export type TopicOf<R extends TopicRegistry> = keyof R & string;
/** What a handler receives: the schema's output (defaults applied). */
export type MessageOf<R extends TopicRegistry, T extends TopicOf<R>> = z.output<R[T]['schema']>;
/** What a publisher passes: the schema's input. */
export type MessageInputOf<R extends TopicRegistry, T extends TopicOf<R>> = z.input<R[T]['schema']>;

/** One message handed to a handler, with where it came from. `topic` narrows `message`. */
export type Delivery<R extends TopicRegistry, T extends TopicOf<R>> = {
  [K in T]: {
    readonly topic: K;
    readonly message: MessageOf<R, K>;
    readonly key: string | null;
    readonly partition: number;
    /** Offset within the partition: a 64-bit integer as text (Kafka's offsets outgrow a double). */
    readonly offset: string;
    /** 1 on first delivery in this process; more when the handler failed and is being retried. */
    readonly attempt: number;
    /** When the publisher handed it to the bus, wall clock ms. */
    readonly publishedAt: number;
    /**
     * Aborted when this attempt passes its deadline, when the subscription closes, and when the
     * member loses the partition (Kafka, at a rebalance). A handler that waits on something (a
     * database, a publish, a clock) passes it on and gives up when it fires; one that ignores it is
     * left behind after a grace period, its message uncommitted.
     */
    readonly signal: AbortSignal;
    /**
     * Wall clock ms by which this attempt must settle (the subscription's deadlineMs after the
     * handler first waits). Past it the signal is aborted and the attempt counts as failed: retried
     * under the retry policy, then dead-lettered.
     */
    readonly deadline: number;
    /**
     * Keeps this message uncommitted after the handler returns, until the returned function is
     * called. For a consumer whose state holds what the message brought (samples in an open shelf
     * segment, poses of an instant not yet published): it releases the message once what it produced
     * is published. The bus goes on delivering the next messages, and commits each partition only up
     * to its oldest message still held, so a crash, a close or a lost partition hands every held
     * message to the next owner again. Call it while the handler runs; releasing twice, or after the
     * partition has moved on, does nothing.
     */
    hold(): Release;
  };
}[T];

/** Lets a held message be committed (see Delivery.hold). */
export type Release = () => void;

export type Handler<R extends TopicRegistry, T extends TopicOf<R>> = (delivery: Delivery<R, T>) => void | Promise<void>;

/**
 * How hard a subscription tries before dead-lettering. Only failures that can pass are retried:
 * a WalkoutError whose code is not retriable (a malformed cart, say) is dead-lettered at once.
 */
export interface RetryPolicy {
  /** Handler calls per message before it is dead-lettered, first call included. */
  readonly maxAttempts: number;
  /** Wait before the second call; doubles each time up to maxBackoffMs. */
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export interface SubscribeOptions<R extends TopicRegistry, T extends TopicOf<R>> {
  /** Consumer group: members of one group share the partitions; each group sees every message. */
  readonly group: string;
  readonly topics: readonly T[];
  readonly handle: Handler<R, T>;
  /** Overrides the bus-wide retry policy for this subscription. */
  readonly retry?: Partial<RetryPolicy>;
  /**
   * How many partitions this member works on at once (default 1). Order is kept per partition
   * whatever the value; raising it lets a slow handler overlap across keys.
   */
  readonly concurrency?: number;
  /** How long one handler attempt may take, ms; overrides the bus-wide handler.deadlineMs. */
  readonly deadlineMs?: number;
}

export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export interface Subscription {
  readonly group: string;
  /** Stops handing out new messages (the one in flight finishes); for backpressure. */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /** The partitions this member owns right now. */
  assignment(): readonly PartitionRef[];
  /**
   * Tells the handlers in flight (their signal aborts), waits for them at most the bus's close grace,
   * commits what was handled and released, and leaves the group: the partitions move to others, with
   * every message held or left behind still uncommitted.
   */
  close(): Promise<void>;
}

/** What the delivery path counts, the same on both buses. */
export interface BusStats {
  /** Messages given up on and written to the dead-letter topic. */
  readonly deadLettered: number;
  /** Dead letters whose own handler gave up: logged at error level and skipped, never lettered again. */
  readonly deadLettersFailed: number;
  /** Handler attempts that ran past their deadline. */
  readonly deadlinesMissed: number;
  /** Handlers still running a grace period after their subscription closed: left behind, their message uncommitted. */
  readonly handlersAbandoned: number;
}

export interface Bus<R extends TopicRegistry> {
  readonly kind: 'memory' | 'kafka';
  readonly topics: WithDeadLetters<R>;
  /** Connects and creates missing topics (Kafka); must be awaited before publish or subscribe. */
  start(): Promise<void>;
  /**
   * Validates the message against its topic schema (a bad one throws MESSAGE_INVALID here, where the
   * stack points at the publisher) and resolves once the bus holds it durably: appended in memory, or
   * acknowledged by every in-sync replica. Waits while the bus is full (backpressure).
   */
  publish<T extends TopicOf<WithDeadLetters<R>>>(topic: T, message: MessageInputOf<WithDeadLetters<R>, T>): Promise<void>;
  /** Joins the group; resolves once this member has its first assignment. */
  subscribe<T extends TopicOf<WithDeadLetters<R>>>(options: SubscribeOptions<WithDeadLetters<R>, T>): Promise<Subscription>;
  /** Closes every subscription (finishing in-flight work), flushes publishes, disconnects. */
  close(): Promise<void>;
  stats(): BusStats;
}

// The bus logs through the one Logger interface of every service (libs/log); it never writes to the
// console by itself.
export type { Logger as BusLogger } from '../log/logger.ts';
export { silentLogger } from '../log/logger.ts';
