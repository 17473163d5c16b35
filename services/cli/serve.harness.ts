import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { topics, type TopicName } from '../../libs/contracts/index.ts';
import { createBus, parseBusConfig, type Bus } from '../../libs/bus/index.ts';
import { FAST_GROUPS, waitFor } from '../../libs/bus/bus.harness.ts';

/**
 * What the serve tests share: `walkout serve ...` started as a process of its own (on the in-process
 * bus, or for the kill tests on a Kafka broker, in a namespace of the test's own so nothing else on
 * the broker is read), a bus for the test on the same namespace, and a reader of a topic that can
 * tell when it has read everything on it.
 */

const root = new URL('../../', import.meta.url).pathname;

export interface KafkaRun {
  readonly brokers: string[];
  readonly namespace: string;
  /** Partitions of each topic the run creates (default: the bus's, 6). */
  readonly partitions?: number;
}

/** This process's environment without any WALKOUT_ setting: a developer's exports do not reach the service. */
export function envWithoutWalkout(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WALKOUT_')));
}

/** The environment a service process gets on Kafka: the Kafka bus, the test's namespace, quick group changes. */
export function serveEnv(run: KafkaRun): NodeJS.ProcessEnv {
  return {
    ...envWithoutWalkout(),
    WALKOUT_BUS: 'kafka',
    WALKOUT_KAFKA_BROKERS: run.brokers.join(','),
    WALKOUT_KAFKA_NAMESPACE: run.namespace,
    WALKOUT_KAFKA_SESSION_TIMEOUT_MS: String(FAST_GROUPS.sessionTimeoutMs),
    WALKOUT_KAFKA_HEARTBEAT_MS: String(FAST_GROUPS.heartbeatIntervalMs),
    WALKOUT_KAFKA_REBALANCE_TIMEOUT_MS: String(FAST_GROUPS.rebalanceTimeoutMs),
    WALKOUT_KAFKA_FETCH_MAX_WAIT_MS: String(FAST_GROUPS.fetchMaxWaitMs),
    WALKOUT_LOG_LEVEL: 'info',
    ...(run.partitions ? { WALKOUT_BUS_PARTITIONS: String(run.partitions) } : {}),
  };
}

export interface ServeProcess {
  readonly child: ChildProcess;
  /** Resolves once the service says it is serving (its group joined); rejects when it exits first. */
  readonly serving: Promise<void>;
  /** Everything it wrote on standard output (its summary, at the end). */
  stdout(): string;
  /** Everything it wrote on standard error (its log lines). */
  stderr(): string;
}

/** Starts `walkout serve ...` with the environment given: by default none of ours, so the in-process bus. */
export function startServe(args: string[], env: NodeJS.ProcessEnv = envWithoutWalkout()): ServeProcess {
  const child = spawn(process.execPath, ['bin/walkout.js', 'serve', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const serving = waitFor(
    () => stderr.includes('"msg":"serving"') || child.exitCode !== null,
    () => `walkout serve ${args.join(' ')} to start serving:\n${stderr}`,
    60_000,
  ).then(() => {
    if (child.exitCode !== null) throw new Error(`walkout serve ${args.join(' ')} exited with ${child.exitCode}:\n${stderr}`);
  });
  // A process expected to refuse its arguments is never awaited as serving: its exit is not a failure of the test.
  serving.catch(() => undefined);
  return { child, serving, stdout: () => stdout, stderr: () => stderr };
}

/** Kills the process with SIGKILL (no goodbye: nothing committed, nothing flushed) and waits for it to go. */
export async function crash(process: ServeProcess): Promise<void> {
  process.child.kill('SIGKILL');
  if (process.child.exitCode === null && process.child.signalCode === null) await once(process.child, 'exit');
}

/** Stops the process the way an orchestrator does (SIGTERM); resolves to its exit code. */
export async function terminate(process: ServeProcess): Promise<number | null> {
  process.child.kill('SIGTERM');
  if (process.child.exitCode === null && process.child.signalCode === null) await once(process.child, 'exit');
  return process.child.exitCode;
}

/** The test's own bus on the run's namespace. */
export async function testBus(run: KafkaRun): Promise<Bus<typeof topics>> {
  const bus = await createBus({
    topics,
    config: parseBusConfig({
      kind: 'kafka',
      ...(run.partitions ? { partitions: run.partitions } : {}),
      kafka: { brokers: run.brokers, clientId: 'walkout-kill-tests', namespace: run.namespace, ...FAST_GROUPS },
    }),
  });
  await bus.start();
  return bus;
}

/** Every message of a topic, as read by a group of the test's own, and whether it has read to the end. */
export async function readTopic<T extends TopicName>(bus: Bus<typeof topics>, run: KafkaRun, topic: T) {
  const messages: Array<{ partition: number; offset: string; message: unknown }> = [];
  const newest = new Map<number, bigint>();
  await bus.subscribe({
    group: `kill-test-reader-${topic}`,
    topics: [topic],
    handle: ({ message, partition, offset }) => {
      messages.push({ partition, offset, message });
      if ((newest.get(partition) ?? -1n) < BigInt(offset)) newest.set(partition, BigInt(offset));
    },
  });
  return {
    messages,
    /** Waits until every message on the topic now has been read. */
    async readToEnd(): Promise<void> {
      const admin = new Kafka({ clientId: 'walkout-kill-tests', brokers: run.brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(run.namespace + topic);
        await waitFor(
          () => ends.every(({ partition, high }) => BigInt(high) === 0n || (newest.get(partition) ?? -1n) >= BigInt(high) - 1n),
          () => `${topic} read to its end (${JSON.stringify(ends)}), have ${JSON.stringify([...newest].map(([p, o]) => [p, String(o)]))}`,
          60_000,
        );
      } finally {
        await admin.disconnect();
      }
    },
  };
}

/** Deletes the run's topics (best effort, as for every test topic). */
export async function deleteTopics(run: KafkaRun): Promise<void> {
  const admin = new Kafka({ clientId: 'walkout-kill-tests', brokers: run.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((topic) => topic.startsWith(run.namespace));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } catch {
    // A developer's broker keeps a few test topics; CI's is thrown away.
  } finally {
    await admin.disconnect();
  }
}

/**
 * Holds a publisher back at store-time gates: messages later than the current gate wait until the
 * test opens it, so a test can kill a service with the stream stopped where it chose.
 */
export function gatedPublisher(bus: Pick<Bus<typeof topics>, 'publish'>, gates: number[]) {
  let stage = 0;
  let waiting: Array<() => void> = [];
  const publisher: Pick<Bus<typeof topics>, 'publish'> = {
    async publish(topic, message) {
      const ts = (message as { ts: number }).ts;
      while (stage < gates.length && ts > gates[stage]) await new Promise<void>((resolve) => waiting.push(resolve));
      return bus.publish(topic, message);
    },
  };
  return {
    publisher,
    /** Lets the stream run to the next gate (or to its end). */
    open() {
      stage++;
      const woken = waiting;
      waiting = [];
      for (const wake of woken) wake();
    },
  };
}

export interface KillRun<M extends { eventId: string }> {
  readonly run: KafkaRun;
  /** The arguments of `walkout serve`. */
  readonly args: string[];
  /** The topic the service publishes to. */
  readonly output: TopicName;
  /** What one service that never stops publishes for the same input. */
  readonly reference: readonly M[];
  /** Store time past which the input makes a message of the reference come out. */
  readonly outAfter: (message: M) => number;
  /** Store times at which the input stops and the service is killed. */
  readonly kills: readonly number[];
  /** Publishes the whole input through the publisher given (which holds it at the kills). */
  readonly feed: (publisher: Pick<Bus<typeof topics>, 'publish'>) => Promise<unknown>;
}

/**
 * Runs `walkout serve ...` over an input, killing it with SIGKILL at each kill time (with the input
 * stopped there, and going on while the service is down) and starting it again; then waits for every
 * message of the reference, stops the last process with SIGTERM (it must exit 0) and reads the
 * output topic to its end. Returns every message published, duplicates included.
 */
export async function serveThroughKills<M extends { eventId: string }>(t: TestContext, spec: KillRun<M>): Promise<M[]> {
  const bus = await testBus(spec.run);
  const processes: ServeProcess[] = [];
  t.after(async () => {
    for (const process of processes) if (process.child.exitCode === null && process.child.signalCode === null) await crash(process);
    await bus.close();
    await deleteTopics(spec.run);
  });
  const out = await readTopic(bus, spec.run, spec.output);
  const seen = () => new Set(out.messages.map(({ message }) => (message as M).eventId));
  const gate = gatedPublisher(bus, [...spec.kills]);
  let service = startServe(spec.args, serveEnv(spec.run));
  processes.push(service);
  await service.serving;
  const feeding = spec.feed(gate.publisher);
  for (const killAt of spec.kills) {
    const before = spec.reference.filter((message) => spec.outAfter(message) < killAt).map((message) => message.eventId);
    await waitFor(() => before.every((id) => seen().has(id)), () => `the ${before.length} messages out before the kill at ${killAt}, have ${seen().size}`, 120_000);
    await crash(service);
    gate.open(); // the input goes on while the service is down
    service = startServe(spec.args, serveEnv(spec.run));
    processes.push(service);
    await service.serving;
  }
  await feeding;
  await waitFor(() => spec.reference.every((message) => seen().has(message.eventId)), () => `all ${spec.reference.length} messages, have ${seen().size}`, 180_000);
  assert.equal(await terminate(service), 0, service.stderr());
  await out.readToEnd();
  return out.messages.map(({ message }) => message as M);
}
