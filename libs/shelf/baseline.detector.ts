import { plateShares, SCHEMA_VERSION, type ShelfEventDetected, type StoreIndex } from '../contracts/index.ts';
import type { ShelfEventSource } from './shelf.perception.ts';

/**
 * The baseline we measure against: the moving-window trigger used by the winners of the public
 * AutoCheckout competition. Over a moving window of 60 samples, the standard deviation of the shelf's
 * total weight above 40 g marks an event; when it falls back, the change of the window mean is the
 * event's weight if it exceeds 10 g on the shelf, on the plates whose own change exceeds 5 g. The
 * product is the lane product on those plates whose unit weight (times a quantity) is nearest.
 * It keeps no inventory and knows nothing of noise, ringing or leans beyond its thresholds.
 */

export const BASELINE_WINDOW_SAMPLES = 60;
export const BASELINE_SHELF_SD_GRAMS = 40;
export const BASELINE_SHELF_CHANGE_GRAMS = 10;
export const BASELINE_PLATE_CHANGE_GRAMS = 5;
const MAX_QUANTITY = 6;

class BaselineShelf {
  private readonly n: number;
  private readonly ring: Float64Array; // [j * (n + 1) + p], p = n is the shelf total
  private readonly sums: Float64Array;
  private readonly sumSq: Float64Array;
  private readonly offset: Float64Array;
  private count = 0;
  private inEvent = false;
  private startMs = 0;
  private readonly before: Float64Array;

  constructor(
    private readonly index: StoreIndex,
    readonly shelfId: string,
    private readonly onEvent: (event: ShelfEventDetected) => void,
  ) {
    this.n = index.shelves.get(shelfId)!.shelf.plates.length;
    this.ring = new Float64Array(BASELINE_WINDOW_SAMPLES * (this.n + 1));
    this.sums = new Float64Array(this.n + 1);
    this.sumSq = new Float64Array(this.n + 1);
    this.offset = new Float64Array(this.n + 1);
    this.before = new Float64Array(this.n + 1);
  }

  push(ts: number, grams: ArrayLike<number>): void {
    const w = BASELINE_WINDOW_SAMPLES;
    const width = this.n + 1;
    if (this.count === 0) {
      let total = 0;
      for (let p = 0; p < this.n; p++) total += this.offset[p] = grams[p];
      this.offset[this.n] = total;
    }
    const row = (this.count % w) * width;
    const full = this.count >= w;
    let total = 0;
    for (let p = 0; p <= this.n; p++) {
      let x: number;
      if (p < this.n) {
        x = grams[p];
        total += x;
      } else x = total;
      const v = x - this.offset[p];
      if (full) {
        const old = this.ring[row + p];
        this.sums[p] -= old;
        this.sumSq[p] -= old * old;
      }
      this.ring[row + p] = v;
      this.sums[p] += v;
      this.sumSq[p] += v * v;
    }
    this.count++;
    if (this.count < w) return;
    const mean = this.sums[this.n] / w;
    const sd = Math.sqrt(Math.max(0, this.sumSq[this.n] / w - mean * mean));
    if (!this.inEvent) {
      if (sd > BASELINE_SHELF_SD_GRAMS) {
        this.inEvent = true;
        this.startMs = ts;
      } else for (let p = 0; p <= this.n; p++) this.before[p] = this.sums[p] / w;
      return;
    }
    if (sd > BASELINE_SHELF_SD_GRAMS) return;
    this.inEvent = false;
    const change = this.sums[this.n] / w - this.before[this.n];
    if (Math.abs(change) <= BASELINE_SHELF_CHANGE_GRAMS) return;
    const shelf = this.index.shelves.get(this.shelfId)!.shelf;
    const plateIds = shelf.plates.filter((_, p) => Math.abs(this.sums[p] / w - this.before[p]) > BASELINE_PLATE_CHANGE_GRAMS).map((p) => p.id);
    const lanes = shelf.lanes.filter((l) => plateIds.length === 0 || l.plateIds.some((id) => plateIds.includes(id)));
    let best: { laneId: string; productId: string; quantity: number; error: number } | undefined;
    for (const lane of lanes) {
      const placement = this.index.placementByLane.get(lane.id);
      if (!placement) continue;
      const unit = this.index.products.get(placement.productId)!.unitWeightGrams;
      // The part of the change this lane's plates saw, scaled back to the lane's whole weight.
      const shares = plateShares(this.index, lane.id);
      let seen = 0;
      let share = 0;
      for (const [plateId, s] of shares) {
        const p = shelf.plates.findIndex((x) => x.id === plateId);
        seen += this.sums[p] / w - this.before[p];
        share += s;
      }
      const grams = Math.abs(plateIds.length > 0 ? change : seen / share);
      for (let q = 1; q <= MAX_QUANTITY; q++) {
        const error = Math.abs(grams - q * unit);
        if (!best || error < best.error) best = { laneId: lane.id, productId: placement.productId, quantity: q, error };
      }
    }
    if (!best) return;
    // What the event is, not how many came before: a restart or a replay names it the same way.
    const eventId = `bl-${this.shelfId}-${Math.round(this.startMs)}-${change < 0 ? 'pick' : 'put'}`;
    this.onEvent({
      schemaVersion: SCHEMA_VERSION,
      eventId,
      storeId: this.index.store.id,
      ts: Math.round(this.startMs),
      shelfEventId: eventId,
      shelfId: this.shelfId,
      plateIds: plateIds.length > 0 ? plateIds : shelf.plates.map((p) => p.id),
      laneIds: [best.laneId],
      kind: change < 0 ? 'pick' : 'put',
      startMs: Math.round(this.startMs),
      endMs: Math.round(ts),
      deltaGrams: Math.round(change * 10) / 10,
      sigmaGrams: 0,
      hypotheses: [{ productId: best.productId, quantity: best.quantity, probability: 1 }],
      confidence: 1,
      health: 'ok',
    });
  }
}

export class BaselineDetector implements ShelfEventSource {
  private readonly shelves = new Map<string, BaselineShelf>();

  constructor(private readonly opts: { index: StoreIndex; onEvent(event: ShelfEventDetected): void }) {}

  push(shelfId: string, ts: number, grams: ArrayLike<number>): void {
    let shelf = this.shelves.get(shelfId);
    if (!shelf) {
      shelf = new BaselineShelf(this.opts.index, shelfId, this.opts.onEvent);
      this.shelves.set(shelfId, shelf);
    }
    shelf.push(ts, grams);
  }

  finish(): void {}
}
