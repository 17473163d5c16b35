import {
  topics as contractTopics,
  WalkoutError,
  type DeviceHealthReported,
  type ShelfEventDetected,
  type ShelfSamplesRecorded,
  type StoreIndex,
} from '../../libs/contracts/index.ts';
import type { Bus, Subscription } from '../../libs/bus/index.ts';
import { ShelfPerception } from '../../libs/shelf/shelf.perception.ts';
import type { InventorySnapshot } from '../../libs/shelf/inventory.model.ts';
import type { Logger } from '../../libs/log/logger.ts';

/**
 * The shelf service: raw load-cell samples in (`shelf.samples-recorded`, one cell per message), shelf
 * events and load-cell health out (`shelf.event-detected` keyed by shelf, `device.health-reported`).
 *
 * Samples of one shelf arrive cell by cell; the service lines them up into ticks (every cell of the
 * shelf at one instant) before the detector sees them. A cell that stops sending does not hold the
 * shelf back: once a later tick of the shelf is complete and TICK_WAIT_MS past, the missing readings
 * are passed as NaN, which the detector reports as a dead cell.
 *
 * Live devices and the replay harness publish the same samples, so this service cannot tell them
 * apart. `ingestTick` is the seam for callers that already hold whole ticks (replay of a recording).
 */

/** How long (store clock) a tick waits for a late cell before it goes on without it, ms. */
export const TICK_WAIT_MS = 500;
export const SHELF_GROUP = 'shelf';

type ShelfTopics = typeof contractTopics;

export interface ShelfServiceDependencies {
  index: StoreIndex;
  bus: Pick<Bus<ShelfTopics>, 'publish' | 'subscribe'>;
  logger?: Logger;
}

export interface ShelfService {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Feeds one whole tick of a shelf (values in the shelf's load-cell order) straight to the detector. */
  ingestTick(shelfId: string, ts: number, grams: ArrayLike<number>): void;
  /** Takes one batch of samples of one cell, as it comes off the bus. */
  ingestSamples(message: ShelfSamplesRecorded): void;
  /** Closes open segments (end of a replay) and waits until every event is published. */
  flush(): Promise<void>;
  inventory(shelfId?: string): InventorySnapshot;
  stats(): { ticks: number; ticksWithMissingCells: number; published: number; publishFailures: number };
}

interface PendingShelf {
  cells: Map<string, number>;
  /** ts -> readings so far (NaN where a cell has not reported). */
  rows: Map<number, { grams: Float64Array; filled: number }>;
  lastTs: number;
}

export function createShelfService(deps: ShelfServiceDependencies): ShelfService {
  const { index, bus } = deps;
  const logger = deps.logger;
  const inFlight = new Set<Promise<void>>();
  let published = 0;
  let publishFailures = 0;
  let ticks = 0;
  let ticksWithMissingCells = 0;
  let lastEventTs = 0;
  let subscription: Subscription | undefined;

  const publish = (topic: 'shelf.event-detected' | 'device.health-reported', message: ShelfEventDetected | DeviceHealthReported) => {
    // Never drop a shelf event: a failed publish is logged and counted; the bus retries underneath.
    const sent = bus
      .publish(topic, message as never)
      .then(() => {
        published++;
      })
      .catch((error: unknown) => {
        publishFailures++;
        logger?.error('shelf service could not publish', { topic, eventId: message.eventId, error: String(error) });
      });
    inFlight.add(sent);
    void sent.then(() => inFlight.delete(sent));
  };

  const perception = new ShelfPerception({
    index,
    onEvent: (event) => {
      lastEventTs = Math.max(lastEventTs, event.ts);
      publish('shelf.event-detected', event);
    },
    onHealth: (report) => publish('device.health-reported', report),
  });

  const pending = new Map<string, PendingShelf>();
  const shelfOf = new Map<string, { shelfId: string; slot: number }>();
  for (const [shelfId, { shelf }] of index.shelves)
    shelf.plates.forEach((plate, slot) => {
      const cell = index.loadCellByPlate.get(plate.id);
      if (cell) shelfOf.set(cell.id, { shelfId, slot });
    });

  const ingestTick = (shelfId: string, ts: number, grams: ArrayLike<number>) => {
    ticks++;
    perception.push(shelfId, ts, grams);
  };

  /** Hands over every tick that is complete, or old enough to go without its late cells. */
  const drain = (shelfId: string, shelf: PendingShelf, force = false) => {
    const times = [...shelf.rows.keys()].sort((a, b) => a - b);
    const width = perception.detector(shelfId).loadCellIds.length;
    for (const ts of times) {
      const row = shelf.rows.get(ts)!;
      const complete = row.filled === width;
      if (!complete && !force && shelf.lastTs - ts < TICK_WAIT_MS) break;
      if (!complete) ticksWithMissingCells++;
      shelf.rows.delete(ts);
      ingestTick(shelfId, ts, row.grams);
    }
  };

  const ingestSamples = (message: ShelfSamplesRecorded) => {
    const at = shelfOf.get(message.loadCellId);
    if (!at || at.shelfId !== message.shelfId)
      throw new WalkoutError('MESSAGE_INVALID', `samples of load cell ${message.loadCellId} name shelf ${message.shelfId}, which does not carry it`);
    let shelf = pending.get(message.shelfId);
    const width = perception.detector(message.shelfId).loadCellIds.length;
    if (!shelf) {
      shelf = { cells: new Map(), rows: new Map(), lastTs: -Infinity };
      pending.set(message.shelfId, shelf);
    }
    for (const [ts, grams] of message.samples) {
      let row = shelf.rows.get(ts);
      if (!row) {
        row = { grams: new Float64Array(width).fill(Number.NaN), filled: 0 };
        shelf.rows.set(ts, row);
      }
      if (Number.isNaN(row.grams[at.slot])) row.filled++;
      row.grams[at.slot] = grams;
      shelf.lastTs = Math.max(shelf.lastTs, ts);
    }
    drain(message.shelfId, shelf);
  };

  return {
    async start() {
      subscription = await bus.subscribe({
        group: SHELF_GROUP,
        topics: ['shelf.samples-recorded'],
        handle: (delivery) => ingestSamples(delivery.message as ShelfSamplesRecorded),
      });
    },
    async stop() {
      await subscription?.close();
      subscription = undefined;
      await this.flush();
    },
    ingestTick,
    ingestSamples,
    async flush() {
      for (const [shelfId, shelf] of pending) drain(shelfId, shelf, true);
      perception.finish();
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
    inventory: (shelfId) => perception.inventory(shelfId),
    stats: () => ({ ticks, ticksWithMissingCells, published, publishFailures }),
  };
}
