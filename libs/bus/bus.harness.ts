import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import { parseBusConfig, type BusConfigInput } from './bus.config.ts';
import type { Logger } from '../log/logger.ts';
import type { Bus, TopicRegistry, TopicSpec } from './bus.types.ts';
import { createKafkaBus } from './kafka.bus.ts';
import { createMemoryBus, type MemoryBus } from './memory.bus.ts';

/**
 * What the bus tests share: a small test topic (so no test needs a fake production topic), the
 * broker lookup with CI's rule, and one way per bus to build it and to write a raw message.
 */

export const Ticket = z.strictObject({
  schemaVersion: z.literal(1),
  eventId: z.string().min(1),
  key: z.string().min(1).describe('Partition key: what must stay in order.'),
  seq: z.number().int().nonnegative().describe('Position within its key, from 0.'),
  note: z.string().optional(),
});
export type Ticket = z.infer<typeof Ticket>;

export const ticketSpec = { schema: Ticket, key: (ticket: Ticket) => ticket.key, partitions: 3 } satisfies TopicSpec<typeof Ticket>;

export function ticket(key: string, seq: number, note?: string): Ticket {
  return { schemaVersion: 1, eventId: `${key}-${seq}`, key, seq, ...(note === undefined ? {} : { note }) };
}

/** A registry with fresh topic names, so runs against a long-lived broker never see old messages. */
export function ticketTopics<const N extends string>(...names: N[]): { topics: Record<string, typeof ticketSpec>; name: { [K in N]: string } } {
  const suffix = randomUUID().slice(0, 8);
  const topics: Record<string, typeof ticketSpec> = {};
  const name = {} as { [K in N]: string };
  for (const short of names) {
    name[short] = `test.${short}-${suffix}`;
    topics[name[short]] = ticketSpec;
  }
  return { topics, name };
}

export type KafkaTarget = { brokers: string[] } | { skip: string } | { fail: string };

/**
 * Kafka tests run when WALKOUT_KAFKA_BROKERS names a broker. Without one they are skipped, with the
 * reason shown, except under CI=true: there a missing broker is a broken pipeline and must fail.
 */
export function kafkaTarget(env: Record<string, string | undefined> = process.env): KafkaTarget {
  const brokers = (env.WALKOUT_KAFKA_BROKERS ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (brokers.length > 0) return { brokers };
  if (env.CI === 'true')
    return { fail: 'CI=true but WALKOUT_KAFKA_BROKERS is not set: .ci/run must start deploy/kafka/start.sh and export what it prints' };
  return { skip: 'WALKOUT_KAFKA_BROKERS is not set (run deploy/kafka/start.sh and export the line it prints)' };
}

/** Settings that make group changes quick enough for tests; production keeps the defaults. */
export const FAST_GROUPS = {
  sessionTimeoutMs: 6_000, // the broker's minimum
  heartbeatIntervalMs: 300,
  rebalanceTimeoutMs: 10_000,
  fetchMaxWaitMs: 100,
} as const;

export const FAST_RETRY = { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 50 } as const;

export interface BusKind {
  readonly name: 'memory' | 'kafka';
  readonly skip: string | false;
  make<R extends TopicRegistry>(topics: R, config?: Partial<BusConfigInput>, logger?: Logger): Promise<Bus<R>>;
  /** Writes a value as another producer would, with no validation; returns where it landed. */
  produceRaw(bus: Bus<TopicRegistry>, topic: string, key: string, value: string): Promise<{ partition: number; offset: string }>;
  /** Deletes what the tests created (Kafka topics); called once at the end. */
  cleanup(): Promise<void>;
}

export const memoryKind: BusKind = {
  name: 'memory',
  skip: false,
  async make(topics, config = {}, logger) {
    const parsed = parseBusConfig({ retry: FAST_RETRY, ...config, kind: 'memory' });
    const bus = createMemoryBus({ topics, config: parsed, logger });
    await bus.start();
    return bus;
  },
  async produceRaw(bus, topic, key, value) {
    // The in-process bus holds objects; what a foreign producer's bytes would decode to is the JSON.
    let decoded: unknown = value;
    try {
      decoded = JSON.parse(value);
    } catch {
      // Not JSON: the consumer sees the text itself, and must dead-letter it.
    }
    const at = (bus as MemoryBus<TopicRegistry>).appendRaw(topic, key, decoded);
    return { partition: at.partition, offset: at.offset };
  },
  async cleanup() {},
};

export function kafkaKind(target: KafkaTarget): BusKind {
  const brokers = 'brokers' in target ? target.brokers : [];
  const created = new Set<string>();
  let raw: Kafka | null = null;
  const rawClient = () => (raw ??= new Kafka({ clientId: 'walkout-bus-tests', brokers, logLevel: logLevel.NOTHING }));
  return {
    name: 'kafka',
    skip: 'skip' in target ? target.skip : false,
    async make(topics, config = {}, logger) {
      const parsed = parseBusConfig({
        retry: FAST_RETRY,
        ...config,
        kind: 'kafka',
        kafka: { brokers, clientId: 'walkout-bus-tests', ...FAST_GROUPS, ...config.kafka },
      });
      const bus = createKafkaBus({ topics, config: { ...parsed, kafka: parsed.kafka! }, logger });
      await bus.start();
      for (const topic of Object.keys(topics)) created.add(topic);
      return bus;
    },
    async produceRaw(_bus, topic, key, value) {
      const producer = rawClient().producer({ allowAutoTopicCreation: false });
      await producer.connect();
      try {
        const [meta] = await producer.send({ topic, messages: [{ key, value }], acks: -1 });
        return { partition: meta.partition, offset: meta.baseOffset ?? '-1' };
      } finally {
        await producer.disconnect();
      }
    },
    async cleanup() {
      if (created.size === 0) return;
      const admin = rawClient().admin();
      await admin.connect();
      try {
        await admin.deleteTopics({ topics: [...created] });
      } catch {
        // Best effort: the CI broker is thrown away anyway, a developer's keeps a few test topics.
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** Polls until the condition holds; fails with what was last seen, not with a bare timeout. */
export async function waitFor(condition: () => boolean, what: string | (() => string), timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** A Logger that keeps what it is told, for tests that check what was logged. */
export function recordingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (base: Record<string, unknown>): Logger & { readonly lines: LogLine[] } => {
    const line = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields: { ...base, ...fields } });
    return { lines, debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error'), child: (fields) => make({ ...base, ...fields }) };
  };
  return make({});
}
