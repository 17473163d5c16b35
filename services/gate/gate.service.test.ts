import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ReviewItemOpened, ReviewItemResolved, topics, VisitEnded, VisitTrackBound } from '../../libs/contracts/index.ts';
import type { MemoryBus } from '../../libs/bus/index.ts';
import { waitFor } from '../../libs/bus/bus.harness.ts';
import { ManualClock } from '../../libs/clock/clock.ts';
import { loadScenario } from '../../libs/sim/scenario.load.ts';
import { simulate } from '../../libs/sim/store.sim.ts';
import { arrivalOrder, type BinderInput } from '../../libs/visits/bindings.eval.ts';
import { collect } from '../../libs/recording/index.ts';
import { truthPeopleFrom } from '../../libs/replay/people-truth.source.ts';
import { collectingBus, fixtureStoreIndex, type Collected } from '../../libs/testing/service.fixtures.ts';
import { simulatedSkeletons } from '../../libs/visits/simulated-skeletons.sim.ts';
import { resolved, twoAtOnce } from '../../libs/visits/binder.fixtures.ts';
import { createGateService } from './gate.service.ts';

const index = fixtureStoreIndex();

/** The group scenario's gate messages and its people (perfect tracks), in the order they would reach the service live. */
async function groupVisitInputs() {
  const sim = simulate(await loadScenario(new URL('../../fixtures/scenarios/group-visit.json', import.meta.url).pathname), index, 1);
  const people = truthPeopleFrom(index.store, simulatedSkeletons(sim));
  return { inputs: arrivalOrder(sim.gateLines, await collect(people)), personOfTrack: people.personOfTrack };
}

type Out = Collected<'visit.started' | 'visit.track-bound' | 'visit.ended' | 'review.item-opened' | 'review.item-resolved'>;

async function outputBus(t: TestContext) {
  const { bus, delivered } = await collectingBus(t, ['visit.started', 'visit.track-bound', 'visit.ended', 'review.item-opened', 'review.item-resolved']);
  return { bus, out: delivered };
}

/**
 * Publishes the inputs one at a time, each once the service has taken the one before (`taken` counts
 * them), as they would come live: the bus keeps order within a topic, not across topics, and the
 * gate's messages reach the service long before the tracker's instants of the same moment.
 */
async function publishPaced(bus: MemoryBus<typeof topics>, inputs: BinderInput[], taken: () => number) {
  for (const input of inputs) {
    const before = taken();
    if (input.kind === 'people') await bus.publish('tracking.people-tracked', input.instant);
    else if (input.line.topic === 'gate.qr-scanned') await bus.publish('gate.qr-scanned', input.line.message);
    else await bus.publish('gate.opened', input.line.message);
    await waitFor(() => taken() > before, 'the message taken');
  }
}

test('the gate service on the bus: a group comes in on one scan, is bound member by member, and its visit ends at the exit; a redelivery of everything changes nothing', async (t) => {
  const { inputs, personOfTrack } = await groupVisitInputs();
  const { bus, out } = await outputBus(t);
  const service = createGateService({ index, bus, clock: new ManualClock(0) });
  await service.start();
  t.after(() => service.stop());
  const taken = () => service.stats().messages + service.stats().redelivered;
  await publishPaced(bus, inputs, taken);
  await service.flush();
  await waitFor(() => out.length === service.stats().published, 'everything published to come out');

  const bound = out.filter((o) => o.topic === 'visit.track-bound').map((o) => o.message as VisitTrackBound);
  assert.deepEqual(
    bound.map((m) => [m.visitId, personOfTrack.get(m.trackId), m.member]),
    [
      ['v-parent', 'parent', 0],
      ['v-parent', 'kid-1', 1],
      ['v-parent', 'kid-2', 2],
    ],
  );
  // The bus keeps order within a topic and key, not across topics.
  assert.deepEqual(out.map((o) => o.topic).sort(), ['visit.ended', 'visit.started', 'visit.track-bound', 'visit.track-bound', 'visit.track-bound']);
  assert.ok(out.every((o) => o.key === 'v-parent'), 'keyed by visit');
  assert.equal((out.find((o) => o.topic === 'visit.ended')!.message as VisitEnded).confirmedByGate, true);
  assert.equal(service.visitOfTrack('truth-kid-2'), 'v-parent');
  assert.deepEqual(service.visits().map((v) => [v.visitId, v.state, v.tracks.length]), [['v-parent', 'ended', 3]]);
  assert.equal(service.stats().held, 0, 'flushed: nothing held');

  // Kafka after a crash delivers again what was not committed: all of it, here.
  const published = service.stats().published;
  await publishPaced(bus, inputs, taken);
  assert.equal(service.stats().redelivered, inputs.length);
  await service.flush();
  assert.equal(service.stats().published, published, 'nothing published again');
  assert.equal(out.length, published);
});

test('a service stopped mid-visit leaves the visit\'s input held; the next one rebuilds the visit and ends it as an uninterrupted one would', async (t) => {
  const { inputs } = await groupVisitInputs();
  const clean = await outputBus(t);
  const uninterrupted = createGateService({ index, bus: clean.bus, clock: new ManualClock(0) });
  await uninterrupted.start();
  t.after(() => uninterrupted.stop());
  await publishPaced(clean.bus, inputs, () => uninterrupted.stats().messages);
  await uninterrupted.flush();
  await waitFor(() => clean.out.length === uninterrupted.stats().published, 'the uninterrupted run out');

  const { bus, out } = await outputBus(t);
  const first = createGateService({ index, bus, clock: new ManualClock(0) });
  await first.start();
  // Up to the middle of the visit: the party is in, nobody has left.
  const middle = inputs.findIndex((input) => input.kind === 'people' && input.instant.ts >= 1_780_000_010_000);
  await publishPaced(bus, inputs.slice(0, middle), () => first.stats().messages);
  assert.equal(first.stats().openVisits, 1);
  assert.equal(first.stats().held, middle, 'everything since the party was first seen is held');
  await first.stop(); // a crash would leave the same: the held input uncommitted

  const second = createGateService({ index, bus, clock: new ManualClock(0) });
  await second.start();
  t.after(() => second.stop());
  await waitFor(() => second.stats().messages === middle, () => `the held input delivered again: ${JSON.stringify(second.stats())}`);
  await publishPaced(bus, inputs.slice(middle), () => second.stats().messages);
  await second.flush();
  await waitFor(() => out.length === first.stats().published + second.stats().published, 'everything published to come out');
  const ids = (messages: Out[]) => [...new Set(messages.map((o) => o.message.eventId))].sort();
  assert.deepEqual(ids(out), ids(clean.out), 'the same visit messages, once each after dedupe by id');
  assert.equal(second.visitOfTrack('truth-kid-1'), 'v-parent', 'the party rebuilt');
  assert.equal(second.stats().held, 0, 'flushed: nothing held');
});

test('a message from another store is refused, not applied', async (t) => {
  const { bus } = await outputBus(t);
  const service = createGateService({ index, bus, clock: new ManualClock(0) });
  await service.start();
  t.after(() => service.stop());
  await bus.publish('gate.qr-scanned', {
    schemaVersion: 1,
    eventId: 'scan-elsewhere',
    storeId: 'another-store',
    ts: 1_780_000_000_000,
    gateId: 'gate-entry',
    visitId: 'v-elsewhere',
    accountId: 'acct-x',
    partySize: 1,
  });
  await bus.publish('gate.qr-scanned', { schemaVersion: 1, eventId: 'scan-here', storeId: 'kiosk', ts: 1_780_000_000_000, gateId: 'gate-entry', visitId: 'v-here', accountId: 'acct-y', partySize: 1 });
  await waitFor(() => service.stats().messages === 1 && service.visits().length === 1, 'the kiosk scan taken');
  assert.deepEqual(service.visits().map((v) => v.visitId), ['v-here']);
});

test('a failed publish fails the handler: the message comes again and every visit message comes out once', async (t) => {
  const { inputs } = await groupVisitInputs();
  const { bus, out } = await outputBus(t);
  let refused = 0;
  // The broker refuses the first track binding twice.
  const flaky: Pick<typeof bus, 'publish' | 'subscribe'> = {
    subscribe: (options) => bus.subscribe(options),
    publish: (topic, message) => {
      if (topic === 'visit.track-bound' && refused < 2) {
        refused++;
        return Promise.reject(new Error('broker unavailable'));
      }
      return bus.publish(topic, message);
    },
  };
  const service = createGateService({ index, bus: flaky, clock: new ManualClock(0) });
  await service.start();
  t.after(() => service.stop());
  await publishPaced(bus, inputs, () => service.stats().messages + service.stats().redelivered);
  await service.flush();
  await waitFor(() => out.length === service.stats().published, 'everything published to come out');
  assert.equal(refused, 2);
  assert.equal(service.stats().publishFailures, 2);
  assert.ok(service.stats().redelivered >= 1, 'the message behind the failed publish came again');
  const ids = out.map((o) => o.message.eventId);
  assert.equal(new Set(ids).size, ids.length, 'nothing twice');
  assert.equal(out.filter((o) => o.topic === 'visit.track-bound').length, 3);
  assert.equal(out.filter((o) => o.topic === 'visit.ended').length, 1);
});

test('a reviewer\'s decision on a doubtful binding comes in on the bus: the gate publishes the tracks\' bindings again without doubt and withdraws the other item of the pair, once however often the decision comes', async (t) => {
  const { bus, out } = await outputBus(t);
  const service = createGateService({ index, bus, clock: new ManualClock(0) });
  await service.start();
  t.after(() => service.stop());
  await publishPaced(bus, twoAtOnce(), () => service.stats().messages);
  await waitFor(() => out.filter((o) => o.topic === 'review.item-opened').length === 2, 'both binding reviews out');
  const items = () => out.filter((o) => o.topic === 'review.item-opened').map((o) => o.message as ReviewItemOpened);
  const item = items().find((m) => m.trackId === 'track-a')!;

  const decision = resolved(item.reviewId, { outcome: 'bound', visitId: 'v-b', trackId: 'track-a' });
  await bus.publish('review.item-resolved', decision);
  const reviewed = () => out.filter((o) => o.topic === 'visit.track-bound' && (o.message as VisitTrackBound).reason === 'reviewed').map((o) => o.message as VisitTrackBound);
  await waitFor(() => reviewed().length === 2, 'the pair bound again');
  assert.deepEqual(reviewed().map((m) => [m.trackId, m.visitId, m.doubt]).sort(), [['track-a', 'v-b', undefined], ['track-b', 'v-a', undefined]]);
  assert.equal(service.visitOfTrack('track-a'), 'v-b');
  // track-b's item is answered too: the gate withdraws it, and reads its own withdrawal back as already so.
  const resolutions = () => out.filter((o) => o.topic === 'review.item-resolved').map((o) => o.message as ReviewItemResolved);
  await waitFor(() => resolutions().length === 2 && service.stats().reviewDecisions.unchanged === 1, () => JSON.stringify(service.stats()));
  const withdrawal = resolutions().find((m) => m.reviewer === 'gate')!;
  const itemB = items().find((m) => m.trackId === 'track-b')!;
  assert.deepEqual([withdrawal.reviewId, withdrawal.decision.outcome, withdrawal.decision.outcome === 'withdrawn' && withdrawal.decision.settledBy], [itemB.reviewId, 'withdrawn', item.reviewId]);
  assert.equal(service.stats().publishedByTopic['review.item-resolved'], 1);

  // Delivered again, and decided again under another id: nothing more.
  await bus.publish('review.item-resolved', decision);
  await bus.publish('review.item-resolved', { ...decision, eventId: 'decided-again', ts: decision.ts + 1 });
  await waitFor(() => service.stats().reviewDecisions.unchanged === 2, () => JSON.stringify(service.stats()));
  assert.equal(service.stats().redelivered, 1);
  // A decision for an item this gate never opened changes nothing and is counted.
  await bus.publish('review.item-resolved', resolved('review-binding-v-x-track-x', { outcome: 'bound', visitId: 'v-a', trackId: 'track-x' }));
  await waitFor(() => service.stats().reviewDecisions.unknown === 1, 'the unknown decision counted');
  await service.flush();
  assert.equal(reviewed().length, 2);
  assert.deepEqual(service.stats().reviewDecisions, { applied: 1, unchanged: 2, unknown: 1, refused: 0, 'after-exit': 0, ignored: 0 });
  assert.equal(resolutions().filter((m) => m.reviewer === 'gate').length, 1, 'withdrawn once');
});
