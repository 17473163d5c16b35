import {
  decidedShare,
  decidedVisits,
  type AttributedDecision,
  type CartLine,
  type EventAttributed,
  type ReceiptLine,
  type ReviewItemOpened,
  type ReviewItemResolved,
  type StoreIndex,
  type VisitKind,
} from '../contracts/index.ts';

/**
 * Carts, event-sourced per visit. A cart is the fold of its events: items added (a pick attributed
 * to the visit), items removed (a put), review items opened (a line waits for a person) and resolved
 * (a person decided). Every item event is keyed by the shelf event that caused it, so the cart holds
 * at most one effect per shelf event: an attribution delivered twice applies once, and a review
 * decision about a shelf event replaces whatever was attributed for it (in this cart, and in the cart
 * it is taken away from). The read model folds the effects in store-clock order (picks first at one
 * instant), which makes it the same whatever order the messages came in. A pick sits where its weight
 * change began and a put where its change ended: a unit is off the shelf from the start of its lift
 * until its put-back has settled, so a pick overlapping a put of the same unit always comes first,
 * however the shelf dated the two changes' edges.
 *
 * A put of something the cart does not hold never makes a line negative: it takes away what the
 * cart holds and the rest is kept as an unheld removal (for the operator; fusion is meant to send
 * such puts to review, so one reaching a cart means an earlier pick went elsewhere).
 */

export type EffectSource = EventAttributed['source'];

/** When a shelf change began and ended (store clock, ms): a pick folds at its start, a put at its end. */
export interface ChangeSpan {
  startMs: number;
  endMs: number;
}

export type CartEvent =
  | {
      type: 'item-added' | 'item-removed';
      shelfEventId: string;
      /** When the shelf event's weight change began and ended: where a pick or a put sits in the fold. */
      span: ChangeSpan;
      lines: CartLine[];
      source: EffectSource;
    }
  | { type: 'review-opened'; reviewId: string; shelfEventId?: string; ts: number; candidates: CartLine[] }
  | {
      type: 'review-resolved';
      reviewId: string;
      shelfEventId?: string;
      /** When the weight change under review began and ended (store clock, ms). */
      span: ChangeSpan;
      decision: AttributedDecision | { outcome: 'dismissed' };
    };


/** What one shelf event (or one review decision without a shelf event) does to a cart. */
interface Effect {
  readonly key: string;
  readonly shelfEventId?: string;
  readonly kind: 'pick' | 'put';
  readonly lines: readonly CartLine[];
  readonly span: ChangeSpan;
  readonly source: EffectSource;
}

/** A span of one instant (a change known only by when it was decided). */
const instant = (ms: number): ChangeSpan => ({ startMs: ms, endMs: ms });
/** Where an effect sits in the fold: a unit leaves the shelf as its lift begins and is back once its put-back ends. */
const foldAt = (effect: Effect) => (effect.kind === 'pick' ? effect.span.startMs : effect.span.endMs);

export interface PendingLine {
  reviewId: string;
  shelfEventId?: string;
  /** What may be added once a person decides: the review's product hypotheses. */
  candidates: CartLine[];
}

/** Units a put took away that the cart did not hold. */
export interface UnheldRemoval {
  shelfEventId?: string;
  productId: string;
  quantity: number;
}

export interface CartView {
  visitId: string;
  kind: VisitKind | undefined;
  /** Cart events applied so far. */
  version: number;
  lines: ReceiptLine[];
  pending: PendingLine[];
  pendingReviewIds: string[];
  totalCents: number;
  unheldRemovals: UnheldRemoval[];
  /** Products on the cart the planogram has no price for (charged at 0, and logged). */
  unpriced: string[];
}

/** A unit price in cents, or undefined for a product the store does not sell. */
export type PriceList = (productId: string) => number | undefined;

export const pricesOf =
  (index: StoreIndex): PriceList =>
  (productId) =>
    index.products.get(productId)?.priceCents;

const reviewKey = (reviewId: string) => `review:${reviewId}`;
const KIND_ORDER = { pick: 0, put: 1 } as const;

const sameLines = (a: readonly CartLine[], b: readonly CartLine[]) =>
  a.length === b.length && a.every((line, i) => line.productId === b[i].productId && line.quantity === b[i].quantity);

/** Review hypotheses as cart lines, each product and quantity once, likeliest first. */
export function reviewCandidates(item: Pick<ReviewItemOpened, 'evidence'>): CartLine[] {
  const seen = new Set<string>();
  const lines: CartLine[] = [];
  const hypotheses = [...(item.evidence?.hypotheses ?? [])].sort((a, b) => b.probability - a.probability);
  for (const { productId, quantity } of hypotheses) {
    const key = `${productId}x${quantity}`;
    if (seen.has(key)) continue;
    seen.add(key);
    lines.push({ productId, quantity });
  }
  return lines;
}

export class Cart {
  /** Cart events applied so far: the cart's version. */
  private applied = 0;
  private readonly effects = new Map<string, Effect>();
  private readonly pending = new Map<string, PendingLine>();
  private readonly resolved = new Set<string>();
  /** Every shelf event attributed to this visit, even one a review later took away. */
  private readonly attributed = new Set<string>();

  constructor(
    readonly visitId: string,
    public kind: VisitKind | undefined,
    private readonly priceOf: PriceList,
  ) {}

  get version(): number {
    return this.applied;
  }

  /** The shelf event was attributed to this visit at some point (it is applied, whatever came after). */
  hasApplied(shelfEventId: string): boolean {
    return this.attributed.has(shelfEventId);
  }

  /** This cart's lines count the shelf event now. */
  holds(shelfEventId: string): boolean {
    return this.effects.has(shelfEventId);
  }

  /** Applies one event; false when it changes nothing (a redelivery, or a decision already made). */
  apply(event: CartEvent): boolean {
    const changed = this.change(event);
    if (changed) this.applied++;
    return changed;
  }

  private change(event: CartEvent): boolean {
    switch (event.type) {
      case 'item-added':
      case 'item-removed': {
        this.attributed.add(event.shelfEventId);
        const existing = this.effects.get(event.shelfEventId);
        // A person's decision stands over fusion's, whichever came last.
        if (existing?.source === 'review' && event.source === 'fusion') return false;
        const kind = event.type === 'item-added' ? 'pick' : 'put';
        if (existing && existing.kind === kind && existing.source === event.source && sameLines(existing.lines, event.lines)) return false;
        this.effects.set(event.shelfEventId, { key: event.shelfEventId, shelfEventId: event.shelfEventId, kind, lines: event.lines, span: existing?.span ?? event.span, source: event.source });
        return true;
      }
      case 'review-opened': {
        if (this.pending.has(event.reviewId) || this.resolved.has(event.reviewId)) return false;
        this.pending.set(event.reviewId, { reviewId: event.reviewId, shelfEventId: event.shelfEventId, candidates: event.candidates });
        return true;
      }
      case 'review-resolved': {
        if (this.resolved.has(event.reviewId)) return false;
        this.resolved.add(event.reviewId);
        this.pending.delete(event.reviewId);
        // The decision settles the shelf event for this cart as an attribution would have.
        if (event.shelfEventId !== undefined && event.decision.outcome === 'attributed') this.attributed.add(event.shelfEventId);
        const key = event.shelfEventId ?? reviewKey(event.reviewId);
        const { decision } = event;
        const ours = decision.outcome === 'attributed' ? decidedShare(decision, this.visitId) : undefined;
        if (decision.outcome === 'attributed' && ours) {
          const existing = this.effects.get(key);
          this.effects.set(key, { key, shelfEventId: event.shelfEventId, kind: ours.kind, lines: ours.lines, span: existing?.span ?? event.span, source: 'review' });
        } else if (decision.outcome === 'attributed') {
          // Decided for someone else: whatever this cart counted for that shelf event goes.
          this.effects.delete(key);
        }
        return true;
      }
    }
  }

  /** The read model: the effects folded in store-clock order, priced. */
  view(): CartView {
    const held = new Map<string, number>();
    const unheldRemovals: UnheldRemoval[] = [];
    // At one instant a pick comes before a put: fusion decides a pick in review and its put-back together.
    const ordered = [...this.effects.values()].sort((a, b) => foldAt(a) - foldAt(b) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const effect of ordered)
      for (const { productId, quantity } of effect.lines) {
        const have = held.get(productId) ?? 0;
        if (effect.kind === 'pick') {
          held.set(productId, have + quantity);
          continue;
        }
        const taken = Math.min(have, quantity);
        held.set(productId, have - taken);
        if (quantity > taken) unheldRemovals.push({ shelfEventId: effect.shelfEventId, productId, quantity: quantity - taken });
      }
    const unpriced: string[] = [];
    const lines: ReceiptLine[] = [];
    for (const [productId, quantity] of held) {
      if (quantity <= 0) continue;
      const price = this.priceOf(productId);
      if (price === undefined) unpriced.push(productId);
      const unitPriceCents = price ?? 0;
      lines.push({ productId, quantity, unitPriceCents, totalCents: unitPriceCents * quantity });
    }
    const pending = [...this.pending.values()];
    return {
      visitId: this.visitId,
      kind: this.kind,
      version: this.version,
      lines,
      pending,
      pendingReviewIds: pending.map((line) => line.reviewId),
      totalCents: lines.reduce((sum, line) => sum + line.totalCents, 0),
      unheldRemovals,
      unpriced,
    };
  }
}

/** A cart whose visit changed, and the shelf event the change applied (when one did). */
export interface CartChange {
  cart: Cart;
  appliedShelfEventId?: string;
}

/**
 * Every visit's cart, and the routing between them: which carts a review names, which cart holds a
 * shelf event a review gives to someone else. Staff visits never get a cart; a cart opened for a
 * visit whose kind is not known yet (a review naming it came first) is dropped if it turns out staff.
 */
export class CartBook {
  private readonly carts = new Map<string, Cart>();
  private readonly kinds = new Map<string, VisitKind>();
  private readonly opened = new Map<string, ReviewItemOpened>();
  private readonly resolutions = new Map<string, ReviewItemResolved>();
  private readonly holders = new Map<string, Set<string>>();

  constructor(private readonly priceOf: PriceList) {}

  cart(visitId: string): Cart | undefined {
    return this.carts.get(visitId);
  }

  all(): IterableIterator<Cart> {
    return this.carts.values();
  }

  kindOf(visitId: string): VisitKind | undefined {
    return this.kinds.get(visitId);
  }

  isStaff(visitId: string): boolean {
    return this.kinds.get(visitId) === 'staff';
  }

  /** The review item, once its opening has been seen. */
  review(reviewId: string): ReviewItemOpened | undefined {
    return this.opened.get(reviewId);
  }

  isReviewKnown(reviewId: string): boolean {
    return this.opened.has(reviewId) || this.resolutions.has(reviewId);
  }

  /** Whether a decision (or a withdrawal) of the review item has been seen. */
  isReviewResolved(reviewId: string): boolean {
    return this.resolutions.has(reviewId);
  }

  /** Learns what kind of visit this is (from visit.started, or an attribution). */
  visitKind(visitId: string, kind: VisitKind): void {
    this.kinds.set(visitId, kind);
    if (kind === 'staff') {
      const cart = this.carts.get(visitId);
      if (cart) for (const holders of this.holders.values()) holders.delete(visitId);
      this.carts.delete(visitId);
      return;
    }
    const cart = this.carts.get(visitId);
    if (cart) cart.kind = kind;
  }

  attributed(message: EventAttributed): CartChange[] {
    // visit.started says what a visit is; an attribution only fills in a kind not known yet.
    if (!this.kinds.has(message.visitId)) this.visitKind(message.visitId, message.visitKind);
    const cart = this.cartFor(message.visitId);
    if (!cart) return [];
    const event: CartEvent = {
      type: message.kind === 'pick' ? 'item-added' : 'item-removed',
      shelfEventId: message.shelfEventId,
      // Folded where the change happened, as a review's decision is: a pick decided after a wait
      // still comes before its shopper's put-back that ended meanwhile. Older messages give only the
      // change's end, or neither (then when it was decided).
      span: { startMs: message.changeStartMs ?? message.changeEndMs ?? message.ts, endMs: message.changeEndMs ?? message.ts },
      lines: message.lines,
      source: message.source,
    };
    return this.applyTo([cart], event, message.shelfEventId);
  }

  reviewOpened(message: ReviewItemOpened): CartChange[] {
    if (this.opened.has(message.reviewId)) return [];
    this.opened.set(message.reviewId, message);
    // Decided before its opening reached us: nothing waits for it any more.
    if (this.resolutions.has(message.reviewId)) return [];
    const event: CartEvent = {
      type: 'review-opened',
      reviewId: message.reviewId,
      shelfEventId: message.shelfEventId,
      ts: message.ts,
      candidates: reviewCandidates(message),
    };
    const carts = message.visitIds.map((visitId) => this.cartFor(visitId)).filter((cart): cart is Cart => cart !== undefined);
    return this.applyTo(carts, event);
  }

  reviewResolved(message: ReviewItemResolved): CartChange[] {
    if (this.resolutions.has(message.reviewId)) return [];
    this.resolutions.set(message.reviewId, message);
    const item = this.opened.get(message.reviewId);
    const shelfEventId = item?.shelfEventId;
    const { decision } = message;
    const visitIds = new Set(item?.visitIds ?? []);
    if (decision.outcome === 'attributed') for (const visitId of decidedVisits(decision)) visitIds.add(visitId);
    for (const visitId of shelfEventId ? (this.holders.get(shelfEventId) ?? []) : []) visitIds.add(visitId);
    const carts = [...visitIds].map((visitId) => this.cartFor(visitId)).filter((cart): cart is Cart => cart !== undefined);
    const event: CartEvent = {
      type: 'review-resolved',
      reviewId: message.reviewId,
      shelfEventId,
      span: item?.evidence ? { startMs: item.evidence.weight.startMs, endMs: item.evidence.weight.endMs } : instant(item?.ts ?? message.ts),
      decision:
        decision.outcome === 'attributed'
          ? { outcome: 'attributed', visitId: decision.visitId, kind: decision.kind, lines: decision.lines, ...(decision.sharedWith ? { sharedWith: decision.sharedWith } : {}) }
          : { outcome: 'dismissed' },
    };
    const applied = decision.outcome === 'attributed' ? shelfEventId : undefined;
    return this.applyTo(carts, event, applied);
  }

  private cartFor(visitId: string): Cart | undefined {
    if (this.isStaff(visitId)) return undefined;
    let cart = this.carts.get(visitId);
    if (!cart) {
      cart = new Cart(visitId, this.kinds.get(visitId), this.priceOf);
      this.carts.set(visitId, cart);
    }
    return cart;
  }

  private applyTo(carts: Cart[], event: CartEvent, appliedShelfEventId?: string): CartChange[] {
    const changes: CartChange[] = [];
    for (const cart of carts) {
      if (!cart.apply(event)) continue;
      changes.push({ cart, appliedShelfEventId });
      if (appliedShelfEventId === undefined) continue;
      let holders = this.holders.get(appliedShelfEventId);
      if (!holders) this.holders.set(appliedShelfEventId, (holders = new Set()));
      if (cart.holds(appliedShelfEventId)) holders.add(cart.visitId);
      else holders.delete(cart.visitId);
    }
    return changes;
  }
}
