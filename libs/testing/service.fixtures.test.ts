import test from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION } from '../contracts/index.ts';
import { waitFor } from '../bus/bus.harness.ts';
import { collectingBus, fixtureStoreIndex } from './service.fixtures.ts';

test('a fixture store by name, indexed', () => {
  const kiosk = fixtureStoreIndex();
  assert.equal(kiosk.store.id, fixtureStoreIndex('kiosk').store.id);
  assert.ok(kiosk.lanes.size > 0);
  assert.throws(() => fixtureStoreIndex('no-such-store'), /no-such-store/);
});

test('the collecting bus gathers the watched topics, in order, by topic and with keys', async (t) => {
  const { bus, delivered, deliveries, messages } = await collectingBus(t, ['gate.qr-scanned', 'gate.opened']);
  const base = (eventId: string, ts: number) => ({ schemaVersion: SCHEMA_VERSION, eventId, storeId: 'kiosk', ts });
  await bus.publish('gate.qr-scanned', { ...base('scan-1', 1), gateId: 'entry', visitId: 'v-1', accountId: 'acc-1', partySize: 1 });
  await bus.publish('gate.opened', { ...base('open-1', 2), gateId: 'entry', kind: 'entry', visitId: 'v-1' });
  await waitFor(() => delivered.length >= 2, 'both gate messages');
  assert.deepEqual(
    delivered.map((d) => [d.topic, d.message.eventId]),
    [
      ['gate.qr-scanned', 'scan-1'],
      ['gate.opened', 'open-1'],
    ],
  );
  assert.deepEqual(messages['gate.qr-scanned'].map((m) => m.visitId), ['v-1']);
  assert.equal(deliveries['gate.opened'][0].message.eventId, 'open-1');
  assert.equal(typeof deliveries['gate.opened'][0].key, 'string');
});
