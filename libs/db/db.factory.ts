import type { DatabaseConfig } from './db.config.ts';
import type { Database } from './db.types.ts';
import { migrate } from './migrations.ts';

/**
 * Opens the database the config names and brings its schema up to date. The PostgreSQL adapter
 * (and `pg`) load only when asked for, as the Kafka bus does.
 */
export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  const db =
    config.kind === 'embedded'
      ? await (await import('./embedded.database.ts')).createEmbeddedDatabase({ dataDir: config.dataDir })
      : await (await import('./postgres.database.ts')).createPostgresDatabase({ url: config.url, schema: config.schema, poolSize: config.poolSize });
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
