import test from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { indexStore, loadStore, type StoreIndex } from '../contracts/index.ts';
import { loadScenario } from './scenario.load.ts';
import { closeEncounters, closeEncountersInTruth, reachMisses, REACH_TOLERANCE_M } from './sim.checks.ts';
import { simulatedSkeletons } from '../visits/simulated-skeletons.sim.ts';
import { simulate } from './store.sim.ts';

const fixture = (p: string) => new URL(`../../fixtures/${p}`, import.meta.url).pathname;
const stores = new Map<string, StoreIndex>();
const run = async (name: string) => {
  const scenario = await loadScenario(fixture(`scenarios/${name}.json`));
  if (!stores.has(scenario.store)) stores.set(scenario.store, indexStore(await loadStore(fixture(`stores/${scenario.store}.json`))));
  return simulate(scenario, stores.get(scenario.store)!, 1);
};

test('in every fixture scenario the actor has a wrist in the lane when its weight changes, and nobody stands inside anybody', async () => {
  const names = (await readdir(fixture('scenarios'))).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
  let checked = 0;
  for (const name of names) {
    const sim = await run(name);
    assert.deepEqual(reachMisses(sim), [], `${name}: wrists within ${REACH_TOLERANCE_M} m of the lane`);
    checked += sim.actions.filter((a) => a.laneId).length;
    const close = closeEncounters(sim, 0.3);
    assert.equal(close.pairs, 0, `${name}: closest centres ${close.closestM.toFixed(2)} m`);
  }
  assert.ok(checked > 50, `lane actions checked: ${checked}`);
});

test('the reach check finds a weight change with the hand away from the lane', async () => {
  const sim = await run('kiosk-demo');
  const action = sim.actions.find((a) => a.kind === 'pick')!;
  // The same pick, as if the weight changed while the picker was still walking to the shelf.
  const contacts = new Map(sim.contacts);
  contacts.set(action.actionId, { atMs: action.startMs - 3000 });
  const misses = reachMisses({ ...sim, contacts });
  assert.deepEqual(misses.map((m) => m.actionId), [action.actionId]);
  assert.ok(misses[0].distanceM > 0.2);
});

test('close encounters count pairs of people nearer than the limit', async () => {
  const sim = await run('two-shoppers-one-shelf');
  assert.equal(closeEncounters(sim, 0.3).pairs, 0);
  const wide = closeEncounters(sim, 5);
  assert.equal(wide.pairs, 1, 'the two shoppers are within 5 m of each other at some point');
  assert.ok(wide.pairInstants > 0 && wide.closestM >= 0.3);
});

test('close encounters in a recording\'s skeleton truth: the same people, the same pairs, between the hips', async () => {
  const sim = await run('standing-close');
  const skeletons = simulatedSkeletons(sim);
  for (const limitM of [0.3, 0.6, 1, 5]) {
    const fromTruth = await closeEncountersInTruth(skeletons, limitM);
    const fromSim = closeEncounters(sim, limitM);
    assert.equal(fromTruth.pairs, fromSim.pairs, `pairs within ${limitM} m`);
    assert.ok(Math.abs(fromTruth.closestM - fromSim.closestM) < 0.1, `closest ${fromTruth.closestM.toFixed(2)} m against ${fromSim.closestM.toFixed(2)} m`);
  }
  // Two bodies drawn into one spot are found.
  const merged = skeletons.map((tick) => ({ ...tick, people: tick.people.map((p, i) => (i === 1 ? { ...p, keypoints: tick.people[0].keypoints } : p)) }));
  assert.ok((await closeEncountersInTruth(merged, 0.3)).pairs >= 1);
});
