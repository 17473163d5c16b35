import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DEAD_LETTER_TOPIC,
  SCHEMA_VERSION,
  topics,
  type CameraFrameCaptured,
  type CameraPosesDetected,
  type DeviceHealthReported,
  type MessageDeadLettered,
} from '../../libs/contracts/index.ts';
import { createMemoryBus, parseBusConfig } from '../../libs/bus/index.ts';
import { openRecording } from '../../libs/recording/index.ts';
import { replayRecording } from '../../libs/replay/recording.replay.ts';
import { createDetector } from '../../libs/vision/detector.registry.ts';
import { evaluatePoses } from '../../libs/vision/pose.eval.ts';
import { standInDetector } from '../../libs/vision/pose.fixture.ts';
import { createCameraService } from './camera.service.ts';

const DEMO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo', import.meta.url));

async function storeBus() {
  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory', retry: { maxAttempts: 1 } }) });
  await bus.start();
  const poses: CameraPosesDetected[] = [];
  const dead: MessageDeadLettered[] = [];
  const health: DeviceHealthReported[] = [];
  await bus.subscribe({ group: 'test-poses', topics: ['camera.poses-detected'], handle: (d) => void poses.push(d.message as CameraPosesDetected) });
  await bus.subscribe({ group: 'test-health', topics: ['device.health-reported'], handle: (d) => void health.push(d.message as DeviceHealthReported) });
  await bus.subscribe({ group: 'test-dead', topics: [DEAD_LETTER_TOPIC], handle: (d) => void dead.push(d.message as MessageDeadLettered) });
  return { bus, poses, dead, health };
}

/** Waits (up to a minute) until the condition holds: the service works at the detector's pace. */
async function until(condition: () => boolean, what: string) {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('replayed frames go through the camera service on the bus: MoveNet finds what eval pose finds in the same frames', async () => {
  const recording = await openRecording(DEMO);
  const movenet = await createDetector({ type: 'movenet', inputSize: 640, refine: 'upright' });
  const { bus, poses } = await storeBus();
  try {
    // Every 133rd frame of a ceiling and a shelf camera: frames 0, 133, 266 and 399, as eval pose's 4 frames a camera.
    const service = createCameraService({ index: recording.index, bus, detector: movenet, stride: 133 });
    await service.start();
    const replayed = await replayRecording(recording, bus, { cameras: ['cam-1', 'cam-5'] });
    assert.equal(replayed.frameMessages, 2 * 532, 'every frame of both cameras went on the bus');
    await until(() => poses.length === 8, '8 frames of poses');
    await service.stop();
    assert.deepEqual(service.stats().detected, 8);
    assert.equal(service.stats().skipped, 2 * 532 - 8);

    const byCamera = new Map<string, CameraPosesDetected[]>();
    const report = await evaluatePoses(recording, {
      detector: movenet,
      cameraIds: ['cam-1', 'cam-5'],
      framesPerCamera: 4,
      onScored: (cameraId, truth, detections) =>
        void byCamera.set(cameraId, [...(byCamera.get(cameraId) ?? []), { frameIndex: truth.frameIndex, poses: detections } as CameraPosesDetected]),
    });
    assert.equal(report.overall.frames, 8);
    for (const [cameraId, expected] of byCamera) {
      const published = poses.filter((p) => p.cameraId === cameraId).sort((a, b) => a.frameIndex - b.frameIndex);
      assert.deepEqual(published.map((p) => p.frameIndex), [0, 133, 266, 399]);
      assert.deepEqual(published.map((p) => p.poses), expected.map((e) => e.poses), `${cameraId}: the service's poses are eval pose's`);
    }
    assert.ok(poses.reduce((n, p) => n + p.poses.length, 0) >= 8, 'people were found, so the comparison is not of empty lists');
    const first = poses.find((p) => p.cameraId === 'cam-5' && p.frameIndex === 133)!;
    assert.equal(first.model, movenet.model);
    assert.equal(first.storeId, 'kiosk-shelf-cams');
    assert.equal(first.ts, recording.manifest.startMs + 13_300);
  } finally {
    movenet.dispose();
    await bus.close();
  }
});

test('a redelivered frame is not detected twice; frames that cannot be used are dead-lettered with what and where, and later frames still go through', async () => {
  const recording = await openRecording(DEMO);
  // One "person" whose keypoints sit at the frame's first pixel value: different frames, different poses.
  const counting = standInDetector('counting-model', (frame) => [
    { score: 0.9, box: [0, 0, 10, 10], keypoints: Array.from({ length: 17 }, (): [number, number, number] => [frame.data[0], 10, 0.9]) },
  ]);
  const { bus, poses, dead, health } = await storeBus();
  const service = createCameraService({ index: recording.index, bus, detector: counting });
  await service.start();
  const frame = (eventId: string, cameraId: string, index: number, file = `cameras/${cameraId}.mp4`): CameraFrameCaptured => ({
    schemaVersion: SCHEMA_VERSION,
    eventId,
    storeId: recording.manifest.storeId,
    ts: recording.manifest.startMs + index * 100,
    cameraId,
    frameIndex: index,
    frame: { recording: DEMO, file, index },
  });
  try {
    await bus.publish('camera.frame-captured', frame('f-1', 'cam-2', 10));
    await bus.publish('camera.frame-captured', frame('f-1', 'cam-2', 10));
    await bus.publish('camera.frame-captured', frame('f-2', 'cam-9', 11));
    // A frame naming a file outside its recording is refused by the topic's schema, at the publisher.
    await assert.rejects(
      bus.publish('camera.frame-captured', frame('f-3', 'cam-2', 12, '../../package.json')),
      /does not match its topic schema:\ncamera\.frame-captured at frame\.file: paths stay inside the recording folder/,
    );
    await bus.publish('camera.frame-captured', frame('f-4', 'cam-2', 600));
    await bus.publish('camera.frame-captured', { ...frame('f-6', 'cam-2', 13), storeId: 'convenience' });
    await bus.publish('camera.frame-captured', frame('f-5', 'cam-2', 12));
    await until(() => poses.length === 2 && dead.length === 3, 'two frames of poses and three dead letters');
    await service.stop();
    assert.equal(counting.calls, 2);
    assert.deepEqual(poses.map((p) => [p.eventId, p.frameIndex]), [['poses-f-1', 10], ['poses-f-5', 12]]);
    assert.equal(service.stats().redelivered, 1);
    // Dead letters of different cameras (partition keys) need not come in publishing order.
    const reasons = dead.map((d) => `${d.error.code}: ${d.error.message}`).sort();
    assert.match(reasons[0], /^MESSAGE_INVALID: frame f-2 is from camera cam-9, which store kiosk-shelf-cams does not have/);
    assert.match(reasons[1], /^MESSAGE_INVALID: frame f-6 is from store convenience; this camera service serves kiosk-shelf-cams/);
    assert.match(reasons[2], /^RECORDING_INVALID: .*cameras\/cam-2\.mp4 has no frame 600: its last frame is 531/);
    // The unreadable frame made cam-2 dead for the operator; the next frame that read made it ok again.
    await until(() => health.length === 2, 'two health reports');
    assert.deepEqual(health.map((h) => [h.deviceId, h.deviceKind, h.health]), [['cam-2', 'camera', 'dead'], ['cam-2', 'camera', 'ok']]);
    assert.match(health[0].detail, /cam-2: frame 600 cannot be read: .*has no frame 600/);
  } finally {
    await service.stop();
    await bus.close();
  }
});

test('live, a camera stage that cannot keep up passes over frames that waited too long and goes on from the present', async () => {
  const recording = await openRecording(DEMO);
  // A detector far slower than frames come: 600 ms a frame.
  const slow = standInDetector('slow-model', () => []);
  const detect = slow.detect.bind(slow);
  slow.detect = async (frame) => {
    await new Promise((resolve) => setTimeout(resolve, 600));
    return detect(frame);
  };
  const { bus, poses } = await storeBus();
  const service = createCameraService({ index: recording.index, bus, detector: slow, maxLagMs: 300 });
  await service.start();
  const frame = (index: number): CameraFrameCaptured => ({
    schemaVersion: SCHEMA_VERSION,
    eventId: `live-${index}`,
    storeId: recording.manifest.storeId,
    ts: recording.manifest.startMs + index * 100,
    cameraId: 'cam-4',
    frameIndex: index,
    frame: { recording: DEMO, file: 'cameras/cam-4.mp4', index },
  });
  try {
    // Four frames at once: the first is detected; the other three wait 600 ms behind it, past the limit.
    for (const index of [0, 1, 2, 3]) await bus.publish('camera.frame-captured', frame(index));
    await until(() => service.stats().detected + service.stats().late === 4, 'four frames taken or passed over');
    // A frame that comes once the stage is free again is detected.
    await bus.publish('camera.frame-captured', frame(4));
    await until(() => poses.length === 2, 'the next fresh frame');
    await service.stop();
    assert.deepEqual(poses.map((p) => p.frameIndex), [0, 4]);
    assert.deepEqual({ detected: service.stats().detected, late: service.stats().late }, { detected: 2, late: 3 });
  } finally {
    await service.stop();
    await bus.close();
  }
});

test('the camera service keeps only so many videos open, closing the one used longest ago', async () => {
  const recording = await openRecording(DEMO);
  const seeing = standInDetector('seeing-model', () => []);
  const { bus, poses } = await storeBus();
  const service = createCameraService({ index: recording.index, bus, detector: seeing, openVideos: 2 });
  const frame = (cameraId: string, index: number): CameraFrameCaptured => ({
    schemaVersion: SCHEMA_VERSION,
    eventId: `open-${cameraId}-${index}`,
    storeId: recording.manifest.storeId,
    ts: recording.manifest.startMs + index * 100,
    cameraId,
    frameIndex: index,
    frame: { recording: DEMO, file: `cameras/${cameraId}.mp4`, index },
  });
  try {
    for (const cameraId of ['cam-1', 'cam-2', 'cam-3', 'cam-1']) await service.ingestFrame(frame(cameraId, 3));
    assert.equal(service.stats().openVideos, 2);
    assert.equal(service.stats().detected, 3, 'cam-1 frame 3 the second time is a redelivery');
    // cam-1's decoder was closed for cam-3's; its next frame opens it again (and closes cam-2's).
    const again = await service.ingestFrame(frame('cam-1', 4));
    assert.equal(again?.frameIndex, 4);
    assert.deepEqual([service.stats().detected, service.stats().openVideos], [4, 2]);
    await until(() => poses.length === 4, 'the four frames published');
  } finally {
    await service.stop();
    await bus.close();
  }
});
