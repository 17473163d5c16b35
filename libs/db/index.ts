export * from './db.types.ts';
export * from './db.config.ts';
export * from './db.factory.ts';
export * from './migrations.ts';
