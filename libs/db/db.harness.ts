import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DatabaseConfig } from './db.config.ts';

/**
 * What the database tests share: the PostgreSQL server named by WALKOUT_POSTGRES_URL (.ci/run
 * exports it), with CI's rule: unreachable, the tests skip with the reason, except under CI=true,
 * where they fail. Each run works in a schema of its own, dropped at the end, so runs in parallel
 * never see each other's rows.
 */

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export type PostgresTarget = { url: string } | { skip: string } | { fail: string };

/** Asks the server for `SELECT 1` within a few seconds; the reason it could not, or null. */
export async function postgresProblem(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message || String((error as { code?: string }).code);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function postgresTarget(env: Record<string, string | undefined> = process.env): Promise<PostgresTarget> {
  const url = env.WALKOUT_POSTGRES_URL?.trim() || (env.CI === 'true' ? '' : DEFAULT_POSTGRES_URL);
  if (!url) return { fail: 'CI=true but WALKOUT_POSTGRES_URL is not set: .ci/run must check the PostgreSQL server and export it' };
  const problem = await postgresProblem(url);
  if (problem === null) return { url };
  const why = `the PostgreSQL server at ${url} does not answer (${problem})`;
  return env.CI === 'true' ? { fail: `CI=true and ${why}` } : { skip: `${why}; set WALKOUT_POSTGRES_URL to a reachable server` };
}

/** A fresh schema name for one test run. */
export function freshSchema(prefix = 'walkout_test'): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** One kind of database a contract suite runs against, how to get a fresh one, and how to clean up. */
export interface DatabaseKindUnderTest {
  readonly name: string;
  readonly skip: string | false;
  readonly fail?: string;
  /** A config for a database nobody else uses; the same `place` gives the same database again. */
  config(place?: string): Promise<DatabaseConfig>;
  cleanup(): Promise<void>;
}

export function embeddedMemoryKind(): DatabaseKindUnderTest {
  return { name: 'embedded (memory)', skip: false, config: async () => ({ kind: 'embedded' }), cleanup: async () => undefined };
}

/** PGlite in folders under one temporary folder: the same place opens the same files again. */
export function embeddedDiskKind(): DatabaseKindUnderTest {
  let root: string | undefined;
  return {
    name: 'embedded (disk)',
    skip: false,
    async config(place = randomUUID()) {
      root ??= await mkdtemp(path.join(tmpdir(), 'walkout-db-'));
      return { kind: 'embedded', dataDir: path.join(root, place) };
    },
    cleanup: async () => {
      if (root) await rm(root, { recursive: true, force: true });
    },
  };
}

/** The server, a fresh schema per place. */
export function postgresKind(target: PostgresTarget): DatabaseKindUnderTest {
  const schemas = new Map<string, string>();
  return {
    name: 'postgres',
    skip: 'skip' in target ? target.skip : false,
    ...('fail' in target ? { fail: target.fail } : {}),
    async config(place = randomUUID()) {
      if (!('url' in target)) throw new Error('no PostgreSQL server');
      if (!schemas.has(place)) schemas.set(place, freshSchema());
      return { kind: 'postgres', url: target.url, schema: schemas.get(place)!, poolSize: 5 };
    },
    async cleanup() {
      if ('url' in target) for (const schema of schemas.values()) await dropSchema(target.url, schema);
    },
  };
}
