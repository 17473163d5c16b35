import { Worker } from 'node:worker_threads';
import { WalkoutError } from '../contracts/index.ts';
import { ArrayPool } from './array.pool.ts';

/**
 * Model passes on worker threads, each with an ONNX Runtime session of its own.
 *
 * onnxruntime-node's `session.run` returns a promise but runs the model synchronously on the thread
 * that calls it (its backend wraps the native run in a setImmediate), so passes started together on
 * one thread run one after the other, on one core. Here each pass goes to the first idle thread, so
 * passes of several frames (or several windows of one frame) run on several cores at once; what
 * the caller does between passes (letterbox, decoding, merging) stays on its thread.
 *
 * A thread that dies (its process-level state broken by a native crash, an out-of-memory, a
 * terminate) is replaced, and the pass it was running goes to the next thread: a pass is tried on two
 * threads before it is given up as DETECTOR_FAILED. A pass the model itself rejects fails at once.
 */

/** How many threads a pass may kill before it is given up: itself once, then a replacement. */
const TRIES_PER_PASS = 2;

/** One model pass's output, and the time its thread spent in the model (ms). */
export interface ThreadPass {
  output: Float32Array;
  modelMs: number;
}

export interface DetectorThreadsOptions {
  /** Threads to start (at least 1). */
  threads: number;
  /** Given to each thread as its workerData (onnx.thread.js: modelPath, sessionOptions). */
  workerData: unknown;
  /** The thread's script; default onnx.thread.js. Tests give one of their own. */
  script?: URL;
}

interface Pass {
  pixels: Int32Array;
  width: number;
  height: number;
  tries: number;
  resolve(pass: ThreadPass): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  /** The pass it runs, with its message id. */
  running?: { id: number; pass: Pass };
  /** Set once its death was handled ('error' and 'exit' both come). */
  gone?: boolean;
}

const DEFAULT_SCRIPT = new URL('./onnx.thread.js', import.meta.url);

export class DetectorThreads {
  private readonly slots: Slot[] = [];
  private readonly waiting: Pass[] = [];
  private nextId = 0;
  private closed = false;
  /** Threads started to replace dead ones. */
  private replacedCount = 0;
  /** Why the pool cannot run passes any more (every thread dead and none could be started). */
  private broken?: Error;
  /** The bytes passes went to the threads in, sent back with their outputs for the next passes. */
  private readonly bytes = new ArrayPool<Uint8Array<ArrayBuffer>>((length) => new Uint8Array(length));

  private constructor(private readonly options: DetectorThreadsOptions) {}

  /** Starts `threads` threads and waits until each has its session open; MODEL_UNAVAILABLE when one cannot. */
  static async open(options: DetectorThreadsOptions): Promise<DetectorThreads> {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new RangeError(`detector threads is a whole number >= 1, not ${options.threads}`);
    const pool = new DetectorThreads(options);
    try {
      const workers = await Promise.all(Array.from({ length: options.threads }, () => pool.startThread()));
      for (const worker of workers) pool.adopt(worker);
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get threads(): number {
    return this.slots.length;
  }

  /** Arrays of bytes kept for later passes (sent back by the threads). */
  get bytesKept(): number {
    return this.bytes.kept;
  }

  /** Threads started to replace dead ones so far. */
  get replaced(): number {
    return this.replacedCount;
  }

  /**
   * One model pass on the first idle thread. The pixels are RGB values (0 to 255) in the int32 the
   * model takes; they go to the thread as bytes, a quarter of the copying (the caller keeps its array),
   * in an array the thread sends back with the output, for a later pass.
   */
  run(pixels: Int32Array, width: number, height: number): Promise<ThreadPass> {
    if (this.closed) return Promise.reject(new WalkoutError('DETECTOR_FAILED', 'the detector threads are closed'));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<ThreadPass>((resolve, reject) => {
      this.waiting.push({ pixels, width, height, tries: 0, resolve, reject });
      this.pump();
    });
  }

  /** Stops every thread; passes not finished are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const stopped = new WalkoutError('DETECTOR_FAILED', 'the detector threads were closed before the pass ran');
    for (const pass of this.waiting.splice(0)) pass.reject(stopped);
    for (const slot of this.slots) slot.running?.pass.reject(stopped);
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private startThread(): Promise<Worker> {
    const worker = new Worker(this.options.script ?? DEFAULT_SCRIPT, { workerData: this.options.workerData });
    return new Promise<Worker>((resolve, reject) => {
      const fail = (why: string) => {
        void worker.terminate();
        reject(new WalkoutError('MODEL_UNAVAILABLE', `a detector thread cannot open its model: ${why}`));
      };
      const onMessage = (message: { ready?: boolean; failed?: string }) => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (message.ready) resolve(worker);
        else fail(message.failed ?? JSON.stringify(message));
      };
      const onError = (error: Error) => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        fail(error.message);
      };
      const onExit = (code: number) => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        fail(`it exited with code ${code} while starting`);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
    });
  }

  private adopt(worker: Worker): void {
    const slot: Slot = { worker };
    this.slots.push(slot);
    worker.on('message', (message: { id: number; output?: Float32Array; modelMs?: number; error?: string; bytes?: Uint8Array<ArrayBuffer> }) => {
      if (message.bytes) this.bytes.give(message.bytes);
      const running = slot.running;
      if (!running || running.id !== message.id) return;
      slot.running = undefined;
      const { pass } = running;
      if (message.error !== undefined)
        pass.reject(new WalkoutError('DETECTOR_FAILED', `the model pass on a ${pass.width}x${pass.height} input failed: ${message.error}`));
      else pass.resolve({ output: message.output!, modelMs: message.modelMs ?? 0 });
      this.pump();
    });
    worker.on('error', (error: Error) => this.died(slot, error.message));
    worker.on('exit', (code) => this.died(slot, `it exited with code ${code}`));
  }

  /** A thread died: its pass goes back to the front of the queue (or fails), and a new thread takes its place. */
  private died(slot: Slot, why: string): void {
    if (slot.gone || this.closed) return;
    slot.gone = true;
    this.slots.splice(this.slots.indexOf(slot), 1);
    const pass = slot.running?.pass;
    slot.running = undefined;
    if (pass) {
      pass.tries++;
      if (pass.tries >= TRIES_PER_PASS)
        pass.reject(new WalkoutError('DETECTOR_FAILED', `a model pass on a ${pass.width}x${pass.height} input killed ${pass.tries} detector threads; the last: ${why}`));
      else this.waiting.unshift(pass);
    }
    this.startThread().then(
      (worker) => {
        if (this.closed) return void worker.terminate();
        this.replacedCount++;
        this.adopt(worker);
        this.pump();
      },
      (error: Error) => {
        if (this.slots.length > 0) return this.pump();
        this.broken = new WalkoutError('DETECTOR_FAILED', `every detector thread died and none could be started again: ${error.message}`);
        for (const waiting of this.waiting.splice(0)) waiting.reject(this.broken);
      },
    );
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (!this.waiting.length) return;
      if (slot.running || slot.gone) continue;
      const pass = this.waiting.shift()!;
      const id = this.nextId++;
      slot.running = { id, pass };
      const bytes = this.bytes.take(pass.pixels.length);
      bytes.set(pass.pixels);
      slot.worker.postMessage({ id, bytes, width: pass.width, height: pass.height }, [bytes.buffer]);
    }
  }
}
