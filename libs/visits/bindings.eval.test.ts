import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { indexStore, parseStore, SCHEMA_VERSION, type SkeletonTruth, type Vec3 } from '../contracts/index.ts';
import { scoreBindings, truthPeopleRoles } from './bindings.eval.ts';
import { truthPeople } from './truth-people.sim.ts';
import type { BinderOutput } from './visit.binder.ts';

const index = indexStore(parseStore(JSON.parse(readFileSync(new URL('../../fixtures/stores/kiosk.json', import.meta.url), 'utf8'))));
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

test('truth people: every person on truth-<id>; a break drops them for exactly the gap and brings them back under a new id', () => {
  const clean = truthPeople(index, skeletons);
  assert.deepEqual([...clean.personOfTrack], [
    ['truth-ann', 'ann'],
    ['truth-bob', 'bob'],
  ]);
  assert.deepEqual(clean.instants[0].people[0].keypoints, skeletons[0].people[0].keypoints);

  const broken = truthPeople(index, skeletons, { breakEveryMs: 3_000, breakGapInstants: 4 });
  assert.ok(broken.breaks >= 4, `${broken.breaks} breaks in 10 s at one every 1.5 to 4.5 s each`);
  const seen = (trackId: string) => broken.instants.filter((i) => i.people.some((p) => p.trackId === trackId)).map((i) => i.ts);
  const first = seen('truth-ann');
  const second = seen('truth-ann-1');
  assert.ok(first.length > 0 && second.length > 0);
  assert.equal((second[0] - first.at(-1)!) / 100, 5, 'missing for 4 instants between the two tracks');
  assert.equal(broken.personOfTrack.get('truth-ann-1'), 'ann');
});

test('truth people with noise: keypoints move by about the noise asked for, and the same seed gives the same noise', () => {
  const noisy = truthPeople(index, skeletons, { noiseM: 0.05, seed: 3 });
  const offsets = noisy.instants.flatMap((instant, i) =>
    instant.people.flatMap((person, p) => person.keypoints.flatMap((k, j) => k!.map((v, axis) => v - skeletons[i].people[p].keypoints[j][axis]))),
  );
  const sd = Math.sqrt(offsets.reduce((sum, d) => sum + d * d, 0) / offsets.length);
  assert.ok(sd > 0.045 && sd < 0.055, `noise sd ${sd}`);
  assert.deepEqual(truthPeople(index, skeletons, { noiseM: 0.05, seed: 3 }).instants, noisy.instants);
});

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
