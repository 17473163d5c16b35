import { isBlankRecord, readCsvRecords } from '../recording/index.ts';

/**
 * Reads one plate file of the public per-plate layout (`unix_seconds,grams` rows, no header in the
 * published files) as it streams, and puts its readings in time order the way the sensor meant them:
 *
 * - Where the sensor's batches meet, timestamps step back a few milliseconds. A step back of up to
 *   MAX_STEP_BACK_MS is put in order (a small buffer of the latest readings) and reported once per
 *   file as a warning with the count and where.
 * - A reading far ahead of its neighbours is held until JUMP_CONFIRM_ROWS readings carry on from it
 *   (a real gap in the data); when the next reading comes back to where the file was, the far one is
 *   the bad row, reported by line, and the rows after it are good.
 * - A reading further back than that is reported by line and left out.
 * - Times in milliseconds (or micro-, nanoseconds) are refused with the unit named, never read as
 *   seconds 1000 times too late.
 */

/** Steps back in time up to this are the sensor's batches overlapping: put in order, not refused. */
export const MAX_STEP_BACK_MS = 50;
/** Readings that must carry on from a step far ahead before the step is believed. */
export const JUMP_CONFIRM_ROWS = 3;
/** Plausible unix_seconds for these files: 2000-01-01 to 2100-01-01. */
const EARLIEST_UNIX_SECONDS = 946_684_800;
const LATEST_UNIX_SECONDS = 4_102_444_800;

export type IssueSeverity = 'error' | 'warning';

export interface ImportIssue {
  file: string;
  line: number;
  severity: IssueSeverity;
  message: string;
}

export type ReportIssue = (issue: ImportIssue) => void;

export interface PlateReading {
  /** Unix time, milliseconds (fractions kept as in the file). */
  ms: number;
  grams: number;
  line: number;
}

export interface PlateFileCounts {
  accepted: number;
  rejected: number;
  /** Readings that stepped back at most MAX_STEP_BACK_MS and were put in order. */
  reordered: number;
}

/** What a time that is not plausible unix_seconds most likely is, or null when it is plausible. */
export function wrongTimeUnit(seconds: number): string | null {
  if (seconds >= EARLIEST_UNIX_SECONDS && seconds <= LATEST_UNIX_SECONDS) return null;
  const units: Array<[string, number]> = [['milliseconds', 1e3], ['microseconds', 1e6], ['nanoseconds', 1e9]];
  for (const [unit, perSecond] of units)
    if (seconds >= EARLIEST_UNIX_SECONDS * perSecond && seconds <= LATEST_UNIX_SECONDS * perSecond)
      return `looks like ${unit} since 1970, not seconds (divide by ${perSecond} to import it)`;
  if (seconds < EARLIEST_UNIX_SECONDS) return 'is before the year 2000: not seconds since 1970 (seconds since some other start?)';
  return 'is after the year 2100: not seconds since 1970';
}

/** A number from a CSV field; NaN for an empty one (Number('') would be 0). */
export const numberField = (text: string | undefined): number => (text === undefined || text.trim() === '' ? Number.NaN : Number(text));

/**
 * The records of a small CSV (products, ground truth) with an optional header naming `expected`,
 * fields trimmed. A last line without its newline is kept and warned about (hand-written lists often
 * end so; a file cut short would end so too).
 */
export async function* csvRows(
  file: string,
  expected: string[],
  report: ReportIssue,
  options: { firstIsNumber: boolean },
): AsyncGenerator<{ line: number; fields: string[] }> {
  let first = true;
  for await (const record of readCsvRecords(file)) {
    if (isBlankRecord(record.fields)) continue;
    const fields = record.fields.map((field) => field.trim());
    if (first) {
      first = false;
      if (isHeader(record.line, fields, expected, options.firstIsNumber, file, report)) continue;
    }
    if (record.unterminated)
      report({ file, line: record.line, severity: 'warning', message: 'the last line has no newline: if the file was cut short, its last value is wrong; check it' });
    yield { line: record.line, fields };
  }
}

/**
 * A header row is optional; a first row is one when it starts with the first column's name, or with
 * a word where the first column is a number. A header must name the expected columns.
 */
function isHeader(line: number, fields: string[], expected: string[], firstIsNumber: boolean, file: string, report: ReportIssue): boolean {
  const first = fields[0]?.toLowerCase();
  if (first !== expected[0] && !(firstIsNumber && Number.isNaN(numberField(first)))) return false;
  const header = fields.map((field) => field.toLowerCase());
  if (header.length !== expected.length || expected.some((name, i) => header[i] !== name))
    report({ file, line, severity: 'error', message: `header should be "${expected.join(',')}", found "${fields.join(',')}"` });
  return true;
}

/** Puts one file's readings in time order as they come; see the module comment for the rules. */
class PlateTimeline {
  private newest = -Infinity;
  private newestLine = 0;
  /** A step far ahead and the readings that carry on from it, not yet believed. */
  private held: PlateReading[] = [];
  /** Accepted readings, in time order, that a later small step back could still come before. */
  private pending: PlateReading[] = [];
  stepsBack = 0;
  largestStepBackMs = 0;
  firstStepBackLine = 0;

  constructor(
    private readonly file: string,
    private readonly report: ReportIssue,
    private readonly counts: PlateFileCounts,
  ) {}

  /** Takes the next reading of the file; gives the readings now safe to pass on, in time order. */
  push(reading: PlateReading): PlateReading[] {
    if (this.held.length > 0) return this.pushWhileHeld(reading);
    // The first reading is held like a step ahead: it may be the one bad row, ahead of all the rest.
    if (this.newest === -Infinity || reading.ms > this.newest + MAX_STEP_BACK_MS) {
      this.held.push(reading);
      return [];
    }
    if (reading.ms < this.newest - MAX_STEP_BACK_MS) {
      this.reject(reading, `time goes back ${seconds(this.newest - reading.ms)} s to before line ${this.newestLine}: this row is left out`);
      return [];
    }
    return this.accept(reading);
  }

  /** The end of the file: what is held has nothing after it to contradict it. */
  finish(): PlateReading[] {
    const ready = this.held.flatMap((reading) => this.accept(reading));
    this.held = [];
    return [...ready, ...this.pending.splice(0)];
  }

  private pushWhileHeld(reading: PlateReading): PlateReading[] {
    const lastHeld = this.held[this.held.length - 1];
    if (reading.ms >= lastHeld.ms - MAX_STEP_BACK_MS) {
      this.held.push(reading);
      if (this.held.length <= JUMP_CONFIRM_ROWS) return [];
      // Enough readings carry on from the step: a real gap in the data.
      const gap = this.held.splice(0);
      return gap.flatMap((held) => this.accept(held));
    }
    if (this.newest === -Infinity || reading.ms >= this.newest - MAX_STEP_BACK_MS) {
      // Back to where the file was: the step ahead was the bad part, not what follows it.
      for (const bad of this.held.splice(0)) {
        const around = this.newest === -Infinity ? `the rows after it (line ${reading.line})` : `the rows around it (lines ${this.newestLine} and ${reading.line})`;
        this.reject(bad, `time is ${seconds(bad.ms - Math.max(this.newest, reading.ms))} s ahead of ${around}: this row is left out`);
      }
      return this.push(reading);
    }
    this.reject(reading, `time goes back ${seconds(this.newest - reading.ms)} s to before line ${this.newestLine}: this row is left out`);
    return [];
  }

  private accept(reading: PlateReading): PlateReading[] {
    if (reading.ms < this.newest) {
      this.stepsBack++;
      this.counts.reordered++;
      this.largestStepBackMs = Math.max(this.largestStepBackMs, this.newest - reading.ms);
      if (this.firstStepBackLine === 0) this.firstStepBackLine = reading.line;
    } else {
      this.newest = reading.ms;
      this.newestLine = reading.line;
    }
    this.counts.accepted++;
    // Stable insertion from the end: the buffer holds only the last MAX_STEP_BACK_MS of readings.
    let at = this.pending.length;
    while (at > 0 && this.pending[at - 1].ms > reading.ms) at--;
    this.pending.splice(at, 0, reading);
    let safe = 0;
    while (safe < this.pending.length && this.pending[safe].ms <= this.newest - MAX_STEP_BACK_MS) safe++;
    return safe === 0 ? [] : this.pending.splice(0, safe);
  }

  private reject(reading: PlateReading, message: string): void {
    this.counts.rejected++;
    this.report({ file: this.file, line: reading.line, severity: 'error', message });
  }
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * The readings of one plate file in time order, bad rows reported (error) and left out, small steps
 * back put in order and reported once (warning). `report` may be a no-op on a second reading.
 */
export async function* readPlateCsv(file: string, report: ReportIssue, counts: PlateFileCounts): AsyncGenerator<PlateReading> {
  const timeline = new PlateTimeline(file, report, counts);
  const reject = (line: number, message: string) => {
    counts.rejected++;
    report({ file, line, severity: 'error', message });
  };
  let first = true;
  /** Whether a time was read yet: the first one sets the unit of the whole file. */
  let anyTime = false;
  for await (const record of readCsvRecords(file)) {
    if (isBlankRecord(record.fields)) continue;
    const { line, fields } = record;
    if (first) {
      first = false;
      if (isHeader(line, fields.map((field) => field.trim()), ['unix_seconds', 'grams'], true, file, report)) continue;
    }
    const unixSeconds = numberField(fields[0]);
    const grams = numberField(fields[1]);
    if (record.unterminated) {
      counts.rejected++;
      report({ file, line, severity: 'warning', message: 'the last line has no newline: the file may have been cut inside it, so it is left out' });
      continue;
    }
    if (fields.length !== 2) {
      reject(line, `expected 2 columns (unix_seconds,grams), found ${fields.length}`);
      continue;
    }
    if (!Number.isFinite(unixSeconds)) {
      reject(line, `unix_seconds is not a number: "${fields[0]}"`);
      continue;
    }
    if (!Number.isFinite(grams)) {
      reject(line, `grams is not a number: "${fields[1]}"`);
      continue;
    }
    const unit = wrongTimeUnit(unixSeconds);
    if (unit && !anyTime) {
      // The first reading sets the unit of the whole file: a file in milliseconds is refused whole.
      counts.rejected++;
      report({ file, line, severity: 'error', message: `unix_seconds ${fields[0].trim()} ${unit}: the plate is left out` });
      return;
    }
    anyTime = true;
    if (unit) {
      reject(line, `unix_seconds ${fields[0].trim()} ${unit}: this row is left out`);
      continue;
    }
    yield* timeline.push({ ms: unixSeconds * 1000, grams, line });
  }
  yield* timeline.finish();
  if (timeline.stepsBack > 0)
    report({
      file,
      line: timeline.firstStepBackLine,
      severity: 'warning',
      message: `${timeline.stepsBack} readings step back in time, by up to ${timeline.largestStepBackMs.toFixed(0)} ms (where the sensor's batches meet; the first here): put in time order`,
    });
}
