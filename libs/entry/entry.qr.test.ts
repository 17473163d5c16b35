import test from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock/clock.ts';
import { MAX_ID_LENGTH, MAX_KEY_ID_LENGTH } from './entry.code.ts';
import { createKeyRing, generateEntryKey, parseEntryKeys } from './entry.keys.ts';
import { createEntryIssuer } from './entry.verifier.ts';
import { entryCodePng, entryCodeSvg, entryQrVersion } from './entry.qr.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function issue(keyId: string, accountId: string, storeId: string) {
  const keys = createKeyRing(parseEntryKeys({ keys: [generateEntryKey(keyId)] }));
  return createEntryIssuer({ keys, clock: new ManualClock(1_780_000_000_000) }).issue({ accountId, storeId }).code;
}

test('an entry code renders as an SVG and a PNG QR code', async () => {
  const code = issue('k1', 'acct-000123', 'kiosk');
  const svg = await entryCodeSvg(code);
  assert.match(svg, /^<svg[^>]*viewBox="0 0 (\d+) \1"/);
  assert.match(svg, /<path[^>]* d="M/);
  const png = await entryCodePng(code);
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE));
  // Width in the IHDR chunk: (modules + 2 x quiet zone) x 8 px.
  const modules = 17 + 4 * entryQrVersion(code);
  assert.equal(png.readUInt32BE(16), (modules + 8) * 8);
});

test('a usual code fits a QR version 8 symbol (49 modules a side), the longest possible one version 14 (73)', () => {
  assert.ok(entryQrVersion(issue('k1', 'acct-000123', 'kiosk')) <= 8);
  const longest = issue('k'.repeat(MAX_KEY_ID_LENGTH), 'a'.repeat(MAX_ID_LENGTH), 's'.repeat(MAX_ID_LENGTH));
  assert.ok(entryQrVersion(longest) <= 14, `version ${entryQrVersion(longest)}`);
});
