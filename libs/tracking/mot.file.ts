import { readLines, recordingError } from '../recording/index.ts';
import { boxDistances, floorDistances, type MotFrame, type PixelBox } from './mot.eval.ts';

/**
 * MOTChallenge text files (the 2D MOT 2015 layout, also what MOT16/17 ground truth and tracker
 * outputs use): one detection a line, `frame,id,x,y,w,h,conf,wx,wy,wz`, frames 1-based, the box in
 * pixels (left, top, width, height), then a confidence and, in MOT 2015, the position in the world
 * (`wx,wy,wz`, -1 when not given). Only the first six columns are required, unless the world
 * position is asked for (floor-plane matching). Every error names the file and the line.
 */

export interface MotRow {
  frame: number;
  id: number;
  box: PixelBox;
  /** World position on the floor (columns 8 and 9), when asked for. */
  floor?: readonly [number, number];
  line: number;
}

export interface MotSequence {
  file: string;
  /** Rows grouped by frame, frames in increasing order. */
  frames: Map<number, MotRow[]>;
}

const BOX_COLUMNS = 6;
const WORLD_COLUMNS = 9;
/** MOTChallenge writes -1 in every unused column. */
const UNSET = -1;

export async function readMotFile(file: string, options: { floor?: boolean } = {}): Promise<MotSequence> {
  const frames = new Map<number, MotRow[]>();
  const lineOf = new Map<string, number>();
  for await (const [line, text] of readLines(file)) {
    if (text.trim() === '') continue;
    const row = parseRow(file, line, text, options.floor === true);
    const key = `${row.frame}/${row.id}`;
    const earlier = lineOf.get(key);
    if (earlier !== undefined) throw recordingError(file, line, `id ${row.id} appears twice in frame ${row.frame} (first on line ${earlier})`);
    lineOf.set(key, line);
    const rows = frames.get(row.frame) ?? [];
    rows.push(row);
    frames.set(row.frame, rows);
  }
  return { file, frames: new Map([...frames].sort((a, b) => a[0] - b[0])) };
}

function parseRow(file: string, line: number, text: string, floor: boolean): MotRow {
  const fields = text.split(',').map((f) => f.trim());
  const needed = floor ? WORLD_COLUMNS : BOX_COLUMNS;
  if (fields.length < needed)
    throw recordingError(
      file,
      line,
      `${fields.length} columns, expected at least ${needed} (frame,id,x,y,w,h${floor ? ',conf,wx,wy: floor matching reads the world position in columns 8 and 9' : ''})`,
    );
  const numbers = fields.slice(0, needed).map((f, i) => {
    const n = f === '' ? Number.NaN : Number(f);
    if (!Number.isFinite(n)) throw recordingError(file, line, `column ${i + 1} (${COLUMN_NAMES[i]}) is not a number: ${JSON.stringify(f)}`);
    return n;
  });
  const [frame, id, x, y, width, height] = numbers;
  if (!Number.isInteger(frame) || frame < 1) throw recordingError(file, line, `frame must be a whole number from 1 (frames are 1-based), got ${fields[0]}`);
  if (!Number.isInteger(id)) throw recordingError(file, line, `id must be a whole number, got ${fields[1]}`);
  if (width < 0 || height < 0) throw recordingError(file, line, `the box has a negative ${width < 0 ? 'width' : 'height'} (${width < 0 ? fields[4] : fields[5]})`);
  const row: MotRow = { frame, id, box: [x, y, width, height], line };
  if (floor) {
    const [wx, wy, wz] = [numbers[7], numbers[8], fields[9] === undefined ? UNSET : Number(fields[9])];
    if (wx === UNSET && wy === UNSET && wz === UNSET)
      throw recordingError(file, line, 'no world position (columns 8 to 10 are -1): floor matching needs one on every line');
    row.floor = [wx, wy];
  }
  return row;
}

const COLUMN_NAMES = ['frame', 'id', 'x', 'y', 'w', 'h', 'conf', 'wx', 'wy'];

/** How pairs are measured: 1 - IoU of the boxes, or metres between world positions on the floor. */
export type MotMatching = { by: 'iou'; maxDistance: number } | { by: 'floor'; maxM: number };

/**
 * The frames of a ground truth and a tracker output, paired: every frame either has a row in, in
 * order (a frame with neither is not scored: nothing can happen in it).
 */
export function* pairFrames(truth: MotSequence, tracks: MotSequence, matching: MotMatching): Generator<MotFrame> {
  const numbers = [...new Set([...truth.frames.keys(), ...tracks.frames.keys()])].sort((a, b) => a - b);
  for (const frame of numbers) {
    const objects = truth.frames.get(frame) ?? [];
    const hypotheses = tracks.frames.get(frame) ?? [];
    const distances =
      matching.by === 'iou'
        ? boxDistances(objects.map((r) => r.box), hypotheses.map((r) => r.box), matching.maxDistance)
        : floorDistances(objects.map((r) => r.floor!), hypotheses.map((r) => r.floor!), matching.maxM);
    yield { objects: objects.map((r) => r.id), hypotheses: hypotheses.map((r) => r.id), distances };
  }
}
