import { indexStore, loadStore, topics, WalkoutError, type StoreIndex } from '../../libs/contracts/index.ts';
import { closeOnSignals, createBus, loadBusConfig, type Bus } from '../../libs/bus/index.ts';
import { systemClock } from '../../libs/clock/clock.ts';
import { createLogger, logLevelFromEnv, type Logger } from '../../libs/log/logger.ts';
import { optionalInt, report, type Verb } from '../../libs/cli/verb.ts';
import { createShelfService, SHELF_GROUP, SHELF_SILENT_MS } from '../shelf/shelf.service.ts';
import { createTrackerService, TRACKER_GROUP } from '../tracker/tracker.service.ts';
import { createGateService, GATE_GROUP } from '../gate/gate.service.ts';
import { createFusionService, FUSION_GROUP } from '../fusion/fusion.service.ts';
import { createCartService, CART_GROUP } from '../cart/cart.service.ts';
import {
  createEntryVerifier,
  loadEntryKeys,
  MemoryAccountStatus,
  MemoryNonceStore,
  NONCE_KEEP_MS,
  SqlAccountStatus,
  SqlNonceStore,
  ENTRY_KEYS_FILE_VARIABLE,
} from '../../libs/entry/index.ts';
import { createCheckoutService, CHECKOUT_GROUP } from '../checkout/checkout.service.ts';
import { CHECKOUT_CONFIG_VARIABLE, CHECKOUT_WORKER_VARIABLE, loadCheckoutConfig, loadCheckoutWorker } from '../../libs/checkout/checkout.config.ts';
import { loadDatabaseConfig, openDatabase, type Database } from '../../libs/db/index.ts';
import { createAppService, DEFAULT_APP_PORT } from '../app/app.service.ts';
import { CAMERA_GROUP, createCameraService, SHELF_ACTIVITY_GROUP, SHELF_WORD_WAIT_MS } from '../camera/camera.service.ts';
import { parseShelfCameras, SHELF_CAMERAS_USAGE, shelfCameraOptions } from './store.run.ts';
import { createChosenDetector, parseDetectorThreads, parseLooks, parsePrecision } from '../../libs/vision/detector.registry.ts';

/**
 * One pipeline stage as a process of its own, on the bus the environment names (Kafka, in a
 * distributed store): the composition root of a single service. It runs until SIGTERM or SIGINT,
 * then closes the service and the bus (what the service holds stays uncommitted for the next
 * process) and prints what the service counted.
 */
const DEFAULT_STORE = 'fixtures/stores/kiosk-shelf-cams.json';
/** Any long period: the timer only keeps the event loop alive. */
const KEEP_ALIVE_MS = 3_600_000;

interface Served {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): object;
}

type Build = (deps: { index: StoreIndex; bus: Bus<typeof topics>; logger: Logger }) => Served;

const environment = `The bus comes from the environment, as for every service: WALKOUT_BUS=kafka with
WALKOUT_KAFKA_BROKERS (and the other WALKOUT_BUS_* / WALKOUT_KAFKA_* settings); logs are JSON lines on
standard error at WALKOUT_LOG_LEVEL. On the in-process bus (the default) nothing outside this process
can reach the service. It runs until SIGTERM or SIGINT, then leaves its group (what it holds goes to
the next process) and prints what it counted.`;

async function serve(name: string, group: string, values: Record<string, unknown>, build: Build): Promise<void> {
  const json = values.json === true;
  const storeFile = typeof values.store === 'string' ? values.store : DEFAULT_STORE;
  const logger = createLogger({ level: logLevelFromEnv(), fields: { service: name } });
  const config = loadBusConfig();
  const index = indexStore(await loadStore(storeFile));
  const bus = await createBus({ topics, config, logger: logger.child({ component: 'bus' }) });
  await bus.start();
  const service = build({ index, bus, logger });
  // Signals are taken from here on, so that one that comes while the service joins its group closes
  // it cleanly too; "serving" is said only once the process would also stop cleanly.
  closeOnSignals(
    {
      close: async () => {
        await service.stop();
        await bus.close();
      },
    },
    {
      logger,
      exit: (code) => {
        const stats = service.stats();
        report(json, { service: name, store: index.store.id, bus: bus.kind, stats }, () =>
          [`${name} service stopped (store ${index.store.id}, ${bus.kind} bus):`, ...Object.entries(stats).map(([key, value]) => `  ${key}: ${value}`)].join('\n'),
        );
        process.exit(code);
      },
    },
  );
  // The process lives until a signal: the in-process bus holds no socket that would keep it up.
  setInterval(() => undefined, KEEP_ALIVE_MS);
  await service.start();
  if (bus.kind === 'memory') logger.warn('serving on the in-process bus: nothing outside this process can reach the service (set WALKOUT_BUS=kafka)');
  logger.info('serving', { store: index.store.id, storeFile, bus: bus.kind, group });
  await new Promise<never>(() => undefined);
}

export const serveShelfVerb: Verb = {
  name: 'serve shelf',
  summary: 'Run the shelf service alone: load-cell samples in, shelf events and load-cell health out, until stopped.',
  usage: `walkout serve shelf [--store ${DEFAULT_STORE}] [--silent-ms ${SHELF_SILENT_MS}] [--no-report-activity] [--json]

Takes shelf.samples-recorded as consumer group "${SHELF_GROUP}" and publishes shelf.event-detected and
device.health-reported for the shelves of --store, and shelf.stock-snapshot (what each shelf holds,
which the next process to take the shelf starts from); it also reads fusion.change-reexplained and
shelf.stock-snapshot, each in a group of its own. ${environment}

  --silent-ms N      a shelf whose samples stopped this long ago has its open segment finished and
                     its samples committed (default ${SHELF_SILENT_MS})
  --no-report-activity
                     do not publish shelf.activity-reported: by default each shelf's state (active,
                     at rest or silent) goes out, which camera processes that read the shelf
                     cameras on demand (serve camera's default) wait for; --report-activity, the
                     default, is accepted too
  --json             print what the service counted as JSON when it stops`,
  options: {
    store: { type: 'string' },
    'silent-ms': { type: 'string' },
    'report-activity': { type: 'boolean' },
    'no-report-activity': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values }) {
    const silentMs = values['silent-ms'] === undefined ? undefined : optionalInt(values, 'silent-ms', serveShelfVerb, SHELF_SILENT_MS, { min: 1, unit: 'milliseconds' });
    if (values['report-activity'] && values['no-report-activity'])
      throw new WalkoutError('USAGE', 'walkout serve shelf: --report-activity and --no-report-activity say opposite things');
    const reportActivity = values['no-report-activity'] !== true;
    await serve('shelf', SHELF_GROUP, values, ({ index, bus, logger }) => createShelfService({ index, bus, logger, clock: systemClock, silentMs, reportActivity }));
  },
};

export const serveTrackerVerb: Verb = {
  name: 'serve tracker',
  summary: "Run the tracker alone: every camera's poses in, people on their tracks out, until stopped.",
  usage: `walkout serve tracker [--store ${DEFAULT_STORE}] [--idle-ms 2000|infinity] [--json]

Takes camera.poses-detected as consumer group "${TRACKER_GROUP}" (run one per store) and publishes
tracking.people-tracked, and device.health-reported for a camera gone silent. ${environment}

  --idle-ms N  a camera silent this long stops holding instants back (default 2000); "infinity" for
               poses that come from a replay, where every camera's poses do come, however late
  --json       print what the service counted as JSON when it stops`,
  options: { store: { type: 'string' }, 'idle-ms': { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }) {
    const idleMs = parseIdleMs(values);
    await serve('tracker', TRACKER_GROUP, values, ({ index, bus, logger }) => createTrackerService({ index, bus, logger, clock: systemClock, idleMs }));
  },
};

export const serveCameraVerb: Verb = {
  name: 'serve camera',
  summary: 'Run camera perception alone: frames in, the people in them out, until stopped; start several to share the cameras.',
  usage: `walkout serve camera [--store ${DEFAULT_STORE}] [--detector onnx|movenet] [--input-size 640]
                    [--mirror on|off] [--refine upright|none] [--looks when-unsure|always]
                    [--precision int8-fused|int8|float] [--detector-threads N] [--every N]
                    [--whole-every N] [--max-lag-ms N] [--shelf-cameras on-demand|always]
                    [--shelf-pre-roll-ms N] [--shelf-tail-ms N]
                    [--activity-group NAME] [--json]

Takes camera.frame-captured as consumer group "${CAMERA_GROUP}" and publishes camera.poses-detected (and
device.health-reported for a camera whose frames cannot be read). Start it several times: the
processes share the frame topic's partitions, and so the cameras (frames are keyed by camera); each
reads the frames of several partitions at once on its detector threads
(docs/experiments/camera-threads.md). ${environment}

  --detector D    onnx (default): MoveNet on ONNX Runtime; movenet: the same model on TF.js
  --precision P   onnx: int8-fused (default), int8 or float, as \`walkout start\`
  --input-size S  the model input's longer side, a multiple of 32 (default 640)
  --mirror M      on (default) or off: the mirrored second read
  --refine R      upright (default) or none: the upright second look at tilted people
  --looks L       when-unsure (default): the second looks only where they can change the answer
                  (a person fewer than the camera's last frame, a person or a wrist scored under
                  0.5); always: on every frame and person
  --detector-threads N
                  onnx: worker threads that run the model, each with its own ONNX Runtime session,
                  frames of 2N partitions read at once (default: one per core; 0: on the main
                  thread, one frame at a time)
  --every N       detect only frames whose index is a multiple of N (default 1: every frame)
  --whole-every N read every N-th frame detected of each camera whole (its first too), the others in
                  windows round its people and only where the image changed (default 1: every
                  frame whole; walkout start reads 1 in 10, docs/experiments/change-driven-reads.md)
  --max-lag-ms N  pass over (and count as late) a frame that waited on the bus longer than this,
                  so a worker that cannot keep up detects recent frames; default: none passed over
${SHELF_CAMERAS_USAGE.replace('with --detect-every: ', '')}
                    (the shelf stage reports its activity unless run with --no-report-activity;
                    without its word a shelf camera's frame waits ${SHELF_WORD_WAIT_MS / 1000} s, then is read)
  --activity-group NAME
                  with --shelf-cameras on-demand: the consumer group this process takes shelf
                  activity in; each process needs every shelf's, so give each its own (default
                  ${SHELF_ACTIVITY_GROUP})
  --json          print what the service counted as JSON when it stops`,
  options: {
    store: { type: 'string' },
    detector: { type: 'string' },
    'input-size': { type: 'string' },
    mirror: { type: 'string' },
    refine: { type: 'string' },
    looks: { type: 'string' },
    every: { type: 'string' },
    'whole-every': { type: 'string' },
    'detector-threads': { type: 'string' },
    'max-lag-ms': { type: 'string' },
    precision: { type: 'string' },
    ...shelfCameraOptions,
    'activity-group': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }) {
    const verb = 'walkout serve camera';
    for (const [option, allowed] of [['mirror', ['on', 'off']], ['refine', ['upright', 'none']]] as const)
      if (values[option] !== undefined && !(allowed as readonly unknown[]).includes(values[option]))
        throw new WalkoutError('USAGE', `${verb}: --${option} is one of ${allowed.join(', ')}, not ${JSON.stringify(values[option])}`);
    const stride = optionalInt(values, 'every', serveCameraVerb, 1, { min: 1, unit: 'frames' });
    const wholeFrameEvery = optionalInt(values, 'whole-every', serveCameraVerb, 1, { min: 1, unit: 'frames' });
    const maxLagMs = values['max-lag-ms'] === undefined ? undefined : optionalInt(values, 'max-lag-ms', serveCameraVerb, 0, { min: 1, unit: 'milliseconds' });
    const { detectorThreads, framesAtOnce } = parseDetectorThreads(values['detector-threads'], verb);
    const onDemand = parseShelfCameras(values, serveCameraVerb, true);
    if (values['activity-group'] !== undefined && !onDemand) throw new WalkoutError('USAGE', `${verb}: --activity-group applies to --shelf-cameras on-demand`);
    const shelfOnDemand = onDemand && { ...onDemand, activityGroup: typeof values['activity-group'] === 'string' ? values['activity-group'] : undefined };
    const { detector, fellBack } = await createChosenDetector(
      {
        detector: values.detector as string | undefined,
        inputSize: optionalInt(values, 'input-size', serveCameraVerb, 640),
        mirror: values.mirror !== 'off',
        refine: values.refine === 'none' ? 'none' : 'upright',
        looks: parseLooks(values.looks, verb) ?? 'when-unsure',
        precision: parsePrecision(values.precision, verb),
        detectorThreads,
      },
      verb,
    );
    if (fellBack) process.stderr.write(`pose detection on TF.js: ${fellBack}\n`);
    await serve('camera', CAMERA_GROUP, values, ({ index, bus, logger }) => {
      const camera = createCameraService({ index, bus, logger, detector, stride, wholeFrameEvery, framesAtOnce, maxLagMs, shelfOnDemand, clock: systemClock });
      return {
        start: () => camera.start(),
        async stop() {
          await camera.stop();
          detector.dispose();
        },
        stats: () => ({ ...camera.stats(), model: detector.model }),
      };
    });
  },
};

/** A stage that takes no options of its own beyond the store: the gate, fusion and carts. */
function simpleServeVerb(spec: { stage: string; group: string; summary: string; inputs: string; outputs: string; note: string; build: Build }): Verb {
  const verb: Verb = {
    name: `serve ${spec.stage}`,
    summary: spec.summary,
    usage: `walkout serve ${spec.stage} [--store ${DEFAULT_STORE}] [--json]

Takes ${spec.inputs} as consumer group "${spec.group}" and publishes ${spec.outputs}. ${spec.note} ${environment}

  --json  print what the service counted as JSON when it stops`,
    options: { store: { type: 'string' }, json: { type: 'boolean' } },
    async run({ values }) {
      await serve(spec.stage, spec.group, values, spec.build);
    },
  };
  return verb;
}

export const serveGateVerb = simpleServeVerb({
  stage: 'gate',
  group: GATE_GROUP,
  summary: 'Run the visits stage alone: gate scans and tracked people in, visits bound to tracks out, until stopped.',
  inputs: 'gate.qr-scanned, gate.opened, tracking.people-tracked and review.item-resolved (and gate.code-presented as group "gate-entry")',
  outputs: 'gate.qr-scanned or gate.entry-refused for each code read, visit.started, visit.track-bound, visit.ended, review items for doubtful bindings and tailgating, the withdrawal (review.item-resolved) of a binding item another decision answered, and review.decision-refused for a decision on its item it did not apply',
  note: `Run one per store: it needs every gate and every track. Entry codes are checked with the public keys of the file ${ENTRY_KEYS_FILE_VARIABLE} names (required on Kafka; on the in-process bus a key is made up, with a warning). With WALKOUT_DATABASE_URL set, used codes and account standing (blocked, unpaid visits) are the database's; without it they are kept in memory.`,
  build: ({ index, bus, logger }) =>
    withDatabase(databaseIfConfigured(), (db) => createGateService({ index, bus, logger, clock: systemClock, entry: entryVerifier(index, bus, logger, db) })),
});

/**
 * The gate's code check: used codes and account standing from the database when there is one (so
 * that a restarted gate, or another gate of the store, knows which codes were used, and the accounts
 * checkout left unpaid are refused), in memory otherwise.
 */
function entryVerifier(index: StoreIndex, bus: Bus<typeof topics>, logger: Logger, db: Database | undefined) {
  const keys = loadEntryKeys({ embedded: bus.kind === 'memory', logger });
  const nonces = db ? new SqlNonceStore(db) : new MemoryNonceStore();
  const accounts = db ? new SqlAccountStatus(db) : new MemoryAccountStatus();
  return createEntryVerifier({ keys, storeId: index.store.id, nonces, accounts, clock: systemClock });
}

/** The database WALKOUT_DATABASE_URL names, or none when it is not set. */
function databaseIfConfigured() {
  return process.env.WALKOUT_DATABASE_URL?.trim() ? loadDatabaseConfig() : undefined;
}

/**
 * A service on the database: opened (and migrated) when the service starts, closed after it stops;
 * used entry codes older than NONCE_KEEP_MS are forgotten as time goes by.
 */
function withDatabase(config: ReturnType<typeof databaseIfConfigured>, build: (db: Database | undefined) => Served): Served {
  let db: Database | undefined;
  let service: Served | undefined;
  let stopForgetting: (() => void) | undefined;
  return {
    async start() {
      if (config) db = await openDatabase(config);
      service = build(db);
      await service.start();
      const nonces = db && new SqlNonceStore(db);
      if (nonces) stopForgetting = systemClock.every(NONCE_KEEP_MS, () => void nonces.forgetBefore(systemClock.now() - NONCE_KEEP_MS).catch(() => undefined));
    },
    async stop() {
      stopForgetting?.();
      await service?.stop();
      await db?.close();
    },
    stats: () => ({ ...(service?.stats() ?? {}), ...(db ? { database: db.describe } : {}) }),
  };
}

export const serveFusionVerb = simpleServeVerb({
  stage: 'fusion',
  group: FUSION_GROUP,
  summary: 'Run attribution alone: shelf events, people and visits in, who took what (or a review item) out, until stopped.',
  inputs: 'shelf.event-detected, tracking.people-tracked, visit.*, cart.updated and device.health-reported',
  outputs: 'fusion.event-attributed, fusion.change-reexplained, review.item-opened and fusion.visit-settled',
  note: 'Run one per store: it weighs everyone near a shelf.',
  build: ({ index, bus, logger }) => createFusionService({ index, bus, logger, clock: systemClock }),
});

export const serveCartVerb = simpleServeVerb({
  stage: 'cart',
  group: CART_GROUP,
  summary: 'Run the carts alone: visits, attributions and review decisions in, carts and final receipts out, until stopped.',
  inputs: 'visit.started, visit.ended, fusion.event-attributed, fusion.visit-settled and review.item-*',
  outputs: 'cart.updated and visit.receipt-finalised',
  note: 'Several may run: everything it takes is keyed by visit.',
  build: ({ index, bus, logger }) => createCartService({ index, bus, logger, clock: systemClock }),
});

export const serveCheckoutVerb = simpleServeVerb({
  stage: 'checkout',
  group: CHECKOUT_GROUP,
  summary: 'Run checkout alone: visits and final receipts in, each visit charged once, checkout.* out, until stopped.',
  inputs: 'visit.started, visit.receipt-finalised, cart.updated and review.item-resolved',
  outputs: 'checkout.charged, checkout.payment-failed and checkout.refunded, and charges the local payment provider',
  note: `The database is WALKOUT_DATABASE_URL: empty or "embedded" (in memory), "embedded:<folder>", or postgres://... (several may run on the server: everything it takes is keyed by visit). ${CHECKOUT_CONFIG_VARIABLE} names a JSON file of checkout settings (hold per store, retry and decline policy, the local processor's hold expiry). ${CHECKOUT_WORKER_VARIABLE} names this process for its outbox leases (a host or pod name, one live process each): started again under it, it takes back at once what its killed life held.`,
  build: ({ index, bus, logger }) =>
    createCheckoutService({ index, bus, logger, clock: systemClock, database: loadDatabaseConfig(), config: loadCheckoutConfig(), workerId: loadCheckoutWorker() }),
});

export const serveAppVerb: Verb = {
  name: 'serve app',
  summary: 'Run the shopper app API (entry codes, live cart, receipts, contests, refunds) on a port, until stopped.',
  usage: `walkout serve app [--store ${DEFAULT_STORE}] [--port ${DEFAULT_APP_PORT}] [--host 127.0.0.1] [--json]

Serves the shopper app API over HTTP (OpenAPI document at /docs/json) and reads cart.updated as a
consumer group of its own (every app process sees every cart). Its database is WALKOUT_DATABASE_URL,
the one checkout writes (receipts, refunds, carts); contests go out through checkout's outbox, so
run it on the database checkout runs on. Entry codes are signed with the active key of the file
${ENTRY_KEYS_FILE_VARIABLE} names (required on Kafka). ${environment}

  --port N     the port to listen on (default ${DEFAULT_APP_PORT}; 0 picks a free one)
  --host H     the address to listen on (default 127.0.0.1)
  --json       print what the service counted as JSON when it stops`,
  options: { store: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }) {
    const port = optionalInt(values, 'port', serveAppVerb, DEFAULT_APP_PORT, { min: 0, max: 65_535 });
    const host = typeof values.host === 'string' ? values.host : undefined;
    await serve('app', 'app-live-carts-*', values, ({ index, bus, logger }) =>
      createAppService({ index, bus, logger, clock: systemClock, database: loadDatabaseConfig(), keys: loadEntryKeys({ embedded: bus.kind === 'memory', logger }), port, host }),
    );
  },
};

/** --idle-ms: absent, the tracker's own default; "infinity" for a replay; else whole milliseconds. */
function parseIdleMs(values: Record<string, unknown>): number | undefined {
  const value = values['idle-ms'];
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.trim().toLowerCase() === 'infinity') return Infinity;
  return optionalInt(values, 'idle-ms', serveTrackerVerb, Infinity, { min: 1, unit: 'milliseconds', or: '"infinity"' });
}
