import { SCHEMA_VERSION, type topics } from '../contracts/index.ts';
import type { Bus } from '../bus/index.ts';
import { collect, type Recording } from '../recording/index.ts';
import { recordingShelfTicks } from '../shelf/shelf.replay.ts';

/**
 * Replay is just another source: a recording's gate events and load-cell samples go onto the same
 * topics, in the same shape, as live devices send them. Load cells are batched per cell the way a
 * shelf controller would (BATCH_MS of samples per message).
 */
export const BATCH_MS = 100;

export interface ReplayStats {
  samples: number;
  sampleMessages: number;
  gateMessages: number;
  firstMs: number;
  lastMs: number;
}

export async function replayRecording(
  recording: Recording,
  bus: Pick<Bus<typeof topics>, 'publish'>,
  options: { onProgress?: (ts: number) => void } = {},
): Promise<ReplayStats> {
  const { index } = recording;
  const storeId = recording.manifest.storeId;
  const gates = await collect(recording.gateLines());
  let nextGate = 0;
  const stats: ReplayStats = { samples: 0, sampleMessages: 0, gateMessages: 0, firstMs: Infinity, lastMs: -Infinity };
  const pending = new Map<string, { shelfId: string; samples: Array<[number, number]> }>();
  let batchStart = -Infinity;

  const flushSamples = async () => {
    const sends: Promise<void>[] = [];
    for (const [loadCellId, batch] of pending) {
      if (batch.samples.length === 0) continue;
      const first = batch.samples[0][0];
      sends.push(
        bus.publish('shelf.samples-recorded', {
          schemaVersion: SCHEMA_VERSION,
          eventId: `replay-${loadCellId}-${first}`,
          storeId,
          ts: first,
          shelfId: batch.shelfId,
          loadCellId,
          samples: batch.samples,
        }),
      );
      stats.sampleMessages++;
      batch.samples = [];
    }
    await Promise.all(sends);
  };
  const publishGatesUpTo = async (ts: number) => {
    while (nextGate < gates.length && gates[nextGate].message.ts <= ts) {
      const line = gates[nextGate++];
      await bus.publish(line.topic, line.message as never);
      stats.gateMessages++;
    }
  };

  for await (const tick of recordingShelfTicks(recording)) {
    if (tick.ts - batchStart >= BATCH_MS) {
      await flushSamples();
      batchStart = tick.ts;
      options.onProgress?.(tick.ts);
    }
    await publishGatesUpTo(tick.ts);
    const plates = index.shelves.get(tick.shelfId)!.shelf.plates;
    plates.forEach((plate, i) => {
      const cellId = index.loadCellByPlate.get(plate.id)!.id;
      let batch = pending.get(cellId);
      if (!batch) pending.set(cellId, (batch = { shelfId: tick.shelfId, samples: [] }));
      batch.samples.push([tick.ts, tick.grams[i]]);
    });
    stats.samples += plates.length;
    stats.firstMs = Math.min(stats.firstMs, tick.ts);
    stats.lastMs = Math.max(stats.lastMs, tick.ts);
  }
  await flushSamples();
  await publishGatesUpTo(Infinity);
  return stats;
}
