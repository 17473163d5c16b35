import { PGlite } from '@electric-sql/pglite';
import { WalkoutError } from '../contracts/errors.ts';
import type { Database, Queryable, QueryResult } from './db.types.ts';
import { INT8_OID, parseInt8 } from './int8.ts';

/**
 * The embedded database: PGlite, PostgreSQL compiled to WebAssembly, in this process. In memory by
 * default, or in a folder (`dataDir`) that survives the process: a SIGKILL loses nothing committed.
 * One process at a time may open a folder (PGlite has a single connection): the distributed
 * deployment is what the PostgreSQL server is for.
 */
export async function createEmbeddedDatabase(options: { dataDir?: string } = {}): Promise<Database> {
  let db: PGlite;
  try {
    db = await PGlite.create(options.dataDir, { parsers: { [INT8_OID]: parseInt8 } });
  } catch (cause) {
    throw new WalkoutError('DATABASE_UNAVAILABLE', `the embedded database${options.dataDir ? ` in ${options.dataDir}` : ''} could not be opened: ${(cause as Error).message}`, { cause });
  }
  const run = async <Row>(target: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> => {
    const result = await target.query<Row>(sql, params as unknown[] | undefined);
    return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
  };
  return {
    kind: 'embedded',
    describe: options.dataDir ? `embedded ${options.dataDir}` : 'embedded (memory)',
    query: (sql, params) => run(db, sql, params),
    transaction: (work) =>
      db.transaction(async (tx) => {
        const scoped: Queryable = { query: (sql, params) => run(tx, sql, params) };
        return work(scoped);
      }),
    close: async () => {
      if (!db.closed) await db.close();
    },
  };
}
