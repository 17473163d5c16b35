import { z } from 'zod';
import { Id } from './common.schema.ts';
import { eventBase } from './visits.schema.ts';

/**
 * What checkout says about money, keyed by visit on the bus: a charge taken, a payment that failed
 * (and when it is tried again), a receipt line refunded. Event ids name the charge or refund and the
 * attempt, so a dispatcher that publishes again after a crash names its copy the same way.
 */

export const CheckoutCharged = z
  .strictObject({
    ...eventBase,
    visitId: Id,
    receiptId: z.string().min(1),
    chargeId: z.string().min(1).describe('The capture\'s idempotency key: the visit id for the exit charge, visit/review/<review id> for a review decision\'s.'),
    accountId: Id,
    amountCents: z.number().int().positive().describe('Taken from the card, minor units.'),
    currency: z.string().regex(/^[A-Z]{3}$/),
    exitMs: z.number().int().nonnegative().describe('When the visit left, store clock: ts minus this is exit-to-charge.'),
  })
  .describe('Money was taken for a visit, once.');

export const CheckoutPaymentFailed = z
  .strictObject({
    ...eventBase,
    visitId: Id,
    receiptId: z.string().min(1),
    chargeId: z.string().min(1),
    accountId: Id,
    amountCents: z.number().int().positive(),
    reason: z.string().describe('What the processor said.'),
    declines: z.number().int().positive().describe('Declines so far for this charge.'),
    nextAttemptMs: z.number().int().nonnegative().describe('When it is tried again, store clock; until then the account may not enter.'),
  })
  .describe('A charge was declined: the visit is "payment failed", retried by policy, never dropped.');

export const CheckoutRefunded = z
  .strictObject({
    ...eventBase,
    visitId: Id,
    receiptId: z.string().min(1),
    lineNo: z.number().int().positive(),
    refundId: z.string().min(1).describe('The refund\'s idempotency key: refund/<receipt>/<line>.'),
    accountId: Id,
    amountCents: z.number().int().positive(),
  })
  .describe('A receipt line was refunded, once.');

export type CheckoutCharged = z.infer<typeof CheckoutCharged>;
export type CheckoutPaymentFailed = z.infer<typeof CheckoutPaymentFailed>;
export type CheckoutRefunded = z.infer<typeof CheckoutRefunded>;
