import pg from 'pg';
import { WalkoutError } from '../contracts/errors.ts';
import type { Database, Queryable, QueryResult } from './db.types.ts';
import { INT8_OID, parseInt8 } from './int8.ts';
import { redactedUrl } from './db.config.ts';

/** SQLSTATE classes and node error codes that mean the server cannot be reached (or went away): retry helps. */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', '57P01', '57P02', '57P03', '53300']);

function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return (code !== undefined && UNAVAILABLE_CODES.has(code)) || /Connection terminated|connection timeout/i.test((error as Error)?.message ?? '');
}

/**
 * The PostgreSQL server through a `pg` pool, every table in one schema (search_path), created when
 * missing. Production's database; the tests give each run a schema of its own.
 */
export async function createPostgresDatabase(options: { url: string; schema?: string; poolSize?: number }): Promise<Database> {
  const schema = options.schema ?? 'public';
  const where = `postgres ${redactedUrl(options.url)} schema ${schema}`;
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    types,
    options: `-c search_path=${schema}`,
    connectionTimeoutMillis: 10_000,
  });
  // An idle connection the server dropped must not take the process down; the next query reconnects.
  pool.on('error', () => undefined);
  const unavailable = (cause: unknown) =>
    isUnavailable(cause) ? new WalkoutError('DATABASE_UNAVAILABLE', `${where}: ${(cause as Error).message}`, { cause }) : cause;
  const run = async <Row>(target: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> => {
    try {
      const result = await target.query(sql, params as unknown[] | undefined);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
    } catch (cause) {
      throw unavailable(cause);
    }
  };
  await ensureSchema(pool, schema).catch((cause) => {
    void pool.end();
    throw unavailable(cause);
  });
  return {
    kind: 'postgres',
    describe: where,
    query: (sql, params) => run(pool, sql, params),
    async transaction(work) {
      const client = await pool.connect().catch((cause) => {
        throw unavailable(cause);
      });
      let broken = false;
      try {
        await run(client, 'BEGIN');
        const scoped: Queryable = { query: (sql, params) => run(client, sql, params) };
        const result = await work(scoped);
        await run(client, 'COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

async function ensureSchema(pool: pg.Pool, schema: string): Promise<void> {
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (error) {
    // Two processes creating the schema at once: the loser sees a duplicate, which is what it wanted.
    if ((error as { code?: string }).code !== '23505' && (error as { code?: string }).code !== '42P06') throw error;
  }
}
