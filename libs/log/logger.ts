import { pino, type Level } from 'pino';
import { WalkoutError } from '../contracts/errors.ts';

/**
 * Structured logs: one JSON object a line (pino), on standard error so that a command's own output
 * (tables, --json) stays clean on standard output. Every service and the bus take a Logger in their
 * dependencies; nothing writes to the console by itself.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line also carries `fields` (the service's name, say). */
  child(fields: Record<string, unknown>): Logger;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
});

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where the lines go; standard error by default. */
  readonly destination?: NodeJS.WritableStream;
  readonly fields?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? DEFAULT_LOG_LEVEL;
  if (level === 'silent') return silentLogger;
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  const base = pino(
    { level: level satisfies Level, base: options.fields ?? {}, timestamp: pino.stdTimeFunctions.epochTime, formatters: { level: (label) => ({ level: label }) } },
    destination,
  );
  return wrap(base);
}

/** Reads WALKOUT_LOG_LEVEL (debug, info, warn, error or silent); anything else is an error that says so. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const value = env.WALKOUT_LOG_LEVEL?.trim().toLowerCase();
  if (value === undefined || value === '') return DEFAULT_LOG_LEVEL;
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new WalkoutError('CONFIG_INVALID', `WALKOUT_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${env.WALKOUT_LOG_LEVEL}"`);
}

function wrap(base: pino.Logger): Logger {
  const line = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
    fields === undefined ? base[level](message) : base[level](fields, message);
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: (fields) => wrap(base.child(fields)),
  };
}
