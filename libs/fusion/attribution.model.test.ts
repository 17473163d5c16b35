import test from 'node:test';
import assert from 'node:assert/strict';
import { calibrate, changeMsOf, jointOptions, MOVED_CAP_M, PAIR_STILL_M, QUICK_CHANGE_MS, whosOf, nettedShare, personScore, WEIGHT_MODEL_GRAMS, situationOf, whatHypotheses, type AttributionParams, type WhatContext, type Who } from './attribution.model.ts';
import { DEFAULT_PARAMS } from './fusion.engine.ts';

const params: AttributionParams = { ...DEFAULT_PARAMS, misplacedPrior: 0.5, misplacedFrontPrior: 10, shelfOnlyPrior: 0.001, earlierCarriedPut: 0.1 };
/** Two products of one weight: the weight says nothing, only the priors speak. */
const products = new Map([
  ['p-lane', { unitWeightGrams: 200, weightSpreadGrams: 2 }],
  ['p-misplaced', { unitWeightGrams: 200, weightSpreadGrams: 2 }],
]);

function pickContext(misplacedUnits: number, front: boolean): WhatContext {
  return {
    deltaGrams: -200,
    sigmaGrams: 2,
    planned: new Set(['p-lane']),
    misplaced: new Map(misplacedUnits > 0 ? [['p-misplaced', misplacedUnits]] : []),
    front: new Set(front ? ['p-misplaced'] : []),
    carried: new Map(),
    product: (id) => products.get(id),
  };
}

const shareOf = (hypotheses: ReturnType<typeof whatHypotheses>, productId: string) => hypotheses.find((h) => h.productId === productId && !h.alongside)?.probability ?? 0;

test('a pick weighs a misplaced look-alike by how surely it lies there and whether it lies at the front', () => {
  const shelf = [{ productId: 'p-lane', quantity: 1, probability: 1 }];
  const sure = shareOf(whatHypotheses(params, 'pick', shelf, pickContext(1, false)), 'p-misplaced');
  const partly = shareOf(whatHypotheses(params, 'pick', shelf, pickContext(0.3, false)), 'p-misplaced');
  const atFront = shareOf(whatHypotheses(params, 'pick', shelf, pickContext(1, true)), 'p-misplaced');
  // prior 0.5 against the lane's own 1
  assert.ok(Math.abs(sure - 0.5 / 1.5) < 1e-9, `sure ${sure}`);
  // 0.3 of a unit: 0.3 x 0.5 + 0.7 x 0.001 against 1
  const partPrior = 0.3 * 0.5 + 0.7 * 0.001;
  assert.ok(Math.abs(partly - partPrior / (1 + partPrior)) < 1e-9, `partly ${partly}`);
  // put after the plate's last pick: 10 against 1
  assert.ok(Math.abs(atFront - 10 / 11) < 1e-9, `front ${atFront}`);
  assert.equal(shareOf(whatHypotheses(params, 'pick', shelf, pickContext(0, false)), 'p-misplaced'), 0, 'nothing known misplaced is not offered');
});

function shopper(latestPicked: string[], holds: Record<string, number>): Who {
  return { visitId: 'v-a', trackId: 't-a', probability: 1, staff: false, holds: new Map(Object.entries(holds)), latestPicked: new Set(latestPicked) };
}

test('a put of one of two look-alikes a shopper carries is of the one taken last, unless it was put back already', () => {
  const hypotheses = [
    { productId: 'p-lane', quantity: 1, probability: 0.5 },
    { productId: 'p-misplaced', quantity: 1, probability: 0.5 },
  ];
  const share = (who: Who, productId: string) => jointOptions(params, 'put', [who], hypotheses).find((o) => o.productId === productId)!.probability;
  assert.ok(Math.abs(share(shopper(['p-misplaced'], { 'p-lane': 1, 'p-misplaced': 1 }), 'p-misplaced') - 1 / 1.1) < 1e-9);
  assert.ok(Math.abs(share(shopper(['p-lane'], { 'p-lane': 1, 'p-misplaced': 1 }), 'p-misplaced') - 0.1 / 1.1) < 1e-9);
  // What was taken last went back already: the hand is empty and neither product is favoured.
  assert.ok(Math.abs(share(shopper(['p-other'], { 'p-lane': 1, 'p-misplaced': 1, 'p-other': 0 }), 'p-misplaced') - 0.5) < 1e-9);
  assert.ok(Math.abs(share(shopper([], { 'p-lane': 1, 'p-misplaced': 1 }), 'p-misplaced') - 0.5) < 1e-9);
});

test('a pick weighing the lane\'s own unit and a misplaced one together may be one grab of both, as likely as the misplaced unit', () => {
  const shelf = [{ productId: 'p-lane', quantity: 2, probability: 1 }];
  const both = (misplacedUnits: number, front: boolean) => {
    const hypotheses = whatHypotheses(params, 'pick', shelf, { ...pickContext(misplacedUnits, front), deltaGrams: -400 });
    return hypotheses.find((h) => h.alongside?.productId === 'p-misplaced')?.probability ?? 0;
  };
  // Two of the lane's own (prior 1) against one of each, with the weights' spread alike: 10 against 1 at the front, 0.5 against 1 behind it.
  assert.ok(Math.abs(both(1, true) - 10 / 11) < 1e-9, `front ${both(1, true)}`);
  assert.ok(Math.abs(both(1, false) - 0.5 / 1.5) < 1e-9, `behind ${both(1, false)}`);
  assert.equal(both(0, false), 0, 'nothing known misplaced, no grab of it');
  const grab = whatHypotheses(params, 'pick', shelf, { ...pickContext(1, true), deltaGrams: -400 })[0];
  assert.deepEqual({ productId: grab.productId, quantity: grab.quantity, alongside: grab.alongside }, { productId: 'p-lane', quantity: 1, alongside: { productId: 'p-misplaced', quantity: 1 } });
});

test('three units at once are weighed down for a shopper, whose hand takes one or two, and not for staff restocking', () => {
  const hypotheses = [
    { productId: 'p-lane', quantity: 3, probability: 0.5 },
    { productId: 'p-misplaced', quantity: 1, probability: 0.5 },
  ];
  const threeShare = (staff: boolean) =>
    jointOptions({ ...params, manyUnitsAtOnce: 0.01, twoAtOnce: 0 }, 'pick', [{ ...shopper([], {}), staff }], hypotheses).find((o) => o.quantity === 3)!.probability;
  assert.ok(Math.abs(threeShare(false) - 0.01 / 1.01) < 1e-9, `shopper ${threeShare(false)}`);
  assert.ok(Math.abs(threeShare(true) - 0.5) < 1e-9, `staff ${threeShare(true)}`);
});

test('a put onto a lane not planned for its product has a calibration term of its own; a misplaced pick and a put where it belongs do not take it', () => {
  const withTerm: AttributionParams = { ...DEFAULT_PARAMS, calibrationUnplannedPut: 0.7 };
  const without: AttributionParams = { ...DEFAULT_PARAMS, calibrationUnplannedPut: 0 };
  const logit = (p: number) => Math.log(p / (1 - p));
  const wrongLanePut = { unplanned: true, several: false, put: true, pair: false };
  assert.ok(Math.abs(logit(calibrate(withTerm, 0.9, wrongLanePut)) - logit(calibrate(without, 0.9, wrongLanePut)) - 0.7) < 1e-9, 'the term adds to the logit');
  for (const situation of [
    { unplanned: true, several: false, put: false, pair: false },
    { unplanned: false, several: false, put: true, pair: false },
  ])
    assert.equal(calibrate(withTerm, 0.9, situation), calibrate(without, 0.9, situation), JSON.stringify(situation));
});

/**
 * The share of `productId` in a put-back of one unit weighing `putGrams`, by a shopper who may hold a
 * unit of either of two products (half a unit each, from a pick in review), the pick having weighed
 * that unit `pickedGrams` whichever it was; undefined: no weighing known, the nominal weights.
 */
function putBackShare(products: Record<string, { unitWeightGrams: number; weightSpreadGrams: number }>, pickedGrams: number | undefined, putGrams: number, productId: string): number {
  const ids = Object.keys(products);
  const unit = { grams: pickedGrams ?? 0, sigmaGrams: 1.5 };
  const context: WhatContext = {
    deltaGrams: putGrams,
    sigmaGrams: 1.5,
    planned: new Set(['p-other']),
    misplaced: new Map(),
    front: new Set(),
    carried: new Map(ids.map((id) => [id, 0.5])),
    ...(pickedGrams === undefined ? {} : { measured: new Map(ids.map((id) => [id, [unit]])) }),
    product: (id) => products[id],
  };
  return shareOf(whatHypotheses(params, 'put', ids.map((id) => ({ productId: id, quantity: 1, probability: 0.5 })), context), productId);
}

test('a unit weighed when it was picked counts its own deviation once: its put-back does not tip a look-alike reading further each move', () => {
  // Two products within the scale's noise of each other, 5 g of spread a unit. The pick weighed
  // 531.9 g whichever it was: a heavy unit, already counted once in the pick's reading.
  const products = { 'p-light': { unitWeightGrams: 522.6, weightSpreadGrams: 5 }, 'p-heavy': { unitWeightGrams: 525.2, weightSpreadGrams: 5 } };
  const nominal = putBackShare(products, undefined, 531.4, 'p-heavy');
  const given = putBackShare(products, 531.9, 531.4, 'p-heavy');
  assert.ok(nominal > 0.6, `against the nominal weights the heavier product wins again: ${nominal}`);
  assert.ok(given > 0.5 && given < 0.53, `given the unit's weight, the put all but repeats the pick's doubt: ${given}`);
});

test('products whose units hardly vary keep what a second weighing says: the scale noise of each weighing is its own', () => {
  const products = { 'p-a': { unitWeightGrams: 107.6, weightSpreadGrams: 1.5 }, 'p-b': { unitWeightGrams: 105, weightSpreadGrams: 1.5 } };
  const given = putBackShare(products, 109.3, 107.9, 'p-a');
  assert.ok(given > 0.54, `the put's own weighing still favours the product it fits: ${given}`);
});

test('a reading of two shoppers at once has a calibration term of its own, and only such a reading takes it', () => {
  const whos: Who[] = [
    { ...shopper([], {}), visitId: 'v-a', trackId: 't-a', probability: 0.5 },
    { ...shopper([], {}), visitId: 'v-b', trackId: 't-b', probability: 0.5 },
    { visitId: undefined, probability: 1e-6, staff: false },
  ];
  const options = jointOptions({ ...DEFAULT_PARAMS, twoAtOnce: 1 }, 'pick', whos, [{ productId: 'p-lane', quantity: 2, probability: 1 }]);
  const pair = options.find((o) => o.partner)!;
  const alone = options.find((o) => !o.partner)!;
  const index = { placementByLane: new Map([['l-1', { productId: 'p-lane' }]]) } as unknown as Parameters<typeof situationOf>[0];
  const event = { laneIds: ['l-1'], kind: 'pick' as const };
  assert.equal(situationOf(index, event, pair).pair, true);
  assert.equal(situationOf(index, event, alone).pair, false);
  const withTerm: AttributionParams = { ...DEFAULT_PARAMS, calibrationPair: -1.5 };
  const without: AttributionParams = { ...DEFAULT_PARAMS, calibrationPair: 0 };
  const logit = (p: number) => Math.log(p / (1 - p));
  const pairSituation = situationOf(index, event, pair);
  assert.ok(Math.abs(logit(calibrate(withTerm, 0.9, pairSituation)) - logit(calibrate(without, 0.9, pairSituation)) + 1.5) < 1e-9, 'the term adds to the logit');
  const aloneSituation = situationOf(index, event, alone);
  assert.equal(calibrate(withTerm, 0.9, aloneSituation), calibrate(without, 0.9, aloneSituation));
});

test("a pair's pick is weighed by how long the weight took to change: quickPair within QUICK_CHANGE_MS, slowPair beyond, neither untimed nor for a put", () => {
  const whos: Who[] = [
    { ...shopper([], {}), visitId: 'v-a', trackId: 't-a', probability: 0.5 },
    { ...shopper([], {}), visitId: 'v-b', trackId: 't-b', probability: 0.5 },
    { visitId: undefined, probability: 1e-6, staff: false },
  ];
  const hypotheses = [{ productId: 'p-lane', quantity: 2, probability: 1 }];
  const params = { ...DEFAULT_PARAMS, twoAtOnce: 1e-5, quickPair: 0.2, slowPair: 30 };
  const pairOdds = (changeMs: number | undefined) => {
    const options = jointOptions(params, 'pick', whos, hypotheses, changeMs);
    return options.find((o) => o.partner)!.probability / options.find((o) => !o.partner && o.who.visitId === 'v-a')!.probability;
  };
  const untimed = pairOdds(undefined);
  assert.ok(Math.abs(pairOdds(QUICK_CHANGE_MS) / untimed - 0.2) < 1e-9, 'one quick step: quickPair');
  assert.ok(Math.abs(pairOdds(QUICK_CHANGE_MS + 200) / untimed - 30) < 1e-9, 'two steps apart: slowPair');
  const alone = (changeMs: number | undefined) => jointOptions(params, 'pick', whos.slice(0, 1).concat(whos[2]), hypotheses, changeMs).map((o) => o.probability);
  assert.deepEqual(alone(40), alone(undefined), "with one shopper there, the timing changes nothing");
  const putOdds = (changeMs: number | undefined) => {
    const holding = whos.map((who) => (who.visitId ? { ...who, holds: new Map([['p-lane', 1]]) } : who));
    const options = jointOptions(params, 'put', holding, hypotheses, changeMs);
    return options.find((o) => o.partner)!.probability / options.find((o) => !o.partner && o.who.visitId === 'v-a')!.probability;
  };
  assert.ok(Math.abs(putOdds(QUICK_CHANGE_MS + 200) / putOdds(undefined) - 1) < 1e-9, "a put's timing is not weighed: a hand setting down presses as it lets go");
  assert.equal(changeMsOf({ transitionMs: [1_000, 1_250] }), 250);
  assert.equal(changeMsOf({}), undefined);
});

test('a pair whose shopper\'s hand hardly moved is weighed by stillPartner, once for each such shopper; one shopper\'s change is not', () => {
  const whos = (movedA: number, movedB: number): Who[] => [
    { ...shopper([], {}), visitId: 'v-a', trackId: 't-a', probability: 0.5, liftMovedM: movedA },
    { ...shopper([], {}), visitId: 'v-b', trackId: 't-b', probability: 0.5, liftMovedM: movedB },
    { visitId: undefined, probability: 1e-6, staff: false },
  ];
  const hypotheses = [{ productId: 'p-lane', quantity: 2, probability: 1 }];
  // Unnormalised odds of the pair against v-a alone, under a stillPartner factor.
  const pairOdds = (factor: number, movedA: number, movedB: number) => {
    const options = jointOptions({ ...DEFAULT_PARAMS, twoAtOnce: 1e-5, stillPartner: factor }, 'pick', whos(movedA, movedB), hypotheses);
    return options.find((o) => o.partner)!.probability / options.find((o) => !o.partner && o.who.visitId === 'v-a')!.probability;
  };
  const reach = PAIR_STILL_M + 0.3;
  const still = PAIR_STILL_M / 2;
  assert.ok(Math.abs(pairOdds(0.1, reach, reach) / pairOdds(1, reach, reach) - 1) < 1e-9, 'two reaching hands: no factor');
  assert.ok(Math.abs(pairOdds(0.1, reach, still) / pairOdds(1, reach, still) - 0.1) < 1e-9, 'one still hand: the factor once');
  assert.ok(Math.abs(pairOdds(0.1, still, still) / pairOdds(1, still, still) - 0.01) < 1e-9, 'two still hands: twice');
  const unknown = jointOptions({ ...DEFAULT_PARAMS, twoAtOnce: 1e-5, stillPartner: 0.1 }, 'pick', whos(reach, reach).map(({ liftMovedM: _m, ...who }) => who), hypotheses);
  const known = jointOptions({ ...DEFAULT_PARAMS, twoAtOnce: 1e-5, stillPartner: 1 }, 'pick', whos(reach, reach), hypotheses);
  assert.deepEqual(unknown.map((o) => o.probability), known.map((o) => o.probability), 'a hand not measured is not taken for a still one');
  // A group's visit moves as its likeliest track's hand did.
  const group = whosOf(
    [
      { trackId: 't-1', visitId: 'v-g', movedM: 0.05 },
      { trackId: 't-2', visitId: 'v-g', movedM: 0.6 },
    ],
    { people: [0.3, 0.6], unseen: 0.1 },
    () => ({ staff: false }),
  );
  assert.deepEqual([group[0].trackId, group[0].liftMovedM], ['t-2', 0.6]);
  // A hand's movement read from its own lift stands for it where the evidence has it (a second hand
  // lifting late in the change), the reading from the change's start where it does not.
  const lifted = whosOf(
    [
      { trackId: 't-1', visitId: 'v-1', movedM: 0.05, liftMovedM: 0.6 },
      { trackId: 't-2', visitId: null, movedM: 0.05, liftMovedM: 0.5 },
      { trackId: 't-3', visitId: 'v-3', movedM: 0.4 },
    ],
    { people: [0.4, 0.3, 0.2], unseen: 0.1 },
    () => ({ staff: false }),
  );
  assert.deepEqual(
    lifted.map((who) => [who.trackId, who.liftMovedM]),
    [
      ['t-2', 0.5],
      ['t-1', 0.6],
      ['t-3', 0.4],
      [undefined, undefined],
    ],
  );
});

test('a pick counts a hand that came into the lanes only after the change against its candidate; a put does not', () => {
  const evidence = (cameInAfter: boolean) => ({ contactM: 0.1, nearestM: 0.05, inLaneS: 0.5, timingS: 0.5, seen: 1, profile: [0.6, 0.5, 0.4, 0.3, 0.2, 0.01, 0.0, 0.1, 0.4], cameInAfter });
  const withTerm = { ...DEFAULT_PARAMS, cameInAfterPick: 1.1 };
  const without = { ...withTerm, cameInAfterPick: 0 };
  assert.ok(Math.abs(personScore(without, evidence(true), 'pick') - personScore(withTerm, evidence(true), 'pick') - 1.1) < 1e-9);
  assert.equal(personScore(withTerm, evidence(true), 'put'), personScore(without, evidence(true), 'put'));
  assert.equal(personScore(withTerm, evidence(false), 'pick'), personScore(without, evidence(false), 'pick'));
});

test("a hand that moved on its own around the change scores movedPerM a metre, up to MOVED_CAP_M, for picks and puts alike", () => {
  const evidence = (movedM: number | undefined) => ({ contactM: 0, nearestM: 0, inLaneS: 0.8, timingS: 0.3, seen: 1, profile: [0.6, 0.5, 0.3, 0.1, 0, 0, 0, 0.1, 0.4], cameInAfter: false, movedM });
  const withTerm = { ...DEFAULT_PARAMS, movedPerM: 10 };
  for (const kind of ['pick', 'put'] as const) {
    assert.ok(Math.abs(personScore(withTerm, evidence(0.3), kind) - personScore(withTerm, evidence(0.1), kind) - 2) < 1e-9, `${kind}: 0.2 m more, 2 more`);
    assert.equal(personScore(withTerm, evidence(1), kind), personScore(withTerm, evidence(MOVED_CAP_M), kind), `${kind}: capped`);
    assert.equal(personScore(withTerm, evidence(undefined), kind), personScore(withTerm, evidence(0), kind), `${kind}: unknown is none`);
    assert.equal(personScore({ ...withTerm, movedPerM: 0 }, evidence(0.3), kind), personScore({ ...withTerm, movedPerM: 0 }, evidence(0), kind));
  }
});

test('a put and a pick at once take from the best option the share the weight gives them, by their prior odds', () => {
  // The plates lost 200 g: one pick of the lane's unit fits exactly; a reading at once predicts 190 g or 200 g.
  const context = pickContext(0, false);
  const best = { productId: 'p-lane', quantity: 1 };
  const reading = (predictedGrams: number) => ({ predictedGrams, sigmaGrams: 2 });
  const share = (putAndPickAtOnce: number, readings: Array<{ predictedGrams: number; sigmaGrams: number }>, delta = -200) =>
    nettedShare({ putAndPickAtOnce }, { ...context, deltaGrams: delta }, 'pick', best, readings);
  assert.equal(share(0.01, []), 0, 'no reading');
  assert.equal(share(0, [reading(-200)]), 0, 'no prior');
  assert.equal(nettedShare({ putAndPickAtOnce: 0.01 }, undefined, 'pick', best, [reading(-200)]), 0, 'no weight context');
  // Both fit exactly: the reading has its prior odds, times the ratio of the two densities' sigmas
  // (the pick's: the change's 2 g, the product's 2 g and the model's; the reading's: its own and the model's).
  const odds = 0.01 * Math.sqrt((2 ** 2 + 2 ** 2 + WEIGHT_MODEL_GRAMS ** 2) / (2 ** 2 + WEIGHT_MODEL_GRAMS ** 2));
  assert.ok(Math.abs(share(0.01, [reading(-200)]) - odds / (1 + odds)) < 1e-9);
  assert.ok(share(0.01, [reading(-190)]) < share(0.01, [reading(-200)]), 'a reading that fits worse takes less');
  assert.ok(share(0.1, [reading(-200)]) > share(0.01, [reading(-200)]), 'higher odds take more');
  // The plates lost 222 g: the pick fits at about 4 sigmas, a reading of 222 g exactly. The reading takes nearly all.
  assert.ok(share(0.001, [reading(-222)], -222) > 0.9);
});
