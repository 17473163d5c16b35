import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../contracts/index.ts';
import { RecordingWriter } from '../recording/index.ts';
import { IssueLog, listPlateFiles, noCounts, readProducts, surveyPlate, writeShelfSamples, ids, type PlateSurvey, type PlatesImportReport } from '../shelf/plates.import.ts';
import { findCameraVideos, transcodeVideo, type CameraVideo } from './camera-video.import.ts';
import { readStoreMeta, type StoreMeta } from './store-meta.reader.ts';
import { storeFromMeta } from './store-meta.store.ts';
import { detectUnits, type LengthUnit, type StoreMetaUnits } from './store-meta.units.ts';

/**
 * A store of the AutoCheckout competition layout into a walkout recording: the store from
 * `store_meta`, the load cells' samples from the per-plate weight files (read exactly as
 * `import plates` reads them), and each camera's video re-encoded with the time of every frame.
 *
 *   <folder>/store_meta/   Gondolas.json, Shelves.json, Plates.json, calibration.json, camera_mapping.json
 *   <folder>/plates/       gondola_{g}_shelf_{s}_plate_{p}.csv (optional)
 *   <folder>/videos/       <camera IP>_<UTC start>.<ext>, one per camera (optional)
 */

export const AUTOCHECKOUT_FOLDERS = { storeMeta: 'store_meta', plates: 'plates', videos: 'videos' } as const;

export interface AutocheckoutImportOptions {
  folder: string;
  productsCsv: string;
  out: string;
  storeId?: string;
  units?: { calibration?: LengthUnit; layout?: LengthUnit };
  onFile?: (file: string) => void;
}

export interface AutocheckoutStore {
  meta: StoreMeta;
  units: StoreMetaUnits;
  store: Store;
  notes: string[];
}

/** What `import plates` reports (but true actions: the layout has no truth), and what the layout adds. */
export interface AutocheckoutImportReport extends Omit<PlatesImportReport, 'actions'> {
  lanes: number;
  cameras: number;
  units: { calibration: string; layout: string };
  notes: string[];
  videos: Array<{ cameraId: string; file: string; frames: number; fps: number; startMs: number }>;
}

const optionalFolder = (folder: string, name: string) => {
  const inside = path.join(folder, name);
  return existsSync(inside) ? inside : undefined;
};

/** The store alone (no weights, no video): what `--overlay` draws and the checks read. */
export async function readAutocheckoutStore(opts: Pick<AutocheckoutImportOptions, 'folder' | 'productsCsv' | 'storeId' | 'units'>, log = new IssueLog(), extra: { meta?: StoreMeta; surveys?: PlateSurvey[]; videos?: CameraVideo[] } = {}): Promise<AutocheckoutStore> {
  const meta = extra.meta ?? (await readStoreMeta(path.join(opts.folder, AUTOCHECKOUT_FOLDERS.storeMeta)));
  const units = detectUnits(meta, opts.units);
  const plates = new Set(meta.plates.map((p) => ids.plate(p.gondola, p.shelf, p.plate)));
  const products = await readProducts(
    opts.productsCsv,
    (gondola, shelf, plate) => (plates.has(ids.plate(gondola, shelf, plate)) ? undefined : `Plates.json has no plate ${plate} on gondola ${gondola} shelf ${shelf}`),
    log.report,
  );
  const { store, notes } = storeFromMeta(meta, units, products, {
    storeId: opts.storeId,
    surveys: new Map((extra.surveys ?? []).map((s) => [ids.plate(s.gondola, s.shelf, s.plate), s])),
    videos: new Map((extra.videos ?? []).map((v) => [v.camera.sourceId, { width: v.info.width, height: v.info.height, fps: v.info.fps }])),
  });
  return { meta, units, store, notes: [units.calibration.reason, units.layout.reason, ...units.notes, ...notes] };
}

/** The weight files of plates the layout has; a file of another plate is an error and left out. */
async function surveyWeights(folder: string | undefined, meta: StoreMeta, log: IssueLog, counts: ReturnType<typeof noCounts>, onFile?: (file: string) => void): Promise<PlateSurvey[]> {
  if (!folder) return [];
  const known = new Set(meta.plates.map((p) => ids.plate(p.gondola, p.shelf, p.plate)));
  const surveys: PlateSurvey[] = [];
  for (const plateFile of await listPlateFiles(folder, log.report)) {
    if (!known.has(ids.plate(plateFile.gondola, plateFile.shelf, plateFile.plate))) {
      log.report({ file: plateFile.file, line: 1, severity: 'error', message: `Plates.json has no plate ${plateFile.plate} on gondola ${plateFile.gondola} shelf ${plateFile.shelf}: file left out` });
      continue;
    }
    onFile?.(plateFile.file);
    const survey = await surveyPlate(plateFile, log.report, counts);
    if (survey) surveys.push(survey);
  }
  return surveys;
}

export async function importAutocheckout(opts: AutocheckoutImportOptions): Promise<AutocheckoutImportReport> {
  const log = new IssueLog();
  const counts = noCounts();
  const meta = await readStoreMeta(path.join(opts.folder, AUTOCHECKOUT_FOLDERS.storeMeta));
  const surveys = await surveyWeights(optionalFolder(opts.folder, AUTOCHECKOUT_FOLDERS.plates), meta, log, counts, opts.onFile);
  const videosFolder = optionalFolder(opts.folder, AUTOCHECKOUT_FOLDERS.videos);
  const videos = videosFolder ? await findCameraVideos(videosFolder, meta.cameras) : [];
  const imported = await readAutocheckoutStore(opts, log, { meta, surveys, videos });
  const { store } = imported;
  const writer = await RecordingWriter.create(opts.out, store, { kind: 'import', detail: `walkout import autocheckout ${opts.folder}` });
  const span = surveys.length > 0 ? await writeShelfSamples(writer, store, surveys, log.report) : { ticks: 0, startMs: Infinity, endMs: -Infinity };
  const written: AutocheckoutImportReport['videos'] = [];
  for (const video of videos) {
    const cameraId = `cam-${video.camera.sourceId.toLowerCase()}`;
    opts.onFile?.(video.file);
    const stream = writer.camera(cameraId, video.info.fps);
    const frames = await transcodeVideo(video, stream.videoPath);
    for (let index = 0; index < frames; index++) stream.frame(video.startMs + Math.round((index * 1000) / video.info.fps));
    span.startMs = Math.min(span.startMs, video.startMs);
    span.endMs = Math.max(span.endMs, video.startMs + Math.round(((frames - 1) * 1000) / video.info.fps));
    written.push({ cameraId, file: video.file, frames, fps: video.info.fps, startMs: video.startMs });
  }
  // A store without a stream still makes a recording (its store alone), over an empty span.
  const range = Number.isFinite(span.startMs) ? { startMs: span.startMs, endMs: span.endMs } : { startMs: 0, endMs: 0 };
  await writer.close(range);
  if (surveys.length === 0 && videos.length === 0 && log.errors === 0) imported.notes.push(`no ${AUTOCHECKOUT_FOLDERS.plates}/ or ${AUTOCHECKOUT_FOLDERS.videos}/ in ${opts.folder}: the recording holds the store only`);
  const shelves = store.layout.gondolas.flatMap((g) => g.shelves);
  return {
    storeId: store.id,
    gondolas: store.layout.gondolas.length,
    shelves: shelves.length,
    plates: shelves.reduce((n, s) => n + s.plates.length, 0),
    lanes: shelves.reduce((n, s) => n + s.lanes.length, 0),
    products: store.planogram.products.length,
    cameras: store.cameras.length,
    units: { calibration: imported.units.calibration.unit, layout: imported.units.layout.unit },
    notes: imported.notes,
    videos: written,
    ticks: span.ticks,
    rowsAccepted: counts.accepted,
    rowsRejected: counts.rejected,
    rowsReordered: counts.reordered,
    ...range,
    errors: log.errors,
    warnings: log.warnings,
    ...(log.firstError ? { firstError: log.firstError } : {}),
    issues: log.issues,
  };
}

