import assert from 'node:assert/strict';
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
import { waitFor } from '../../libs/bus/bus.harness.ts';
import type { Recording } from '../../libs/recording/index.ts';
import { replayRecording } from '../../libs/replay/recording.replay.ts';
import type { DetectedPose, PoseDetector } from '../../libs/vision/pose.detector.ts';
import { evaluatePoses } from '../../libs/vision/pose.eval.ts';
import { createCameraService } from './camera.service.ts';

/** The committed demo recording: six cameras of the kiosk, 532 frames each. */
export const DEMO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo', import.meta.url));

/**
 * An in-process bus for camera service tests, with what comes out of the service collected: poses,
 * camera health and dead letters. `now` stamps publishedAt (a ManualClock's, for maxLagMs).
 */
export async function cameraTestBus(now?: () => number) {
  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory', retry: { maxAttempts: 1 } }), now });
  await bus.start();
  const poses: CameraPosesDetected[] = [];
  const dead: MessageDeadLettered[] = [];
  const health: DeviceHealthReported[] = [];
  await bus.subscribe({ group: 'test-poses', topics: ['camera.poses-detected'], handle: (d) => void poses.push(d.message as CameraPosesDetected) });
  await bus.subscribe({ group: 'test-health', topics: ['device.health-reported'], handle: (d) => void health.push(d.message as DeviceHealthReported) });
  await bus.subscribe({ group: 'test-dead', topics: [DEAD_LETTER_TOPIC], handle: (d) => void dead.push(d.message as MessageDeadLettered) });
  return { bus, poses, dead, health };
}

/** A frame of the demo recording as a camera would announce it, 100 ms of store time a frame. */
export function demoFrame(recording: Recording, eventId: string, cameraId: string, index: number, file = `cameras/${cameraId}.mp4`): CameraFrameCaptured {
  return {
    schemaVersion: SCHEMA_VERSION,
    eventId,
    storeId: recording.manifest.storeId,
    ts: recording.manifest.startMs + index * 100,
    cameraId,
    frameIndex: index,
    frame: { recording: DEMO, file, index },
  };
}

/** A ceiling and a shelf camera, and the stride that picks eval pose's 4 frames of each: 0, 133, 266, 399. */
const COMPARED_CAMERAS = ['cam-1', 'cam-5'];
const EVAL_FRAMES_PER_CAMERA = 4;
const COMPARED_STRIDE = 133;

/**
 * The demo replayed onto the bus through the camera service (every 133rd frame of cam-1 and cam-5),
 * and the same frames through eval pose: asserts that the service published, frame for frame, what
 * eval pose scored, and returns both for the test's own checks.
 */
export async function assertServiceDetectsAsEvalPose(recording: Recording, detectors: { onBus: PoseDetector; inEval: PoseDetector }, deadlineMs?: number) {
  const { bus, poses } = await cameraTestBus();
  const service = createCameraService({ index: recording.index, bus, detector: detectors.onBus, stride: COMPARED_STRIDE });
  try {
    await service.start();
    const replayed = await replayRecording(recording, bus, { cameras: COMPARED_CAMERAS });
    assert.equal(replayed.frameMessages, COMPARED_CAMERAS.length * 532, 'every frame of both cameras went on the bus');
    const expected = COMPARED_CAMERAS.length * EVAL_FRAMES_PER_CAMERA;
    await waitFor(() => poses.length === expected, () => `${expected} frames of poses (${poses.length} so far)`, deadlineMs);
  } finally {
    await service.stop();
    await bus.close();
  }
  const evaluated = new Map<string, DetectedPose[][]>();
  const report = await evaluatePoses(recording, {
    detector: detectors.inEval,
    cameraIds: COMPARED_CAMERAS,
    framesPerCamera: EVAL_FRAMES_PER_CAMERA,
    onScored: (cameraId, _truth, detections) => void evaluated.set(cameraId, [...(evaluated.get(cameraId) ?? []), detections]),
  });
  assert.deepEqual([...evaluated.keys()].sort(), COMPARED_CAMERAS);
  for (const [cameraId, expected] of evaluated) {
    const published = poses.filter((p) => p.cameraId === cameraId).sort((a, b) => a.frameIndex - b.frameIndex);
    assert.deepEqual(published.map((p) => p.frameIndex), [0, 133, 266, 399]);
    assert.deepEqual(published.map((p) => p.poses), expected, `${cameraId}: the service's poses are eval pose's`);
  }
  return { poses, stats: service.stats(), evaluated, report };
}
