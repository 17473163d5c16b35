import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { z } from 'zod';
import { WalkoutError } from '../contracts/index.ts';

/**
 * Line-by-line readers for recording files. They stream (never the whole file in memory) and every
 * error names the file and the line, so whoever wrote the file can find the bad row.
 */

export function recordingError(file: string, line: number, message: string, cause?: unknown): WalkoutError {
  return new WalkoutError('RECORDING_INVALID', `${file}:${line}: ${message}`, { cause, details: { file, line } });
}

async function ensureReadable(file: string): Promise<void> {
  try {
    await access(file);
  } catch (cause) {
    throw new WalkoutError('RECORDING_NOT_FOUND', `${file} does not exist or cannot be read`, { cause });
  }
}

/** Yields [lineNumber, text] for every line, transparently gunzipping `.gz` files. */
export async function* readLines(file: string): AsyncGenerator<[number, string]> {
  await ensureReadable(file);
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n++;
      yield [n, text];
    }
  } catch (cause) {
    throw recordingError(file, n + 1, `cannot read: ${(cause as Error).message}`, cause);
  } finally {
    lines.close();
    raw.destroy();
  }
}

/** JSON lines validated against a schema; blank lines are allowed and skipped. */
export async function* readJsonLines<S extends z.ZodType>(file: string, schema: S): AsyncGenerator<z.infer<S>> {
  for await (const [n, text] of readLines(file)) {
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw recordingError(file, n, `not JSON: ${(cause as Error).message}`, cause);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw recordingError(file, n, `${first.path.length ? `${first.path.join('.')}: ` : ''}${first.message}`, parsed.error);
    }
    yield parsed.data;
  }
}

/**
 * A numeric CSV with a header row. Yields one Float64Array per data row (columns in header order);
 * every value must be a finite number and every row as wide as the header.
 */
export async function* readNumericCsv(
  file: string,
  expectHeader?: (header: string[]) => string | null,
): AsyncGenerator<Float64Array> {
  let width = -1;
  for await (const [n, text] of readLines(file)) {
    if (width < 0) {
      const header = text.split(',').map((h) => h.trim());
      const problem = expectHeader?.(header);
      if (problem) throw recordingError(file, n, problem);
      width = header.length;
      continue;
    }
    if (text.trim() === '') continue;
    const cells = text.split(',');
    if (cells.length !== width) throw recordingError(file, n, `expected ${width} columns, found ${cells.length}`);
    const row = new Float64Array(width);
    for (let i = 0; i < width; i++) {
      const v = Number(cells[i]);
      if (cells[i].trim() === '' || !Number.isFinite(v)) throw recordingError(file, n, `column ${i + 1} is not a number: "${cells[i]}"`);
      row[i] = v;
    }
    yield row;
  }
  if (width < 0) throw recordingError(file, 1, 'the file is empty (no header row)');
}
