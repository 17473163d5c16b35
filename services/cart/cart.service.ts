import {
  SCHEMA_VERSION,
  decidedVisits,
  topics as contractTopics,
  type CartUpdated,
  type ReceiptFinalised,
  type StoreIndex,
  type VisitEnded,
  type VisitSettled,
  type VisitStarted,
} from '../../libs/contracts/index.ts';
import { createOutbox, RecentIds, type Bus, type Delivery, type Release, type Subscription } from '../../libs/bus/index.ts';
import type { Clock } from '../../libs/clock/clock.ts';
import { silentLogger, type Logger } from '../../libs/log/logger.ts';
import { CartBook, pricesOf, type Cart, type CartChange, type CartView } from '../../libs/cart/cart.model.ts';

/**
 * The cart service: attributions and review decisions in, carts and final receipts out.
 *
 * It keeps one event-sourced cart per visit (libs/cart/cart.model.ts) and publishes the cart as it
 * stands (`cart.updated`, keyed by visit, version up by one per change) after every change. A
 * visit's receipt (`visit.receipt-finalised`) goes out once, when the visit has ended, fusion has
 * settled it (`fusion.visit-settled`), every shelf event fusion lists for it has reached its cart,
 * every review item it lists has been seen, and so has the withdrawal of every item it lists as
 * withdrawn (a pick in review that its shopper's put-back answered). Whatever arrives late (the
 * settled message before an attribution, on another topic) makes the receipt wait, not go out short.
 *
 * Nothing is lost and nothing is applied twice:
 * - The carts are a fold of the messages, and the fold ignores what it has already applied (one
 *   effect per shelf event, one decision per review item), so a redelivery changes nothing; recent
 *   event ids are also remembered so a redelivery costs nothing.
 * - Every message about a visit whose receipt is not out yet is held (Delivery.hold) until the
 *   receipt is published. After a crash the next owner reads those messages again and rebuilds the
 *   same carts; the receipt, named after the visit, comes out under the same id, which its
 *   consumers dedupe. A visit's messages are let go as soon as its receipt is out, and a staff
 *   visit's at once.
 * - A handler returns only when what its message produced is published; a failed publish fails the
 *   handler and the bus delivers the message again.
 */

export const CART_GROUP = 'cart';

type CartTopics = typeof contractTopics;
type CartTopic = 'visit.started' | 'visit.ended' | 'fusion.event-attributed' | 'fusion.visit-settled' | 'review.item-opened' | 'review.item-resolved';
const CONSUMED: readonly CartTopic[] = ['visit.started', 'visit.ended', 'fusion.event-attributed', 'fusion.visit-settled', 'review.item-opened', 'review.item-resolved'];

export interface CartServiceDependencies {
  index: StoreIndex;
  bus: Pick<Bus<CartTopics>, 'publish' | 'subscribe'>;
  /** Not read: carts keep store time from their messages. Taken so every service is built alike. */
  clock?: Clock;
  logger?: Logger;
}

export interface CartServiceStats {
  /** Messages published so far, per topic (a reader has caught up with this service once it has seen as many). */
  publishedByTopic: Record<string, number>;
  /** Messages taken off the bus, redeliveries included. */
  messages: number;
  /** Messages whose event id was handled already. */
  duplicates: number;
  /** Messages about staff visits: they change the shelves, never a cart. */
  staffMessages: number;
  cartUpdates: number;
  receipts: number;
  published: number;
  publishFailures: number;
  /** Puts that took away more than the cart held (the rest is kept on the cart, never a negative line). */
  unheldRemovals: number;
  /** Visits that ended and were settled, whose receipt still waits for an attribution or a review item. */
  waiting: number;
  /** Messages held until their visits' receipts are out. */
  held: number;
}

export interface CartService {
  start(): Promise<void>;
  /** Publishes what waits; at the end of a replay, logs the receipts still waiting and why. */
  flush(): Promise<void>;
  /** Leaves the group; held messages stay uncommitted for the next owner. */
  stop(): Promise<void>;
  stats(): CartServiceStats;
  /** Every cart as it stands (staff visits have none). */
  carts(): CartView[];
}

interface VisitProgress {
  started?: VisitStarted;
  ended?: VisitEnded;
  settled?: VisitSettled;
  finalised: boolean;
  /** Held messages that wait for this visit's receipt. */
  holds: Set<HeldMessage>;
}

/** A held message and the visits whose receipts it still waits for. */
interface HeldMessage {
  release: Release;
  waitingFor: Set<string>;
}

type Output = { topic: 'cart.updated'; message: CartUpdated } | { topic: 'visit.receipt-finalised'; message: ReceiptFinalised };

export const receiptIdOf = (visitId: string) => `receipt-${visitId}`;

export function createCartService(deps: CartServiceDependencies): CartService {
  const { index, bus } = deps;
  const logger = deps.logger ?? silentLogger;
  const book = new CartBook(pricesOf(index));
  const recent = new RecentIds();
  const visits = new Map<string, VisitProgress>();
  /** Unheld removals on each cart now (a later review can clear them). */
  const unheldNow = new Map<string, number>();
  /** Visits whose receipt is queued (or that turned out staff): their held messages go once the outbox is published. */
  const unreleased = new Set<string>();
  const outbox = createOutbox<Output>({
    bus,
    logger,
    failureMessage: 'cart service could not publish; the message behind it stays uncommitted and comes again',
    onFailure: () => stats.publishFailures++,
  });
  let subscription: Subscription | undefined;
  const stats = { messages: 0, duplicates: 0, staffMessages: 0, cartUpdates: 0, receipts: 0, publishFailures: 0 };

  const progress = (visitId: string): VisitProgress => {
    let visit = visits.get(visitId);
    if (!visit) visits.set(visitId, (visit = { finalised: false, holds: new Set() }));
    return visit;
  };

  const cartUpdated = (change: CartChange, ts: number): void => {
    const view = change.cart.view();
    if (view.unheldRemovals.length > (unheldNow.get(view.visitId) ?? 0))
      logger.warn('a put took away more than the cart held; kept on the cart, no line goes negative', { visitId: view.visitId, unheld: view.unheldRemovals });
    unheldNow.set(view.visitId, view.unheldRemovals.length);
    if (view.unpriced.length > 0) logger.warn('products without a price in the planogram are charged at 0', { visitId: view.visitId, products: view.unpriced });
    outbox.push({
      topic: 'cart.updated',
      message: {
        schemaVersion: SCHEMA_VERSION,
        eventId: `cart/${view.visitId}/${view.version}`,
        storeId: index.store.id,
        ts,
        visitId: view.visitId,
        version: view.version,
        lines: view.lines,
        pendingReviewIds: view.pendingReviewIds,
        totalCents: view.totalCents,
        ...(change.appliedShelfEventId === undefined ? {} : { appliedShelfEventId: change.appliedShelfEventId }),
      },
    });
    stats.cartUpdates++;
  };

  /** Why the visit's receipt cannot go out yet, or null when it can. */
  const waitingOn = (visitId: string, visit: VisitProgress): string | null => {
    if (!visit.ended) return 'visit.ended';
    if (!visit.settled) return 'fusion.visit-settled';
    const kind = book.kindOf(visitId);
    if (kind === undefined) return 'the visit kind (visit.started)';
    const cart = book.cart(visitId);
    const missing = visit.settled.shelfEventIds.filter((id) => !cart?.hasApplied(id));
    if (missing.length > 0) return `attributions of ${missing.join(', ')}`;
    const unseen = visit.settled.reviewIds.filter((id) => !book.isReviewKnown(id));
    if (unseen.length > 0) return `review items ${unseen.join(', ')}`;
    // Items fusion withdrew (a put-back answered the pick): their pending lines go before the receipt does.
    const unwithdrawn = (visit.settled.withdrawnReviewIds ?? []).filter((id) => !book.isReviewResolved(id));
    if (unwithdrawn.length > 0) return `withdrawals of ${unwithdrawn.join(', ')}`;
    return null;
  };

  const receiptOf = (visitId: string, visit: VisitProgress, cart: Cart | undefined): ReceiptFinalised => {
    const view = cart?.view();
    const accountId = visit.started?.accountId;
    return {
      schemaVersion: SCHEMA_VERSION,
      eventId: `receipt/${visitId}`,
      storeId: index.store.id,
      ts: Math.max(visit.ended!.ts, visit.settled!.ts),
      visitId,
      receiptId: receiptIdOf(visitId),
      ...(accountId === undefined ? {} : { accountId }),
      exitMs: visit.settled!.exitMs,
      lines: view?.lines ?? [],
      pending: (view?.pending ?? []).map((line) => ({
        reviewId: line.reviewId,
        ...(line.shelfEventId === undefined ? {} : { shelfEventId: line.shelfEventId }),
        candidates: line.candidates,
      })),
      totalCents: view?.totalCents ?? 0,
    };
  };

  /** Queues the receipt of every visit named that can go out now; returns the visits finalised. */
  const finaliseReady = (visitIds: Iterable<string>): string[] => {
    const done: string[] = [];
    for (const visitId of visitIds) {
      const visit = visits.get(visitId);
      if (!visit || visit.finalised || book.isStaff(visitId)) continue;
      if (waitingOn(visitId, visit) !== null) continue;
      visit.finalised = true;
      outbox.push({ topic: 'visit.receipt-finalised', message: receiptOf(visitId, visit, book.cart(visitId)) });
      stats.receipts++;
      done.push(visitId);
    }
    return done;
  };

  /** Lets go of the messages that waited only for these visits' receipts (once those are published). */
  const releaseFor = (visitIds: string[]) => {
    for (const visitId of visitIds) {
      const visit = visits.get(visitId);
      if (!visit) continue;
      for (const held of visit.holds) {
        held.waitingFor.delete(visitId);
        if (held.waitingFor.size === 0) held.release();
      }
      visit.holds.clear();
    }
  };

  /** Holds the message until every named visit that still gets a receipt has it out. */
  const holdFor = (delivery: Delivery<CartTopics, CartTopic>, visitIds: Iterable<string>) => {
    const waitingFor = new Set([...visitIds].filter((visitId) => !book.isStaff(visitId) && !visits.get(visitId)?.finalised));
    if (waitingFor.size === 0) return;
    const held: HeldMessage = { release: delivery.hold(), waitingFor };
    for (const visitId of waitingFor) progress(visitId).holds.add(held);
  };

  /** Applies one message to the carts; returns the carts it changed. */
  const apply = (delivery: Delivery<CartTopics, CartTopic>): CartChange[] => {
    switch (delivery.topic) {
      case 'visit.started':
        book.visitKind(delivery.message.visitId, delivery.message.kind);
        progress(delivery.message.visitId).started = delivery.message;
        return [];
      case 'visit.ended':
        progress(delivery.message.visitId).ended = delivery.message;
        return [];
      case 'fusion.visit-settled':
        progress(delivery.message.visitId).settled = delivery.message;
        return [];
      case 'fusion.event-attributed':
        return book.attributed(delivery.message);
      case 'review.item-opened':
        return book.reviewOpened(delivery.message);
      case 'review.item-resolved':
        return book.reviewResolved(delivery.message);
    }
  };

  /** The visits a message is about (for a review decision, those the item named and the one decided). */
  const concerned = (delivery: Delivery<CartTopics, CartTopic>): string[] => {
    switch (delivery.topic) {
      case 'review.item-opened':
        return delivery.message.visitIds;
      case 'review.item-resolved': {
        const { message } = delivery;
        const visitIds = [...(book.review(message.reviewId)?.visitIds ?? [])];
        if (message.decision.outcome === 'attributed') visitIds.push(...decidedVisits(message.decision));
        return visitIds;
      }
      default:
        return [delivery.message.visitId];
    }
  };

  const handle = async (delivery: Delivery<CartTopics, CartTopic>): Promise<void> => {
    stats.messages++;
    const id = `${delivery.topic}/${delivery.message.eventId}`;
    const visitIds = new Set<string>();
    if (recent.has(id)) stats.duplicates++;
    else {
      for (const change of apply(delivery)) {
        cartUpdated(change, delivery.message.ts);
        visitIds.add(change.cart.visitId);
      }
      recent.add(id);
    }
    for (const visitId of concerned(delivery)) visitIds.add(visitId);
    if (visitIds.size > 0 && [...visitIds].every((visitId) => book.isStaff(visitId))) stats.staffMessages++;
    // Held whether new or a redelivery: either way it stays uncommitted until the receipts it may
    // still lead to are out.
    holdFor(delivery, visitIds);
    for (const visitId of finaliseReady(visitIds)) unreleased.add(visitId);
    // A visit that turned out to be staff lets go of what was held for it: it never gets a receipt.
    for (const visitId of visitIds) if (book.isStaff(visitId)) unreleased.add(visitId);
    await outbox.publish();
    // Every receipt queued so far is out, this message's or one whose publish failed before.
    releaseFor([...unreleased]);
    unreleased.clear();
  };

  return {
    async start() {
      subscription = await bus.subscribe({
        group: CART_GROUP,
        topics: CONSUMED,
        handle: (delivery) => handle(delivery as Delivery<CartTopics, CartTopic>),
      });
    },
    async flush() {
      await outbox.publish();
      for (const [visitId, visit] of visits) {
        if (visit.finalised || book.isStaff(visitId) || !visit.ended) continue;
        logger.warn('visit ended but its receipt is not out', { visitId, waitingFor: waitingOn(visitId, visit) });
      }
    },
    async stop() {
      await subscription?.close();
      subscription = undefined;
    },
    stats: () => {
      let waiting = 0;
      const held = new Set<HeldMessage>();
      for (const [visitId, visit] of visits) {
        if (!visit.finalised && visit.ended && visit.settled && !book.isStaff(visitId)) waiting++;
        for (const message of visit.holds) held.add(message);
      }
      let unheldRemovals = 0;
      for (const count of unheldNow.values()) unheldRemovals += count;
      const publishedByTopic = outbox.publishedByTopic();
      const published = Object.values(publishedByTopic).reduce((sum, n) => sum + n, 0);
      return { ...stats, published, unheldRemovals, waiting, held: held.size, publishedByTopic };
    },
    carts: () => [...book.all()].map((cart) => cart.view()),
  };
}
