/**
 * Message bus: messages per second and publish-to-handle latency for 1 KB messages, for the
 * in-process bus and for the Kafka bus, each next to a baseline measured in the same run: a bare
 * loop over the same objects for the in-process bus, raw kafkajs on the same broker for the adapter.
 * Targets: in-process ≥ 500k messages/s; the Kafka adapter within 20 % of raw kafkajs throughput.
 *
 *   node --import tsx bench/bus.bench.ts [--kafka-messages 30000] [--memory-messages 300000] [--rounds 3] [--json]
 *
 * Kafka runs need WALKOUT_KAFKA_BROKERS (deploy/kafka/start.sh prints it); without it only the
 * in-process bus is measured. Throughput is end to end (first publish to last handled) with the
 * publisher flooding; latency is measured apart, at a steady rate well under saturation, because
 * under a flood it only measures the queue.
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import { z } from 'zod';
import { parseBusConfig } from '../libs/bus/bus.config.ts';
import type { Bus, TopicSpec } from '../libs/bus/bus.types.ts';
import { createKafkaBus } from '../libs/bus/kafka.bus.ts';
import { createMemoryBus } from '../libs/bus/memory.bus.ts';

const MEMORY_TARGET_PER_S = 500_000;
const KAFKA_MAX_SHORTFALL = 0.2;
const MESSAGE_BYTES = 1024;
const KEYS = Array.from({ length: 16 }, (_, i) => `cam-${i}`);
const PARTITIONS = 6;
/** Publishes the bench keeps outstanding: enough to fill produce requests, bounded like a real publisher. */
const WINDOW = 5_000;
/** Paced latency runs: rate and length. */
const LATENCY_RATE_PER_S = { memory: 20_000, kafka: 1_000 };
const LATENCY_SECONDS = 2;

const { values } = parseArgs({
  options: {
    'kafka-messages': { type: 'string' },
    'memory-messages': { type: 'string' },
    rounds: { type: 'string' },
    json: { type: 'boolean' },
  },
});
const kafkaMessages = Number(values['kafka-messages'] ?? 30_000);
const memoryMessages = Number(values['memory-messages'] ?? 300_000);
const rounds = Number(values.rounds ?? 3);
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

/** Pads `detail` so the JSON on the wire is MESSAGE_BYTES long. */
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
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Counts handled messages and remembers latencies; `done` resolves at the expected count. */
function sink(expected: number) {
  const latencies = new Float64Array(expected);
  let count = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let lastAt = 0;
  return {
    take(sentAt: number) {
      lastAt = performance.now();
      if (count < expected) latencies[count] = lastAt - sentAt;
      if (++count === expected) resolveDone();
    },
    done,
    get lastAt() {
      return lastAt;
    },
    percentiles() {
      const sorted = latencies.slice(0, Math.min(count, expected)).sort();
      return { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
    },
  };
}

function progress(label: string): (line: string) => void {
  return (line) => process.stderr.write(`${label}: ${line}\n`);
}

/** Sends `count` messages at `ratePerS`, in small bursts per timer tick (timers are ms-grained). */
async function paced(count: number, ratePerS: number, send: (seq: number) => void): Promise<void> {
  const started = performance.now();
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - started) * ratePerS) / 1000) + 1);
    while (sent < due) send(sent++);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

// ---- in-process ------------------------------------------------------------------------------

function memoryBus() {
  const topic = 'bench.frame-captured' as string;
  const config = parseBusConfig({ kind: 'memory', partitions: PARTITIONS });
  return { topic, bus: createMemoryBus({ topics: { [topic]: frameSpec }, config }) };
}

async function memoryThroughput(n: number): Promise<Run> {
  const { topic, bus } = memoryBus();
  const seen = sink(n);
  await bus.subscribe({ group: 'bench', topics: [topic], concurrency: PARTITIONS, handle: ({ message }) => seen.take(message.sentAt) });
  const messages = Array.from({ length: n }, (_, i) => frame(i));
  const t0 = performance.now();
  for (const message of messages) {
    message.sentAt = performance.now();
    await bus.publish(topic, message);
  }
  await seen.done;
  const run = { perSecond: (n * 1000) / (seen.lastAt - t0) };
  await bus.close();
  return run;
}

/**
 * The floor under any in-process bus: validate each message twice (publish and consume, as the bus
 * does) and call a handler, with no partitions, queues or commits.
 */
async function bareLoop(n: number): Promise<Run> {
  const seen = sink(n);
  const handle = (message: Frame) => seen.take(message.sentAt);
  const messages = Array.from({ length: n }, (_, i) => frame(i));
  const t0 = performance.now();
  for (const message of messages) {
    message.sentAt = performance.now();
    const checked = Frame.parse(message);
    await Promise.resolve();
    handle(Frame.parse(checked));
  }
  await seen.done;
  return { perSecond: (n * 1000) / (seen.lastAt - t0) };
}

async function memoryLatency(): Promise<Run> {
  const n = LATENCY_RATE_PER_S.memory * LATENCY_SECONDS;
  const { topic, bus } = memoryBus();
  const seen = sink(n);
  await bus.subscribe({ group: 'bench', topics: [topic], concurrency: PARTITIONS, handle: ({ message }) => seen.take(message.sentAt) });
  await paced(n, LATENCY_RATE_PER_S.memory, (seq) => void bus.publish(topic, frame(seq)));
  await seen.done;
  await bus.close();
  return { perSecond: LATENCY_RATE_PER_S.memory, ...seen.percentiles() };
}

// ---- Kafka: raw kafkajs -------------------------------------------------------------------------

const rawKafka = () => new Kafka({ clientId: 'walkout-bench-raw', brokers, logLevel: logLevel.NOTHING });

async function createRawTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
}

async function deleteTopics(topics: string[]): Promise<void> {
  const admin = rawKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

/**
 * The baseline is kafkajs used well by hand, with the same guarantees the adapter gives: the same
 * idempotent producer with acks from all replicas, JSON on the wire, requests of 1000 messages, a
 * consumer group reading batches from the beginning and committing after each.
 */
async function rawKafkaRun(n: number, mode: 'flood' | 'paced'): Promise<Run> {
  const kafka = rawKafka();
  const topic = `bench.raw-${randomUUID().slice(0, 8)}`;
  await createRawTopic(kafka, topic);
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
  const t0 = performance.now();
  if (mode === 'flood') {
    const messages = Array.from({ length: n }, (_, i) => frame(i));
    for (let i = 0; i < n; i += 1000) {
      const chunk = messages.slice(i, i + 1000).map((message) => {
        message.sentAt = performance.now();
        return { key: message.cameraId, value: JSON.stringify(message) };
      });
      await producer.send({ topic, messages: chunk, acks: -1 });
    }
  } else {
    await paced(n, LATENCY_RATE_PER_S.kafka, (seq) => {
      const message = frame(seq);
      void producer.send({ topic, messages: [{ key: message.cameraId, value: JSON.stringify(message) }], acks: -1 });
    });
  }
  await seen.done;
  const run = mode === 'flood' ? { perSecond: (n * 1000) / (seen.lastAt - t0) } : { perSecond: LATENCY_RATE_PER_S.kafka, ...seen.percentiles() };
  await consumer.disconnect();
  await producer.disconnect();
  await deleteTopics([topic]);
  return run;
}

// ---- Kafka: the adapter -------------------------------------------------------------------------

async function adapterRun(n: number, mode: 'flood' | 'paced'): Promise<Run> {
  const topic = `bench.adapter-${randomUUID().slice(0, 8)}`;
  const config = parseBusConfig({
    kind: 'kafka',
    partitions: PARTITIONS,
    kafka: { brokers, clientId: 'walkout-bench-adapter', fetchMaxWaitMs: 100 },
  });
  const bus: Bus<Record<string, typeof frameSpec>> = createKafkaBus({ topics: { [topic]: frameSpec }, config: { ...config, kafka: config.kafka! } });
  await bus.start();
  const seen = sink(n);
  await bus.subscribe({ group: `bench-adapter-${topic}`, topics: [topic], handle: ({ message }) => seen.take(message.sentAt) });
  const t0 = performance.now();
  if (mode === 'flood') {
    const messages = Array.from({ length: n }, (_, i) => frame(i));
    let outstanding: Promise<void>[] = [];
    for (const message of messages) {
      message.sentAt = performance.now();
      outstanding.push(bus.publish(topic, message));
      if (outstanding.length >= WINDOW) {
        await Promise.all(outstanding);
        outstanding = [];
      }
    }
    await Promise.all(outstanding);
  } else {
    await paced(n, LATENCY_RATE_PER_S.kafka, (seq) => void bus.publish(topic, frame(seq)));
  }
  await seen.done;
  const run = mode === 'flood' ? { perSecond: (n * 1000) / (seen.lastAt - t0) } : { perSecond: LATENCY_RATE_PER_S.kafka, ...seen.percentiles() };
  await bus.close();
  await deleteTopics([topic]);
  return run;
}

// ---- the run ------------------------------------------------------------------------------------

const fmtRate = (x: number) => `${Math.round(x).toLocaleString('en-US')}/s`;
const fmtMs = (x: number | undefined) => (x === undefined ? '-' : x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(2)} ms`);

async function main(): Promise<void> {
  const say = progress('bus bench');
  const load = () => loadavg()[0].toFixed(1);
  const loadBefore = load();
  say(
    `node ${process.version}, ${cpus().length} cores (load ${loadBefore}), 1 KB messages (${MESSAGE_BYTES} bytes of JSON), ` +
      `${KEYS.length} keys, ${PARTITIONS} partitions, ${rounds} rounds after a warm-up, median reported`,
  );

  // A warm-up round, thrown away: the first run pays for JIT compilation.
  await bareLoop(Math.min(memoryMessages, 100_000));
  await memoryThroughput(Math.min(memoryMessages, 100_000));
  const memoryRuns: Run[] = [];
  const bareRuns: Run[] = [];
  for (let round = 0; round < rounds; round++) {
    bareRuns.push(await bareLoop(memoryMessages));
    memoryRuns.push(await memoryThroughput(memoryMessages));
    say(`in-process round ${round + 1}: bus ${fmtRate(memoryRuns[round].perSecond)}, bare loop ${fmtRate(bareRuns[round].perSecond)}`);
  }
  const memLatency = await memoryLatency();
  const memory = median(memoryRuns.map((r) => r.perSecond));
  const bare = median(bareRuns.map((r) => r.perSecond));

  let kafka: { raw: number; adapter: number; rawLatency: Run; adapterLatency: Run; rawRuns: number[]; adapterRuns: number[] } | null = null;
  if (brokers.length > 0) {
    const rawRuns: number[] = [];
    const adapterRuns: number[] = [];
    // Alternate, so a noisy neighbour on the machine hurts both sides alike.
    for (let round = 0; round < rounds; round++) {
      rawRuns.push((await rawKafkaRun(kafkaMessages, 'flood')).perSecond);
      adapterRuns.push((await adapterRun(kafkaMessages, 'flood')).perSecond);
      say(`Kafka round ${round + 1}: adapter ${fmtRate(adapterRuns[round])}, raw kafkajs ${fmtRate(rawRuns[round])}`);
    }
    const latencyCount = LATENCY_RATE_PER_S.kafka * LATENCY_SECONDS;
    const rawLatency = await rawKafkaRun(latencyCount, 'paced');
    const adapterLatency = await adapterRun(latencyCount, 'paced');
    kafka = { raw: median(rawRuns), adapter: median(adapterRuns), rawLatency, adapterLatency, rawRuns, adapterRuns };
  } else {
    say('WALKOUT_KAFKA_BROKERS is not set: Kafka not measured (deploy/kafka/start.sh starts a broker)');
  }

  say(`load average went from ${loadBefore} to ${load()} on ${cpus().length} cores (other work on the machine slows every figure)`);
  const rows: string[][] = [
    ['', 'messages/s', 'p50 latency', 'p99 latency', 'latency at'],
    ['in-process bus', fmtRate(memory), fmtMs(memLatency.p50Ms), fmtMs(memLatency.p99Ms), fmtRate(memLatency.perSecond)],
    ['  baseline: bare loop', fmtRate(bare), '-', '-', ''],
  ];
  if (kafka)
    rows.push(
      ['Kafka bus (adapter)', fmtRate(kafka.adapter), fmtMs(kafka.adapterLatency.p50Ms), fmtMs(kafka.adapterLatency.p99Ms), fmtRate(kafka.adapterLatency.perSecond)],
      ['  baseline: raw kafkajs', fmtRate(kafka.raw), fmtMs(kafka.rawLatency.p50Ms), fmtMs(kafka.rawLatency.p99Ms), fmtRate(kafka.rawLatency.perSecond)],
    );
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  console.log(rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n'));

  const memoryOk = memory >= MEMORY_TARGET_PER_S;
  console.log(
    `in-process: ${fmtRate(memory)} = ${(memory / MEMORY_TARGET_PER_S).toFixed(2)}x the ${fmtRate(MEMORY_TARGET_PER_S)} target ` +
      `(${memoryOk ? 'met' : 'MISSED'}); ${(memory / bare).toFixed(2)}x the bare loop`,
  );
  if (kafka) {
    const ratio = kafka.adapter / kafka.raw;
    console.log(
      `Kafka: adapter / raw kafkajs throughput = ${ratio.toFixed(2)} (target ≥ ${(1 - KAFKA_MAX_SHORTFALL).toFixed(2)}: ${ratio >= 1 - KAFKA_MAX_SHORTFALL ? 'met' : 'MISSED'}); ` +
        `p99 latency adapter ${fmtMs(kafka.adapterLatency.p99Ms)} vs raw ${fmtMs(kafka.rawLatency.p99Ms)}`,
    );
  }
  if (values.json)
    console.log(JSON.stringify({ memory: { perSecond: memory, bare, latency: memLatency, runs: memoryRuns }, kafka, messageBytes: MESSAGE_BYTES, load: loadavg() }));
}

await main();
