import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError, ContestOpened, EntryCodeIssued, LiveCart, Receipt, ReceiptList, RefundList, SCHEMA_VERSION, topics, type CartUpdated, type ReceiptFinalised } from '../../libs/contracts/index.ts';
import { createMemoryBus, parseBusConfig, type MemoryBus } from '../../libs/bus/index.ts';
import { waitFor } from '../../libs/bus/bus.harness.ts';
import { ManualClock } from '../../libs/clock/clock.ts';
import { openDatabase } from '../../libs/db/db.factory.ts';
import { embeddedMemoryKind, postgresKind, postgresTarget } from '../../libs/db/db.harness.ts';
import type { Database } from '../../libs/db/db.types.ts';
import { blockAccount, issueAccountToken, unblockAccount } from '../../libs/accounts/accounts.repository.ts';
import { checkEntryCode, createEntryIssuer, createKeyRing, generateEntryKey, MAX_VALIDITY_MS, parseEntryKeys } from '../../libs/entry/index.ts';
import { parseCheckoutConfig } from '../../libs/checkout/checkout.config.ts';
import { createCheckout, type Checkout } from '../../libs/checkout/checkout.engine.ts';
import { createLocalProvider, readLedger } from '../../libs/payments/local.provider.ts';
import { buildApp, routesOf } from './app.routes.ts';
import { createCartFeed, type CartFeed } from './cart.feed.ts';

/**
 * The shopper app API through app.inject(), on the embedded database and on the PostgreSQL server
 * when it answers, with checkout (and the local card processor) on the same database making the
 * receipts, charges and refunds the app shows, on a ManualClock.
 */

const target = await postgresTarget();
if ('fail' in target) test('a PostgreSQL server answers for the app API tests', () => assert.fail(target.fail));
const T0 = 1_780_000_000_000;
const STORE = 'kiosk';
const PRICES: Record<string, number> = { 'p-cola': 250, 'p-crisps': 180 };
const LIMIT = { burst: 3, refillMs: 10_000 };

for (const kind of [embeddedMemoryKind(), postgresKind(target)])
  describe(`shopper app API on ${kind.name}`, { skip: kind.skip || kind.fail || false }, () => {
    let db: Database;
    let bus: MemoryBus<typeof topics>;
    let feed: CartFeed;
    let app: FastifyInstance;
    let clock: ManualClock;
    let checkout: Checkout;
    const tokens: Record<string, string> = {};
    const keys = createKeyRing(parseEntryKeys({ keys: [generateEntryKey('k1')] }));

    const as = (account: string) => ({ authorization: `Bearer ${tokens[account]}` });
    const settle = async () => {
      for (let round = 0; round < 100; round++) {
        await checkout.drain();
        const due = await checkout.nextDueMs();
        if (due === null) return;
        if (due > clock.now()) await clock.advance(due - clock.now());
      }
      assert.fail('checkout did not settle');
    };
    const receipt = (visitId: string, accountId: string, lines: Array<[string, number]>): ReceiptFinalised => {
      const priced = lines.map(([productId, quantity]) => ({ productId, quantity, unitPriceCents: PRICES[productId], totalCents: PRICES[productId] * quantity }));
      return {
        schemaVersion: SCHEMA_VERSION,
        eventId: `receipt/${visitId}`,
        storeId: STORE,
        ts: clock.now(),
        visitId,
        receiptId: `receipt-${visitId}`,
        accountId,
        exitMs: clock.now(),
        lines: priced,
        pending: [],
        totalCents: priced.reduce((sum, line) => sum + line.totalCents, 0),
      };
    };
    const visit = async (visitId: string, accountId: string, lines?: Array<[string, number]>) => {
      await checkout.onVisitStarted({ schemaVersion: SCHEMA_VERSION, eventId: `start/${visitId}`, storeId: STORE, ts: clock.now(), visitId, kind: 'shopper', accountId, partySize: 1 });
      if (lines) await checkout.onReceiptFinalised(receipt(visitId, accountId, lines));
      await settle();
    };
    const cart = (visitId: string, version: number, lines: Array<[string, number]>): CartUpdated => {
      const priced = lines.map(([productId, quantity]) => ({ productId, quantity, unitPriceCents: PRICES[productId], totalCents: PRICES[productId] * quantity }));
      return { schemaVersion: SCHEMA_VERSION, eventId: `cart/${visitId}/${version}`, storeId: STORE, ts: clock.now(), visitId, version, lines: priced, pendingReviewIds: [], totalCents: priced.reduce((sum, line) => sum + line.totalCents, 0) };
    };
    const errorOf = (response: { json(): unknown }) => ApiError.parse(response.json()).error;

    before(async () => {
      db = await openDatabase(await kind.config('app'));
      clock = new ManualClock(T0);
      bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory' }) });
      await bus.start();
      feed = createCartFeed({ bus });
      await feed.start();
      checkout = createCheckout({
        db,
        provider: createLocalProvider({ db, clock }),
        clock,
        config: parseCheckoutConfig({ holdCents: 5_000, retry: { initialMs: 100, maxMs: 2_000 } }),
        publish: (topic, message) => bus.publish(topic as never, message as never),
        priceOf: (productId) => PRICES[productId],
        currency: 'EUR',
        random: () => 0.5,
      });
      for (const account of ['acct-a', 'acct-b', 'acct-c', 'acct-d', 'acct-blocked', 'acct-owes']) tokens[account] = await issueAccountToken(db, account, T0);
      app = await buildApp({ db, issuer: createEntryIssuer({ keys, clock }), storeIds: [STORE], feed, clock, entryCodeLimit: LIMIT, keepAliveMs: 5_000 });
      await visit('v-a1', 'acct-a', [['p-cola', 2], ['p-crisps', 1]]);
      await visit('v-b1', 'acct-b', [['p-crisps', 3]]);
    });
    after(async () => {
      await app?.close();
      await feed?.stop();
      await bus?.close();
      await db?.close();
      await kind.cleanup();
    });

    test('without a bearer token, or with one that is no account\'s, every /v1 route answers 401 UNAUTHENTICATED', async () => {
      for (const headers of [{}, { authorization: 'Bearer wo_' + 'x'.repeat(43) }, { authorization: `Basic ${tokens['acct-a']}` }]) {
        const response = await app.inject({ method: 'GET', url: '/v1/receipts', headers });
        assert.equal(response.statusCode, 401);
        assert.equal(errorOf(response).code, 'UNAUTHENTICATED');
        assert.equal(response.headers['www-authenticate'], 'Bearer realm="walkout"');
      }
      const stored = await db.query<{ token_hash: string }>("SELECT token_hash FROM accounts WHERE account_id = 'acct-a'");
      assert.notEqual(stored.rows[0].token_hash, tokens['acct-a'], 'only a hash is stored');
      assert.match(stored.rows[0].token_hash, /^[0-9a-f]{64}$/);
    });

    test('POST /v1/entry-codes: a signed code for the store, 30 s at most, that the gate admits, with its QR as SVG and PNG', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/entry-codes', headers: as('acct-a'), payload: { storeId: STORE } });
      assert.equal(response.statusCode, 201, response.body);
      const issued = EntryCodeIssued.parse(response.json());
      assert.ok(issued.expiresAtMs - issued.issuedAtMs <= MAX_VALIDITY_MS);
      const verdict = checkEntryCode(issued.code, { keys, storeId: STORE, atMs: clock.now() });
      assert.deepEqual(verdict.admitted && [verdict.code.accountId, verdict.code.storeId], ['acct-a', STORE]);
      assert.match(issued.qr.svg, /^<svg/);
      assert.deepEqual([...Buffer.from(issued.qr.png.slice('data:image/png;base64,'.length), 'base64').subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
      const unknown = await app.inject({ method: 'POST', url: '/v1/entry-codes', headers: as('acct-b'), payload: { storeId: 'elsewhere' } });
      assert.deepEqual([unknown.statusCode, errorOf(unknown).code], [400, 'REQUEST_INVALID']);
      const malformed = await app.inject({ method: 'POST', url: '/v1/entry-codes', headers: as('acct-b'), payload: { store: STORE } });
      assert.deepEqual([malformed.statusCode, errorOf(malformed).code], [400, 'REQUEST_INVALID']);
      assert.match(errorOf(malformed).message, /storeId/);
    });

    test('a blocked account, and one with a visit whose payment failed, get no entry code', async () => {
      await blockAccount(db, 'acct-blocked', 'chargeback', clock.now());
      const blocked = await app.inject({ method: 'POST', url: '/v1/entry-codes', headers: as('acct-blocked'), payload: { storeId: STORE } });
      assert.deepEqual([blocked.statusCode, errorOf(blocked).code], [403, 'ACCOUNT_BLOCKED']);
      await unblockAccount(db, 'acct-blocked');
      await db.query("INSERT INTO visits (visit_id, store_id, account_id, kind, status, currency, updated_ms) VALUES ('v-owed', $1, 'acct-owes', 'shopper', 'payment-failed', 'EUR', $2)", [STORE, T0]);
      const owes = await app.inject({ method: 'POST', url: '/v1/entry-codes', headers: as('acct-owes'), payload: { storeId: STORE } });
      assert.deepEqual([owes.statusCode, errorOf(owes).code], [402, 'UNPAID_VISIT']);
      assert.match(errorOf(owes).message, /v-owed/);
    });

    test('entry codes are rate-limited per account: 429 RATE_LIMITED with Retry-After, free again once the store clock moved on', async () => {
      await clock.advance(60_000);
      const ask = (account: string) => app.inject({ method: 'POST', url: '/v1/entry-codes', headers: as(account), payload: { storeId: STORE } });
      for (let i = 0; i < LIMIT.burst; i++) assert.equal((await ask('acct-b')).statusCode, 201);
      const refused = await ask('acct-b');
      assert.deepEqual([refused.statusCode, errorOf(refused).code, errorOf(refused).retriable], [429, 'RATE_LIMITED', true]);
      assert.equal(refused.headers['retry-after'], '10');
      assert.equal((await ask('acct-a')).statusCode, 201, 'another account is not held back');
      await clock.advance(4_000);
      assert.equal((await ask('acct-b')).headers['retry-after'], '6');
      await clock.advance(6_000);
      assert.equal((await ask('acct-b')).statusCode, 201);
      assert.equal((await ask('acct-b')).statusCode, 429);
    });

    test('the entry-code limit is counted in the database: two app processes on one database share an account\'s allowance', async () => {
      // On the server the twin has a pool of its own, as another process would; PGlite is one process's.
      const other = kind.name === 'postgres' ? await openDatabase(await kind.config('app')) : db;
      const twin = await buildApp({ db: other, issuer: createEntryIssuer({ keys, clock }), storeIds: [STORE], feed, clock, entryCodeLimit: LIMIT });
      try {
        const ask = (to: FastifyInstance) => to.inject({ method: 'POST', url: '/v1/entry-codes', headers: as('acct-c'), payload: { storeId: STORE } });
        const answers = [await ask(app), await ask(twin), await ask(app), await ask(twin)];
        assert.deepEqual(answers.map((answer) => answer.statusCode), [201, 201, 201, 429]);
        assert.equal(answers[3].headers['retry-after'], '10');
        assert.equal((await ask(app)).statusCode, 429, 'the first process counts what the second allowed');
        await clock.advance(LIMIT.burst * LIMIT.refillMs);
        const racing = await Promise.all(Array.from({ length: 8 }, (_, i) => ask(i % 2 === 0 ? app : twin)));
        assert.equal(racing.filter((answer) => answer.statusCode === 201).length, LIMIT.burst, 'eight at once from both: the burst, no more');
      } finally {
        await twin.close();
        if (other !== db) await other.close();
      }
    });

    test('receipts: an account lists and reads only its own; another account\'s answers 404 exactly as one that does not exist', async () => {
      const list = ReceiptList.parse((await app.inject({ method: 'GET', url: '/v1/receipts', headers: as('acct-a') })).json());
      assert.deepEqual(list.receipts.map((entry) => entry.receiptId), ['receipt-v-a1']);
      const own = await app.inject({ method: 'GET', url: '/v1/receipts/receipt-v-a1', headers: as('acct-a') });
      const view = Receipt.parse(own.json());
      assert.deepEqual([view.totalCents, view.payment, view.lines.map((line) => [line.lineNo, line.productId, line.quantity])], [680, 'charged', [[1, 'p-cola', 2], [2, 'p-crisps', 1]]]);
      const theirs = await app.inject({ method: 'GET', url: '/v1/receipts/receipt-v-b1', headers: as('acct-a') });
      const nowhere = await app.inject({ method: 'GET', url: '/v1/receipts/receipt-nowhere', headers: as('acct-a') });
      assert.deepEqual([theirs.statusCode, errorOf(theirs).code], [404, 'RECEIPT_NOT_FOUND']);
      assert.deepEqual([nowhere.statusCode, errorOf(nowhere).code], [404, 'RECEIPT_NOT_FOUND']);
      for (const url of ['/v1/receipts/receipt-v-b1/refunds', '/v1/receipts/receipt-v-b1/lines/1/contest', '/v1/visits/v-b1/cart', '/v1/visits/v-b1/cart/events']) {
        const method = url.endsWith('contest') ? 'POST' : 'GET';
        const response = await app.inject({ method, url, headers: as('acct-a'), ...(method === 'POST' ? { payload: { note: 'not mine' } } : {}) });
        assert.equal(response.statusCode, 404, `${method} ${url}`);
      }
      const unknown = await app.inject({ method: 'GET', url: '/v1/nothing-here', headers: as('acct-a') });
      assert.deepEqual([unknown.statusCode, errorOf(unknown).code], [404, 'ROUTE_NOT_FOUND']);
    });

    test('GET /v1/receipts costs the same few queries for one receipt as for many', async () => {
      let queries = 0;
      const counting: Database = { ...db, query: (sql, params) => (queries++, db.query(sql, params)) };
      const counted = await buildApp({ db: counting, issuer: createEntryIssuer({ keys, clock }), storeIds: [STORE], feed, clock });
      try {
        const list = async () => {
          queries = 0;
          const response = await counted.inject({ method: 'GET', url: '/v1/receipts', headers: as('acct-d') });
          return { receipts: ReceiptList.parse(response.json()).receipts, queries };
        };
        await visit('v-d1', 'acct-d', [['p-cola', 1]]);
        const one = await list();
        for (const visitId of ['v-d2', 'v-d3', 'v-d4']) await visit(visitId, 'acct-d', [['p-crisps', 2], ['p-cola', 1]]);
        const four = await list();
        assert.deepEqual([one.receipts.length, four.receipts.length], [1, 4]);
        assert.equal(four.queries, one.queries, `${one.queries} queries for one receipt, ${four.queries} for four`);
        assert.ok(four.queries <= 6, `${four.queries} queries: the token, then five for every receipt together`);
        assert.deepEqual(four.receipts.find((receipt) => receipt.receiptId === 'receipt-v-d3')?.lines.map((line) => [line.productId, line.quantity]), [['p-crisps', 2], ['p-cola', 1]]);
      } finally {
        await counted.close();
      }
    });

    test('a contest joins the review queue once; approved twice, its line is refunded once, and the refund shows', async () => {
      const contest = () => app.inject({ method: 'POST', url: '/v1/receipts/receipt-v-a1/lines/2/contest', headers: as('acct-a'), payload: { note: 'I put the crisps back' } });
      const first = await contest();
      assert.equal(first.statusCode, 202, first.body);
      assert.deepEqual(ContestOpened.parse(first.json()), { reviewId: 'contest/receipt-v-a1/2', status: 'open' });
      assert.deepEqual((await contest()).json(), first.json());
      const opened: unknown[] = [];
      await bus.subscribe({ group: 'test-review-queue', topics: ['review.item-opened'], handle: (delivery) => void opened.push(delivery.message) });
      await settle();
      await waitFor(() => opened.length > 0, 'review.item-opened of the contest');
      assert.deepEqual(opened.map((message) => [(message as { kind: string }).kind, (message as { reviewId: string }).reviewId]), [['contest', 'contest/receipt-v-a1/2']]);
      assert.deepEqual((opened[0] as { contest?: unknown }).contest, { visitId: 'v-a1', receiptId: 'receipt-v-a1', lineNo: 2, accountId: 'acct-a' }, 'the review item names whose line it is');

      const approved = { schemaVersion: SCHEMA_VERSION, eventId: 'resolved/contest-a1-2', storeId: STORE, ts: clock.now(), reviewId: 'contest/receipt-v-a1/2', decision: { outcome: 'approved', note: 'crisps back on the shelf' }, reviewer: 'op-1' } as const;
      await checkout.onReviewResolved(approved);
      await checkout.onReviewResolved({ ...approved, eventId: 'resolved/contest-a1-2-again' });
      await settle();
      await checkout.onReviewResolved(approved);
      await settle();
      const refunds = RefundList.parse((await app.inject({ method: 'GET', url: '/v1/receipts/receipt-v-a1/refunds', headers: as('acct-a') })).json());
      assert.deepEqual(refunds.refunds, [{ refundId: 'refund/receipt-v-a1/2', lineNo: 2, amountCents: 180, status: 'refunded', reason: 'contest approved' }]);
      const ledger = (await readLedger(db)).filter((entry) => entry.operation === 'refund' && entry.reference === 'v-a1');
      assert.deepEqual(ledger.map((entry) => [entry.amountCents, entry.idempotencyKey]), [[180, 'refund/receipt-v-a1/2']]);
      const view = Receipt.parse((await app.inject({ method: 'GET', url: '/v1/receipts/receipt-v-a1', headers: as('acct-a') })).json());
      assert.deepEqual([view.refundedCents, view.lines[1].contest, view.lines[1].refundedCents], [180, { reviewId: 'contest/receipt-v-a1/2', status: 'approved' }, 180]);

      const noLine = await app.inject({ method: 'POST', url: '/v1/receipts/receipt-v-a1/lines/9/contest', headers: as('acct-a'), payload: { note: 'which line?' } });
      assert.deepEqual([noLine.statusCode, errorOf(noLine).code], [404, 'RECEIPT_NOT_FOUND']);
      for (const [url, payload] of [['/v1/receipts/receipt-v-a1/lines/0/contest', { note: 'zero' }], ['/v1/receipts/receipt-v-a1/lines/1/contest', { note: '  ' }]] as const) {
        const bad = await app.inject({ method: 'POST', url, headers: as('acct-a'), payload });
        assert.deepEqual([bad.statusCode, errorOf(bad).code], [400, 'REQUEST_INVALID'], url);
      }
    });

    test('the live cart: server-sent events give the cart as it stands, then each newer cart.updated of this visit only', async () => {
      await visit('v-a2', 'acct-a');
      await checkout.onCartUpdated(cart('v-a2', 1, [['p-cola', 1]]));
      const current = await app.inject({ method: 'GET', url: '/v1/visits/v-a2/cart', headers: as('acct-a') });
      assert.deepEqual(LiveCart.parse(current.json()).version, 1);
      const abort = new AbortController();
      const response = await app.inject({ method: 'GET', url: '/v1/visits/v-a2/cart/events', headers: as('acct-a'), payloadAsStream: true, signal: abort.signal });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/event-stream/);
      let text = '';
      const stream = response.stream();
      stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      stream.on('error', () => undefined);
      const events = () =>
        text
          .split('\n\n')
          .filter((block) => block.startsWith('event: cart.updated'))
          .map((block) => LiveCart.parse(JSON.parse(block.split('\n').find((line) => line.startsWith('data: '))!.slice(6))));
      await waitFor(() => events().length === 1, () => `the current cart in:\n${text}`);
      await bus.publish('cart.updated', cart('v-b1', 7, [['p-crisps', 1]]));
      await bus.publish('cart.updated', cart('v-a2', 1, [['p-cola', 1]]));
      await bus.publish('cart.updated', cart('v-a2', 2, [['p-cola', 1], ['p-crisps', 2]]));
      await waitFor(() => events().length === 2, () => `cart version 2 in:\n${text}`);
      assert.deepEqual(events().map((entry) => [entry.visitId, entry.version, entry.totalCents]), [['v-a2', 1, 250], ['v-a2', 2, 610]]);
      assert.ok(text.includes('id: 2\n'), 'each event carries its version as id');
      await clock.advance(5_000);
      await waitFor(() => text.includes(': keep-alive'), 'a keep-alive comment on the store clock');
      assert.equal(feed.watchers, 1);
      abort.abort();
    });

    test('the OpenAPI document at /docs/json lists every route the app serves, with request and answer schemas from the contracts', async () => {
      const response = await app.inject({ method: 'GET', url: '/docs/json' });
      assert.equal(response.statusCode, 200);
      const document = response.json() as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }>; requestBody?: unknown; parameters: Array<{ name: string }> }>> };
      assert.equal(document.openapi, '3.1.0');
      const documented = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
      const served = routesOf(app)
        .filter((route) => route.url !== '/docs/json')
        .map((route) => `${route.method} ${route.url.replace(/:([A-Za-z]+)/g, '{$1}')}`);
      assert.deepEqual(documented.sort(), served.sort());
      assert.equal(served.length, 7);
      const contest = document.paths['/v1/receipts/{receiptId}/lines/{lineNo}/contest'].post;
      assert.deepEqual(contest.parameters.map((parameter) => parameter.name), ['receiptId', 'lineNo']);
      assert.ok(contest.requestBody, 'the contest has its request body');
      assert.deepEqual(contest.responses['202'].content?.['application/json'].schema, z.toJSONSchema(ContestOpened, { io: 'output', target: 'draft-2020-12' }));
      for (const [operation, spec] of Object.entries(document.paths).flatMap(([path, operations]) => Object.entries(operations).map(([method, op]) => [`${method} ${path}`, op] as const))) {
        assert.ok(spec.responses['401'], `${operation} says it needs a token`);
        assert.ok(Object.values(spec.responses).every((entry) => entry.content === undefined || Object.values(entry.content).every((media) => typeof media.schema === 'object')), operation);
      }
    });
  });
