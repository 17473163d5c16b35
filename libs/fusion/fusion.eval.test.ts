import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { indexStore, parseStore, SCHEMA_VERSION, type ActionTruth, type ShelfEventDetected } from '../contracts/index.ts';
import type { JointOption } from './attribution.model.ts';
import { diagnoseRecords, labelRecords, type LabelledRecord } from './fusion.eval.ts';

const T0 = 1_780_000_000_000;

function record(id: string, best: [string, string, number] | null, truth: [string, string, number] | null, outcome: LabelledRecord['outcome'] = 'attributed'): LabelledRecord {
  const event: ShelfEventDetected = {
    schemaVersion: SCHEMA_VERSION,
    eventId: id,
    storeId: 'kiosk',
    ts: T0,
    shelfEventId: id,
    shelfId: 'g1-s1',
    plateIds: ['g1-s1-p1'],
    laneIds: ['g1-s1-l1'],
    kind: 'pick',
    startMs: T0,
    endMs: T0 + 300,
    deltaGrams: -100,
    sigmaGrams: 1,
    hypotheses: [],
    confidence: 1,
    health: 'ok',
  };
  const options: JointOption[] = best
    ? [{ who: { visitId: best[0], probability: 1, staff: false }, productId: best[1], quantity: best[2], hypothesis: 1, carried: true, probability: 1 }]
    : [];
  return { event, evidence: [], options, confidence: best ? 0.9 : 0, outcome, truth: truth ? { visitId: truth[0], productId: truth[1], quantity: truth[2] } : null };
}

test('each settled event gets its verdict against the truth: right, wrong who, wrong what, spurious, nothing offered', () => {
  const verdicts = diagnoseRecords([
    record('right', ['v1', 'soda', 1], ['v1', 'soda', 1]),
    record('who', ['v2', 'soda', 1], ['v1', 'soda', 1], 'review'),
    record('what', ['v1', 'soda', 2], ['v1', 'soda', 1]),
    record('spurious', ['v1', 'soda', 1], null),
    record('nothing', null, ['v1', 'soda', 1], 'unexplained'),
  ]).map((d) => [d.shelfEventId, d.outcome, d.verdict, d.truth, d.best]);
  assert.deepEqual(verdicts, [
    ['right', 'attributed', 'right', 'v1:soda x 1', 'v1:soda x 1'],
    ['who', 'review', 'wrong-who', 'v1:soda x 1', 'v2:soda x 1'],
    ['what', 'attributed', 'wrong-what', 'v1:soda x 1', 'v1:soda x 2'],
    ['spurious', 'attributed', 'spurious', null, 'v1:soda x 1'],
    ['nothing', 'unexplained', 'nothing-offered', 'v1:soda x 1', null],
  ]);
});

test('a change a put and a pick made at once is labelled with its own kind\'s truth and marked as netted; one shopper\'s change is not', () => {
  const kiosk = indexStore(parseStore(JSON.parse(readFileSync(new URL('../../fixtures/stores/kiosk.json', import.meta.url), 'utf8'))));
  const lane = 'g1-s1-l2';
  const laneProduct = kiosk.placementByLane.get(lane)!.productId;
  const pickUnit = kiosk.products.get(laneProduct)!.unitWeightGrams;
  const [heldId, held] = [...kiosk.products].find(([, p]) => p.unitWeightGrams < 0.6 * pickUnit && p.unitWeightGrams > 0.2 * pickUnit)!;
  const plateIds = kiosk.lanes.get(lane)!.lane.plateIds;
  const action = (actionId: string, kind: 'pick' | 'put', visitId: string, productId: string, atMs: number): ActionTruth => ({
    actionId, kind, startMs: T0 + atMs, endMs: T0 + atMs + 400, visitId, productId, quantity: 1, shelfId: 'g1-s1', laneId: lane, plateIds,
  });
  const change = (id: string, deltaGrams: number): LabelledRecord => {
    const base = record(id, ['v-b', laneProduct, 1], null);
    return { ...base, event: { ...base.event, laneIds: [lane], plateIds, startMs: T0 + 300, endMs: T0 + 900, deltaGrams } };
  };
  const truth = [action('a1', 'pick', 'v-b', laneProduct, 0), action('a2', 'put', 'v-a', heldId, 200)];
  const run = (r: LabelledRecord) => labelRecords({ records: [r], events: [r.event], truth, products: kiosk.products })[0];
  const netted = run(change('netted', held.unitWeightGrams - pickUnit));
  assert.deepEqual([netted.truth, netted.truthNetted], [{ visitId: 'v-b', productId: laneProduct, quantity: 1 }, true]);
  const whole = run(change('whole', -pickUnit));
  assert.deepEqual([whole.truth, whole.truthNetted], [{ visitId: 'v-b', productId: laneProduct, quantity: 1 }, undefined]);
});
