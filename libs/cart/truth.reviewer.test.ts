import test from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type ActionTruth, type ReviewItemOpened, type ShelfEventDetected } from '../contracts/index.ts';
import { TRUTH_REVIEWER, TruthReviewer } from './truth.reviewer.ts';

const T0 = 1_700_000_000_000;
const DELAY_MS = 60_000;
const products = new Map([
  ['p-1', { unitWeightGrams: 300 }],
  ['p-2', { unitWeightGrams: 120 }],
]);

/** A true action on lane n of g1-s1 at n x 10 s, and the shelf event that saw it. */
function actionAndEvent(n: number, who: { visitId?: string; personId: string }, kind: 'pick' | 'put', productId: string): { action: ActionTruth; event: ShelfEventDetected } {
  const startMs = T0 + n * 10_000;
  const laneId = `g1-s1-l${n}`;
  const grams = products.get(productId)!.unitWeightGrams;
  return {
    action: { actionId: `a${n}`, kind, startMs, endMs: startMs + 1_000, ...who, productId, quantity: 1, shelfId: 'g1-s1', laneId },
    event: {
      schemaVersion: SCHEMA_VERSION,
      eventId: `se-${n}`,
      storeId: 'kiosk',
      ts: startMs + 1_800,
      shelfEventId: `se-${n}`,
      shelfId: 'g1-s1',
      plateIds: [`g1-s1-p${n}`],
      laneIds: [laneId],
      kind,
      startMs: startMs + 200,
      endMs: startMs + 1_300,
      deltaGrams: kind === 'pick' ? -grams : grams,
      sigmaGrams: 3,
      hypotheses: [{ productId, quantity: 1, probability: 0.9 }],
      confidence: 0.9,
      health: 'ok',
    },
  };
}

function item(reviewId: string, ts: number, shelfEventId?: string, kind: ReviewItemOpened['kind'] = 'attribution'): ReviewItemOpened {
  return { schemaVersion: SCHEMA_VERSION, eventId: `opened-${reviewId}`, storeId: 'kiosk', ts, reviewId, kind, reason: 'close call', ...(shelfEventId ? { shelfEventId } : {}), visitIds: ['v-a', 'v-b'] };
}

test('the replay reviewer decides each item about a shelf event as the truth says, its delay after the item opened; items about no shelf event and withdrawn ones it leaves', () => {
  const shopper = actionAndEvent(1, { visitId: 'v-a', personId: 'p-a' }, 'pick', 'p-1');
  const member = actionAndEvent(2, { personId: 'p-b2' }, 'put', 'p-2');
  const staff = actionAndEvent(3, { personId: 'p-staff' }, 'put', 'p-1');
  const withdrawn = actionAndEvent(4, { visitId: 'v-a', personId: 'p-a' }, 'pick', 'p-2');
  const truth = {
    visits: [
      { visitId: 'v-a', personIds: ['p-a'], entryMs: T0, exitMs: T0 + 600_000 },
      { visitId: 'v-b', personIds: ['p-b', 'p-b2'], entryMs: T0, exitMs: T0 + 600_000 },
    ],
    actions: [shopper, member, staff, withdrawn].map((x) => x.action),
    products,
  };
  const events = [shopper, member, staff, withdrawn].map((x) => x.event);
  const reviewer = new TruthReviewer(truth, DELAY_MS);
  reviewer.opened(item('r-1', T0 + 13_000, 'se-1'));
  reviewer.opened(item('r-2', T0 + 23_000, 'se-2'));
  reviewer.opened(item('r-3', T0 + 33_000, 'se-3'));
  reviewer.opened(item('r-4', T0 + 43_000, 'se-4'));
  reviewer.opened(item('r-bind', T0 + 14_000, undefined, 'binding'));
  reviewer.withdrawn('r-4');

  assert.equal(reviewer.hasDue(T0 + 72_999), false);
  assert.deepEqual(reviewer.due(T0 + 72_999, events, new Set(['v-a', 'v-b'])), []);
  assert.equal(reviewer.hasDue(T0 + 73_000), true);
  const [first, ...none] = reviewer.due(T0 + 73_000, events, new Set(['v-a', 'v-b']));
  assert.deepEqual(none, []);
  assert.deepEqual(
    { ts: first.ts, reviewId: first.reviewId, reviewer: first.reviewer, decision: first.decision },
    { ts: T0 + 73_000, reviewId: 'r-1', reviewer: TRUTH_REVIEWER, decision: { outcome: 'attributed', visitId: 'v-a', kind: 'pick', lines: [{ productId: 'p-1', quantity: 1 }] } },
  );
  // A group member's put goes to the group's visit; staff restocking is nobody's to be charged; the withdrawn item is left.
  const rest = reviewer.due(T0 + 200_000, events, new Set(['v-a', 'v-b']));
  assert.deepEqual(
    rest.map((d) => [d.reviewId, d.ts, d.decision.outcome, d.decision.outcome === 'attributed' ? [d.decision.visitId, d.decision.kind, d.decision.lines] : null]),
    [
      ['r-2', T0 + 83_000, 'attributed', ['v-b', 'put', [{ productId: 'p-2', quantity: 1 }]]],
      ['r-3', T0 + 93_000, 'dismissed', null],
    ],
  );
  assert.equal(reviewer.hasDue(Infinity), false, 'each item decided once');
});

test('the replay reviewer leaves an item whose doer belongs to no visit the store knows by its id (a tailgater, named anonymously)', () => {
  const shopper = actionAndEvent(1, { visitId: 'v-a', personId: 'p-a' }, 'pick', 'p-1');
  const reviewer = new TruthReviewer({ visits: [{ visitId: 'v-a', personIds: ['p-a'], entryMs: T0, exitMs: T0 + 600_000 }], actions: [shopper.action], products }, DELAY_MS);
  reviewer.opened(item('r-1', T0 + 13_000, 'se-1'));
  assert.deepEqual(reviewer.due(T0 + 73_000, [shopper.event], new Set(['v-anonymous-1'])), []);
  assert.equal(reviewer.hasDue(Infinity), false, 'left for a person, not decided later');
});

test('the replay reviewer decides a binding item about a track of the true skeletons for its person\'s visit; one about a camera track, or a person whose visit the store does not know by its id, it leaves', () => {
  const truth = {
    visits: [
      { visitId: 'v-a', personIds: ['shopper-2'], entryMs: T0, exitMs: T0 + 600_000 },
      { visitId: 'v-b', personIds: ['shopper-2-companion-1'], entryMs: T0, exitMs: T0 + 600_000 },
      { visitId: 'v-tail', personIds: ['shopper-9'], entryMs: T0, exitMs: T0 + 600_000 },
    ],
    actions: [],
    products,
  };
  const binding = (reviewId: string, trackId: string): ReviewItemOpened => ({ ...item(reviewId, T0 + 1_000, undefined, 'binding'), trackId });
  const reviewer = new TruthReviewer(truth, DELAY_MS);
  reviewer.opened(binding('b-1', 'truth-shopper-2-companion-1'));
  reviewer.opened(binding('b-2', 'truth-shopper-2-3'));
  reviewer.opened(binding('b-3', 'track-17'));
  reviewer.opened(binding('b-4', 'truth-shopper-9'));
  const decisions = reviewer.due(T0 + 61_000, [], new Set(['v-a', 'v-b']));
  assert.deepEqual(
    decisions.map((d) => [d.reviewId, d.ts, d.reviewer, d.decision]),
    [
      ['b-1', T0 + 61_000, TRUTH_REVIEWER, { outcome: 'bound', visitId: 'v-b', trackId: 'truth-shopper-2-companion-1' }],
      ['b-2', T0 + 61_000, TRUTH_REVIEWER, { outcome: 'bound', visitId: 'v-a', trackId: 'truth-shopper-2-3' }],
    ],
  );
  assert.equal(reviewer.hasDue(Infinity), false, 'the camera track\'s item and the tailgater\'s are left for a person');
});
