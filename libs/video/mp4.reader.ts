import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { WalkoutError } from '../contracts/index.ts';
import { locateFfmpeg } from './ffmpeg.locate.ts';
import { rgbFrameBytes, type RgbFrame } from './rgb.frame.ts';

/**
 * Decodes a video file to RGB frames, one at a time, through ffmpeg's stdout. Nothing but the frame
 * being assembled is held in memory, and ffmpeg is paused by the pipe while the consumer works, so
 * an hour of footage costs no more memory than a second of it.
 */

export interface VideoInfo {
  width: number;
  height: number;
  /** Frames per second as the container declares it. */
  fps: number;
  codec: string;
  /** Seconds, when the container says. */
  durationS: number | null;
}

export interface DecodedFrame extends RgbFrame {
  /** Index of the frame in the file, counting from 0 (with `every`, the original index). */
  index: number;
}

export interface ReadOptions {
  /** Decode only every n-th frame (1 = all). */
  every?: number;
  /** Stop after this many frames have been yielded. */
  maxFrames?: number;
  /** Skip the check of width and height by passing what the caller already knows. */
  info?: Pick<VideoInfo, 'width' | 'height'>;
  /**
   * Decode the frames into two arrays in turn, for a consumer done with a frame once it asks for the
   * one after the next (a camera service, reading one frame ahead): no new array a frame for the
   * garbage collector.
   */
  reuseFrames?: boolean;
}

const STDERR_TAIL_BYTES = 4000;

async function ensureReadable(file: string): Promise<void> {
  try {
    await access(file);
  } catch (cause) {
    throw new WalkoutError('RECORDING_NOT_FOUND', `video ${file} does not exist or cannot be read`, { cause });
  }
}

/** Size, rate and codec of the first video stream, from ffmpeg's description of the input. */
export async function probeVideo(file: string): Promise<VideoInfo> {
  await ensureReadable(file);
  const ffmpeg = locateFfmpeg();
  // Without an output ffmpeg describes the input on stderr and exits with 1: that is expected.
  const text = await new Promise<string>((resolve, reject) => {
    const child = spawn(ffmpeg.path, ['-hide_banner', '-i', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (t: string) => (err += t));
    child.on('error', reject);
    child.on('close', () => resolve(err));
  });
  const stream = /Stream #\d+:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Video: ([a-z0-9_]+)[^\n]*?, (\d{2,5})x(\d{2,5})[^\n]*/.exec(text);
  if (!stream) throw new WalkoutError('RECORDING_INVALID', `${file} has no video stream ffmpeg can read:\n${text.slice(-STDERR_TAIL_BYTES).trim()}`);
  const rate = /([\d.]+) fps/.exec(stream[0]) ?? /([\d.]+) tbr/.exec(stream[0]);
  const duration = /Duration: (\d+):(\d+):([\d.]+)/.exec(text);
  return {
    codec: stream[1],
    width: Number(stream[2]),
    height: Number(stream[3]),
    fps: rate ? Number(rate[1]) : NaN,
    durationS: duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : null,
  };
}

export async function* readVideoFrames(file: string, options: ReadOptions = {}): AsyncGenerator<DecodedFrame> {
  const every = Math.max(1, Math.floor(options.every ?? 1));
  const maxFrames = options.maxFrames ?? Infinity;
  if (maxFrames <= 0) return;
  const { width, height } = options.info ?? (await probeVideo(file));
  await ensureReadable(file);
  const ffmpeg = locateFfmpeg();
  const args = ['-hide_banner', '-loglevel', 'error', '-i', file, '-an'];
  // select keeps every n-th decoded frame; setpts renumbers the survivors back to back, or ffmpeg
  // would duplicate frames to fill the gaps at the old rate (and -fps_mode is too new for some builds).
  if (every > 1) args.push('-vf', `select=not(mod(n\\,${every})),setpts=N/FRAME_RATE/TB`);
  if (Number.isFinite(maxFrames)) args.push('-frames:v', String(maxFrames));
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  const child = spawn(ffmpeg.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => (stderrTail = (stderrTail + t).slice(-STDERR_TAIL_BYTES)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  const frameBytes = rgbFrameBytes(width, height);
  let frame = new Uint8Array(frameBytes);
  let other = options.reuseFrames ? new Uint8Array(frameBytes) : undefined;
  let filled = 0;
  let yielded = 0;
  let finished = false;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          yield { width, height, data: frame, index: yielded * every };
          yielded++;
          if (other) [frame, other] = [other, frame];
          else frame = new Uint8Array(frameBytes);
          filled = 0;
          if (yielded >= maxFrames) {
            finished = true;
            return;
          }
        }
      }
    }
    const code = await exited;
    finished = true;
    if (code !== 0) throw new WalkoutError('RECORDING_INVALID', `cannot decode ${file} (ffmpeg exit ${code}):\n${stderrTail.trim()}`);
    if (filled !== 0) throw new WalkoutError('RECORDING_INVALID', `${file}: the last frame is cut short (${filled} of ${frameBytes} bytes)`);
  } finally {
    // The consumer stopped early (break, error) or we hit maxFrames: do not leave ffmpeg running.
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited.catch(() => undefined);
    } else if (!finished) await exited.catch(() => undefined);
  }
}
