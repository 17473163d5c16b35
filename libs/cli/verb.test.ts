import test from 'node:test';
import assert from 'node:assert/strict';
import { WalkoutError } from '../contracts/index.ts';
import { optionalInt, storeFile, type Verb } from './verb.ts';

const verb: Verb = { name: 'shelf simulate', summary: '', usage: '', options: {}, run: async () => undefined };

/** The refusal optionalInt gives for `value`, as text. */
function refusal(value: unknown, range: Parameters<typeof optionalInt>[4]): string {
  try {
    optionalInt({ seconds: value }, 'seconds', verb, 300, range);
  } catch (error) {
    assert.ok(error instanceof WalkoutError && error.code === 'USAGE', String(error));
    return error.message;
  }
  assert.fail(`${String(value)} was accepted`);
}

test('a whole-number option: its fallback when absent, the number when whole and in range', () => {
  assert.equal(optionalInt({}, 'seconds', verb, 300), 300);
  assert.equal(optionalInt({ seconds: '42' }, 'seconds', verb, 300, { min: 1, max: 3600 }), 42);
  assert.equal(optionalInt({ seconds: ' 3600 ' }, 'seconds', verb, 300, { min: 1, max: 3600 }), 3600);
  assert.equal(optionalInt({ seconds: '-3' }, 'seconds', verb, 300), -3);
});

test('a whole-number option out of range, not whole or not a number is refused, naming the range and why', () => {
  const limit = { min: 1, max: 3600, unit: 'seconds', why: 'MAX_SCENARIO_SECONDS, the longest the simulator records' };
  for (const value of ['4000', '0', '2.5', 'ten', ''])
    assert.equal(
      refusal(value, limit),
      `walkout shelf simulate: --seconds must be a whole number of seconds, from 1 to 3600 (MAX_SCENARIO_SECONDS, the longest the simulator records), got "${value}"`,
    );
  assert.equal(refusal('0', { min: 1, unit: 'frames' }), 'walkout shelf simulate: --seconds must be a whole number of frames, 1 or more, got "0"');
  assert.equal(refusal('9', { max: 8 }), 'walkout shelf simulate: --seconds must be a whole number, at most 8, got "9"');
  assert.equal(
    refusal('0', { min: 1, unit: 'milliseconds', or: '"infinity"' }),
    'walkout shelf simulate: --seconds must be a whole number of milliseconds, 1 or more, or "infinity"; got "0"',
  );
  assert.equal(refusal(true, {}), 'walkout shelf simulate: --seconds must be a whole number, got "true"');
});

test('a --store is a store file as given, or the id of a store that comes with walkout', () => {
  assert.equal(storeFile('kiosk'), 'fixtures/stores/kiosk.json');
  assert.equal(storeFile('../my-shop.json'), '../my-shop.json');
});
