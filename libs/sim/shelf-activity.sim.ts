import { MAX_SCENARIO_SECONDS, plateShares, WalkoutError, type ActionTruth, type StoreIndex } from '../contracts/index.ts';
import { earliestHead } from '../recording/index.ts';
import { simulateShelfLoadCells, type LoadCellFault, type PlateLoadChange } from './loadcell.sim.ts';
import { createRandom, type Random } from './random.ts';

/**
 * Shelf-only activity: sequences of picks, puts and leans on the shelves of a store, as per-plate load
 * changes for the load-cell simulator plus the ground truth (ActionTruth) they stand for. It plays the
 * hard cases of shelf perception on purpose: rapid successive picks, two shoppers at neighbouring lanes
 * at once, lanes that span two plates, grabs of several units, put-backs on the wrong lane (and picks of
 * those misplaced items later), leans, and products whose weights are nearly equal.
 *
 * The full scenario simulator reuses `laneLoadChanges` for its own picks and puts.
 */

export type EpisodeKind =
  | 'single-pick'
  | 'multi-pick'
  | 'rapid-picks'
  | 'neighbour-picks'
  | 'put-back'
  | 'wrong-lane-put'
  | 'misplaced-pick'
  | 'lean';

/** How often each kind of episode happens, relative weights. */
export type EpisodeMix = Record<EpisodeKind, number>;

export const HARD_MIX: EpisodeMix = {
  'single-pick': 25,
  'multi-pick': 10,
  'rapid-picks': 14,
  'neighbour-picks': 14,
  'put-back': 10,
  'wrong-lane-put': 10,
  'misplaced-pick': 7,
  lean: 10,
};

export const HAND_MS_RANGE = [300, 600] as const; // a hand grabbing or placing an item
export const LEAN_MS_RANGE = [800, 2_500] as const;
/** Rapid successive picks: start to start, ms. The plate still has a moment at rest between them. */
export const RAPID_GAP_MS_RANGE = [1_100, 1_600] as const;
/** Two shoppers at neighbouring lanes: how far apart their hands start, ms. */
export const NEIGHBOUR_OFFSET_MS_RANGE = [0, 400] as const;
/** Rest on a shelf between episodes, ms (after the last transient has rung out). */
export const SHELF_REST_MS_RANGE = [1_200, 6_000] as const;
/** Time the plate needs to ring out after a hand leaves it, ms. */
const RING_OUT_MS = 700;
const MAX_GRAB = 3;

export interface ShelfActivityOptions {
  index: StoreIndex;
  /** Shelves to play on; all shelves of the store when absent. */
  shelfIds?: string[];
  startMs: number;
  durationMs: number;
  seed: number;
  mix?: Partial<EpisodeMix>;
  faults?: LoadCellFault[];
}

export interface ShelfActivity {
  startMs: number;
  endMs: number;
  shelfIds: string[];
  /** Per shelf: the weight of stock on each plate at the start, grams. */
  initialGrams: Map<string, Map<string, number>>;
  /** Per shelf: every load change, for simulateShelfLoadCells. */
  changes: Map<string, PlateLoadChange[]>;
  faults: LoadCellFault[];
  actions: ActionTruth[];
  /** How many episodes of each kind were played. */
  episodes: Record<EpisodeKind, number>;
}

interface Unit {
  productId: string;
  grams: number;
}

/** Splits the weight moved on a lane over its plates, one load change per plate. */
export function laneLoadChanges(
  index: StoreIndex,
  laneId: string,
  grams: number,
  atMs: number,
  durationMs: number,
  kind: 'pick' | 'put',
): PlateLoadChange[] {
  const sign = kind === 'pick' ? -1 : 1;
  return [...plateShares(index, laneId)].map(([plateId, share]) => ({
    plateId,
    atMs,
    durationMs,
    deltaGrams: sign * grams * share,
    kind,
  }));
}

export function planShelfActivity(opts: ShelfActivityOptions): ShelfActivity {
  const { index } = opts;
  // Checked here, before any planning, so that every caller (the verb, a bench, a test) meets the same limit.
  if (!(opts.durationMs > 0 && opts.durationMs <= MAX_SCENARIO_SECONDS * 1_000))
    throw new WalkoutError(
      'SCENARIO_INVALID',
      `shelf activity of ${opts.durationMs / 1_000} s asked for: the simulator records more than 0 and at most ${MAX_SCENARIO_SECONDS} s (MAX_SCENARIO_SECONDS)`,
    );
  const random = createRandom(opts.seed).fork('shelf-activity');
  const shelfIds = opts.shelfIds ?? [...index.shelves.keys()];
  for (const id of shelfIds) if (!index.shelves.has(id)) throw new WalkoutError('SCENARIO_INVALID', `unknown shelf ${id}`);
  // Faults only on the shelves played: the load-cell simulator refuses cells of other shelves.
  const cellShelf = new Map([...index.plates].map(([plateId, { shelf }]) => [index.loadCellByPlate.get(plateId)?.id, shelf.id]));
  const mix = { ...HARD_MIX, ...opts.mix };
  const kinds = Object.keys(mix) as EpisodeKind[];
  const totalWeight = kinds.reduce((s, k) => s + mix[k], 0);
  const weighUnit = (productId: string, r: Random): Unit => {
    const p = index.products.get(productId)!;
    return { productId, grams: Math.max(1, r.normal(p.unitWeightGrams, p.weightSpreadGrams)) };
  };

  // Every lane's units, back to front: the last unit is the one a hand takes.
  const lanes = new Map<string, Unit[]>();
  const units = random.fork('units');
  for (const shelfId of shelfIds)
    for (const lane of index.shelves.get(shelfId)!.shelf.lanes) {
      const placement = index.placementByLane.get(lane.id);
      lanes.set(lane.id, placement ? Array.from({ length: placement.initialStock }, () => weighUnit(placement.productId, units)) : []);
    }
  const initialGrams = new Map<string, Map<string, number>>();
  for (const shelfId of shelfIds) {
    const grams = new Map(index.shelves.get(shelfId)!.shelf.plates.map((p) => [p.id, 0]));
    for (const lane of index.shelves.get(shelfId)!.shelf.lanes)
      for (const [plateId, share] of plateShares(index, lane.id))
        grams.set(plateId, grams.get(plateId)! + share * lanes.get(lane.id)!.reduce((s, u) => s + u.grams, 0));
    initialGrams.set(shelfId, grams);
  }

  const changes = new Map<string, PlateLoadChange[]>(shelfIds.map((id) => [id, []]));
  const actions: ActionTruth[] = [];
  const held: Unit[] = []; // units shoppers carry, in the order they took them
  const episodes = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<EpisodeKind, number>;
  const freeAt = new Map(shelfIds.map((id) => [id, opts.startMs + random.uniform(200, 2_000)]));
  const endMs = opts.startMs + opts.durationMs;

  const hand = (r: Random) => Math.round(r.uniform(...HAND_MS_RANGE));
  const move = (shelfId: string, laneId: string, taken: Unit[], kind: 'pick' | 'put', atMs: number, durationMs: number) => {
    const grams = taken.reduce((s, u) => s + u.grams, 0);
    changes.get(shelfId)!.push(...laneLoadChanges(index, laneId, grams, atMs, durationMs, kind));
    const byProduct = new Map<string, number>();
    for (const u of taken) byProduct.set(u.productId, (byProduct.get(u.productId) ?? 0) + 1);
    for (const [productId, quantity] of byProduct)
      actions.push({
        actionId: `a-${actions.length + 1}`,
        kind,
        startMs: atMs,
        endMs: atMs + durationMs,
        productId,
        quantity,
        shelfId,
        laneId,
        plateIds: index.lanes.get(laneId)!.lane.plateIds,
      });
    return atMs + durationMs;
  };
  const pick = (shelfId: string, laneId: string, count: number, atMs: number, durationMs: number) => {
    const stock = lanes.get(laneId)!;
    const taken = stock.splice(Math.max(0, stock.length - count), count);
    held.push(...taken);
    return move(shelfId, laneId, taken, 'pick', atMs, durationMs);
  };
  const put = (shelfId: string, laneId: string, unit: Unit, atMs: number, durationMs: number) => {
    held.splice(held.indexOf(unit), 1);
    lanes.get(laneId)!.push(unit);
    return move(shelfId, laneId, [unit], 'put', atMs, durationMs);
  };
  const ownProduct = (laneId: string) => index.placementByLane.get(laneId)?.productId;
  /** Lanes whose front unit is the lane's own product (picks from them are ordinary picks). */
  const pickable = (shelfId: string, min = 1) =>
    index.shelves
      .get(shelfId)!
      .shelf.lanes.filter((l) => {
        const stock = lanes.get(l.id)!;
        return stock.length >= min && stock.slice(-min).every((u) => u.productId === ownProduct(l.id));
      })
      .map((l) => l.id);

  for (let cursor = opts.startMs; cursor < endMs; ) {
    const free = shelfIds.filter((id) => freeAt.get(id)! <= cursor);
    if (free.length === 0) {
      cursor = Math.min(...freeAt.values());
      continue;
    }
    const shelfId = random.pick(free);
    const r = random.fork(`episode:${cursor}:${shelfId}`);
    let kind = kinds[kinds.length - 1];
    for (let x = r.uniform(0, totalWeight), i = 0; i < kinds.length; i++) {
      x -= mix[kinds[i]];
      if (x < 0) {
        kind = kinds[i];
        break;
      }
    }
    const at = Math.round(cursor);
    let busyUntil = at; // when the last hand leaves the shelf
    const shelfLanes = index.shelves.get(shelfId)!.shelf.lanes.map((l) => l.id);
    const shelfPlates = index.shelves.get(shelfId)!.shelf.plates.map((p) => p.id);
    const misplacedLanes = shelfLanes.filter((id) => {
      const stock = lanes.get(id)!;
      return stock.length > 0 && stock[stock.length - 1].productId !== ownProduct(id);
    });
    const returnable = held.filter((u) => index.lanesByProduct.has(u.productId));
    let played = true;
    switch (kind) {
      case 'single-pick':
      case 'multi-pick': {
        const count = kind === 'single-pick' ? 1 : r.int(2, MAX_GRAB);
        const options = pickable(shelfId, count);
        if (options.length === 0) played = false;
        else busyUntil = pick(shelfId, r.pick(options), count, at, hand(r));
        break;
      }
      case 'rapid-picks': {
        const options = pickable(shelfId, 3);
        if (options.length === 0) {
          played = false;
          break;
        }
        let laneId = r.pick(options);
        let t = at;
        for (let i = 0, n = r.int(2, 3); i < n; i++) {
          // Mostly the same lane, sometimes the next one along (a shopper filling a hand).
          if (i > 0 && r.chance(0.3)) {
            const near = pickable(shelfId).filter((id) => Math.abs(shelfLanes.indexOf(id) - shelfLanes.indexOf(laneId)) === 1);
            if (near.length > 0) laneId = r.pick(near);
          }
          if (pickable(shelfId).includes(laneId)) busyUntil = Math.max(busyUntil, pick(shelfId, laneId, 1, t, hand(r)));
          t += Math.round(r.uniform(...RAPID_GAP_MS_RANGE));
        }
        break;
      }
      case 'neighbour-picks': {
        const options = pickable(shelfId);
        const pairs = options.flatMap((a) => options.filter((b) => shelfLanes.indexOf(b) === shelfLanes.indexOf(a) + 1).map((b) => [a, b]));
        if (pairs.length === 0) {
          played = false;
          break;
        }
        const [a, b] = r.pick(pairs);
        const offset = Math.round(r.uniform(...NEIGHBOUR_OFFSET_MS_RANGE));
        const [first, second] = r.chance(0.5) ? [a, b] : [b, a];
        busyUntil = Math.max(pick(shelfId, first, 1, at, hand(r)), pick(shelfId, second, 1, at + offset, hand(r)));
        break;
      }
      case 'put-back': {
        const own = returnable.filter((u) => shelfLanes.some((id) => ownProduct(id) === u.productId));
        if (own.length === 0) {
          played = false;
          break;
        }
        const unit = r.pick(own);
        const laneId = shelfLanes.find((id) => ownProduct(id) === unit.productId)!;
        busyUntil = put(shelfId, laneId, unit, at, hand(r));
        break;
      }
      case 'wrong-lane-put': {
        if (returnable.length === 0) {
          played = false;
          break;
        }
        const unit = r.pick(returnable);
        const foreign = shelfLanes.filter((id) => ownProduct(id) !== unit.productId);
        if (foreign.length === 0) {
          played = false;
          break;
        }
        busyUntil = put(shelfId, r.pick(foreign), unit, at, hand(r));
        break;
      }
      case 'misplaced-pick': {
        if (misplacedLanes.length === 0) {
          played = false;
          break;
        }
        busyUntil = pick(shelfId, r.pick(misplacedLanes), 1, at, hand(r));
        break;
      }
      case 'lean': {
        const durationMs = Math.round(r.uniform(...LEAN_MS_RANGE));
        changes.get(shelfId)!.push({ plateId: r.pick(shelfPlates), atMs: at, durationMs, deltaGrams: 0, kind: 'lean' });
        busyUntil = at + durationMs;
        break;
      }
    }
    if (played) episodes[kind]++;
    freeAt.set(shelfId, busyUntil + RING_OUT_MS + (played ? r.uniform(...SHELF_REST_MS_RANGE) : 50));
    // Shelves overlap in time: the next episode anywhere starts soon after this one.
    cursor += r.uniform(100, 900);
  }
  // Nothing may still be ringing at the end of the recording.
  const lastEnd = Math.max(opts.startMs, ...[...changes.values()].flat().map((c) => c.atMs + c.durationMs + RING_OUT_MS));
  const end = Math.max(endMs, lastEnd + 1_000);
  for (const list of changes.values()) list.sort((a, b) => a.atMs - b.atMs);
  actions.sort((a, b) => a.startMs - b.startMs);
    const faults = opts.faults ?? [];
  for (const f of faults)
    if (!shelfIds.includes(cellShelf.get(f.loadCellId) ?? ''))
      throw new WalkoutError('SCENARIO_INVALID', `fault names load cell ${f.loadCellId}, which is on none of the shelves played`);
  return { startMs: opts.startMs, endMs: end, shelfIds, initialGrams, changes, faults, actions, episodes };
}

/**
 * The load-cell readings of every shelf of a plan, merged in store-clock order: one tick per shelf
 * per sample time, values in shelf plate order.
 */
export function* shelfActivityTicks(
  index: StoreIndex,
  activity: ShelfActivity,
  seed: number,
): Generator<{ shelfId: string; ts: number; grams: Float64Array }> {
  const streams = activity.shelfIds.map((shelfId) => ({
    shelfId,
    ticks: simulateShelfLoadCells({
      index,
      shelfId,
      startMs: activity.startMs,
      endMs: activity.endMs,
      initialGrams: activity.initialGrams.get(shelfId)!,
      changes: activity.changes.get(shelfId)!,
      seed,
      faults: activity.faults.filter((f) =>
        index.shelves.get(shelfId)!.shelf.plates.some((p) => index.loadCellByPlate.get(p.id)?.id === f.loadCellId),
      ),
    }),
  }));
  const heads = streams.map((s) => s.ticks.next());
  for (;;) {
    const best = earliestHead(heads);
    if (best < 0) return;
    const { ts, grams } = heads[best].value as { ts: number; grams: Float64Array };
    yield { shelfId: streams[best].shelfId, ts, grams };
    heads[best] = streams[best].ticks.next();
  }
}
