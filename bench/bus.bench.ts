/**
 * Message bus: messages per second and publish-to-handle latency for 1 KB messages, for the
 * in-process bus and for the Kafka bus, each next to a baseline measured in the same run: a bare
 * loop over the same messages for the in-process bus, raw kafkajs on the same broker for the adapter.
 * Targets: in-process ≥ 500k messages/s; the Kafka adapter within 20 % of raw kafkajs throughput.
 *
 *   node --import tsx bench/bus.bench.ts [--rounds 5] [--kafka-messages 30000] [--memory-messages 300000] [--check-publish] [--json]
 *
 * The adapter runs as deploy/kafka/production configures it: consumers validate every message, the
 * publisher does not check it again (kafka.checkPublish off). --check-publish measures it with the
 * publish-side check on, the development default.
 *
 * Kafka is measured when WALKOUT_KAFKA_BROKERS names a broker (deploy/kafka/start.sh prints it).
 * Throughput is end to end, first publish to last message handled, with the publisher flooding.
 * Latency is measured apart, at a steady rate well under saturation: under a flood it only measures
 * the length of the queue. Rounds alternate adapter and baseline, so load from other work on the
 * machine falls on both; medians are reported, and CPU time per message beside them (it moves less
 * with that load than wall time does).
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import { z } from 'zod';
import { parseBusConfig } from '../libs/bus/bus.config.ts';
import type { Bus, TopicSpec } from '../libs/bus/bus.types.ts';
import { createKafkaBus, untilServed } from '../libs/bus/kafka.bus.ts';
import { createMemoryBus } from '../libs/bus/memory.bus.ts';

const MEMORY_TARGET_PER_S = 500_000;
const KAFKA_MAX_SHORTFALL = 0.2;
const MESSAGE_BYTES = 1024;
const KEYS = Array.from({ length: 16 }, (_, i) => `cam-${i}`);
const PARTITIONS = 6;
/** Publishes the bench keeps outstanding on the adapter: enough to fill produce requests, bounded like a real publisher. */
const WINDOW = 5_000;
/** Messages per produce request for raw kafkajs: the adapter's default batch. */
const RAW_BATCH = 1_000;
/** Paced latency runs: rate and length. */
const LATENCY_RATE_PER_S = { memory: 20_000, kafka: 1_000 };
const LATENCY_SECONDS = 2;

const { values } = parseArgs({
  options: {
    'kafka-messages': { type: 'string' },
    'memory-messages': { type: 'string' },
    rounds: { type: 'string' },
    'check-publish': { type: 'boolean' },
    json: { type: 'boolean' },
  },
});
const kafkaMessages = Number(values['kafka-messages'] ?? 30_000);
const memoryMessages = Number(values['memory-messages'] ?? 300_000);
const rounds = Number(values.rounds ?? 5);
const checkPublish = values['check-publish'] === true;
const brokers = (process.env.WALKOUT_KAFKA_BROKERS ?? '')
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);

// ---- the message ------------------------------------------------------------------------------

const Frame = z.strictObject({
  schemaVersion: z.literal(1),
  eventId: z.string().min(1),
  storeId: z.string().min(1),
  ts: z.number().int().nonnegative(),
  cameraId: z.string().min(1),
  seq: z.number().int().nonnegative(),
  /** performance.now() at publish; the handler subtracts it from its own. */
  sentAt: z.number(),
  detail: z.string(),
});
type Frame = z.infer<typeof Frame>;
const frameSpec = { schema: Frame, key: (m: Frame) => m.cameraId, partitions: PARTITIONS } satisfies TopicSpec<typeof Frame>;

/** Pads `detail` so the JSON on the wire is MESSAGE_BYTES long (give or take the digits of sentAt). */
const padding = (() => {
  const probe: Frame = { schemaVersion: 1, eventId: 'e-000000000', storeId: 'store-1', ts: 1_700_000_000_000, cameraId: 'cam-10', seq: 100_000, sentAt: 12345.678901, detail: '' };
  return 'x'.repeat(MESSAGE_BYTES - JSON.stringify(probe).length);
})();

function frame(seq: number): Frame {
  return {
    schemaVersion: 1,
    eventId: `e-${String(seq).padStart(9, '0')}`,
    storeId: 'store-1',
    ts: 1_700_000_000_000 + seq,
    cameraId: KEYS[seq % KEYS.length],
    seq,
    sentAt: performance.now(),
    detail: padding,
  };
}

// ---- measurement helpers ----------------------------------------------------------------------

interface Run {
  readonly perSecond: number;
  /** CPU time of this process (all threads, GC included) per message. */
  readonly cpuUs: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Counts handled messages and their latencies, and the time and CPU spent since `start()`. */
function sink(expected: number) {
  const latencies = new Float64Array(expected);
  let count = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let lastAt = 0;
  let startedAt = 0;
  let cpuAtStart = process.cpuUsage();
  return {
    start() {
      startedAt = performance.now();
      cpuAtStart = process.cpuUsage();
    },
    take(sentAt: number) {
      lastAt = performance.now();
      if (count < expected) latencies[count] = lastAt - sentAt;
      if (++count === expected) resolveDone();
    },
    /** Waits for the last message; returns throughput, CPU per message, and latency percentiles. */
    async finish(): Promise<Run> {
      await done;
      const cpu = process.cpuUsage(cpuAtStart);
      const sorted = latencies.slice(0, Math.min(count, expected)).sort();
      return {
        perSecond: (expected * 1000) / (lastAt - startedAt),
        cpuUs: (cpu.user + cpu.system) / expected,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
      };
    },
  };
}

const say = (line: string) => process.stderr.write(`bus bench: ${line}\n`);

/** Calls `send` with bursts of sequence numbers so that `count` go out at `ratePerS` (timers are ms-grained). */
async function paced(count: number, ratePerS: number, send: (burst: number[]) => void): Promise<void> {
  const started = performance.now();
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) * ratePerS) / 1000) + 1);
    const burst: number[] = [];
    while (sent < due) burst.push(sent++);
    if (burst.length > 0) send(burst);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

// ---- in-process ------------------------------------------------------------------------------

function memoryBus() {
  const topic = 'bench.frame-captured' as string;
  const config = parseBusConfig({ kind: 'memory', partitions: PARTITIONS });
  return { topic, bus: createMemoryBus({ topics: { [topic]: frameSpec }, config }) };
}

async function memoryRun(n: number, mode: 'flood' | 'paced'): Promise<Run> {
  const { topic, bus } = memoryBus();
  const seen = sink(n);
  await bus.subscribe({ group: 'bench', topics: [topic], concurrency: PARTITIONS, handle: ({ message }) => seen.take(message.sentAt) });
  if (mode === 'flood') {
    const messages = Array.from({ length: n }, (_, i) => frame(i));
    seen.start();
    for (const message of messages) {
      message.sentAt = performance.now();
      await bus.publish(topic, message);
    }
  } else {
    seen.start();
    await paced(n, LATENCY_RATE_PER_S.memory, (burst) => {
      for (const seq of burst) void bus.publish(topic, frame(seq));
    });
  }
  const run = await seen.finish();
  await bus.close();
  return run;
}

/**
 * The floor under any in-process bus: what the bus must do to each message anyway (validate it
 * once, freeze it, hand it to a handler on a later microtask), with no partitions, queues, groups
 * or commits.
 */
async function bareLoop(n: number): Promise<Run> {
  const seen = sink(n);
  const handle = (message: Frame) => seen.take(message.sentAt);
  const messages = Array.from({ length: n }, (_, i) => frame(i));
  seen.start();
  for (const message of messages) {
    message.sentAt = performance.now();
    const checked = Object.freeze(Frame.parse(message));
    await Promise.resolve();
    handle(checked);
  }
  return seen.finish();
}

// ---- Kafka: raw kafkajs -------------------------------------------------------------------------

const rawKafka = () => new Kafka({ clientId: 'walkout-bench-raw', brokers, logLevel: logLevel.NOTHING });

async function deleteTopics(topics: string[]): Promise<void> {
  const admin = rawKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

/**
 * The baseline is kafkajs used well by hand, with the guarantees the adapter gives: an idempotent
 * producer, acknowledged by all in-sync replicas, JSON on the wire, requests of RAW_BATCH messages
 * one at a time, and a consumer group reading batches from the beginning and committing after each.
 * No validation, no dead letters, no per-message commit tracking: that is the adapter's cost.
 */
async function rawKafkaRun(n: number, mode: 'flood' | 'paced'): Promise<Run> {
  const kafka = rawKafka();
  const topic = `bench.raw-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await untilServed(() => admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true }));
  await admin.disconnect();
  const producer: Producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: `bench-raw-${topic}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const seen = sink(n);
  let joined!: () => void;
  const join = new Promise<void>((resolve) => (joined = resolve));
  consumer.on(consumer.events.GROUP_JOIN, () => joined());
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) seen.take((JSON.parse(message.value!.toString('utf8')) as Frame).sentAt);
    },
  });
  await join;
  const toKafka = (message: Frame) => ({ key: message.cameraId, value: JSON.stringify(message) });
  if (mode === 'flood') {
    const messages = Array.from({ length: n }, (_, i) => frame(i));
    seen.start();
    for (let i = 0; i < n; i += RAW_BATCH) {
      const chunk = messages.slice(i, i + RAW_BATCH);
      for (const message of chunk) message.sentAt = performance.now();
      await producer.send({ topic, messages: chunk.map(toKafka), acks: -1 });
    }
  } else {
    seen.start();
    // Each burst is one request: sending messages one by one would queue them behind the
    // idempotent producer's one-request-at-a-time lock and measure that queue instead.
    await paced(n, LATENCY_RATE_PER_S.kafka, (burst) => void producer.send({ topic, messages: burst.map((seq) => toKafka(frame(seq))), acks: -1 }));
  }
  const run = await seen.finish();
  await consumer.disconnect();
  await producer.disconnect();
  await deleteTopics([topic]);
  return mode === 'flood' ? run : { ...run, perSecond: LATENCY_RATE_PER_S.kafka };
}

// ---- Kafka: the adapter -------------------------------------------------------------------------

async function adapterRun(n: number, mode: 'flood' | 'paced'): Promise<Run> {
  const topic = `bench.adapter-${randomUUID().slice(0, 8)}`;
  const config = parseBusConfig({
    kind: 'kafka',
    partitions: PARTITIONS,
    kafka: { brokers, clientId: 'walkout-bench-adapter', fetchMaxWaitMs: 100, maxBatchMessages: RAW_BATCH, checkPublish },
  });
  const bus: Bus<Record<string, typeof frameSpec>> = createKafkaBus({ topics: { [topic]: frameSpec }, config: { ...config, kafka: config.kafka! } });
  await bus.start();
  const seen = sink(n);
  await bus.subscribe({ group: `bench-adapter-${topic}`, topics: [topic], handle: ({ message }) => seen.take(message.sentAt) });
  if (mode === 'flood') {
    const messages = Array.from({ length: n }, (_, i) => frame(i));
    seen.start();
    // Every publish is awaited, WINDOW at a time. Publishes that went into one produce request
    // share one promise, so each distinct promise is awaited once.
    let outstanding: Promise<void>[] = [];
    let inWindow = 0;
    for (const message of messages) {
      message.sentAt = performance.now();
      const receipt = bus.publish(topic, message);
      if (receipt !== outstanding[outstanding.length - 1]) outstanding.push(receipt);
      if (++inWindow >= WINDOW) {
        await Promise.all(outstanding);
        outstanding = [];
        inWindow = 0;
      }
    }
    await Promise.all(outstanding);
  } else {
    seen.start();
    await paced(n, LATENCY_RATE_PER_S.kafka, (burst) => {
      for (const seq of burst) void bus.publish(topic, frame(seq));
    });
  }
  const run = await seen.finish();
  await bus.close();
  await deleteTopics([topic]);
  return mode === 'flood' ? run : { ...run, perSecond: LATENCY_RATE_PER_S.kafka };
}

// ---- the run ------------------------------------------------------------------------------------

const fmtRate = (x: number) => `${Math.round(x).toLocaleString('en-US')}/s`;
const fmtMs = (x: number | undefined) => (x === undefined ? '-' : x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(2)} ms`);
const fmtCpu = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(1)} µs`;

interface Pair {
  readonly subject: Run[];
  readonly baseline: Run[];
}

/** Alternates which goes first, so neither always runs on a warmer (or busier) machine. */
async function alternate(count: number, label: string, subject: () => Promise<Run>, baseline: () => Promise<Run>): Promise<Pair> {
  const pair = { subject: [] as Run[], baseline: [] as Run[] };
  for (let round = 0; round < count; round++) {
    if (round % 2 === 0) {
      pair.subject.push(await subject());
      pair.baseline.push(await baseline());
    } else {
      pair.baseline.push(await baseline());
      pair.subject.push(await subject());
    }
    say(`${label} round ${round + 1}: ${fmtRate(pair.subject[round].perSecond)} vs baseline ${fmtRate(pair.baseline[round].perSecond)}`);
  }
  return pair;
}

const medianOf = (runs: Run[], field: 'perSecond' | 'cpuUs') => median(runs.map((run) => run[field]));

async function main(): Promise<void> {
  const load = () => loadavg()[0].toFixed(1);
  const loadBefore = load();
  say(
    `node ${process.version}, ${cpus().length} cores (load ${loadBefore}), ${MESSAGE_BYTES}-byte JSON messages, ` +
      `${KEYS.length} keys, ${PARTITIONS} partitions, ${rounds} alternating rounds, medians`,
  );
  say(`Kafka adapter: publish-side check ${checkPublish ? 'on (development default)' : 'off (as deploy/kafka/production runs it; consumers validate every message)'}`);

  // Warm-up, thrown away: the first runs pay for JIT compilation.
  await bareLoop(Math.min(memoryMessages, 100_000));
  await memoryRun(Math.min(memoryMessages, 100_000), 'flood');
  const memory = await alternate(rounds, 'in-process', () => memoryRun(memoryMessages, 'flood'), () => bareLoop(memoryMessages));
  const memoryLatency = await memoryRun(LATENCY_RATE_PER_S.memory * LATENCY_SECONDS, 'paced');

  let kafka: { flood: Pair; adapterLatency: Run; rawLatency: Run } | null = null;
  if (brokers.length > 0) {
    // Warm-up, thrown away: kafkajs' encoders and decoders get compiled by whichever runs first.
    await rawKafkaRun(Math.min(kafkaMessages, 5_000), 'flood');
    await adapterRun(Math.min(kafkaMessages, 5_000), 'flood');
    const flood = await alternate(rounds, 'Kafka', () => adapterRun(kafkaMessages, 'flood'), () => rawKafkaRun(kafkaMessages, 'flood'));
    const latencyCount = LATENCY_RATE_PER_S.kafka * LATENCY_SECONDS;
    const rawLatency = await rawKafkaRun(latencyCount, 'paced');
    const adapterLatency = await adapterRun(latencyCount, 'paced');
    kafka = { flood, adapterLatency, rawLatency };
  } else {
    say('WALKOUT_KAFKA_BROKERS is not set: Kafka not measured (deploy/kafka/start.sh starts a broker)');
  }
  say(`load average went from ${loadBefore} to ${load()} on ${cpus().length} cores; other work on the machine lowers every figure`);

  const memoryRate = medianOf(memory.subject, 'perSecond');
  const bareRate = medianOf(memory.baseline, 'perSecond');
  const rows: string[][] = [
    ['', 'messages/s', 'CPU/message', 'p50 latency', 'p99 latency', 'latency at'],
    ['in-process bus', fmtRate(memoryRate), fmtCpu(medianOf(memory.subject, 'cpuUs')), fmtMs(memoryLatency.p50Ms), fmtMs(memoryLatency.p99Ms), fmtRate(LATENCY_RATE_PER_S.memory)],
    ['  baseline: bare loop', fmtRate(bareRate), fmtCpu(medianOf(memory.baseline, 'cpuUs')), '-', '-', ''],
  ];
  if (kafka)
    rows.push(
      ['Kafka bus (adapter)', fmtRate(medianOf(kafka.flood.subject, 'perSecond')), fmtCpu(medianOf(kafka.flood.subject, 'cpuUs')), fmtMs(kafka.adapterLatency.p50Ms), fmtMs(kafka.adapterLatency.p99Ms), fmtRate(LATENCY_RATE_PER_S.kafka)],
      ['  baseline: raw kafkajs', fmtRate(medianOf(kafka.flood.baseline, 'perSecond')), fmtCpu(medianOf(kafka.flood.baseline, 'cpuUs')), fmtMs(kafka.rawLatency.p50Ms), fmtMs(kafka.rawLatency.p99Ms), fmtRate(LATENCY_RATE_PER_S.kafka)],
    );
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  console.log(rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n'));

  console.log(
    `in-process: ${fmtRate(memoryRate)} = ${(memoryRate / MEMORY_TARGET_PER_S).toFixed(2)}x the ${fmtRate(MEMORY_TARGET_PER_S)} target ` +
      `(${memoryRate >= MEMORY_TARGET_PER_S ? 'met' : 'MISSED'}); ${(memoryRate / bareRate).toFixed(2)}x the bare loop`,
  );
  if (kafka) {
    // The median of per-round ratios: each pair of runs shared the machine's mood.
    const ratio = median(kafka.flood.subject.map((run, i) => run.perSecond / kafka!.flood.baseline[i].perSecond));
    const cpuRatio = medianOf(kafka.flood.subject, 'cpuUs') / medianOf(kafka.flood.baseline, 'cpuUs');
    console.log(
      `Kafka: adapter / raw kafkajs throughput = ${ratio.toFixed(2)} (median of ${rounds} paired rounds; target ≥ ${(1 - KAFKA_MAX_SHORTFALL).toFixed(2)}: ` +
        `${ratio >= 1 - KAFKA_MAX_SHORTFALL ? 'met' : 'MISSED'}); CPU per message ${cpuRatio.toFixed(2)}x raw`,
    );
  }
  if (values.json) console.log(JSON.stringify({ messageBytes: MESSAGE_BYTES, memory, memoryLatency, kafka, load: loadavg() }));
}

await main();
