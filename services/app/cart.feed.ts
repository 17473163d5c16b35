import { randomUUID } from 'node:crypto';
import type { CartUpdated, LiveCart, topics } from '../../libs/contracts/index.ts';
import type { Bus, Subscription } from '../../libs/bus/index.ts';
import type { Queryable } from '../../libs/db/db.types.ts';

/**
 * Live carts for the app's server-sent events: every `cart.updated` off the bus, handed to whoever
 * watches that visit. Each app process reads the topic in a consumer group of its own, so every
 * process sees every cart (a shopper's stream may be on any of them). Nothing is kept: the cart as
 * it stands comes from the database (`cart_events`, which checkout writes), and the stream then
 * sends only newer versions, so a cart that comes both ways is sent once.
 */

export const CART_FEED_GROUP_PREFIX = 'app-live-carts';

export type CartListener = (cart: LiveCart) => void;

export interface CartFeed {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Calls `listener` with each newer cart of the visit until the returned function is called. */
  watch(visitId: string, listener: CartListener): () => void;
  readonly watchers: number;
}

export const liveCartOf = (message: CartUpdated): LiveCart => ({
  visitId: message.visitId,
  version: message.version,
  lines: message.lines,
  pendingReviewIds: message.pendingReviewIds,
  totalCents: message.totalCents,
  ts: message.ts,
});

export function createCartFeed(deps: { bus: Pick<Bus<typeof topics>, 'subscribe'>; group?: string }): CartFeed {
  const listeners = new Map<string, Set<CartListener>>();
  let subscription: Subscription | undefined;
  let watchers = 0;
  return {
    async start() {
      subscription = await deps.bus.subscribe({
        group: deps.group ?? `${CART_FEED_GROUP_PREFIX}-${randomUUID().slice(0, 8)}`,
        topics: ['cart.updated'],
        handle: (delivery) => {
          const cart = liveCartOf(delivery.message);
          for (const listener of listeners.get(cart.visitId) ?? []) listener(cart);
        },
      });
    },
    async stop() {
      await subscription?.close();
      subscription = undefined;
    },
    watch(visitId, listener) {
      const set = listeners.get(visitId) ?? new Set();
      set.add(listener);
      listeners.set(visitId, set);
      watchers++;
      return () => {
        if (!set.delete(listener)) return;
        watchers--;
        if (set.size === 0) listeners.delete(visitId);
      };
    },
    get watchers() {
      return watchers;
    },
  };
}

/** The newest cart checkout recorded for the visit, or undefined before the first. */
export async function latestCart(db: Queryable, visitId: string): Promise<LiveCart | undefined> {
  const { rows } = await db.query<{ version: number; ts_ms: number; total_cents: number; cart: { lines: LiveCart['lines']; pendingReviewIds: string[] } }>(
    'SELECT version, ts_ms, total_cents, cart FROM cart_events WHERE visit_id = $1 ORDER BY version DESC LIMIT 1',
    [visitId],
  );
  const row = rows[0];
  return row && { visitId, version: row.version, lines: row.cart.lines, pendingReviewIds: row.cart.pendingReviewIds, totalCents: row.total_cents, ts: row.ts_ms };
}
