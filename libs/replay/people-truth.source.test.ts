import test from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { PeopleTracked } from '../contracts/index.ts';
import { collect, openRecording } from '../recording/index.ts';
import { truthPeople } from './people-truth.source.ts';

const DEMO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo/', import.meta.url));

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
