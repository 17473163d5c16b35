import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { WalkoutError } from '../contracts/index.ts';
import { locateFfmpeg } from '../video/ffmpeg.locate.ts';
import { DEFAULT_CRF, DEFAULT_PRESET } from '../video/mp4.writer.ts';
import { probeVideo, type VideoInfo } from '../video/mp4.reader.ts';
import type { MetaCamera } from './store-meta.reader.ts';

/**
 * The store's videos: one file per camera, named by the camera's IP address and the UTC time its
 * segment begins ("192.168.1.100_2020-02-05T18:11:03.mp4"; any separators, digits of the time in
 * year, month, day, hour, minute, second order, optionally a fraction of a second). A recording holds
 * H.264 in mp4 with the store-clock time of every frame, so each video is re-encoded at a constant
 * frame rate (its own declared rate) and frame n is stamped start + n / fps.
 */

export interface CameraVideo {
  camera: MetaCamera;
  file: string;
  startMs: number;
  info: VideoInfo;
}

const STDERR_TAIL_BYTES = 4000;
/** YYYY MM DD hh mm ss, then an optional fraction. */
const TIME_DIGITS = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d*)$/;

/** The segment's start, from the digits after the IP address, or what is wrong with them. */
export function segmentStartMs(name: string, ip: string): number | string {
  const rest = path.basename(name, path.extname(name)).slice(ip.length);
  const digits = rest.replace(/\D/g, '');
  const parts = TIME_DIGITS.exec(digits);
  if (!parts) return `the name should carry the UTC start after the address (year month day hour minute second), found "${rest}"`;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number);
  const fraction = parts[7] ? Number(`0.${parts[7]}`) : 0;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second) + Math.round(fraction * 1000);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59)
    return `"${rest}" is not a real UTC time`;
  return ms;
}

/** Every camera's video in `folder`; a video of no known camera, or a second one of a camera, is an error. */
export async function findCameraVideos(folder: string, cameras: MetaCamera[]): Promise<CameraVideo[]> {
  const names = (await readdir(folder)).filter((name) => !name.startsWith('.')).sort();
  const found: CameraVideo[] = [];
  for (const name of names) {
    const file = path.join(folder, name);
    // The longest address first: 192.168.1.10 must not claim 192.168.1.100's files.
    const camera = [...cameras].sort((a, b) => (b.ip?.length ?? 0) - (a.ip?.length ?? 0)).find((c) => c.ip && name.startsWith(c.ip) && !/\d/.test(name[c.ip.length] ?? ''));
    if (!camera?.ip) throw new WalkoutError('RECORDING_INVALID', `${file}: the name starts with no camera address of camera_mapping.json`);
    const twin = found.find((video) => video.camera === camera);
    if (twin) throw new WalkoutError('RECORDING_INVALID', `${file}: a second video of camera ${camera.sourceId} (${camera.ip}) after ${twin.file}; give one segment per camera`);
    const startMs = segmentStartMs(name, camera.ip);
    if (typeof startMs === 'string') throw new WalkoutError('RECORDING_INVALID', `${file}: ${startMs}`);
    const info = await probeVideo(file);
    if (!(info.fps > 0)) throw new WalkoutError('RECORDING_INVALID', `${file}: the video declares no frame rate`);
    found.push({ camera, file, startMs, info });
  }
  return found;
}

async function runFfmpeg(args: string[]): Promise<string> {
  const ffmpeg = locateFfmpeg();
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let tail = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (tail = (tail + text).slice(-STDERR_TAIL_BYTES)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(tail) : reject(new WalkoutError('TOOL_FAILED', `ffmpeg ${args.join(' ')} failed (exit ${code}):\n${tail.trim()}`))));
  });
}

/** Re-encodes `video` as constant-rate H.264 at `out` and returns how many frames it holds. */
export async function transcodeVideo(video: CameraVideo, out: string): Promise<number> {
  await runFfmpeg(['-hide_banner', '-y', '-i', video.file, '-an', '-map', '0:v:0', '-vsync', 'cfr', '-r', String(video.info.fps), '-c:v', 'libx264', '-preset', DEFAULT_PRESET, '-crf', String(DEFAULT_CRF), '-pix_fmt', 'yuv420p', out]);
  const counted = await runFfmpeg(['-hide_banner', '-i', out, '-map', '0:v:0', '-c', 'copy', '-f', 'null', '-']);
  const frames = [...counted.matchAll(/frame=\s*(\d+)/g)].at(-1);
  if (!frames) throw new WalkoutError('TOOL_FAILED', `ffmpeg did not count the frames of ${out}:\n${counted.trim()}`);
  return Number(frames[1]);
}
