import test from 'node:test';
import assert from 'node:assert/strict';
import { indexStore, loadStore, SCHEMA_VERSION, type SkeletonTruth, type Vec3 } from '../contracts/index.ts';
import { collect } from '../recording/index.ts';
import { truthPeopleFrom } from '../replay/people-truth.source.ts';
import { parseScenario } from '../sim/scenario.load.ts';
import { simulate } from '../sim/store.sim.ts';
import { arrivalOrder, runBinder, scoreBindings, truthPeopleRoles } from './bindings.eval.ts';
import { simulatedSkeletons } from './simulated-skeletons.sim.ts';
import type { BinderOutput } from './visit.binder.ts';

const T0 = 1_780_000_000_000;
const body = (x: number, y: number): Vec3[] => Array.from({ length: 17 }, (_, k) => [x, y, 1.7 - k * 0.1] as Vec3);

/** Two shoppers standing in the middle of the store for 10 s, far from every door. */
const skeletons: SkeletonTruth[] = Array.from({ length: 100 }, (_, i) => ({
  ts: T0 + i * 100,
  people: [
    { personId: 'ann', visitId: 'v-ann', role: 'shopper' as const, keypoints: body(2, 2.5) },
    { personId: 'bob', visitId: 'v-bob', role: 'shopper' as const, keypoints: body(3, 2.5) },
  ],
}));

test('the scorer counts a person on the wrong visit as wrong, and says whether the operator was told', () => {
  const bound = (visitId: string, trackId: string, doubt?: string): BinderOutput => ({
    topic: 'visit.track-bound',
    message: { schemaVersion: SCHEMA_VERSION, eventId: `${visitId}-track-${trackId}`, storeId: 'kiosk', ts: T0, visitId, trackId, member: 0, reason: 'entry', ...(doubt ? { doubt } : {}) },
  });
  const truth = { people: truthPeopleRoles(skeletons), payers: new Set(['ann', 'bob']) };
  const personOfTrack = new Map([
    ['truth-ann', 'ann'],
    ['truth-bob', 'bob'],
  ]);
  const right = scoreBindings(truth, personOfTrack, [bound('v-ann', 'truth-ann'), bound('v-bob', 'truth-bob')]);
  assert.deepEqual([right.peopleRight, right.tracksRight, right.payersRight, right.wrong.length], [2, 2, 2, 0]);

  const swapped = scoreBindings(truth, personOfTrack, [bound('v-bob', 'truth-ann'), bound('v-ann', 'truth-bob', 'two at the gate')]);
  assert.deepEqual([swapped.peopleRight, swapped.wrongUnflagged, swapped.doubts], [0, 1, 1]);
  assert.deepEqual(
    swapped.wrong.map((w) => [w.personId, w.got, w.flagged]),
    [
      ['ann', 'v-bob', false],
      ['bob', 'v-ann', true],
    ],
  );
  const unbound = scoreBindings(truth, personOfTrack, [bound('v-ann', 'truth-ann')]);
  assert.deepEqual([unbound.tracksUnbound, unbound.wrong[0]?.got], [1, null]);
});

test('a tailgater is bound right on an anonymous visit of their own, whatever the binder names it', () => {
  const withTailgater: SkeletonTruth[] = skeletons.map((s) => ({
    ...s,
    people: [...s.people, { personId: 'tim', visitId: 'v-tim', role: 'tailgater' as const, keypoints: body(4, 2.5) }],
  }));
  const truth = { people: truthPeopleRoles(withTailgater), payers: new Set(['ann', 'bob']) };
  const personOfTrack = new Map([
    ['truth-ann', 'ann'],
    ['truth-bob', 'bob'],
    ['truth-tim', 'tim'],
  ]);
  const started = (visitId: string, kind: 'shopper' | 'anonymous'): BinderOutput => ({
    topic: 'visit.started',
    message: { schemaVersion: SCHEMA_VERSION, eventId: `${visitId}-started`, storeId: 'kiosk', ts: T0, visitId, kind, partySize: 1 },
  });
  const bound = (visitId: string, trackId: string): BinderOutput => ({
    topic: 'visit.track-bound',
    message: { schemaVersion: SCHEMA_VERSION, eventId: `${visitId}-track-${trackId}`, storeId: 'kiosk', ts: T0, visitId, trackId, member: 0, reason: 'entry' },
  });
  const common = [started('v-ann', 'shopper'), started('v-bob', 'shopper'), bound('v-ann', 'truth-ann'), bound('v-bob', 'truth-bob')];
  const own = scoreBindings(truth, personOfTrack, [...common, started('anon-truth-tim', 'anonymous'), bound('anon-truth-tim', 'truth-tim')]);
  assert.deepEqual([own.peopleRight, own.wrong.length], [3, 0]);
  // On a shopper's visit, or sharing an anonymous visit with someone else, the tailgater is wrong.
  const onAnn = scoreBindings(truth, personOfTrack, [...common, bound('v-ann', 'truth-tim')]);
  assert.deepEqual(onAnn.wrong.map((w) => [w.personId, w.got]), [['tim', 'v-ann']]);
  const shared = scoreBindings(truth, personOfTrack, [started('v-ann', 'shopper'), started('anon-x', 'anonymous'), bound('v-ann', 'truth-ann'), bound('anon-x', 'truth-bob'), bound('anon-x', 'truth-tim')]);
  assert.ok(shared.wrong.some((w) => w.personId === 'tim'));
});

test('a party passes a busy entry together, so the companion is on the payer\'s visit and not taken for a tailgater', async () => {
  const index = indexStore(await loadStore(new URL('../../fixtures/stores/kiosk.json', import.meta.url).pathname));
  // People listed (so planned) before the party come to the door at 0 s, then every 2.5 s from 4 s:
  // the door is free long enough for one person once, then never for 20 s. The payer, who only
  // walks through, is out of the store within seconds.
  const queue = Array.from({ length: 10 }, (_, k) => ({ id: `q${k}`, accountId: `acct-q${k}`, arriveAtS: k === 0 ? 0 : 4 + 2.5 * (k - 1), actions: [{ do: 'leave' }] }));
  const scenario = parseScenario(
    {
      schemaVersion: 1, name: 'busy-door-party', description: '', store: 'kiosk',
      people: [
        ...queue,
        { id: 'pat', accountId: 'acct-pat', arriveAtS: 1, actions: [{ do: 'leave' }] },
        { id: 'kid', role: 'companion', with: 'pat', arriveAtS: 1.5, actions: [{ do: 'leave' }] },
      ],
    },
    'busy-door-party.json',
  );
  const sim = simulate(scenario, index, 1);
  const [pat, kid] = ['pat', 'kid'].map((id) => sim.people.find((p) => p.id === id)!.timeline);
  const patLeftDoor = pat.segments.find((s) => s.kind === 'walk')!.t0;
  assert.ok(kid.enterMs - patLeftDoor <= 3_000, `the companion came to the door ${(kid.enterMs - patLeftDoor) / 1000} s after the payer went in`);
  const skeletons = simulatedSkeletons(sim);
  const people = truthPeopleFrom(index.store, skeletons, { seed: 7 });
  const { outputs } = runBinder(index, arrivalOrder(sim.gateLines, await collect(people)));
  const score = scoreBindings({ people: truthPeopleRoles(skeletons), payers: new Set(sim.visits.map((v) => v.personIds[0])) }, people.personOfTrack, outputs);
  assert.deepEqual(score.wrong, []);
  assert.equal(score.reviews.tailgating ?? 0, 0);
});
