import type { FastifyInstance } from 'fastify';
import type { StoreIndex, topics } from '../../libs/contracts/index.ts';
import type { Bus } from '../../libs/bus/index.ts';
import { systemClock, type Clock } from '../../libs/clock/clock.ts';
import { openDatabase, type Database, type DatabaseConfig } from '../../libs/db/index.ts';
import { createEntryIssuer, type EntryKeyRing } from '../../libs/entry/index.ts';
import { silentLogger, type Logger } from '../../libs/log/logger.ts';
import { buildApp } from './app.routes.ts';
import { createCartFeed } from './cart.feed.ts';

/**
 * The shopper app API as a service: the routes (app.routes.ts) on a port, the live carts off the bus,
 * on the database checkout writes (receipts, refunds, carts). What the app writes (a contest and its
 * review.item-opened) goes through checkout's outbox, so checkout's dispatcher publishes it.
 */

export const DEFAULT_APP_PORT = 8080;

export interface AppServiceDependencies {
  index: StoreIndex;
  bus: Pick<Bus<typeof topics>, 'subscribe'>;
  keys: EntryKeyRing;
  clock?: Clock;
  logger?: Logger;
  db?: Database;
  database?: DatabaseConfig;
  port?: number;
  host?: string;
}

export interface AppService {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): { port: number | null; liveCartWatchers: number };
  /** Where it listens, once started. */
  readonly url: string | undefined;
}

export function createAppService(deps: AppServiceDependencies): AppService {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const feed = createCartFeed({ bus: deps.bus });
  let db = deps.db;
  let app: FastifyInstance | undefined;
  let url: string | undefined;
  let port: number | null = null;
  return {
    get url() {
      return url;
    },
    async start() {
      db ??= await openDatabase(deps.database ?? { kind: 'embedded' });
      await feed.start();
      app = await buildApp({ db, issuer: createEntryIssuer({ keys: deps.keys, clock }), storeIds: [deps.index.store.id], feed, clock, logger });
      url = await app.listen({ port: deps.port ?? DEFAULT_APP_PORT, host: deps.host ?? '127.0.0.1' });
      port = Number(new URL(url).port);
      logger.info('shopper app API listening', { url, database: db.describe });
    },
    async stop() {
      await app?.close();
      await feed.stop();
      if (!deps.db) await db?.close();
    },
    stats: () => ({ port, liveCartWatchers: feed.watchers }),
  };
}
