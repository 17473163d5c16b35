import { IN_LANE_CAP_S, MOVED_CAP_M, whoProbabilities, whosOf, type AttributionParams, type PersonScoreInput, type Who } from './attribution.model.ts';
import { FAR_M, PROFILE_OFFSETS_MS } from './hand.evidence.ts';
import type { LabelledRecord } from './fusion.eval.ts';

/**
 * The who model's likelihood and its gradient, for the fit (bench/attribution.fit.ts): the
 * probability the model gives each settled event's true visit, over the weights of a person's score
 * (attribution.model.ts personScore) taken as one vector.
 */

/** The scalar who weights, in the vector's order; the pick and put profile weights follow. */
export const WHO_KEYS = ['contactPerM', 'nearestPerM', 'inLanePerS', 'timingPerS', 'seen', 'unseen', 'reusedReach', 'cameInAfterPick', 'movedPerM'] as const;
/** Weights that may be negative; the others are penalties or rewards of a known sign. */
const SIGNED_KEYS: ReadonlySet<string> = new Set(['unseen', 'reusedReach']);

/** What the who likelihood reads of a settled event. */
export type WhoRecord = Pick<LabelledRecord, 'truth' | 'evidence' | 'options'> & { event: Pick<LabelledRecord['event'], 'kind'> };

/** The whos of a record under other parameters: visits' tracks summed again, holdings as they were. */
export function whosUnder(params: AttributionParams, record: WhoRecord): Who[] {
  const visits = new Map(record.options.map((o) => [o.who.visitId, o.who]));
  return whosOf(record.evidence, whoProbabilities(params, record.evidence, record.event.kind), (visitId) => ({
    staff: visits.get(visitId)?.staff ?? false,
    holds: visits.get(visitId)?.holds,
    latestPicked: visits.get(visitId)?.latestPicked,
  }));
}

/** Log-likelihoods of impossible outcomes are floored here, low enough that every event still pulls. */
export const FLOOR = 1e-300;

/**
 * The log-probability the who model gives each event's true visit ("someone unseen" when no candidate
 * is it), summed; each event's probability is floored at `floor` (FLOOR unless given).
 */
export function whoLogLikelihood(params: AttributionParams, records: readonly WhoRecord[], floor = FLOOR): number {
  let sum = 0;
  for (const r of records) {
    if (!r.truth) continue;
    const whos = whosUnder(params, r);
    const truth = whos.find((w) => w.visitId === r.truth!.visitId) ?? whos.at(-1)!;
    sum += Math.log(Math.max(floor, truth.probability));
  }
  return sum;
}

/** The who weights as one vector: the scalar weights, then the pick and put profile weights. */
export function whoVector(params: AttributionParams): number[] {
  return [...WHO_KEYS.map((key) => params[key]), ...params.pickProfilePerM, ...params.putProfilePerM];
}

/** Parameters with the who weights of `vector`; weights of a known sign are kept at 0 or above. */
export function withWhoVector(params: AttributionParams, vector: number[]): AttributionParams {
  const out = { ...params };
  WHO_KEYS.forEach((key, i) => (out[key] = SIGNED_KEYS.has(key) ? vector[i] : Math.max(0, vector[i])));
  const profiles = PROFILE_OFFSETS_MS.length;
  out.pickProfilePerM = vector.slice(WHO_KEYS.length, WHO_KEYS.length + profiles);
  out.putProfilePerM = vector.slice(WHO_KEYS.length + profiles, WHO_KEYS.length + 2 * profiles);
  return out;
}

/**
 * The who likelihood less `profileL2` times the squared hand-profile weights (offsets that say little
 * stay near zero) and `profileSmooth` times the squared differences of neighbouring offsets' weights
 * (a hand's distance 0.3 s apart says nearly the same, so unpenalised neighbours trade against each
 * other in signs that alternate: a hand far from the lane at the change itself then counts for it).
 */
export function penalisedWho(params: AttributionParams, records: readonly WhoRecord[], profileL2: number, profileSmooth = 0): number {
  const penalty = [...params.pickProfilePerM, ...params.putProfilePerM].reduce((sum, w) => sum + w * w, 0);
  const roughness = [params.pickProfilePerM, params.putProfilePerM].reduce((sum, profile) => sum + profile.slice(1).reduce((s, w, i) => s + (w - profile[i]) ** 2, 0), 0);
  return whoLogLikelihood(params, records) - profileL2 * penalty - profileSmooth * roughness;
}

/**
 * What each who weight multiplies in a person's score (attribution.model.ts personScore), in
 * whoVector's order; the unseen option has 1 for `unseen` and nothing else.
 */
export function scoreFeatures(evidence: PersonScoreInput['evidence'], kind: 'pick' | 'put'): number[] {
  const profile = PROFILE_OFFSETS_MS.map((_, k) => -(evidence.profile[k] ?? 0));
  const none = PROFILE_OFFSETS_MS.map(() => 0);
  return [
    -Math.min(FAR_M, evidence.contactM),
    -Math.min(FAR_M, evidence.nearestM),
    Math.min(IN_LANE_CAP_S, evidence.inLaneS),
    -evidence.timingS,
    evidence.seen,
    0,
    evidence.reused ? 1 : 0,
    kind === 'pick' && evidence.cameInAfter ? -1 : 0,
    Math.min(MOVED_CAP_M, evidence.movedM ?? 0),
    ...(kind === 'pick' ? profile : none),
    ...(kind === 'put' ? profile : none),
  ];
}
const UNSEEN_FEATURES = [...WHO_KEYS.map((key) => (key === 'unseen' ? 1 : 0)), ...PROFILE_OFFSETS_MS.map(() => 0), ...PROFILE_OFFSETS_MS.map(() => 0)];

/**
 * The gradient of penalisedWho in whoVector's order. The scores are linear in the weights, so each
 * event's log P(true visit) moves by what its true visit's people have (weighed by their share of
 * the visit) less what everyone has (weighed by their probability); events the floor holds pull
 * nowhere, as in whoLogLikelihood.
 */
export function whoGradient(params: AttributionParams, records: readonly WhoRecord[], profileL2: number, profileSmooth = 0): number[] {
  const weights = whoVector(params);
  const gradient = weights.map(() => 0);
  for (const r of records) {
    if (!r.truth) continue;
    const { people, unseen } = whoProbabilities(params, r.evidence, r.event.kind);
    const features = [...r.evidence.map((e) => scoreFeatures(e, r.event.kind)), UNSEEN_FEATURES];
    const probability = [...people, unseen];
    const mine = r.evidence.map((e, i) => (e.visitId === r.truth!.visitId ? i : -1)).filter((i) => i >= 0);
    const truth = mine.length > 0 ? mine : [probability.length - 1];
    const truthProbability = truth.reduce((sum, i) => sum + probability[i], 0);
    if (truthProbability < FLOOR) continue;
    for (let k = 0; k < gradient.length; k++) {
      let expected = 0;
      let expectedTruth = 0;
      for (let i = 0; i < features.length; i++) expected += probability[i] * features[i][k];
      for (const i of truth) expectedTruth += (probability[i] / truthProbability) * features[i][k];
      gradient[k] += expectedTruth - expected;
    }
  }
  // The penalties' part: the profile weights follow the scalar ones, pick then put.
  const profiles = PROFILE_OFFSETS_MS.length;
  for (let k = WHO_KEYS.length; k < gradient.length; k++) {
    const offset = (k - WHO_KEYS.length) % profiles;
    const before = offset > 0 ? weights[k] - weights[k - 1] : 0;
    const after = offset < profiles - 1 ? weights[k + 1] - weights[k] : 0;
    gradient[k] -= 2 * profileL2 * weights[k] + 2 * profileSmooth * (before - after);
  }
  return gradient;
}

