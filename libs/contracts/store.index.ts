import type { Camera, Gondola, Lane, LoadCell, Placement, Plate, Product, Shelf, Store } from './store.schema.ts';

/** Lookups over a validated store, built once: which shelf a lane is on, what a lane holds, and so on. */
export interface StoreIndex {
  store: Store;
  gondolas: Map<string, Gondola>;
  shelves: Map<string, { shelf: Shelf; gondola: Gondola }>;
  lanes: Map<string, { lane: Lane; shelf: Shelf; gondola: Gondola }>;
  plates: Map<string, { plate: Plate; shelf: Shelf; gondola: Gondola; lanes: Lane[] }>;
  products: Map<string, Product>;
  placementByLane: Map<string, Placement>;
  lanesByProduct: Map<string, string[]>;
  loadCellByPlate: Map<string, LoadCell>;
  cameras: Map<string, Camera>;
}

export function indexStore(store: Store): StoreIndex {
  const index: StoreIndex = {
    store,
    gondolas: new Map(),
    shelves: new Map(),
    lanes: new Map(),
    plates: new Map(),
    products: new Map(store.planogram.products.map((p) => [p.id, p])),
    placementByLane: new Map(store.planogram.placements.map((p) => [p.laneId, p])),
    lanesByProduct: new Map(),
    loadCellByPlate: new Map(store.loadCells.map((c) => [c.plateId, c])),
    cameras: new Map(store.cameras.map((c) => [c.id, c])),
  };
  for (const gondola of store.layout.gondolas) {
    index.gondolas.set(gondola.id, gondola);
    for (const shelf of gondola.shelves) {
      index.shelves.set(shelf.id, { shelf, gondola });
      for (const plate of shelf.plates)
        index.plates.set(plate.id, { plate, shelf, gondola, lanes: shelf.lanes.filter((l) => l.plateIds.includes(plate.id)) });
      for (const lane of shelf.lanes) index.lanes.set(lane.id, { lane, shelf, gondola });
    }
  }
  for (const placement of store.planogram.placements) {
    const lanes = index.lanesByProduct.get(placement.productId) ?? [];
    lanes.push(placement.laneId);
    index.lanesByProduct.set(placement.productId, lanes);
  }
  return index;
}

/**
 * The share of a lane's weight each of its plates carries, by the overlap of lane and plate along
 * the shelf. An item lying across two plates splits its weight this way.
 */
export function plateShares(index: StoreIndex, laneId: string): Map<string, number> {
  const entry = index.lanes.get(laneId);
  if (!entry) throw new Error(`unknown lane ${laneId}`);
  const { lane } = entry;
  const overlaps = lane.plateIds.map((plateId) => {
    const plate = index.plates.get(plateId)!.plate;
    const dx = Math.max(0, Math.min(lane.box.max[0], plate.box.max[0]) - Math.max(lane.box.min[0], plate.box.min[0]));
    const dy = Math.max(0, Math.min(lane.box.max[1], plate.box.max[1]) - Math.max(lane.box.min[1], plate.box.min[1]));
    return [plateId, dx * dy] as const;
  });
  const total = overlaps.reduce((sum, [, a]) => sum + a, 0);
  return new Map(overlaps.map(([id, a]) => [id, total > 0 ? a / total : 1 / overlaps.length]));
}
