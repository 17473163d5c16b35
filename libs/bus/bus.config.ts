import { z } from 'zod';
import { WalkoutError } from '../contracts/errors.ts';

/**
 * Which bus to build and how, validated once at start into a frozen object. Every bad value is
 * reported at once, by the environment variable a person would have to fix.
 */

const positiveInt = (max: number) => z.number().int().min(1).max(max);

const BrokerAddress = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'a broker is host:port, e.g. 127.0.0.1:19092')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65_535, 'the port is above 65535');

const RetrySchema = z
  .strictObject({
    maxAttempts: positiveInt(100).default(5).describe('Handler calls per message before it is dead-lettered.'),
    initialBackoffMs: z.number().int().min(0).max(60_000).default(200).describe('Wait before the second call, ms.'),
    maxBackoffMs: z.number().int().min(0).max(300_000).default(10_000).describe('Longest wait between calls, ms.'),
  })
  .describe('How hard a subscription tries before dead-lettering a message.');

const HandlerSchema = z
  .strictObject({
    deadlineMs: positiveInt(3_600_000)
      .default(30_000)
      .describe('How long one handler attempt may take, ms; past it its signal aborts and the attempt counts as failed (retried, then dead-lettered). A subscription may set its own.'),
    closeGraceMs: z
      .number()
      .int()
      .min(0)
      .max(20_000)
      .default(5_000)
      .describe(
        'How long a close (or, on Kafka, a rebalance) waits for handlers still running after their signal aborted; then it goes on without them and their messages stay uncommitted. Under the 25 s a shutdown signal gives a close.',
      ),
  })
  .describe('Deadlines of the handlers.');

const MemorySchema = z
  .strictObject({
    queueCapacity: positiveInt(10_000_000)
      .default(10_000)
      .describe('Messages a partition holds that some group has not committed; publishers wait beyond it.'),
    stallMs: positiveInt(3_600_000)
      .default(1_000)
      .describe(
        'A publish waiting for room goes in anyway (over capacity, with a warning) after this long if the groups holding the partition back made no progress and have every handler slot busy: a handler waiting on its own group would otherwise wait for ever.',
      ),
  })
  .describe('The in-process bus.');

const KafkaSchema = z
  .strictObject({
    brokers: z.array(BrokerAddress).min(1, 'name at least one broker').describe('Bootstrap brokers, host:port.'),
    clientId: z.string().min(1).default('walkout').describe('Shown in broker logs and quotas.'),
    namespace: z
      .string()
      .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dots, dashes and underscores only')
      .max(100)
      .default('')
      .describe('Put before every topic and consumer group name on the broker, so that several stores (or test runs) share a cluster without seeing each other.'),
    replicationFactor: positiveInt(7).default(1).describe('Replicas of each topic the bus creates (3 in production).'),
    minInsyncReplicas: positiveInt(7)
      .optional()
      .describe('Replicas that must have a message before a publish resolves; defaults to 2 when replicated 3+ times, else 1.'),
    sessionTimeoutMs: z.number().int().min(6_000).max(300_000).default(30_000).describe('A silent member is dropped from its group after this.'),
    heartbeatIntervalMs: z.number().int().min(100).max(60_000).default(3_000).describe('How often a member tells the group it lives.'),
    rebalanceTimeoutMs: z.number().int().min(1_000).max(300_000).default(60_000).describe('How long a rebalance waits for members to finish their batch.'),
    fetchMaxWaitMs: z.number().int().min(10).max(10_000).default(500).describe('Longest a fetch waits for data; bounds how late a rebalance is noticed.'),
    connectionTimeoutMs: z.number().int().min(100).max(60_000).default(3_000),
    requestTimeoutMs: z.number().int().min(1_000).max(300_000).default(30_000),
    maxBatchMessages: positiveInt(100_000).default(1_000).describe('Most messages the publisher packs into one produce request.'),
    lingerMs: z.number().int().min(0).max(1_000).default(0).describe('How long the publisher waits to fill a batch; 0 sends on the next turn of the event loop.'),
    maxPendingMessages: positiveInt(10_000_000).default(20_000).describe('Publishes waiting for the broker before publish itself waits.'),
    checkPublish: z
      .boolean()
      .default(true)
      .describe(
        'Validate each message against its schema before sending (a bad one throws at the publisher). Consumers validate every message anyway; off, a bad publish is dead-lettered by its consumers instead, for about a fifth less CPU per message.',
      ),
    tls: z.boolean().default(false).describe('Connect with TLS (production listeners do).'),
    tlsCaFile: z.string().min(1).optional().describe('PEM file of the CA that signed the brokers (a private cluster CA).'),
    sasl: z
      .strictObject({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: z.string().min(1),
      })
      .optional()
      .describe('SASL login; production uses scram-sha-512 over TLS.'),
  })
  .describe('The Kafka bus.');

export const BusConfigSchema = z
  .strictObject({
    kind: z.enum(['memory', 'kafka']).default('memory').describe('memory: in-process (one machine); kafka: Apache Kafka.'),
    partitions: positiveInt(10_000).default(6).describe('Partitions per topic, unless the topic registry says otherwise.'),
    retry: RetrySchema.prefault({}),
    handler: HandlerSchema.prefault({}),
    memory: MemorySchema.prefault({}),
    kafka: KafkaSchema.optional(),
  })
  .superRefine((config, ctx) => {
    for (const issue of crossFieldIssues(config)) ctx.addIssue(issue);
  });

export type BusConfigInput = z.input<typeof BusConfigSchema>;
export type BusConfig = Readonly<z.output<typeof BusConfigSchema>>;
export type KafkaConfig = Readonly<NonNullable<z.output<typeof BusConfigSchema>['kafka']>>;

type Issue = { code: 'custom'; message: string; path: (string | number)[] };

function crossFieldIssues(config: z.output<typeof BusConfigSchema>): Issue[] {
  return [
    ...kafkaNeedsBrokers(config),
    ...replicasFit(config),
    ...heartbeatFitsSession(config),
    ...backoffOrdered(config),
    ...caNeedsTls(config),
    ...graceFitsRebalance(config),
  ];
}

function kafkaNeedsBrokers(config: z.output<typeof BusConfigSchema>): Issue[] {
  return config.kind === 'kafka' && !config.kafka
    ? [{ code: 'custom', path: ['kafka', 'brokers'], message: 'the Kafka bus needs a broker list' }]
    : [];
}

function replicasFit(config: z.output<typeof BusConfigSchema>): Issue[] {
  const kafka = config.kafka;
  if (!kafka?.minInsyncReplicas || kafka.minInsyncReplicas <= kafka.replicationFactor) return [];
  return [
    {
      code: 'custom',
      path: ['kafka', 'minInsyncReplicas'],
      message: `${kafka.minInsyncReplicas} in-sync replicas cannot be had with replication factor ${kafka.replicationFactor}`,
    },
  ];
}

function heartbeatFitsSession(config: z.output<typeof BusConfigSchema>): Issue[] {
  const kafka = config.kafka;
  // Kafka's own advice: at least three heartbeats per session, or one lost packet drops the member.
  if (!kafka || kafka.heartbeatIntervalMs * 3 <= kafka.sessionTimeoutMs) return [];
  return [
    {
      code: 'custom',
      path: ['kafka', 'heartbeatIntervalMs'],
      message: `heartbeat ${kafka.heartbeatIntervalMs} ms is more than a third of the ${kafka.sessionTimeoutMs} ms session`,
    },
  ];
}

function backoffOrdered(config: z.output<typeof BusConfigSchema>): Issue[] {
  return config.retry.initialBackoffMs > config.retry.maxBackoffMs
    ? [{ code: 'custom', path: ['retry', 'initialBackoffMs'], message: 'the first wait is longer than the longest wait' }]
    : [];
}

function caNeedsTls(config: z.output<typeof BusConfigSchema>): Issue[] {
  return config.kafka?.tlsCaFile && !config.kafka.tls
    ? [{ code: 'custom', path: ['kafka', 'tlsCaFile'], message: 'a CA file is only used with TLS on (WALKOUT_KAFKA_TLS=true)' }]
    : [];
}

function graceFitsRebalance(config: z.output<typeof BusConfigSchema>): Issue[] {
  const kafka = config.kafka;
  // At a rebalance a member must let go of its partitions (handlers aborted, grace waited) and rejoin
  // within the rebalance timeout, or it is dropped from the group.
  if (!kafka || config.handler.closeGraceMs < kafka.rebalanceTimeoutMs) return [];
  return [
    {
      code: 'custom',
      path: ['handler', 'closeGraceMs'],
      message: `a close grace of ${config.handler.closeGraceMs} ms does not fit in the ${kafka.rebalanceTimeoutMs} ms rebalance timeout`,
    },
  ];
}

/** When replicated three or more times, a publish waits for two copies: one broker may be down. */
export function minInsyncReplicas(kafka: KafkaConfig): number {
  return kafka.minInsyncReplicas ?? (kafka.replicationFactor >= 3 ? 2 : 1);
}

/** Environment variables, each with where it goes in the config and how to read it. */
type EnvRead = 'string' | 'int' | 'list' | 'bool';
const ENV: Record<string, { path: readonly string[]; read: EnvRead }> = {
  WALKOUT_BUS: { path: ['kind'], read: 'string' },
  WALKOUT_BUS_PARTITIONS: { path: ['partitions'], read: 'int' },
  WALKOUT_BUS_MAX_ATTEMPTS: { path: ['retry', 'maxAttempts'], read: 'int' },
  WALKOUT_BUS_RETRY_INITIAL_MS: { path: ['retry', 'initialBackoffMs'], read: 'int' },
  WALKOUT_BUS_RETRY_MAX_MS: { path: ['retry', 'maxBackoffMs'], read: 'int' },
  WALKOUT_BUS_HANDLER_DEADLINE_MS: { path: ['handler', 'deadlineMs'], read: 'int' },
  WALKOUT_BUS_CLOSE_GRACE_MS: { path: ['handler', 'closeGraceMs'], read: 'int' },
  WALKOUT_BUS_QUEUE_CAPACITY: { path: ['memory', 'queueCapacity'], read: 'int' },
  WALKOUT_BUS_STALL_MS: { path: ['memory', 'stallMs'], read: 'int' },
  WALKOUT_KAFKA_BROKERS: { path: ['kafka', 'brokers'], read: 'list' },
  WALKOUT_KAFKA_CLIENT_ID: { path: ['kafka', 'clientId'], read: 'string' },
  WALKOUT_KAFKA_NAMESPACE: { path: ['kafka', 'namespace'], read: 'string' },
  WALKOUT_KAFKA_REPLICATION_FACTOR: { path: ['kafka', 'replicationFactor'], read: 'int' },
  WALKOUT_KAFKA_MIN_INSYNC_REPLICAS: { path: ['kafka', 'minInsyncReplicas'], read: 'int' },
  WALKOUT_KAFKA_SESSION_TIMEOUT_MS: { path: ['kafka', 'sessionTimeoutMs'], read: 'int' },
  WALKOUT_KAFKA_HEARTBEAT_MS: { path: ['kafka', 'heartbeatIntervalMs'], read: 'int' },
  WALKOUT_KAFKA_REBALANCE_TIMEOUT_MS: { path: ['kafka', 'rebalanceTimeoutMs'], read: 'int' },
  WALKOUT_KAFKA_FETCH_MAX_WAIT_MS: { path: ['kafka', 'fetchMaxWaitMs'], read: 'int' },
  WALKOUT_KAFKA_CONNECTION_TIMEOUT_MS: { path: ['kafka', 'connectionTimeoutMs'], read: 'int' },
  WALKOUT_KAFKA_REQUEST_TIMEOUT_MS: { path: ['kafka', 'requestTimeoutMs'], read: 'int' },
  WALKOUT_KAFKA_BATCH_MAX_MESSAGES: { path: ['kafka', 'maxBatchMessages'], read: 'int' },
  WALKOUT_KAFKA_LINGER_MS: { path: ['kafka', 'lingerMs'], read: 'int' },
  WALKOUT_KAFKA_MAX_PENDING: { path: ['kafka', 'maxPendingMessages'], read: 'int' },
  WALKOUT_KAFKA_CHECK_PUBLISH: { path: ['kafka', 'checkPublish'], read: 'bool' },
  WALKOUT_KAFKA_TLS: { path: ['kafka', 'tls'], read: 'bool' },
  WALKOUT_KAFKA_TLS_CA_FILE: { path: ['kafka', 'tlsCaFile'], read: 'string' },
  WALKOUT_KAFKA_SASL_MECHANISM: { path: ['kafka', 'sasl', 'mechanism'], read: 'string' },
  WALKOUT_KAFKA_SASL_USERNAME: { path: ['kafka', 'sasl', 'username'], read: 'string' },
  WALKOUT_KAFKA_SASL_PASSWORD: { path: ['kafka', 'sasl', 'password'], read: 'string' },
};

export const BUS_ENV_VARIABLES: readonly string[] = Object.freeze(Object.keys(ENV));
const OWNED_PREFIXES = ['WALKOUT_BUS_', 'WALKOUT_KAFKA_'];

/** Validates a config object (tests, or a service's own config file). */
export function parseBusConfig(input: BusConfigInput, source = 'bus config'): BusConfig {
  const result = BusConfigSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${source}${issue.path.length ? ` at ${issue.path.join('.')}` : ''}: ${issue.message}`);
    throw new WalkoutError('CONFIG_INVALID', `${source} is invalid:\n${lines.join('\n')}`, { details: result.error.issues });
  }
  return deepFreeze(result.data);
}

/**
 * Reads WALKOUT_BUS (memory|kafka), WALKOUT_KAFKA_BROKERS (comma-separated host:port) and the other
 * WALKOUT_BUS_* / WALKOUT_KAFKA_* variables. A misspelt variable of ours is an error, not a silent
 * default: WALKOUT_KAFKA_BROKER=... would otherwise start a bus that never finds its broker.
 */
export function loadBusConfig(env: Record<string, string | undefined> = process.env): BusConfig {
  const problems: string[] = [];
  const input: Record<string, unknown> = {};
  const kind = env.WALKOUT_BUS ?? 'memory';
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    const spec = ENV[name];
    if (!spec) {
      if (OWNED_PREFIXES.some((prefix) => name.startsWith(prefix)))
        problems.push(`${name}: not a setting of the bus (known: ${BUS_ENV_VARIABLES.join(', ')})`);
      continue;
    }
    // Kafka settings are read only for the Kafka bus, so a developer can leave them exported.
    if (spec.path[0] === 'kafka' && kind !== 'kafka') continue;
    const value = readEnvValue(raw, spec.read);
    if (value === undefined) {
      problems.push(`${name}: "${raw}" is not ${spec.read === 'bool' ? 'true or false' : 'a whole number'}`);
      continue;
    }
    setPath(input, spec.path, value);
  }
  const result = BusConfigSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      // A missing member of a group (a SASL user without a password) reads better as "not set".
      const missing = issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
      problems.push(`${envNameFor(issue.path) ?? issue.path.join('.')}: ${missing ? 'not set, and the settings around it need it' : issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success)
    throw new WalkoutError('CONFIG_INVALID', `bus environment is invalid:\n${problems.join('\n')}`, { details: problems });
  return deepFreeze(result.data);
}

function readEnvValue(raw: string, read: EnvRead): unknown {
  if (read === 'string') return raw.trim();
  if (read === 'bool') return { true: true, false: false, '1': true, '0': false }[raw.trim().toLowerCase()];
  if (read === 'list')
    return raw
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0);
  return /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : undefined;
}

function envNameFor(path: readonly PropertyKey[]): string | undefined {
  // A broker list issue points into the array (kafka.brokers.1); name the variable all the same.
  for (const [name, spec] of Object.entries(ENV)) if (spec.path.every((part, i) => path[i] === part)) return name;
  return undefined;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]] = value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
