import { stat } from 'node:fs/promises';
import path from 'node:path';
import { openRecording } from './recording.reader.ts';

/** What a recording holds, counted by reading every stream once (so a damaged file shows up here). */
export interface RecordingSummary {
  dir: string;
  storeId: string;
  source: string;
  seconds: number;
  cameras: Array<{ cameraId: string; frames: number; fps: number; videoBytes: number }>;
  loadCells: { shelves: number; cells: number; samples: number };
  gateEvents: { scans: number; openings: number };
  truth: { visits: number; picks: number; puts: number; handOffs: number; drops: number; receipts: number; totalCents: number; skeletonTicks: number };
  bytes: number;
}

export async function summariseRecording(dir: string): Promise<RecordingSummary> {
  const recording = await openRecording(dir);
  const { manifest } = recording;
  let bytes = 0;
  const size = async (relative: string) => {
    try {
      const s = (await stat(path.join(dir, relative))).size;
      bytes += s;
      return s;
    } catch {
      return 0;
    }
  };
  const cameras = [];
  for (const c of manifest.streams.cameras) {
    let frames = 0;
    for await (const _ of recording.frameTimes(c.cameraId)) frames++;
    cameras.push({ cameraId: c.cameraId, frames, fps: c.fps, videoBytes: await size(c.video) });
  }
  let samples = 0;
  let cells = 0;
  for (const stream of manifest.streams.loadCells) {
    cells += stream.loadCellIds.length;
    for await (const row of recording.loadCellRows(stream)) samples += row.grams.length;
    await size(stream.file);
  }
  // Every stream is counted as it is read: a summary of a long recording holds no more than a line.
  const gateEvents = { scans: 0, openings: 0 };
  for await (const gate of recording.gateLines()) {
    if (gate.topic === 'gate.qr-scanned') gateEvents.scans++;
    else gateEvents.openings++;
  }
  const truth = { visits: 0, picks: 0, puts: 0, handOffs: 0, drops: 0, receipts: 0, totalCents: 0, skeletonTicks: 0 };
  for await (const action of recording.truthActions()) {
    if (action.kind === 'pick') truth.picks++;
    else if (action.kind === 'put') truth.puts++;
    else if (action.kind === 'hand-off') truth.handOffs++;
    else truth.drops++;
  }
  for await (const receipt of recording.truthReceipts()) {
    truth.receipts++;
    truth.totalCents += receipt.totalCents;
  }
  for await (const _ of recording.truthSkeletons()) truth.skeletonTicks++;
  for await (const _ of recording.truthVisits()) truth.visits++;
  for (const relative of [manifest.store, manifest.streams.gates, ...Object.values(manifest.truth).flatMap((v) => (typeof v === 'string' ? [v] : Object.values(v ?? {})))])
    if (relative) await size(relative);
  return {
    dir,
    storeId: manifest.storeId,
    source: `${manifest.source.kind}: ${manifest.source.detail}`,
    seconds: (manifest.endMs - manifest.startMs) / 1000,
    cameras,
    loadCells: { shelves: manifest.streams.loadCells.length, cells, samples },
    gateEvents,
    truth,
    bytes,
  };
}

export function formatSummary(s: RecordingSummary): string {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  return [
    `${s.dir}: store ${s.storeId}, ${s.seconds.toFixed(1)} s (${s.source}), ${mb(s.bytes)}`,
    `  cameras: ${s.cameras.length ? s.cameras.map((c) => `${c.cameraId} ${c.frames} frames @ ${c.fps} fps (${mb(c.videoBytes)})`).join(', ') : 'none'}`,
    `  load cells: ${s.loadCells.cells} cells on ${s.loadCells.shelves} shelves, ${s.loadCells.samples} samples`,
    `  gates: ${s.gateEvents.scans} QR scans, ${s.gateEvents.openings} openings`,
    `  truth: ${s.truth.visits} visits, ${s.truth.picks} picks, ${s.truth.puts} puts, ${s.truth.handOffs} hand-offs, ${s.truth.drops} drops, ` +
      `${s.truth.receipts} receipts worth ${(s.truth.totalCents / 100).toFixed(2)}, ${s.truth.skeletonTicks} skeleton ticks`,
  ].join('\n');
}
