export * from './bus.types.ts';
export * from './bus.config.ts';
export * from './bus.factory.ts';
export * from './signals.ts';
export * from './recent-ids.ts';
export * from './outbox.ts';
export { createMemoryBus, type MemoryBus, type MemoryBusStats } from './memory.bus.ts';
// The Kafka bus is not re-exported: importing it loads kafkajs. Use createBus, or import kafka.bus.ts.
