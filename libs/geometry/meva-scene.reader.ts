import { access, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { WalkoutError, type Camera, type Vec3 } from '../contracts/index.ts';
import { readKrtdFile, type KrtdOptions } from './krtd.reader.ts';
import type { Pixel } from './lens.ts';

/**
 * Reads a MEVA (KWIVER/TeleSculptor) scene model: one KRTD camera per frame, 3D landmarks in an
 * ASCII PLY file, and the pixels where each landmark was marked in each frame. It is the published
 * reconstruction our camera geometry is checked against, and the shape any real-store calibration
 * exported from those tools will have.
 *
 *   frames.txt      one image path per line; line n is camera index n (1-based)
 *   cameras/*.krtd  calibration for the frames that have one, named after the image
 *   landmarks.ply   x y z ... track_id observations (ASCII PLY, vertex element)
 *   tracks.txt      track_id camera_index x y, then unused fields
 */

export interface Landmark {
  trackId: number;
  /** Position in the scene frame, metres. */
  point: Vec3;
  /** How many frames the landmark was marked in, as the PLY says. */
  observationCount: number;
}

export interface TrackObservation {
  trackId: number;
  /** 1-based line of frames.txt. */
  cameraIndex: number;
  /** Distorted pixel as annotated. */
  pixel: Pixel;
  /** Line in tracks.txt, so a bad annotation can be found and fixed. */
  line: number;
}

export interface MevaScene {
  /** Image paths from frames.txt; frames[i] is camera index i + 1. */
  frames: string[];
  /** Calibrated cameras by camera index; frames without a KRTD file are absent. */
  cameras: Map<number, Camera>;
  landmarks: Map<number, Landmark>;
  observations: TrackObservation[];
}

function malformed(source: string, line: number, what: string): WalkoutError {
  return new WalkoutError('CALIBRATION_INVALID', `${source} line ${line}: ${what}`, { details: { file: source, line } });
}

function numbersOf(source: string, line: number, text: string): number[] {
  return text
    .trim()
    .split(/\s+/)
    .map((token) => {
      const value = Number(token);
      if (!Number.isFinite(value)) throw malformed(source, line, `"${token}" is not a finite number`);
      return value;
    });
}

/**
 * Parses the vertex element of an ASCII PLY file into landmarks. Columns are found by property name,
 * so writers that add or reorder properties still read correctly.
 */
export function parseLandmarksPly(text: string, source: string): Landmark[] {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== 'ply') throw malformed(source, 1, 'not a PLY file (first line is not "ply")');
  let vertexCount = -1;
  const properties: string[] = [];
  let inVertex = false;
  let headerEnd = -1;
  for (let i = 1; i < lines.length; i++) {
    const words = lines[i].trim().split(/\s+/);
    if (words[0] === 'format' && words[1] !== 'ascii') throw malformed(source, i + 1, `only ASCII PLY is supported, found ${words[1]}`);
    if (words[0] === 'element') {
      inVertex = words[1] === 'vertex';
      if (inVertex) {
        vertexCount = Number(words[2]);
        if (!Number.isInteger(vertexCount) || vertexCount < 0) throw malformed(source, i + 1, `bad vertex count "${words[2]}"`);
      } else if (vertexCount < 0) throw malformed(source, i + 1, 'the vertex element must come first');
    }
    if (words[0] === 'property' && inVertex) properties.push(words.at(-1)!);
    if (words[0] === 'end_header') {
      headerEnd = i;
      break;
    }
  }
  if (headerEnd < 0) throw malformed(source, lines.length, 'no end_header line');
  if (vertexCount < 0) throw malformed(source, headerEnd + 1, 'no vertex element');
  const column = (name: string) => {
    const index = properties.indexOf(name);
    if (index < 0) throw malformed(source, headerEnd + 1, `vertex has no "${name}" property`);
    return index;
  };
  const [ix, iy, iz, iTrack, iCount] = ['x', 'y', 'z', 'track_id', 'observations'].map(column);
  const landmarks: Landmark[] = [];
  for (let n = 0; n < vertexCount; n++) {
    const lineNumber = headerEnd + 2 + n;
    const line = lines[lineNumber - 1];
    if (line === undefined || line.trim() === '') throw malformed(source, lineNumber, `expected vertex ${n + 1} of ${vertexCount}`);
    const values = numbersOf(source, lineNumber, line);
    if (values.length !== properties.length)
      throw malformed(source, lineNumber, `vertex needs ${properties.length} values, found ${values.length}`);
    landmarks.push({ trackId: values[iTrack], point: [values[ix], values[iy], values[iz]], observationCount: values[iCount] });
  }
  return landmarks;
}

/** Parses tracks.txt: `track_id camera_index x y` and ignored trailing fields per line. */
export function parseTracks(text: string, source: string): TrackObservation[] {
  const observations: TrackObservation[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const values = numbersOf(source, index + 1, line);
    if (values.length < 4) throw malformed(source, index + 1, `needs track_id camera_index x y, found ${values.length} values`);
    const [trackId, cameraIndex, x, y] = values;
    if (!Number.isInteger(trackId) || trackId < 0) throw malformed(source, index + 1, `track id ${trackId} is not a non-negative integer`);
    if (!Number.isInteger(cameraIndex) || cameraIndex < 1) throw malformed(source, index + 1, `camera index ${cameraIndex} is not a 1-based integer`);
    observations.push({ trackId, cameraIndex, pixel: [x, y], line: index + 1 });
  });
  return observations;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (cause) {
    throw new WalkoutError('CALIBRATION_INVALID', `cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Reads a whole scene folder. Camera indices in tracks.txt must name a line of frames.txt. Tracks
 * without a landmark and observations in frames without a camera are kept for callers to skip: the
 * MEVA release annotates more frames and points than it calibrates and reconstructs.
 */
export async function readMevaScene(folder: string, cameraOptions: Omit<KrtdOptions, 'id'> = {}): Promise<MevaScene> {
  const framesFile = join(folder, 'frames.txt');
  const frames = (await readText(framesFile)).split(/\r?\n/).map((line) => line.trim());
  while (frames.at(-1) === '') frames.pop();
  const cameras = new Map<number, Camera>();
  for (const [i, frame] of frames.entries()) {
    if (frame === '') throw malformed(framesFile, i + 1, 'empty frame name');
    const krtd = join(folder, 'cameras', `${basename(frame, extname(frame))}.krtd`);
    const exists = await access(krtd).then(
      () => true,
      () => false,
    );
    if (exists) cameras.set(i + 1, await readKrtdFile(krtd, cameraOptions));
  }
  const landmarksFile = join(folder, 'landmarks.ply');
  const landmarks = new Map(parseLandmarksPly(await readText(landmarksFile), landmarksFile).map((l) => [l.trackId, l]));
  const tracksFile = join(folder, 'tracks.txt');
  const observations = parseTracks(await readText(tracksFile), tracksFile);
  for (const { cameraIndex, line } of observations) {
    if (cameraIndex > frames.length)
      throw malformed(tracksFile, line, `camera index ${cameraIndex} is past the ${frames.length} frames of ${framesFile}`);
  }
  return { frames, cameras, landmarks, observations };
}
