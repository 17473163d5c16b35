import { loadDatabaseConfig, openDatabase } from '../../libs/db/index.ts';
import type { ChaosPlan } from '../../libs/checkout/chaos.visits.ts';

// The database opens (PGlite: seconds of WebAssembly) while the rest of checkout loads: a restart
// costs the longer of the two, not their sum.
const opening = openDatabase(loadDatabaseConfig());
opening.catch(() => undefined);
const [{ indexStore, loadStore, topics }, { createMemoryBus, parseBusConfig }, { systemClock }, { createRandom }, { loadCheckoutWorker, parseCheckoutConfig }, { chaosVisits }, { createCheckoutService }] =
  await Promise.all([
    import('../../libs/contracts/index.ts'),
    import('../../libs/bus/index.ts'),
    import('../../libs/clock/clock.ts'),
    import('../../libs/sim/random.ts'),
    import('../../libs/checkout/checkout.config.ts'),
    import('../../libs/checkout/chaos.visits.ts'),
    import('../checkout/checkout.service.ts'),
  ]);

/**
 * The process `walkout checkout chaos` kills: checkout on the database WALKOUT_DATABASE_URL names,
 * fed the run's finished visits on its own in-process bus, with the local provider failing at
 * random. Each life publishes every visit due so far whose receipt is not in the database, and the
 * last REDELIVERED visits whose receipt is (what a bus redelivers after a crash: a message is
 * committed once its handler's transaction is), asks for the run's refunds again once their visits are charged, and
 * says on standard output how far the run has come (one JSON object a line). Once it is up it says
 * {"ready":true} and reads the run's plan ({"visits","seed","firstExitMs","spacingMs"}) as one line
 * on standard input: the first visit's exit is set after the first start, so start-up is not
 * counted as exit-to-charge.
 *
 *   CHAOS_SEED    the run's seed
 *   CHAOS_LIFE    which start this is (1, 2, ...): the provider's faults draw afresh each life
 *   CHAOS_FAULTS  {"declineRate","timeoutRate","transientRate"}
 *   CHAOS_STORE   the store file (its products and prices)
 *   WALKOUT_CHECKOUT_WORKER  the name every life runs under, so a life takes back its dead one's leases
 */

const life = Number(process.env.CHAOS_LIFE ?? 1);
const faults = JSON.parse(process.env.CHAOS_FAULTS ?? '{}');
/** How often the feeder publishes what became due and the run reports its progress, ms. */
const TICK_MS = 50;
/** Visits already recorded that each life is fed again: more than a bus has in flight at a crash. */
const REDELIVERED = 100;

const index = indexStore(await loadStore(process.env.CHAOS_STORE ?? 'fixtures/stores/kiosk.json'));
const db = await opening;
const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory', retry: { maxAttempts: 100, initialBackoffMs: 20, maxBackoffMs: 500 } }) });
await bus.start();
const service = createCheckoutService({
  index,
  bus,
  db,
  clock: systemClock,
  workerId: loadCheckoutWorker(),
  faults: { ...faults, seed: Number(process.env.CHAOS_SEED ?? 1) * 1_000 + life },
  random: (() => {
    const jitter = createRandom(Number(process.env.CHAOS_SEED ?? 1) + life).fork('jitter');
    return () => jitter.next();
  })(),
  // Short waits, so a run of minutes sees every kind of retry many times.
  config: parseCheckoutConfig({ declineRetryMs: [300, 1_000], retry: { initialMs: 50, maxMs: 1_000 }, leaseMs: 1_500, pollMs: 100, deferMs: 50 }),
});
await service.start();
process.stdout.write(`${JSON.stringify({ ready: true, life })}\n`);
const plan = await readPlan();
const visits = chaosVisits(index, plan);

async function readPlan(): Promise<ChaosPlan> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  return JSON.parse(text.split('\n')[0]) as ChaosPlan;
}

let fed = await firstToFeed();
let startedFed = fed;
const refundsAsked = new Set<string>();
let busy = false;

/** Where this life starts feeding: REDELIVERED visits before the first one whose receipt is not recorded yet. */
async function firstToFeed(): Promise<number> {
  const recorded = new Set((await db.query<{ visit_id: string }>('SELECT visit_id FROM receipts')).rows.map((row) => row.visit_id));
  const firstMissing = visits.findIndex((visit) => !recorded.has(visit.started.visitId));
  return Math.max(0, (firstMissing === -1 ? visits.length : firstMissing) - REDELIVERED);
}

async function tick(): Promise<void> {
  const now = systemClock.now();
  // Each visit's start when it starts (its hold is put on the card then), its receipt at its exit.
  while (startedFed < visits.length && visits[startedFed].started.ts <= now) await bus.publish('visit.started', visits[startedFed++].started);
  while (fed < visits.length && visits[fed].receipt.exitMs <= now && fed < startedFed) await bus.publish('visit.receipt-finalised', visits[fed++].receipt);
  const charged = new Set(
    (await db.query<{ visit_id: string }>("SELECT visit_id FROM charges WHERE status = 'captured' AND charge_id = visit_id")).rows.map((row) => row.visit_id),
  );
  for (const visit of visits)
    if (visit.refundFirstLine && charged.has(visit.started.visitId) && !refundsAsked.has(visit.started.visitId)) {
      await service.checkout!.refundLine(visit.receipt.receiptId, 1);
      refundsAsked.add(visit.started.visitId);
    }
  const settled = Number((await db.query<{ n: number }>("SELECT count(*)::bigint AS n FROM visits WHERE status IN ('charged', 'nothing-to-charge')")).rows[0].n);
  const waiting = Number((await db.query<{ n: number }>('SELECT count(*)::bigint AS n FROM outbox WHERE delivered_ms IS NULL')).rows[0].n);
  const refundsWanted = visits.filter((visit) => visit.refundFirstLine).length;
  const done = fed === visits.length && settled === visits.length && waiting === 0 && refundsAsked.size === refundsWanted;
  process.stdout.write(`${JSON.stringify({ life, fed, settled, waiting, refunds: refundsAsked.size, done })}\n`);
}

setInterval(() => {
  if (busy) return;
  busy = true;
  tick()
    .catch((error) => process.stderr.write(`chaos child: ${(error as Error).message}\n`))
    .finally(() => (busy = false));
}, TICK_MS);

process.on('SIGTERM', () => {
  void (async () => {
    await service.stop();
    await bus.close();
    await db.close();
    process.exit(0);
  })();
});
