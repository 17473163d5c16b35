import type { BusConfig } from './bus.config.ts';
import type { Bus, BusLogger, TopicRegistry } from './bus.types.ts';
import { createMemoryBus } from './memory.bus.ts';

export interface BusDependencies<R extends TopicRegistry> {
  /** `topics` from libs/contracts in production; a test's own registry in tests. */
  readonly topics: R;
  /** From loadBusConfig() (environment) or parseBusConfig() (an object); validated and frozen. */
  readonly config: BusConfig;
  readonly logger?: BusLogger;
}

/**
 * Builds the bus the configuration names. Services take the result as `bus` in their dependencies
 * and never learn which one it is. kafkajs is loaded only for the Kafka bus, so the embedded default
 * starts without it.
 */
export async function createBus<R extends TopicRegistry>(deps: BusDependencies<R>): Promise<Bus<R>> {
  const { config } = deps;
  if (config.kind === 'kafka') {
    // parseBusConfig guarantees the Kafka section exists when kind is kafka.
    const kafka = config.kafka!;
    const { createKafkaBus } = await import('./kafka.bus.ts');
    return createKafkaBus({ topics: deps.topics, config: { ...config, kafka }, logger: deps.logger });
  }
  return createMemoryBus({ topics: deps.topics, config, logger: deps.logger });
}
