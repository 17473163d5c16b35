import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { WalkoutError } from '../contracts/index.ts';
import { locateFfmpeg } from './ffmpeg.locate.ts';
import { rgbFrameBytes } from './rgb.frame.ts';

/**
 * Streams raw RGB frames into ffmpeg's stdin and gets an H.264 mp4 back. Frames are written as they
 * come, waiting when ffmpeg's pipe is full (backpressure), so memory stays at a frame or two
 * whatever the length of the video.
 *
 * Defaults are chosen for simulated store footage, where most of the image is a still shop and
 * people are a small share of it, and pose models need the edges of small figures: CRF 20 found
 * 0.58 of the wrists in view on two-shoppers-one-shelf and 0.48 in the crowd, against 0.50 and 0.37
 * at CRF 25 and 0.50 and 0.46 at 22 (`walkout eval pose --frames 20`; raw frames give 0.63). It
 * costs about 1.6 x the bytes of CRF 25: a minute of one 640x480 camera at 10 fps with four people
 * always walking is about 2 MB (the still store costs almost nothing). `veryfast` keeps encoding
 * ahead of rendering; a keyframe every 5 s bounds seeking.
 */
export interface Mp4WriterOptions {
  width: number;
  height: number;
  fps: number;
  /** x264 constant rate factor: lower is better and bigger (18 visually lossless, 20 our default). */
  crf?: number;
  /** x264 speed preset. */
  preset?: 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium';
  /** Frames between keyframes. */
  keyframeInterval?: number;
  /** x264 threads; 1 keeps each camera's encoder on one core when several run at once. */
  threads?: number;
}

export const DEFAULT_CRF = 20;
export const DEFAULT_PRESET = 'veryfast';
const KEYFRAME_SECONDS = 5;
/** Keep this much of ffmpeg's stderr to explain a failure. */
const STDERR_TAIL_BYTES = 4000;

export class Mp4Writer {
  private frames = 0;
  private failure: Error | undefined;
  private stderrTail = '';
  private readonly exited: Promise<number | null>;
  private readonly frameBytes: number;

  private constructor(
    readonly file: string,
    private readonly child: ChildProcess,
    options: Mp4WriterOptions,
  ) {
    this.frameBytes = rgbFrameBytes(options.width, options.height);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
    });
    // A closed pipe shows up as an EPIPE on stdin; the exit code below tells the real story.
    child.stdin!.on('error', (error) => {
      this.failure ??= error;
    });
    this.exited = new Promise((resolve) => {
      child.on('error', (error) => {
        this.failure ??= error;
        resolve(null);
      });
      child.on('close', (code) => resolve(code));
    });
  }

  static async open(file: string, options: Mp4WriterOptions): Promise<Mp4Writer> {
    const { width, height, fps } = options;
    if (width % 2 || height % 2)
      throw new WalkoutError('CONFIG_INVALID', `H.264 with 4:2:0 chroma needs even sizes, got ${width}x${height}`);
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    const ffmpeg = locateFfmpeg();
    const args = [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
      '-an',
      '-c:v', 'libx264', '-preset', options.preset ?? DEFAULT_PRESET, '-crf', String(options.crf ?? DEFAULT_CRF),
      '-g', String(options.keyframeInterval ?? Math.max(1, Math.round(fps * KEYFRAME_SECONDS))),
      '-pix_fmt', 'yuv420p',
      '-threads', String(options.threads ?? 1),
      // The moov atom up front, so players and our reader can start before reading the whole file.
      '-movflags', '+faststart',
      file,
    ];
    const child = spawn(ffmpeg.path, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    return new Mp4Writer(file, child, options);
  }

  get frameCount(): number {
    return this.frames;
  }

  /** Queues one frame; resolves when ffmpeg can take more. The buffer may be reused afterwards. */
  async write(rgb: Uint8Array): Promise<void> {
    if (rgb.length !== this.frameBytes)
      throw new WalkoutError('CONFIG_INVALID', `${this.file}: frame has ${rgb.length} bytes, expected ${this.frameBytes}`);
    this.throwIfFailed();
    const stdin = this.child.stdin!;
    // Node keeps a reference to a written buffer until it is flushed: copy, so callers may reuse theirs.
    const accepted = stdin.write(Buffer.from(rgb));
    this.frames++;
    if (!accepted)
      await new Promise<void>((resolve) => {
        const done = () => {
          stdin.off('drain', done);
          stdin.off('close', done);
          resolve();
        };
        stdin.once('drain', done);
        stdin.once('close', done);
      });
    this.throwIfFailed();
  }

  /** Ends the stream and waits for ffmpeg to finish the file. */
  async close(): Promise<{ file: string; frames: number; bytes: number }> {
    this.child.stdin!.end();
    const code = await this.exited;
    if (code !== 0) throw this.error(`ffmpeg exited with code ${code}`);
    return { file: this.file, frames: this.frames, bytes: (await stat(this.file)).size };
  }

  /** Stops ffmpeg without finishing the file (after an error elsewhere). */
  async abort(): Promise<void> {
    this.child.stdin!.destroy();
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private throwIfFailed(): void {
    if (this.failure || this.child.exitCode !== null) throw this.error(this.failure?.message ?? `ffmpeg exited early with code ${this.child.exitCode}`);
  }

  private error(reason: string): WalkoutError {
    return new WalkoutError('TOOL_FAILED', `encoding ${this.file} failed: ${reason}\n${this.stderrTail.trim()}`, { cause: this.failure });
  }
}
