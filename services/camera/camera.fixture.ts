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
import type { Recording } from '../../libs/recording/index.ts';

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
