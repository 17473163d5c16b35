import type { StoreIndex } from '../contracts/index.ts';

/**
 * What the shelves hold, as the load cells saw it: units of each lane's own product, items put back on
 * the wrong lane (misplaced), and what shoppers are carrying (picked and not yet put back anywhere).
 * Product hypotheses lean on it: a lane can only give what it holds, and a put-back is most likely
 * something that was picked before.
 */

/** Products picked this long ago are no longer expected back (the shopper has left). */
export const HELD_TTL_MS = 30 * 60_000;

export interface LaneInventory {
  laneId: string;
  shelfId: string;
  /** The planogram's product for the lane, when it has one. */
  productId?: string;
  capacity: number;
  /** Units of the lane's own product believed to be on it. */
  stock: number;
  /** Other products put back on this lane, by product id. */
  misplaced: Map<string, number>;
  /** When units of the lane's own product that nobody carried last arrived (staff restocking). */
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
  carried: Array<{ productId: string; quantity: number }>;
}

/** A restock comes in several reaches; this long after one, more of the same is still expected, ms. */
export const RESTOCK_SESSION_MS = 60_000;

export class InventoryModel {
  readonly lanes = new Map<string, LaneInventory>();
  /** Products out of the shelves: count and when the last one was picked. */
  private readonly carried = new Map<string, { count: number; lastMs: number }>();

  constructor(readonly index: StoreIndex) {
    for (const [laneId, { shelf }] of index.lanes) {
      const placement = index.placementByLane.get(laneId);
      this.lanes.set(laneId, {
        laneId,
        shelfId: shelf.id,
        productId: placement?.productId,
        capacity: placement?.capacity ?? 0,
        stock: placement?.initialStock ?? 0,
        misplaced: new Map(),
      });
    }
  }

  lane(laneId: string): LaneInventory {
    const lane = this.lanes.get(laneId);
    if (!lane) throw new Error(`unknown lane ${laneId}`);
    return lane;
  }

  /** How many of a product shoppers carry now (picked from any shelf, not put back). */
  carriedCount(productId: string, nowMs: number): number {
    const entry = this.carried.get(productId);
    return entry && nowMs - entry.lastMs <= HELD_TTL_MS ? entry.count : 0;
  }

  /** Whether staff have been filling this lane in the last RESTOCK_SESSION_MS. */
  restocking(laneId: string, nowMs: number): boolean {
    const at = this.lane(laneId).restockedAtMs;
    return at !== undefined && nowMs - at <= RESTOCK_SESSION_MS;
  }

  /** Every product shoppers carry now, with counts. */
  carriedProducts(nowMs: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const [productId, entry] of this.carried) if (entry.count > 0 && nowMs - entry.lastMs <= HELD_TTL_MS) out.set(productId, entry.count);
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
    const entry = this.carried.get(productId);
    this.carried.set(productId, { count: (entry && atMs - entry.lastMs <= HELD_TTL_MS ? entry.count : 0) + quantity, lastMs: atMs });
  }

  put(laneId: string, productId: string, quantity: number, atMs: number): void {
    const lane = this.lane(laneId);
    if (productId === lane.productId) {
      // More of the lane's own product than shoppers carry can only come from the stock room.
      if (this.carriedCount(productId, atMs) < quantity) lane.restockedAtMs = atMs;
      lane.stock += quantity;
    } else lane.misplaced.set(productId, (lane.misplaced.get(productId) ?? 0) + quantity);
    const entry = this.carried.get(productId);
    if (entry) entry.count = Math.max(0, entry.count - quantity);
  }

  snapshot(nowMs: number, shelfId?: string): InventorySnapshot {
    const lanes = [...this.lanes.values()]
      .filter((l) => shelfId === undefined || l.shelfId === shelfId)
      .map((l) => ({
        laneId: l.laneId,
        shelfId: l.shelfId,
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
      carried: [...this.carriedProducts(nowMs)].map(([productId, quantity]) => ({ productId, quantity })),
    };
  }
}
