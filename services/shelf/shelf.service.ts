import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import {
  SCHEMA_VERSION,
  topics as contractTopics,
  WalkoutError,
  type ChangeReexplained,
  type DeviceHealthReported,
  type ShelfActivityReported,
  type ShelfEventDetected,
  type ShelfSamplesRecorded,
  type ShelfStockSnapshot,
  type StoreIndex,
} from '../../libs/contracts/index.ts';
import { createOutbox, type Bus, type Delivery, type Release, type Subscription } from '../../libs/bus/index.ts';
import { systemClock, type Clock } from '../../libs/clock/clock.ts';
import { silentLogger, type Logger } from '../../libs/log/logger.ts';
import { NOISE_BLOCK_MS, NOISE_BLOCKS } from '../../libs/shelf/sensor.health.ts';
import { AFTER_MS, BEFORE_MS, MAX_ACTIVE_MS, REREAD_KEEP_MS, type ShelfDetector } from '../../libs/shelf/shelf.detector.ts';
import { ShelfPerception } from '../../libs/shelf/shelf.perception.ts';
import { checkShelfStock, mergeSnapshots, ShelfInventory, type InventorySnapshot } from '../../libs/shelf/inventory.model.ts';

/**
 * The shelf service: raw load-cell samples in (`shelf.samples-recorded`, one cell per message), shelf
 * events and load-cell health out (`shelf.event-detected` keyed by shelf, `device.health-reported`).
 *
 * Samples of one shelf arrive cell by cell; the service lines them up into ticks (every cell of the
 * shelf at one instant) before the detector sees them. A cell that stops sending does not hold the
 * shelf back: once a later tick of the shelf is complete and TICK_WAIT_MS past, the missing readings
 * are passed as NaN, which the detector reports as a dead cell.
 *
 * Nothing is lost and nothing is applied twice:
 * - A sample at or before the last tick handed to the detector (redelivered, or too late) is dropped:
 *   fed again it would take the detector back in time.
 * - Every sample message is held (Delivery.hold) until its partition has a restart point past it: a
 *   moment with the detector of every shelf on the partition at rest for REST_BEFORE_MS before and
 *   WARM_UP_MS after, every event before it published. The bus commits the partition up to its
 *   oldest held message, so after a crash the next owner reads every shelf of the partition again
 *   from about that moment: detectors started fresh there warm up on readings where nothing happens,
 *   then judge every later reading as the old ones did, find the events not yet published, and name
 *   them as the old ones would (libs/shelf names events after what they are); consumers drop the
 *   ones published twice by id. (One shelf's restart point alone would not do: the partition is read
 *   again from its oldest held message, which may fall in the middle of another shelf's pick.)
 * - The handler returns only when what it produced is published; a failed publish fails the handler,
 *   the bus redelivers the message, and the events still waiting are published then.
 *
 * Fusion reads some changes of several items otherwise than the shelf did (`fusion.change-reexplained`,
 * by what the shoppers there carry), and passes on a reviewer's decision on a change that moved
 * something else than the shelf read (the reading names the review, and is dated at the decision);
 * the service takes each such reading into its shelf's stock, so that later changes there are
 * explained with what the shelf now holds. A reading dated after the shelf's samples judged here
 * waits for them. Every instance reads every re-reading (a group of its own), since the topic's
 * partitions need not fall to the owner of the shelf's samples; the detector that made the replaced
 * events takes it. A reading of events this instance may still make (its detector of the shelf has
 * not judged that far: a restart, a shelf it has not had yet) waits for them; the others are passed
 * by.
 *
 * What a shelf holds survives a restart. Before it lets a partition's samples go up to a restart
 * point, the service publishes a stock snapshot (`shelf.stock-snapshot`, compacted, keyed by shelf)
 * of each shelf there whose stock changed since its last one: the stock as of that point, with the
 * moves fusion's re-readings may still take back. Every instance reads every snapshot (a group of
 * its own, from the topic's start) and keeps the newest of each shelf; a shelf that starts here
 * takes it up and passes its samples before the snapshot's point over, so the restored stock and
 * the resumed samples meet exactly there: no change is counted twice or lost.
 *
 * Live devices and the replay harness publish the same samples, so this service cannot tell them
 * apart. `ingestTick` is the seam for callers that already hold whole ticks (replay of a recording).
 */

/** How long (store clock) a tick waits for a late cell before it goes on without it, ms. */
export const TICK_WAIT_MS = 500;
/** Readings a fresh detector needs before it judges like one that ran all along: its noise history, and a block to line up on, ms. */
export const WARM_UP_MS = (NOISE_BLOCKS + 1) * NOISE_BLOCK_MS;
/**
 * Rest before a restart point, ms: more than a sample batch, so that a restart landing in the
 * batches around it still starts at rest, and more than the readings a segment averages before it.
 */
export const REST_BEFORE_MS = 2 * BEFORE_MS;
/**
 * A partition busy this long without a restart point (hands on one of its shelves all the time) lets
 * its samples go anyway, ms: memory and the replay after a crash stay bounded, at the risk that an
 * event the next owner finds while it warms up is named differently. More partitions (fewer shelves
 * on each) make restart points more frequent.
 */
export const MAX_HOLD_MS = 60_000;
/** A shelf whose samples stopped this long ago (service clock) has its waiting ticks and open segment finished, ms. */
export const SHELF_SILENT_MS = 5_000;
/** How often silent shelves are looked for, ms. */
const SILENCE_CHECK_MS = 1_000;
export const SHELF_GROUP = 'shelf';
/** Each instance's own group for fusion's re-readings: this, then the instance's name. */
export const SHELF_REREAD_GROUP_PREFIX = 'shelf-reread-';
/** Each instance's own group for stock snapshots, read from the topic's start: this, then the instance's name. */
export const SHELF_STOCK_GROUP_PREFIX = 'shelf-stock-';
/**
 * A re-reading of a change waits for its events until the shelf's detector here has judged its
 * samples this far past the change's end, ms of store time: an event is made at most a forced
 * close and the readings after it past its end.
 */
export const REREAD_WAIT_MS = MAX_ACTIVE_MS + AFTER_MS;
/**
 * With reportActivity, how often (store time) a shelf's state is reported when it does not change, ms:
 * a reader learns how far the shelf has been judged at least this often. Reports fall on multiples of
 * it, so a restart reports at the same instants, under the same ids.
 */
export const ACTIVITY_REPORT_MS = 500;
/** Hex characters of a stock snapshot's content digest in its event id. */
const SNAPSHOT_DIGEST_CHARS = 12;

/**
 * The latest restart point of a shelf whose detector has been at rest since `restSince` and has had
 * its readings up to `handedTs` (store time, ms), or null when there is none yet: a detector started
 * fresh there has REST_BEFORE_MS of rest before it and WARM_UP_MS of rest after it to warm up on. For
 * the shelves of a partition, which must all be at rest there, give the latest of their rests and the
 * earliest of their readings.
 */
export function latestRestartPoint(restSince: number, handedTs: number): number | null {
  const point = handedTs - WARM_UP_MS;
  return point - REST_BEFORE_MS >= restSince ? point : null;
}

type ShelfTopics = typeof contractTopics;

export interface ShelfServiceDependencies {
  index: StoreIndex;
  bus: Pick<Bus<ShelfTopics>, 'publish' | 'subscribe'>;
  clock?: Clock;
  logger?: Logger;
  /** A shelf whose samples stopped this long ago (service clock, ms) is finished (default SHELF_SILENT_MS). */
  silentMs?: number;
  /**
   * Report each shelf's activity on `shelf.activity-reported` (at every change, and every
   * ACTIVITY_REPORT_MS of store time between): what shelf cameras read on demand go by
   * (services/camera). Off by default.
   */
  reportActivity?: boolean;
  /** This instance's name, unique among the running instances (default: host name, process id and a count of the process's instances). */
  instanceId?: string;
}

export interface ShelfServiceStats {
  /** Messages published so far, per topic (a reader has caught up with this service once it has seen as many). */
  publishedByTopic: Record<string, number>;
  /** Sample messages taken off the bus, redeliveries included. */
  messages: number;
  ticks: number;
  ticksWithMissingCells: number;
  /** Events and health reports published. */
  published: number;
  /** Publishes that failed (each is tried again; the samples behind it stay uncommitted meanwhile). */
  publishFailures: number;
  /** Samples at or before a tick already handed to the detector: redelivered, or too late. */
  staleSamples: number;
  /** Ticks dropped before a shelf's first complete one (a restart lands mid-batch). */
  ticksBeforeStart: number;
  /** Times a busy partition let samples go without a restart point (MAX_HOLD_MS). */
  holdsGivenUp: number;
  /** Sample messages held now, waiting for what they may still lead to. */
  held: number;
  /** Fusion's re-readings taken into a shelf's stock. */
  rereadsTaken: number;
  /** Re-readings of changes this instance did not make and will not, or took already: passed by. */
  rereadsPassed: number;
  /** Re-readings waiting now for their events (a shelf this instance has not judged that far). */
  rereadsWaiting: number;
  /** Stock snapshots published. */
  snapshotsPublished: number;
  /** Stock snapshots of this store read off the bus (this instance's own included). */
  snapshotsRead: number;
  /** Stock snapshots a shelf took up: when it started here, or when one came after it had started. */
  snapshotsRestored: number;
  /** Stock snapshots that do not fit the store (a shelf or lane it lacks, another planogram): dead-lettered. */
  snapshotsRefused: number;
  /** Ticks before the restart point of the snapshot a shelf starts from: what they did, it holds. */
  ticksBeforeSnapshot: number;
}

export interface ShelfService {
  start(): Promise<void>;
  /**
   * Stops taking samples and leaves the group. What is held (samples of open segments) stays
   * uncommitted: the next owner takes it from there. Call flush() first at the end of a replay.
   */
  stop(): Promise<void>;
  /** Feeds one whole tick of a shelf (values in the shelf's load-cell order) straight to the detector. */
  ingestTick(shelfId: string, ts: number, grams: ArrayLike<number>): void;
  /** Takes one batch of samples of one cell, as it comes off the bus; publish() sends what it produced. */
  ingestSamples(message: ShelfSamplesRecorded): void;
  /** Publishes every event and health report waiting; throws when one cannot be published. */
  publish(): Promise<void>;
  /** Closes open segments (end of a replay), waits until every event is published, releases every sample. */
  flush(): Promise<void>;
  /** What the shelves hold (one, or every shelf of the store): a shelf not started here as its newest stock snapshot has it, else as planned. */
  inventory(shelfId?: string): InventorySnapshot;
  stats(): ShelfServiceStats;
}

interface PendingShelf {
  /** ts -> readings so far (NaN where a cell has not reported). */
  rows: Map<number, { grams: Float64Array; filled: number }>;
  lastTs: number;
  /** The newest tick handed to the detector (-Infinity: none yet). */
  handedTs: number;
  /** Since when (store time) the detector has been at rest, or null while a segment is open. */
  restSince: number | null;
  /** When samples last came (service clock). */
  heardAt: number;
  /** Finished for silence and at rest: it holds no restart point back until it sends again. */
  idle: boolean;
  /** The state last reported (reportActivity), with since when and the report's time. */
  reported?: { state: ShelfActivityReported['state']; since: number; ts: number };
  /** The restart point of the stock snapshot this instance last restored or published (-Infinity: the planogram). */
  stockPointMs: number;
  /** The detector's stockChanges then: a snapshot is due when they moved on. */
  snapshotChanges: number;
}

/** The sample messages of one partition held, oldest first, and where the partition may start again. */
interface PartitionHolds {
  readonly shelves: Set<string>;
  held: Array<{ lastTs: number; release: Release }>;
  /** The newest restart point: samples before it can go. */
  restartPoint: number;
}

type Output =
  | { topic: 'shelf.event-detected'; message: ShelfEventDetected }
  | { topic: 'device.health-reported'; message: DeviceHealthReported }
  | { topic: 'shelf.activity-reported'; message: ShelfActivityReported }
  | { topic: 'shelf.stock-snapshot'; message: ShelfStockSnapshot };

/** Shelf services made in this process so far: names each its own group for re-readings. */
let instances = 0;

export function createShelfService(deps: ShelfServiceDependencies): ShelfService {
  const instanceId = deps.instanceId ?? `${hostname()}-${process.pid}-${++instances}`;
  const { index, bus } = deps;
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const silentMs = deps.silentMs ?? SHELF_SILENT_MS;
  const stats = {
    messages: 0,
    ticks: 0,
    ticksWithMissingCells: 0,
    published: 0,
    publishFailures: 0,
    staleSamples: 0,
    ticksBeforeStart: 0,
    holdsGivenUp: 0,
    rereadsTaken: 0,
    rereadsPassed: 0,
    snapshotsPublished: 0,
    snapshotsRead: 0,
    snapshotsRestored: 0,
    snapshotsRefused: 0,
    ticksBeforeSnapshot: 0,
  };
  let subscription: Subscription | undefined;
  let rereadSubscription: Subscription | undefined;
  let stockSubscription: Subscription | undefined;
  let stopSilenceCheck: (() => void) | undefined;
  /** What the detectors produced and is not yet published, oldest first. */
  const outbox = createOutbox<Output>({
    bus,
    logger,
    failureMessage: 'shelf service could not publish; the samples behind it stay uncommitted and come again',
    onPublished: ({ topic }) => (topic === 'shelf.stock-snapshot' ? stats.snapshotsPublished++ : stats.published++),
    onFailure: () => stats.publishFailures++,
  });

  const pending = new Map<string, PendingShelf>();
  /** The newest stock snapshot of each shelf read off the bus. */
  const snapshots = new Map<string, ShelfStockSnapshot>();
  /** Re-readings waiting for their events, by shelf, then by the reading's event id. */
  const waitingRereads = new Map<string, Map<string, ChangeReexplained>>();
  /** The newest store time this instance has seen (a tick, a re-reading's change), ms. */
  let newestMs = -Infinity;
  const partitions = new Map<number, PartitionHolds>();
  const shelfOf = new Map<string, { shelfId: string; slot: number }>();
  for (const [shelfId, { shelf }] of index.shelves)
    shelf.plates.forEach((plate, slot) => {
      const cell = index.loadCellByPlate.get(plate.id);
      if (cell) shelfOf.set(cell.id, { shelfId, slot });
    });

  const pendingShelf = (shelfId: string): PendingShelf => {
    let shelf = pending.get(shelfId);
    if (!shelf) {
      shelf = { rows: new Map(), lastTs: -Infinity, handedTs: -Infinity, restSince: null, heardAt: clock.now(), idle: false, stockPointMs: -Infinity, snapshotChanges: 0 };
      pending.set(shelfId, shelf);
    }
    return shelf;
  };

  const perception = new ShelfPerception({
    index,
    onEvent: (event) => {
      outbox.push({ topic: 'shelf.event-detected', message: event });
    },
    onHealth: (report) => outbox.push({ topic: 'device.health-reported', message: report }),
  });

  /**
   * Reports the shelf's state as of `ts` when it changed since the last report, or when `ts` has
   * reached the next multiple of ACTIVITY_REPORT_MS.
   */
  const reportActivity = (shelfId: string, shelf: PendingShelf, ts: number, state: ShelfActivityReported['state']) => {
    if (!deps.reportActivity) return;
    const last = shelf.reported;
    const changed = last?.state !== state;
    if (!changed && Math.floor(ts / ACTIVITY_REPORT_MS) === Math.floor(last!.ts / ACTIVITY_REPORT_MS)) return;
    const since = changed ? ts : last!.since;
    shelf.reported = { state, since, ts };
    outbox.push({
      topic: 'shelf.activity-reported',
      message: { schemaVersion: SCHEMA_VERSION, eventId: `activity-${shelfId}-${ts}-${state}`, storeId: index.store.id, ts, shelfId, state, since },
    });
  };

  /** A re-reading settled: taken into its shelf's stock, or passed by. False when it is to wait for its events. */
  const settleReread = (message: ChangeReexplained): boolean => {
    // A reading dated later than the shelf has been judged here (a reviewer's decision, read ahead
    // in a replay) waits for the shelf to get there: the stock changes in store-clock order.
    if (message.ts > (pending.get(message.shelfId)?.handedTs ?? -Infinity) && mayStillCome(message)) return false;
    if (perception.reread(message)) {
      stats.rereadsTaken++;
      logger.debug('shelf stock follows fusion\'s reading of a change', { shelfId: message.shelfId, replaces: message.replaces });
      return true;
    }
    if (mayStillCome(message) && !perception.rereadTaken(message)) return false;
    stats.rereadsPassed++;
    return true;
  };

  /**
   * Whether the events a re-reading replaces may still be made here, or come with a stock snapshot:
   * the change is recent enough to be remembered, and the shelf here has either no snapshot under
   * its stock yet or not judged its samples that far.
   */
  const mayStillCome = (message: ChangeReexplained): boolean => {
    if (newestMs - message.ts > REREAD_KEEP_MS) return false;
    const shelf = pending.get(message.shelfId);
    return !shelf || shelf.stockPointMs === -Infinity || shelf.handedTs <= message.ts + REREAD_WAIT_MS;
  };

  /** Tries the re-readings of a shelf that wait for their events again: after its detector's ticks, after a restore. */
  const retryRereads = (shelfId: string) => {
    const waiting = waitingRereads.get(shelfId);
    if (!waiting) return;
    for (const [eventId, message] of waiting) if (settleReread(message)) waiting.delete(eventId);
    if (waiting.size === 0) waitingRereads.delete(shelfId);
  };

  const takeReread = (message: ChangeReexplained) => {
    perception.checkReread(message);
    newestMs = Math.max(newestMs, message.ts);
    // A reading waiting too long (this instance never had the shelf) goes once it is too old to take.
    for (const shelfId of waitingRereads.keys()) retryRereads(shelfId);
    const waiting = waitingRereads.get(message.shelfId);
    if (waiting?.has(message.eventId)) stats.rereadsPassed++; // the same reading again
    else if (!settleReread(message)) waitingRereads.set(message.shelfId, (waiting ?? new Map()).set(message.eventId, message));
  };

  /** Takes up a stock snapshot in the shelf's detector; the re-readings waiting for the shelf are tried on it. */
  const restoreStock = (shelfId: string, shelf: PendingShelf, snapshot: ShelfStockSnapshot) => {
    const detector = perception.detector(shelfId);
    const madeAgain = detector.restore(snapshot, snapshot.resumeFromMs, `stock snapshot ${snapshot.eventId}`);
    shelf.stockPointMs = snapshot.resumeFromMs;
    // The stock is the snapshot's, unless the detector had changes of its own to make again on it (it came late).
    if (madeAgain === 0) shelf.snapshotChanges = detector.stockChanges;
    stats.snapshotsRestored++;
    logger.info('shelf stock restored from its snapshot', { shelfId, snapshot: snapshot.eventId, resumeFromMs: snapshot.resumeFromMs, changesMadeAgain: madeAgain });
    retryRereads(shelfId);
  };

  /**
   * A shelf's first tick here: the shelf takes up its newest stock snapshot when that is newer than
   * the stock it has, and passes its ticks before the snapshot's restart point over (false): what
   * they did, the snapshot holds.
   */
  const startShelf = (shelfId: string, shelf: PendingShelf, ts: number): boolean => {
    const newest = snapshots.get(shelfId);
    if (newest && newest.resumeFromMs > shelf.stockPointMs) {
      if (ts < newest.resumeFromMs) return false;
      restoreStock(shelfId, shelf, newest);
    }
    logger.debug('shelf started', { shelfId, ts });
    return true;
  };

  const ingestTick = (shelfId: string, ts: number, grams: ArrayLike<number>) => {
    const shelf = pendingShelf(shelfId);
    if (ts <= shelf.handedTs) {
      stats.staleSamples += grams.length;
      return;
    }
    if (shelf.handedTs === -Infinity && !startShelf(shelfId, shelf, ts)) {
      stats.ticksBeforeSnapshot++;
      return;
    }
    shelf.handedTs = ts;
    newestMs = Math.max(newestMs, ts);
    stats.ticks++;
    perception.push(shelfId, ts, grams);
    retryRereads(shelfId);
    const atRest = perception.detector(shelfId).atRest;
    if (!atRest) shelf.restSince = null;
    else shelf.restSince ??= ts;
    reportActivity(shelfId, shelf, ts, atRest ? 'at-rest' : 'active');
  };

  /**
   * A partition's restart point is the latest moment with every (not idle) shelf on it at rest
   * REST_BEFORE_MS before it and WARM_UP_MS after; null when every shelf on it is idle.
   */
  const advanceRestartPoint = (holds: PartitionHolds): number | null => {
    let earliestHanded = Infinity;
    let latestRest = -Infinity;
    let active = 0;
    for (const shelfId of holds.shelves) {
      const shelf = pending.get(shelfId)!;
      if (shelf.idle) continue;
      if (shelf.restSince === null) return holds.restartPoint;
      active++;
      earliestHanded = Math.min(earliestHanded, shelf.handedTs);
      latestRest = Math.max(latestRest, shelf.restSince);
    }
    if (active === 0) return null;
    const point = latestRestartPoint(latestRest, earliestHanded);
    if (point !== null) holds.restartPoint = Math.max(holds.restartPoint, point);
    return holds.restartPoint;
  };

  /** Hands over every tick that is complete, or old enough to go without its late cells. */
  const drain = (shelfId: string, shelf: PendingShelf, force = false) => {
    const times = [...shelf.rows.keys()].sort((a, b) => a - b);
    const width = perception.detector(shelfId).loadCellIds.length;
    for (const ts of times) {
      const row = shelf.rows.get(ts)!;
      const complete = row.filled === width;
      if (!complete && !force && shelf.lastTs - ts < TICK_WAIT_MS) break;
      shelf.rows.delete(ts);
      // A shelf's first tick must be whole: a restart lands in the middle of the cells' batches, and
      // readings missing there would pass for a dead cell that then needs seconds to be trusted again.
      if (!complete && shelf.handedTs === -Infinity) {
        stats.ticksBeforeStart++;
        continue;
      }
      if (!complete) stats.ticksWithMissingCells++;
      ingestTick(shelfId, ts, row.grams);
    }
  };

  const cellOf = (message: ShelfSamplesRecorded) => {
    const at = shelfOf.get(message.loadCellId);
    if (!at || at.shelfId !== message.shelfId)
      throw new WalkoutError('MESSAGE_INVALID', `samples of load cell ${message.loadCellId} name shelf ${message.shelfId}, which does not carry it`);
    return at;
  };

  /** Lines one cell's samples up into the shelf's ticks; `at` is the cell's place on the shelf (cellOf). */
  const takeSamples = (message: ShelfSamplesRecorded, at: { slot: number }) => {
    const shelf = pendingShelf(message.shelfId);
    shelf.heardAt = clock.now();
    shelf.idle = false;
    const width = perception.detector(message.shelfId).loadCellIds.length;
    for (const [ts, grams] of message.samples) {
      if (ts <= shelf.handedTs) {
        stats.staleSamples++;
        continue;
      }
      let row = shelf.rows.get(ts);
      if (!row) {
        row = { grams: new Float64Array(width).fill(Number.NaN), filled: 0 };
        shelf.rows.set(ts, row);
      }
      if (Number.isNaN(row.grams[at.slot])) row.filled++;
      else stats.staleSamples++; // the same reading again: a redelivery
      row.grams[at.slot] = grams;
      shelf.lastTs = Math.max(shelf.lastTs, ts);
    }
    drain(message.shelfId, shelf);
  };

  /** Whether this instance owns the samples partition still (a rebalance may have moved it). */
  const ownsSamples = (partition: number) =>
    !subscription || subscription.assignment().some((ref) => ref.topic === 'shelf.samples-recorded' && ref.partition === partition);

  /** The stock snapshot of a shelf as of `resumeFromMs`, named after its shelf, point and content. */
  const snapshotOf = (shelfId: string, detector: ShelfDetector, resumeFromMs: number): ShelfStockSnapshot => {
    const stock = detector.stock();
    const digest = createHash('sha256').update(JSON.stringify(stock)).digest('hex').slice(0, SNAPSHOT_DIGEST_CHARS);
    return { schemaVersion: SCHEMA_VERSION, eventId: `stock-${shelfId}-${resumeFromMs}-${digest}`, storeId: index.store.id, ts: resumeFromMs, shelfId, resumeFromMs, ...stock };
  };

  /**
   * Queues a stock snapshot of each shelf of the partition whose stock changed since its last one,
   * as of `before`, where the partition's samples start again once released (for a finished shelf,
   * just past its last tick). A shelf not at rest since `before` may have changed after it and waits
   * for a later point, unless the partition is let go by force (then a change after the point that is
   * found again under the same id is not counted twice: ShelfDetector's moves). False when none was
   * due, or the partition is no longer this instance's.
   */
  const queueSnapshots = (partition: number, holds: PartitionHolds, before: number, forced: boolean): boolean => {
    let queued = false;
    for (const shelfId of holds.shelves) {
      const shelf = pending.get(shelfId)!;
      if (shelf.handedTs === -Infinity) continue;
      const detector = perception.detector(shelfId);
      if (detector.stockChanges === shelf.snapshotChanges) continue;
      if (!shelf.idle && !forced && (shelf.restSince === null || shelf.restSince > before)) continue;
      if (!queued && !ownsSamples(partition)) return false;
      const resumeFromMs = Math.floor(shelf.idle ? shelf.handedTs + 1 : Math.min(before, shelf.handedTs + 1));
      outbox.push({ topic: 'shelf.stock-snapshot', message: snapshotOf(shelfId, detector, resumeFromMs) });
      shelf.stockPointMs = resumeFromMs;
      shelf.snapshotChanges = detector.stockChanges;
      queued = true;
    }
    return queued;
  };

  const releaseBefore = (holds: PartitionHolds, before: number) => {
    let done = 0;
    while (done < holds.held.length && holds.held[done].lastTs < before) holds.held[done++].release();
    if (done > 0) holds.held = holds.held.slice(done);
  };

  /**
   * Releases the partition's samples before its restart point, once everything produced so far is
   * published, the stock snapshots of that point included (resolves once they are).
   */
  const releaseSettled = (partition: number, holds: PartitionHolds, all = false): void | Promise<void> => {
    if (outbox.size > 0 || holds.held.length === 0) return;
    let before = all ? Infinity : (advanceRestartPoint(holds) ?? Infinity);
    let newest = -Infinity;
    for (const shelfId of holds.shelves) newest = Math.max(newest, pending.get(shelfId)!.handedTs);
    let forced = false;
    if (holds.held[0].lastTs < newest - MAX_HOLD_MS && before < newest - MAX_HOLD_MS) {
      stats.holdsGivenUp++;
      logger.warn('partition busy without a restart point; its samples are let go', { partition, heldMs: newest - holds.held[0].lastTs });
      before = holds.restartPoint = newest - MAX_HOLD_MS;
      forced = true;
    }
    if (holds.held[0].lastTs >= before) return;
    if (!queueSnapshots(partition, holds, before, forced)) return releaseBefore(holds, before);
    return outbox.publish().then(() => releaseBefore(holds, before));
  };

  const partitionHolds = (partition: number): PartitionHolds => {
    let holds = partitions.get(partition);
    if (!holds) {
      holds = { shelves: new Set(), held: [], restartPoint: -Infinity };
      partitions.set(partition, holds);
    }
    return holds;
  };

  /**
   * Synchronous when the samples produced nothing to publish (nearly always): the bus then handles
   * the message without a promise of its own. Otherwise it resolves once what they produced is published.
   */
  const handle = (delivery: Delivery<ShelfTopics, 'shelf.samples-recorded'>): void | Promise<void> => {
    const { message } = delivery;
    const at = cellOf(message);
    stats.messages++;
    const holds = partitionHolds(delivery.partition);
    holds.shelves.add(message.shelfId);
    // Held whether it is new or a redelivery: either way it stays uncommitted until what it may
    // still lead to is published.
    holds.held.push({ lastTs: message.samples[message.samples.length - 1][0], release: delivery.hold() });
    takeSamples(message, at);
    if (outbox.size === 0) return releaseSettled(delivery.partition, holds);
    return outbox.publish().then(() => releaseSettled(delivery.partition, holds));
  };

  /**
   * Another instance judged the shelf further than this one did (it had the shelf's samples
   * meanwhile): the detector here is out of date, so the shelf starts again at its next tick, from
   * that instance's snapshot.
   */
  const startAgain = (shelfId: string, shelf: PendingShelf) => {
    logger.info('shelf judged further elsewhere; it starts again from the newer stock snapshot', { shelfId, judgedTo: shelf.handedTs });
    perception.forget(shelfId);
    shelf.handedTs = -Infinity;
    shelf.restSince = null;
    shelf.snapshotChanges = 0;
  };

  /**
   * A stock snapshot off the bus: kept as its shelf's newest, and taken up at once by a shelf that
   * started here before it came. One that does not fit the store is refused (dead-lettered), and the
   * older one kept is dropped: the shelf starts from the planogram rather than from a stock that is
   * not where its samples resume.
   */
  const takeSnapshot = (delivery: Delivery<ShelfTopics, 'shelf.stock-snapshot'>) => {
    const { message: snapshot } = delivery;
    if (snapshot.storeId !== index.store.id) return; // another store's, on a cluster a chain shares
    stats.snapshotsRead++;
    const { shelfId } = snapshot;
    snapshots.delete(shelfId);
    try {
      checkShelfStock(index, shelfId, snapshot, `stock snapshot ${snapshot.eventId}`);
    } catch (error) {
      stats.snapshotsRefused++;
      const started = (pending.get(shelfId)?.handedTs ?? -Infinity) > -Infinity;
      logger.warn('stock snapshot refused', {
        shelfId,
        snapshot: snapshot.eventId,
        partition: delivery.partition,
        offset: delivery.offset,
        error: (error as Error).message,
        then: started ? 'the shelf keeps the stock it has here' : 'the shelf starts here from the planogram',
      });
      throw error;
    }
    snapshots.set(shelfId, snapshot);
    const shelf = pending.get(shelfId);
    // Not started here (it is taken up when it starts), or this instance's own, or older than what it holds.
    if (!shelf || shelf.handedTs === -Infinity || snapshot.resumeFromMs <= shelf.stockPointMs) return;
    if (snapshot.resumeFromMs > shelf.handedTs) startAgain(shelfId, shelf);
    else restoreStock(shelfId, shelf, snapshot);
  };

  /** What a shelf holds as this instance knows it: its detector's once it started here, else its newest snapshot's, else the planogram. */
  const inventoryOf = (shelfId: string): InventorySnapshot => {
    const newest = snapshots.get(shelfId);
    if (!newest || (pending.get(shelfId)?.handedTs ?? -Infinity) > -Infinity) return perception.inventory(shelfId);
    const inventory = new ShelfInventory(index, shelfId);
    inventory.restore(newest, `stock snapshot ${newest.eventId}`);
    return inventory.snapshot();
  };

  /** A shelf that went quiet: its waiting ticks are handed over, its open segment closed; it holds nothing back. */
  const finishSilentShelves = () => {
    const now = clock.now();
    let finished = 0;
    for (const [shelfId, shelf] of pending) {
      if (shelf.idle || now - shelf.heardAt < silentMs) continue;
      logger.info('shelf silent; finishing what it started', { shelfId, silentMs: now - shelf.heardAt });
      drain(shelfId, shelf, true);
      perception.detector(shelfId).finish();
      shelf.idle = true;
      if (shelf.handedTs > -Infinity) reportActivity(shelfId, shelf, shelf.handedTs, 'silent');
      finished++;
    }
    if (finished === 0) return;
    outbox
      .publish()
      .then(() => Promise.all([...partitions].map(([partition, holds]) => releaseSettled(partition, holds))))
      .catch(() => undefined); // logged by publish; tried again at the next sample
  };

  return {
    async start() {
      // Snapshots first: a shelf takes up the newest of its own when it starts, if read by then
      // (one read later is taken up all the same: restoreStock).
      stockSubscription = await bus.subscribe({
        group: SHELF_STOCK_GROUP_PREFIX + instanceId,
        topics: ['shelf.stock-snapshot'],
        handle: (delivery) => takeSnapshot(delivery as Delivery<ShelfTopics, 'shelf.stock-snapshot'>),
      });
      subscription = await bus.subscribe({
        group: SHELF_GROUP,
        topics: ['shelf.samples-recorded'],
        handle: (delivery) => handle(delivery as Delivery<ShelfTopics, 'shelf.samples-recorded'>),
      });
      rereadSubscription = await bus.subscribe({
        group: SHELF_REREAD_GROUP_PREFIX + instanceId,
        topics: ['fusion.change-reexplained'],
        handle: ({ message }) => takeReread(message as ChangeReexplained),
      });
      stopSilenceCheck = clock.every(SILENCE_CHECK_MS, finishSilentShelves);
    },
    async stop() {
      stopSilenceCheck?.();
      stopSilenceCheck = undefined;
      await subscription?.close();
      await rereadSubscription?.close();
      await stockSubscription?.close();
      subscription = rereadSubscription = stockSubscription = undefined;
    },
    ingestTick,
    ingestSamples: (message) => takeSamples(message, cellOf(message)),
    publish: outbox.publish,
    async flush() {
      for (const [shelfId, shelf] of pending) drain(shelfId, shelf, true);
      perception.finish();
      await outbox.publish();
      for (const [partition, holds] of partitions) await releaseSettled(partition, holds, true);
    },
    inventory: (shelfId) => mergeSnapshots((shelfId === undefined ? [...index.shelves.keys()] : [shelfId]).map(inventoryOf)),
    stats: () => ({
      ...stats,
      held: [...partitions.values()].reduce((sum, holds) => sum + holds.held.length, 0),
      rereadsWaiting: [...waitingRereads.values()].reduce((sum, waiting) => sum + waiting.size, 0),
      publishedByTopic: outbox.publishedByTopic(),
    }),
  };
}
