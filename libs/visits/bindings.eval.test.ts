import test from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type SkeletonTruth, type Vec3 } from '../contracts/index.ts';
import { scoreBindings, truthPeopleRoles } from './bindings.eval.ts';
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
