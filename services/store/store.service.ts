import type { StoreIndex, topics } from '../../libs/contracts/index.ts';
import type { Bus } from '../../libs/bus/index.ts';
import type { PoseDetector } from '../../libs/vision/pose.detector.ts';
import { createCameraService, type CameraService, type CameraServiceDependencies } from '../camera/camera.service.ts';
import { createShelfService, type ShelfService } from '../shelf/shelf.service.ts';
import { createTrackerService, type TrackerService } from '../tracker/tracker.service.ts';
import { createGateService, type GateService } from '../gate/gate.service.ts';
import { createFusionService, type FusionService } from '../fusion/fusion.service.ts';
import { createCartService, type CartService } from '../cart/cart.service.ts';
import { createCheckoutService, type CheckoutService } from '../checkout/checkout.service.ts';
import type { DatabaseConfig } from '../../libs/db/index.ts';
import type { CheckoutConfig } from '../../libs/checkout/checkout.config.ts';
import type { Logger } from '../../libs/log/logger.ts';
import type { Clock } from '../../libs/clock/clock.ts';
import type { EntryVerifier } from '../../libs/entry/entry.verifier.ts';

/**
 * The whole store in one process: every pipeline stage, wired in one place. `start` brings the
 * stages up in data-flow order; `stop` stops the one that only produces (the camera stage) first,
 * then finishes and stops each stage that consumes, in data-flow order. Camera perception runs
 * when a pose detector is given (it is the slow stage: see services/camera), and the tracker with
 * it (or alone, with `tracking`, for poses that come from elsewhere). With `visits`, the money path
 * runs too: the gate stage binds visits to tracks, fusion decides who took what, carts follow each
 * visit and finalise its receipt, and checkout charges it (on the embedded database unless told
 * otherwise).
 */
export interface StoreDependencies {
  index: StoreIndex;
  bus: Bus<typeof topics>;
  logger?: Logger;
  /** The one service clock of every stage (idle cameras, silent shelves, late frames); the system clock by default. */
  clock?: Clock;
  /**
   * Camera perception: the pose detector, which frames of each camera it takes (every n-th), how
   * often it reads one whole (both perhaps of their own for a kind of camera), how many frames it
   * detects at once (see services/camera), how late it still takes one, whether the shelf cameras are
   * read only around their shelves' activity (the shelf stage then reports it).
   */
  camera?: Pick<CameraServiceDependencies, 'detector' | 'stride' | 'wholeFrameEvery' | 'byKind' | 'framesAtOnce' | 'maxLagMs' | 'shelfOnDemand'>;
  /**
   * Follow people from the cameras' poses (default: when camera perception runs). `idleMs`: how
   * long a silent camera holds instants back (Infinity for a replay, where every camera's poses
   * come, however far behind; see services/tracker).
   */
  tracking?: boolean | { idleMs?: number };
  /** Visits, attribution, carts and receipts (they need people: from the tracker or another source). */
  visits?: boolean;
  /** The entry-code check for gates that present codes (gate.code-presented); a replay carries verified scans and needs none. */
  entry?: EntryVerifier;
  /**
   * With visits: checkout's database (embedded in memory by default), or false to leave checkout out
   * (a scoring run that never charges).
   */
  checkout?: false | { database?: DatabaseConfig; config?: CheckoutConfig };
}

/** The stages that consume, in data-flow order: each is flushed and stopped in this order. */
export type ConsumerStage = 'tracker' | 'shelf' | 'gate' | 'fusion' | 'cart' | 'checkout';

export interface StopOptions {
  /**
   * Resolves once a stage has taken everything the stages before it published, so its flush decides
   * with all of it (the bus hands messages over asynchronously). Called before each stage's flush.
   */
  caughtUp?: (stage: ConsumerStage) => Promise<void>;
}

export interface StoreRuntime {
  readonly shelf: ShelfService;
  readonly camera: CameraService | undefined;
  readonly tracker: TrackerService | undefined;
  readonly gate: GateService | undefined;
  readonly fusion: FusionService | undefined;
  readonly cart: CartService | undefined;
  readonly checkout: CheckoutService | undefined;
  start(): Promise<void>;
  /** Finishes what is in flight (open shelf segments included), then stops every stage. */
  stop(options?: StopOptions): Promise<void>;
}

export function createStore(deps: StoreDependencies): StoreRuntime {
  const shelf = createShelfService({
    index: deps.index,
    bus: deps.bus,
    clock: deps.clock,
    logger: deps.logger?.child({ service: 'shelf' }),
    reportActivity: !!deps.camera?.shelfOnDemand,
  });
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
  const service = <T>(name: string, create: (deps: { index: StoreIndex; bus: StoreDependencies['bus']; clock?: Clock; logger?: Logger }) => T) =>
    deps.visits ? create({ index: deps.index, bus: deps.bus, clock: deps.clock, logger: deps.logger?.child({ service: name }) }) : undefined;
  const gate = service('gate', (common) => createGateService({ ...common, entry: deps.entry }));
  const fusion = service('fusion', createFusionService);
  const cart = service('cart', createCartService);
  const checkout =
    deps.visits && deps.checkout !== false
      ? createCheckoutService({ index: deps.index, bus: deps.bus, clock: deps.clock, logger: deps.logger?.child({ service: 'checkout' }), database: deps.checkout?.database, config: deps.checkout?.config })
      : undefined;
  /** The stages that hold state until the end of a run (open shelf segments, instants waiting for cameras, visits, carts), in data-flow order. */
  const consumers: Array<[ConsumerStage, { start(): Promise<void>; flush(): Promise<void>; stop(): Promise<void> } | undefined]> = [
    ['tracker', tracker],
    ['shelf', shelf],
    ['gate', gate],
    ['fusion', fusion],
    ['cart', cart],
    ['checkout', checkout],
  ];
  return {
    shelf,
    camera,
    tracker,
    gate,
    fusion,
    cart,
    checkout,
    async start() {
      await camera?.start();
      for (const [, stage] of consumers) await stage?.start();
    },
    async stop(options = {}) {
      // The camera stage first (it finishes the frame in flight and publishes its poses), so nothing
      // new reaches the tracker; then each consumer publishes what it holds, releases its input, and
      // leaves. A caller that needs every pose tracked waits for the tracker to take them first (the
      // bus hands them over asynchronously), as `walkout start` does.
      await camera?.stop();
      for (const [name, stage] of consumers) {
        if (!stage) continue;
        await options.caughtUp?.(name);
        await stage.flush();
      }
      for (const [, stage] of consumers) await stage?.stop();
    },
  };
}
