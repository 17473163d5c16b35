import test from 'node:test';
import assert from 'node:assert/strict';
import { indexStore, loadStore } from '../contracts/index.ts';
import { DIFFICULTY_PRESETS, generateScenario } from './scenario.generator.ts';
import { closeEncounters, reachMisses } from './sim.checks.ts';
import { simulate } from './store.sim.ts';

const fixture = (p: string) => new URL(`../../fixtures/${p}`, import.meta.url).pathname;


// The runs attribution is judged on (`walkout sim --random --shoppers 40 --minutes 8 --difficulty hard
// --store kiosk --seed 1..5`): nobody walks through anyone, every hand-off finds its receiver, every
// weight change on a lane has the actor's wrist in it, and people stand clear of each other.
test('hard 40-shopper kiosk runs, seeds 1 to 5, are physically possible', async () => {
  const index = indexStore(await loadStore(fixture('stores/kiosk.json')));
  for (const seed of [1, 2, 3, 4, 5]) {
    const sim = simulate(generateScenario({ index, shoppers: 40, minutes: 8, seed, difficulty: DIFFICULTY_PRESETS.hard }), index, seed);
    assert.deepEqual(sim.warnings, [], `seed ${seed}`);
    const handOffs = sim.scenario.people.flatMap((p) => p.actions.filter((a) => a.do === 'hand-off'));
    assert.equal(sim.actions.filter((a) => a.kind === 'hand-off').length, handOffs.length, `seed ${seed}: every planned hand-off happened`);
    assert.ok(sim.actions.filter((a) => a.laneId).length > 150, `seed ${seed}: a busy run`);
    assert.deepEqual(reachMisses(sim), [], `seed ${seed}: a wrist within 5 cm of the lane at every weight change`);
    // A companion passes the gate on their payer's scan, never before it, however long the payer
    // waited outside; a tailgater slips in behind the person they follow.
    const scanOf = new Map(sim.gateLines.filter((l) => l.topic === 'gate.qr-scanned').map((l) => [l.message.visitId, l.message.ts]));
    for (const person of sim.people.filter((p) => p.role === 'companion')) {
      const scan = scanOf.get(person.visitId!);
      assert.ok(scan !== undefined && person.timeline.enterMs > scan, `seed ${seed}: ${person.id} came in at ${person.timeline.enterMs}, before the scan of ${person.visitId} at ${scan}`);
    }
    // Nobody stands where someone else is, at the gate or anywhere (docs/experiments/parties-and-passers-by.md).
    const close = closeEncounters(sim, 0.3);
    assert.equal(close.pairs, 0, `seed ${seed}: ${close.pairs} pairs within 0.3 m (closest ${close.closestM.toFixed(2)} m)`);
    // A party passes the entry together: each member comes to the door within 3 s of the one before going in.
    const leftDoor = (p: (typeof sim.people)[number]) => p.timeline.segments.find((s) => s.kind === 'walk')!.t0;
    for (const payer of sim.people.filter((p) => p.role === 'shopper')) {
      const party = sim.people.filter((p) => p.role === 'companion' && p.visitId === payer.visitId);
      party.reduce((before, member) => {
        assert.ok(member.timeline.enterMs - leftDoor(before) <= 3_000, `seed ${seed}: ${member.id} came to the door ${(member.timeline.enterMs - leftDoor(before)) / 1000} s after ${before.id} went in`);
        return member;
      }, payer);
    }
  }
});
