import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { WalkoutError } from '../contracts/errors.ts';
import { backoffMs, declineWaitMs, loadCheckoutConfig, loadCheckoutWorker, parseCheckoutConfig } from './checkout.config.ts';

test('the decline policy waits each step in turn, then the last one for ever', () => {
  const config = parseCheckoutConfig({ declineRetryMs: [1_000, 5_000, 60_000] });
  assert.deepEqual([1, 2, 3, 4, 50].map((declines) => declineWaitMs(config, declines)), [1_000, 5_000, 60_000, 60_000, 60_000]);
  assert.deepEqual(parseCheckoutConfig().declineRetryMs, [900_000, 3_600_000, 21_600_000, 86_400_000]);
  assert.ok(Object.isFrozen(parseCheckoutConfig()));
});

test('the local processor lets a hold go after 7 days unless told otherwise', () => {
  assert.equal(parseCheckoutConfig().localProvider.holdExpiryMs, 7 * 24 * 3_600_000);
  assert.equal(parseCheckoutConfig({ localProvider: { holdExpiryMs: 86_400_000 } }).localProvider.holdExpiryMs, 86_400_000);
  assert.throws(() => parseCheckoutConfig({ localProvider: { holdExpiryMs: 0 } }), /at localProvider\.holdExpiryMs/);
});

test('the worker name comes from WALKOUT_CHECKOUT_WORKER, checked', () => {
  assert.equal(loadCheckoutWorker({}), undefined);
  assert.equal(loadCheckoutWorker({ WALKOUT_CHECKOUT_WORKER: ' checkout-0 ' }), 'checkout-0');
  assert.throws(() => loadCheckoutWorker({ WALKOUT_CHECKOUT_WORKER: 'till one' }), (error: WalkoutError) => error.code === 'CONFIG_INVALID' && /WALKOUT_CHECKOUT_WORKER: "till one"/.test(error.message));
});

test('backoff doubles up to its cap, jittered between half and all of it', () => {
  const config = parseCheckoutConfig({ retry: { initialMs: 100, maxMs: 1_000 } });
  assert.deepEqual([1, 2, 3, 4, 5, 30].map((attempt) => backoffMs(config, attempt, () => 1)), [100, 200, 400, 800, 1_000, 1_000]);
  assert.deepEqual([1, 2, 5].map((attempt) => backoffMs(config, attempt, () => 0)), [50, 100, 500]);
});

test('a bad checkout config names every field that is wrong', () => {
  try {
    parseCheckoutConfig({ holdCents: 0, retry: { initialMs: 5_000, maxMs: 1_000 }, declineRetryMs: [] });
    assert.fail('expected CONFIG_INVALID');
  } catch (error) {
    assert.ok(error instanceof WalkoutError && error.code === 'CONFIG_INVALID');
    assert.match(error.message, /at holdCents/);
    assert.match(error.message, /at declineRetryMs/);
  }
  assert.throws(() => parseCheckoutConfig({ retry: { initialMs: 5_000, maxMs: 1_000 } }), /retry\.initialMs: the first wait is longer than the longest wait/);
});

test('an operator sets the hold per store and the decline policy in the file WALKOUT_CHECKOUT_CONFIG names; a bad file is refused naming it and the field', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'walkout-checkout-config-'));
  try {
    const file = path.join(dir, 'checkout.json');
    writeFileSync(file, JSON.stringify({ holdCents: 3_000, holdCentsByStore: { kiosk: 8_000 }, declineRetryMs: [60_000] }));
    const config = loadCheckoutConfig({ WALKOUT_CHECKOUT_CONFIG: file });
    assert.equal(config.holdCents, 3_000);
    assert.deepEqual(config.holdCentsByStore, { kiosk: 8_000 });
    assert.deepEqual(config.declineRetryMs, [60_000]);
    assert.ok(Object.isFrozen(config));
    assert.equal(loadCheckoutConfig({}).holdCents, parseCheckoutConfig().holdCents, 'unset: the defaults');

    writeFileSync(file, JSON.stringify({ holdCentsByStore: { kiosk: -5 } }));
    assert.throws(() => loadCheckoutConfig({ WALKOUT_CHECKOUT_CONFIG: file }), (e: WalkoutError) => e.code === 'CONFIG_INVALID' && e.message.includes(file) && e.message.includes('holdCentsByStore.kiosk'));
    writeFileSync(file, '{ not json');
    assert.throws(() => loadCheckoutConfig({ WALKOUT_CHECKOUT_CONFIG: file }), (e: WalkoutError) => e.code === 'CONFIG_INVALID' && e.message.includes(file));
    assert.throws(() => loadCheckoutConfig({ WALKOUT_CHECKOUT_CONFIG: path.join(dir, 'missing.json') }), (e: WalkoutError) => e.code === 'CONFIG_INVALID' && e.message.includes('missing.json'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
