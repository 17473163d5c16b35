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

export function optionalInt(values: Record<string, unknown>, name: string, verb: Verb, fallback: number): number {
  const value = values[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(n))
    throw new WalkoutError('USAGE', `walkout ${verb.name}: --${name} must be a number, got "${String(value)}"`);
  return n;
}

/** Prints a report as JSON or as the verb's text form. */
export function report(json: boolean, data: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
}
