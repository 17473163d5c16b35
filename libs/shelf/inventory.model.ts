import { WalkoutError, type ShelfStock, type StoreIndex } from '../contracts/index.ts';

/**
 * What one shelf holds, as its load cells saw it: units of each lane's own product, items put back on
 * the wrong lane (misplaced), and the units this shelf gave out lately that have not come back to it.
 * Product hypotheses lean on it: a lane can only give what it holds, and a put-back is most likely
 * something taken from the same shelf.
 *
 * It is per shelf on purpose: shelf samples and shelf events are partitioned by shelf, so one shelf's
 * state must never depend on another shelf's events (their order across partitions is not defined).
 * What each shopper carries spans the store and belongs with the carts.
 */

/** Units taken this long ago are no longer expected back (the shopper has left). */
export const TAKEN_TTL_MS = 30 * 60_000;

/** A restock comes in several reaches; this long after one, more of the same is still expected, ms. */
export const RESTOCK_SESSION_MS = 60_000;

export interface LaneInventory {
  laneId: string;
  /** The planogram's product for the lane, when it has one. */
  productId?: string;
  capacity: number;
  /** Units of the lane's own product believed to be on it. */
  stock: number;
  /** Other products put back on this lane, by product id. */
  misplaced: Map<string, number>;
  /** When units of the lane's own product that this shelf had not given out last arrived (staff restocking). */
  restockedAtMs?: number;
}

export interface InventorySnapshot {
  lanes: Array<{
    laneId: string;
    shelfId: string;
    productId?: string;
    stock: number;
    capacity: number;
    outOfStock: boolean;
    misplaced: Array<{ productId: string; quantity: number }>;
  }>;
  outOfStock: string[];
  misplaced: Array<{ laneId: string; productId: string; quantity: number }>;
}

/**
 * One change this shelf made to what it holds for one of its events: a pick from `laneId` (the lane
 * whose stock gave the unit, a twin lane for a misplaced item) or a put on it.
 */
export interface StockMove {
  kind: 'pick' | 'put';
  laneId: string;
  productId: string;
  quantity: number;
  atMs: number;
}

/** What a ShelfInventory holds, as a stock snapshot carries it (`shelf.stock-snapshot`). */
export type InventoryState = Pick<ShelfStock, 'lanes' | 'givenOut'>;

/** Units of a product taken from a shelf and not put back on it: count, and when last taken. */
interface GivenOut {
  count: number;
  lastMs: number;
}

/** Whether units given out are still expected back at nowMs: taken within TAKEN_TTL_MS. */
function isRecent(entry: GivenOut, nowMs: number): boolean {
  return nowMs - entry.lastMs <= TAKEN_TTL_MS;
}

export class ShelfInventory {
  readonly lanes = new Map<string, LaneInventory>();
  /** What this shelf gave out and has not had back, by product id. */
  private readonly given = new Map<string, GivenOut>();

  constructor(
    private readonly index: StoreIndex,
    readonly shelfId: string,
  ) {
    const entry = index.shelves.get(shelfId);
    if (!entry) throw new WalkoutError('CONFIG_INVALID', `shelf inventory: unknown shelf ${shelfId}`);
    for (const lane of entry.shelf.lanes) {
      const placement = index.placementByLane.get(lane.id);
      this.lanes.set(lane.id, {
        laneId: lane.id,
        productId: placement?.productId,
        capacity: placement?.capacity ?? 0,
        stock: placement?.initialStock ?? 0,
        misplaced: new Map(),
      });
    }
  }

  lane(laneId: string): LaneInventory {
    const lane = this.lanes.get(laneId);
    if (!lane) throw new WalkoutError('CONFIG_INVALID', `shelf ${this.shelfId} has no lane ${laneId}`);
    return lane;
  }

  /** Whether staff have been filling this lane in the last RESTOCK_SESSION_MS. */
  restocking(laneId: string, nowMs: number): boolean {
    const at = this.lane(laneId).restockedAtMs;
    return at !== undefined && nowMs - at <= RESTOCK_SESSION_MS;
  }

  /** How many of a product this shelf gave out lately and has not had back. */
  givenOutCount(productId: string, nowMs: number): number {
    const entry = this.given.get(productId);
    return entry && isRecent(entry, nowMs) ? entry.count : 0;
  }

  /** Every product this shelf gave out lately and has not had back, with counts. */
  givenOut(nowMs: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [productId, entry] of this.given) if (entry.count > 0 && isRecent(entry, nowMs)) out.set(productId, entry.count);
    return out;
  }

  pick(laneId: string, productId: string, quantity: number, atMs: number): void {
    const lane = this.lane(laneId);
    if (productId === lane.productId) lane.stock = Math.max(0, lane.stock - quantity);
    else {
      const left = (lane.misplaced.get(productId) ?? 0) - quantity;
      if (left > 0) lane.misplaced.set(productId, left);
      else lane.misplaced.delete(productId);
    }
    this.given.set(productId, { count: this.givenOutCount(productId, atMs) + quantity, lastMs: atMs });
  }

  put(laneId: string, productId: string, quantity: number, atMs: number): void {
    const lane = this.lane(laneId);
    if (productId === lane.productId) {
      // More of the lane's own product than the shelf gave out comes from elsewhere: most often the
      // stock room, so more of it is likely to follow.
      if (this.givenOutCount(productId, atMs) < quantity) lane.restockedAtMs = atMs;
      lane.stock += quantity;
    } else lane.misplaced.set(productId, (lane.misplaced.get(productId) ?? 0) + quantity);
    const entry = this.given.get(productId);
    if (entry) entry.count = Math.max(0, entry.count - quantity);
  }

  /** Makes a move: a pick or a put. */
  apply(move: StockMove): void {
    if (move.kind === 'pick') this.pick(move.laneId, move.productId, move.quantity, move.atMs);
    else this.put(move.laneId, move.productId, move.quantity, move.atMs);
  }

  /**
   * Takes a move back, as if it had never been made: the units of a pick go back where they were
   * and are no longer given out; the units of a put leave the lane and are given out again. (A lane
   * marked as being restocked stays marked: the mark only ends sooner or later.)
   */
  revert(move: StockMove): void {
    const lane = this.lane(move.laneId);
    const sign = move.kind === 'pick' ? 1 : -1;
    if (move.productId === lane.productId) lane.stock = Math.max(0, lane.stock + sign * move.quantity);
    else {
      const left = (lane.misplaced.get(move.productId) ?? 0) + sign * move.quantity;
      if (left > 0) lane.misplaced.set(move.productId, left);
      else lane.misplaced.delete(move.productId);
    }
    const entry = this.given.get(move.productId) ?? { count: 0, lastMs: move.atMs };
    entry.count = Math.max(0, entry.count - sign * move.quantity);
    this.given.set(move.productId, entry);
  }

  /** What the shelf holds and gave out, to be taken up again by restore(). */
  state(): InventoryState {
    return {
      lanes: [...this.lanes.values()].map((lane) => ({
        laneId: lane.laneId,
        ...(lane.productId === undefined ? {} : { productId: lane.productId }),
        stock: lane.stock,
        misplaced: [...lane.misplaced].map(([productId, quantity]) => ({ productId, quantity })),
        ...(lane.restockedAtMs === undefined ? {} : { restockedAtMs: lane.restockedAtMs }),
      })),
      givenOut: [...this.given].filter(([, entry]) => entry.count > 0).map(([productId, entry]) => ({ productId, count: entry.count, lastMs: entry.lastMs })),
    };
  }

  /**
   * Throws, naming the shelf and what is wrong, unless `state` fits this shelf as the store has it
   * now: every lane of the shelf once, each with the product the planogram gives it, and only
   * products the store knows. A stock kept under another planogram is no guide to this one.
   */
  checkState(state: InventoryState, source: string): void {
    const refuse = (what: string) => {
      throw new WalkoutError('MESSAGE_INVALID', `${source} of shelf ${this.shelfId}: ${what}`);
    };
    const seen = new Set<string>();
    for (const lane of state.lanes) {
      const planned = this.lanes.get(lane.laneId);
      if (!planned) refuse(`lane ${lane.laneId} is not on the shelf (its lanes: ${[...this.lanes.keys()].join(', ')})`);
      if (seen.has(lane.laneId)) refuse(`lane ${lane.laneId} is listed twice`);
      seen.add(lane.laneId);
      if (lane.productId !== planned!.productId)
        refuse(`lane ${lane.laneId} held ${lane.productId ?? 'no product'}, the planogram now gives it ${planned!.productId ?? 'none'}`);
      for (const { productId } of lane.misplaced) if (!this.index.products.has(productId)) refuse(`lane ${lane.laneId} holds product ${productId}, which the store does not sell`);
    }
    const missing = [...this.lanes.keys()].filter((laneId) => !seen.has(laneId));
    if (missing.length > 0) refuse(`lanes ${missing.join(', ')} are missing`);
    for (const { productId } of state.givenOut) if (!this.index.products.has(productId)) refuse(`it gave out product ${productId}, which the store does not sell`);
  }

  /** Takes up a state (checked first: nothing changes when it does not fit), in place of what it held. */
  restore(state: InventoryState, source: string): void {
    this.checkState(state, source);
    for (const saved of state.lanes) {
      const lane = this.lanes.get(saved.laneId)!;
      lane.stock = saved.stock;
      lane.misplaced = new Map(saved.misplaced.map((m) => [m.productId, m.quantity]));
      lane.restockedAtMs = saved.restockedAtMs;
    }
    this.given.clear();
    for (const entry of state.givenOut) this.given.set(entry.productId, { count: entry.count, lastMs: entry.lastMs });
  }

  snapshot(): InventorySnapshot {
    const lanes = [...this.lanes.values()].map((l) => ({
      laneId: l.laneId,
      shelfId: this.shelfId,
      productId: l.productId,
      stock: l.stock,
      capacity: l.capacity,
      outOfStock: l.productId !== undefined && l.stock === 0,
      misplaced: [...l.misplaced].map(([productId, quantity]) => ({ productId, quantity })),
    }));
    return {
      lanes,
      outOfStock: lanes.filter((l) => l.outOfStock).map((l) => l.laneId),
      misplaced: lanes.flatMap((l) => l.misplaced.map((m) => ({ laneId: l.laneId, ...m }))),
    };
  }
}

/**
 * Throws, naming the shelf and what is wrong, unless `stock` fits the shelf as the store has it now:
 * a shelf of the store, its inventory as ShelfInventory.checkState wants it, and every remembered
 * move on one of its lanes, of a product the store sells. `source` says where the stock came from.
 */
export function checkShelfStock(index: StoreIndex, shelfId: string, stock: ShelfStock, source: string): void {
  const shelf = index.shelves.get(shelfId)?.shelf;
  if (!shelf) throw new WalkoutError('MESSAGE_INVALID', `${source}: shelf ${shelfId} is not in store ${index.store.id}`);
  new ShelfInventory(index, shelfId).checkState(stock, source);
  for (const move of stock.moves) {
    if (!shelf.lanes.some((lane) => lane.id === move.laneId))
      throw new WalkoutError('MESSAGE_INVALID', `${source} of shelf ${shelfId}: event ${move.shelfEventId} moved stock on lane ${move.laneId}, which the shelf does not have`);
    if (!index.products.has(move.productId))
      throw new WalkoutError('MESSAGE_INVALID', `${source} of shelf ${shelfId}: event ${move.shelfEventId} moved product ${move.productId}, which the store does not sell`);
  }
}

/** Several shelves' snapshots as one (a store-wide view for operators; no stage reasons on it). */
export function mergeSnapshots(snapshots: InventorySnapshot[]): InventorySnapshot {
  return {
    lanes: snapshots.flatMap((s) => s.lanes),
    outOfStock: snapshots.flatMap((s) => s.outOfStock),
    misplaced: snapshots.flatMap((s) => s.misplaced),
  };
}
