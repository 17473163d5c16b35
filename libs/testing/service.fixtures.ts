import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { createMemoryBus, parseBusConfig, type MemoryBus } from '../bus/index.ts';
import { indexStore, parseStore, topics, type StoreIndex, type TopicMessage, type TopicName } from '../contracts/index.ts';

/**
 * What a service test sets up before it publishes anything: the store it runs in, and an in-process
 * bus that collects what the service publishes.
 */

/** A store of fixtures/stores (the kiosk unless named), parsed and indexed. */
export function fixtureStoreIndex(name = 'kiosk'): StoreIndex {
  return indexStore(parseStore(JSON.parse(readFileSync(new URL(`../../fixtures/stores/${name}.json`, import.meta.url), 'utf8')), `${name}.json`));
}

/** Retries a millisecond apart: a handler that failed is handed its message again at once, so a test of redelivery waits for nothing. */
const IMMEDIATE_RETRY = { initialBackoffMs: 1, maxBackoffMs: 1 };

/** One message a watched topic carried, with its partition key. */
export type Collected<T extends TopicName> = { [K in T]: { topic: K; key: string | null; message: TopicMessage<K> } }[T];

export interface CollectingBus<T extends TopicName> {
  bus: MemoryBus<typeof topics>;
  /** Every message on the watched topics, in the order it came. */
  delivered: Array<Collected<T>>;
  /** Per watched topic, its messages with their keys, as they come (the arrays grow). */
  deliveries: { [K in T]: Array<Collected<K>> };
  /** Per watched topic, its messages, as they come (the arrays grow). */
  messages: { [K in T]: Array<TopicMessage<K>> };
}

/**
 * An in-process bus on the production topics, started now and closed when the test ends, with a
 * consumer group `test-out` collecting every message on the `watched` topics.
 */
export async function collectingBus<const T extends TopicName>(t: TestContext, watched: readonly T[]): Promise<CollectingBus<T>> {
  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory', retry: IMMEDIATE_RETRY }) });
  await bus.start();
  t.after(() => bus.close());
  const delivered: Array<Collected<T>> = [];
  const deliveries = Object.fromEntries(watched.map((topic) => [topic, []])) as unknown as CollectingBus<T>['deliveries'];
  const messages = Object.fromEntries(watched.map((topic) => [topic, []])) as unknown as CollectingBus<T>['messages'];
  await bus.subscribe({
    group: 'test-out',
    topics: watched,
    handle: (delivery) => {
      const collected = { topic: delivery.topic, key: delivery.key, message: delivery.message } as Collected<T>;
      delivered.push(collected);
      (deliveries[collected.topic] as Array<Collected<T>>).push(collected);
      (messages[collected.topic] as Array<TopicMessage<T>>).push(collected.message);
    },
  });
  return { bus, delivered, deliveries, messages };
}
