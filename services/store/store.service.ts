import type { StoreIndex, topics } from '../../libs/contracts/index.ts';
import type { Bus, BusLogger } from '../../libs/bus/index.ts';
import { createShelfService, type ShelfService } from '../shelf/shelf.service.ts';

/**
 * The whole store in one process: every pipeline stage, wired in one place. `start` brings the
 * stages up in data-flow order; `stop` drains and stops them in reverse. Stages that are not built
 * yet (camera perception, tracking, fusion, carts, checkout) join this list as they land.
 */
export interface StoreDependencies {
  index: StoreIndex;
  bus: Bus<typeof topics>;
  logger?: BusLogger;
}

export interface StoreRuntime {
  readonly shelf: ShelfService;
  start(): Promise<void>;
  /** Finishes what is in flight (open shelf segments included), then stops every stage. */
  stop(): Promise<void>;
}

export function createStore(deps: StoreDependencies): StoreRuntime {
  const shelf = createShelfService({ index: deps.index, bus: deps.bus, logger: deps.logger });
  const stages = [shelf];
  return {
    shelf,
    async start() {
      for (const stage of stages) await stage.start();
    },
    async stop() {
      await shelf.flush();
      for (const stage of [...stages].reverse()) await stage.stop();
    },
  };
}
