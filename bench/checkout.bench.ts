/**
 * Checkout: charges per second through the outbox on the PostgreSQL server, next to a baseline
 * measured in the same run: the same receipts written and the same authorise + capture calls made
 * straight away, with no outbox row, no lease and no published message (what a checkout that
 * charged inline, and could lose a charge in a crash, would do).
 *
 *   node --import tsx bench/checkout.bench.ts [--visits 400] [--rounds 3] [--json]
 *
 * Needs the server at WALKOUT_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test); each
 * round works in a schema of its own, dropped after. Rounds alternate outbox and baseline so load
 * from other work on the machine falls on both; medians are reported.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { SCHEMA_VERSION } from '../libs/contracts/index.ts';
import { systemClock } from '../libs/clock/clock.ts';
import { openDatabase, type Database } from '../libs/db/index.ts';
import { DEFAULT_POSTGRES_URL, dropSchema, freshSchema, postgresProblem } from '../libs/db/db.harness.ts';
import { createLocalProvider } from '../libs/payments/local.provider.ts';
import { parseCheckoutConfig } from '../libs/checkout/checkout.config.ts';
import { createCheckout } from '../libs/checkout/checkout.engine.ts';
import { recordReceipt } from '../libs/checkout/checkout.repository.ts';
import type { ReceiptFinalised } from '../libs/contracts/visits.schema.ts';

/** Requests at once on both sides: the dispatcher's default concurrency. */
const CONCURRENCY = parseCheckoutConfig().concurrency;

const { values } = parseArgs({ options: { visits: { type: 'string' }, rounds: { type: 'string' }, json: { type: 'boolean' } } });
const visits = Number(values.visits ?? 400);
const rounds = Number(values.rounds ?? 3);
const url = process.env.WALKOUT_POSTGRES_URL?.trim() || DEFAULT_POSTGRES_URL;

function receipts(round: number, kind: string): ReceiptFinalised[] {
  return Array.from({ length: visits }, (_, i) => {
    const visitId = `b-${kind}-${round}-${i}`;
    const lines = [{ productId: 'p-0001', quantity: 1 + (i % 3), unitPriceCents: 139, totalCents: 139 * (1 + (i % 3)) }];
    return {
      schemaVersion: SCHEMA_VERSION,
      eventId: `receipt/${visitId}`,
      storeId: 'kiosk',
      ts: Date.now(),
      visitId,
      receiptId: `receipt-${visitId}`,
      accountId: `acct-${i % 40}`,
      exitMs: Date.now(),
      lines,
      pending: [],
      totalCents: lines[0].totalCents,
    };
  });
}

async function inParallel<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let item = queue.shift(); item; item = queue.shift()) await work(item);
  }));
}

/** Receipts in, through the outbox and the dispatcher, until every charge is captured and announced. */
async function throughOutbox(db: Database, round: number): Promise<number> {
  const provider = createLocalProvider({ db, clock: systemClock });
  const published: string[] = [];
  const checkout = createCheckout({
    db,
    provider,
    clock: systemClock,
    config: parseCheckoutConfig({ batch: 64 }),
    publish: async (_topic, message) => void published.push(message.eventId),
    priceOf: () => 139,
    currency: 'EUR',
  });
  const batch = receipts(round, 'outbox');
  const start = performance.now();
  await inParallel(batch, (receipt) => checkout.onReceiptFinalised(receipt));
  while ((await checkout.drain()) > 0 || (await checkout.nextDueMs()) !== null) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = (performance.now() - start) / 1000;
  if (published.length !== visits) throw new Error(`outbox: ${published.length} charged messages for ${visits} visits`);
  return visits / seconds;
}

/** The same receipts written and charged inline: authorise and capture right after the insert. */
async function inline(db: Database, round: number): Promise<number> {
  const provider = createLocalProvider({ db, clock: systemClock });
  const batch = receipts(round, 'inline');
  const start = performance.now();
  await inParallel(batch, async (receipt) => {
    await db.transaction(async (tx) => {
      await recordReceipt(tx, receipt, 'EUR', Date.now());
      await tx.query('DELETE FROM outbox WHERE outbox_id = $1', [`charge/${receipt.visitId}`]);
    });
    const auth = await provider.authorise({ idempotencyKey: `${receipt.visitId}/auth-1`, accountId: receipt.accountId!, amountCents: receipt.totalCents, currency: 'EUR', reference: receipt.visitId });
    if (auth.outcome !== 'authorised') throw new Error('declined');
    await provider.capture({ idempotencyKey: receipt.visitId, authorisationId: auth.authorisationId, amountCents: receipt.totalCents, reference: receipt.visitId });
    await db.query("UPDATE charges SET status = 'captured', authorisation_id = $2, settled_ms = $3 WHERE charge_id = $1", [receipt.visitId, auth.authorisationId, Date.now()]);
  });
  return visits / ((performance.now() - start) / 1000);
}

async function measure(kind: 'outbox' | 'inline', round: number): Promise<number> {
  const schema = freshSchema('walkout_bench');
  const db = await openDatabase({ kind: 'postgres', url, schema, poolSize: CONCURRENCY + 2 });
  try {
    return kind === 'outbox' ? await throughOutbox(db, round) : await inline(db, round);
  } finally {
    await db.close();
    await dropSchema(url, schema);
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const problem = await postgresProblem(url);
if (problem) {
  process.stdout.write(`checkout bench: skipped, the PostgreSQL server at ${url} does not answer (${problem})\n`);
} else {
  const outbox: number[] = [];
  const direct: number[] = [];
  for (let round = 0; round < rounds; round++) {
    outbox.push(await measure('outbox', round));
    direct.push(await measure('inline', round));
  }
  const result = {
    visits,
    rounds,
    concurrency: CONCURRENCY,
    outboxChargesPerS: Math.round(median(outbox)),
    inlineChargesPerS: Math.round(median(direct)),
    ratio: Math.round((median(outbox) / median(direct)) * 100) / 100,
    load: loadavg()[0],
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else
    process.stdout.write(
      `checkout on PostgreSQL, ${visits} visits a round, median of ${rounds}, ${CONCURRENCY} at once (load ${result.load.toFixed(1)}):\n` +
        `  through the outbox  ${result.outboxChargesPerS} charges/s\n` +
        `  inline (baseline)   ${result.inlineChargesPerS} charges/s\n` +
        `  ratio               ${result.ratio}x the inline rate, for a charge that survives any crash\n`,
    );
}
