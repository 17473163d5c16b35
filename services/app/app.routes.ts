import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  ApiError,
  ContestOpened,
  ContestRequest,
  EntryCodeIssued,
  EntryCodeRequest,
  errorCatalogue,
  LineParams,
  LiveCart,
  Receipt,
  ReceiptList,
  ReceiptParams,
  RefundList,
  VisitParams,
  WalkoutError,
  type ErrorCode,
} from '../../libs/contracts/index.ts';
import type { Clock } from '../../libs/clock/clock.ts';
import type { Database } from '../../libs/db/db.types.ts';
import { silentLogger, type Logger } from '../../libs/log/logger.ts';
import { accountOfToken } from '../../libs/accounts/accounts.repository.ts';
import { SqlAccountStatus } from '../../libs/entry/account.status.ts';
import type { EntryIssuer } from '../../libs/entry/entry.verifier.ts';
import { entryCodePng, entryCodeSvg } from '../../libs/entry/entry.qr.ts';
import { loadReceipt, loadReceipts, openContest, type ReceiptView } from '../../libs/checkout/checkout.repository.ts';
import { latestCart, type CartFeed } from './cart.feed.ts';
import { createRateLimit, ENTRY_CODE_LIMIT, type RateLimitOptions } from './rate.limit.ts';

/**
 * The shopper app API, built apart from listen() so that tests drive it with app.inject(). One
 * table of routes (ROUTES) is both what fastify serves and what the OpenAPI document at /docs/json
 * lists, with the zod contracts of libs/contracts/app.schema.ts as every request and answer schema.
 *
 * Every /v1 route needs a bearer token of an account, and an account sees only its own visits and
 * receipts: another account's answer 404, exactly as one that does not exist, so ids cannot be
 * probed. Errors are the catalogue's: `{ error: { code, message, retriable } }` with its status.
 */

export interface AppDependencies {
  db: Database;
  issuer: EntryIssuer;
  /** Stores this API issues entry codes for. */
  storeIds: readonly string[];
  feed: CartFeed;
  clock: Clock;
  logger?: Logger;
  entryCodeLimit?: RateLimitOptions;
  /** A comment on every open event stream this often, so that proxies keep it open, ms. */
  keepAliveMs?: number;
}

export const KEEP_ALIVE_MS = 15_000;
/** Receipts listed at once, newest first. */
const RECEIPTS_LISTED = 50;

interface Context {
  readonly accountId: string;
  readonly params: Record<string, string>;
  readonly body: unknown;
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
}

interface RouteSpec {
  readonly method: 'GET' | 'POST';
  /** fastify's form, `:name` for a parameter. */
  readonly url: string;
  readonly summary: string;
  readonly params?: z.ZodObject;
  readonly body?: z.ZodType;
  readonly ok: { readonly status: number; readonly description: string; readonly schema?: z.ZodType; readonly contentType?: string };
  readonly errors: readonly ErrorCode[];
  /** The answer (validated against ok.schema), or undefined when the handler answered itself (a stream). */
  readonly handle: (context: Context) => Promise<unknown>;
}

const apiError = (code: ErrorCode, message: string): ApiError => ({ error: { code, message, retriable: errorCatalogue[code].retriable } });
const AUTH_ERRORS: readonly ErrorCode[] = ['UNAUTHENTICATED', 'REQUEST_INVALID'];

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { db, clock } = deps;
  const logger = deps.logger ?? silentLogger;
  const standing = new SqlAccountStatus(db);
  const entryCodeLimit = createRateLimit(db, 'entry-codes', deps.entryCodeLimit ?? ENTRY_CODE_LIMIT, clock);
  const streams = new Set<() => void>();

  /** The receipt if it is this account's; anything else is "not found", whoever's it is. */
  const ownReceipt = async (accountId: string, receiptId: string): Promise<ReceiptView> => {
    const receipt = await loadReceipt(db, receiptId);
    if (!receipt || receipt.accountId !== accountId) throw new WalkoutError('RECEIPT_NOT_FOUND', `no receipt ${receiptId}`);
    return receipt;
  };

  const routes: RouteSpec[] = [
    {
      method: 'POST',
      url: '/v1/entry-codes',
      summary: 'An entry code for one store: signed, usable once, valid 30 s at most; as text and as a QR symbol (SVG and PNG). Rate-limited per account.',
      body: EntryCodeRequest,
      ok: { status: 201, description: 'The code.', schema: EntryCodeIssued },
      errors: ['ACCOUNT_BLOCKED', 'UNPAID_VISIT', 'RATE_LIMITED'],
      async handle({ accountId, body, reply }) {
        const { storeId } = body as z.output<typeof EntryCodeRequest>;
        const limit = await entryCodeLimit.take(accountId);
        if (!limit.allowed) {
          reply.header('retry-after', String(Math.ceil(limit.retryAfterMs / 1_000)));
          throw new WalkoutError('RATE_LIMITED', `account ${accountId} asked for too many entry codes; ask again in ${Math.ceil(limit.retryAfterMs / 1_000)} s`);
        }
        if (!deps.storeIds.includes(storeId)) throw new WalkoutError('REQUEST_INVALID', `storeId: no store ${storeId} here (stores: ${deps.storeIds.join(', ')})`);
        const account = await standing.standing(accountId);
        if (account.blocked) throw new WalkoutError('ACCOUNT_BLOCKED', `account ${accountId} is blocked`);
        if (account.unpaidVisitId) throw new WalkoutError('UNPAID_VISIT', `account ${accountId} has visit ${account.unpaidVisitId} to pay first`);
        const issued = deps.issuer.issue({ accountId, storeId });
        const [svg, png] = await Promise.all([entryCodeSvg(issued.code), entryCodePng(issued.code)]);
        return { code: issued.code, storeId, issuedAtMs: issued.issuedAtMs, expiresAtMs: issued.expiresAtMs, qr: { svg, png: `data:image/png;base64,${png.toString('base64')}` } };
      },
    },
    {
      method: 'GET',
      url: '/v1/visits/:visitId/cart',
      summary: 'The cart of one of the account\'s visits as it stands.',
      params: VisitParams,
      ok: { status: 200, description: 'The cart.', schema: LiveCart },
      errors: ['VISIT_NOT_FOUND'],
      async handle({ accountId, params }) {
        await ownVisit(accountId, params.visitId);
        const cart = await latestCart(db, params.visitId);
        if (!cart) throw new WalkoutError('VISIT_NOT_FOUND', `visit ${params.visitId} has no cart yet`);
        return cart;
      },
    },
    {
      method: 'GET',
      url: '/v1/visits/:visitId/cart/events',
      summary: 'The live cart as server-sent events: the cart as it stands, then each newer version (event cart.updated, id the version, data a LiveCart).',
      params: VisitParams,
      ok: { status: 200, description: 'An event stream that stays open.', contentType: 'text/event-stream', schema: LiveCart },
      errors: ['VISIT_NOT_FOUND'],
      async handle({ accountId, params, request, reply }) {
        await ownVisit(accountId, params.visitId);
        await streamCart(params.visitId, request, reply);
        return undefined;
      },
    },
    {
      method: 'GET',
      url: '/v1/receipts',
      summary: 'The account\'s receipts, newest first, with each line\'s refunds and contest.',
      ok: { status: 200, description: 'The receipts.', schema: ReceiptList },
      errors: [],
      async handle({ accountId }) {
        const receipts = await loadReceipts(db, { accountId, limit: RECEIPTS_LISTED });
        return { receipts: receipts.map(receiptAnswer) };
      },
    },
    {
      method: 'GET',
      url: '/v1/receipts/:receiptId',
      summary: 'One receipt of the account.',
      params: ReceiptParams,
      ok: { status: 200, description: 'The receipt.', schema: Receipt },
      errors: ['RECEIPT_NOT_FOUND'],
      handle: async ({ accountId, params }) => receiptAnswer(await ownReceipt(accountId, params.receiptId)),
    },
    {
      method: 'GET',
      url: '/v1/receipts/:receiptId/refunds',
      summary: 'The refunds of a receipt and where each stands.',
      params: ReceiptParams,
      ok: { status: 200, description: 'The refunds.', schema: RefundList },
      errors: ['RECEIPT_NOT_FOUND'],
      handle: async ({ accountId, params }) => ({ refunds: receiptAnswer(await ownReceipt(accountId, params.receiptId)).refunds }),
    },
    {
      method: 'POST',
      url: '/v1/receipts/:receiptId/lines/:lineNo/contest',
      summary: 'Contests a receipt line: it joins the review queue (review.item-opened, kind contest); approved, the line is refunded once. Asked again, the same contest.',
      params: LineParams,
      body: ContestRequest,
      ok: { status: 202, description: 'The contest, in the review queue or decided.', schema: ContestOpened },
      errors: ['RECEIPT_NOT_FOUND'],
      async handle({ accountId, params, body }) {
        await ownReceipt(accountId, params.receiptId);
        const lineNo = Number(params.lineNo);
        const { note } = body as z.output<typeof ContestRequest>;
        const contest = await openContest(db, { receiptId: params.receiptId, lineNo, note, now: clock.now() });
        if (!contest) throw new WalkoutError('RECEIPT_NOT_FOUND', `receipt ${params.receiptId} has no line ${lineNo}`);
        if (contest.fresh) logger.info('receipt line contested', { accountId, receiptId: params.receiptId, lineNo });
        return { reviewId: contest.reviewId, status: contest.status };
      },
    },
  ];

  const ownVisit = async (accountId: string, visitId: string) => {
    const { rows } = await db.query<{ account_id: string | null }>('SELECT account_id FROM visits WHERE visit_id = $1', [visitId]);
    if (rows[0]?.account_id !== accountId) throw new WalkoutError('VISIT_NOT_FOUND', `no visit ${visitId}`);
  };

  /** Headers now, the cart as it stands, then every newer version the feed brings, until either side closes. */
  const streamCart = async (visitId: string, request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let sentVersion = 0;
    const send = (cart: z.output<typeof LiveCart>) => {
      if (cart.version <= sentVersion) return;
      sentVersion = cart.version;
      raw.write(`event: cart.updated\nid: ${cart.version}\ndata: ${JSON.stringify(cart)}\n\n`);
    };
    // Watching starts before the database is read: a version that comes meanwhile is not missed.
    const unwatch = deps.feed.watch(visitId, send);
    const stopKeepAlive = clock.every(deps.keepAliveMs ?? KEEP_ALIVE_MS, () => raw.write(': keep-alive\n\n'));
    const close = () => {
      unwatch();
      stopKeepAlive();
      streams.delete(close);
      if (!raw.writableEnded) raw.end();
    };
    streams.add(close);
    request.raw.once('close', close);
    raw.once('close', close);
    raw.write(': cart of visit ' + visitId + '\n\n');
    const current = await latestCart(db, visitId);
    if (current) send(current);
  };

  const app = Fastify({ logger: false });
  const served: Array<{ method: string; url: string }> = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') served.push({ method, url: route.url });
  });
  servedRoutes.set(app, served);
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof WalkoutError && error.code in errorCatalogue && error.status < 600) {
      if (error.status >= 500) logger.error('app request failed', { code: error.code, error: error.message });
      return reply.status(error.status).send(apiError(error.code, error.message));
    }
    if (error instanceof z.ZodError) return reply.status(400).send(apiError('REQUEST_INVALID', describeIssues(error)));
    const status = (error as { statusCode?: number }).statusCode;
    // fastify's own refusals (a body that is not JSON, too large, the wrong media type) are bad requests.
    if (status !== undefined && status >= 400 && status < 500) return reply.status(400).send(apiError('REQUEST_INVALID', (error as Error).message));
    logger.error('app request failed', { error: (error as Error).message });
    return reply.status(500).send(apiError('HANDLER_FAILED', 'the request failed inside the app; it may be asked again'));
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send(apiError('ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));
  // Open event streams end when the app closes, or it would wait for them for ever.
  app.addHook('preClose', async () => {
    for (const close of [...streams]) close();
  });

  for (const spec of routes)
    app.route({
      method: spec.method,
      url: spec.url,
      handler: async (request, reply) => {
        const accountId = await authenticate(request, reply);
        const params = spec.params ? spec.params.parse(request.params) : {};
        const body = spec.body ? spec.body.parse(request.body ?? {}) : undefined;
        const answer = await spec.handle({ accountId, params: params as Record<string, string>, body, request, reply });
        if (answer === undefined) return reply;
        return reply.status(spec.ok.status).send(answer);
      },
    });

  const document = openApiDocument(routes);
  app.get('/docs/json', async () => document);

  async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<string> {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const account = match ? await accountOfToken(db, match[1]) : undefined;
    if (!account) {
      reply.header('www-authenticate', 'Bearer realm="walkout"');
      throw new WalkoutError('UNAUTHENTICATED', match ? 'the bearer token is not an account\'s' : 'an Authorization: Bearer <token> header is needed');
    }
    return account.accountId;
  }

  return app;
}

const servedRoutes = new WeakMap<FastifyInstance, ReadonlyArray<{ method: string; url: string }>>();

/** Every method and path the app serves (HEAD aside), as fastify registered them. */
export function routesOf(app: FastifyInstance): ReadonlyArray<{ method: string; url: string }> {
  return servedRoutes.get(app) ?? [];
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : 'request'}: ${issue.message}`).join('; ');
}

/** What the app shows of a receipt: its lines with refunds and contest, every refund, and how the payment stands. */
export function receiptAnswer(view: ReceiptView): z.output<typeof Receipt> {
  const refunds = view.lines.flatMap((line) => line.refunds.map((refund) => ({ ...refund, lineNo: line.lineNo })));
  return {
    receiptId: view.receiptId,
    visitId: view.visitId,
    storeId: view.storeId,
    exitMs: view.exitMs,
    currency: view.currency,
    totalCents: view.totalCents,
    refundedCents: refunds.reduce((sum, refund) => sum + refund.amountCents, 0),
    payment: paymentOf(view.charges.map((charge) => charge.status)),
    lines: view.lines.map((line) => ({
      lineNo: line.lineNo,
      productId: line.productId,
      quantity: line.quantity,
      unitPriceCents: line.unitPriceCents,
      totalCents: line.totalCents,
      source: line.source,
      refundedCents: line.refund?.amountCents ?? 0,
      contest: line.contest && { reviewId: line.contest.reviewId, status: line.contest.status },
    })),
    refunds: refunds.map((refund) => ({ refundId: refund.refundId, lineNo: refund.lineNo, amountCents: refund.amountCents, status: refund.status, reason: refund.reason })),
  };
}

function paymentOf(statuses: readonly string[]): z.output<typeof Receipt>['payment'] {
  if (statuses.includes('declined')) return 'payment-failed';
  if (statuses.includes('pending')) return 'pending';
  if (statuses.includes('captured')) return 'charged';
  return 'nothing-to-charge';
}

/** OpenAPI 3.1 (whose schemas are JSON Schema 2020-12, what z.toJSONSchema writes) from the route table. */
function openApiDocument(routes: readonly RouteSpec[]): object {
  const schema = (type: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(type, { io, target: 'draft-2020-12' });
  const errorResponse = (codes: readonly ErrorCode[]) => {
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of codes) byStatus.set(errorCatalogue[code].status, [...(byStatus.get(errorCatalogue[code].status) ?? []), code]);
    return Object.fromEntries(
      [...byStatus].map(([status, list]) => [String(status), { description: list.map((code) => `${code}: ${errorCatalogue[code].summary}`).join(' '), content: { 'application/json': { schema: schema(ApiError, 'output') } } }]),
    );
  };
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const paramSchema = route.params ? (schema(route.params, 'input') as { properties: Record<string, object> }) : undefined;
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      summary: route.summary,
      security: [{ bearer: [] }],
      parameters: Object.entries(paramSchema?.properties ?? {}).map(([name, property]) => ({ name, in: 'path', required: true, schema: property })),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(route.body, 'input') } } } } : {}),
      responses: {
        [String(route.ok.status)]: {
          description: route.ok.description,
          ...(route.ok.schema ? { content: { [route.ok.contentType ?? 'application/json']: { schema: schema(route.ok.schema, 'output') } } } : {}),
        },
        ...errorResponse([...AUTH_ERRORS, ...route.errors]),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'walkout shopper app API', version: '1', description: 'Entry codes, the live cart, receipts, contests and refunds of one account.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'The account\'s token (wo_...).' } } },
    paths,
  };
}
