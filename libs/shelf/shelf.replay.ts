import { earliestHead, type Recording } from '../recording/index.ts';
import type { ShelfTick } from './shelf.eval.ts';

/**
 * Every shelf's load-cell rows of a recording, merged into one stream in store-clock order (as live
 * devices would deliver them), values in shelf plate order. Streams whose cells are not in the shelf's
 * plate order are reordered.
 */
export async function* recordingShelfTicks(recording: Recording): AsyncGenerator<ShelfTick> {
  const streams = recording.manifest.streams.loadCells.map((stream) => {
    const plates = recording.index.shelves.get(stream.shelfId)?.shelf.plates ?? [];
    const wanted = plates.map((p) => recording.index.loadCellByPlate.get(p.id)?.id);
    const order = wanted.map((id) => stream.loadCellIds.indexOf(id ?? ''));
    const inOrder = order.length === stream.loadCellIds.length && order.every((o, i) => o === i);
    return { stream, order, inOrder, rows: recording.loadCellRows(stream) };
  });
  const heads = await Promise.all(streams.map((s) => s.rows.next()));
  for (;;) {
    const best = earliestHead(heads);
    if (best < 0) return;
    const s = streams[best];
    const { ts, grams } = heads[best].value as { ts: number; grams: Float64Array };
    yield {
      shelfId: s.stream.shelfId,
      ts,
      grams: s.inOrder ? grams : Float64Array.from(s.order, (o) => (o >= 0 ? grams[o] : Number.NaN)),
    };
    heads[best] = await s.rows.next();
  }
}
