import { createHash } from 'node:crypto';
import type { CartLine } from './visits.schema.ts';

/** A decision that someone moved something; with `sharedWith`, two shoppers at once, each with their lines. */
export interface AttributedDecision {
  outcome: 'attributed';
  visitId: string;
  kind: 'pick' | 'put';
  lines: CartLine[];
  /** The other visits' parts; a part's own kind when that visit did otherwise (a put and a pick netted into one change). */
  sharedWith?: Array<{ visitId: string; lines: CartLine[]; kind?: 'pick' | 'put' }>;
}

/** What a decision gives one visit: its own lines and kind, its part of two shoppers' change, or none. */
export function decidedShare(
  decision: Pick<AttributedDecision, 'visitId' | 'kind' | 'lines' | 'sharedWith'>,
  visitId: string,
): { kind: 'pick' | 'put'; lines: CartLine[] } | undefined {
  if (decision.visitId === visitId) return { kind: decision.kind, lines: decision.lines };
  const share = decision.sharedWith?.find((other) => other.visitId === visitId);
  return share && { kind: share.kind ?? decision.kind, lines: share.lines };
}

/** Every visit a decision gives lines to. */
export function decidedVisits(decision: Pick<AttributedDecision, 'visitId' | 'sharedWith'>): string[] {
  return [decision.visitId, ...(decision.sharedWith ?? []).map((share) => share.visitId)];
}

/**
 * The event id of a stage's withdrawal of a review item: `<review id>-withdrawn`, or a hash of the
 * review id where that would pass the 160 characters an id may have. The same item withdrawn again
 * (a redelivery, a restart) gets the same id.
 */
export function withdrawalEventId(reviewId: string): string {
  const eventId = `${reviewId}-withdrawn`;
  return eventId.length <= 160 ? eventId : `withdrawn-${createHash('sha1').update(reviewId).digest('hex').slice(0, 16)}`;
}
