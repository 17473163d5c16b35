/**
 * How the camera stage scales with worker processes: N `walkout serve camera` processes in one
 * consumer group on a Kafka broker (WALKOUT_KAFKA_BROKERS), sharing the frame topic's partitions
 * (keyed by camera), fed the same frames of the committed demo's six cameras each round. Prints
 * frames a second for each pool size and the ratio against one worker measured in the same run; the
 * pool sizes take turns round by round, so load from other work on the machine falls on all alike.
 *
 *   WALKOUT_KAFKA_BROKERS=127.0.0.1:19092 node --import tsx bench/camera-workers.bench.ts \
 *     [--workers 1,2,3] [--rounds 1] [--frames 20] [--every 2] [--partitions 21] [--json] [-- serve camera options]
 *
 * Options after `--` go to every `walkout serve camera` (default: its own, input 640 with the second
 * looks when unsure). Each round starts the pool, detects one warm-up frame of each camera (models
 * loaded, decoders open, the group settled), then times the first publish of --frames frames of each
 * camera (every --every-th, after the warm-up) to the last one's poses out.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { kafkaTarget, waitFor } from '../libs/bus/bus.harness.ts';
import { openRecording } from '../libs/recording/index.ts';
import { DEMO, demoFrames, KIOSK_CAMERA_PARTITIONS, KIOSK_CAMERAS, startCameraPool } from '../services/cli/camera-workers.harness.ts';
import { terminate } from '../services/cli/serve.harness.ts';

/** Long enough for the slowest pool on a busy machine; a round that takes longer is a broken one. */
const ROUND_TIMEOUT_MS = 30 * 60_000;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    workers: { type: 'string', default: '1,2,3' },
    rounds: { type: 'string', default: '1' },
    frames: { type: 'string', default: '20' },
    every: { type: 'string', default: '2' },
    partitions: { type: 'string', default: String(KIOSK_CAMERA_PARTITIONS) },
    json: { type: 'boolean' },
  },
});

const target = kafkaTarget();
if (!('brokers' in target)) {
  process.stdout.write(`camera-workers: skipped: ${'skip' in target ? target.skip : target.fail}\n`);
  process.exit(0);
}
const pools = values.workers.split(',').map(Number);
const rounds = Number(values.rounds);
const perCamera = Number(values.frames);
const every = Number(values.every);
const partitions = Number(values.partitions);
const recording = await openRecording(DEMO);
const warmUp = demoFrames(recording, KIOSK_CAMERAS, { from: 0, every, count: 1 });
const frames = demoFrames(recording, KIOSK_CAMERAS, { from: every, every, count: perCamera });

interface Round {
  workers: number;
  frames: number;
  seconds: number;
  framesPerSecond: number;
  /** Frames each worker detected (warm-up included): how evenly the partitions spread the cameras. */
  perWorker: number[];
}

async function measure(workers: number): Promise<Round> {
  const run = { brokers: (target as { brokers: string[] }).brokers, namespace: `bench-camera-workers-${randomUUID().slice(0, 8)}.`, partitions };
  const pool = await startCameraPool(run, workers, positionals);
  try {
    await pool.publish(warmUp);
    await waitFor(() => pool.poses().size >= warmUp.length, () => `the ${warmUp.length} warm-up frames, have ${pool.poses().size}`, ROUND_TIMEOUT_MS);
    const started = performance.now();
    await pool.publish(frames);
    const all = warmUp.length + frames.length;
    await waitFor(() => pool.poses().size >= all, () => `${all} frames detected, have ${pool.poses().size}`, ROUND_TIMEOUT_MS);
    const seconds = (performance.now() - started) / 1000;
    const perWorker: number[] = [];
    for (const worker of pool.workers) {
      await terminate(worker);
      perWorker.push((JSON.parse(worker.stdout()) as { stats: { detected: number } }).stats.detected);
    }
    return { workers, frames: frames.length, seconds, framesPerSecond: frames.length / seconds, perWorker };
  } finally {
    await pool.cleanup();
  }
}

const results: Round[] = [];
for (let round = 0; round < rounds; round++)
  for (const workers of pools) {
    const result = await measure(workers);
    results.push(result);
    if (!values.json)
      process.stdout.write(
        `round ${round + 1}, ${workers} worker(s): ${result.frames} frames in ${result.seconds.toFixed(1)} s = ${result.framesPerSecond.toFixed(2)} frames/s ` +
          `(per worker ${result.perWorker.join(' / ')}; load average ${os.loadavg()[0].toFixed(1)})\n`,
      );
  }

const mean = (workers: number) => {
  const of = results.filter((r) => r.workers === workers);
  return of.reduce((sum, r) => sum + r.frames, 0) / of.reduce((sum, r) => sum + r.seconds, 0);
};
const baseline = mean(pools[0]);
const summary = pools.map((workers) => ({ workers, framesPerSecond: mean(workers), ratio: mean(workers) / baseline }));
if (values.json) process.stdout.write(`${JSON.stringify({ cores: os.cpus().length, partitions, serveArgs: positionals, results, summary }, null, 2)}\n`);
else {
  process.stdout.write(`\n${os.cpus().length} cores, ${partitions} partitions, serve camera ${positionals.join(' ') || '(its defaults)'}\n`);
  for (const row of summary)
    process.stdout.write(`${row.workers} worker(s): ${row.framesPerSecond.toFixed(2)} frames/s, ${row.ratio.toFixed(2)}x ${pools[0]} worker(s)\n`);
}
