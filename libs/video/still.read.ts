import { access } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { WalkoutError } from '../contracts/index.ts';
import { VideoFrameCursor } from './frame.cursor.ts';
import { probeVideo } from './mp4.reader.ts';
import type { RgbFrame } from './rgb.frame.ts';

/**
 * One picture to look at, from a still image or from a video at a given time: what `walkout detect`
 * reads. Which of the two a file is goes by its extension; sharp reads the images, ffmpeg the videos.
 */

const VIDEO_EXTENSIONS = new Set(['.mp4', '.m4v', '.mov', '.mkv', '.avi', '.webm']);

export interface Still {
  frame: RgbFrame;
  /** For a video: the frame index read and its time (frame index / frame rate). */
  video?: { frameIndex: number; seconds: number; fps: number };
}

export function isVideoFile(file: string): boolean {
  return VIDEO_EXTENSIONS.has(path.extname(file).toLowerCase());
}

/** An image file as RGB (alpha dropped, EXIF orientation applied). */
export async function readImageFile(file: string): Promise<RgbFrame> {
  try {
    await access(file);
  } catch (cause) {
    throw new WalkoutError('IMAGE_INVALID', `image ${file} does not exist or cannot be read`, { cause });
  }
  try {
    const { data, info } = await sharp(file).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (cause) {
    throw new WalkoutError('IMAGE_INVALID', `${file} is not an image walkout can decode (PNG, JPEG, WebP, ...): ${(cause as Error).message}`, { cause });
  }
}

/** The frame of `file` shown at `atSeconds` (the last frame that starts at or before it). */
export async function readVideoStill(file: string, atSeconds: number): Promise<Still> {
  const info = await probeVideo(file);
  if (!(info.fps > 0)) throw new WalkoutError('RECORDING_INVALID', `${file}: ffmpeg gives no frame rate for its video stream, so --at cannot pick a frame`);
  if (info.durationS !== null && atSeconds > info.durationS)
    throw new WalkoutError('USAGE', `--at ${atSeconds} is past the end of ${file}, which lasts ${info.durationS.toFixed(2)} s`);
  const frameIndex = Math.floor(atSeconds * info.fps + 1e-6);
  const cursor = new VideoFrameCursor(file, info);
  try {
    const decoded = await cursor.frameAt(frameIndex);
    return { frame: { width: decoded.width, height: decoded.height, data: decoded.data }, video: { frameIndex, seconds: frameIndex / info.fps, fps: info.fps } };
  } finally {
    await cursor.close();
  }
}

/** A still image, or the frame of a video at `atSeconds` (0 when not given). */
export async function readStill(file: string, atSeconds: number | undefined): Promise<Still> {
  if (isVideoFile(file)) return readVideoStill(file, atSeconds ?? 0);
  if (atSeconds !== undefined) throw new WalkoutError('USAGE', `--at picks a time in a video, and ${file} is an image (videos: ${[...VIDEO_EXTENSIONS].join(', ')})`);
  return { frame: await readImageFile(file) };
}
