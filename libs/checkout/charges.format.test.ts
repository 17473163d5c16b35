import assert from 'node:assert/strict';
import test from 'node:test';
import { formatCharges, formatCheckoutSummary, summariseCharges } from './charges.format.ts';
import type { ChargeRow } from './checkout.repository.ts';

const charge = (visitId: string, accountId: string | null, amountCents: number, status: ChargeRow['status'], declines = 0): ChargeRow => ({
  chargeId: visitId,
  visitId,
  receiptId: `receipt-${visitId}`,
  accountId,
  amountCents,
  status,
  declines,
  renewals: 0,
  authorisationId: null,
});

test('each charge on a line with its amount and what became of it, then one line for checkout', () => {
  const charges = [charge('v-a', 'acct-a', 268, 'captured'), charge('v-bb', 'acct-b', 0, 'voided'), charge('v-c', 'acct-c', 1_329, 'declined', 2), charge('v-anon', null, 109, 'not-charged')];
  assert.deepEqual(formatCharges(charges, 'EUR'), [
    '  v-a     acct-a       2.68 EUR  charged',
    '  v-bb    acct-b       0.00 EUR  nothing to charge (hold released)',
    '  v-c     acct-c      13.29 EUR  payment failed (declined 2 times; tried again by policy)',
    '  v-anon  -            1.09 EUR  not charged (no account: flagged for the operator)',
  ]);
  const summary = summariseCharges(charges);
  assert.deepEqual(summary, { charges: 4, charged: 1, chargedCents: 268, nothingToCharge: 1, paymentFailed: 1, notCharged: 1, pending: 0 });
  assert.equal(formatCheckoutSummary(summary, 'EUR'), 'checkout: 1 charged (2.68 EUR), 1 nothing to charge, 1 payment failed, 1 not charged');
  assert.match(formatCheckoutSummary(summariseCharges([charge('v-x', 'acct-x', 5, 'pending')]), 'EUR'), /, 1 still pending$/);
});
