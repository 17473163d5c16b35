import type { StoreIndex, topics } from '../../libs/contracts/index.ts';
import type { Bus, Subscription } from '../../libs/bus/index.ts';
import { systemClock, type Clock } from '../../libs/clock/clock.ts';
import { silentLogger, type Logger } from '../../libs/log/logger.ts';
import { openDatabase, type Database, type DatabaseConfig } from '../../libs/db/index.ts';
import { createLocalProvider, type PaymentFaults } from '../../libs/payments/local.provider.ts';
import type { PaymentProvider } from '../../libs/payments/payment.types.ts';
import { parseCheckoutConfig, type CheckoutConfig } from '../../libs/checkout/checkout.config.ts';
import { createCheckout, emptyCheckoutStats, type Checkout, type CheckoutStats } from '../../libs/checkout/checkout.engine.ts';
import { pricesOf } from '../../libs/cart/cart.model.ts';

/**
 * The checkout service: visits, final receipts, carts and review decisions in; money taken once and
 * `checkout.charged`, `checkout.payment-failed`, `checkout.refunded` out. The rules are
 * libs/checkout's; this wires them to the bus, the database and the payment provider.
 *
 * A message is committed only after what it brought is in the database (its handler returns after
 * the transaction), and what must happen next (a hold, a charge, a message) is an outbox row written
 * in that transaction: the dispatcher delivers it, whatever crashes in between. Everything it takes
 * is keyed by visit, and the database decides what was done, so several may run on the server.
 */

export const CHECKOUT_GROUP = 'checkout';
type CheckoutTopic = 'visit.started' | 'visit.receipt-finalised' | 'cart.updated' | 'review.item-resolved';
const CONSUMED: readonly CheckoutTopic[] = ['visit.started', 'visit.receipt-finalised', 'cart.updated', 'review.item-resolved'];

export interface CheckoutServiceDependencies {
  index: StoreIndex;
  bus: Pick<Bus<typeof topics>, 'publish' | 'subscribe'>;
  clock?: Clock;
  logger?: Logger;
  /** The database; when absent, one is opened from `database` (embedded in memory by default) and closed at stop. */
  db?: Database;
  database?: DatabaseConfig;
  /** The card processor; the local one on the same database by default. */
  provider?: PaymentProvider;
  /** Faults of the default local provider (the chaos run). */
  faults?: PaymentFaults;
  config?: CheckoutConfig;
  /** Jitter source; Math.random by default. */
  random?: () => number;
  /** This process's name for its outbox leases, kept across restarts (see createCheckout); random by default. */
  workerId?: string;
}

export interface CheckoutService {
  start(): Promise<void>;
  /** Delivers everything due now (the end of a replay): charges, voids, messages. */
  flush(): Promise<void>;
  stop(): Promise<void>;
  stats(): CheckoutStats & { messages: number };
  /** The engine, once started: refunds, unpaid visits. */
  readonly checkout: Checkout | undefined;
  readonly db: Database | undefined;
}

export function createCheckoutService(deps: CheckoutServiceDependencies): CheckoutService {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? silentLogger;
  const config = deps.config ?? parseCheckoutConfig();
  let db = deps.db;
  let checkout: Checkout | undefined;
  let subscription: Subscription | undefined;
  let messages = 0;

  return {
    get checkout() {
      return checkout;
    },
    get db() {
      return db;
    },
    async start() {
      db ??= await openDatabase(deps.database ?? { kind: 'embedded' });
      const provider = deps.provider ?? createLocalProvider({ db, clock, faults: deps.faults, holdExpiryMs: config.localProvider.holdExpiryMs });
      const engine = createCheckout({
        db,
        provider,
        clock,
        config,
        publish: (topic, message) => deps.bus.publish(topic as never, message as never),
        priceOf: pricesOf(deps.index),
        currency: deps.index.store.currency,
        logger,
        random: deps.random,
        workerId: deps.workerId,
      });
      checkout = engine;
      subscription = await deps.bus.subscribe({
        group: CHECKOUT_GROUP,
        topics: CONSUMED,
        // Visits are independent: several at once keeps a slow database call from holding the rest.
        concurrency: 4,
        handle: async (delivery) => {
          messages++;
          if (delivery.topic === 'visit.started') await engine.onVisitStarted(delivery.message);
          else if (delivery.topic === 'visit.receipt-finalised') await engine.onReceiptFinalised(delivery.message);
          else if (delivery.topic === 'cart.updated') await engine.onCartUpdated(delivery.message);
          else await engine.onReviewResolved(delivery.message);
        },
      });
      engine.start();
      logger.info('checkout started', { database: db.describe, provider: provider.name });
    },
    async flush() {
      await checkout?.drain();
    },
    async stop() {
      await subscription?.close();
      await checkout?.stop();
      if (!deps.db) await db?.close();
    },
    stats: () => ({ ...(checkout?.stats() ?? emptyCheckoutStats()), messages }),
  };
}
