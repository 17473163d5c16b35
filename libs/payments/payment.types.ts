/**
 * A card processor as checkout sees it, modelled on how real ones work:
 *
 * - `authorise` puts a hold on the shopper's card (at entry, for the store's hold amount) and answers
 *   authorised or declined. A decline is an answer, not an error: it is definitive, and remembered
 *   under its idempotency key like any answer.
 * - `capture` takes money from a hold, once, up to the amount held; the rest of the hold is released.
 *   Above the hold the processor refuses (PAYMENT_REFUSED): the caller authorises the full amount
 *   anew, captures that, and voids the old hold (see libs/checkout). A hold lasts HOLD_EXPIRY_MS (or
 *   what the processor says); captured after that, it is AUTHORISATION_EXPIRED. A capture can be
 *   declined (PAYMENT_DECLINED), which ends the authorisation. Neither moves money; either way the
 *   authorisation can no longer be captured and the caller authorises anew.
 * - `void` releases a hold nothing was taken from.
 * - `refund` gives back part or all of what a capture took, as many times as there is money left.
 *
 * Every request carries an idempotency key. The same key with the same request returns the first
 * answer (the operation happens once, whatever is retried); the same key with a different request is
 * IDEMPOTENCY_CONFLICT. Keys are kept at least IDEMPOTENCY_RETENTION_MS on the store clock.
 *
 * Failures a caller must tell apart (libs/contracts/errors.ts):
 * - PAYMENT_UNAVAILABLE: nothing happened; retry with the same key.
 * - PAYMENT_TIMEOUT: it may or may not have happened; retry with the same key (never a new one).
 * - PAYMENT_REFUSED, IDEMPOTENCY_CONFLICT: the request is wrong; retrying it cannot help.
 * - AUTHORISATION_EXPIRED, PAYMENT_DECLINED (from capture): the authorisation is over and nothing was
 *   taken; asked again with the same key and authorisation, the same answer. A new authorisation can
 *   then be captured under the same capture key: nothing was ever captured under it.
 */

/** 24 hours: keys live at least this long, so a retry within a day never moves money twice. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/** 7 days: how long a card processor keeps a card-present hold before letting it go uncaptured. */
export const HOLD_EXPIRY_MS = 7 * 24 * 60 * 60 * 1000;

export interface AuthoriseRequest {
  readonly idempotencyKey: string;
  readonly accountId: string;
  readonly amountCents: number;
  readonly currency: string;
  /** What the money is for (the visit id), kept with every movement, as processors keep metadata. */
  readonly reference: string;
}

export type AuthoriseResult =
  | { readonly outcome: 'authorised'; readonly authorisationId: string; readonly amountCents: number }
  | { readonly outcome: 'declined'; readonly reason: string };

export interface CaptureRequest {
  readonly idempotencyKey: string;
  readonly authorisationId: string;
  /** At most the amount held; 0 is not a capture (void the hold instead). */
  readonly amountCents: number;
  readonly reference: string;
}

export interface CaptureResult {
  readonly outcome: 'captured';
  readonly captureId: string;
  readonly authorisationId: string;
  readonly amountCents: number;
}

export interface VoidRequest {
  readonly idempotencyKey: string;
  readonly authorisationId: string;
  readonly reference: string;
}

export interface VoidResult {
  readonly outcome: 'voided';
  readonly authorisationId: string;
  readonly releasedCents: number;
}

export interface RefundRequest {
  readonly idempotencyKey: string;
  /** The captured authorisation to give money back from. */
  readonly authorisationId: string;
  readonly amountCents: number;
  readonly reference: string;
}

export interface RefundResult {
  readonly outcome: 'refunded';
  readonly refundId: string;
  readonly authorisationId: string;
  readonly amountCents: number;
}

export interface PaymentProvider {
  readonly name: string;
  authorise(request: AuthoriseRequest): Promise<AuthoriseResult>;
  capture(request: CaptureRequest): Promise<CaptureResult>;
  void(request: VoidRequest): Promise<VoidResult>;
  refund(request: RefundRequest): Promise<RefundResult>;
  /** Forgets idempotency keys older than the retention; returns how many went. */
  purgeExpiredKeys(): Promise<number>;
}
