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
