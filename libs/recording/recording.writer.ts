import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  RECORDING_FORMAT,
  RECORDING_VERSION,
  RecordingManifest,
  type ActionTruth,
  type FramePoseTruth,
  type GateLine,
  type ReceiptTruth,
  type SkeletonTruth,
  type Store,
  type VisitTruth,
} from '../contracts/index.ts';
import { describeIssues, WalkoutError } from '../contracts/index.ts';
import { JsonLinesWriter, LineWriter } from './lines.writer.ts';

/**
 * Writes a recording folder stream by stream; `close` writes manifest.json last, so a folder without
 * a manifest is an unfinished recording and readers refuse it.
 */

const GRAMS_DECIMALS = 1; // load cells resolve about 0.1 g; more digits would only bloat the files

export interface LoadCellStreamWriter {
  write(ts: number, grams: ArrayLike<number>): void;
}

export interface CameraStreamWriter {
  /** Where the video goes; the caller's encoder writes it. */
  videoPath: string;
  /** Records the store-clock time of the next frame written to the video. */
  frame(ts: number): void;
}

export class RecordingWriter {
  private readonly files: Array<LineWriter | JsonLinesWriter<unknown>> = [];
  private readonly cameraStreams: RecordingManifest['streams']['cameras'] = [];
  private readonly loadCellStreams: RecordingManifest['streams']['loadCells'] = [];
  private readonly cameraFrameCounts = new Map<string, () => number>();
  private gatesFile?: JsonLinesWriter<GateLine>;
  private readonly truthFiles: RecordingManifest['truth'] = {};
  readonly truth: {
    skeletons: JsonLinesWriter<SkeletonTruth>;
    visits: JsonLinesWriter<VisitTruth>;
    actions: JsonLinesWriter<ActionTruth>;
    receipts: JsonLinesWriter<ReceiptTruth>;
  };

  private constructor(
    readonly dir: string,
    readonly store: Store,
    private readonly source: RecordingManifest['source'],
    private readonly options: { compressLoadCells: boolean },
  ) {
    this.truth = {
      skeletons: this.jsonLines('truth/skeletons.jsonl', (p) => (this.truthFiles.skeletons = p)),
      visits: this.jsonLines('truth/visits.jsonl', (p) => (this.truthFiles.visits = p)),
      actions: this.jsonLines('truth/actions.jsonl', (p) => (this.truthFiles.actions = p)),
      receipts: this.jsonLines('truth/receipts.jsonl', (p) => (this.truthFiles.receipts = p)),
    };
  }

  static async create(
    dir: string,
    store: Store,
    source: RecordingManifest['source'],
    options: { compressLoadCells?: boolean } = {},
  ): Promise<RecordingWriter> {
    await mkdir(path.join(dir, 'truth', 'poses'), { recursive: true });
    await mkdir(path.join(dir, 'cameras'), { recursive: true });
    await mkdir(path.join(dir, 'loadcells'), { recursive: true });
    await writeFile(path.join(dir, 'store.json'), `${JSON.stringify(store, null, 2)}\n`);
    return new RecordingWriter(dir, store, source, { compressLoadCells: options.compressLoadCells ?? false });
  }

  private jsonLines<T>(relative: string, register: (p: string) => void): JsonLinesWriter<T> {
    register(relative);
    const writer = new JsonLinesWriter<T>(path.join(this.dir, relative));
    this.files.push(writer as JsonLinesWriter<unknown>);
    return writer;
  }

  loadCells(shelfId: string, loadCellIds: string[], sampleRateHz: number): LoadCellStreamWriter {
    const relative = `loadcells/${shelfId}.csv${this.options.compressLoadCells ? '.gz' : ''}`;
    const lines = new LineWriter(path.join(this.dir, relative));
    this.files.push(lines);
    lines.write(['ts_ms', ...loadCellIds].join(','));
    this.loadCellStreams.push({ shelfId, file: relative, loadCellIds, sampleRateHz });
    return {
      write(ts, grams) {
        let line = String(ts);
        for (let i = 0; i < grams.length; i++) line += `,${grams[i].toFixed(GRAMS_DECIMALS)}`;
        lines.write(line);
      },
    };
  }

  camera(cameraId: string, fps: number): CameraStreamWriter {
    const frames = new LineWriter(path.join(this.dir, `cameras/${cameraId}.frames.csv`));
    this.files.push(frames);
    frames.write('frame_index,ts_ms');
    let index = 0;
    this.cameraStreams.push({ cameraId, video: `cameras/${cameraId}.mp4`, frames: `cameras/${cameraId}.frames.csv`, fps, frameCount: 0 });
    this.cameraFrameCounts.set(cameraId, () => index);
    return {
      videoPath: path.join(this.dir, `cameras/${cameraId}.mp4`),
      frame(ts) {
        frames.write(`${index},${ts}`);
        index++;
      },
    };
  }

  poses(cameraId: string): JsonLinesWriter<FramePoseTruth> {
    const relative = `truth/poses/${cameraId}.jsonl`;
    const writer = this.jsonLines<FramePoseTruth>(relative, () => {
      this.truthFiles.poses = { ...this.truthFiles.poses, [cameraId]: relative };
    });
    return writer;
  }

  gates(): JsonLinesWriter<GateLine> {
    this.gatesFile ??= this.jsonLines<GateLine>('gates.jsonl', () => {});
    return this.gatesFile;
  }

  /** Waits until every file has taken what was written so far (call now and then in long loops). */
  async settle(): Promise<void> {
    await Promise.all(this.files.map((f) => f.settle()));
  }

  async close(range: { startMs: number; endMs: number }): Promise<RecordingManifest> {
    await Promise.all(this.files.map((f) => f.close()));
    const manifest = {
      format: RECORDING_FORMAT,
      version: RECORDING_VERSION,
      storeId: this.store.id,
      store: 'store.json',
      startMs: range.startMs,
      endMs: range.endMs,
      source: this.source,
      streams: {
        cameras: this.cameraStreams.map((c) => ({ ...c, frameCount: this.cameraFrameCounts.get(c.cameraId)!() })),
        loadCells: this.loadCellStreams,
        ...(this.gatesFile ? { gates: 'gates.jsonl' } : {}),
      },
      truth: this.truthFiles,
    };
    const parsed = RecordingManifest.safeParse(manifest);
    if (!parsed.success)
      throw new WalkoutError('RECORDING_INVALID', `refusing to write an invalid manifest:\n${describeIssues(parsed.error, 'manifest.json')}`);
    await writeFile(path.join(this.dir, 'manifest.json'), `${JSON.stringify(parsed.data, null, 2)}\n`);
    return parsed.data;
  }
}
