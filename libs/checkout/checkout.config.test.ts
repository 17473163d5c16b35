import assert from 'node:assert/strict';
import test from 'node:test';
import { WalkoutError } from '../contracts/errors.ts';
import { backoffMs, declineWaitMs, parseCheckoutConfig } from './checkout.config.ts';

test('the decline policy waits each step in turn, then the last one for ever', () => {
  const config = parseCheckoutConfig({ declineRetryMs: [1_000, 5_000, 60_000] });
  assert.deepEqual([1, 2, 3, 4, 50].map((declines) => declineWaitMs(config, declines)), [1_000, 5_000, 60_000, 60_000, 60_000]);
  assert.deepEqual(parseCheckoutConfig().declineRetryMs, [900_000, 3_600_000, 21_600_000, 86_400_000]);
  assert.ok(Object.isFrozen(parseCheckoutConfig()));
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
