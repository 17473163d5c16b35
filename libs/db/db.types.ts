/**
 * The database as services see it: SQL text with $1-style parameters, and transactions. Two adapters
 * implement it (PGlite, embedded in the process; the PostgreSQL server through `pg`), and one
 * contract suite (db.contract.test.ts) holds them to the same behaviour. The SQL is PostgreSQL's on
 * both, so every query and migration is written once.
 *
 * Numbers: bigint and integer columns come back as JavaScript numbers on both adapters (money is in
 * integer minor units and store-clock milliseconds, both far below 2^53); a bigint beyond the safe
 * range is an error, never a rounded value.
 */
export interface QueryResult<Row> {
  readonly rows: Row[];
  /** Rows the statement inserted, updated, deleted or returned. */
  readonly rowCount: number;
}

/** Runs one statement. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
}

export type DatabaseKind = 'embedded' | 'postgres';

export interface Database extends Queryable {
  readonly kind: DatabaseKind;
  /** Where it lives, for logs: "embedded (memory)", "embedded /var/lib/walkout", "postgres 127.0.0.1:5432/test schema s". */
  readonly describe: string;
  /**
   * Runs `work` in one transaction (READ COMMITTED): committed when it resolves, rolled back when it
   * throws (the error is thrown on). Statements of one transaction go through `tx` only.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Waits for what runs, then lets go of the connections (or the embedded database's files). */
  close(): Promise<void>;
}
