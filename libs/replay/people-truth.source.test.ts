import test from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { PeopleTracked, type SkeletonTruth, type Vec3 } from '../contracts/index.ts';
import { collect, openRecording } from '../recording/index.ts';
import { fixtureStoreIndex } from '../testing/service.fixtures.ts';
import { truthPeople, truthPeopleFrom } from './people-truth.source.ts';

const DEMO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo/', import.meta.url));
const { store } = fixtureStoreIndex();
const T0 = 1_780_000_000_000;
const body = (x: number, y: number): Vec3[] => Array.from({ length: 17 }, (_, k) => [x, y, 1.7 - k * 0.1] as Vec3);

/** Two shoppers standing in the middle of the kiosk for 10 s, far from every door. */
const standing: SkeletonTruth[] = Array.from({ length: 100 }, (_, i) => ({
  ts: T0 + i * 100,
  people: [
    { personId: 'ann', visitId: 'v-ann', role: 'shopper' as const, keypoints: body(2, 2.5) },
    { personId: 'bob', visitId: 'v-bob', role: 'shopper' as const, keypoints: body(3, 2.5) },
  ],
}));

test('without noise: every true skeleton as it is, on truth-<personId> tracks, valid messages', async () => {
  const recording = await openRecording(DEMO);
  const truth = await collect(recording.truthSkeletons());
  const people = await collect(truthPeople(recording, { noiseM: 0, seed: 1 }));
  assert.equal(people.length, truth.length);
  for (const [i, instant] of people.entries()) {
    PeopleTracked.parse(instant);
    assert.equal(instant.ts, truth[i].ts);
    assert.deepEqual(
      instant.people.map((p) => [p.trackId, p.keypoints]),
      truth[i].people.map((p) => [`truth-${p.personId}`, p.keypoints]),
    );
  }
  assert.ok(people.some((instant) => instant.people.some((p) => p.cameras.length >= 2)), 'people are seen by cameras');
});

test('with noise: errors of the asked size, drifting in time, the same for the same seed and different for another', async () => {
  const recording = await openRecording(DEMO);
  const truth = await collect(recording.truthSkeletons());
  const noiseM = 0.05;
  const noisy = await collect(truthPeople(recording, { noiseM, seed: 1 }));
  const again = await collect(truthPeople(recording, { noiseM, seed: 1 }));
  const other = await collect(truthPeople(recording, { noiseM, seed: 2 }));
  assert.deepEqual(again, noisy, 'deterministic per seed');
  assert.notDeepEqual(other, noisy);

  // Each person's right-wrist x error over time: spread about noiseM, and neighbouring instants
  // alike (the drifting half of the variance) where instants seconds apart are not.
  const series = new Map<string, number[]>();
  for (const [i, instant] of noisy.entries())
    for (const person of instant.people) {
      const exact = truth[i].people.find((p) => `truth-${p.personId}` === person.trackId)!;
      const wrist = person.keypoints[10];
      if (!wrist) continue;
      const errors = series.get(person.trackId) ?? [];
      errors.push(wrist[0] - exact.keypoints[10][0]);
      series.set(person.trackId, errors);
    }
  const all = [...series.values()].flat();
  const sd = Math.sqrt(all.reduce((sum, e) => sum + e * e, 0) / all.length);
  assert.ok(sd > 0.8 * noiseM && sd < 1.2 * noiseM, `sd ${sd}`);
  const correlation = (lag: number) => {
    let product = 0;
    let pairs = 0;
    for (const errors of series.values())
      for (let i = lag; i < errors.length; i++) {
        product += errors[i] * errors[i - lag];
        pairs++;
      }
    return product / pairs / (sd * sd);
  };
  // Half the variance drifts with a 1 s time constant: about 0.45 from one instant (0.1 s) to the next.
  assert.ok(correlation(1) > 0.3 && correlation(1) < 0.6, `lag 0.1 s: ${correlation(1)}`);
  assert.ok(Math.abs(correlation(50)) < 0.15, `lag 5 s: ${correlation(50)}`);
});

test('any stream of skeletons: every person on truth-<id>; a break drops them for exactly the gap and brings them back under a new id', async () => {
  const clean = truthPeopleFrom(store, standing);
  const cleanInstants = await collect(clean);
  assert.deepEqual([...clean.personOfTrack], [
    ['truth-ann', 'ann'],
    ['truth-bob', 'bob'],
  ]);
  assert.deepEqual(cleanInstants[0].people[0].keypoints, standing[0].people[0].keypoints);
  assert.equal(clean.breaks, 0);

  const broken = truthPeopleFrom(store, standing, { breakEveryMs: 3_000, breakGapInstants: 4 });
  const brokenInstants = await collect(broken);
  assert.ok(broken.breaks >= 4, `${broken.breaks} breaks in 10 s at one every 1.5 to 4.5 s each`);
  const seen = (trackId: string) => brokenInstants.filter((i) => i.people.some((p) => p.trackId === trackId)).map((i) => i.ts);
  const first = seen('truth-ann');
  const second = seen('truth-ann-1');
  assert.ok(first.length > 0 && second.length > 0);
  assert.equal((second[0] - first.at(-1)!) / 100, 5, 'missing for 4 instants between the two tracks');
  assert.equal(broken.personOfTrack.get('truth-ann-1'), 'ann');
});

test('any stream of skeletons with noise: keypoints move by about the noise asked for, and the same seed gives the same noise', async () => {
  const noisy = await collect(truthPeopleFrom(store, standing, { noiseM: 0.05, seed: 3 }));
  const known = noisy.flatMap((instant, i) =>
    instant.people.flatMap((person, p) => person.keypoints.flatMap((k, j) => (k ? [k.map((v, axis) => v - standing[i].people[p].keypoints[j][axis])] : []))),
  );
  assert.ok(known.length > 0.9 * 100 * 2 * 17, `${known.length} keypoints known: people in the middle of the kiosk are in view`);
  const offsets = known.flat();
  const sd = Math.sqrt(offsets.reduce((sum, d) => sum + d * d, 0) / offsets.length);
  assert.ok(sd > 0.045 && sd < 0.055, `noise sd ${sd}`);
  assert.deepEqual(await collect(truthPeopleFrom(store, standing, { noiseM: 0.05, seed: 3 })), noisy);
});
