import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { WalkoutError } from '../contracts/errors.ts';
import { DEAD_LETTER_TOPIC, topics } from '../contracts/topics.ts';
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

test('TLS and SASL for production listeners', () => {
  const config = loadBusConfig({
    WALKOUT_BUS: 'kafka',
    WALKOUT_KAFKA_BROKERS: 'walkout-kafka-bootstrap.kafka.svc:9093',
    WALKOUT_KAFKA_TLS: 'true',
    WALKOUT_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    WALKOUT_KAFKA_SASL_USERNAME: 'walkout-services',
    WALKOUT_KAFKA_SASL_PASSWORD: 'secret',
  });
  assert.equal(config.kafka?.tls, true);
  assert.deepEqual(config.kafka?.sasl, { mechanism: 'scram-sha-512', username: 'walkout-services', password: 'secret' });
  const error = configError(() =>
    loadBusConfig({
      WALKOUT_BUS: 'kafka',
      WALKOUT_KAFKA_BROKERS: 'b:9093',
      WALKOUT_KAFKA_TLS: 'yes',
      WALKOUT_KAFKA_TLS_CA_FILE: '/etc/ca.pem',
      WALKOUT_KAFKA_SASL_MECHANISM: 'scram-sha-512',
    }),
  );
  assert.match(error.message, /WALKOUT_KAFKA_TLS: "yes" is not true or false/);
  assert.match(error.message, /WALKOUT_KAFKA_SASL_USERNAME: not set/);
  assert.match(error.message, /WALKOUT_KAFKA_SASL_PASSWORD: not set/);
  // Cross-field checks run once every field is valid on its own.
  assert.match(
    configError(() => loadBusConfig({ WALKOUT_BUS: 'kafka', WALKOUT_KAFKA_BROKERS: 'b:9093', WALKOUT_KAFKA_TLS_CA_FILE: '/etc/ca.pem' })).message,
    /WALKOUT_KAFKA_TLS_CA_FILE: a CA file is only used with TLS on/,
  );
});

test('the production manifests stay in step with the code: a valid environment, every topic declared', () => {
  const manifests = new URL('../../deploy/kafka/production/', import.meta.url);
  const configMap = readFileSync(new URL('walkout-bus.configmap.yaml', manifests), 'utf8');
  const env: Record<string, string> = { WALKOUT_KAFKA_SASL_PASSWORD: 'from the Secret' };
  for (const [, name, value] of configMap.matchAll(/^ {2}(WALKOUT_[A-Z_]+): "?([^"\n]*)"?$/gm)) env[name] = value;
  const config = loadBusConfig(env);
  assert.equal(config.kind, 'kafka');
  assert.equal(config.kafka?.replicationFactor, 3);

  const strimzi = readFileSync(new URL('topics.strimzi.yaml', manifests), 'utf8');
  const declared = [...strimzi.matchAll(/^ {2}topicName: (\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(declared.sort(), [...Object.keys(topics), DEAD_LETTER_TOPIC].sort());
  // State topics are compacted there as the bus makes them on a dev broker, and no others.
  const compactedThere = strimzi
    .split(/^---$/m)
    .filter((block) => /^ {4}cleanup\.policy: compact$/m.test(block))
    .map((block) => /^ {2}topicName: (\S+)$/m.exec(block)![1]);
  const compactedHere = Object.entries(topics).filter(([, spec]) => spec.compacted).map(([name]) => name);
  assert.ok(compactedHere.length > 0, 'the stock snapshots at least');
  assert.deepEqual(compactedThere.sort(), compactedHere.sort());
});

test('handler deadlines: bus-wide defaults, read from the environment, checked against Kafka group timing', () => {
  const defaults = loadBusConfig({});
  assert.deepEqual({ ...defaults.handler }, { deadlineMs: 30_000, closeGraceMs: 5_000 });
  assert.ok(Object.isFrozen(defaults.handler));
  const set = loadBusConfig({ WALKOUT_BUS_HANDLER_DEADLINE_MS: '2500', WALKOUT_BUS_CLOSE_GRACE_MS: '0' });
  assert.deepEqual({ ...set.handler }, { deadlineMs: 2_500, closeGraceMs: 0 });
  // A misspelt deadline is an error, listed with every other problem.
  const error = configError(() =>
    loadBusConfig({ WALKOUT_BUS_HANDLER_DEADLINE: '100', WALKOUT_BUS_HANDLER_DEADLINE_MS: '0', WALKOUT_BUS_CLOSE_GRACE_MS: '60000' }),
  );
  assert.match(error.message, /WALKOUT_BUS_HANDLER_DEADLINE: not a setting of the bus/);
  assert.match(error.message, /WALKOUT_BUS_HANDLER_DEADLINE_MS: /);
  assert.match(error.message, /WALKOUT_BUS_CLOSE_GRACE_MS: /);
  assert.match(
    configError(() => parseBusConfig({ kind: 'kafka', handler: { closeGraceMs: 10_000 }, kafka: { brokers: ['b:1'], rebalanceTimeoutMs: 5_000 } })).message,
    /handler\.closeGraceMs: a close grace of 10000 ms does not fit in the 5000 ms rebalance timeout/,
  );
});

test('WALKOUT_KAFKA_NAMESPACE: empty by default, a name put before every topic and group, refused when it cannot be one', () => {
  const base = { WALKOUT_BUS: 'kafka', WALKOUT_KAFKA_BROKERS: '127.0.0.1:19092' };
  assert.equal(loadBusConfig(base).kafka!.namespace, '');
  assert.equal(loadBusConfig({ ...base, WALKOUT_KAFKA_NAMESPACE: 'store-7.' }).kafka!.namespace, 'store-7.');
  assert.match(configError(() => loadBusConfig({ ...base, WALKOUT_KAFKA_NAMESPACE: 'store 7/' })).message, /WALKOUT_KAFKA_NAMESPACE: letters, digits/);
});
