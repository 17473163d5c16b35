import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { indexStore, loadStore, WalkoutError } from '../../libs/contracts/index.ts';
import { openDatabase, parseDatabaseConfig, type DatabaseConfig } from '../../libs/db/index.ts';
import { DEFAULT_POSTGRES_URL, dropSchema, freshSchema, postgresProblem } from '../../libs/db/db.harness.ts';
import { createRandom } from '../../libs/sim/random.ts';
import { CHAOS_VISIT_MS, chaosVisits, type ChaosPlan } from '../../libs/checkout/chaos.visits.ts';
import { percentiles, scoreChaos, type ChaosScore, type Percentiles, type Span } from '../../libs/checkout/chaos.eval.ts';
import { optionalInt, report, type Verb } from '../../libs/cli/verb.ts';

/**
 * `walkout checkout chaos`: checkout as a child process, killed with SIGKILL at random moments and
 * started again, with the local payment provider declining and timing out at random; then the
 * provider's ledger says whether any visit was charged twice or left uncharged, and any line refunded
 * twice.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const CHILD = 'services/cli/checkout-chaos.child.ts';
const STORE = 'fixtures/stores/kiosk.json';
/** The first visit leaves this long after the first life is up (it comes in CHAOS_VISIT_MS before); ms. */
const LEAD_MS = CHAOS_VISIT_MS + 200;
/** Faults of the local provider in every life. */
const FAULTS = { declineRate: 0.05, timeoutRate: 0.05, transientRate: 0.05 } as const;

const USAGE = `walkout checkout chaos [--visits 500] [--db embedded|postgres] [--kill-every 3000] [--max-kills N] [--spacing-ms 100] [--seed 1] [--timeout-s 900] [--json]

Runs N finished visits (their visit.started and visit.receipt-finalised, some with nothing taken,
some with a line refunded afterwards) through checkout as a child process, which it kills with
SIGKILL at a random moment of every --kill-every milliseconds (after the child is up) and starts
again, while the local payment provider declines, times out and fails at random
(${Object.entries(FAULTS).map(([name, rate]) => `${name} ${rate}`).join(', ')}). Every life feeds every visit due so far again, as a bus
redelivering after a crash would. Then it reads the provider's ledger.

  --visits N        visits to run (default 500); one leaves every --spacing-ms (default 100)
  --db KIND         embedded: PGlite in a folder of its own (default); postgres: the server at
                    WALKOUT_POSTGRES_URL (default ${DEFAULT_POSTGRES_URL}), in a schema of its own
  --kill-every MS   0 runs without kills (the latency baseline)
  --max-kills N     kill at most N times, then let the last life finish (default: no limit)
  --seed S          visits and faults (default 1)
  --timeout-s S     give up after this long (default 900)
  --json            print the result as JSON (keys: visits, charged, chargedTwice, exitedUncharged,
                    refundedTwice, refundsMissing, holdsLeftOpen, empty, emptyVoided, declines, kills,
                    exitToChargeMs {p50, p99, max, n}, exitToChargeWhileUpMs and
                    exitToChargeWhileDownMs (visits that left while a checkout process served, and
                    while none did), restartMs (a life from start to serving), seconds)`;

export interface ChaosResult extends ChaosScore {
  db: 'embedded' | 'postgres';
  kills: number;
  lives: number;
  seconds: number;
  /** From starting a life to its serving (load, open the database, migrate, subscribe), ms. */
  restartMs: Percentiles;
}

/** The worker name every life of the child runs under: a restarted life takes back its dead one's leases. */
const CHAOS_WORKER = 'chaos-checkout';

interface ChildProgress {
  ready?: boolean;
  done?: boolean;
  settled?: number;
  fed?: number;
}

/** One life of the child: resolves `ready` once it serves; `done` once it says the run is finished. */
function startChild(env: NodeJS.ProcessEnv, onProgress: (progress: ChildProgress) => void): { child: ChildProcess; ready: Promise<void>; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.on('error', () => undefined);
  let stderr = '';
  let buffered = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    child.once('exit', (code, signal) => reject(new Error(`the checkout child exited (${code ?? signal}) before it was ready:\n${stderr.slice(-2_000)}`)));
  });
  ready.catch(() => undefined);
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-20_000)));
  child.stdout!.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const progress = JSON.parse(line) as ChildProgress;
      if (progress.ready) markReady();
      onProgress(progress);
    }
  });
  return { child, ready, stderr: () => stderr };
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

export interface ChaosOptions {
  visits: number;
  db: 'embedded' | 'postgres';
  killEveryMs: number;
  /** Kills at most; the last life then runs to the end. */
  maxKills?: number;
  spacingMs: number;
  seed: number;
  timeoutMs: number;
  /** Called with a line of progress now and then (the verb writes it to standard error). */
  progress?: (line: string) => void;
}

/** Runs the chaos run; the database is its own and is removed at the end. */
export async function runCheckoutChaos(options: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  const { config, env: dbEnv, cleanup } = await chaosDatabase(options.db);
  let plan: ChaosPlan | undefined;
  const random = createRandom(options.seed).fork('kills');
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('WALKOUT_')));
  let kills = 0;
  let lives = 0;
  let done = false;
  let last: ChildProgress = {};
  const served: Span[] = [];
  const restarts: number[] = [];
  try {
    while (!done) {
      if (Date.now() - started > options.timeoutMs)
        throw new WalkoutError('TOOL_FAILED', `checkout chaos: not finished after ${options.timeoutMs / 1000} s (${last.settled ?? 0} of ${options.visits} visits settled)`);
      lives++;
      const life = startChild(
        { ...baseEnv, ...dbEnv, WALKOUT_CHECKOUT_WORKER: CHAOS_WORKER, WALKOUT_LOG_LEVEL: 'error', CHAOS_SEED: String(options.seed), CHAOS_LIFE: String(lives), CHAOS_FAULTS: JSON.stringify(FAULTS), CHAOS_STORE: STORE },
        (progress) => {
          last = progress;
          if (progress.done) done = true;
        },
      );
      const spawnedAt = Date.now();
      try {
        await life.ready;
        restarts.push(Date.now() - spawnedAt);
        const span = { fromMs: Date.now(), toMs: Infinity };
        served.push(span);
        plan ??= { visits: options.visits, seed: options.seed, firstExitMs: Date.now() + LEAD_MS, spacingMs: options.spacingMs };
        life.child.stdin!.write(`${JSON.stringify(plan)}\n`);
        const killAfter = options.killEveryMs > 0 && kills < (options.maxKills ?? Infinity) ? random.uniform(0.2, 1.8) * options.killEveryMs : Infinity;
        const bornAt = Date.now();
        await waitUntil(() => done || Date.now() - bornAt >= killAfter || life.child.exitCode !== null || Date.now() - started > options.timeoutMs);
        span.toMs = Date.now();
        if (life.child.exitCode !== null) throw new Error(`the checkout child died by itself (${life.child.exitCode}):\n${life.stderr().slice(-2_000)}`);
        if (done) await kill(life.child, 'SIGTERM');
        else {
          await kill(life.child, 'SIGKILL');
          kills++;
        }
        options.progress?.(`life ${lives}: ${last.settled ?? 0}/${options.visits} settled, ${last.fed ?? 0} fed${done ? ', done' : ', killed'}`);
      } finally {
        await kill(life.child, 'SIGKILL');
      }
    }
    const db = await openDatabase(config);
    try {
      const index = indexStore(await loadStore(path.join(ROOT, STORE)));
      const score = await scoreChaos(db, chaosVisits(index, plan!), served);
      const restartMs = percentiles([...restarts].sort((a, b) => a - b));
      return { db: options.db, ...score, kills, lives, restartMs, seconds: Math.round((Date.now() - started) / 100) / 10 };
    } finally {
      await db.close();
    }
  } finally {
    await cleanup();
  }
}

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

async function chaosDatabase(kind: 'embedded' | 'postgres'): Promise<{ config: DatabaseConfig; env: Record<string, string>; cleanup: () => Promise<void> }> {
  if (kind === 'embedded') {
    const dir = await mkdtemp(path.join(tmpdir(), 'walkout-chaos-'));
    const dataDir = path.join(dir, 'db');
    return { config: parseDatabaseConfig({ kind: 'embedded', dataDir }), env: { WALKOUT_DATABASE_URL: `embedded:${dataDir}` }, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }
  const url = process.env.WALKOUT_POSTGRES_URL?.trim() || DEFAULT_POSTGRES_URL;
  const problem = await postgresProblem(url);
  if (problem) throw new WalkoutError('DATABASE_UNAVAILABLE', `checkout chaos --db postgres: the server at ${url} does not answer (${problem}); set WALKOUT_POSTGRES_URL`);
  const schema = freshSchema('walkout_chaos');
  return {
    config: parseDatabaseConfig({ kind: 'postgres', url, schema }),
    env: { WALKOUT_DATABASE_URL: url, WALKOUT_DATABASE_SCHEMA: schema },
    cleanup: () => dropSchema(url, schema),
  };
}

const spread = (figures: Percentiles, what = 'charges') => `p50 ${figures.p50} ms, p99 ${figures.p99} ms, max ${figures.max} ms (${figures.n} ${what})`;

export function formatChaos(result: ChaosResult): string {
  const verdict = result.chargedTwice === 0 && result.exitedUncharged === 0 && result.refundedTwice === 0 ? 'held' : 'BROKEN';
  return [
    `checkout chaos on ${result.db}: ${result.visits} visits, ${result.kills} kills (${result.lives} lives), ${result.seconds} s — exactly-once ${verdict}`,
    `  charged ${result.charged}, charged twice ${result.chargedTwice}, exited uncharged ${result.exitedUncharged}`,
    `  refunded ${result.refunded}, refunded twice ${result.refundedTwice}, refunds missing ${result.refundsMissing}`,
    `  empty visits ${result.empty} (hold voided ${result.emptyVoided}), holds left open ${result.holdsLeftOpen}, declines ${result.declines}`,
    `  exit to charge: ${spread(result.exitToChargeMs)}`,
    `    leaving while checkout served: ${spread(result.exitToChargeWhileUpMs)}`,
    `    leaving while it was dead or starting: ${spread(result.exitToChargeWhileDownMs)}`,
    `  a life from start to serving: ${spread(result.restartMs, 'lives')}`,
  ].join('\n');
}

export const checkoutChaosVerb: Verb = {
  name: 'checkout chaos',
  summary: 'Run visits through checkout in a process killed at random, with a failing payment provider; count double and missing charges.',
  usage: USAGE,
  options: {
    visits: { type: 'string' },
    db: { type: 'string' },
    'kill-every': { type: 'string' },
    'max-kills': { type: 'string' },
    'spacing-ms': { type: 'string' },
    seed: { type: 'string' },
    'timeout-s': { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }) {
    const db = values.db ?? 'embedded';
    if (db !== 'embedded' && db !== 'postgres') throw new WalkoutError('USAGE', `walkout checkout chaos: --db is embedded or postgres, not ${JSON.stringify(db)}\n\n${USAGE}`);
    const json = values.json === true;
    const result = await runCheckoutChaos({
      visits: optionalInt(values, 'visits', checkoutChaosVerb, 500, { min: 1, max: 100_000, unit: 'visits' }),
      db,
      killEveryMs: optionalInt(values, 'kill-every', checkoutChaosVerb, 3_000, { min: 0, unit: 'milliseconds' }),
      maxKills: values['max-kills'] === undefined ? undefined : optionalInt(values, 'max-kills', checkoutChaosVerb, 0, { min: 0, unit: 'kills' }),
      spacingMs: optionalInt(values, 'spacing-ms', checkoutChaosVerb, 100, { min: 0, unit: 'milliseconds' }),
      seed: optionalInt(values, 'seed', checkoutChaosVerb, 1),
      timeoutMs: optionalInt(values, 'timeout-s', checkoutChaosVerb, 900, { min: 1, unit: 'seconds' }) * 1_000,
      progress: json ? undefined : (line) => process.stderr.write(`${line}\n`),
    });
    report(json, result, () => formatChaos(result));
    if (result.chargedTwice + result.exitedUncharged + result.refundedTwice > 0) process.exitCode = 1;
  },
};
