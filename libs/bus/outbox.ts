import type { Logger } from '../log/logger.ts';

/** One message a service produced and has yet to publish. */
export interface OutboxMessage {
  readonly topic: string;
  readonly message: { readonly eventId: string };
}

export interface OutboxOptions<M extends OutboxMessage> {
  /** Only publish is used; typed loosely so that any service's bus, whatever its topics, fits. */
  bus: { publish(topic: never, message: never): Promise<void> };
  logger: Logger;
  /** Logged when a publish fails: who could not publish, and what stays uncommitted ("shelf service ... the samples behind it stay uncommitted"). */
  failureMessage: string;
  /** Called once a message is on the bus, in order (for counts, and to release what it settled). */
  onPublished?: (published: M) => void;
  /** Called when a publish fails, before the error is thrown. */
  onFailure?: (failed: M, error: unknown) => void;
}

/**
 * The messages a service produced, published in the order they were produced, one publish at a
 * time. A publish that fails leaves that message and everything after it in the outbox and throws,
 * so the handler that asked fails, its message stays uncommitted and the bus delivers it again; the
 * next publish() starts again from the message that failed. Concurrent publish() calls wait for the
 * one running, so the order holds whoever calls.
 */
export interface Outbox<M extends OutboxMessage> {
  push(...messages: M[]): void;
  /** Messages produced and not yet published. */
  readonly size: number;
  publish(): Promise<void>;
  /** Messages published so far, per topic: what a reader of those topics should have seen once it has caught up. */
  publishedByTopic(): Record<string, number>;
}

export function createOutbox<M extends OutboxMessage>(options: OutboxOptions<M>): Outbox<M> {
  const { bus, logger, failureMessage } = options;
  const waiting: M[] = [];
  const published: Record<string, number> = {};
  let publishing: Promise<void> | null = null;

  const publishAll = async () => {
    while (waiting.length > 0) {
      const [next] = waiting;
      try {
        await bus.publish(next.topic as never, next.message as never);
      } catch (error) {
        options.onFailure?.(next, error);
        logger.error(failureMessage, { topic: next.topic, eventId: next.message.eventId, error: (error as Error)?.message ?? String(error) });
        throw error;
      }
      waiting.shift();
      published[next.topic] = (published[next.topic] ?? 0) + 1;
      options.onPublished?.(next);
    }
  };

  return {
    push: (...messages) => {
      waiting.push(...messages);
    },
    get size() {
      return waiting.length;
    },
    publishedByTopic: () => ({ ...published }),
    publish: async () => {
      while (publishing) await publishing;
      if (waiting.length === 0) return;
      publishing = publishAll();
      try {
        await publishing;
      } finally {
        publishing = null;
      }
    },
  };
}
