import assert from 'node:assert/strict';
import test from 'node:test';
import { WalkoutError } from '../contracts/errors.ts';
import { loadDatabaseConfig, parseDatabaseConfig, redactedUrl } from './db.config.ts';

const configError = (work: () => unknown): WalkoutError => {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof WalkoutError && error.code === 'CONFIG_INVALID', String(error));
    return error;
  }
  assert.fail('expected CONFIG_INVALID');
};

test('no setting, or "embedded", is PGlite in memory; "embedded:<folder>" keeps its files there', () => {
  assert.deepEqual(loadDatabaseConfig({}), { kind: 'embedded' });
  assert.deepEqual(loadDatabaseConfig({ WALKOUT_DATABASE_URL: 'embedded' }), { kind: 'embedded' });
  assert.deepEqual(loadDatabaseConfig({ WALKOUT_DATABASE_URL: 'embedded:/var/lib/walkout' }), { kind: 'embedded', dataDir: '/var/lib/walkout' });
  assert.ok(Object.isFrozen(loadDatabaseConfig({})));
});

test('a postgres:// URL is the server, with its schema and pool', () => {
  assert.deepEqual(loadDatabaseConfig({ WALKOUT_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }), {
    kind: 'postgres',
    url: 'postgres://postgres@127.0.0.1:5432/test',
    schema: 'public',
    poolSize: 10,
  });
  const set = loadDatabaseConfig({ WALKOUT_DATABASE_URL: 'postgresql://u:secret@db/x', WALKOUT_DATABASE_SCHEMA: 'store_7', WALKOUT_DATABASE_POOL: '3' });
  assert.deepEqual([set.kind, set.kind === 'postgres' && set.schema, set.kind === 'postgres' && set.poolSize], ['postgres', 'store_7', 3]);
  assert.equal(redactedUrl('postgresql://u:secret@db/x'), 'postgresql://u:***@db/x');
});

test('every bad value is reported at once, by the variable to fix; a misspelt one is an error', () => {
  const error = configError(() =>
    loadDatabaseConfig({ WALKOUT_DATABASE_URI: 'postgres://x', WALKOUT_DATABASE_URL: 'mysql://db', WALKOUT_DATABASE_POOL: 'many' }),
  );
  assert.match(error.message, /WALKOUT_DATABASE_URI: not a setting of the database/);
  assert.match(error.message, /WALKOUT_DATABASE_URL: "mysql:\/\/db" is neither/);
  assert.match(error.message, /WALKOUT_DATABASE_POOL: only read for a postgres/);
  const schema = configError(() => loadDatabaseConfig({ WALKOUT_DATABASE_URL: 'postgres://db/x', WALKOUT_DATABASE_SCHEMA: 'Drop Table' }));
  assert.match(schema.message, /WALKOUT_DATABASE_SCHEMA: a schema is lower-case/);
  assert.match(configError(() => parseDatabaseConfig({ kind: 'postgres', url: 'postgres://db/x', poolSize: 0 })).message, /at poolSize/);
});
