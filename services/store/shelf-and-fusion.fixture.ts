import type { TestContext } from 'node:test';
import { SCHEMA_VERSION, type ShelfSamplesRecorded, type StoreIndex, type TopicName, type Vec3 } from '../../libs/contracts/index.ts';
import { ManualClock } from '../../libs/clock/clock.ts';
import { plateStockGrams, simulateShelfLoadCells, type PlateLoadChange } from '../../libs/sim/loadcell.sim.ts';
import { collectingBus } from '../../libs/testing/service.fixtures.ts';
import { createFusionService } from '../fusion/fusion.service.ts';
import { createShelfService } from '../shelf/shelf.service.ts';

/**
 * The shelf and fusion services on one in-process bus, as the store runs them, for tests of what
 * passes between them: two shoppers' visits, v-a and v-b, bound at `startMs` to tracks track-a and
 * track-b, and the load cells of a shelf as the bus carries them.
 */

/** The services started (stopped when the test ends), the visits begun, and the bus collecting `watched`. */
export async function shelfAndFusion<const T extends TopicName>(t: TestContext, index: StoreIndex, startMs: number, watched: readonly T[]) {
  const { bus, messages } = await collectingBus(t, watched);
  const shelf = createShelfService({ index, bus, clock: new ManualClock(startMs) });
  const fusion = createFusionService({ index, bus });
  await shelf.start();
  await fusion.start();
  t.after(async () => {
    await shelf.stop();
    await fusion.stop();
  });
  for (const visitId of ['v-a', 'v-b']) {
    const base = { schemaVersion: SCHEMA_VERSION, storeId: index.store.id, ts: startMs, visitId };
    await bus.publish('visit.started', { ...base, eventId: `started-${visitId}`, kind: 'shopper', partySize: 1 });
    await bus.publish('visit.track-bound', { ...base, eventId: `bound-${visitId}`, trackId: `track-${visitId.slice(2)}`, member: 0, reason: 'entry' });
  }
  return { bus, messages, shelf, fusion };
}

/** A shelf's simulated load cells from `startMs` to `endMs` with the given changes, six samples a message per cell. */
export function shelfSampleMessages(index: StoreIndex, shelfId: string, changes: PlateLoadChange[], startMs: number, endMs: number): ShelfSamplesRecorded[] {
  const cells = index.shelves.get(shelfId)!.shelf.plates.map((p) => index.loadCellByPlate.get(p.id)!.id);
  const out: ShelfSamplesRecorded[] = [];
  const batches = cells.map(() => [] as Array<[number, number]>);
  for (const tick of simulateShelfLoadCells({ index, shelfId, startMs, endMs, initialGrams: plateStockGrams(index, shelfId), changes, seed: 2 }))
    cells.forEach((cell, c) => {
      batches[c].push([tick.ts, Math.round(tick.grams[c] * 10) / 10]);
      if (batches[c].length === 6)
        out.push({ schemaVersion: SCHEMA_VERSION, eventId: `s-${cell}-${batches[c][0][0]}`, storeId: index.store.id, ts: batches[c][0][0], shelfId, loadCellId: cell, samples: batches[c].splice(0) });
    });
  return out;
}

/** A wrist inside a lane, near its front and bottom. */
export function wristInLane(index: StoreIndex, laneId: string): Vec3 {
  const box = index.lanes.get(laneId)!.lane.box;
  return [box.max[0] - 0.06, (box.min[1] + box.max[1]) / 2, box.min[2] + 0.07];
}
