import path from 'node:path';
import {
  SCHEMA_VERSION,
  WalkoutError,
  type Camera,
  type CameraFrameCaptured,
  type CameraPosesDetected,
  type StoreIndex,
  type topics,
} from '../../libs/contracts/index.ts';
import { RecentIds, type Bus, type Subscription } from '../../libs/bus/index.ts';
import { VideoFrameCursor } from '../../libs/video/frame.cursor.ts';
import type { PoseDetector, ViewGeometry } from '../../libs/vision/pose.detector.ts';
import { cameraViewGeometry } from '../../libs/vision/view.geometry.ts';
import { FrameReads } from '../../libs/vision/frame.reads.ts';
import { silentLogger, type Logger } from '../../libs/log/logger.ts';
import { systemClock, type Clock } from '../../libs/clock/clock.ts';

/**
 * Camera perception: frames in (`camera.frame-captured`, a reference into a video, keyed by camera),
 * the people in them out (`camera.poses-detected`, keyed by camera). Each frame is read from its
 * video through one decoder per file that moves forward with the frames, and handed to the pose
 * detector with its camera's view (which way is up at every pixel), as `eval pose` does.
 *
 * A camera whose frames cannot be read (a missing video, a frame past its end) is reported `dead` on
 * `device.health-reported`, and `ok` again once a frame of it reads; only changes are reported.
 *
 * At-least-once delivery: a frame already detected (same event id) is not detected again. With
 * `stride` n only frames whose index is a multiple of n are detected, so one core can keep up with
 * a share of the frames (MoveNet on TF.js WebAssembly takes about a second a frame with the mirrored
 * read and the upright look). A kind of camera can have a stride and whole reads of its own
 * (`byKind`): shelf cameras, which add views of the shoppers at their own shelf to the ceiling
 * cameras' views of the whole floor, can be read less often than the ceiling's. Live, `maxLagMs`
 * keeps the stage near the present when it cannot keep up: a frame that waited on the bus longer
 * than that is passed over (counted as late), so the detector's next frame is a recent one instead
 * of one ever further behind. Replay leaves it unset: there every frame counts, however late.
 */
export const CAMERA_GROUP = 'camera';
/** Decoders (one ffmpeg each) kept open by default; the one used longest ago is closed past this. */
const OPEN_VIDEOS = 32;

export interface CameraServiceDependencies {
  index: StoreIndex;
  bus: Pick<Bus<typeof topics>, 'publish' | 'subscribe'>;
  detector: PoseDetector;
  /** Detect every n-th frame of each camera (frame index a multiple of n); default 1, every frame. */
  stride?: number;
  /**
   * Read every n-th frame detected of each camera whole, the others only in windows round the
   * people its previous frame showed (FrameReads); default 1, every frame whole.
   */
  wholeFrameEvery?: number;
  /**
   * The cameras of a kind read their own way, in place of `stride` and `wholeFrameEvery`: shelf
   * cameras every 4th frame where the ceiling's are read every 2nd, say. A stride that is a multiple
   * of `stride` keeps their frames at instants the other cameras read too, where the tracker fuses
   * them.
   */
  byKind?: Readonly<Partial<Record<Camera['kind'], CameraKindReading>>>;
  /**
   * Frames detected at once, of as many partitions (so cameras): a detector on several threads
   * (onnx detectorThreads) reads them side by side. Each camera's frames stay in order (a camera is
   * one partition's). Default 1.
   */
  framesAtOnce?: number;
  /** Pass over frames that waited on the bus longer than this (by `clock`, ms); unset: none. */
  maxLagMs?: number;
  /** What "now" is for maxLagMs, against the bus's publishedAt; default the system clock. */
  clock?: Clock;
  /** Video decoders kept open at once (default 32: a few per camera of a large store). */
  openVideos?: number;
  logger?: Logger;
}

/** How the cameras of one kind are read (CameraServiceDependencies.byKind); a field left out is the service's own. */
export interface CameraKindReading {
  stride?: number;
  wholeFrameEvery?: number;
}

/** A number of frames given as an option: a whole number, at least 1. */
const framesOption = (frames: number | undefined, fallback: number) => Math.max(1, Math.floor(frames ?? fallback));

/** Every n-th frame of a camera that the service detects: its kind's stride (`byKind`), else the service's. */
export function cameraStride(camera: Pick<Camera, 'kind'>, deps: Pick<CameraServiceDependencies, 'stride' | 'byKind'>): number {
  return framesOption(deps.byKind?.[camera.kind]?.stride, framesOption(deps.stride, 1));
}

export interface CameraServiceStats {
  /** Frames handed to the detector. */
  detected: number;
  /** Frames left out by the stride. */
  skipped: number;
  /** Frames delivered again after they were detected. */
  redelivered: number;
  /** Frames passed over because they waited longer than maxLagMs. */
  late: number;
  /** Total time in the detector, ms (frames detected at once each count their own). */
  detectMs: number;
  /** Frames handed to the detector, by the camera's kind (ceiling, shelf). */
  detectedByKind: Record<string, number>;
  /** Total time waiting for frames from the video decoders, ms. */
  readMs: number;
  /** Video decoders open now. */
  openVideos: number;
}

export interface CameraService {
  start(): Promise<void>;
  /** Finishes the frame in flight, then stops and closes every decoder. */
  stop(): Promise<void>;
  /**
   * Detects one frame and publishes its poses (null when the stride, a redelivery or its lag skips
   * it). `publishedAt` is when the frame went on the bus (wall clock ms, as the bus stamps it), for maxLagMs.
   */
  ingestFrame(message: CameraFrameCaptured, publishedAt?: number): Promise<CameraPosesDetected | null>;
  stats(): CameraServiceStats;
}

export function createCameraService(deps: CameraServiceDependencies): CameraService {
  const { index, bus, detector } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const wholeFrameEvery = framesOption(deps.wholeFrameEvery, 1);
  const framesAtOnce = framesOption(deps.framesAtOnce, 1);
  /** Each camera's stride, by its kind's reading or the service's. */
  const strides = new Map([...index.cameras.values()].map((camera) => [camera.id, cameraStride(camera, deps)]));
  const wholeEvery = new Map([...index.cameras.values()].map((camera) => [camera.id, framesOption(deps.byKind?.[camera.kind]?.wholeFrameEvery, wholeFrameEvery)]));
  const views = new Map<string, ViewGeometry>();
  /** Each camera's people in its last frame detected: where to look next, and whether someone was missed. */
  const reads = new FrameReads(wholeFrameEvery, wholeEvery);
  const cursors = new Map<string, VideoFrameCursor>();
  /** Frames detected lately, to drop redeliveries. */
  const done = new RecentIds();
  /** Cameras whose last frame could not be read, with why. */
  const dead = new Map<string, string>();
  const stats: Omit<CameraServiceStats, 'openVideos'> = { detected: 0, skipped: 0, redelivered: 0, late: 0, detectMs: 0, readMs: 0, detectedByKind: {} };
  const openVideos = Math.max(1, deps.openVideos ?? OPEN_VIDEOS);
  let subscription: Subscription | undefined;

  const reportHealth = (message: CameraFrameCaptured, health: 'ok' | 'dead', detail: string) =>
    bus.publish('device.health-reported', {
      schemaVersion: SCHEMA_VERSION,
      eventId: `dh-${message.cameraId}-${message.ts}-${health}`,
      storeId: message.storeId,
      ts: message.ts,
      deviceId: message.cameraId,
      deviceKind: 'camera',
      health,
      detail,
    });

  /**
   * The decoder of a video, most recently used last; old ones are closed. It hands over only the
   * frames the stride keeps, decoding the next while this one is detected, into two arrays in turn:
   * a camera's frames are detected one after the other (the bus keeps a partition's order), and
   * nothing keeps a frame once its poses are out.
   */
  const cursorOf = async (file: string, size: { width: number; height: number }, every: number): Promise<VideoFrameCursor> => {
    const cursor = cursors.get(file) ?? new VideoFrameCursor(file, size, { every, reuseFrames: true, readAhead: true });
    cursors.delete(file);
    cursors.set(file, cursor);
    if (cursors.size > openVideos) {
      const [oldest, old] = cursors.entries().next().value!;
      cursors.delete(oldest);
      await old.close();
    }
    return cursor;
  };

  const ingestFrame = async (message: CameraFrameCaptured, publishedAt?: number): Promise<CameraPosesDetected | null> => {
    if (message.storeId !== index.store.id)
      throw new WalkoutError('MESSAGE_INVALID', `frame ${message.eventId} is from store ${message.storeId}; this camera service serves ${index.store.id}`);
    const camera = index.cameras.get(message.cameraId);
    if (!camera)
      throw new WalkoutError('MESSAGE_INVALID', `frame ${message.eventId} is from camera ${message.cameraId}, which store ${index.store.id} does not have`);
    const cameraStride = strides.get(camera.id)!;
    if (message.frameIndex % cameraStride !== 0) {
      stats.skipped++;
      return null;
    }
    if (done.has(message.eventId)) {
      stats.redelivered++;
      return null;
    }
    if (deps.maxLagMs !== undefined && publishedAt !== undefined && clock.now() - publishedAt > deps.maxLagMs) {
      stats.late++;
      return null;
    }
    // The frame's schema keeps `file` inside its recording folder (RelativePath).
    const readStarted = performance.now();
    const cursor = await cursorOf(path.join(message.frame.recording, message.frame.file), { width: camera.width, height: camera.height }, cameraStride);
    const frame = await cursor.frameAt(message.frame.index).catch(async (error: unknown) => {
      const detail = (error as Error).message;
      if (error instanceof WalkoutError && !dead.has(camera.id)) {
        dead.set(camera.id, detail);
        // Once per camera going dead: its later frames fail the same way, and the bus logs each one it dead-letters.
        logger.warn('camera dead: its frames cannot be read and go to the dead letters', { cameraId: camera.id, frameIndex: message.frameIndex, error: detail });
        await reportHealth(message, 'dead', `${camera.id}: frame ${message.frameIndex} cannot be read: ${detail}`);
      }
      throw error;
    });
    stats.readMs += performance.now() - readStarted;
    if (dead.delete(camera.id)) {
      logger.info('camera ok again: its frames read', { cameraId: camera.id, frameIndex: message.frameIndex });
      await reportHealth(message, 'ok', `${camera.id}: frame ${message.frameIndex} read again`);
    }
    let view = views.get(camera.id);
    if (!view) views.set(camera.id, (view = cameraViewGeometry(camera)));
    const started = performance.now();
    const hints = reads.hints(camera.id, frame);
    const poses = await detector.detect(frame, view, { ...hints, tally: camera.kind });
    reads.record(camera.id, hints, poses);
    stats.detectMs += performance.now() - started;
    stats.detected++;
    stats.detectedByKind[camera.kind] = (stats.detectedByKind[camera.kind] ?? 0) + 1;
    const detected: CameraPosesDetected = {
      schemaVersion: SCHEMA_VERSION,
      eventId: `poses-${message.eventId}`,
      storeId: message.storeId,
      ts: message.ts,
      cameraId: message.cameraId,
      frameIndex: message.frameIndex,
      model: detector.model,
      poses,
    };
    await bus.publish('camera.poses-detected', detected);
    done.add(message.eventId);
    return detected;
  };

  return {
    async start() {
      subscription = await bus.subscribe({
        group: CAMERA_GROUP,
        topics: ['camera.frame-captured'],
        concurrency: framesAtOnce,
        handle: async (delivery) => void (await ingestFrame(delivery.message as CameraFrameCaptured, delivery.publishedAt)),
      });
    },
    async stop() {
      await subscription?.close();
      subscription = undefined;
      await Promise.all([...cursors.values()].map((c) => c.close()));
      cursors.clear();
    },
    ingestFrame,
    stats: () => ({ ...stats, detectedByKind: { ...stats.detectedByKind }, openVideos: cursors.size }),
  };
}
