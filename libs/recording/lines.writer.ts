import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';

/**
 * Buffered line writers that respect backpressure: `write` is synchronous and cheap; `flush` (called
 * when the buffer is large and at close) waits for the disk when the stream asks us to.
 */
const FLUSH_BYTES = 256 * 1024;

export class LineWriter {
  private readonly out: WriteStream | Gzip;
  private readonly file: WriteStream;
  private buffer: string[] = [];
  private bufferedBytes = 0;
  private pending: Promise<void> = Promise.resolve();
  lines = 0;

  constructor(readonly path: string) {
    this.file = createWriteStream(path);
    if (path.endsWith('.gz')) {
      const gzip = createGzip();
      gzip.pipe(this.file);
      this.out = gzip;
    } else this.out = this.file;
  }

  write(line: string): void {
    this.buffer.push(line);
    this.bufferedBytes += line.length + 1;
    this.lines++;
    if (this.bufferedBytes >= FLUSH_BYTES) this.pending = this.pending.then(() => this.flush());
  }

  /** Resolves once everything written so far has been handed to the stream and it is not congested. */
  async settle(): Promise<void> {
    await this.pending;
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = `${this.buffer.join('\n')}\n`;
    this.buffer = [];
    this.bufferedBytes = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    await this.settle();
    this.out.end();
    await once(this.file, 'close');
  }
}

export class JsonLinesWriter<T> {
  private readonly lines: LineWriter;
  constructor(readonly path: string) {
    this.lines = new LineWriter(path);
  }
  write(value: T): void {
    this.lines.write(JSON.stringify(value));
  }
  get count(): number {
    return this.lines.lines;
  }
  settle(): Promise<void> {
    return this.lines.settle();
  }
  close(): Promise<void> {
    return this.lines.close();
  }
}
