import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ActionTruth,
  FramePoseTruth,
  GateLine,
  ReceiptTruth,
  RecordingManifest,
  RECORDING_FORMAT,
  RECORDING_VERSION,
  SkeletonTruth,
  VisitTruth,
  describeIssues,
  indexStore,
  loadStore,
  WalkoutError,
  type CameraStream,
  type LoadCellStream,
  type Store,
  type StoreIndex,
} from '../contracts/index.ts';
import { readJsonLines, readNumericCsv, recordingError } from './lines.reader.ts';
import type { z } from 'zod';

/** A recording opened for reading: the manifest and store are loaded; every stream is read lazily. */
export interface Recording {
  dir: string;
  manifest: RecordingManifest;
  store: Store;
  index: StoreIndex;
  loadCellRows(stream: z.infer<typeof LoadCellStream>): AsyncGenerator<{ ts: number; grams: Float64Array }>;
  frameTimes(cameraId: string): AsyncGenerator<{ frameIndex: number; ts: number }>;
  videoPath(cameraId: string): string;
  gateLines(): AsyncGenerator<GateLine>;
  truthSkeletons(): AsyncGenerator<SkeletonTruth>;
  truthPoses(cameraId: string): AsyncGenerator<FramePoseTruth>;
  truthVisits(): AsyncGenerator<VisitTruth>;
  truthActions(): AsyncGenerator<ActionTruth>;
  truthReceipts(): AsyncGenerator<ReceiptTruth>;
}

async function* nothing<T>(): AsyncGenerator<T> {}

export async function readManifest(dir: string): Promise<RecordingManifest> {
  const file = path.join(dir, 'manifest.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new WalkoutError('RECORDING_NOT_FOUND', `${file} is missing: is ${dir} a finished recording?`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw recordingError(file, 1, `not JSON: ${(cause as Error).message}`, cause);
  }
  const probe = json as { format?: unknown; version?: unknown };
  if (probe?.format === RECORDING_FORMAT && probe.version !== RECORDING_VERSION)
    throw new WalkoutError(
      'RECORDING_INVALID',
      `${file}: format version ${String(probe.version)} is not one this reader knows (it reads ${RECORDING_VERSION})`,
    );
  const parsed = RecordingManifest.safeParse(json);
  if (!parsed.success) throw new WalkoutError('RECORDING_INVALID', describeIssues(parsed.error, file), { details: parsed.error.issues });
  return parsed.data;
}

export async function openRecording(dir: string): Promise<Recording> {
  const manifest = await readManifest(dir);
  const store = await loadStore(path.join(dir, manifest.store));
  if (store.id !== manifest.storeId)
    throw new WalkoutError('RECORDING_INVALID', `${dir}: manifest says store ${manifest.storeId} but ${manifest.store} is ${store.id}`);
  const index = indexStore(store);
  const at = (relative: string) => path.join(dir, relative);
  const camera = (cameraId: string): z.infer<typeof CameraStream> => {
    const stream = manifest.streams.cameras.find((c) => c.cameraId === cameraId);
    if (!stream) throw new WalkoutError('RECORDING_NOT_FOUND', `${dir} has no video for camera ${cameraId}`);
    return stream;
  };
  const truth = <S extends z.ZodType>(relative: string | undefined, schema: S) =>
    relative ? readJsonLines(at(relative), schema) : nothing<z.infer<S>>();

  return {
    dir,
    manifest,
    store,
    index,
    async *loadCellRows(stream) {
      const file = at(stream.file);
      const expected = ['ts_ms', ...stream.loadCellIds];
      let previous = -Infinity;
      let line = 1;
      for await (const row of readNumericCsv(file, (header) =>
        header.join(',') === expected.join(',') ? null : `header should be "${expected.join(',')}", found "${header.join(',')}"`,
      )) {
        line++;
        const ts = row[0];
        if (ts < previous) throw recordingError(file, line, `time goes backwards (${ts} after ${previous})`);
        previous = ts;
        yield { ts, grams: row.subarray(1) };
      }
    },
    async *frameTimes(cameraId) {
      const file = at(camera(cameraId).frames);
      let expectedIndex = 0;
      for await (const row of readNumericCsv(file, (h) => (h.join(',') === 'frame_index,ts_ms' ? null : 'header should be "frame_index,ts_ms"'))) {
        if (row[0] !== expectedIndex) throw recordingError(file, expectedIndex + 2, `frame index ${row[0]} where ${expectedIndex} was expected`);
        expectedIndex++;
        yield { frameIndex: row[0], ts: row[1] };
      }
    },
    videoPath: (cameraId) => at(camera(cameraId).video),
    gateLines: () => truth(manifest.streams.gates, GateLine),
    truthSkeletons: () => truth(manifest.truth.skeletons, SkeletonTruth),
    truthPoses: (cameraId) => truth(manifest.truth.poses?.[cameraId], FramePoseTruth),
    truthVisits: () => truth(manifest.truth.visits, VisitTruth),
    truthActions: () => truth(manifest.truth.actions, ActionTruth),
    truthReceipts: () => truth(manifest.truth.receipts, ReceiptTruth),
  };
}

/** Collects an async generator into an array (for small streams such as visits and receipts). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
