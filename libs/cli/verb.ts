import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { WalkoutError } from '../contracts/index.ts';

/**
 * A command-line verb: its name (one or two words), a one-line summary, a usage text shown by
 * --help, its options, and what it does. Every verb that prints a report accepts --json.
 */
export interface Verb {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  allowPositionals?: boolean;
  run(args: { values: Record<string, string | boolean | string[] | boolean[] | undefined>; positionals: string[] }): Promise<void>;
}

export function parseVerbArgs(verb: Verb, argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { ...verb.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: verb.allowPositionals ?? false,
      strict: true,
    });
  } catch (cause) {
    throw new WalkoutError('USAGE', `walkout ${verb.name}: ${(cause as Error).message}\n\n${verb.usage}`, { cause });
  }
}

export function requireString(values: Record<string, unknown>, name: string, verb: Verb): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '')
    throw new WalkoutError('USAGE', `walkout ${verb.name}: --${name} is required\n\n${verb.usage}`);
  return value;
}

/** What a whole-number option accepts, and the words its refusal uses. */
export interface WholeNumberRange {
  /** Smallest value accepted. */
  min?: number;
  /** Largest value accepted. */
  max?: number;
  /** What the number counts: "seconds", "frames". */
  unit?: string;
  /** Why the range is what it is, said after it: "MAX_SCENARIO_SECONDS, the longest the simulator records". */
  why?: string;
  /** A word the caller takes besides numbers, said in the refusal: '"infinity"'. */
  or?: string;
}

/** A whole-number option, `fallback` when absent; anything else, or a number out of `range`, is a usage error naming the range. */
export function optionalInt(values: Record<string, unknown>, name: string, verb: Verb, fallback: number, range: WholeNumberRange = {}): number {
  const value = values[name];
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  const { min, max } = range;
  if (!Number.isInteger(n) || (min !== undefined && n < min) || (max !== undefined && n > max))
    throw new WalkoutError('USAGE', `walkout ${verb.name}: --${name} must be ${describeRange(range)}got "${String(value)}"`);
  return n;
}

/** "a whole number of frames, 1 or more, " or "..., or "infinity"; ": the words before "got". */
function describeRange({ min, max, unit, why, or }: WholeNumberRange): string {
  const bounds =
    min !== undefined && max !== undefined ? `from ${min} to ${max}` : min !== undefined ? `${min} or more` : max !== undefined ? `at most ${max}` : undefined;
  const parts = [`a whole number${unit ? ` of ${unit}` : ''}`, ...(bounds ? [`${bounds}${why ? ` (${why})` : ''}`] : [])];
  return or ? `${parts.join(', ')}, or ${or}; ` : `${parts.join(', ')}, `;
}

/** The stores that come with walkout, one file per store id; relative to the repository, where the CLI runs. */
const STORE_FIXTURES = 'fixtures/stores';

/** The file of a --store: a store file as given ("my-shop.json"), or the id of a store under fixtures/stores ("kiosk"). */
export function storeFile(store: string): string {
  return store.endsWith('.json') ? store : path.join(STORE_FIXTURES, `${store}.json`);
}

/** Prints a report as JSON or as the verb's text form. */
export function report(json: boolean, data: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
}
