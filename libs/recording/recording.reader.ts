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
  isStoreClockMs,
  loadStore,
  WalkoutError,
  type CameraStream,
  type LoadCellStream,
  type Store,
  type StoreIndex,
} from '../contracts/index.ts';
import { readNumericCsv } from './csv.reader.ts';
import { readJsonLines, recordingError } from './lines.reader.ts';
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

async function readManifestFile(dir: string): Promise<{ file: string; text: string; manifest: RecordingManifest }> {
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
    throw recordingError(file, 1, `not JSON: ${(cause as Error).message}`, { cause });
  }
  const probe = json as { format?: unknown; version?: unknown };
  if (probe?.format === RECORDING_FORMAT && probe.version !== RECORDING_VERSION)
    throw new WalkoutError(
      'RECORDING_INVALID',
      `${file}: format version ${String(probe.version)} is not one this reader knows (it reads ${RECORDING_VERSION})`,
    );
  const parsed = RecordingManifest.safeParse(json);
  if (!parsed.success) throw new WalkoutError('RECORDING_INVALID', describeIssues(parsed.error, file), { details: parsed.error.issues });
  return { file, text, manifest: parsed.data };
}

/** The line of a manifest that holds a value (its JSON spelling), for messages; 1 when not found. */
function lineOf(text: string, value: string): number {
  const at = text.indexOf(JSON.stringify(value));
  return at < 0 ? 1 : text.slice(0, at).split('\n').length;
}

/**
 * Every load-cell stream of the manifest must be of a shelf the store has, once, and list only cells
 * that sit under that shelf's plates: otherwise its samples would be read against the wrong plates,
 * or against none.
 */
function checkLoadCellStreams(file: string, text: string, manifest: RecordingManifest, index: StoreIndex, storeFile: string): void {
  const seen = new Set<string>();
  manifest.streams.loadCells.forEach((stream, i) => {
    const element = `streams.loadCells[${i}]`;
    const shelf = index.shelves.get(stream.shelfId);
    if (!shelf)
      throw recordingError(file, lineOf(text, stream.shelfId), `shelf "${stream.shelfId}" is not a shelf of ${storeFile} (it has ${[...index.shelves.keys()].join(', ')})`, {
        element: `${element}.shelfId`,
      });
    if (seen.has(stream.shelfId))
      throw recordingError(file, lineOf(text, stream.file), `a second stream for shelf ${stream.shelfId}: one file a shelf`, { element: `${element}.shelfId` });
    seen.add(stream.shelfId);
    const cellsOfShelf = shelf.shelf.plates.map((plate) => index.loadCellByPlate.get(plate.id)?.id);
    stream.loadCellIds.forEach((cellId, j) => {
      if (!cellsOfShelf.includes(cellId))
        throw recordingError(
          file,
          lineOf(text, cellId),
          `load cell "${cellId}" is not under a plate of shelf ${stream.shelfId} in ${storeFile} (its cells: ${cellsOfShelf.join(', ')})`,
          { element: `${element}.loadCellIds[${j}]` },
        );
      if (stream.loadCellIds.indexOf(cellId) !== j)
        throw recordingError(file, lineOf(text, cellId), `load cell "${cellId}" is listed twice`, { element: `${element}.loadCellIds[${j}]` });
    });
  });
}

export async function openRecording(dir: string): Promise<Recording> {
  const { file: manifestFile, text: manifestText, manifest } = await readManifestFile(dir);
  const store = await loadStore(path.join(dir, manifest.store));
  if (store.id !== manifest.storeId)
    throw new WalkoutError('RECORDING_INVALID', `${dir}: manifest says store ${manifest.storeId} but ${manifest.store} is ${store.id}`);
  const index = indexStore(store);
  checkLoadCellStreams(manifestFile, manifestText, manifest, index, manifest.store);
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
      const element = `shelf ${stream.shelfId}`;
      const expected = ['ts_ms', ...stream.loadCellIds];
      const checkHeader = (header: string[]) => {
        const column = expected.findIndex((name, i) => header[i] !== name);
        if (column < 0 && header.length === expected.length) return null;
        if (column < 0) return `the header has ${header.length} columns where manifest.json lists ${expected.length}: header should be "${expected.join(',')}"`;
        return `column ${column + 1} is "${header[column] ?? ''}" in the file but "${expected[column]}" in manifest.json: header should be "${expected.join(',')}"`;
      };
      let previous = -Infinity;
      for await (const { line, values } of readNumericCsv(file, { checkHeader, element })) {
        const ts = values[0];
        if (!isStoreClockMs(ts))
          throw recordingError(file, line, `ts_ms ${ts} is not a store-clock time (whole milliseconds since 1970, 0 to ${Number.MAX_SAFE_INTEGER})`, { element });
        if (ts < previous) throw recordingError(file, line, `time goes backwards (${ts} after ${previous})`, { element });
        previous = ts;
        yield { ts, grams: values.subarray(1) };
      }
    },
    async *frameTimes(cameraId) {
      const stream = camera(cameraId);
      const file = at(stream.frames);
      const element = `camera ${cameraId}`;
      let expectedIndex = 0;
      for await (const { line, values } of readNumericCsv(file, {
        checkHeader: (h) => (h.join(',') === 'frame_index,ts_ms' ? null : 'header should be "frame_index,ts_ms"'),
        element,
        requireRows: stream.frameCount > 0,
      })) {
        if (values[0] !== expectedIndex) throw recordingError(file, line, `frame index ${values[0]} where ${expectedIndex} was expected`, { element });
        if (!isStoreClockMs(values[1]))
          throw recordingError(file, line, `ts_ms ${values[1]} is not a store-clock time (whole milliseconds since 1970, 0 to ${Number.MAX_SAFE_INTEGER})`, { element });
        expectedIndex++;
        yield { frameIndex: values[0], ts: values[1] };
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
