import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { GateCodePresented, GateQrScanned, topics } from '../../libs/contracts/index.ts';
import type { MemoryBus } from '../../libs/bus/index.ts';
import { waitFor } from '../../libs/bus/bus.harness.ts';
import { ManualClock } from '../../libs/clock/clock.ts';
import { loadScenario } from '../../libs/sim/scenario.load.ts';
import { simulate } from '../../libs/sim/store.sim.ts';
import { arrivalOrder, type BinderInput } from '../../libs/visits/bindings.eval.ts';
import { collect } from '../../libs/recording/index.ts';
import { truthPeopleFrom } from '../../libs/replay/people-truth.source.ts';
import { collectingBus, fixtureStoreIndex } from '../../libs/testing/service.fixtures.ts';
import { simulatedSkeletons } from '../../libs/visits/simulated-skeletons.sim.ts';
import { MemoryAccountStatus } from '../../libs/entry/account.status.ts';
import { createKeyRing, generateEntryKey, parseEntryKeys } from '../../libs/entry/entry.keys.ts';
import { createEntryIssuer, createEntryVerifier } from '../../libs/entry/entry.verifier.ts';
import { MemoryNonceStore } from '../../libs/entry/nonce.store.ts';
import { createGateService, type GateService } from './gate.service.ts';

/**
 * The entry path on the bus: the gate reads a code, the gate service checks it, and only a good
 * code becomes the scan that opens a visit. The group scenario's recorded scan is replaced by the
 * code the parent's app would have shown, read by the gate at the same moment.
 */

const index = fixtureStoreIndex();
const OUTPUTS = ['visit.started', 'visit.track-bound', 'visit.ended', 'review.item-opened', 'gate.qr-scanned', 'gate.entry-refused'] as const;

async function setup(t: TestContext) {
  const keys = createKeyRing(parseEntryKeys({ keys: [generateEntryKey('k1')] }));
  const accounts = new MemoryAccountStatus();
  const nonces = new MemoryNonceStore();
  const clock = new ManualClock(0);
  const verifier = createEntryVerifier({ keys, storeId: index.store.id, nonces, accounts, clock });
  const { bus, deliveries, messages } = await collectingBus(t, OUTPUTS);
  const service = createGateService({ index, bus, clock, entry: verifier });
  await service.start();
  t.after(() => service.stop());
  return { keys, accounts, nonces, bus, deliveries, messages, service };
}

/** The group scenario's inputs with its scan taken out, and the scan itself. */
async function groupVisitWithoutScan() {
  const sim = simulate(await loadScenario(new URL('../../fixtures/scenarios/group-visit.json', import.meta.url).pathname), index, 1);
  const people = truthPeopleFrom(index.store, simulatedSkeletons(sim));
  const inputs = arrivalOrder(sim.gateLines, await collect(people));
  const scanAt = inputs.findIndex((input) => input.kind === 'gate' && input.line.topic === 'gate.qr-scanned');
  const scan = (inputs[scanAt] as { kind: 'gate'; line: { message: GateQrScanned } }).line.message;
  return { before: inputs.slice(0, scanAt), after: inputs.slice(scanAt + 1), scan, personOfTrack: people.personOfTrack };
}

function reading(scan: GateQrScanned, code: string, eventId = `read-${scan.gateId}-${scan.ts}`): GateCodePresented {
  return { schemaVersion: 1, eventId, storeId: scan.storeId, ts: scan.ts, gateId: scan.gateId, code, partySize: scan.partySize };
}

/** Publishes inputs one at a time, each once the service has taken the one before, as they come live. */
async function publishPaced(bus: MemoryBus<typeof topics>, inputs: BinderInput[], service: GateService) {
  for (const input of inputs) {
    const taken = () => service.stats().messages + service.stats().redelivered;
    const before = taken();
    if (input.kind === 'people') await bus.publish('tracking.people-tracked', input.instant);
    else if (input.line.topic === 'gate.qr-scanned') await bus.publish('gate.qr-scanned', input.line.message);
    else await bus.publish('gate.opened', input.line.message);
    await waitFor(() => taken() > before, 'the message taken');
  }
}

/** Presents a code and waits until its verdict is out and, for a good code, the binder has taken the scan. */
async function present(bus: MemoryBus<typeof topics>, service: GateService, message: GateCodePresented) {
  const verdicts = () => service.stats().codesAdmitted + service.stats().codesRefused;
  const before = { verdicts: verdicts(), taken: service.stats().messages + service.stats().redelivered, admitted: service.stats().codesAdmitted };
  await bus.publish('gate.code-presented', message);
  await waitFor(() => verdicts() > before.verdicts, 'the verdict');
  if (service.stats().codesAdmitted > before.admitted) await waitFor(() => service.stats().messages + service.stats().redelivered > before.taken, 'the scan taken by the binder');
}

test('a good code read at the gate starts the visit its account scanned for, and the party is bound to it', async (t) => {
  const { keys, bus, messages, deliveries, service } = await setup(t);
  const { before, after, scan, personOfTrack } = await groupVisitWithoutScan();
  const issued = createEntryIssuer({ keys, clock: new ManualClock(scan.ts - 4_000) }).issue({ accountId: scan.accountId, storeId: index.store.id });
  await publishPaced(bus, before, service);
  await present(bus, service, reading(scan, issued.code));
  await publishPaced(bus, after, service);
  await service.flush();
  await waitFor(() => deliveries['visit.track-bound'].length === 3, 'the party bound');

  const visitId = `v-${issued.nonce}`;
  assert.deepEqual(
    messages['gate.qr-scanned'].map((m) => [m.eventId, m.visitId, m.accountId, m.partySize, m.ts, m.codeEventId]),
    [[`read-${scan.gateId}-${scan.ts}/scan`, visitId, scan.accountId, 3, scan.ts, `read-${scan.gateId}-${scan.ts}`]],
  );
  assert.deepEqual(messages['visit.started'].map((m) => [m.visitId, m.kind, m.accountId]), [[visitId, 'shopper', scan.accountId]]);
  assert.deepEqual(
    messages['visit.track-bound'].map((m) => [m.visitId, personOfTrack.get(m.trackId)]),
    [
      [visitId, 'parent'],
      [visitId, 'kid-1'],
      [visitId, 'kid-2'],
    ],
  );
  assert.equal(messages['gate.entry-refused'].length, 0);
  assert.equal(messages['review.item-opened'].filter((m) => m.kind === 'tailgating').length, 0);
});

test('a refused code admits nobody: the refusal says why, and the party that walks in anyway is flagged, not bound to the account', async (t) => {
  const { bus, messages, deliveries, service } = await setup(t);
  const { before, after, scan } = await groupVisitWithoutScan();
  // Signed with a key the gate does not know.
  const strangerKeys = createKeyRing(parseEntryKeys({ keys: [generateEntryKey('k1')] }));
  const forged = createEntryIssuer({ keys: strangerKeys, clock: new ManualClock(scan.ts - 1_000) }).issue({ accountId: scan.accountId, storeId: index.store.id });
  await publishPaced(bus, before, service);
  await present(bus, service, reading(scan, forged.code));
  await publishPaced(bus, after, service);
  await service.flush();
  const visitMessages = () => (['visit.started', 'visit.track-bound', 'visit.ended', 'review.item-opened'] as const).reduce((n, topic) => n + deliveries[topic].length, 0);
  await waitFor(() => visitMessages() === service.stats().published, 'everything published to come out');

  assert.deepEqual(
    messages['gate.entry-refused'].map((m) => [m.eventId, m.reason, m.accountId]),
    [[`read-${scan.gateId}-${scan.ts}/refused`, 'forged', undefined]],
  );
  assert.equal(messages['gate.qr-scanned'].length, 0, 'the binder saw no scan');
  assert.ok(messages['visit.started'].length > 0, 'the people who walked in have visits');
  assert.ok(messages['visit.started'].every((m) => m.kind === 'anonymous' && m.accountId === undefined), JSON.stringify(messages['visit.started']));
  assert.ok(messages['review.item-opened'].some((m) => m.kind === 'tailgating'), 'the operator is told');
  assert.equal(service.stats().codesRefused, 1);
});

test('a reading delivered twice gives the same verdict and the same messages; a second reading of the same code is refused as used', async (t) => {
  const { keys, bus, messages, service } = await setup(t);
  const T = 1_780_000_000_000;
  const issued = createEntryIssuer({ keys, clock: new ManualClock(T) }).issue({ accountId: 'acct-1', storeId: index.store.id });
  const first: GateCodePresented = { schemaVersion: 1, eventId: 'read-1', storeId: index.store.id, ts: T + 2_000, gateId: 'gate-entry', code: issued.code, partySize: 1 };
  await present(bus, service, first);
  // At-least-once: the same message again (a crash before its commit), long after the code expired on the store clock.
  await present(bus, service, first);
  assert.equal(service.stats().codesAdmitted, 2);
  assert.deepEqual([...new Set(messages['gate.qr-scanned'].map((m) => m.eventId))], ['read-1/scan']);
  await waitFor(() => messages['visit.started'].length === 1, 'the visit started');
  assert.equal(service.visits().length, 1, 'one visit, however often the reading came');

  await present(bus, service, { ...first, eventId: 'read-2', ts: T + 5_000, gateId: 'gate-entry' });
  await waitFor(() => messages['gate.entry-refused'].length === 1, 'the refusal');
  assert.deepEqual(messages['gate.entry-refused'].map((m) => [m.eventId, m.reason, m.accountId]), [['read-2/refused', 'used', 'acct-1']]);
  assert.equal(service.visits().length, 1);
});

test('refusals for every reason the gate can tell alone: malformed, expired, another store, blocked and unpaid accounts', async (t) => {
  const { keys, accounts, bus, messages, service } = await setup(t);
  const T = 1_780_000_000_000;
  const issuer = createEntryIssuer({ keys, clock: new ManualClock(T) });
  accounts.block('acct-blocked');
  accounts.owe('acct-owing', 'v-unpaid');
  const cases: Array<[string, number, string]> = [
    ['not a code at all', T, 'malformed'],
    [issuer.issue({ accountId: 'acct-1', storeId: index.store.id }).code, T + 30_000, 'expired'],
    [issuer.issue({ accountId: 'acct-1', storeId: 'downtown' }).code, T, 'wrong-store'],
    [issuer.issue({ accountId: 'acct-blocked', storeId: index.store.id }).code, T, 'account-blocked'],
    [issuer.issue({ accountId: 'acct-owing', storeId: index.store.id }).code, T, 'unpaid-visit'],
  ];
  for (const [i, [code, ts]] of cases.entries()) await present(bus, service, { schemaVersion: 1, eventId: `read-${i}`, storeId: index.store.id, ts, gateId: 'gate-entry', code, partySize: 1 });
  await waitFor(() => messages['gate.entry-refused'].length === cases.length, 'every refusal');
  assert.deepEqual(
    messages['gate.entry-refused'].map((m) => m.reason).sort(),
    cases.map(([, , reason]) => reason).sort(),
  );
  assert.equal(messages['gate.qr-scanned'].length, 0);
  assert.equal(service.visits().length, 0);
});
