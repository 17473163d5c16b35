export * from './common.schema.ts';
export * from './store.schema.ts';
export * from './store.load.ts';
export * from './store.index.ts';
export * from './events.schema.ts';
export * from './topics.ts';
export * from './errors.ts';
export * from './recording.schema.ts';
