import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import test from 'node:test';
import { kafkaTarget, waitFor } from '../../libs/bus/bus.harness.ts';
import { openRecording } from '../../libs/recording/index.ts';
import { DEMO, demoFrames, KIOSK_CAMERA_PARTITIONS, KIOSK_CAMERAS, startCameraPool } from './camera-workers.harness.ts';
import { terminate } from './serve.harness.ts';

/**
 * Two `walkout serve camera` processes in one group on a real broker share the cameras' partitions;
 * one is stopped (SIGTERM) while frames wait, and every frame's poses still come out, from the
 * other. Needs WALKOUT_KAFKA_BROKERS; skipped without it, failed without it under CI=true.
 */

const target = kafkaTarget();
if ('fail' in target) test('a Kafka broker is configured for the camera worker pool test', () => assert.fail(target.fail));

/** The small, fast reading: this test is about who detects which frame, not how well. */
const FAST_READING = ['--input-size', '256', '--mirror', 'off', '--refine', 'none'];
/** Frames of each camera: every 5th of the demo's first 12 s. */
const FRAMES_PER_CAMERA = 24;

test('two camera workers share the cameras, and stopping one mid-stream loses no frame: the other detects the rest', { timeout: 600_000, skip: 'skip' in target ? target.skip : false }, async (t) => {
  if (!('brokers' in target)) return assert.fail('fail' in target ? target.fail : target.skip);
  const recording = await openRecording(DEMO);
  const run = { brokers: target.brokers, namespace: `camera-pool-${randomUUID().slice(0, 8)}.`, partitions: KIOSK_CAMERA_PARTITIONS };
  const pool = await startCameraPool(run, 2, FAST_READING, t);
  const [stopped, kept] = pool.workers;
  const frames = demoFrames(recording, KIOSK_CAMERAS, { from: 0, every: 5, count: FRAMES_PER_CAMERA });
  await pool.publish(frames);

  // Stopped once a third of the frames are out: the rest of its cameras' frames are still waiting.
  await waitFor(() => pool.poses().size >= frames.length / 3, () => `a third of ${frames.length} frames detected, have ${pool.poses().size}`, 300_000);
  assert.equal(await terminate(stopped), 0, stopped.stderr());
  const stoppedStats = JSON.parse(stopped.stdout()).stats as { detected: number };

  await waitFor(() => pool.poses().size >= frames.length, () => `every one of ${frames.length} frames detected, have ${pool.poses().size}`, 300_000);
  assert.equal(await terminate(kept), 0, kept.stderr());
  const keptStats = JSON.parse(kept.stdout()).stats as { detected: number };

  const poses = pool.poses();
  assert.deepEqual([...poses.keys()].sort(), frames.map((frame) => `poses-${frame.eventId}`).sort(), "every frame's poses once after dedupe by id: none missing, none more");
  for (const frame of frames) assert.equal(poses.get(`poses-${frame.eventId}`)!.frameIndex, frame.frameIndex);
  // Both worked before the stop: with 21 partitions the six cameras split three and three.
  assert.ok(stoppedStats.detected > 0, `the stopped worker detected frames of its cameras: ${stoppedStats.detected}`);
  assert.ok(stoppedStats.detected < frames.length, `the stopped worker left frames to the other: ${stoppedStats.detected}`);
  assert.ok(keptStats.detected >= frames.length - stoppedStats.detected, `the kept worker detected the rest: ${keptStats.detected}`);
  t.diagnostic(`stopped worker ${stoppedStats.detected} frames, kept worker ${keptStats.detected}`);
});
