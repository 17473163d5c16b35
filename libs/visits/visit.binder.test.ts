import test from 'node:test';
import assert from 'node:assert/strict';
import type { GateLine, GateOpened, GateQrScanned } from '../contracts/index.ts';
import { collect } from '../recording/index.ts';
import { truthPeopleFrom } from '../replay/people-truth.source.ts';
import { loadScenario } from '../sim/scenario.load.ts';
import { simulate } from '../sim/store.sim.ts';
import { fixtureStoreIndex } from '../testing/service.fixtures.ts';
import { arrivalOrder, runBinder, scoreBindings, truthPeopleRoles } from './bindings.eval.ts';
import { simulatedSkeletons } from './simulated-skeletons.sim.ts';
import { AT_ENTRY, AT_EXIT, T0, assertValid, instants, of, opened, resolved, scan, then, twoAtOnce, walk, type Path } from './binder.fixtures.ts';
import { CROSSING_DECIDE_MS, ENDED_VISIT_KEEP_MS, LOST_TIMEOUT_MS, RELINK_WINDOW_MS, VisitBinder, type BinderOutput } from './visit.binder.ts';
import type { BinderInput } from './bindings.eval.ts';

const index = fixtureStoreIndex();

test('a scan then a crossing: the visit starts at the scan and the track is bound once the crossing is old enough to be sure no other scan is coming', () => {
  const binder = new VisitBinder(index);
  const started = binder.onGate(scan('v-a', T0 + 500));
  assert.deepEqual(of(started, 'visit.started').map((m) => [m.visitId, m.kind, m.accountId, m.partySize]), [['v-a', 'shopper', 'acct-v-a', 1]]);
  const people = instants({ 'track-1': walk(AT_ENTRY, [3, 2.5], T0, T0 + 1200, T0 + 3000) }, T0, T0 + 6000);
  const outputs: Array<{ ts: number; out: BinderOutput[] }> = people.map((instant) => ({ ts: instant.ts, out: binder.onPeople(instant) }));
  const bound = outputs.filter((o) => o.out.some((m) => m.topic === 'visit.track-bound'));
  assert.equal(bound.length, 1);
  const message = of(bound[0].out, 'visit.track-bound')[0];
  assert.deepEqual([message.visitId, message.trackId, message.member, message.reason, message.doubt], ['v-a', 'track-1', 0, 'entry', undefined]);
  assert.equal(message.eventId, 'v-a-track-track-1');
  // Crossed when it first stood outside the entry zone (y > 0.8), decided CROSSING_DECIDE_MS later.
  assert.ok(message.ts > T0 + 1200 && message.ts < T0 + 2000, `crossed at ${message.ts - T0}`);
  assert.ok(bound[0].ts >= message.ts + CROSSING_DECIDE_MS);
  assert.equal(binder.visitOfTrack('track-1'), 'v-a');
  assertValid([...started, ...outputs.flatMap((o) => o.out)]);
});

test('the tracker reports the crossing before the scan message arrives: the scan still binds it, nobody is taken for a tailgater', () => {
  const binder = new VisitBinder(index);
  const people = instants({ 'track-1': walk(AT_ENTRY, [3, 2.5], T0, T0 + 1200, T0 + 3000) }, T0, T0 + 8000);
  const crossingSeen = people.findIndex((p) => p.ts === T0 + 2500);
  const early = people.slice(0, crossingSeen).flatMap((p) => binder.onPeople(p));
  assert.deepEqual(early, [], 'nothing decided while a scan may still come');
  const late = [...binder.onGate(scan('v-a', T0 + 800)), ...people.slice(crossingSeen).flatMap((p) => binder.onPeople(p))];
  assert.deepEqual(of(late, 'visit.track-bound').map((m) => [m.visitId, m.trackId]), [['v-a', 'track-1']]);
  assert.deepEqual(of(late, 'review.item-opened'), []);
});

test('a group of 3 from a recorded scenario: the payer and the next two through the gate on one visit, and it ends at the exit, confirmed by the gate', async () => {
  const sim = simulate(await loadScenario(new URL('../../fixtures/scenarios/group-visit.json', import.meta.url).pathname), index, 1);
  const skeletons = simulatedSkeletons(sim);
  const truth = truthPeopleFrom(index.store, skeletons);
  const people = await collect(truth);
  const { personOfTrack } = truth;
  const { outputs, binder } = runBinder(index, arrivalOrder(sim.gateLines, people));
  assertValid(outputs);
  assert.deepEqual(
    of(outputs, 'visit.track-bound').map((m) => [m.visitId, personOfTrack.get(m.trackId), m.member]),
    [
      ['v-parent', 'parent', 0],
      ['v-parent', 'kid-1', 1],
      ['v-parent', 'kid-2', 2],
    ],
  );
  const ended = of(outputs, 'visit.ended');
  assert.deepEqual(ended.map((m) => [m.visitId, m.confirmedByGate]), [['v-parent', true]]);
  assert.equal(ended[0].exitMs, Math.max(...skeletons.filter((s) => s.people.length > 0).map((s) => s.ts)), 'when the last of the party was last seen, in the exit');
  assert.equal(binder.visits()[0].state, 'ended');
  assert.deepEqual(of(outputs, 'review.item-opened'), []);
});

test('staff through the staff door get a staff visit, never charged and never flagged; the shopper after them keeps theirs', async () => {
  const sim = simulate(await loadScenario(new URL('../../fixtures/scenarios/staff-restock.json', import.meta.url).pathname), index, 1);
  const skeletons = simulatedSkeletons(sim);
  const truth = truthPeopleFrom(index.store, skeletons, { noiseM: 0.05 });
  const people = await collect(truth);
  const { personOfTrack } = truth;
  const { outputs } = runBinder(index, arrivalOrder(sim.gateLines, people));
  assertValid(outputs);
  const started = of(outputs, 'visit.started');
  assert.deepEqual(started.map((m) => [m.visitId, m.kind, m.accountId]).sort(), [
    ['staff-truth-staff-1', 'staff', undefined],
    ['v-carol', 'shopper', 'acct-carol'],
  ]);
  const score = scoreBindings({ people: truthPeopleRoles(skeletons), payers: new Set(['carol']) }, personOfTrack, outputs);
  assert.deepEqual([score.tracksRight, score.tracks, score.visitsEnded], [2, 2, 1]);
  assert.deepEqual(of(outputs, 'review.item-opened'), []);
  assert.ok(of(outputs, 'visit.ended').some((m) => m.visitId === 'staff-truth-staff-1'), 'the staff visit ends at the staff door');
});

test('a tailgater: one scan, two people through the entry a few seconds apart; the second gets an anonymous visit and a tailgating review', () => {
  const paths = {
    'track-a': walk(AT_ENTRY, [2, 2], T0, T0 + 1200, T0 + 3000),
    'track-b': walk(AT_ENTRY, [3, 3], T0 + 3500, T0 + 4500, T0 + 6000),
  };
  const { outputs } = runBinder(index, arrivalOrder([{ topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) }], instants(paths, T0, T0 + 10_000)));
  assertValid(outputs);
  assert.deepEqual(of(outputs, 'visit.track-bound').map((m) => [m.visitId, m.trackId, m.doubt]), [
    ['v-a', 'track-a', undefined],
    ['anon-track-b', 'track-b', undefined],
  ]);
  assert.deepEqual(of(outputs, 'visit.started').map((m) => [m.visitId, m.kind]), [
    ['v-a', 'shopper'],
    ['anon-track-b', 'anonymous'],
  ]);
  const reviews = of(outputs, 'review.item-opened');
  assert.deepEqual(reviews.map((r) => [r.kind, r.visitIds]), [['tailgating', ['anon-track-b']]]);
});

test('a tailgater slips in behind a lone shopper while a party still waits for a companion: the gate opened for nobody else, so the tailgater is flagged and the companion keeps the party\'s place', () => {
  // The payer of a party of 2 comes in on their opening; the companion follows later on an opening of their own.
  // In between, a lone shopper scans and passes, and someone walks in right behind them on the same opening.
  const paths = {
    payer: walk(AT_ENTRY, [2, 2], T0, T0 + 1_200, T0 + 3_000),
    lone: walk(AT_ENTRY, [3, 3], T0 + 8_000, T0 + 9_000, T0 + 11_000),
    tailgater: walk(AT_ENTRY, [3.5, 3], T0 + 8_600, T0 + 9_600, T0 + 11_600),
    companion: walk(AT_ENTRY, [2.5, 2.5], T0 + 20_000, T0 + 21_000, T0 + 23_000),
  };
  const gate = [
    { topic: 'gate.qr-scanned' as const, message: scan('v-party', T0 + 200, 2) },
    { topic: 'gate.opened' as const, message: opened('entry', T0 + 500, 'v-party') },
    { topic: 'gate.qr-scanned' as const, message: scan('v-lone', T0 + 8_100) },
    { topic: 'gate.opened' as const, message: opened('entry', T0 + 8_300, 'v-lone') },
    { topic: 'gate.opened' as const, message: opened('entry', T0 + 20_300, 'v-party') },
  ];
  const { outputs } = runBinder(index, arrivalOrder(gate, instants(paths, T0, T0 + 30_000)));
  assertValid(outputs);
  const bound = new Map(of(outputs, 'visit.track-bound').map((m) => [m.trackId, m.visitId]));
  assert.equal(bound.get('payer'), 'v-party');
  assert.equal(bound.get('lone'), 'v-lone');
  assert.equal(bound.get('companion'), 'v-party', 'the companion comes in on the party\'s own opening');
  assert.equal(bound.get('tailgater'), 'anon-tailgater');
  assert.deepEqual(of(outputs, 'review.item-opened').filter((r) => r.kind === 'tailgating').map((r) => r.visitIds), [['anon-tailgater']]);
});

test('a tailgater in a recorded stream: the group visit with its scan dropped leaves every one of them anonymous and flagged', async () => {
  const sim = simulate(await loadScenario(new URL('../../fixtures/scenarios/group-visit.json', import.meta.url).pathname), index, 1);
  const gates: GateLine[] = sim.gateLines.filter((line) => line.topic !== 'gate.qr-scanned');
  const people = await collect(truthPeopleFrom(index.store, simulatedSkeletons(sim)));
  const { outputs } = runBinder(index, arrivalOrder(gates, people));
  assert.deepEqual(new Set(of(outputs, 'visit.started').map((m) => m.kind)), new Set(['anonymous']));
  assert.equal(of(outputs, 'review.item-opened').filter((r) => r.kind === 'tailgating').length, 3);
});

test('two people at the gate when one scans: the binder waits for who passes; the one who stays is not bound', () => {
  const paths = {
    // Both stand in the entry zone at the scan; only track-b walks in.
    'track-a': walk([3.8, 0.3], [3.8, 0.3], T0, T0, T0 + 1, T0 + 6000),
    'track-b': walk([4.4, 0.4], [3, 2.5], T0, T0 + 2000, T0 + 4000),
  };
  const { outputs } = runBinder(index, arrivalOrder([{ topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) }], instants(paths, T0, T0 + 9000)));
  assert.deepEqual(of(outputs, 'visit.track-bound').map((m) => [m.visitId, m.trackId, m.doubt]), [['v-a', 'track-b', undefined]]);
  assert.deepEqual(of(outputs, 'review.item-opened'), []);
});

test('someone who scanned waits at the gate while the next shopper scans, then passes first: each is bound to their own scan', () => {
  // Seed 149 of the hard runs at 219 s: v-shopper-34 scanned and stood in the gate for 15 s; a party's
  // payer scanned behind them and the first through was bound to the party, which then took every
  // unit the waiting shopper picked.
  const paths = {
    'track-a': walk(AT_ENTRY, [3, 2.5], T0, T0 + 15_000, T0 + 17_000),
    'track-b': walk([4.4, 0.3], [3.4, 2.5], T0 + 12_000, T0 + 17_000, T0 + 19_000),
  };
  const gate = [
    { topic: 'gate.qr-scanned' as const, message: scan('v-a', T0 + 500) },
    { topic: 'gate.opened' as const, message: opened('entry', T0 + 1_000, 'v-a') },
    { topic: 'gate.qr-scanned' as const, message: scan('v-b', T0 + 12_500) },
    { topic: 'gate.opened' as const, message: opened('entry', T0 + 13_000, 'v-b') },
  ];
  const { outputs } = runBinder(index, arrivalOrder(gate, instants(paths, T0, T0 + 25_000)));
  assert.deepEqual(
    of(outputs, 'visit.track-bound').map((m) => [m.visitId, m.trackId]).sort(),
    [
      ['v-a', 'track-a'],
      ['v-b', 'track-b'],
    ],
  );
  assert.deepEqual(of(outputs, 'review.item-opened').map((m) => m.kind), [], 'nobody taken for a tailgater');
});

test('two people through the gate within a second on two scans: both bound in the order they passed, each with a doubt and a binding review', () => {
  const { outputs } = runBinder(index, twoAtOnce());
  assertValid(outputs);
  const bound = of(outputs, 'visit.track-bound');
  assert.deepEqual(bound.map((m) => [m.visitId, m.trackId]), [
    ['v-a', 'track-a'],
    ['v-b', 'track-b'],
  ]);
  assert.ok(bound.every((m) => m.doubt?.includes('2 people crossed the entry')), JSON.stringify(bound));
  const reviews = of(outputs, 'review.item-opened');
  assert.deepEqual(reviews.map((r) => [r.kind, [...r.visitIds].sort()]), [
    ['binding', ['v-a', 'v-b']],
    ['binding', ['v-a', 'v-b']],
  ]);
});

/** One shopper (v-a, scanned at 0.5 s) on the tracks of `paths`, the exit opening at 13.3 s: what the binder says over 20 s. */
function shopperThroughExit(paths: Record<string, Path>) {
  const gates: GateLine[] = [
    { topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) },
    { topic: 'gate.opened', message: opened('exit', T0 + 13_300) },
  ];
  const result = runBinder(index, arrivalOrder(gates, instants(paths, T0, T0 + 20_000)));
  assertValid(result.outputs);
  return result;
}

test('a track that breaks inside the store is relinked: the new track carries the visit and the member, and replaces the lost one', () => {
  const paths = {
    'track-a': walk(AT_ENTRY, [2, 2.5], T0, T0 + 1200, T0 + 3000, T0 + 8000),
    // The same person, seen again 0.5 s later a few centimetres on, under a new id.
    'track-a2': walk([2.05, 2.5], AT_EXIT, T0 + 8500, T0 + 10_000, T0 + 13_000, T0 + 14_000),
  };
  const { outputs, binder } = shopperThroughExit(paths);
  assert.deepEqual(of(outputs, 'visit.track-bound').map((m) => [m.trackId, m.reason, m.replaces, m.member, m.doubt]), [
    ['track-a', 'entry', undefined, 0, undefined],
    ['track-a2', 'relinked', 'track-a', 0, undefined],
  ]);
  assert.equal(binder.visitOfTrack('track-a2'), 'v-a');
  // The visit ends when the relinked track leaves through the exit, not when the first one was lost.
  assert.deepEqual(of(outputs, 'visit.ended').map((m) => [m.visitId, m.exitMs, m.confirmedByGate]), [['v-a', T0 + 14_000, true]]);
  assert.deepEqual(binder.visits()[0].tracks.map((t) => [t.trackId, t.status]), [
    ['track-a', 'replaced'],
    ['track-a2', 'exited'],
  ]);
});

test('a newcomer seen for an instant and gone again is a flicker of the tracker: left unbound, it takes no lost person, and the one who reappears continues them', () => {
  const paths = {
    'track-a': walk(AT_ENTRY, [2, 2.5], T0, T0 + 1200, T0 + 3000, T0 + 8000),
    'track-ghost': walk([2.1, 2.5], [2.1, 2.5], T0 + 8300, T0, T0 + 1, T0 + 8300),
    'track-a2': walk([2.05, 2.5], AT_EXIT, T0 + 9500, T0 + 10_000, T0 + 13_000, T0 + 14_000),
  };
  const { outputs, binder } = shopperThroughExit(paths);
  assert.deepEqual(of(outputs, 'visit.track-bound').map((m) => [m.trackId, m.reason, m.replaces, m.doubt]), [
    ['track-a', 'entry', undefined, undefined],
    ['track-a2', 'relinked', 'track-a', undefined],
  ]);
  assert.equal(binder.visitOfTrack('track-ghost'), undefined);
  assert.deepEqual(of(outputs, 'review.item-opened'), []);
  assert.deepEqual(of(outputs, 'visit.ended').map((m) => [m.visitId, m.exitMs, m.confirmedByGate]), [['v-a', T0 + 14_000, true]]);
});

test('the tracker starts someone over under a new id a moment before it lets the old one go: the new track continues the visit, nobody is taken for a tailgater', () => {
  const paths = {
    'track-a': walk(AT_ENTRY, [2, 2.5], T0, T0 + 1200, T0 + 3000, T0 + 8400),
    'track-a2': walk([2.02, 2.5], AT_EXIT, T0 + 8000, T0 + 10_000, T0 + 13_000, T0 + 14_000),
  };
  const { outputs } = shopperThroughExit(paths);
  assert.deepEqual(of(outputs, 'visit.track-bound').map((m) => [m.trackId, m.visitId, m.reason, m.replaces, m.doubt]), [
    ['track-a', 'v-a', 'entry', undefined, undefined],
    ['track-a2', 'v-a', 'relinked', 'track-a', undefined],
  ]);
  assert.deepEqual(of(outputs, 'visit.started').map((m) => m.visitId), ['v-a']);
  assert.deepEqual(of(outputs, 'review.item-opened'), []);
  assert.deepEqual(of(outputs, 'visit.ended').map((m) => [m.visitId, m.exitMs, m.confirmedByGate]), [['v-a', T0 + 14_000, true]]);
});

test('a lost track seen again after a newcomer was taken to continue it: two people where the visit has one, so both are in doubt and the operator is asked', () => {
  const before = walk(AT_ENTRY, [2, 2.5], T0, T0 + 1200, T0 + 3000, T0 + 8000);
  const paths: Record<string, Path> = {
    'track-a': (ts) => (ts <= T0 + 8000 ? before(ts) : ts >= T0 + 11_000 && ts <= T0 + 15_000 ? [2.6, 2.5] : null),
    'track-n': walk([2.05, 2.5], [2.05, 2.5], T0 + 8500, T0, T0 + 1, T0 + 15_000),
  };
  const { outputs, binder } = runBinder(index, arrivalOrder([{ topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) }], instants(paths, T0, T0 + 15_000)));
  assertValid(outputs);
  const bound = of(outputs, 'visit.track-bound');
  assert.deepEqual(bound.slice(0, 2).map((m) => [m.trackId, m.reason, m.replaces, m.doubt]), [
    ['track-a', 'entry', undefined, undefined],
    ['track-n', 'relinked', 'track-a', undefined],
  ]);
  // Published again with the doubt, under ids of their own (consumers drop a message id they took).
  assert.deepEqual(bound.slice(2).map((m) => [m.eventId, m.trackId, m.ts, /seen again/.test(m.doubt ?? '')]), [
    ['v-a-track-track-a-seen-again', 'track-a', T0 + 11_000, true],
    ['v-a-track-track-n-seen-again', 'track-n', T0 + 11_000, true],
  ]);
  assert.deepEqual(of(outputs, 'review.item-opened').map((r) => [r.kind, r.trackId, r.visitIds]), [['binding', 'track-a', ['v-a']]]);
  assert.ok(binder.visits()[0].tracks.every((t) => t.doubt !== undefined));
});

test('a relink after a long gap, or with two lost tracks that could be the newcomer, carries a doubt and a binding review', () => {
  const longGap = {
    'track-a': walk(AT_ENTRY, [2, 2.5], T0, T0 + 1200, T0 + 3000, T0 + 8000),
    'track-a2': walk([2.3, 2.5], [2.3, 2.5], T0 + 14_000, T0, T0 + 1, T0 + 16_000),
  };
  const gap = runBinder(index, arrivalOrder([{ topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) }], instants(longGap, T0, T0 + 16_000))).outputs;
  const relinked = of(gap, 'visit.track-bound').find((m) => m.trackId === 'track-a2')!;
  assert.equal(relinked.replaces, 'track-a');
  assert.match(relinked.doubt ?? '', /lost 6\.0 s before/);
  assert.deepEqual(of(gap, 'review.item-opened').map((r) => [r.kind, r.visitIds]), [['binding', ['v-a']]]);

  const twoLost = {
    'track-a': walk(AT_ENTRY, [2, 2.5], T0, T0 + 1200, T0 + 3000, T0 + 12_000),
    'track-b': walk(AT_ENTRY, [2.4, 2.5], T0 + 3000, T0 + 4200, T0 + 6000, T0 + 12_000),
    'track-x': walk([2.2, 2.5], [2.2, 2.5], T0 + 12_300, T0, T0 + 1, T0 + 16_000),
  };
  const gates: GateLine[] = [
    { topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) },
    { topic: 'gate.qr-scanned', message: scan('v-b', T0 + 3500) },
  ];
  const two = runBinder(index, arrivalOrder(gates, instants(twoLost, T0, T0 + 20_000))).outputs;
  const x = of(two, 'visit.track-bound').find((m) => m.trackId === 'track-x')!;
  assert.equal(x.reason, 'relinked');
  assert.match(x.doubt ?? '', /2 lost tracks could be this person/);
  assert.deepEqual([...of(two, 'review.item-opened')[0].visitIds].sort(), ['v-a', 'v-b']);
});

test('a track lost inside for good: the visit ends after the timeout with a review, or confirmed when an exit opened that nobody seen leaving claimed', () => {
  const paths = { 'track-a': walk(AT_ENTRY, [2, 2.5], T0, T0 + 1200, T0 + 3000, T0 + 8000) };
  const people = instants(paths, T0, T0 + 8000 + LOST_TIMEOUT_MS + 1000);
  const unexplained = runBinder(index, arrivalOrder([{ topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) }], people)).outputs;
  assert.deepEqual(of(unexplained, 'visit.ended').map((m) => [m.exitMs, m.confirmedByGate]), [[T0 + 8000, false]]);
  assert.deepEqual(of(unexplained, 'review.item-opened').map((r) => [r.kind, r.reason.includes('lost inside')]), [['binding', true]]);

  const gates: GateLine[] = [
    { topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) },
    { topic: 'gate.opened', message: opened('exit', T0 + 20_000) },
  ];
  const explained = runBinder(index, arrivalOrder(gates, people)).outputs;
  assert.deepEqual(of(explained, 'visit.ended').map((m) => [m.exitMs, m.confirmedByGate]), [[T0 + 20_000, true]]);
  assert.deepEqual(of(explained, 'review.item-opened'), []);

  // The end of a stream is no timeout: with someone still in view, a visit whose track was just lost stays open.
  const stillInside = instants({ ...paths, 'track-b': walk([1, 3], [1, 3], T0 + 2000, T0, T0 + 1) }, T0, T0 + 11_900);
  const cut = runBinder(index, arrivalOrder([{ topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) }], stillInside)).outputs;
  assert.deepEqual(of(cut, 'visit.ended'), []);
  // A stream that ends with nobody in view is a store that has closed: the lost track left unseen, as the timeout would decide.
  const closed = runBinder(index, arrivalOrder([{ topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) }], people.slice(0, 120))).outputs;
  assert.deepEqual(of(closed, 'visit.ended').map((m) => [m.exitMs, m.confirmedByGate]), [[T0 + 8000, false]]);
  assert.deepEqual(of(closed, 'review.item-opened').map((r) => [r.kind, r.reviewId, /lost inside .* ended with nobody in view/.test(r.reason)]), [['binding', 'review-lost-v-a-track-a', true]]);
});

test('the only person lost inside, and an exit opening no departure seen claimed: they left unseen through it, as soon as the departures around it have settled', () => {
  const paths = {
    'track-a': walk(AT_ENTRY, [2, 2.5], T0, T0 + 1200, T0 + 3000, T0 + 8000),
    'track-b': walk(AT_ENTRY, [1, 3], T0 + 3000, T0 + 4200, T0 + 6000),
  };
  const gates: GateLine[] = [
    { topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) },
    { topic: 'gate.qr-scanned', message: scan('v-b', T0 + 3500) },
    { topic: 'gate.opened', message: opened('exit', T0 + 20_000) },
  ];
  // Live, without the end of the stream: v-b stays in view throughout.
  const binder = new VisitBinder(index);
  const outputs: BinderOutput[] = [];
  for (const input of arrivalOrder(gates, instants(paths, T0, T0 + 30_000)))
    outputs.push(...(input.kind === 'gate' ? binder.onGate(input.line.message) : binder.onPeople(input.instant)));
  assertValid(outputs);
  assert.deepEqual(of(outputs, 'visit.ended').map((m) => [m.visitId, m.exitMs, m.confirmedByGate]), [['v-a', T0 + 20_000, true]]);
  assert.deepEqual(of(outputs, 'review.item-opened'), []);

  // Two people lost inside and one opening: which of them left is a guess, so both wait for the timeout.
  const twoLost = { ...paths, 'track-c': walk(AT_ENTRY, [3, 3], T0 + 4000, T0 + 5200, T0 + 7000, T0 + 9000) };
  const both = runBinder(index, arrivalOrder([...gates, { topic: 'gate.qr-scanned', message: scan('v-c', T0 + 4500) }], instants(twoLost, T0, T0 + 30_000))).outputs;
  assert.deepEqual(of(both, 'visit.ended'), []);
});

test('the same scan, opening or instant again changes nothing', () => {
  const binder = new VisitBinder(index);
  const people = instants({ 'track-1': walk(AT_ENTRY, [3, 2.5], T0, T0 + 1200, T0 + 3000) }, T0, T0 + 6000);
  assert.equal(binder.onGate(scan('v-a', T0 + 500)).length, 1);
  assert.deepEqual(binder.onGate(scan('v-a', T0 + 500)), []);
  const first = people.flatMap((p) => binder.onPeople(p));
  assert.deepEqual(people.flatMap((p) => binder.onPeople(p)), []);
  assert.equal(of(first, 'visit.track-bound').length, 1);
});

test('a long day: what the binder holds follows the people in the store, not how many came before, and it decides as it did', () => {
  // One shopper every 20 s for 40 minutes: in through the entry, a few steps inside, out through the
  // exit 10 s after arriving; a track break halfway (the tracker renames them) so relinks happen too.
  const EVERY_MS = 20_000;
  const SHOPPERS = 120;
  const paths: Record<string, Path> = {};
  const gates: Array<GateQrScanned | GateOpened> = [];
  for (let k = 0; k < SHOPPERS; k++) {
    const t = T0 + k * EVERY_MS;
    paths[`s${k}-a`] = walk(AT_ENTRY, [3, 2.5], t, t + 1_200, t + 3_000, t + 4_000);
    paths[`s${k}-b`] = walk([3, 2.5], AT_EXIT, t + 4_300, t + 5_000, t + 9_000, t + 10_000);
    gates.push(scan(`v-${k}`, t + 500), opened('entry', t + 1_000, `v-${k}`), opened('exit', t + 10_000));
  }
  const binder = new VisitBinder(index);
  const peak = { tracks: 0, visits: 0, trackLinks: 0, scans: 0, openings: 0 };
  const outputs: BinderOutput[] = [];
  let nextGate = 0;
  for (const instant of instants(paths, T0, T0 + SHOPPERS * EVERY_MS + 10_000)) {
    while (nextGate < gates.length && gates[nextGate].ts <= instant.ts - 1_000) outputs.push(...binder.onGate(gates[nextGate++]));
    outputs.push(...binder.onPeople(instant));
    const held = binder.held();
    for (const key of Object.keys(peak) as Array<keyof typeof peak>) peak[key] = Math.max(peak[key], held[key]);
  }
  outputs.push(...binder.finish());
  // Every shopper bound, relinked across the break, and ended through the exit, nobody flagged.
  const bound = of(outputs, 'visit.track-bound');
  assert.equal(bound.filter((m) => m.reason === 'entry').length, SHOPPERS);
  assert.deepEqual(bound.filter((m) => m.visitId !== `v-${m.trackId.split('-')[0].slice(1)}`), []);
  assert.equal(bound.filter((m) => m.reason === 'relinked').length, SHOPPERS);
  assert.equal(of(outputs, 'visit.ended').filter((m) => m.confirmedByGate).length, SHOPPERS);
  assert.deepEqual(of(outputs, 'review.item-opened'), []);
  assert.deepEqual(binder.counts(), { open: 0, ended: SHOPPERS });
  // Held: the visits of the last ENDED_VISIT_KEEP_MS (the read model), the tracks and gate messages
  // of the last few minutes (what a decision may still need); never the whole day.
  const shoppersWithin = (ms: number) => Math.ceil(ms / EVERY_MS) + 2;
  assert.ok(peak.visits <= shoppersWithin(ENDED_VISIT_KEEP_MS), `visits held at most ${peak.visits}`);
  assert.ok(peak.trackLinks <= 2 * shoppersWithin(ENDED_VISIT_KEEP_MS), `track links held at most ${peak.trackLinks}`);
  const horizon = LOST_TIMEOUT_MS + RELINK_WINDOW_MS;
  assert.ok(peak.tracks <= 2 * shoppersWithin(horizon), `tracks held at most ${peak.tracks}`);
  assert.ok(peak.openings <= 2 * shoppersWithin(horizon) && peak.scans <= shoppersWithin(horizon), `openings ${peak.openings}, scans ${peak.scans}`);
  assert.ok(peak.visits < SHOPPERS / 2);
  // The read model still answers for recent visits, and has let go of the first ones.
  assert.equal(binder.visitOfTrack(`s${SHOPPERS - 1}-b`), `v-${SHOPPERS - 1}`);
  assert.equal(binder.visitOfTrack('s0-a'), undefined);
  assert.ok(binder.visits().every((v) => v.state === 'ended' && v.exitMs! >= binder.watermark - ENDED_VISIT_KEEP_MS));
});

/** Feeds a binder the inputs that arrive before `untilMs` (arrival time: gate messages when they happen, instants a tracker lag later) and returns them with the rest. */
function feedUntil(binder: VisitBinder, inputs: BinderInput[], untilMs: number): { outputs: BinderOutput[]; rest: BinderInput[] } {
  const arrival = (input: BinderInput) => (input.kind === 'gate' ? input.line.message.ts : input.instant.ts);
  const split = inputs.findIndex((input) => arrival(input) >= untilMs);
  const now = split < 0 ? inputs : inputs.slice(0, split);
  const outputs = now.flatMap((input) => (input.kind === 'gate' ? binder.onGate(input.line.message) : binder.onPeople(input.instant)));
  return { outputs, rest: split < 0 ? [] : inputs.slice(split) };
}

/** v-a's and v-b's scans at the entry 0.3 s apart, and the exit opening at each of `exitsMs` after T0. */
function scansAndExits(...exitsMs: number[]): GateLine[] {
  return [
    { topic: 'gate.qr-scanned', message: scan('v-a', T0 + 300) },
    { topic: 'gate.qr-scanned', message: scan('v-b', T0 + 600) },
    ...exitsMs.map((ms): GateLine => ({ topic: 'gate.opened', message: opened('exit', T0 + ms) })),
  ];
}

/** Two people through the gate within a second on two scans; the first breaks into a new track inside, then leaves at 24 s, the second at 29 s. */
function swappedPair() {
  const paths = {
    'track-a': walk([3.8, 0.4], [2, 2.5], T0, T0 + 1000, T0 + 3000, T0 + 8000),
    'track-a2': walk([2.05, 2.5], AT_EXIT, T0 + 8500, T0 + 20_000, T0 + 23_000, T0 + 24_000),
    'track-b': then(walk([4.4, 0.4], [3, 2.5], T0, T0 + 1400, T0 + 3400), T0 + 26_000, walk([3, 2.5], AT_EXIT, T0, T0 + 26_000, T0 + 28_000, T0 + 29_000)),
  };
  return arrivalOrder(scansAndExits(24_000, 29_000), instants(paths, T0, T0 + 40_000));
}

test('a reviewer says the first of two people through the gate together is the other visit\'s: the pair trade places, the track continuing it moves too, nobody is in doubt, the other\'s item is withdrawn, and each visit ends with its own person', () => {
  const binder = new VisitBinder(index);
  const { outputs: before, rest } = feedUntil(binder, swappedPair(), T0 + 15_000);
  assert.deepEqual(of(before, 'visit.track-bound').map((m) => [m.trackId, m.visitId, m.reason, m.doubt !== undefined]), [
    ['track-a', 'v-a', 'entry', true],
    ['track-b', 'v-b', 'entry', true],
    ['track-a2', 'v-a', 'relinked', false],
  ]);
  const items = of(before, 'review.item-opened');
  assert.deepEqual(items.map((r) => [r.kind, r.trackId]), [['binding', 'track-a'], ['binding', 'track-b']]);

  // The decision may name the track the item is about or one continuing it.
  const decision = resolved(items[0].reviewId, { outcome: 'bound', visitId: 'v-b', trackId: 'track-a2' });
  const result = binder.onReviewResolved(decision);
  assert.equal(result.verdict, 'applied', result.detail);
  assertValid(result.outputs);
  assert.deepEqual(of(result.outputs, 'visit.track-bound').map((m) => [m.trackId, m.visitId, m.member, m.reason, m.doubt, m.replaces]), [
    ['track-a', 'v-b', 0, 'reviewed', undefined, undefined],
    ['track-a2', 'v-b', 0, 'reviewed', undefined, undefined],
    // Two people, two visits: once one is decided, so is the other.
    ['track-b', 'v-a', 0, 'reviewed', undefined, undefined],
  ]);
  assert.ok(of(result.outputs, 'visit.track-bound').every((m) => m.ts === decision.ts && m.eventId.includes('-reviewed-')));
  assert.deepEqual(['track-a', 'track-a2', 'track-b'].map((t) => binder.visitOfTrack(t)), ['v-b', 'v-b', 'v-a']);
  // track-b's own item asked the same question: it leaves the queue, withdrawn by the gate, not decided by anyone.
  const withdrawn = of(result.outputs, 'review.item-resolved');
  assert.deepEqual(withdrawn.map((m) => [m.reviewId, m.decision.outcome, m.reviewer, m.ts, m.decision.outcome === 'withdrawn' && m.decision.settledBy]), [
    [items[1].reviewId, 'withdrawn', 'gate', decision.ts, items[0].reviewId],
  ]);
  assert.match(binder.visits().find((v) => v.visitId === 'v-a')!.flags.at(-1)!, new RegExp(`withdrawn: review ${items[1].reviewId}, answered by ${items[0].reviewId}`));
  // The gate reads its own withdrawal back off the bus: already so.
  const echo = binder.onReviewResolved(withdrawn[0]);
  assert.deepEqual([echo.verdict, echo.outputs], ['unchanged', []], echo.detail);

  // The same decision again, or another saying the same, changes nothing, and withdraws nothing again.
  assert.deepEqual([binder.onReviewResolved(decision).verdict, binder.onReviewResolved(decision).outputs], ['unchanged', []]);
  const again = binder.onReviewResolved(resolved(items[0].reviewId, { outcome: 'bound', visitId: 'v-b', trackId: 'track-a' }, T0 + 21_000));
  assert.deepEqual([again.verdict, again.outputs], ['unchanged', []]);
  // The other item, decided the same way afterwards all the same (a reviewer who had it open): already so.
  assert.equal(binder.onReviewResolved(resolved(items[1].reviewId, { outcome: 'bound', visitId: 'v-a', trackId: 'track-b' })).verdict, 'unchanged');

  const after = [...feedUntil(binder, rest, Infinity).outputs, ...binder.finish()];
  assert.deepEqual(of(after, 'visit.ended').map((m) => [m.visitId, m.exitMs, m.confirmedByGate]), [
    ['v-b', T0 + 24_000, true],
    ['v-a', T0 + 29_000, true],
  ]);
  const views = new Map(binder.visits().map((v) => [v.visitId, v]));
  assert.deepEqual(views.get('v-a')!.tracks.map((t) => [t.trackId, t.reason, t.doubt, t.status]), [['track-b', 'reviewed', undefined, 'exited']]);
  assert.deepEqual(views.get('v-b')!.tracks.map((t) => [t.trackId, t.reason, t.doubt, t.status]), [
    ['track-a', 'reviewed', undefined, 'replaced'],
    ['track-a2', 'reviewed', undefined, 'exited'],
  ]);
  // An ended visit's people stay as they left: its receipt is final. track-b's doubt went with the trade, so what it picked was charged, and the operator is told a refund is the way back.
  const lateDecision = resolved(items[1].reviewId, { outcome: 'bound', visitId: 'v-b', trackId: 'track-b' }, T0 + 41_000);
  const late = binder.onReviewResolved(lateDecision);
  assertValid(late.outputs);
  assert.deepEqual([late.verdict, of(late.outputs, 'visit.track-bound')], ['after-exit', []]);
  assert.match(late.detail, /v-a has ended and its receipt is final, so track-b stays on v-a\. Its doubt was lifted before, so its picks since were charged to v-a: a refund/);
  // The operator is answered on the bus, next to the item.
  assert.deepEqual(of(late.outputs, 'review.decision-refused').map((m) => [m.reviewId, m.decisionEventId, m.refusedBy, m.why, m.reason, m.ts]), [
    [items[1].reviewId, lateDecision.eventId, 'gate', 'after-exit', late.reason, lateDecision.ts],
  ]);
  assert.deepEqual(binder.reviewVerdicts(), { applied: 1, unchanged: 5, unknown: 0, refused: 0, 'after-exit': 1, ignored: 0 });
});

test('a reviewer confirms one of two doubtful bindings: the other, with no third place to be, is settled where it is and its item withdrawn; decisions about what the binder does not hold change nothing', () => {
  const binder = new VisitBinder(index);
  const { outputs } = feedUntil(binder, twoAtOnce(), Infinity);
  const items = of(outputs, 'review.item-opened');
  const itemA = items.find((r) => r.trackId === 'track-a')!;
  const itemB = items.find((r) => r.trackId === 'track-b')!;
  const confirmed = binder.onReviewResolved(resolved(itemB.reviewId, { outcome: 'bound', visitId: 'v-b', trackId: 'track-b' }));
  assert.equal(confirmed.verdict, 'applied');
  assertValid(confirmed.outputs);
  assert.deepEqual(of(confirmed.outputs, 'visit.track-bound').map((m) => [m.trackId, m.visitId, m.reason, m.doubt]), [
    ['track-b', 'v-b', 'reviewed', undefined],
    ['track-a', 'v-a', 'reviewed', undefined],
  ]);
  assert.deepEqual(of(confirmed.outputs, 'review.item-resolved').map((m) => [m.reviewId, m.decision.outcome, m.reviewer]), [[itemA.reviewId, 'withdrawn', 'gate']]);
  const doubts = binder.visits().flatMap((v) => v.tracks.map((t) => [t.trackId, t.doubt !== undefined]));
  assert.deepEqual(doubts.sort(), [['track-a', false], ['track-b', false]]);

  const before = JSON.stringify(binder.visits());
  const nothing: Array<[ReturnType<typeof resolved>, string]> = [
    [resolved('review-binding-v-x-track-x', { outcome: 'bound', visitId: 'v-a', trackId: 'track-x' }), 'unknown'],
    [resolved(itemB.reviewId, { outcome: 'bound', visitId: 'v-nobody', trackId: 'track-b' }, T0 + 30_000), 'unknown'],
    [resolved(itemB.reviewId, { outcome: 'bound', visitId: 'v-a', trackId: 'track-a' }, T0 + 31_000), 'refused'],
    [resolved(items.find((r) => r.trackId === 'track-a')!.reviewId, { outcome: 'dismissed', note: 'cannot tell' }), 'ignored'],
    [resolved('review-attribution-s-1', { outcome: 'attributed', visitId: 'v-a', kind: 'pick', lines: [{ productId: 'p-1', quantity: 1 }] }), 'ignored'],
  ];
  for (const [decision, verdict] of nothing) {
    const result = binder.onReviewResolved(decision);
    // Only a decision on an item this gate opened that does not hold together is answered (refused); the rest publish nothing.
    const answered = verdict === 'refused' ? [[decision.reviewId, decision.eventId, 'refused']] : [];
    assert.deepEqual([result.verdict, of(result.outputs, 'review.decision-refused').map((m) => [m.reviewId, m.decisionEventId, m.why]), result.outputs.length], [verdict, answered, answered.length], result.detail);
  }
  assert.equal(JSON.stringify(binder.visits()), before);
});

test('a reviewer says a doubtful relink is the other lost person: it continues that one, and the track it had continued is lost again and holds its visit', () => {
  const paths = {
    'track-a': walk(AT_ENTRY, [2, 2.5], T0, T0 + 1200, T0 + 3000, T0 + 12_000),
    'track-b': walk(AT_ENTRY, [2.4, 2.5], T0 + 3000, T0 + 4200, T0 + 6000, T0 + 12_000),
    'track-x': walk([2.2, 2.5], [2.2, 2.5], T0 + 12_300, T0, T0 + 1, T0 + 12_000 + LOST_TIMEOUT_MS + 5_000),
  };
  const gates: GateLine[] = [
    { topic: 'gate.qr-scanned', message: scan('v-a', T0 + 500) },
    { topic: 'gate.qr-scanned', message: scan('v-b', T0 + 3500) },
  ];
  const binder = new VisitBinder(index);
  const { outputs, rest } = feedUntil(binder, arrivalOrder(gates, instants(paths, T0, T0 + 12_000 + LOST_TIMEOUT_MS + 1_000)), T0 + 16_000);
  const x = of(outputs, 'visit.track-bound').find((m) => m.trackId === 'track-x')!;
  assert.deepEqual([x.visitId, x.replaces], ['v-b', 'track-b']);
  const item = of(outputs, 'review.item-opened').find((r) => r.trackId === 'track-x')!;
  const result = binder.onReviewResolved(resolved(item.reviewId, { outcome: 'bound', visitId: 'v-a', trackId: 'track-x' }));
  assert.equal(result.verdict, 'applied', result.detail);
  assert.deepEqual(of(result.outputs, 'visit.track-bound').map((m) => [m.trackId, m.visitId, m.member, m.doubt]), [['track-x', 'v-a', 0, undefined]]);
  const views = new Map(binder.visits().map((v) => [v.visitId, v]));
  assert.deepEqual(views.get('v-b')!.tracks.map((t) => [t.trackId, t.status]), [['track-b', 'lost']]);
  assert.deepEqual(views.get('v-a')!.tracks.map((t) => [t.trackId, t.replaces, t.status]), [
    ['track-a', undefined, 'replaced'],
    ['track-x', 'track-a', 'present'],
  ]);
  // Nobody continues track-b: v-b ends when it has been lost for the timeout, with the operator told; v-a stays open with track-x.
  const later = feedUntil(binder, rest, Infinity).outputs;
  assert.deepEqual(of(later, 'visit.ended').map((m) => [m.visitId, m.exitMs, m.confirmedByGate]), [['v-b', T0 + 12_000, false]]);
  const lost = of(later, 'review.item-opened').find((r) => r.trackId === 'track-b')!;
  assert.match(lost.reason, /lost inside/);
  // A lost track is confirmed on its visit, never moved.
  assert.equal(binder.onReviewResolved(resolved(lost.reviewId, { outcome: 'bound', visitId: 'v-b', trackId: 'track-b' }, T0 + 200_000)).verdict, 'unchanged');
  assert.equal(binder.onReviewResolved(resolved(lost.reviewId, { outcome: 'bound', visitId: 'v-a', trackId: 'track-b' }, T0 + 201_000)).verdict, 'refused');
  assert.equal(binder.visitOfTrack('track-x'), 'v-a');
});

test('a decision read back before the instants that open its item (a restarted gate) waits for the item and is applied once', () => {
  // What the first gate opened and a reviewer decided.
  const first = new VisitBinder(index);
  const item = of(feedUntil(first, twoAtOnce(), Infinity).outputs, 'review.item-opened').find((r) => r.trackId === 'track-a')!;
  const decision = resolved(item.reviewId, { outcome: 'bound', visitId: 'v-b', trackId: 'track-a' });
  // The next owner reads the decision first, then the rest.
  const restarted = new VisitBinder(index);
  assert.deepEqual([restarted.onReviewResolved(decision).verdict, restarted.visits()], ['unknown', []]);
  const outputs = feedUntil(restarted, twoAtOnce(), Infinity).outputs;
  assertValid(outputs);
  assert.deepEqual(of(outputs, 'visit.track-bound').filter((m) => m.reason === 'reviewed').map((m) => [m.trackId, m.visitId, m.doubt]), [
    ['track-a', 'v-b', undefined],
    ['track-b', 'v-a', undefined],
  ]);
  assert.deepEqual(['track-a', 'track-b'].map((t) => restarted.visitOfTrack(t)), ['v-b', 'v-a']);
  assert.equal(restarted.onReviewResolved(decision).verdict, 'unchanged');
});

test('a decision that would move someone into a visit that has ended is refused: its receipt is final, the track keeps its doubt, both visits tell the operator why, and the open visit ends as it would have', () => {
  const binder = new VisitBinder(index);
  // track-a's line has left (v-a ended at 24 s, settled 3 s later); track-b is still in the store.
  const { outputs, rest } = feedUntil(binder, swappedPair(), T0 + 28_500);
  assert.deepEqual(of(outputs, 'visit.ended').map((m) => m.visitId), ['v-a']);
  const item = of(outputs, 'review.item-opened').find((r) => r.trackId === 'track-b')!;
  const decision = resolved(item.reviewId, { outcome: 'bound', visitId: 'v-a', trackId: 'track-b' }, T0 + 28_000);
  const result = binder.onReviewResolved(decision);
  assertValid(result.outputs);
  assert.deepEqual([result.verdict, result.outputs.map((o) => o.topic)], ['after-exit', ['review.decision-refused']]);
  assert.match(result.detail, /v-a has ended and its receipt is final, so track-b stays on v-b with its doubt .*Its picks went to review, not to a cart: deciding those items corrects the receipts/);
  assert.deepEqual(of(result.outputs, 'review.decision-refused').map((m) => [m.reviewId, m.why, m.reason]), [[item.reviewId, 'after-exit', result.reason]]);
  const views = () => new Map(binder.visits().map((v) => [v.visitId, v]));
  for (const visitId of ['v-a', 'v-b']) assert.match(views().get(visitId)!.flags.at(-1)!, /^decision refused after exit: a reviewer \(operator-1\) decided track-b is v-a's/, visitId);
  assert.notEqual(views().get('v-b')!.tracks.find((t) => t.trackId === 'track-b')!.doubt, undefined, 'the doubt stands');
  // Read again: the same decision, counted and answered once.
  assert.deepEqual([binder.onReviewResolved(decision).verdict, binder.onReviewResolved(decision).outputs], ['unchanged', []]);
  assert.deepEqual(binder.reviewVerdicts(), { applied: 0, unchanged: 2, unknown: 0, refused: 0, 'after-exit': 1, ignored: 0 });
  const after = [...feedUntil(binder, rest, Infinity).outputs, ...binder.finish()];
  assert.deepEqual(of(after, 'visit.ended').map((m) => [m.visitId, m.exitMs]), [['v-b', T0 + 29_000]]);
  assert.equal(binder.visitOfTrack('track-b'), 'v-b');
});

test('a confirmation on a visit that has ended settles the other of the pair too: still inside, it is bound again without doubt and its item withdrawn, and nothing is published for the visit that has gone', () => {
  const paths = {
    'track-a': walk([3.8, 0.4], [2, 2.5], T0, T0 + 1000, T0 + 3000),
    'track-b': then(walk([4.4, 0.4], [3, 2.5], T0, T0 + 1400, T0 + 3400), T0 + 6000, walk([3, 2.5], AT_EXIT, T0, T0 + 6000, T0 + 8000, T0 + 9000)),
  };
  const binder = new VisitBinder(index);
  const { outputs } = feedUntil(binder, arrivalOrder(scansAndExits(9000), instants(paths, T0, T0 + 20_000)), Infinity);
  assert.deepEqual(of(outputs, 'visit.ended').map((m) => m.visitId), ['v-b'], 'fixture: only v-b has left');
  const items = of(outputs, 'review.item-opened');
  assert.deepEqual(items.map((r) => r.trackId).sort(), ['track-a', 'track-b'], 'fixture: both bindings in doubt');
  const itemA = items.find((r) => r.trackId === 'track-a')!;
  const itemB = items.find((r) => r.trackId === 'track-b')!;
  const result = binder.onReviewResolved(resolved(itemB.reviewId, { outcome: 'bound', visitId: 'v-b', trackId: 'track-b' }, T0 + 21_000));
  assertValid(result.outputs);
  assert.equal(result.verdict, 'applied');
  assert.deepEqual(of(result.outputs, 'visit.track-bound').map((m) => [m.trackId, m.visitId, m.reason, m.doubt]), [['track-a', 'v-a', 'reviewed', undefined]]);
  assert.deepEqual(of(result.outputs, 'review.item-resolved').map((m) => [m.reviewId, m.decision.outcome, m.reviewer]), [[itemA.reviewId, 'withdrawn', 'gate']]);
  const doubts = binder.visits().flatMap((v) => v.tracks.map((t) => [t.trackId, t.doubt !== undefined]));
  assert.deepEqual(doubts.sort(), [['track-a', false], ['track-b', false]], 'nobody is asked about any more');
});

test('a doubt confirmed after both visits ended is lifted in the read model for both, and the other\'s item withdrawn: no binding is published for a visit that has gone', () => {
  // Two people through the entry together, bound in the order they passed, each leaving on their own.
  const paths = {
    'track-a': then(walk([3.8, 0.4], [2, 2.5], T0, T0 + 1000, T0 + 3000), T0 + 10_000, walk([2, 2.5], AT_EXIT, T0, T0 + 10_000, T0 + 12_000, T0 + 13_000)),
    'track-b': then(walk([4.4, 0.4], [3, 2.5], T0, T0 + 1400, T0 + 3400), T0 + 6000, walk([3, 2.5], AT_EXIT, T0, T0 + 6000, T0 + 8000, T0 + 9000)),
  };
  const binder = new VisitBinder(index);
  const outputs = [...feedUntil(binder, arrivalOrder(scansAndExits(9000, 13_000), instants(paths, T0, T0 + 25_000)), Infinity).outputs, ...binder.finish()];
  assert.deepEqual(of(outputs, 'visit.ended').map((m) => m.visitId).sort(), ['v-a', 'v-b'], 'fixture: both have left');
  const items = of(outputs, 'review.item-opened');
  assert.deepEqual(items.map((r) => r.trackId).sort(), ['track-a', 'track-b'], 'fixture: both bindings in doubt');
  const item = items.find((r) => r.trackId === 'track-b')!;
  const other = items.find((r) => r.trackId === 'track-a')!;
  const result = binder.onReviewResolved(resolved(item.reviewId, { outcome: 'bound', visitId: 'v-b', trackId: 'track-b' }, T0 + 50_000));
  assertValid(result.outputs);
  assert.equal(result.verdict, 'applied');
  assert.deepEqual(result.outputs.map((o) => o.topic), ['review.item-resolved'], 'no binding for a visit that has gone');
  assert.deepEqual(of(result.outputs, 'review.item-resolved').map((m) => [m.reviewId, m.decision.outcome, m.reviewer]), [[other.reviewId, 'withdrawn', 'gate']]);
  const tracks = binder.visits().flatMap((v) => v.tracks.map((t) => [t.trackId, t.reason, t.doubt, t.status]));
  assert.deepEqual(tracks.find(([trackId]) => trackId === 'track-b'), ['track-b', 'reviewed', undefined, 'exited']);
  assert.equal(tracks.find(([trackId]) => trackId === 'track-a')![2], undefined, "the other's doubt is gone too");
});
