import { WalkoutError } from '../contracts/index.ts';
import { readVideoFrames, type DecodedFrame, type VideoInfo } from './mp4.reader.ts';

/**
 * Frames of one video asked for by index, as a camera service asks for them: mostly in order, now
 * and then one skipped, rarely one again or one earlier (a redelivered message, a replay started
 * over). The cursor keeps one ffmpeg decoding from the last frame it handed out, so frames in order
 * are decoded once each; asking for an earlier frame starts the file again.
 *
 * A caller that asks only for every n-th frame (a camera service with a stride) says so with
 * `every`: ffmpeg then hands over only those frames (the same pixels), and the frames between are
 * neither converted to RGB, piped nor copied. Asked for a frame between, the cursor starts the
 * file again handing over every frame. A caller done with a frame once it asks for another says so
 * with `reuseFrames`: frames are decoded into two arrays in turn (mp4.reader.ts). With `readAhead`
 * the next frame is decoded while the caller works on the one handed out, so that asking for it
 * does not wait for ffmpeg to decode it through a pipe that holds a fifteenth of a frame.
 */
export interface FrameCursorOptions {
  /** Only every n-th frame will be asked for (frame index a multiple of n); default 1. */
  every?: number;
  /** A frame handed out is not read once another is asked for; default false. */
  reuseFrames?: boolean;
  /** Decode the frame after the one handed out at once; default false. */
  readAhead?: boolean;
}

export class VideoFrameCursor {
  private frames: AsyncGenerator<DecodedFrame> | undefined;
  private current: DecodedFrame | undefined;
  /** How many times the file was opened: 1 while frames are asked for in order. */
  opened = 0;
  private every: number;
  private readonly reuseFrames: boolean;
  private readonly readAhead: boolean;
  /** The frame after `current`, being decoded (readAhead). */
  private ahead: Promise<IteratorResult<DecodedFrame>> | undefined;

  constructor(
    readonly file: string,
    private readonly info?: Pick<VideoInfo, 'width' | 'height'>,
    options: FrameCursorOptions = {},
  ) {
    this.every = Math.max(1, Math.floor(options.every ?? 1));
    this.reuseFrames = options.reuseFrames ?? false;
    this.readAhead = options.readAhead ?? false;
  }

  async frameAt(index: number): Promise<DecodedFrame> {
    if (this.current?.index === index) return this.current;
    if (index % this.every !== 0) {
      this.every = 1;
      await this.reopen();
    }
    if (!this.frames || (this.current && index < this.current.index)) await this.reopen();
    for (;;) {
      const next = await (this.ahead ?? this.frames!.next());
      this.ahead = undefined;
      if (next.done) {
        const last = this.current?.index;
        this.current = undefined;
        await this.close();
        throw new WalkoutError(
          'RECORDING_INVALID',
          `${this.file} has no frame ${index}: ${last === undefined ? 'it holds no frames' : `its last frame is ${last}`}`,
        );
      }
      this.current = next.value;
      if (next.value.index === index) {
        if (this.readAhead) {
          this.ahead = this.frames!.next();
          // Its failure is the next frameAt's to report; until then it is not an unhandled one.
          this.ahead.catch(() => undefined);
        }
        return next.value;
      }
    }
  }

  /** Settles once the frame read ahead, if any, is decoded (or failed): the decoder writes nothing more until the next frameAt. */
  async readAheadSettled(): Promise<void> {
    await this.ahead?.catch(() => undefined);
  }

  /** Stops the decoder (the next frameAt opens the file again). */
  async close(): Promise<void> {
    const frames = this.frames;
    this.frames = undefined;
    this.ahead = undefined;
    await frames?.return(undefined);
  }

  private async reopen(): Promise<void> {
    await this.close();
    this.current = undefined;
    this.opened++;
    this.frames = readVideoFrames(this.file, { every: this.every, reuseFrames: this.reuseFrames, ...(this.info ? { info: this.info } : {}) });
  }
}
