import { SCHEMA_VERSION, WalkoutError, type CameraFrameCaptured, type GateLine, type PeopleTracked, type topics } from '../contracts/index.ts';
import type { Bus } from '../bus/index.ts';
import type { Recording } from '../recording/index.ts';
import { recordingShelfTicks } from '../shelf/shelf.replay.ts';

/**
 * Replay is just another source: a recording's gate events, load-cell samples and (for the cameras
 * asked for) camera frames go onto the same topics, in the same shape, as live devices send them,
 * in store-time order. Load cells are batched per cell the way a shelf controller would (BATCH_MS
 * of samples per message); a frame goes as a reference into the recording's video, never as pixels.
 */
export const BATCH_MS = 100;

export interface ReplayStats {
  samples: number;
  sampleMessages: number;
  gateMessages: number;
  frameMessages: number;
  peopleMessages: number;
  firstMs: number;
  lastMs: number;
}

export async function replayRecording(
  recording: Recording,
  bus: Pick<Bus<typeof topics>, 'publish'>,
  options: {
    /** Called as the replay reaches each sample batch's time, store clock; the replay waits for it (what it publishes comes before the batch). */
    onProgress?: (ts: number) => void | Promise<void>;
    /** Cameras whose frames to publish as `camera.frame-captured` (none unless named). */
    cameras?: readonly string[];
    /**
     * People to publish as `tracking.people-tracked` in place of the camera stage (the recording's
     * true skeletons, say), each instant `lagMs` after it happened, as the tracker publishes them.
     */
    people?: { instants: AsyncIterable<PeopleTracked>; lagMs: number };
  } = {},
): Promise<ReplayStats> {
  const { index } = recording;
  const storeId = recording.manifest.storeId;
  const stats: ReplayStats = { samples: 0, sampleMessages: 0, gateMessages: 0, frameMessages: 0, peopleMessages: 0, firstMs: Infinity, lastMs: -Infinity };
  // Gate events and frames are read as they come due, like every other stream (never the whole file
  // at once), by hand: the finally below closes them however the replay ends, or a refused recording
  // would leave its files open.
  const frames = await cameraFrames(recording, options.cameras ?? []);
  const gates = recording.gateLines();
  let nextGate: IteratorResult<GateLine>;
  const people = options.people && { lagMs: options.people.lagMs, instants: options.people.instants[Symbol.asyncIterator]() };
  let nextPeople: IteratorResult<PeopleTracked> | undefined;
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
    while (!nextGate.done && nextGate.value.message.ts <= ts) {
      const line = nextGate.value;
      await bus.publish(line.topic, line.message as never);
      stats.gateMessages++;
      nextGate = await gates.next();
    }
    stats.frameMessages += await frames.publishUpTo(ts, (message) => bus.publish('camera.frame-captured', message));
    while (people && nextPeople && !nextPeople.done && nextPeople.value.ts + people.lagMs <= ts) {
      await bus.publish('tracking.people-tracked', nextPeople.value);
      stats.peopleMessages++;
      nextPeople = await people.instants.next();
    }
  };

  try {
    nextGate = await gates.next();
    nextPeople = await people?.instants.next();
    for await (const tick of recordingShelfTicks(recording)) {
      if (tick.ts - batchStart >= BATCH_MS) {
        await flushSamples();
        batchStart = tick.ts;
        await options.onProgress?.(tick.ts);
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
  } catch (error) {
    // A bad row further on in the recording does not take back the samples read before it.
    if (error instanceof WalkoutError && error.code === 'RECORDING_INVALID') await flushSamples();
    throw error;
  } finally {
    await gates.return(undefined);
    await frames.close();
    await people?.instants.return?.(undefined);
  }
}

/**
 * The frames of some cameras of a recording, merged into one store-time order, read as they go. Every
 * camera is checked before any file is opened; `close` closes the files opened.
 */
async function cameraFrames(recording: Recording, cameraIds: readonly string[]) {
  const storeId = recording.manifest.storeId;
  const streams = cameraIds.map((cameraId) => {
    const stream = recording.manifest.streams.cameras.find((c) => c.cameraId === cameraId);
    if (!stream)
      throw new WalkoutError(
        'USAGE',
        `${recording.dir} has no video of camera ${cameraId} (it has ${recording.manifest.streams.cameras.map((c) => c.cameraId).join(', ') || 'none'})`,
      );
    return stream;
  });
  const heads: Array<{
    stream: Recording['manifest']['streams']['cameras'][number];
    times: AsyncGenerator<{ frameIndex: number; ts: number }>;
    next: IteratorResult<{ frameIndex: number; ts: number }>;
  }> = [];
  const close = async () => {
    for (const head of heads) await head.times.return(undefined);
  };
  try {
    for (const stream of streams) {
      const times = recording.frameTimes(stream.cameraId);
      heads.push({ stream, times, next: await times.next() });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return {
    /** Publishes every frame at or before ts, earliest first; how many it published. */
    async publishUpTo(ts: number, publish: (message: CameraFrameCaptured) => Promise<void>): Promise<number> {
      let published = 0;
      for (;;) {
        let earliest: (typeof heads)[number] | undefined;
        for (const head of heads) if (!head.next.done && head.next.value.ts <= ts && (!earliest || head.next.value.ts < earliest.next.value!.ts)) earliest = head;
        if (!earliest || earliest.next.done) return published;
        const { frameIndex, ts: at } = earliest.next.value;
        const { cameraId, video } = earliest.stream;
        await publish({
          schemaVersion: SCHEMA_VERSION,
          eventId: `replay-${cameraId}-${frameIndex}`,
          storeId,
          ts: at,
          cameraId,
          frameIndex,
          frame: { recording: recording.dir, file: video, index: frameIndex },
        });
        published++;
        earliest.next = await earliest.times.next();
      }
    },
    close,
  };
}
