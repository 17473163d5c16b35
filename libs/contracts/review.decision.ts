import type { CartLine } from './visits.schema.ts';

/** A decision that someone moved something; with `sharedWith`, two shoppers at once, each with their lines. */
export interface AttributedDecision {
  outcome: 'attributed';
  visitId: string;
  kind: 'pick' | 'put';
  lines: CartLine[];
  sharedWith?: Array<{ visitId: string; lines: CartLine[] }>;
}

/** The lines a decision gives one visit: its own, its share of two shoppers' change, or none. */
export function decidedLines(decision: Pick<AttributedDecision, 'visitId' | 'lines' | 'sharedWith'>, visitId: string): CartLine[] | undefined {
  return decision.visitId === visitId ? decision.lines : decision.sharedWith?.find((share) => share.visitId === visitId)?.lines;
}

/** Every visit a decision gives lines to. */
export function decidedVisits(decision: Pick<AttributedDecision, 'visitId' | 'sharedWith'>): string[] {
  return [decision.visitId, ...(decision.sharedWith ?? []).map((share) => share.visitId)];
}
