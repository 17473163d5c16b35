import type { StoreIndex, topics } from '../../libs/contracts/index.ts';
import type { Bus, BusLogger } from '../../libs/bus/index.ts';
import type { PoseDetector } from '../../libs/vision/pose.detector.ts';
import { createCameraService, type CameraService } from '../camera/camera.service.ts';
import { createShelfService, type ShelfService } from '../shelf/shelf.service.ts';

/**
 * The whole store in one process: every pipeline stage, wired in one place. `start` brings the
 * stages up in data-flow order; `stop` drains and stops them in reverse. Camera perception runs
 * when a pose detector is given (it is the slow stage: see services/camera). Stages that are not
 * built yet (tracking, fusion, carts, checkout) join this list as they land.
 */
export interface StoreDependencies {
  index: StoreIndex;
  bus: Bus<typeof topics>;
  logger?: BusLogger;
  /** Camera perception: the pose detector, which frames of each camera it takes (every n-th), how late it still takes one. */
  camera?: { detector: PoseDetector; stride?: number; maxLagMs?: number };
}

export interface StoreRuntime {
  readonly shelf: ShelfService;
  readonly camera: CameraService | undefined;
  start(): Promise<void>;
  /** Finishes what is in flight (open shelf segments included), then stops every stage. */
  stop(): Promise<void>;
}

export function createStore(deps: StoreDependencies): StoreRuntime {
  const shelf = createShelfService({ index: deps.index, bus: deps.bus, logger: deps.logger });
  const camera = deps.camera && createCameraService({ index: deps.index, bus: deps.bus, logger: deps.logger, ...deps.camera });
  const stages = [...(camera ? [camera] : []), shelf];
  return {
    shelf,
    camera,
    async start() {
      for (const stage of stages) await stage.start();
    },
    async stop() {
      await shelf.flush();
      for (const stage of [...stages].reverse()) await stage.stop();
    },
  };
}
