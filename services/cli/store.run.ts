import { loadCheckoutConfig } from '../../libs/checkout/checkout.config.ts';
import { checkoutProgress, loadCharges, type ChargeRow } from '../../libs/checkout/checkout.repository.ts';
import {
  DEAD_LETTER_TOPIC,
  WalkoutError,
  type CameraPosesDetected,
  type CartUpdated,
  type ChangeReexplained,
  type EventAttributed,
  type MessageDeadLettered,
  type PeopleTracked,
  type ReceiptFinalised,
  type ReviewItemOpened,
  type ReviewItemResolved,
  type ReviewDecisionRefused,
  type ShelfEventDetected,
  type topics,
} from '../../libs/contracts/index.ts';
import type { Bus } from '../../libs/bus/index.ts';
import { progress } from '../../libs/cli/progress.ts';
import type { Logger } from '../../libs/log/logger.ts';
import type { Recording } from '../../libs/recording/index.ts';
import { replayRecording, type ReplayStats } from '../../libs/replay/recording.replay.ts';
import { truthPeople } from '../../libs/replay/people-truth.source.ts';
import type { PoseDetector } from '../../libs/vision/pose.detector.ts';
import { createStore, type StoreRuntime } from '../store/store.service.ts';
import { cameraStride, type CameraServiceDependencies, type ShelfOnDemand } from '../camera/camera.service.ts';
import { optionalInt, type Verb } from '../../libs/cli/verb.ts';
import { SHELF_PRE_ROLL_MS, SHELF_TAIL_MS } from '../../libs/vision/shelf.demand.ts';
import { FUSION_STAGE, settledChanges } from '../../libs/fusion/fusion.engine.ts';
import type { TruthReviewer } from '../../libs/cart/truth.reviewer.ts';

/**
 * One recording through the whole store, as `start` and `eval receipts` run it: the store on a bus,
 * the recording replayed into it as live devices would send it, and everything the store decides
 * collected for scoring. People come from the camera stage (`tracked`: every camera's frames, pose
 * detection every n-th frame, the tracker) or, to measure attribution apart from vision, from the
 * recording's true skeletons with the tracker's typical error added (`truth`).
 */

/** How long after an instant the tracker publishes it (services/tracker's default lag). */
export const TRACKER_LAG_MS = 1_000;
/** The tracker's typical 3D error, metres: what truth people get when no other noise is asked for. */
export const DEFAULT_NOISE_M = 0.05;
/**
 * How often the store's cameras are read whole by default (`start`, `eval receipts`), store seconds:
 * in windows round the people between. Read at 5 frames a second, whole one frame in 10 with the
 * windows' reading (the scout only where the image changed, still people kept, unsure windows read
 * mirrored too) follows as many wrists as every frame whole for 39 % of the model input
 * (docs/experiments/change-driven-reads.md).
 */
export const WHOLE_READ_EVERY_S = 2;
/**
 * Windows are cut round where each person was in the camera's previous frame detected, so they hold
 * only when those frames are close in time: measured at 0.2 s apart; at 1 s apart (one frame a
 * second) they lost people and the demo's visits their receipts (docs/results.md#receipts). Frames
 * further apart than this are every one read whole, store seconds.
 */
export const WINDOWS_HOLD_S = 0.2;

/**
 * The frames detected between whole reads by default, for cameras read every `stride`-th frame
 * (the slowest camera sets it): whole reads WHOLE_READ_EVERY_S apart when the frames detected are
 * close enough for windows (WINDOWS_HOLD_S), otherwise every frame whole (1).
 */
export function defaultWholeEvery(cameras: ReadonlyArray<{ fps: number }>, stride: number): number {
  if (cameras.length === 0) return 1;
  const secondsApart = stride / Math.min(...cameras.map((camera) => camera.fps));
  if (secondsApart > WINDOWS_HOLD_S + 1e-9) return 1;
  return Math.max(1, Math.round(WHOLE_READ_EVERY_S / secondsApart));
}
/** How the shelf cameras are read: every frame the stride keeps, or only around their shelves' activity. */
export type ShelfCameraReading = 'always' | 'on-demand';
/**
 * How the shelf cameras are read unless told (`start`, `eval receipts`, `serve camera`): with the
 * int8-fused model, the fastest reading measured (docs/experiments/int8-fused-on-demand-default.md).
 */
export const SHELF_CAMERAS_DEFAULT: ShelfCameraReading = 'on-demand';

/** The options that set how shelf cameras are read (`start`, `eval receipts`); `usage` is their help text. */
export const shelfCameraOptions = {
  'shelf-cameras': { type: 'string' },
  'shelf-pre-roll-ms': { type: 'string' },
  'shelf-tail-ms': { type: 'string' },
} as const;

export const SHELF_CAMERAS_USAGE = `  --shelf-cameras R with --detect-every: on-demand (only while a shelf the camera looks at
                    is active on its load cells, from --shelf-pre-roll-ms before to
                    --shelf-tail-ms after; the others passed over) or always (every frame the
                    stride keeps); default ${SHELF_CAMERAS_DEFAULT}
  --shelf-pre-roll-ms N, --shelf-tail-ms N
                    with --shelf-cameras on-demand (default ${SHELF_PRE_ROLL_MS} and ${SHELF_TAIL_MS})`;

/**
 * The shelf cameras' reading asked for with shelfCameraOptions (SHELF_CAMERAS_DEFAULT unless asked):
 * what the camera service takes as `shelfOnDemand`, or undefined to read them always or when the
 * cameras are not read (`detecting`), which none of it applies to.
 */
export function parseShelfCameras(values: Record<string, unknown>, verb: Verb, detecting: boolean): ShelfOnDemand | undefined {
  const asked = values['shelf-cameras'];
  const timing = values['shelf-pre-roll-ms'] !== undefined || values['shelf-tail-ms'] !== undefined;
  if (!detecting && (asked !== undefined || timing)) throw new WalkoutError('USAGE', `walkout ${verb.name}: --shelf-cameras and its timings apply when the cameras are read`);
  if (!detecting) return undefined;
  if (asked !== undefined && asked !== 'always' && asked !== 'on-demand')
    throw new WalkoutError('USAGE', `walkout ${verb.name}: --shelf-cameras is always or on-demand, not ${JSON.stringify(asked)}`);
  const reading = (asked as ShelfCameraReading | undefined) ?? SHELF_CAMERAS_DEFAULT;
  if (reading === 'always') {
    if (timing) throw new WalkoutError('USAGE', `walkout ${verb.name}: --shelf-pre-roll-ms and --shelf-tail-ms apply to --shelf-cameras on-demand`);
    return undefined;
  }
  return {
    preRollMs: optionalInt(values, 'shelf-pre-roll-ms', verb, SHELF_PRE_ROLL_MS, { min: 0, unit: 'ms' }),
    tailMs: optionalInt(values, 'shelf-tail-ms', verb, SHELF_TAIL_MS, { min: 0, unit: 'ms' }),
  };
}

/** How often a wait for the store to take what it was sent looks again. */
const CATCH_UP_POLL_MS = 20;

export type PeopleSource =
  | { kind: 'truth'; noiseM: number; seed: number }
  | {
      kind: 'tracked';
      detector: PoseDetector;
      stride: number;
      wholeFrameEvery?: number;
      /** Kinds of camera read at a stride (and whole every n-th) of their own (services/camera). */
      byKind?: CameraServiceDependencies['byKind'];
      framesAtOnce?: number;
      /** Shelf cameras read only around their shelves' activity (services/camera). */
      shelfOnDemand?: CameraServiceDependencies['shelfOnDemand'];
    };

export interface StoreRunOptions {
  bus: Bus<typeof topics>;
  logger?: Logger;
  people: PeopleSource;
  quiet?: boolean;
  /** Called as the store publishes, for a console that shows the store at work. */
  onShelfEvent?: (event: ShelfEventDetected) => void;
  onReceipt?: (receipt: ReceiptFinalised) => void;
  /**
   * A reviewer in the replay: each review item about a shelf event decided by the truth, its delay
   * after the item opened, on the bus during the run (libs/cart/truth.reviewer.ts). None: items wait
   * for a person, as they do unless asked.
   */
  reviewer?: TruthReviewer;
}

export interface StoreRunResult {
  replay: ReplayStats;
  shelfEvents: ShelfEventDetected[];
  /** Changes of several items at once that fusion read otherwise than the shelf (receiptRun scores its reading). */
  reexplained: ChangeReexplained[];
  attributions: EventAttributed[];
  reviews: ReviewItemOpened[];
  /** Decisions on review items, and items withdrawn by the stage that opened them. */
  resolutions: ReviewItemResolved[];
  /** Decisions the stage that opened the item did not apply. */
  refusals: ReviewDecisionRefused[];
  cartUpdates: CartUpdated[];
  receipts: ReceiptFinalised[];
  /** The camera stage's output, when it ran: the frames it read (those passed over are counted in `passedOver`). */
  poses: Map<string, CameraPosesDetected[]>;
  /** Frames the camera stage passed over (shelf cameras read on demand), per camera. */
  passedOver: Map<string, number>;
  deadFrames: MessageDeadLettered[];
  tracked: PeopleTracked[];
  store: StoreRuntime;
  /** Per cart.updated event id: how far the replay had got, store clock, when the update reached us. */
  cartUpdatedAt: Map<string, number>;
  /** What checkout made of every receipt (read once each was charged, voided or declined); empty without checkout. */
  charges: ChargeRow[];
  /**
   * The camera stage's pace, when it ran: the recording's store seconds over the wall seconds from
   * the first frame put on the bus to the last frame's poses out (at least 1: it keeps up live),
   * and the CPU time this process used meanwhile (every thread; the video decoders are processes
   * of their own), which a machine shared with other work does not stretch.
   */
  cameraPace?: { storeSeconds: number; wallSeconds: number; realTimeFactor: number; cpuSeconds: number };
}

/**
 * What the receipt scorer reads from a run. Pick-to-cart latency is measured on the replay's store
 * clock: a cart update counts as made when it reached the console, at the replay's position then (to
 * within one sample batch), which includes the tracker's lag and every stage's wait for evidence.
 */
export function receiptRun(run: StoreRunResult) {
  return {
    receipts: run.receipts,
    attributions: run.attributions,
    reviews: run.reviews,
    resolutions: run.resolutions,
    shelfEvents: settledChanges(run.shelfEvents, run.reexplained),
    cartUpdates: run.cartUpdates.map((update) => ({ ...update, ts: run.cartUpdatedAt.get(update.eventId) ?? update.ts })),
  };
}

/** Waits, a poll at a time, until `done` holds: the bus hands messages over asynchronously. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, CATCH_UP_POLL_MS));
}

export async function runStore(recording: Recording, options: StoreRunOptions): Promise<StoreRunResult> {
  const { bus, people } = options;
  const collected = collector();
  /** How far the replay has got, store clock. */
  let storeNow = recording.manifest.startMs;
  /** The visits the store started, by id (the reviewer decides for these). */
  const started = new Set<string>();
  await bus.subscribe({
    group: 'store-run',
    topics: [
      'shelf.event-detected',
      'fusion.event-attributed',
      'fusion.change-reexplained',
      'review.item-opened',
      'cart.updated',
      'visit.receipt-finalised',
      'camera.poses-detected',
      'tracking.people-tracked',
      'visit.started',
      'visit.track-bound',
      'visit.ended',
      'fusion.visit-settled',
      'review.item-resolved',
      'review.decision-refused',
      'gate.qr-scanned',
      'gate.opened',
      'device.health-reported',
      'shelf.activity-reported',
      'shelf.stock-snapshot',
      DEAD_LETTER_TOPIC,
    ],
    handle: ({ topic, message }) => {
      if (!collected.take(topic, message.eventId)) return;
      switch (topic) {
        case 'shelf.event-detected':
          collected.result.shelfEvents.push(message);
          options.onShelfEvent?.(message);
          break;
        case 'fusion.event-attributed':
          collected.result.attributions.push(message);
          break;
        case 'fusion.change-reexplained':
          collected.result.reexplained.push(message);
          break;
        case 'review.item-opened':
          collected.result.reviews.push(message);
          options.reviewer?.opened(message);
          break;
        case 'review.item-resolved':
          collected.result.resolutions.push(message);
          // Withdrawn, or answered by fusion from another decision (a pick following a gate binding): nobody decides it.
          if (message.decision.outcome === 'withdrawn' || message.reviewer === FUSION_STAGE) options.reviewer?.withdrawn(message.reviewId);
          break;
        case 'visit.started':
          started.add(message.visitId);
          break;
        case 'review.decision-refused':
          collected.result.refusals.push(message);
          break;
        case 'cart.updated':
          collected.result.cartUpdates.push(message);
          collected.result.cartUpdatedAt.set(message.eventId, storeNow);
          break;
        case 'visit.receipt-finalised':
          collected.result.receipts.push(message);
          options.onReceipt?.(message);
          break;
        case 'camera.poses-detected': {
          if (message.passedOver) {
            collected.result.passedOver.set(message.cameraId, (collected.result.passedOver.get(message.cameraId) ?? 0) + 1);
            break;
          }
          const ofCamera = collected.result.poses.get(message.cameraId) ?? [];
          ofCamera.push(message);
          collected.result.poses.set(message.cameraId, ofCamera);
          break;
        }
        case 'tracking.people-tracked':
          collected.result.tracked.push(message);
          break;
        case DEAD_LETTER_TOPIC:
          if (message.sourceTopic === 'camera.frame-captured') collected.result.deadFrames.push(message);
          break;
      }
    },
  });

  const tracked = people.kind === 'tracked';
  const store = createStore({
    index: recording.index,
    bus,
    logger: options.logger,
    camera: tracked
      ? {
          detector: people.detector,
          stride: people.stride,
          wholeFrameEvery: people.wholeFrameEvery,
          byKind: people.byKind,
          framesAtOnce: people.framesAtOnce,
          shelfOnDemand: people.shelfOnDemand,
        }
      : undefined,
    // A replay: every camera's poses come, however far behind the slow camera stage runs, so the
    // tracker waits for all of them (a live store lets a silent camera go after two seconds).
    tracking: tracked ? { idleMs: Infinity } : false,
    visits: true,
    checkout: { config: loadCheckoutConfig() },
  });
  await store.start();
  const cameraIds = tracked ? recording.manifest.streams.cameras.map((c) => c.cameraId) : [];
  const t0 = recording.manifest.startMs;
  const span = recording.manifest.endMs - t0;
  const bar = progress('replay', Math.ceil(span / 1000), { unit: 'store s', quiet: options.quiet });
  let shown = 0;
  const replayStarted = performance.now();
  const cpuStarted = process.cpuUsage();
  const replay = await replayRecording(recording, bus, {
    cameras: cameraIds,
    people: people.kind === 'truth' ? { instants: truthPeople(recording, { noiseM: people.noiseM, seed: people.seed }), lagMs: TRACKER_LAG_MS } : undefined,
    onProgress: async (ts) => {
      storeNow = ts;
      const { reviewer } = options;
      if (reviewer?.hasDue(ts))
        for (const decision of reviewer.due(ts, settledChanges(collected.result.shelfEvents, collected.result.reexplained), started)) await bus.publish('review.item-resolved', decision);
      const seconds = Math.floor((ts - t0) / 1000);
      if (seconds > shown) {
        bar.tick(seconds - shown);
        shown = seconds;
      }
    },
  });
  bar.tick(Math.ceil(span / 1000) - shown);
  bar.done();
  storeNow = Math.max(storeNow, recording.manifest.endMs);
  let cameraPace: StoreRunResult['cameraPace'];
  if (tracked) {
    const strideOf = (cameraId: string) => cameraStride(recording.index.cameras.get(cameraId) ?? { kind: 'ceiling' }, people);
    await waitForCameraStage(recording, store, collected.result, strideOf, options.quiet);
    const wallSeconds = (performance.now() - replayStarted) / 1000;
    const cpu = process.cpuUsage(cpuStarted);
    cameraPace = { storeSeconds: span / 1000, wallSeconds, realTimeFactor: span / 1000 / wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  }
  const charges = await stopInDataFlowOrder(store, collected, replay);
  return { replay, store, cameraPace, charges, ...collected.result };
}

/** Everything the store published, once each (the bus delivers at least once), with counts per topic. */
function collector() {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  const result = {
    shelfEvents: [] as ShelfEventDetected[],
    reexplained: [] as ChangeReexplained[],
    attributions: [] as EventAttributed[],
    reviews: [] as ReviewItemOpened[],
    resolutions: [] as ReviewItemResolved[],
    refusals: [] as ReviewDecisionRefused[],
    cartUpdates: [] as CartUpdated[],
    receipts: [] as ReceiptFinalised[],
    poses: new Map<string, CameraPosesDetected[]>(),
    passedOver: new Map<string, number>(),
    deadFrames: [] as MessageDeadLettered[],
    tracked: [] as PeopleTracked[],
    cartUpdatedAt: new Map<string, number>(),
  };
  return {
    result,
    /** False for a message already taken. */
    take(topic: string, eventId: string): boolean {
      const key = `${topic}\n${eventId}`;
      if (seen.has(key)) return false;
      seen.add(key);
      counts.set(topic, (counts.get(topic) ?? 0) + 1);
      return true;
    },
    count: (topic: string) => counts.get(topic) ?? 0,
  };
}

/** The camera stage works at the detector's pace, well behind the replay: wait for every frame it takes. */
async function waitForCameraStage(
  recording: Recording,
  store: StoreRuntime,
  result: ReturnType<typeof collector>['result'],
  strideOf: (cameraId: string) => number,
  quiet?: boolean,
) {
  const expected = recording.manifest.streams.cameras.reduce((n, c) => n + Math.ceil(c.frameCount / strideOf(c.cameraId)), 0);
  const detecting = progress('detect', expected, { unit: 'frames', quiet });
  const posed = () =>
    [...result.poses.values()].reduce((n, events) => n + events.length, 0) + [...result.passedOver.values()].reduce((n, count) => n + count, 0);
  let counted = 0;
  await until(() => {
    const done = posed() + result.deadFrames.length;
    detecting.tick(done - counted);
    counted = done;
    return done >= expected;
  });
  detecting.done();
  // The tracker takes every pose event before the store stops (stopping flushes what it holds).
  await until(() => (store.tracker?.stats().poses ?? Infinity) >= posed());
}

/**
 * Stops the store stage by stage, each only once it has taken everything the stages before it
 * published (the bus hands messages over asynchronously, Kafka by the network): the tracker its
 * poses, visits their people, fusion the last shelf events and visit endings, carts the attributions
 * and settled visits. What each stage published is known from its own counts, so on any bus the
 * console first sees all of it, and then each stage must have taken as many messages as the console
 * saw on its topics. Checkout has caught up when it has recorded every receipt the console saw and
 * each one's charge has its answer (charged, nothing to charge, or declined): its dispatcher runs on
 * its own, so the wait is for that, read from its database, which is also where the charges are
 * read from. Last, every receipt the carts published reaches the console.
 */
async function stopInDataFlowOrder(store: StoreRuntime, collected: ReturnType<typeof collector>, replay: ReplayStats): Promise<ChargeRow[]> {
  const published = (...names: string[]) => names.reduce((n, topic) => n + collected.count(topic), 0);
  const took = (taken: number | undefined, ...names: string[]) => taken === undefined || taken >= published(...names);
  const services = () => [store.shelf, store.gate, store.fusion, store.cart];
  // People come from the replay (truth people) or the tracker, which counts instants, not topics.
  const peoplePublished = () => replay.peopleMessages + (store.tracker?.stats().published ?? 0);
  const sawEverything = () =>
    collected.count('tracking.people-tracked') >= peoplePublished() &&
    services().every((service) => Object.entries(service?.stats().publishedByTopic ?? {}).every(([topic, count]) => collected.count(topic) >= count));
  let charges: ChargeRow[] = [];
  const checkoutSettled = async () => {
    const db = store.checkout?.db;
    if (!db || !sawEverything()) return !db;
    const progress = await checkoutProgress(db);
    return progress.receipts >= collected.count('visit.receipt-finalised') && progress.pendingCharges === 0;
  };
  await store.stop({
    caughtUp: async (stage) => {
      if (stage === 'checkout') {
        await until(checkoutSettled);
        if (store.checkout?.db) charges = await loadCharges(store.checkout.db);
        return;
      }
      await until(() => {
        if (!sawEverything()) return false;
        switch (stage) {
          case 'shelf':
            // Load-cell samples go from the replay straight to the shelf stage (the console does not read them).
            return store.shelf.stats().messages >= replay.sampleMessages;
          case 'gate':
            return took(store.gate?.stats().messages, 'tracking.people-tracked', 'gate.qr-scanned', 'gate.opened');
          case 'fusion': {
            const taken = store.fusion?.stats().messages;
            return !taken || (took(taken['shelf.event-detected'], 'shelf.event-detected') && took(taken['visit.ended'], 'visit.ended') && took(taken['visit.track-bound'], 'visit.track-bound'));
          }
          case 'cart':
            return took(store.cart?.stats().messages, ...CART_INPUTS);
          default:
            return true;
        }
      });
    },
  });
  await until(sawEverything);
  return charges;
}

/** What the cart stage takes: it has caught up when it has taken as many messages as these topics carried. */
const CART_INPUTS = ['visit.started', 'visit.ended', 'fusion.event-attributed', 'review.item-opened', 'review.item-resolved', 'fusion.visit-settled'];
