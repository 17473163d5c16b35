import { z } from 'zod';
import { Id, StoreClockMs } from './common.schema.ts';
import { errorCatalogue } from './errors.ts';
import { ReceiptLine } from './visits.schema.ts';

/**
 * The shopper app API's requests and answers (services/app). The routes validate with these, the
 * OpenAPI document at /docs/json is made from them (z.toJSONSchema), and the tests read answers back
 * through them. Money in integer minor units, times in store-clock ms.
 */

const Cents = z.number().int().nonnegative();
const ReceiptId = z.string().min(1).max(160).describe('A receipt id, as the cart service names it.');

export const ApiError = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(Object.keys(errorCatalogue) as [keyof typeof errorCatalogue, ...Array<keyof typeof errorCatalogue>]).describe('A code of the error catalogue.'),
      message: z.string().describe('What went wrong, for a person.'),
      retriable: z.boolean().describe('Whether asking again (later) can help.'),
    }),
  })
  .describe('Every error the API answers: its catalogue code, HTTP status, message and retry advice.');

export const EntryCodeRequest = z.strictObject({
  storeId: Id.describe('The store to enter.'),
});

export const EntryCodeIssued = z
  .strictObject({
    code: z.string().min(1).describe('The signed entry code (base64url): what the QR code holds.'),
    storeId: Id,
    issuedAtMs: StoreClockMs,
    expiresAtMs: StoreClockMs.describe('The code is refused from this store-clock time on (30 s at most after issue).'),
    qr: z.strictObject({
      svg: z.string().describe('The code as an SVG QR symbol.'),
      png: z.string().startsWith('data:image/png;base64,').describe('The code as a PNG QR symbol, a data URL.'),
    }),
  })
  .describe('An entry code for one store, usable once, valid for 30 s at most.');

export const VisitParams = z.strictObject({ visitId: Id });
export const ReceiptParams = z.strictObject({ receiptId: ReceiptId });
export const LineParams = z.strictObject({
  receiptId: ReceiptId,
  lineNo: z.string().regex(/^[1-9][0-9]{0,5}$/, 'a line number is a whole number from 1').describe('The receipt line, numbered from 1.'),
});

export const LiveCart = z
  .strictObject({
    visitId: Id,
    version: z.number().int().positive().describe('A higher version is newer.'),
    lines: z.array(ReceiptLine),
    pendingReviewIds: z.array(z.string()).describe('Items a person still has to decide before they can be on the cart.'),
    totalCents: Cents,
    ts: StoreClockMs.describe('When the cart last changed, store clock.'),
  })
  .describe('A visit\'s cart as it stands: the data of each cart.updated server-sent event.');

export const RefundStatus = z.strictObject({
  refundId: z.string().min(1),
  lineNo: z.number().int().positive(),
  amountCents: z.number().int().positive(),
  status: z.enum(['pending', 'refunded']).describe('pending until the card processor has given the money back.'),
  reason: z.string(),
});

export const ReceiptLineView = ReceiptLine.extend({
  lineNo: z.number().int().positive(),
  source: z.enum(['exit', 'review']).describe('On the receipt at exit, or added by a review decision (charged on its own).'),
  refundedCents: Cents.describe('Refunded of this line so far (or being refunded).'),
  contest: z
    .strictObject({ reviewId: z.string(), status: z.enum(['open', 'approved', 'rejected']) })
    .nullable()
    .describe('The shopper\'s contest of this line, if any.'),
});

export const Receipt = z
  .strictObject({
    receiptId: ReceiptId,
    visitId: Id,
    storeId: Id,
    exitMs: StoreClockMs,
    currency: z.string().regex(/^[A-Z]{3}$/),
    totalCents: Cents.describe('What the lines cost, before refunds.'),
    refundedCents: Cents,
    payment: z
      .enum(['pending', 'charged', 'payment-failed', 'nothing-to-charge'])
      .describe('pending: being charged; payment-failed: the card declined, tried again by policy.'),
    lines: z.array(ReceiptLineView),
    refunds: z.array(RefundStatus),
  })
  .describe('A final receipt of one of the account\'s visits.');

export const ReceiptList = z.strictObject({
  receipts: z.array(Receipt).describe('Newest first, at most 50.'),
});

export const ContestRequest = z.strictObject({
  note: z.string().trim().min(1).max(500).describe('Why the shopper contests the line, for the reviewer.'),
});

export const ContestOpened = z
  .strictObject({
    reviewId: z.string().describe('The review item: contest/<receipt>/<line>.'),
    status: z.enum(['open', 'approved', 'rejected']),
  })
  .describe('The contest is in the review queue (or was decided); asked again, the same contest.');

export const RefundList = z.strictObject({ refunds: z.array(RefundStatus) });

export type ApiError = z.infer<typeof ApiError>;
export type EntryCodeIssued = z.infer<typeof EntryCodeIssued>;
export type LiveCart = z.infer<typeof LiveCart>;
export type Receipt = z.infer<typeof Receipt>;
export type RefundStatus = z.infer<typeof RefundStatus>;
