import type { TestContext } from 'node:test';
import type { CameraFrameCaptured, CameraPosesDetected } from '../../libs/contracts/index.ts';
import type { Recording } from '../../libs/recording/index.ts';
import { DEMO, demoFrame } from '../camera/camera.fixture.ts';
import { crash, deleteTopics, readTopic, serveEnv, startServe, testBus, type KafkaRun, type ServeProcess } from './serve.harness.ts';

/**
 * A pool of `walkout serve camera` processes on a Kafka broker, in one consumer group, fed frames of
 * the committed demo: what the worker-pool test and bench/camera-workers.bench.ts share.
 */

/**
 * Partitions of the frame topic for the kiosk's six cameras. Kafka puts a key on partition
 * murmur2(key) mod n, and the group hands partitions out round-robin, so how evenly the cameras
 * spread over the workers depends on n: with the bus's default 6, cam-1..cam-6 land on partitions
 * 3, 5, 5, 4, 1, 3, and two workers get one camera and five; with 21 (0, 20, 11, 19, 10, 15) two
 * workers get three cameras each and three get two each.
 */
export const KIOSK_CAMERA_PARTITIONS = 21;

export const KIOSK_CAMERAS = ['cam-1', 'cam-2', 'cam-3', 'cam-4', 'cam-5', 'cam-6'] as const;

/** Frames `from`, `from + every`, ... (`count` of each camera) of the demo, in store-time order across cameras. */
export function demoFrames(recording: Recording, cameras: readonly string[], spec: { from: number; every: number; count: number }): CameraFrameCaptured[] {
  const frames: CameraFrameCaptured[] = [];
  for (let n = 0; n < spec.count; n++) {
    const index = spec.from + n * spec.every;
    for (const cameraId of cameras) frames.push(demoFrame(recording, `frame-${cameraId}-${index}`, cameraId, index));
  }
  return frames;
}

export { DEMO };

export interface CameraPool {
  readonly workers: ServeProcess[];
  /** Publishes the frames, one camera's in order (the bus keeps order per camera). */
  publish(frames: readonly CameraFrameCaptured[]): Promise<void>;
  /** Distinct poses events read so far, by event id. */
  poses(): Map<string, CameraPosesDetected>;
}

/**
 * Starts `workers` camera workers with `args` on a fresh namespace of the run, and waits until each
 * serves (the last one's join is the last rebalance: the partitions are shared out when it serves).
 * Everything is stopped and the topics deleted after the test (or `cleanup` for a bench).
 */
export async function startCameraPool(run: KafkaRun, workers: number, args: readonly string[], t?: TestContext): Promise<CameraPool & { cleanup(): Promise<void> }> {
  const bus = await testBus(run);
  const out = await readTopic(bus, run, 'camera.poses-detected');
  const started: ServeProcess[] = [];
  const cleanup = async () => {
    for (const worker of started) if (worker.child.exitCode === null && worker.child.signalCode === null) await crash(worker);
    await bus.close();
    await deleteTopics(run);
  };
  t?.after(cleanup);
  // No shelf stage runs beside the pool: every frame is read as it comes, shelf cameras' too.
  for (let i = 0; i < workers; i++) started.push(startServe(['camera', '--store', `${DEMO}/store.json`, '--json', '--shelf-cameras', 'always', ...args], serveEnv(run)));
  try {
    for (const worker of started) await worker.serving;
  } catch (error) {
    if (!t) await cleanup();
    throw error;
  }
  return {
    workers: started,
    async publish(frames) {
      const byCamera = new Map<string, CameraFrameCaptured[]>();
      for (const frame of frames) byCamera.set(frame.cameraId, [...(byCamera.get(frame.cameraId) ?? []), frame]);
      await Promise.all([...byCamera.values()].map(async (ofCamera) => {
        for (const frame of ofCamera) await bus.publish('camera.frame-captured', frame);
      }));
    },
    poses: () => new Map(out.messages.map(({ message }) => [(message as CameraPosesDetected).eventId, message as CameraPosesDetected])),
    cleanup,
  };
}
