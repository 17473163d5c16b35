export * from './entry.code.ts';
export * from './entry.keys.ts';
export * from './entry.verifier.ts';
export * from './nonce.store.ts';
export * from './account.status.ts';
export * from './entry.qr.ts';
