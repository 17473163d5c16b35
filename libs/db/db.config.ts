import { z } from 'zod';
import { WalkoutError } from '../contracts/errors.ts';
import { describeIssues } from '../contracts/store.load.ts';

/**
 * Which database to open, validated once into a frozen object, every bad value reported at once by
 * the environment variable a person would have to fix (the house style of libs/bus/bus.config.ts).
 *
 *   WALKOUT_DATABASE_URL     empty or "embedded": PGlite in memory (gone when the process ends);
 *                            "embedded:/some/dir": PGlite keeping its files in that folder;
 *                            "postgres://user@host:port/db": the PostgreSQL server
 *   WALKOUT_DATABASE_SCHEMA  PostgreSQL schema for every table (default "public"); tests use one of their own
 *   WALKOUT_DATABASE_POOL    connections to the server (default 10)
 */

const SchemaName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a schema is lower-case letters, digits and underscores, starting with a letter or underscore');

export const DatabaseConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('embedded'),
    dataDir: z.string().min(1).optional().describe('Folder of the embedded database; in memory when absent.'),
  }),
  z.strictObject({
    kind: z.literal('postgres'),
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'a server is a URL such as postgres://postgres@127.0.0.1:5432/test')
      .describe('Connection URL of the PostgreSQL server.'),
    schema: SchemaName.default('public').describe('The schema every table lives in (created when missing).'),
    poolSize: z.number().int().min(1).max(200).default(10).describe('Connections kept to the server.'),
  }),
]);

export type DatabaseConfigInput = z.input<typeof DatabaseConfigSchema>;
export type DatabaseConfig = Readonly<z.output<typeof DatabaseConfigSchema>>;

const KNOWN = ['WALKOUT_DATABASE_URL', 'WALKOUT_DATABASE_SCHEMA', 'WALKOUT_DATABASE_POOL'] as const;
export const DATABASE_ENV_VARIABLES: readonly string[] = Object.freeze([...KNOWN]);
const EMBEDDED_PREFIX = 'embedded:';

/** Validates a config object (tests, or a service's own config). */
export function parseDatabaseConfig(input: DatabaseConfigInput, source = 'database config'): DatabaseConfig {
  const result = DatabaseConfigSchema.safeParse(input);
  if (!result.success) {
    throw new WalkoutError('CONFIG_INVALID', `${source} is invalid:\n${describeIssues(result.error, source)}`, { details: result.error.issues });
  }
  return Object.freeze(result.data);
}

/** Reads WALKOUT_DATABASE_*; a misspelt variable of ours is an error, not a silent in-memory database. */
export function loadDatabaseConfig(env: Record<string, string | undefined> = process.env): DatabaseConfig {
  const problems: string[] = [];
  for (const name of Object.keys(env))
    if (name.startsWith('WALKOUT_DATABASE') && env[name] !== undefined && !(KNOWN as readonly string[]).includes(name))
      problems.push(`${name}: not a setting of the database (known: ${KNOWN.join(', ')})`);
  const url = (env.WALKOUT_DATABASE_URL ?? '').trim();
  const input: Record<string, unknown> = {};
  if (url === '' || url === 'embedded') input.kind = 'embedded';
  else if (url.startsWith(EMBEDDED_PREFIX)) Object.assign(input, { kind: 'embedded', dataDir: url.slice(EMBEDDED_PREFIX.length) });
  else if (/^postgres(ql)?:\/\//.test(url)) Object.assign(input, { kind: 'postgres', url });
  else problems.push(`WALKOUT_DATABASE_URL: "${url}" is neither "embedded", "embedded:<folder>" nor a postgres://... URL`);
  const postgresOnly = (name: 'WALKOUT_DATABASE_SCHEMA' | 'WALKOUT_DATABASE_POOL') =>
    env[name] !== undefined && input.kind !== 'postgres' ? problems.push(`${name}: only read for a postgres://... WALKOUT_DATABASE_URL`) : false;
  if (env.WALKOUT_DATABASE_SCHEMA !== undefined && !postgresOnly('WALKOUT_DATABASE_SCHEMA')) input.schema = env.WALKOUT_DATABASE_SCHEMA.trim();
  if (env.WALKOUT_DATABASE_POOL !== undefined && !postgresOnly('WALKOUT_DATABASE_POOL')) {
    const raw = env.WALKOUT_DATABASE_POOL.trim();
    if (/^\d+$/.test(raw)) input.poolSize = Number(raw);
    else problems.push(`WALKOUT_DATABASE_POOL: "${raw}" is not a whole number`);
  }
  const result = DatabaseConfigSchema.safeParse(input);
  if (!result.success && problems.length === 0)
    for (const issue of result.error.issues) problems.push(`${envNameFor(issue.path)}: ${issue.message}`);
  if (problems.length > 0 || !result.success)
    throw new WalkoutError('CONFIG_INVALID', `database environment is invalid:\n${problems.join('\n')}`, { details: problems });
  return Object.freeze(result.data);
}

function envNameFor(path: readonly PropertyKey[]): string {
  if (path[0] === 'schema') return 'WALKOUT_DATABASE_SCHEMA';
  if (path[0] === 'poolSize') return 'WALKOUT_DATABASE_POOL';
  return 'WALKOUT_DATABASE_URL';
}

/** The URL again, without a password, for logs. */
export function redactedUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
