import test from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PARAMS } from './fusion.engine.ts';
import { PROFILE_OFFSETS_MS } from './hand.evidence.ts';
import { penalisedWho, WHO_KEYS, whoGradient, whoLogLikelihood, whoVector, withWhoVector, type WhoRecord } from './who.fit.ts';

/** A candidate's evidence: a wrist `metres` from the lanes, `inLaneS` in them, crossing `timingS` off the change. */
function candidate(trackId: string, visitId: string | null, metres: number, inLaneS: number, timingS: number, reused = false): WhoRecord['evidence'][number] {
  return {
    trackId,
    visitId,
    contactM: metres,
    nearestM: metres * 0.8,
    inLaneS,
    movedM: Math.min(0.4, 0.1 + inLaneS / 4),
    timingS,
    seen: 0.9,
    profile: PROFILE_OFFSETS_MS.map((offset) => Math.min(0.8, metres + Math.abs(offset) / 3_000)),
    cameras: ['cam-1'],
    handDistances: [],
    reused,
  };
}

const record = (kind: 'pick' | 'put', truth: string | null, evidence: WhoRecord['evidence']): WhoRecord => ({
  event: { kind },
  truth: truth === null ? null : { visitId: truth, productId: 'p', quantity: 1 },
  evidence,
  options: [],
});

/** Contested events of both kinds: two people in the lane, a group whose two members reached, a truth nobody near was, an unlabelled event. */
const RECORDS: WhoRecord[] = [
  record('pick', 'v-a', [candidate('t-a', 'v-a', 0.02, 1.1, 0.2), candidate('t-b', 'v-b', 0.05, 0.9, 0.6, true)]),
  record('pick', 'v-b', [candidate('t-a', 'v-a', 0.0, 1.4, 0.1), candidate('t-b', 'v-b', 0.1, 0.5, 1.2)]),
  record('put', 'v-g', [candidate('t-g1', 'v-g', 0.08, 0.7, 0.4), candidate('t-g2', 'v-g', 0.15, 0.3, 0.9), candidate('t-c', 'v-c', 0.03, 1.0, 0.3)]),
  record('put', 'v-x', [candidate('t-c', 'v-c', 0.4, 0, 2), candidate('t-u', null, 0.3, 0.2, 1.5)]),
  record('pick', null, [candidate('t-a', 'v-a', 0.0, 1.0, 0.2)]),
  // A neighbour's hand that came into the lanes only after the change (cameInAfterPick).
  record('pick', 'v-a', [candidate('t-a', 'v-a', 0.01, 1.0, 0.2), { ...candidate('t-b', 'v-b', 0.2, 0.4, 0.9), cameInAfter: true }]),
];

for (const profileSmooth of [0, 2]) test(`the who gradient in closed form is the penalised likelihood's slope in every weight (smoothness ${profileSmooth})`, () => {
  const params = { ...DEFAULT_PARAMS, pickProfilePerM: DEFAULT_PARAMS.pickProfilePerM.map((w) => w / 4), putProfilePerM: DEFAULT_PARAMS.putProfilePerM.map((w) => w / 4), contactPerM: 12, nearestPerM: 6, cameInAfterPick: 1 };
  const profileL2 = 0.5;
  const vector = whoVector(params);
  const gradient = whoGradient(params, RECORDS, profileL2, profileSmooth);
  assert.equal(gradient.length, vector.length);
  const delta = 1e-5;
  vector.forEach((_, k) => {
    const up = [...vector];
    const down = [...vector];
    up[k] += delta;
    down[k] -= delta;
    const slope = (penalisedWho(withWhoVector(params, up), RECORDS, profileL2, profileSmooth) - penalisedWho(withWhoVector(params, down), RECORDS, profileL2, profileSmooth)) / (2 * delta);
    assert.ok(Math.abs(slope - gradient[k]) <= 1e-6 * Math.max(1, Math.abs(slope)), `weight ${k}: closed form ${gradient[k]}, central difference ${slope}`);
  });
  assert.ok(gradient.some((g) => Math.abs(g) > 1e-3), 'the events pull somewhere');
  assert.ok(Math.abs(gradient[WHO_KEYS.indexOf('cameInAfterPick')]) > 1e-6, 'the came-in-after weight is pulled too');
  assert.ok(Math.abs(gradient[WHO_KEYS.indexOf('movedPerM')]) > 1e-6, 'the weight of a hand\'s own movement is pulled too');
});

test('a step along the gradient raises the penalised likelihood', () => {
  const params = { ...DEFAULT_PARAMS, contactPerM: 12, nearestPerM: 6 };
  const before = penalisedWho(params, RECORDS, 0.01);
  const gradient = whoGradient(params, RECORDS, 0.01);
  const after = penalisedWho(withWhoVector(params, whoVector(params).map((w, k) => w + 1e-3 * gradient[k])), RECORDS, 0.01);
  assert.ok(after > before, `${after} > ${before}`);
});

test('the smoothness penalty costs alternating profile weights and nothing for level ones', () => {
  const level = { ...DEFAULT_PARAMS, pickProfilePerM: PROFILE_OFFSETS_MS.map(() => 2), putProfilePerM: PROFILE_OFFSETS_MS.map(() => 1) };
  const alternating = { ...level, pickProfilePerM: PROFILE_OFFSETS_MS.map((_, i) => (i % 2 === 0 ? 3 : 1)) };
  assert.equal(penalisedWho(level, RECORDS, 0, 5), penalisedWho(level, RECORDS, 0, 0));
  const cost = penalisedWho(alternating, RECORDS, 0, 0) - penalisedWho(alternating, RECORDS, 0, 5);
  assert.ok(Math.abs(cost - 5 * 4 * (PROFILE_OFFSETS_MS.length - 1)) < 1e-9, `eight steps of 2 cost 5 x 4 each: ${cost}`);
});

test('a floor on the likelihood holds each event at no less than its log, and leaves events above it as they are', () => {
  // The truth is v-b, whose hand was 0.9 m from the lane while v-a's was in it: far below one in a million.
  const hopeless = [record('pick', 'v-b', [candidate('t-a', 'v-a', 0, 1.2, 0.1), candidate('t-b', 'v-b', 0.9, 0, 2)])];
  const reachable = [RECORDS[0], RECORDS[1]];
  assert.ok(whoLogLikelihood(DEFAULT_PARAMS, hopeless) < Math.log(1e-6), 'the hopeless event is below the floor');
  assert.equal(whoLogLikelihood(DEFAULT_PARAMS, hopeless, 1e-6), Math.log(1e-6));
  assert.ok(whoLogLikelihood(DEFAULT_PARAMS, reachable) > Math.log(1e-6) * 2);
  assert.equal(whoLogLikelihood(DEFAULT_PARAMS, reachable, 1e-6), whoLogLikelihood(DEFAULT_PARAMS, reachable));
});
