import test from 'node:test';
import assert from 'node:assert/strict';
import { indexStore, loadStore } from '../contracts/index.ts';
import { DIFFICULTY_PRESETS, generateScenario } from './scenario.generator.ts';
import { simulate } from './store.sim.ts';

const fixture = (p: string) => new URL(`../../fixtures/${p}`, import.meta.url).pathname;

// The runs attribution is judged on (`walkout sim --random --shoppers 40 --minutes 8 --difficulty hard
// --store kiosk --seed 1..5`): nobody walks through anyone, and every hand-off finds its receiver.
test('hard 40-shopper kiosk runs, seeds 1 to 5, are planned without anyone walking through anyone or a missed hand-off', async () => {
  const index = indexStore(await loadStore(fixture('stores/kiosk.json')));
  for (const seed of [1, 2, 3, 4, 5]) {
    const sim = simulate(generateScenario({ index, shoppers: 40, minutes: 8, seed, difficulty: DIFFICULTY_PRESETS.hard }), index, seed);
    assert.deepEqual(sim.warnings, [], `seed ${seed}`);
    const handOffs = sim.scenario.people.flatMap((p) => p.actions.filter((a) => a.do === 'hand-off'));
    assert.equal(sim.actions.filter((a) => a.kind === 'hand-off').length, handOffs.length, `seed ${seed}: every planned hand-off happened`);
  }
});
