import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { WalkoutError } from '../contracts/errors.ts';
import type { Database, Queryable } from './db.types.ts';

/**
 * The schema, as numbered SQL files in libs/db/migrations (`001_checkout.sql`, `002_...`), applied in
 * order, each once, recorded in `schema_migrations` with a checksum. The same files run on PGlite and
 * on the server. Safe when two processes start at once: the whole run holds a transaction-scoped
 * advisory lock (per schema), so the second waits, then finds everything applied. A migration that
 * was applied and then edited is an error: the database no longer matches the files.
 */

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d{3})_[a-z0-9_-]+\.sql$/;

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export function readMigrations(dir: URL = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir).filter((file) => file.endsWith('.sql')).sort();
  return files.map((name) => {
    const match = FILE_NAME.exec(name);
    if (!match) throw new WalkoutError('MIGRATION_INVALID', `${new URL(name, dir).pathname}: a migration is named NNN_words.sql`);
    const sql = readFileSync(new URL(name, dir), 'utf8');
    return { version: Number(match[1]), name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

/** The statements of a migration: each ends with a semicolon at the end of a line; comments dropped. */
export function statementsOf(sql: string): string[] {
  const lines = sql.split('\n').filter((line) => !line.trimStart().startsWith('--'));
  return lines
    .join('\n')
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

export interface MigrationRun {
  /** Versions applied by this call (none when another process, or an earlier start, did). */
  readonly applied: number[];
  readonly current: number;
}

export async function migrate(db: Database, migrations: readonly Migration[] = readMigrations()): Promise<MigrationRun> {
  if (await allApplied(db, migrations)) return { applied: [], current: Math.max(0, ...migrations.map((migration) => migration.version)) };
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('walkout.migrations.' || current_schema()))`);
    await tx.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_ms bigint NOT NULL)',
    );
    const done = new Map((await tx.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations')).rows.map((row) => [row.version, row]));
    const applied: number[] = [];
    for (const migration of migrations) {
      const previous = done.get(migration.version);
      if (previous) {
        if (previous.checksum !== migration.checksum)
          throw new WalkoutError(
            'MIGRATION_INVALID',
            `migration ${migration.name} was applied as ${previous.name} with other contents (checksum ${previous.checksum.slice(0, 12)}, the file now ${migration.checksum.slice(0, 12)}): add a new migration instead of editing an applied one`,
          );
        continue;
      }
      await applyOne(tx, migration);
      applied.push(migration.version);
    }
    return { applied, current: Math.max(0, ...migrations.map((migration) => migration.version)) };
  });
}

/**
 * Whether every migration is recorded, unchanged: a restart's usual case, answered by one read
 * without the lock and the DDL of a migration run (about a second on PGlite, where restarts are
 * slowest). Anything else (a table not there yet, a migration missing or edited) takes the locked
 * path, which applies or refuses.
 */
async function allApplied(db: Queryable, migrations: readonly Migration[]): Promise<boolean> {
  let recorded: Map<number, string>;
  try {
    recorded = new Map((await db.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migrations')).rows.map((row) => [row.version, row.checksum]));
  } catch {
    return false;
  }
  return migrations.every((migration) => recorded.get(migration.version) === migration.checksum);
}

async function applyOne(tx: Queryable, migration: Migration): Promise<void> {
  for (const statement of statementsOf(migration.sql)) {
    try {
      await tx.query(statement);
    } catch (cause) {
      throw new WalkoutError('MIGRATION_INVALID', `migration ${migration.name} failed at "${statement.split('\n')[0]}": ${(cause as Error).message}`, { cause });
    }
  }
  await tx.query('INSERT INTO schema_migrations (version, name, checksum, applied_ms) VALUES ($1, $2, $3, $4)', [
    migration.version,
    migration.name,
    migration.checksum,
    Date.now(),
  ]);
}
