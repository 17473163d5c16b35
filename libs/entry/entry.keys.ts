import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { WalkoutError } from '../contracts/errors.ts';
import { describeIssues } from '../contracts/store.load.ts';
import { deepFreeze } from '../bus/delivery.ts';
import type { Logger } from '../log/logger.ts';
import { MAX_KEY_ID_LENGTH } from './entry.code.ts';

/**
 * The keys entry codes are signed and checked with, from configuration: validated once, frozen.
 * Each key has an id (carried in every code) and a state, which is how keys rotate
 * (docs/stages/gate.md#rotating-keys):
 * - active: new codes are signed with it (the issuer needs its private key); gates accept it;
 * - verifying: gates still accept codes signed with it, nobody signs with it any more;
 * - retired: gates refuse codes signed with it (as forged).
 * Gates need only the public keys; only the issuer (the app API) holds a private key.
 */

const ED25519_KEY_BYTES = 32;
const Base64urlKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, `an Ed25519 key is ${ED25519_KEY_BYTES} bytes as unpadded base64url (43 characters)`);

export const EntryKeyConfig = z
  .strictObject({
    id: z
      .string()
      .max(MAX_KEY_ID_LENGTH)
      .regex(/^[a-z0-9][a-z0-9._-]*$/, 'key ids are lower-case letters, digits, dot, dash or underscore')
      .describe('Carried in every code signed with this key, so that a gate knows which public key to check it with.'),
    publicKey: Base64urlKey.describe('The Ed25519 public key (the JWK "x" value).'),
    privateKey: Base64urlKey.optional().describe('The Ed25519 private key (the JWK "d" value); only the issuer of codes has it, and only for the active key.'),
    state: z.enum(['active', 'verifying', 'retired']).describe('active: signs new codes; verifying: still accepted, not used to sign; retired: codes signed with it are refused.'),
  })
  .describe('One entry-code key.');

export const EntryKeysConfigSchema = z
  .strictObject({
    keys: z.array(EntryKeyConfig).min(1, 'name at least one key').describe('Every key a gate may meet, retired ones included (their codes are refused by name).'),
  })
  .superRefine((config, ctx) => {
    for (const issue of [...idsUnique(config), ...oneActiveKey(config), ...privateKeysMatch(config), ...noPrivateRetired(config)]) ctx.addIssue(issue);
  });

export type EntryKeyConfig = z.infer<typeof EntryKeyConfig>;
export type EntryKeysConfig = Readonly<z.infer<typeof EntryKeysConfigSchema>>;
type Issue = { code: 'custom'; message: string; path: (string | number)[] };

function idsUnique(config: EntryKeysConfig): Issue[] {
  const seen = new Set<string>();
  return config.keys.flatMap((key, i) => {
    if (!seen.has(key.id)) {
      seen.add(key.id);
      return [];
    }
    return [{ code: 'custom' as const, path: ['keys', i, 'id'], message: `key id "${key.id}" is used twice` }];
  });
}

function oneActiveKey(config: EntryKeysConfig): Issue[] {
  const active = config.keys.filter((key) => key.state === 'active');
  return active.length <= 1 ? [] : [{ code: 'custom', path: ['keys'], message: `only one key signs new codes; ${active.map((key) => `"${key.id}"`).join(' and ')} are all active` }];
}

function privateKeysMatch(config: EntryKeysConfig): Issue[] {
  return config.keys.flatMap((key, i) => {
    if (!key.privateKey) return [];
    const derived = publicKeyOfPrivate(key);
    if (derived === key.publicKey) return [];
    return [{ code: 'custom' as const, path: ['keys', i, 'privateKey'], message: `the private key of "${key.id}" is not the one of its public key` }];
  });
}

function noPrivateRetired(config: EntryKeysConfig): Issue[] {
  return config.keys.flatMap((key, i) =>
    key.state === 'retired' && key.privateKey ? [{ code: 'custom' as const, path: ['keys', i, 'privateKey'], message: `"${key.id}" is retired: remove its private key` }] : [],
  );
}

function publicKeyOfPrivate(key: EntryKeyConfig): string | undefined {
  try {
    return createPublicKey(privateKeyObject(key)).export({ format: 'jwk' }).x;
  } catch {
    return undefined;
  }
}

const publicKeyObject = (key: EntryKeyConfig) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.publicKey }, format: 'jwk' });
const privateKeyObject = (key: EntryKeyConfig) => createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.publicKey, d: key.privateKey }, format: 'jwk' });

/** Validates a key configuration (a keys file, or a test's), listing every problem at once. */
export function parseEntryKeys(input: unknown, source = 'entry keys'): EntryKeysConfig {
  const result = EntryKeysConfigSchema.safeParse(input);
  if (!result.success) {
    throw new WalkoutError('CONFIG_INVALID', `${source} is invalid:\n${describeIssues(result.error, source)}`, { details: result.error.issues });
  }
  return deepFreeze(result.data);
}

/** A fresh Ed25519 key in the configuration's shape (for a keys file, a test, or the embedded store's dev key). */
export function generateEntryKey(id: string, state: EntryKeyConfig['state'] = 'active'): EntryKeyConfig {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { id, publicKey: jwk.x!, privateKey: jwk.d!, state };
}

/** What a gate and an issuer need of the keys: a public key by id (or that it is retired), and the key to sign with. */
export interface EntryKeyRing {
  /** The embedded store's throw-away key: codes signed with it mean nothing after a restart. */
  readonly dev: boolean;
  verificationKey(keyId: string): { state: 'usable'; key: KeyObject } | { state: 'retired' } | { state: 'unknown' };
  /** The active key and its private key; undefined where no private key is configured (a gate). */
  signingKey(): { keyId: string; key: KeyObject } | undefined;
}

export function createKeyRing(config: EntryKeysConfig, options: { dev?: boolean } = {}): EntryKeyRing {
  const usable = new Map<string, KeyObject>();
  const retired = new Set<string>();
  for (const key of config.keys) {
    if (key.state === 'retired') retired.add(key.id);
    else usable.set(key.id, publicKeyObject(key));
  }
  const active = config.keys.find((key) => key.state === 'active' && key.privateKey);
  const signing = active && { keyId: active.id, key: privateKeyObject(active) };
  return Object.freeze({
    dev: options.dev ?? false,
    verificationKey(keyId: string) {
      const key = usable.get(keyId);
      if (key) return { state: 'usable' as const, key };
      return retired.has(keyId) ? { state: 'retired' as const } : { state: 'unknown' as const };
    },
    signingKey: () => signing,
  });
}

export const ENTRY_KEYS_FILE_VARIABLE = 'WALKOUT_ENTRY_KEYS_FILE';
const ENTRY_PREFIX = 'WALKOUT_ENTRY_';
export const DEV_KEY_ID = 'dev';

/**
 * The key ring from the environment: WALKOUT_ENTRY_KEYS_FILE names a JSON file
 * (`{ "keys": [...] }`, see EntryKeysConfigSchema). Without it, an embedded store (the in-process
 * bus: one process issues and checks codes) gets a key made up at start, with a warning; a
 * distributed one (Kafka) refuses to start, since its gates and its issuer would each make up a
 * different key and no code would ever pass.
 */
export function loadEntryKeys(options: { env?: Record<string, string | undefined>; embedded: boolean; logger: Logger }): EntryKeyRing {
  const env = options.env ?? process.env;
  const unknown = Object.keys(env).filter((name) => name.startsWith(ENTRY_PREFIX) && name !== ENTRY_KEYS_FILE_VARIABLE && env[name] !== undefined);
  if (unknown.length > 0) throw new WalkoutError('CONFIG_INVALID', `${unknown.join(', ')}: not a setting of entry codes (known: ${ENTRY_KEYS_FILE_VARIABLE})`);
  const file = env[ENTRY_KEYS_FILE_VARIABLE];
  if (file) return createKeyRing(parseEntryKeys(readKeysFile(file), file));
  if (!options.embedded)
    throw new WalkoutError('CONFIG_INVALID', `${ENTRY_KEYS_FILE_VARIABLE} is not set: a distributed store needs the entry-code keys every gate and the issuer share (a made-up key is only for the embedded store)`);
  options.logger.warn(`entry codes are signed with a key made up at start (${ENTRY_KEYS_FILE_VARIABLE} is not set): fine for the embedded store, never for a real one`, { keyId: DEV_KEY_ID });
  return createKeyRing(parseEntryKeys({ keys: [generateEntryKey(DEV_KEY_ID)] }, 'dev key'), { dev: true });
}

function readKeysFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new WalkoutError('CONFIG_INVALID', `${ENTRY_KEYS_FILE_VARIABLE}: cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new WalkoutError('CONFIG_INVALID', `${file}: not JSON: ${(cause as Error).message}`, { cause });
  }
}
