import assert from 'node:assert/strict';
import test from 'node:test';
import { SCHEMA_VERSION } from '../../libs/contracts/index.ts';
import { waitFor } from '../../libs/bus/bus.harness.ts';
import { ManualClock } from '../../libs/clock/clock.ts';
import { readLedger } from '../../libs/payments/local.provider.ts';
import { collectingBus, fixtureStoreIndex } from '../../libs/testing/service.fixtures.ts';
import { createCheckoutService } from './checkout.service.ts';

/**
 * The checkout service on the in-process bus and the embedded database: a shopper's visit and its
 * receipt in, one capture and one checkout.charged out, even when the bus hands everything over
 * twice; a staff visit and an anonymous one take nothing.
 */

test('a receipt off the bus is charged once and checkout.charged comes out once, whatever is delivered twice', { timeout: 120_000 }, async (t) => {
  const { bus, messages } = await collectingBus(t, ['checkout.charged', 'checkout.payment-failed']);
  const index = fixtureStoreIndex();
  const clock = new ManualClock(1_767_225_600_000);
  const service = createCheckoutService({ index, bus, clock });
  await service.start();
  t.after(() => service.stop());
  const [product] = index.store.planogram.products;
  const base = { schemaVersion: SCHEMA_VERSION, storeId: index.store.id, ts: clock.now() } as const;
  const visits = ['v-shopper', 'v-anon', 'v-empty'];
  for (let round = 0; round < 2; round++) {
    await bus.publish('visit.started', { ...base, eventId: 'start/v-shopper', visitId: 'v-shopper', kind: 'shopper', accountId: 'acct-7', partySize: 1 });
    await bus.publish('visit.started', { ...base, eventId: 'start/v-empty', visitId: 'v-empty', kind: 'shopper', accountId: 'acct-7', partySize: 1 });
    await bus.publish('visit.started', { ...base, eventId: 'start/v-anon', visitId: 'v-anon', kind: 'anonymous', partySize: 1 });
    for (const visitId of visits) {
      const lines = visitId === 'v-empty' ? [] : [{ productId: product.id, quantity: 2, unitPriceCents: product.priceCents, totalCents: 2 * product.priceCents }];
      await bus.publish('visit.receipt-finalised', {
        ...base,
        eventId: `receipt/${visitId}`,
        visitId,
        receiptId: `receipt-${visitId}`,
        ...(visitId === 'v-anon' ? {} : { accountId: 'acct-7' }),
        exitMs: clock.now(),
        lines,
        pending: [],
        totalCents: lines.reduce((sum, line) => sum + line.totalCents, 0),
      });
    }
  }
  await waitFor(() => messages['checkout.charged'].length >= 1 && service.stats().messages >= 12, 'the charge and every message taken');
  await service.flush();
  const ledger = await readLedger(service.db!);
  assert.deepEqual(
    ledger.map((entry) => [entry.operation, entry.reference]).sort(),
    [['authorise', 'v-empty'], ['authorise', 'v-shopper'], ['capture', 'v-shopper'], ['void', 'v-empty']].sort(),
  );
  assert.equal(messages['checkout.charged'].length, 1);
  assert.deepEqual(
    [messages['checkout.charged'][0].visitId, messages['checkout.charged'][0].amountCents],
    ['v-shopper', 2 * product.priceCents],
  );
  assert.equal(service.stats().duplicates, 6, 'the second delivery of every message changed nothing');
  assert.equal(await service.checkout!.hasUnpaidVisit('acct-7'), false);
});
