import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { indexStore, parseStore, SCHEMA_VERSION, type ActionTruth, type ShelfEventDetected } from '../contracts/index.ts';
import { plateStockGrams, simulateShelfLoadCells } from '../sim/loadcell.sim.ts';
import { laneLoadChanges } from '../sim/shelf-activity.sim.ts';
import { BaselineDetector } from './baseline.detector.ts';
import { matchSharedEvents, matchShelfEvents, scoreShelfEvents, separableActions } from './shelf.eval.ts';

const kiosk = indexStore(parseStore(JSON.parse(readFileSync(new URL('../../fixtures/stores/kiosk.json', import.meta.url), 'utf8'))));
const T0 = 1_700_000_000_000;

const action = (id: string, laneId: string, startMs: number, kind: 'pick' | 'put' = 'pick', quantity = 1): ActionTruth => ({
  actionId: id,
  kind,
  startMs: T0 + startMs,
  endMs: T0 + startMs + 400,
  productId: kiosk.placementByLane.get(laneId)!.productId,
  quantity,
  shelfId: kiosk.lanes.get(laneId)!.shelf.id,
  laneId,
});
const event = (laneIds: string[], startMs: number, kind: 'pick' | 'put' = 'pick', productId = kiosk.placementByLane.get(laneIds[0])!.productId, quantity = 1): ShelfEventDetected => ({
  schemaVersion: SCHEMA_VERSION,
  eventId: `e-${laneIds[0]}-${startMs}`,
  storeId: 'kiosk',
  ts: T0 + startMs,
  shelfEventId: `e-${laneIds[0]}-${startMs}`,
  shelfId: kiosk.lanes.get(laneIds[0])!.shelf.id,
  plateIds: kiosk.lanes.get(laneIds[0])!.lane.plateIds,
  laneIds,
  kind,
  startMs: T0 + startMs,
  endMs: T0 + startMs + 600,
  deltaGrams: -100,
  sigmaGrams: 1,
  hypotheses: [{ productId, quantity, probability: 0.9 }],
  confidence: 0.9,
  health: 'ok',
});

test('an event matches on shelf, kind and lane, within one second of the action, one to one', () => {
  const truth = [action('a1', 'g1-s1-l1', 0), action('a2', 'g1-s1-l3', 5_000), action('a3', 'g1-s2-l1', 10_000, 'put')];
  const events = [
    event(['g1-s1-l1'], 300), // matches a1
    event(['g1-s1-l1'], 500), // a second event for a1: spurious
    event(['g1-s1-l4'], 5_100), // wrong lane for a2
    event(['g1-s2-l1'], 10_100, 'pick'), // wrong kind for a3
    event(['g1-s2-l1'], 12_000, 'put'), // too late for a3 (1.6 s after its end)
  ];
  const matches = matchShelfEvents(events, truth);
  assert.deepEqual(matches.map((m) => [m.action.actionId, m.event.startMs - T0]), [['a1', 300]]);
  const score = scoreShelfEvents(kiosk, events, truth);
  assert.equal(score.precision, 1 / 5);
  assert.equal(score.recall, 1 / 3);
  assert.ok(Math.abs(score.f1 - (2 * (1 / 5) * (1 / 3)) / (1 / 5 + 1 / 3)) < 1e-12);
  assert.deepEqual(score.missed.map((a) => a.actionId), ['a2', 'a3']);
  assert.equal(score.spurious.length, 4);
});

test('two shoppers reaching into one lane moments apart: the earlier reach gets the earlier change, even when its centre lies a little nearer the later reach', () => {
  // a1 reaches from 0 to 1.9 s and lifts at about 1.1 s; a2 from 0.6 s to 2.4 s, lifting at 1.7 s.
  const truth = [
    { ...action('a1', 'g2-s1-l6', 0), endMs: T0 + 1_900 },
    { ...action('a2', 'g2-s1-l6', 600), endMs: T0 + 2_400 },
  ];
  const events = [
    { ...event(['g2-s1-l6'], 1_150), endMs: T0 + 1_350 },
    { ...event(['g2-s1-l6'], 1_750), endMs: T0 + 2_050 },
  ];
  const matched = matchShelfEvents(events, truth).map((m) => [m.action.actionId, m.event.startMs - T0]).sort();
  assert.deepEqual(matched, [
    ['a1', 1_150],
    ['a2', 1_750],
  ]);
});

test('two shoppers at one lane at once: the action left over joins the event whose two units hold both, never one that cannot', () => {
  const truth = [
    action('a1', 'g1-s1-l1', 0),
    action('a2', 'g1-s1-l1', 200), // the second shopper, same lane and product
    action('a3', 'g1-s1-l3', 5_000),
    action('a4', 'g1-s1-l3', 5_100), // also at once, but the event saw one unit only
    action('a5', 'g1-s1-l1', 9_000), // alone, and nothing saw it
  ];
  const events = [event(['g1-s1-l1'], 300, 'pick', undefined, 2), event(['g1-s1-l3'], 5_200)];
  // Shelf perception is still scored one to one.
  assert.equal(matchShelfEvents(events, truth).length, 2);
  const shared = matchSharedEvents(events, truth);
  const byStart = new Map([...shared].map(([e, actions]) => [e.startMs - T0, actions.map((a) => a.actionId).sort()]));
  assert.deepEqual(byStart.get(300), ['a1', 'a2']);
  assert.equal(byStart.get(5_200)?.length, 1, 'one unit holds one action');
  assert.equal(byStart.size, 2);
});

test('quantity and product top-1 are scored on matched actions', () => {
  const truth = [action('a1', 'g1-s1-l1', 0, 'pick', 2), action('a2', 'g1-s1-l3', 5_000)];
  const events = [event(['g1-s1-l1'], 100, 'pick', undefined, 1), event(['g1-s1-l3'], 5_100, 'pick', 'p-0001')];
  const score = scoreShelfEvents(kiosk, events, truth);
  assert.equal(score.matched, 2);
  assert.equal(score.quantityAccuracy, 0.5);
  assert.equal(score.productTop1, kiosk.placementByLane.get('g1-s1-l3')!.productId === 'p-0001' ? 1 : 0.5);
});

test('listed: the true product and quantity anywhere among the hypotheses, for fusion to settle', () => {
  const truth = [action('a1', 'g1-s1-l1', 0), action('a2', 'g1-s1-l3', 5_000), action('a3', 'g1-s2-l1', 10_000, 'pick', 2)];
  const own = (laneId: string) => kiosk.placementByLane.get(laneId)!.productId;
  const second = event(['g1-s1-l3'], 5_100, 'pick', 'p-0001');
  second.hypotheses = [{ productId: 'p-0001', quantity: 1, probability: 0.6 }, { productId: own('g1-s1-l3'), quantity: 1, probability: 0.4 }];
  assert.notEqual(own('g1-s1-l3'), 'p-0001', 'fixture: the decoy is another product');
  const events = [event(['g1-s1-l1'], 100), second, event(['g1-s2-l1'], 10_100, 'pick', undefined, 1)];
  const score = scoreShelfEvents(kiosk, events, truth);
  assert.equal(score.matched, 3);
  assert.equal(score.productTop1, 2 / 3);
  // a1 leads with it, a2 lists it second, a3 names the product with the wrong quantity.
  assert.equal(score.productListed, 2 / 3);
});

test('separable: a put of a product carried next to one of equal weight is not', () => {
  const products = [...kiosk.products.values()];
  const twin = products.find((p) => products.some((q) => q.id !== p.id && Math.abs(q.unitWeightGrams - p.unitWeightGrams) < 1));
  assert.ok(twin, 'fixture: the kiosk has products of near-equal weight');
  const other = products.find((q) => q.id !== twin.id && Math.abs(q.unitWeightGrams - twin.unitWeightGrams) < 1)!;
  const laneOf = (id: string) => kiosk.lanesByProduct.get(id)![0];
  const truth: ActionTruth[] = [
    action('a1', laneOf(twin.id), 0),
    action('a2', laneOf(other.id), 2_000),
    { ...action('a3', 'g2-s4-l6', 4_000, 'put'), productId: twin.id },
  ];
  const separable = separableActions(kiosk, truth);
  assert.ok(!separable.has('a3'), 'the put could be either twin: both are carried');
});

test('the baseline finds a heavy pick but misses a light one under its 40 g window threshold', () => {
  const events: ShelfEventDetected[] = [];
  const baseline = new BaselineDetector({ index: kiosk, onEvent: (e) => events.push(e) });
  const heavy = 'g1-s1-l3';
  const lightLane = 'g1-s1-l6';
  const grams = (laneId: string) => kiosk.products.get(kiosk.placementByLane.get(laneId)!.productId)!.unitWeightGrams;
  const changes = [
    ...laneLoadChanges(kiosk, heavy, grams(heavy), T0 + 2_000, 400, 'pick'),
    ...laneLoadChanges(kiosk, lightLane, 25, T0 + 6_000, 400, 'pick'), // a 25 g item: chewing gum
  ];
  for (const tick of simulateShelfLoadCells({ index: kiosk, shelfId: 'g1-s1', startMs: T0, endMs: T0 + 10_000, initialGrams: plateStockGrams(kiosk, 'g1-s1'), changes, seed: 4 }))
    baseline.push('g1-s1', tick.ts, tick.grams);
  assert.equal(events.length, 1, JSON.stringify(events));
  assert.equal(events[0].laneIds[0], heavy);
  assert.equal(events[0].kind, 'pick');
});

test("given the products, a few grams beside two shoppers' change at one lane are neither shopper's: the second action joins the change", () => {
  const laneId = 'g1-s1-l1';
  const unit = kiosk.products.get(kiosk.placementByLane.get(laneId)!.productId)!.unitWeightGrams;
  const truth = [action('a1', laneId, 0), action('a2', laneId, 100)];
  const change = { ...event([laneId], 300, 'pick', undefined, 2), deltaGrams: -2 * unit };
  // A hand resting on the plate as it lifts: a few grams no product explains, listing the lane.
  const hand = { ...event([laneId, 'g1-s1-l2'], 200, 'pick'), eventId: 'hand', shelfEventId: 'hand', deltaGrams: -6.7, sigmaGrams: 1.5, hypotheses: [] };
  const blind = matchSharedEvents([change, hand], truth);
  assert.equal(blind.get(hand)?.length, 1, 'fixture: without the products an action takes the few grams');
  const shared = matchSharedEvents([change, hand], truth, { products: kiosk.products });
  assert.deepEqual(shared.get(change)?.map((a) => a.actionId).sort(), ['a1', 'a2']);
  assert.equal(shared.has(hand), false);
  // A part of a grab the shelf split still matches: about a third of the units is not too light.
  const part = { ...change, deltaGrams: -unit * 0.7, hypotheses: [] };
  assert.equal(matchShelfEvents([part], [action('a3', laneId, 0, 'pick', 2)], { products: kiosk.products }).length, 1);
});

test('a put and a pick on the same plates at once net into one change: with the products known, the put left over joins it when its weight makes up the difference', () => {
  const pickLane = 'g1-s1-l2';
  const pickUnit = kiosk.products.get(kiosk.placementByLane.get(pickLane)!.productId)!.unitWeightGrams;
  const heldId = [...kiosk.products].find(([, p]) => p.unitWeightGrams < 0.6 * pickUnit && p.unitWeightGrams > 0.2 * pickUnit)![0];
  const held = kiosk.products.get(heldId)!.unitWeightGrams;
  const plateIds = kiosk.lanes.get(pickLane)!.lane.plateIds;
  const pick = { ...action('a1', pickLane, 0), plateIds };
  const put = { ...action('a2', pickLane, 200, 'put'), productId: heldId, plateIds };
  const netted = { ...event([pickLane], 300, 'pick'), deltaGrams: held - pickUnit, hypotheses: [] };
  assert.deepEqual(matchSharedEvents([netted], [pick, put], { products: kiosk.products }).get(netted)?.map((a) => a.actionId), ['a1', 'a2']);
  // Without the products, or when the put's weight would not make up the difference, it stays out.
  assert.deepEqual(matchSharedEvents([netted], [pick, put]).get(netted)?.map((a) => a.actionId), ['a1']);
  const whole = { ...netted, deltaGrams: -pickUnit };
  assert.deepEqual(matchSharedEvents([whole], [pick, put], { products: kiosk.products }).get(whole)?.map((a) => a.actionId), ['a1']);
  // Nor does a put on other plates join.
  const elsewhere = { ...put, plateIds: ['g1-s1-p4'] };
  assert.deepEqual(matchSharedEvents([netted], [pick, elsewhere], { products: kiosk.products }).get(netted)?.map((a) => a.actionId), ['a1']);
});

test('an action left over matches an event nothing matched that read it on another lane of its plates, naming its product; never one on other plates', () => {
  const [lane, beside] = ['g1-s1-l1', 'g1-s1-l2'];
  assert.ok(kiosk.lanes.get(beside)!.lane.plateIds.includes(kiosk.lanes.get(lane)!.lane.plateIds[0]), 'fixture: the two lanes share a plate');
  const put = { ...action('a1', lane, 0, 'put'), plateIds: kiosk.lanes.get(lane)!.lane.plateIds };
  const unit = kiosk.products.get(put.productId)!.unitWeightGrams;
  const onBeside = { ...event([beside], 200, 'put', put.productId), plateIds: kiosk.lanes.get(beside)!.lane.plateIds, deltaGrams: unit };
  assert.equal(matchShelfEvents([onBeside], [put]).length, 0, 'shelf perception is scored by lane');
  assert.deepEqual(matchSharedEvents([onBeside], [put], { products: kiosk.products }).get(onBeside)?.map((a) => a.actionId), ['a1']);
  const otherPlates = { ...onBeside, plateIds: kiosk.lanes.get('g1-s1-l4')!.lane.plateIds, laneIds: ['g1-s1-l4'] };
  assert.equal(matchSharedEvents([otherPlates], [put], { products: kiosk.products }).size, 0);
  const otherProduct = { ...onBeside, hypotheses: [{ productId: kiosk.placementByLane.get('g1-s1-l4')!.productId, quantity: 1, probability: 0.9 }] };
  assert.equal(matchSharedEvents([otherProduct], [put], { products: kiosk.products }).size, 0);
});
