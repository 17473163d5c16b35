import path from 'node:path';
import {
  SCHEMA_VERSION,
  WalkoutError,
  type Camera,
  type CameraFrameCaptured,
  type CameraPosesDetected,
  type ShelfActivityReported,
  type StoreIndex,
  type topics,
} from '../../libs/contracts/index.ts';
import { RecentIds, type Bus, type Release, type Subscription } from '../../libs/bus/index.ts';
import { VideoFrameCursor } from '../../libs/video/frame.cursor.ts';
import type { PoseDetector, ViewGeometry } from '../../libs/vision/pose.detector.ts';
import { cameraViewGeometry } from '../../libs/vision/view.geometry.ts';
import { FrameReads } from '../../libs/vision/frame.reads.ts';
import { ArrayPool } from '../../libs/vision/array.pool.ts';
import { SHELF_PRE_ROLL_MS, SHELF_TAIL_MS, ShelfDemand, shelfCameraShelves } from '../../libs/vision/shelf.demand.ts';
import type { RgbFrame } from '../../libs/video/rgb.frame.ts';
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
 *
 * With `shelfOnDemand` the shelf cameras are read only around their shelves' activity
 * (libs/vision/shelf.demand.ts): the service also takes `shelf.activity-reported` (its own group,
 * SHELF_ACTIVITY_GROUP), and a shelf camera's frame is read when a shelf it looks at is active within
 * the pre-roll after it or the tail before it, and passed over when its shelves have been judged far
 * enough past it without that. A frame the shelves have not yet been judged far enough for waits,
 * decoded (the pre-roll), its message held uncommitted; a camera's frames are decided and published in
 * order. A frame passed over is published as poses with `passedOver`, so the tracker knows the camera
 * has gone past that instant: the tracker's watermark, and so fusion's, never moves past a frame that
 * may still be read. A frame that waits longer than `waitMs` (service clock) for its shelves' word is
 * read: without the shelf stage the store reads as it would without this option.
 */
export const CAMERA_GROUP = 'camera';
/** The group the camera service takes shelf activity in (shelfOnDemand); each member needs every shelf's, so several members need a group each (`activityGroup`). */
export const SHELF_ACTIVITY_GROUP = 'camera-shelf-activity';
/** How long a shelf camera's frame waits at most for its shelves' word before it is read anyway, ms (service clock). */
export const SHELF_WORD_WAIT_MS = 10_000;
/** How often frames waiting for their shelves' word are looked at, ms (service clock). */
const WAIT_CHECK_MS = 500;
/** Tries at detecting a frame that waited before it is given up on (passed over, and logged as an error). */
const WAITING_FRAME_ATTEMPTS = 3;
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
  /** Read the shelf cameras only around their shelves' activity (see above); unset: every frame the stride keeps. */
  shelfOnDemand?: ShelfOnDemand;
  logger?: Logger;
}

/** How shelf cameras are read on demand (CameraServiceDependencies.shelfOnDemand). */
export interface ShelfOnDemand {
  /** Read a shelf camera's frames this long before a shelf it looks at becomes active, ms (default SHELF_PRE_ROLL_MS). */
  preRollMs?: number;
  /** And this long after it comes to rest, ms (default SHELF_TAIL_MS). */
  tailMs?: number;
  /** A frame waits at most this long (service clock, ms) for its shelves' word; then it is read (default SHELF_WORD_WAIT_MS). */
  waitMs?: number;
  /** The consumer group of shelf activity (default SHELF_ACTIVITY_GROUP; one per member when several share the cameras). */
  activityGroup?: string;
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
  /** With shelfOnDemand: the shelf cameras' frames read, passed over, and read because their shelves' word was late. */
  onDemand?: { read: number; passedOver: number; readUnheard: number; waiting: number };
}

export interface CameraService {
  start(): Promise<void>;
  /** Finishes the frame in flight, then stops and closes every decoder. */
  stop(): Promise<void>;
  /**
   * Detects one frame and publishes its poses (null when the stride, a redelivery or its lag skips
   * it, or when it waits for its shelves' word). `publishedAt` is when the frame went on the bus (wall
   * clock ms, as the bus stamps it), for maxLagMs; `hold` keeps its message uncommitted while it waits.
   */
  ingestFrame(message: CameraFrameCaptured, publishedAt?: number, hold?: () => Release): Promise<CameraPosesDetected | null>;
  /** Takes one shelf's activity (shelfOnDemand), and reads or passes over the frames it decides. */
  ingestActivity(report: ShelfActivityReported): Promise<void>;
  stats(): CameraServiceStats;
}

/** A shelf camera's frame waiting for its shelves' word, decoded unless it is to be passed over. */
interface WaitingFrame {
  message: CameraFrameCaptured;
  camera: Camera;
  frame?: RgbFrame;
  /** Decided to be passed over when it came (only the frames before it kept it waiting). */
  passOver: boolean;
  /** When it came, service clock. */
  since: number;
  /** Read because its shelves' word did not come within waitMs. */
  unheard?: boolean;
  attempts: number;
  release?: Release;
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
  /** Shelf cameras read on demand, and what decides their frames. */
  const shelfDemand =
    deps.shelfOnDemand &&
    new ShelfDemand(shelfCameraShelves(index), { preRollMs: deps.shelfOnDemand.preRollMs ?? SHELF_PRE_ROLL_MS, tailMs: deps.shelfOnDemand.tailMs ?? SHELF_TAIL_MS });
  const waitMs = deps.shelfOnDemand?.waitMs ?? SHELF_WORD_WAIT_MS;
  /** Each on-demand camera's frames waiting for their shelves' word, oldest first. */
  const waiting = new Map<string, WaitingFrame[]>();
  /** Each on-demand camera's work in turn (its frames are decided in order). */
  const turns = new Map<string, Promise<void>>();
  /** Each on-demand camera's newest frame taken, store ms. */
  const lastTaken = new Map<string, number>();
  /** On-demand cameras with a decision of their waiting frames scheduled (decideSoon). */
  const decisionsDue = new Set<string>();
  /** Shelf activity reports held uncommitted, per shelf, oldest first. */
  const heldReports = new Map<string, Array<{ ts: number; release: Release }>>();
  const framePool = new ArrayPool<Uint8Array>((length) => new Uint8Array(length), 64);
  const onDemandStats = { read: 0, passedOver: 0, readUnheard: 0 };
  let activitySubscription: Subscription | undefined;
  let stopWaitCheck: (() => void) | undefined;

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

  /** The frame a message names, through its camera's decoder; a camera whose frames cannot be read is reported dead. */
  const readFrame = async (message: CameraFrameCaptured, camera: Camera): Promise<RgbFrame> => {
    // The frame's schema keeps `file` inside its recording folder (RelativePath).
    const readStarted = performance.now();
    const cursor = await cursorOf(path.join(message.frame.recording, message.frame.file), { width: camera.width, height: camera.height }, strides.get(camera.id)!);
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
    return frame;
  };

  /** Detects the people in a frame and publishes them. */
  const detectAndPublish = async (message: CameraFrameCaptured, camera: Camera, frame: RgbFrame): Promise<CameraPosesDetected> => {
    let view = views.get(camera.id);
    if (!view) views.set(camera.id, (view = cameraViewGeometry(camera)));
    const started = performance.now();
    const hints = reads.hints(camera.id, frame);
    const poses = await detector.detect(frame, view, { ...hints, tally: camera.kind });
    reads.record(camera.id, hints, poses);
    stats.detectMs += performance.now() - started;
    stats.detected++;
    stats.detectedByKind[camera.kind] = (stats.detectedByKind[camera.kind] ?? 0) + 1;
    return publishPoses(message, poses);
  };

  const publishPoses = async (message: CameraFrameCaptured, poses: CameraPosesDetected['poses'], passedOver?: true): Promise<CameraPosesDetected> => {
    const detected: CameraPosesDetected = {
      schemaVersion: SCHEMA_VERSION,
      eventId: `poses-${message.eventId}`,
      storeId: message.storeId,
      ts: message.ts,
      cameraId: message.cameraId,
      frameIndex: message.frameIndex,
      model: detector.model,
      poses,
      ...(passedOver ? { passedOver } : {}),
    };
    await bus.publish('camera.poses-detected', detected);
    done.add(message.eventId);
    return detected;
  };

  /** A shelf camera's frame not read: published as passed over, and the camera's next frame read is read whole (its windows would be stale). */
  const passOver = async (message: CameraFrameCaptured, camera: Camera): Promise<CameraPosesDetected> => {
    reads.forget(camera.id);
    onDemandStats.passedOver++;
    return publishPoses(message, [], true);
  };

  /**
   * A frame of a camera read on demand, in its camera's turn (serialised): decided at once when no
   * earlier frame of the camera waits and its shelves' word allows, else queued (decoded unless it is
   * passed over) behind the camera's waiting frames.
   */
  const takeOnDemand = async (message: CameraFrameCaptured, camera: Camera, hold?: () => Release): Promise<CameraPosesDetected | null> => {
    const queue = waitingOf(camera.id);
    if (queue.some((waiting) => waiting.message.eventId === message.eventId)) {
      // Delivered again while it waits (a failed handler's retry): it is decided with the others.
      await decideWaiting(camera.id);
      return null;
    }
    lastTaken.set(camera.id, Math.max(lastTaken.get(camera.id) ?? -Infinity, message.ts));
    const decision = shelfDemand!.decide(camera.id, message.ts);
    if (queue.length === 0 && decision === 'pass') return passOver(message, camera);
    if (queue.length === 0 && decision === 'read') {
      const detected = await detectAndPublish(message, camera, await readFrame(message, camera));
      onDemandStats.read++;
      return detected;
    }
    const entry: WaitingFrame = { message, camera, passOver: decision === 'pass', since: clock.now(), attempts: 0 };
    if (!entry.passOver) entry.frame = keepFrame(await readFrame(message, camera));
    entry.release = hold?.();
    queue.push(entry);
    await decideWaiting(camera.id);
    return null;
  };

  /** A decoded frame copied out of the decoder's arrays (which it reuses), to wait as the pre-roll. */
  const keepFrame = (frame: RgbFrame): RgbFrame => {
    const data = framePool.take(frame.data.length);
    data.set(frame.data);
    return { width: frame.width, height: frame.height, data };
  };

  /**
   * Reads or passes over the camera's waiting frames, oldest first, as long as their shelves' word
   * (or a wait past waitMs) decides them; call in the camera's turn. A frame whose detection fails is
   * tried again at the next call, and passed over (with an error logged) after WAITING_FRAME_ATTEMPTS.
   */
  const decideWaiting = async (cameraId: string): Promise<void> => {
    const queue = waitingOf(cameraId);
    while (queue.length > 0) {
      const head = queue[0];
      let decision = head.passOver ? 'pass' : shelfDemand!.decide(cameraId, head.message.ts);
      if (decision === 'wait' && clock.now() - head.since >= waitMs) {
        decision = 'read';
        if (!head.unheard) onDemandStats.readUnheard++;
        head.unheard = true;
      }
      if (decision === 'wait') return;
      try {
        if (decision === 'pass') await passOver(head.message, head.camera);
        else {
          await detectAndPublish(head.message, head.camera, head.frame!);
          onDemandStats.read++;
        }
      } catch (error) {
        if (++head.attempts < WAITING_FRAME_ATTEMPTS) throw error;
        logger.error('a waiting frame could not be detected; passed over', { cameraId, frameIndex: head.message.frameIndex, error: (error as Error)?.message ?? String(error) });
        await passOver(head.message, head.camera);
      }
      queue.shift();
      if (head.frame) framePool.give(head.frame.data);
      head.release?.();
    }
  };

  const waitingOf = (cameraId: string): WaitingFrame[] => {
    let queue = waiting.get(cameraId);
    if (!queue) waiting.set(cameraId, (queue = []));
    return queue;
  };

  /** Runs `work` after everything queued before it for the camera: one camera's frames are decided and published in order. */
  const inTurn = <T>(cameraId: string, work: () => Promise<T>): Promise<T> => {
    const result = (turns.get(cameraId) ?? Promise.resolve()).then(work);
    turns.set(
      cameraId,
      result.then(
        () => undefined,
        () => undefined,
      ),
    );
    return result;
  };

  const ingestFrame = async (message: CameraFrameCaptured, publishedAt?: number, hold?: () => Release): Promise<CameraPosesDetected | null> => {
    if (message.storeId !== index.store.id)
      throw new WalkoutError('MESSAGE_INVALID', `frame ${message.eventId} is from store ${message.storeId}; this camera service serves ${index.store.id}`);
    const camera = index.cameras.get(message.cameraId);
    if (!camera)
      throw new WalkoutError('MESSAGE_INVALID', `frame ${message.eventId} is from camera ${message.cameraId}, which store ${index.store.id} does not have`);
    if (message.frameIndex % strides.get(camera.id)! !== 0) {
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
    if (shelfDemand?.onDemand(camera.id)) return inTurn(camera.id, () => takeOnDemand(message, camera, hold));
    return detectAndPublish(message, camera, await readFrame(message, camera));
  };

  /**
   * Held reports a restart would need again: for each shelf, every report from the newest one at or
   * before the earliest time a frame of a camera that looks at it may still be decided by (its oldest
   * waiting frame, or its newest frame taken, less the tail). The others are released.
   */
  const releaseReports = () => {
    let earliest = Infinity;
    for (const [shelfId, held] of heldReports) {
      let horizon = Infinity;
      for (const cameraId of shelfDemand!.watchers(shelfId)) horizon = Math.min(horizon, (waitingOf(cameraId)[0]?.message.ts ?? lastTaken.get(cameraId) ?? -Infinity) - shelfDemand!.options.tailMs);
      earliest = Math.min(earliest, horizon);
      const newestBefore = held.findLastIndex((report) => report.ts <= horizon);
      if (newestBefore <= 0) continue;
      for (const report of held.slice(0, newestBefore)) report.release();
      heldReports.set(shelfId, held.slice(newestBefore));
    }
    if (Number.isFinite(earliest)) shelfDemand!.forgetBefore(earliest);
  };

  const ingestActivity = async (report: ShelfActivityReported, hold?: () => Release): Promise<void> => {
    if (!shelfDemand || report.storeId !== index.store.id || !shelfDemand.report(report)) return;
    if (hold) {
      const held = heldReports.get(report.shelfId) ?? [];
      held.push({ ts: report.ts, release: hold() });
      heldReports.set(report.shelfId, held);
    }
    for (const cameraId of shelfDemand.watchers(report.shelfId)) decideSoon(cameraId);
    releaseReports();
  };

  /**
   * Decides the camera's waiting frames in its turn, without waiting for it: shelf activity comes
   * many times a second and must not queue behind detection. One decision at a time is scheduled per
   * camera; a failure is logged and the frame tried again at the next decision.
   */
  const decideSoon = (cameraId: string) => {
    if (waitingOf(cameraId).length === 0 || decisionsDue.has(cameraId)) return;
    decisionsDue.add(cameraId);
    inTurn(cameraId, () => {
      decisionsDue.delete(cameraId);
      return decideWaiting(cameraId);
    }).catch((error: unknown) =>
      logger.error('reading a frame that waited for its shelves failed; tried again', { cameraId, error: (error as Error)?.message ?? String(error) }),
    );
  };

  /** Frames that waited past waitMs are read (their shelves' word may never come). */
  const readOverdue = () => {
    for (const [cameraId, queue] of waiting) if (queue.length > 0 && clock.now() - queue[0].since >= waitMs) decideSoon(cameraId);
  };

  return {
    async start() {
      if (shelfDemand) {
        activitySubscription = await bus.subscribe({
          group: deps.shelfOnDemand?.activityGroup ?? SHELF_ACTIVITY_GROUP,
          topics: ['shelf.activity-reported'],
          handle: (delivery) => ingestActivity(delivery.message as ShelfActivityReported, () => delivery.hold()),
        });
        stopWaitCheck = clock.every(WAIT_CHECK_MS, readOverdue);
      }
      subscription = await bus.subscribe({
        group: CAMERA_GROUP,
        topics: ['camera.frame-captured'],
        concurrency: framesAtOnce,
        handle: async (delivery) => void (await ingestFrame(delivery.message as CameraFrameCaptured, delivery.publishedAt, () => delivery.hold())),
      });
    },
    async stop() {
      stopWaitCheck?.();
      stopWaitCheck = undefined;
      await subscription?.close();
      subscription = undefined;
      await activitySubscription?.close();
      activitySubscription = undefined;
      // Frames still waiting stay uncommitted: the next owner reads them again.
      await Promise.all([...turns.values()]);
      for (const queue of waiting.values()) queue.splice(0).forEach((entry) => entry.frame && framePool.give(entry.frame.data));
      await Promise.all([...cursors.values()].map((c) => c.close()));
      cursors.clear();
    },
    ingestFrame,
    ingestActivity: (report) => ingestActivity(report),
    stats: () => ({
      ...stats,
      detectedByKind: { ...stats.detectedByKind },
      openVideos: cursors.size,
      ...(shelfDemand ? { onDemand: { ...onDemandStats, waiting: [...waiting.values()].reduce((n, queue) => n + queue.length, 0) } } : {}),
    }),
  };
}
