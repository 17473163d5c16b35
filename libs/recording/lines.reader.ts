import { createReadStream, type ReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { z } from 'zod';
import { WalkoutError } from '../contracts/index.ts';

/**
 * Line-by-line readers for recording files. They stream (never the whole file in memory) and every
 * error names the file and the line, and the element (shelf, load cell, column) where there is one,
 * so whoever wrote the file can find the bad row.
 */

export function recordingError(
  file: string,
  line: number,
  message: string,
  options: { cause?: unknown; element?: string } = {},
): WalkoutError {
  const where = options.element ? `${options.element}: ` : '';
  return new WalkoutError('RECORDING_INVALID', `${file}:${line}: ${where}${message}`, {
    cause: options.cause,
    details: { file, line, ...(options.element ? { element: options.element } : {}) },
  });
}

/** What a reader says of a last line without its newline. */
export const CUT_SHORT = 'the last line has no newline: the file was cut short (its last value may have lost digits)';

async function ensureReadable(file: string): Promise<void> {
  try {
    await access(file);
  } catch (cause) {
    throw new WalkoutError('RECORDING_NOT_FOUND', `${file} does not exist or cannot be read`, { cause });
  }
}

const NEWLINE = 0x0a;

/**
 * A recording file opened as a stream of its bytes (`.gz` files gunzipped on the way), and whether
 * the bytes read so far end with a newline: a reader that parses lines cannot tell a last line with
 * its newline from one cut short, the bytes can.
 */
export async function openLineStream(file: string): Promise<{ raw: ReadStream; input: Readable; endsWithNewline: () => boolean }> {
  await ensureReadable(file);
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  let lastByte = NEWLINE;
  input.on('data', (chunk: Buffer) => {
    if (chunk.length > 0) lastByte = chunk[chunk.length - 1];
  });
  return { raw, input, endsWithNewline: () => lastByte === NEWLINE };
}

/**
 * Yields [lineNumber, text, unterminated] for every line, transparently gunzipping `.gz` files;
 * `unterminated` is true only for a last line that has no newline after it (a file cut short).
 */
export async function* readLines(file: string): AsyncGenerator<[number, string, boolean]> {
  const { raw, input, endsWithNewline } = await openLineStream(file);
  const lines = createInterface({ input, crlfDelay: Infinity });
  // One line is held back until the next arrives, so the last one can be told apart.
  let held: string | undefined;
  let n = 0;
  try {
    for await (const text of lines) {
      if (held !== undefined) yield [n, held, false];
      held = text;
      n++;
    }
  } catch (cause) {
    if (held !== undefined) yield [n, held, false];
    throw recordingError(file, n + 1, `cannot read: ${(cause as Error).message}`, { cause });
  } finally {
    lines.close();
    raw.destroy();
  }
  if (held !== undefined) yield [n, held, !endsWithNewline()];
}

/** JSON lines validated against a schema; blank lines are allowed and skipped. */
export async function* readJsonLines<S extends z.ZodType>(file: string, schema: S): AsyncGenerator<z.infer<S>> {
  for await (const [n, text, unterminated] of readLines(file)) {
    if (text.trim() === '') continue;
    if (unterminated) throw recordingError(file, n, CUT_SHORT);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw recordingError(file, n, `not JSON: ${(cause as Error).message}`, { cause });
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw recordingError(file, n, `${first.path.length ? `${first.path.join('.')}: ` : ''}${first.message}`, { cause: parsed.error });
    }
    yield parsed.data;
  }
}
