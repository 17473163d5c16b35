import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CameraFrameCaptured, ShelfSamplesRecorded } from '../contracts/index.ts';
import { openRecording } from '../recording/index.ts';
import { replayRecording } from './recording.replay.ts';

const DEMO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo', import.meta.url));

test('replay publishes the frames of the cameras asked for, by reference, in store-time order among the samples and gates', async () => {
  const recording = await openRecording(DEMO);
  const published: Array<{ topic: string; message: { ts: number } }> = [];
  const publish = async (topic: string, message: unknown) => void published.push({ topic, message: message as { ts: number } });
  const stats = await replayRecording(recording, { publish } as never, { cameras: ['cam-1', 'cam-6'] });

  const frames = published.filter((p) => p.topic === 'camera.frame-captured').map((p) => p.message as CameraFrameCaptured);
  assert.equal(stats.frameMessages, frames.length);
  for (const cameraId of ['cam-1', 'cam-6']) {
    const own = frames.filter((f) => f.cameraId === cameraId);
    assert.deepEqual(own.map((f) => f.frameIndex), Array.from({ length: 532 }, (_, i) => i), `${cameraId}: every frame once, in order`);
    assert.deepEqual(own[7].frame, { recording: recording.dir, file: `cameras/${cameraId}.mp4`, index: 7 });
    assert.equal(own[7].ts, recording.manifest.startMs + 700);
  }
  assert.ok(frames.every((f, i) => i === 0 || frames[i - 1].ts <= f.ts), 'frames of both cameras merged in time order');
  // No sample published before a frame is later than the frame (batches may still carry earlier ones after it).
  let latestSample = -Infinity;
  for (const { topic, message } of published) {
    if (topic === 'shelf.samples-recorded') latestSample = Math.max(latestSample, ...(message as ShelfSamplesRecorded).samples.map(([ts]) => ts));
    if (topic === 'camera.frame-captured') assert.ok(latestSample <= message.ts, `a sample at ${latestSample} went before the frame at ${message.ts}`);
  }
  assert.ok(stats.sampleMessages > 0 && stats.gateMessages > 0);

  await assert.rejects(replayRecording(recording, { publish } as never, { cameras: ['cam-7'] }), /has no video of camera cam-7 \(it has cam-1, cam-2, cam-3, cam-4, cam-5, cam-6\)/);
});
