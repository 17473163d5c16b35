import assert from 'node:assert/strict';
import test from 'node:test';
import { WalkoutError } from '../contracts/errors.ts';
import { loadBusConfig, minInsyncReplicas, parseBusConfig } from './bus.config.ts';

const configError = (fn: () => unknown): WalkoutError => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof WalkoutError);
    assert.equal(error.code, 'CONFIG_INVALID');
    return error;
  }
  assert.fail('expected CONFIG_INVALID');
};

test('no environment means the in-process bus, with defaults, frozen all the way down', () => {
  const config = loadBusConfig({});
  assert.equal(config.kind, 'memory');
  assert.equal(config.partitions, 6);
  assert.equal(config.retry.maxAttempts, 5);
  assert.equal(config.memory.queueCapacity, 10_000);
  assert.equal(config.kafka, undefined);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.retry) && Object.isFrozen(config.memory));
});

test('WALKOUT_BUS=kafka with a broker list builds the Kafka config', () => {
  const config = loadBusConfig({
    WALKOUT_BUS: 'kafka',
    WALKOUT_KAFKA_BROKERS: ' 10.0.0.1:9092, kafka-2.store.internal:9092 ,',
    WALKOUT_KAFKA_REPLICATION_FACTOR: '3',
    WALKOUT_BUS_PARTITIONS: '12',
  });
  assert.equal(config.kind, 'kafka');
  assert.deepEqual(config.kafka?.brokers, ['10.0.0.1:9092', 'kafka-2.store.internal:9092']);
  assert.equal(config.partitions, 12);
  assert.equal(minInsyncReplicas(config.kafka!), 2, 'replicated 3 times, a publish waits for 2 copies');
  assert.ok(Object.isFrozen(config.kafka!.brokers));
});

test('every bad value is listed at once, by the variable to fix', () => {
  const error = configError(() =>
    loadBusConfig({
      WALKOUT_BUS: 'rabbit',
      WALKOUT_BUS_PARTITIONS: 'many',
      WALKOUT_BUS_MAX_ATTEMPTS: '0',
      WALKOUT_KAFKA_BROKER: '127.0.0.1:19092', // a typo of WALKOUT_KAFKA_BROKERS
      PATH: '/usr/bin', // not ours: ignored
    }),
  );
  assert.match(error.message, /WALKOUT_BUS: /);
  assert.match(error.message, /WALKOUT_BUS_PARTITIONS: "many" is not a whole number/);
  assert.match(error.message, /WALKOUT_BUS_MAX_ATTEMPTS: /);
  assert.match(error.message, /WALKOUT_KAFKA_BROKER: not a setting of the bus/);
  assert.doesNotMatch(error.message, /PATH/);
});

test('the Kafka bus needs well-formed brokers', () => {
  assert.match(configError(() => loadBusConfig({ WALKOUT_BUS: 'kafka' })).message, /WALKOUT_KAFKA_BROKERS: the Kafka bus needs a broker list/);
  assert.match(
    configError(() => loadBusConfig({ WALKOUT_BUS: 'kafka', WALKOUT_KAFKA_BROKERS: '127.0.0.1:19092,localhost' })).message,
    /WALKOUT_KAFKA_BROKERS: a broker is host:port/,
  );
  assert.match(configError(() => loadBusConfig({ WALKOUT_BUS: 'kafka', WALKOUT_KAFKA_BROKERS: 'h:99999' })).message, /above 65535/);
});

test('Kafka settings left exported do not matter to the in-process bus', () => {
  const config = loadBusConfig({ WALKOUT_KAFKA_BROKERS: 'not a broker', WALKOUT_KAFKA_REPLICATION_FACTOR: 'x' });
  assert.equal(config.kind, 'memory');
});

test('cross-field checks say which setting is wrong', () => {
  const error = configError(() =>
    parseBusConfig({
      kind: 'kafka',
      retry: { initialBackoffMs: 5_000, maxBackoffMs: 100 },
      kafka: { brokers: ['b:1'], replicationFactor: 1, minInsyncReplicas: 2, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 3_000 },
    }),
  );
  assert.match(error.message, /kafka\.minInsyncReplicas: 2 in-sync replicas cannot be had with replication factor 1/);
  assert.match(error.message, /kafka\.heartbeatIntervalMs: heartbeat 3000 ms is more than a third/);
  assert.match(error.message, /retry\.initialBackoffMs: the first wait is longer than the longest wait/);
});

test('unknown keys in a config object are errors, not ignored', () => {
  assert.match(configError(() => parseBusConfig({ kind: 'memory', partition: 3 } as never)).message, /partition/);
});
