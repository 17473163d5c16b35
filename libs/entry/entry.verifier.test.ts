import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../clock/clock.ts';
import { recordingLogger } from '../bus/bus.harness.ts';
import { WalkoutError } from '../contracts/errors.ts';
import { MemoryAccountStatus } from './account.status.ts';
import { decodeEntryCode, MAX_VALIDITY_MS, signEntryCode } from './entry.code.ts';
import { createKeyRing, generateEntryKey, loadEntryKeys, parseEntryKeys, type EntryKeyConfig } from './entry.keys.ts';
import { checkEntryCode, CLOCK_SKEW_MS, createEntryIssuer, createEntryVerifier } from './entry.verifier.ts';
import { MemoryNonceStore } from './nonce.store.ts';

const T0 = 1_780_000_000_000;
const STORE = 'kiosk';

function setup(keys: EntryKeyConfig[] = [generateEntryKey('k1')]) {
  const ring = createKeyRing(parseEntryKeys({ keys }));
  const clock = new ManualClock(T0);
  const accounts = new MemoryAccountStatus();
  const nonces = new MemoryNonceStore();
  const issuer = createEntryIssuer({ keys: ring, clock });
  const verifier = createEntryVerifier({ keys: ring, storeId: STORE, nonces, accounts, clock });
  return { ring, clock, accounts, nonces, issuer, verifier };
}

test('a code signed for an account and a store reads back as exactly those fields, and is short enough for a small QR code', () => {
  const { issuer, ring } = setup();
  const issued = issuer.issue({ accountId: 'acct-000123', storeId: STORE });
  const verdict = checkEntryCode(issued.code, { keys: ring, storeId: STORE, atMs: T0 });
  assert.equal(verdict.admitted, true);
  assert.deepEqual(verdict.code, { version: 1, keyId: 'k1', accountId: 'acct-000123', storeId: STORE, issuedAtMs: T0, validForMs: MAX_VALIDITY_MS, nonce: issued.nonce });
  assert.equal(issued.expiresAtMs, T0 + MAX_VALIDITY_MS);
  assert.match(issued.code, /^[A-Za-z0-9_-]+$/);
  // 1 + 3 + 8 + 16 + 6 + 12 + 64 bytes = 110, as base64url.
  assert.equal(issued.code.length, Math.ceil((110 * 4) / 3));
  assert.notEqual(issuer.issue({ accountId: 'acct-000123', storeId: STORE }).nonce, issued.nonce, 'every code its own nonce');
});

test('a code is good from when it was issued for its validity on the store clock, and not a millisecond after', () => {
  const { issuer, ring, clock } = setup();
  const { code } = issuer.issue({ accountId: 'acct-1', storeId: STORE });
  const at = (atMs: number) => checkEntryCode(code, { keys: ring, storeId: STORE, atMs });
  assert.equal(at(T0).admitted, true);
  assert.equal(at(T0 + MAX_VALIDITY_MS - 1).admitted, true);
  const late = at(T0 + MAX_VALIDITY_MS);
  assert.equal(late.admitted === false && late.reason, 'expired');
  // An issuer a little ahead of the store clock is tolerated; much ahead is not.
  assert.equal(at(T0 - CLOCK_SKEW_MS).admitted, true);
  const early = at(T0 - CLOCK_SKEW_MS - 1);
  assert.equal(early.admitted === false && early.reason, 'expired');
  assert.equal(clock.now(), T0, 'checking does not move the clock');
  assert.throws(() => createEntryIssuer({ keys: ring, clock, validForMs: MAX_VALIDITY_MS + 1 }), /1 to 30000 ms/);
});

test('a code for another store is refused as wrong-store, naming both stores', () => {
  const { issuer, ring } = setup();
  const { code } = issuer.issue({ accountId: 'acct-1', storeId: 'downtown' });
  const verdict = checkEntryCode(code, { keys: ring, storeId: STORE, atMs: T0 });
  assert.equal(verdict.admitted, false);
  assert.equal(!verdict.admitted && verdict.reason, 'wrong-store');
  assert.match(!verdict.admitted ? verdict.detail : '', /downtown.*kiosk/);
});

test('a code signed with a key the gate does not know, or with another key under a known id, is forged', () => {
  const { ring } = setup();
  const stranger = createKeyRing(parseEntryKeys({ keys: [generateEntryKey('k9')] })).signingKey()!;
  const unknownKey = signEntryCode({ keyId: 'k9', accountId: 'acct-1', storeId: STORE, issuedAtMs: T0, validForMs: 1000 }, stranger.key);
  const verdict = checkEntryCode(unknownKey, { keys: ring, storeId: STORE, atMs: T0 });
  assert.deepEqual(verdict, { admitted: false, reason: 'forged', detail: 'signed with key "k9", which this gate does not know' });
  const impostor = signEntryCode({ keyId: 'k1', accountId: 'acct-1', storeId: STORE, issuedAtMs: T0, validForMs: 1000 }, stranger.key);
  const forged = checkEntryCode(impostor, { keys: ring, storeId: STORE, atMs: T0 });
  assert.equal(!forged.admitted && forged.reason, 'forged');
  assert.equal(forged.code, undefined, 'a forged code names no account');
});

test('rotation: codes of the old key pass while it is verifying, and are refused once it is retired', () => {
  const old = generateEntryKey('k1');
  const next = generateEntryKey('k2', 'verifying');
  // Step 1: gates learn k2; issuers still sign with k1.
  const before = setup([old, next]);
  const oldCode = before.issuer.issue({ accountId: 'acct-1', storeId: STORE }).code;
  const decoded = decodeEntryCode(oldCode);
  assert.equal(decoded.ok && decoded.code.fields.keyId, 'k1');
  // Step 2: k2 signs, k1 is still accepted.
  const during = setup([{ ...old, state: 'verifying', privateKey: undefined }, { ...next, state: 'active' }]);
  const newCode = during.issuer.issue({ accountId: 'acct-1', storeId: STORE }).code;
  for (const code of [oldCode, newCode]) assert.equal(checkEntryCode(code, { keys: during.ring, storeId: STORE, atMs: T0 }).admitted, true);
  // Step 3: k1 retired.
  const after = setup([{ id: 'k1', publicKey: old.publicKey, state: 'retired' }, { ...next, state: 'active' }]);
  assert.deepEqual(checkEntryCode(oldCode, { keys: after.ring, storeId: STORE, atMs: T0 }), { admitted: false, reason: 'forged', detail: 'signed with key "k1", which is retired' });
  assert.equal(checkEntryCode(newCode, { keys: after.ring, storeId: STORE, atMs: T0 }).admitted, true);
});

test('single use: a second reading of an admitted code is refused as used; the same reading delivered again is admitted again', async () => {
  const { issuer, verifier, nonces } = setup();
  const { code } = issuer.issue({ accountId: 'acct-1', storeId: STORE });
  assert.equal((await verifier.admit(code, { claimant: 'read-1', atMs: T0 + 100 })).admitted, true);
  assert.equal((await verifier.admit(code, { claimant: 'read-1', atMs: T0 + 100 })).admitted, true, 'a redelivery of the same reading');
  const second = await verifier.admit(code, { claimant: 'read-2', atMs: T0 + 900 });
  assert.equal(!second.admitted && second.reason, 'used');
  assert.equal(!second.admitted && second.code?.accountId, 'acct-1');
  assert.equal(nonces.size, 1);
});

test('concurrent readings of one code at two gates: exactly one is admitted', async () => {
  const { issuer, verifier } = setup();
  const { code } = issuer.issue({ accountId: 'acct-1', storeId: STORE });
  const verdicts = await Promise.all(Array.from({ length: 8 }, (_, i) => verifier.admit(code, { claimant: `gate-${i}`, atMs: T0 + 10 })));
  assert.equal(verdicts.filter((v) => v.admitted).length, 1);
  assert.deepEqual([...new Set(verdicts.filter((v) => !v.admitted).map((v) => !v.admitted && v.reason))], ['used']);
});

test('a blocked account, or one with an unpaid visit, is refused, and its code is not spent: settled, the same code lets it in', async () => {
  const { issuer, verifier, accounts, nonces } = setup();
  const { code } = issuer.issue({ accountId: 'acct-1', storeId: STORE });
  accounts.block('acct-1');
  const blocked = await verifier.admit(code, { claimant: 'read-1', atMs: T0 });
  assert.equal(!blocked.admitted && blocked.reason, 'account-blocked');
  accounts.unblock('acct-1');
  accounts.owe('acct-1', 'v-earlier');
  const unpaid = await verifier.admit(code, { claimant: 'read-2', atMs: T0 + 1 });
  assert.deepEqual(!unpaid.admitted && [unpaid.reason, unpaid.detail], ['unpaid-visit', 'account acct-1 has visit v-earlier to settle first']);
  assert.equal(nonces.size, 0, 'nothing spent');
  accounts.settle('acct-1');
  assert.equal((await verifier.admit(code, { claimant: 'read-3', atMs: T0 + 2 })).admitted, true);
});

test('the verifier reads the store clock when a reading does not say when it was made', async () => {
  const { issuer, verifier, clock } = setup();
  const { code } = issuer.issue({ accountId: 'acct-1', storeId: STORE });
  await clock.advance(MAX_VALIDITY_MS);
  const verdict = await verifier.admit(code, { claimant: 'read-1' });
  assert.equal(!verdict.admitted && verdict.reason, 'expired');
});

test('the key configuration lists every problem at once and is frozen', () => {
  const a = generateEntryKey('k1');
  const b = generateEntryKey('k2');
  const error = (() => {
    try {
      parseEntryKeys({ keys: [a, { ...b, id: 'k1' }, { ...generateEntryKey('k3'), privateKey: a.privateKey }, { ...generateEntryKey('k4'), state: 'retired' }] }, 'keys.json');
    } catch (caught) {
      return caught as WalkoutError;
    }
  })();
  assert.ok(error instanceof WalkoutError);
  assert.equal(error.code, 'CONFIG_INVALID');
  for (const expected of ['keys.json at keys.1.id: key id "k1" is used twice', 'are all active', 'keys.json at keys.2.privateKey: the private key of "k3" is not the one of its public key', '"k4" is retired: remove its private key'])
    assert.ok(error.message.includes(expected), `${expected} in:\n${error.message}`);
  const config = parseEntryKeys({ keys: [a] });
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.keys[0]));
  assert.throws(() => parseEntryKeys({ keys: [{ ...a, extra: 1 }] }), /Unrecognized key/);
});

test('keys from the environment: a keys file; without one a made-up key with a warning for the embedded store only', () => {
  const folder = mkdtempSync(join(tmpdir(), 'entry-keys-'));
  const file = join(folder, 'keys.json');
  const key = generateEntryKey('k7');
  writeFileSync(file, JSON.stringify({ keys: [key] }));
  const fromFile = loadEntryKeys({ env: { WALKOUT_ENTRY_KEYS_FILE: file }, embedded: false, logger: recordingLogger() });
  assert.equal(fromFile.dev, false);
  assert.equal(fromFile.signingKey()?.keyId, 'k7');

  const logger = recordingLogger();
  const dev = loadEntryKeys({ env: {}, embedded: true, logger });
  assert.equal(dev.dev, true);
  assert.ok(logger.lines.some((line) => line.level === 'warn' && /made up at start/.test(line.message)));
  assert.throws(() => loadEntryKeys({ env: {}, embedded: false, logger }), (e: WalkoutError) => e.code === 'CONFIG_INVALID' && /WALKOUT_ENTRY_KEYS_FILE is not set/.test(e.message));
  assert.throws(() => loadEntryKeys({ env: { WALKOUT_ENTRY_KEY_FILE: file }, embedded: true, logger }), /WALKOUT_ENTRY_KEY_FILE: not a setting/);
  writeFileSync(file, '{ not json');
  assert.throws(() => loadEntryKeys({ env: { WALKOUT_ENTRY_KEYS_FILE: file }, embedded: true, logger }), /not JSON/);
});
