import test from 'node:test';
import assert from 'node:assert/strict';
import { createRandom, type Random } from '../sim/random.ts';
import { EntryRefusalReason } from '../contracts/events.schema.ts';
import { MemoryAccountStatus } from './account.status.ts';
import { decodeEntryCode, MAX_VALIDITY_MS, signEntryCode } from './entry.code.ts';
import { createKeyRing, generateEntryKey, parseEntryKeys } from './entry.keys.ts';
import { checkEntryCode, createEntryVerifier, type EntryVerdict } from './entry.verifier.ts';
import { MemoryNonceStore } from './nonce.store.ts';

/**
 * The parser against everything a phone (or an attacker) could show the gate: random bytes, random
 * text, and valid codes mutated in every way we could think of. Whatever it is given, the checker
 * returns a refusal with a known reason and a detail, never throws, and never admits anything but
 * a code exactly as our issuer signed it. Seeded: a failure names its seed and case, and comes back.
 */

const SEED = Number(process.env.ENTRY_PROPERTY_SEED ?? 20_251_117);
const CASES_PER_KIND = 600;
const T0 = 1_780_000_000_000;
const STORE = 'kiosk';
const REASONS = new Set<string>(EntryRefusalReason.options);

const ours = generateEntryKey('k1');
const theirs = generateEntryKey('k1');
const keys = createKeyRing(parseEntryKeys({ keys: [ours, { ...generateEntryKey('old'), privateKey: undefined, state: 'retired' }] }));
const ourKey = keys.signingKey()!.key;
const theirKey = createKeyRing(parseEntryKeys({ keys: [theirs] })).signingKey()!.key;

const check = (text: unknown) => checkEntryCode(text, { keys, storeId: STORE, atMs: T0 + 1_000 });

function assertRefused(verdict: EntryVerdict, what: string, allowed?: readonly string[]) {
  assert.equal(verdict.admitted, false, `${what} was admitted`);
  if (verdict.admitted) return;
  assert.ok(REASONS.has(verdict.reason), `${what}: unknown reason ${verdict.reason}`);
  assert.ok(typeof verdict.detail === 'string' && verdict.detail.length > 0, `${what}: no detail`);
  if (allowed) assert.ok(allowed.includes(verdict.reason), `${what}: ${verdict.reason} (${verdict.detail}), expected ${allowed.join(' or ')}`);
}

const randomBytes = (random: Random, length: number) => Buffer.from(Array.from({ length }, () => random.int(0, 255)));
const randomId = (random: Random) => Array.from({ length: random.int(1, 12) }, () => random.pick([...'abcdefghijklmnopqrstuvwxyz0123456789'])).join('');

function validCode(random: Random, overrides: { storeId?: string; issuedAtMs?: number; validForMs?: number } = {}, key = ourKey) {
  return signEntryCode(
    { keyId: 'k1', accountId: `acct-${randomId(random)}`, storeId: overrides.storeId ?? STORE, issuedAtMs: overrides.issuedAtMs ?? T0, validForMs: overrides.validForMs ?? random.int(2_000, MAX_VALIDITY_MS) },
    key,
  );
}

/** The layout as docs/formats/entry-code.md gives it, written independently of the code under test. */
interface Layout {
  version: number;
  keyId: string;
  issuedAtMs: number;
  validForMs: number;
  nonce: Buffer;
  storeId: string;
  accountId: string;
  signature: Buffer;
}

function readLayout(code: string): Layout {
  const bytes = Buffer.from(code, 'base64url');
  let at = 0;
  const text = () => {
    const length = bytes[at];
    const value = bytes.subarray(at + 1, at + 1 + length).toString('ascii');
    at += 1 + length;
    return value;
  };
  const version = bytes[at++];
  const keyId = text();
  const issuedAtMs = bytes.readUIntBE(at, 6);
  const validForMs = bytes.readUInt16BE(at + 6);
  const nonce = bytes.subarray(at + 8, at + 24);
  at += 24;
  const storeId = text();
  const accountId = text();
  const signature = bytes.subarray(at, at + 64);
  assert.equal(at + 64, bytes.length, 'the layout accounts for every byte');
  return { version, keyId, issuedAtMs, validForMs, nonce, storeId, accountId, signature };
}

function writeLayout(layout: Layout): string {
  const text = (value: string) => Buffer.concat([Buffer.of(value.length), Buffer.from(value, 'ascii')]);
  const times = Buffer.alloc(8);
  times.writeUIntBE(layout.issuedAtMs, 0, 6);
  times.writeUInt16BE(layout.validForMs, 6);
  return Buffer.concat([Buffer.of(layout.version), text(layout.keyId), times, layout.nonce, text(layout.storeId), text(layout.accountId), layout.signature]).toString('base64url');
}

test('the documented layout is the code: read and written again independently, a code is the same text', () => {
  const random = createRandom(SEED);
  for (let i = 0; i < 50; i++) {
    const code = validCode(random);
    assert.equal(writeLayout(readLayout(code)), code);
    assert.equal(check(code).admitted, true, 'an untouched code passes');
  }
});

test('random input of any type, random bytes and random text: always a refusal, never a throw', () => {
  const random = createRandom(SEED + 1);
  for (const value of [undefined, null, 0, 1.5, true, {}, [], Buffer.from('x'), Symbol('s'), () => 1, ''.padEnd(100_000, 'A')]) assertRefused(check(value), `input ${String(typeof value)}`, ['malformed']);
  for (let i = 0; i < CASES_PER_KIND; i++) {
    const bytes = randomBytes(random, random.int(0, 300));
    // Random bytes shaped like a code now and then (version 1 and plausible lengths), so that the checks past the first are reached.
    if (bytes.length > 40 && random.chance(0.5)) {
      bytes[0] = 1;
      bytes[1] = random.int(1, 4);
    }
    assertRefused(check(bytes.toString('base64url')), `random bytes, case ${i} (seed ${SEED + 1})`, ['malformed', 'forged']);
  }
  const alphabet = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. \n\t%é€😀\u0000'];
  for (let i = 0; i < CASES_PER_KIND; i++) {
    const text = Array.from({ length: random.int(0, 400) }, () => random.pick(alphabet)).join('');
    assertRefused(check(text), `random text, case ${i} (seed ${SEED + 1})`, ['malformed', 'forged']);
  }
});

test('mutated valid codes: bit flips, character swaps, truncations and extensions are all refused', () => {
  const random = createRandom(SEED + 2);
  for (let i = 0; i < CASES_PER_KIND; i++) {
    const code = validCode(random);
    const bytes = Buffer.from(code, 'base64url');
    const flipped = Buffer.from(bytes);
    for (let flip = random.int(1, 3); flip > 0; flip--) {
      const bit = random.int(0, flipped.length * 8 - 1);
      flipped[bit >> 3] ^= 1 << (bit & 7);
    }
    if (!flipped.equals(bytes)) assertRefused(check(flipped.toString('base64url')), `bit flips, case ${i} (seed ${SEED + 2})`);

    // One character of the text changed: among others, the spare low bits of the last character, which a lax decoder ignores.
    const position = random.chance(0.3) ? code.length - 1 : random.int(0, code.length - 1);
    const replacement = random.pick([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_']);
    const changed = code.slice(0, position) + replacement + code.slice(position + 1);
    if (changed !== code) assertRefused(check(changed), `character ${position} changed, case ${i} (seed ${SEED + 2})`);

    assertRefused(check(code.slice(0, random.int(0, code.length - 1))), `text truncated, case ${i}`);
    assertRefused(check(bytes.subarray(0, random.int(0, bytes.length - 1)).toString('base64url')), `bytes truncated, case ${i}`);
    assertRefused(check(Buffer.concat([bytes, randomBytes(random, random.int(1, 40))]).toString('base64url')), `bytes appended, case ${i}`, ['malformed']);
    assertRefused(check(code + random.pick(['A', '=', '==', ' ', '\n', '.', code])), `text appended, case ${i}`);
  }
});

test('swapped and spliced fields, codes re-signed with another key, codes for another store or out of time: refused with the right reason', () => {
  const random = createRandom(SEED + 3);
  for (let i = 0; i < CASES_PER_KIND; i++) {
    const code = validCode(random);
    const layout = readLayout(code);
    const other = readLayout(validCode(random));
    const what = `case ${i} (seed ${SEED + 3})`;
    // The signature binds every field: change any one and keep the signature, and it is forged.
    const edits: Array<[string, Partial<Layout>]> = [
      ['store and account swapped', { storeId: layout.accountId, accountId: layout.storeId }],
      ['another account', { accountId: other.accountId === layout.accountId ? `${layout.accountId}x` : other.accountId }],
      ['issued later', { issuedAtMs: layout.issuedAtMs + random.int(1, 10_000) }],
      ['valid longer', { validForMs: layout.validForMs === MAX_VALIDITY_MS ? layout.validForMs - 1 : layout.validForMs + 1 }],
      ['another nonce', { nonce: other.nonce }],
      ['the signature of another code', { signature: other.signature }],
      ['the retired key id', { keyId: 'old' }],
      ['an unknown key id', { keyId: 'k2' }],
    ];
    for (const [name, edit] of edits) assertRefused(check(writeLayout({ ...layout, ...edit })), `${name}, ${what}`, ['forged']);
    assertRefused(check(writeLayout({ ...layout, version: random.int(2, 255) })), `another version, ${what}`, ['malformed']);
    assertRefused(check(writeLayout({ ...layout, validForMs: random.int(MAX_VALIDITY_MS + 1, 65_535) })), `valid too long, ${what}`, ['malformed']);
    assertRefused(check(validCode(random, {}, theirKey)), `re-signed with another key under our key id, ${what}`, ['forged']);
    assertRefused(check(validCode(random, { storeId: `store-${randomId(random)}` })), `another store, ${what}`, ['wrong-store']);
    const issuedAtMs = T0 - random.int(MAX_VALIDITY_MS, 10 * MAX_VALIDITY_MS);
    assertRefused(check(validCode(random, { issuedAtMs, validForMs: MAX_VALIDITY_MS })), `expired, ${what}`, ['expired']);
  }
});

test('the whole admission path (account standing, nonces) refuses mutated codes too, and admits each genuine code once', async () => {
  const random = createRandom(SEED + 4);
  const nonces = new MemoryNonceStore();
  const verifier = createEntryVerifier({ keys, storeId: STORE, nonces, accounts: new MemoryAccountStatus() });
  let admitted = 0;
  for (let i = 0; i < 300; i++) {
    const code = validCode(random);
    const bytes = Buffer.from(code, 'base64url');
    bytes[random.int(0, bytes.length - 1)] ^= 1 << random.int(0, 7);
    assertRefused(await verifier.admit(bytes.toString('base64url'), { claimant: `mutant-${i}`, atMs: T0 + 1_000 }), `mutant ${i}`);
    if ((await verifier.admit(code, { claimant: `reading-${i}`, atMs: T0 + 1_000 })).admitted) admitted++;
    assertRefused(await verifier.admit(code, { claimant: `again-${i}`, atMs: T0 + 1_500 }), `second reading ${i}`, ['used']);
  }
  assert.equal(admitted, 300);
  assert.equal(nonces.size, 300, 'only genuine codes spent a nonce');
  assert.equal(decodeEntryCode(validCode(random)).ok, true);
});
