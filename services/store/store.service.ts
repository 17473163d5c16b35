import type { StoreIndex, topics } from '../../libs/contracts/index.ts';
import type { Bus } from '../../libs/bus/index.ts';
import type { PoseDetector } from '../../libs/vision/pose.detector.ts';
import { createCameraService, type CameraService } from '../camera/camera.service.ts';
import { createShelfService, type ShelfService } from '../shelf/shelf.service.ts';
import { createTrackerService, type TrackerService } from '../tracker/tracker.service.ts';
import type { Logger } from '../../libs/log/logger.ts';
import type { Clock } from '../../libs/clock/clock.ts';

/**
 * The whole store in one process: every pipeline stage, wired in one place. `start` brings the
 * stages up in data-flow order; `stop` stops the one that only produces (the camera stage) first,
 * then finishes and stops each stage that consumes, in data-flow order. Camera perception runs
 * when a pose detector is given (it is the slow stage: see services/camera), and the tracker with
 * it (or alone, with `tracking`, for poses that come from elsewhere). Stages that are not built yet
 * (fusion of people with shelf events, carts, checkout) join this list as they land.
 */
export interface StoreDependencies {
  index: StoreIndex;
  bus: Bus<typeof topics>;
  logger?: Logger;
  /** The one service clock of every stage (idle cameras, silent shelves, late frames); the system clock by default. */
  clock?: Clock;
  /** Camera perception: the pose detector, which frames of each camera it takes (every n-th), how late it still takes one. */
  camera?: { detector: PoseDetector; stride?: number; maxLagMs?: number };
  /**
   * Follow people from the cameras' poses (default: when camera perception runs). `idleMs`: how
   * long a silent camera holds instants back (Infinity for a replay, where every camera's poses
   * come, however far behind; see services/tracker).
   */
  tracking?: boolean | { idleMs?: number };
}

export interface StoreRuntime {
  readonly shelf: ShelfService;
  readonly camera: CameraService | undefined;
  readonly tracker: TrackerService | undefined;
  start(): Promise<void>;
  /** Finishes what is in flight (open shelf segments included), then stops every stage. */
  stop(): Promise<void>;
}

export function createStore(deps: StoreDependencies): StoreRuntime {
  const shelf = createShelfService({ index: deps.index, bus: deps.bus, clock: deps.clock, logger: deps.logger?.child({ service: 'shelf' }) });
  const camera = deps.camera && createCameraService({ index: deps.index, bus: deps.bus, clock: deps.clock, logger: deps.logger?.child({ service: 'camera' }), ...deps.camera });
  const tracking = deps.tracking ?? !!camera;
  const tracker = tracking
    ? createTrackerService({
        index: deps.index,
        bus: deps.bus,
        clock: deps.clock,
        logger: deps.logger?.child({ service: 'tracker' }),
        ...(typeof tracking === 'object' ? tracking : {}),
      })
    : undefined;
  const stages = [...(camera ? [camera] : []), ...(tracker ? [tracker] : []), shelf];
  /** The stages that hold state until the end of a run (open shelf segments, instants waiting for cameras), in data-flow order. */
  const consumers = [...(tracker ? [tracker] : []), shelf];
  return {
    shelf,
    camera,
    tracker,
    async start() {
      for (const stage of stages) await stage.start();
    },
    async stop() {
      // The camera stage first (it finishes the frame in flight and publishes its poses), so nothing
      // new reaches the tracker; then each consumer publishes what it holds, releases its input, and
      // leaves. A caller that needs every pose tracked waits for the tracker to take them first (the
      // bus hands them over asynchronously), as `walkout start` does.
      await camera?.stop();
      for (const stage of consumers) {
        await stage.flush();
        await stage.stop();
      }
    },
  };
}
