import type { Queryable } from '../db/db.types.ts';
import { readLedger } from '../payments/local.provider.ts';
import type { ChaosVisit } from './chaos.visits.ts';
import { exitToCharge } from './checkout.repository.ts';

/**
 * What a chaos run did, read from the payment provider's own ledger (not from checkout's tables,
 * which could agree with a wrong checkout): each visit's captures against what its receipt says,
 * each refunded line's refunds, and holds nobody released.
 */
export interface ChaosScore {
  visits: number;
  /** Visits with something to pay that were captured exactly their total, once. */
  charged: number;
  /** Visits captured more than once, or more than their total. */
  chargedTwice: number;
  /** Visits with something to pay that were captured less than their total (or not at all). */
  exitedUncharged: number;
  /** Lines refunded more than once, or more than they cost. */
  refundedTwice: number;
  /** Lines meant to be refunded that were not. */
  refundsMissing: number;
  refunded: number;
  /** Visits that took nothing. */
  empty: number;
  /** Of those, the ones whose hold was voided (the others' hold was declined at entry: nothing to release). */
  emptyVoided: number;
  /** Authorisations still holding money at the end: neither captured nor voided. */
  holdsLeftOpen: number;
  declines: number;
  exitToChargeMs: Percentiles;
  /** Of those, visits that left while a checkout process was serving, and while none was (killed, or starting again). */
  exitToChargeWhileUpMs: Percentiles;
  exitToChargeWhileDownMs: Percentiles;
}

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

/** A span of store time, [fromMs, toMs). */
export interface Span {
  readonly fromMs: number;
  readonly toMs: number;
}

/** `served`: when a checkout process was up and serving (the rest of the run it was dead or starting). */
export async function scoreChaos(db: Queryable, visits: readonly ChaosVisit[], served: readonly Span[] = []): Promise<ChaosScore> {
  const ledger = await readLedger(db);
  const captures = new Map<string, number[]>();
  const refunds = new Map<string, number[]>();
  const voids = new Set<string>();
  let declines = 0;
  for (const entry of ledger) {
    if (entry.operation === 'capture') captures.set(entry.reference, [...(captures.get(entry.reference) ?? []), entry.amountCents]);
    else if (entry.operation === 'refund') refunds.set(entry.idempotencyKey, [...(refunds.get(entry.idempotencyKey) ?? []), entry.amountCents]);
    else if (entry.operation === 'void') voids.add(entry.reference);
    else if (entry.operation === 'decline') declines++;
  }
  const score = { visits: visits.length, charged: 0, chargedTwice: 0, exitedUncharged: 0, refundedTwice: 0, refundsMissing: 0, refunded: 0, empty: 0, emptyVoided: 0 };
  for (const visit of visits) {
    const taken = captures.get(visit.started.visitId) ?? [];
    const sum = taken.reduce((a, b) => a + b, 0);
    const total = visit.receipt.totalCents;
    if (taken.length > 1 || sum > total) score.chargedTwice++;
    else if (total > 0 && sum === total) score.charged++;
    if (total > 0 && sum < total) score.exitedUncharged++;
    if (total === 0) score.empty++;
    if (total === 0 && voids.has(visit.started.visitId)) score.emptyVoided++;
    if (visit.refundFirstLine) {
      const given = refunds.get(`refund/${visit.receipt.receiptId}/1`) ?? [];
      if (given.length === 0) score.refundsMissing++;
      else score.refunded++;
      if (given.length > 1 || given.reduce((a, b) => a + b, 0) > visit.receipt.lines[0].totalCents) score.refundedTwice++;
    }
  }
  const open = await db.query<{ open: number }>("SELECT count(*)::bigint AS open FROM provider_authorisations WHERE status = 'authorised'");
  const latencies = await exitToCharge(db);
  const up = (exitMs: number) => served.some((span) => exitMs >= span.fromMs && exitMs < span.toMs);
  return {
    ...score,
    holdsLeftOpen: open.rows[0].open,
    declines,
    exitToChargeMs: percentiles(latencies.map((entry) => entry.latencyMs)),
    exitToChargeWhileUpMs: percentiles(latencies.filter((entry) => up(entry.exitMs)).map((entry) => entry.latencyMs)),
    exitToChargeWhileDownMs: percentiles(latencies.filter((entry) => !up(entry.exitMs)).map((entry) => entry.latencyMs)),
  };
}

/** p50, p99 and the largest of values sorted quickest first. */
export function percentiles(sorted: readonly number[]): Percentiles {
  const at = (q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0, n: sorted.length };
}
