import { formatCents } from '../cart/receipts.format.ts';
import type { ChargeRow } from './checkout.repository.ts';

/**
 * Charges as plain text for a terminal (`npm start`): one line per charge under the receipts, then
 * one line that sums up what checkout did.
 */

const MONEY_WIDTH = 9;

const STATUS_WORDS: Record<ChargeRow['status'], (charge: ChargeRow) => string> = {
  captured: () => 'charged',
  voided: () => 'nothing to charge (hold released)',
  declined: (charge) => `payment failed (declined ${charge.declines} time${charge.declines === 1 ? '' : 's'}; tried again by policy)`,
  'not-charged': () => 'not charged (no account: flagged for the operator)',
  pending: () => 'pending',
};

/** One line per charge: the visit, the account, the amount and what became of it. */
export function formatCharges(charges: readonly ChargeRow[], currency: string): string[] {
  const visitWidth = Math.max(0, ...charges.map((charge) => charge.chargeId.length));
  const accountWidth = Math.max(0, ...charges.map((charge) => (charge.accountId ?? '-').length));
  return charges.map(
    (charge) =>
      `  ${charge.chargeId.padEnd(visitWidth)}  ${(charge.accountId ?? '-').padEnd(accountWidth)}  ${formatCents(charge.amountCents).padStart(MONEY_WIDTH)} ${currency}  ${STATUS_WORDS[charge.status](charge)}`,
  );
}

export interface CheckoutSummary {
  readonly charges: number;
  readonly charged: number;
  readonly chargedCents: number;
  readonly nothingToCharge: number;
  readonly paymentFailed: number;
  readonly notCharged: number;
  readonly pending: number;
}

export function summariseCharges(charges: readonly ChargeRow[]): CheckoutSummary {
  const count = (status: ChargeRow['status']) => charges.filter((charge) => charge.status === status).length;
  return {
    charges: charges.length,
    charged: count('captured'),
    chargedCents: charges.filter((charge) => charge.status === 'captured').reduce((sum, charge) => sum + charge.amountCents, 0),
    nothingToCharge: count('voided'),
    paymentFailed: count('declined'),
    notCharged: count('not-charged'),
    pending: count('pending'),
  };
}

/** "checkout: 6 charged (12.34 EUR), 1 nothing to charge, 0 payment failed, 0 not charged" */
export function formatCheckoutSummary(summary: CheckoutSummary, currency: string): string {
  return (
    `checkout: ${summary.charged} charged (${formatCents(summary.chargedCents)} ${currency}), ${summary.nothingToCharge} nothing to charge, ` +
    `${summary.paymentFailed} payment failed, ${summary.notCharged} not charged` +
    (summary.pending > 0 ? `, ${summary.pending} still pending` : '')
  );
}
