import { CsvError, parse } from 'csv-parse';
import { CUT_SHORT, openLineStream, recordingError } from './lines.reader.ts';

/**
 * The one CSV reader: csv-parse underneath (quoted fields may hold commas, quotes and newlines),
 * streamed (one record in memory at a time, `.gz` files gunzipped on the way), each record with the
 * line it starts on so that every problem can be named by file and line.
 */

export interface CsvRecord {
  /** 1-based line the record starts on. */
  line: number;
  fields: string[];
  /**
   * Only ever true for the last record, when the file does not end with a newline. Every writer ends
   * its lines with one, so a last line without it is most likely a file cut short: its last number
   * may have lost digits (a 2866 g reading read as 286 g).
   */
  unterminated: boolean;
}

const newlinesIn = (fields: string[]) => {
  let count = 0;
  for (const field of fields) if (field.includes('\n')) count += field.split('\n').length - 1;
  return count;
};

/** True for a blank line (csv-parse gives it as one empty field). */
export const isBlankRecord = (fields: string[]) => fields.length === 1 && fields[0].trim() === '';

export async function* readCsvRecords(file: string): AsyncGenerator<CsvRecord> {
  const { raw, input, endsWithNewline } = await openLineStream(file);
  const parser = input.pipe(parse({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: false }));
  // One record is held back until the next arrives, so the last one can be told apart.
  let held: CsvRecord | undefined;
  let line = 1;
  try {
    try {
      for await (const fields of parser as AsyncIterable<string[]>) {
        if (held) yield held;
        held = { line, fields, unterminated: false };
        line += 1 + newlinesIn(fields);
      }
    } catch (cause) {
      // Everything read before the unreadable part is still delivered.
      if (held) yield held;
      held = undefined;
      if (cause instanceof CsvError) throw recordingError(file, typeof cause.lines === 'number' ? cause.lines : line, `not readable as CSV: ${cause.message}`, { cause });
      throw recordingError(file, line, `cannot read: ${(cause as Error).message}`, { cause });
    }
    if (held) {
      held.unterminated = !endsWithNewline();
      yield held;
    }
  } finally {
    parser.destroy();
    raw.destroy();
  }
}

export interface NumericRow {
  line: number;
  values: Float64Array;
}

/**
 * A numeric CSV with a header row, as the recording format writes its load cells and frame times.
 * Yields one row per data line (columns in header order). Refused, by file, line and element: a
 * header the caller does not accept, no data rows under the header, a row narrower or wider than the
 * header, a value that is not a finite number, and a last line without its newline (cut short).
 */
export async function* readNumericCsv(
  file: string,
  options: {
    checkHeader?: (header: string[]) => string | null;
    /** What the file is of, for messages: `shelf g1-s1`, `camera cam-2`. */
    element?: string;
    /** Whether a header with no rows under it is refused (true unless said otherwise). */
    requireRows?: boolean;
  } = {},
): AsyncGenerator<NumericRow> {
  let header: string[] | undefined;
  let headerLine = 1;
  let rows = 0;
  const element = options.element;
  for await (const { line, fields, unterminated } of readCsvRecords(file)) {
    if (!header) {
      if (isBlankRecord(fields)) continue;
      header = fields.map((name) => name.trim());
      headerLine = line;
      const problem = options.checkHeader?.(header);
      if (problem) throw recordingError(file, line, problem, { element });
      if (unterminated) throw recordingError(file, line, CUT_SHORT, { element });
      continue;
    }
    if (isBlankRecord(fields)) continue;
    if (unterminated) throw recordingError(file, line, CUT_SHORT, { element });
    if (fields.length !== header.length)
      throw recordingError(file, line, `expected ${header.length} columns (${header.join(',')}), found ${fields.length}`, { element });
    const values = new Float64Array(fields.length);
    for (let i = 0; i < fields.length; i++) {
      const value = Number(fields[i]);
      // Number('') is 0: only a zero needs the look for an empty field.
      if (!Number.isFinite(value) || (value === 0 && fields[i].trim() === ''))
        throw recordingError(file, line, `column ${i + 1} (${header[i]}) is not a number: "${fields[i]}"`, { element });
      values[i] = value;
    }
    rows++;
    yield { line, values };
  }
  if (!header) throw recordingError(file, 1, 'the file is empty (no header row)', { element });
  if (rows === 0 && options.requireRows !== false) throw recordingError(file, headerLine + 1, `a header (${header.join(',')}) and no rows under it`, { element });
}
