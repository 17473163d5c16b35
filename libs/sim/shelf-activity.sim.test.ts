import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { indexStore, MAX_SCENARIO_SECONDS, parseStore, WalkoutError } from '../contracts/index.ts';
import { planShelfActivity } from './shelf-activity.sim.ts';

const kiosk = indexStore(parseStore(JSON.parse(readFileSync(new URL('../../fixtures/stores/kiosk.json', import.meta.url), 'utf8'))));

test('shelf activity longer than the simulator records, or of no length, is refused with the limit before any planning', () => {
  for (const durationMs of [(MAX_SCENARIO_SECONDS + 1) * 1_000, 0, -5_000])
    assert.throws(
      () => planShelfActivity({ index: kiosk, startMs: 0, durationMs, seed: 1 }),
      (error: unknown) =>
        error instanceof WalkoutError &&
        error.code === 'SCENARIO_INVALID' &&
        error.message.includes(`shelf activity of ${durationMs / 1_000} s asked for: the simulator records more than 0 and at most ${MAX_SCENARIO_SECONDS} s (MAX_SCENARIO_SECONDS)`),
      String(durationMs),
    );
  const longest = planShelfActivity({ index: kiosk, shelfIds: ['g1-s1'], startMs: 0, durationMs: MAX_SCENARIO_SECONDS * 1_000, seed: 1 });
  assert.ok(longest.endMs >= MAX_SCENARIO_SECONDS * 1_000, 'the limit itself is accepted');
});
