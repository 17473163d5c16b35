import { SCHEMA_VERSION } from '../contracts/common.schema.ts';
import type { StoreIndex } from '../contracts/store.index.ts';
import type { ReceiptFinalised, VisitStarted } from '../contracts/visits.schema.ts';
import { createRandom } from '../sim/random.ts';

/**
 * The finished visits of a chaos run (`walkout checkout chaos`), made from a seed so the process
 * under test and the one that checks it make the same ones: one visit leaves every `spacingMs` from
 * `firstExitMs` on (store clock), some with nothing taken, some of whose first line the shopper
 * contests and gets refunded.
 */

export interface ChaosVisit {
  readonly started: VisitStarted;
  readonly receipt: ReceiptFinalised;
  /** Refund line 1 once the visit is charged (a contest approved). */
  readonly refundFirstLine: boolean;
}

export interface ChaosPlan {
  readonly visits: number;
  readonly seed: number;
  readonly firstExitMs: number;
  readonly spacingMs: number;
}

/** Share of visits that take nothing (their hold is voided). */
const EMPTY_SHARE = 0.15;
/** Share of visits whose first line is refunded. */
const REFUND_SHARE = 0.1;
const ACCOUNTS = 40;
/** A visit lasts this long before its exit, store clock, ms: short, so a run of a minute has visits in the store at every moment. */
export const CHAOS_VISIT_MS = 2_000;

export function chaosVisits(index: StoreIndex, plan: ChaosPlan): ChaosVisit[] {
  const random = createRandom(plan.seed).fork('chaos-visits');
  const products = index.store.planogram.products;
  return Array.from({ length: plan.visits }, (_, i) => {
    const visitId = `chaos-${i}`;
    const accountId = `acct-${random.int(0, ACCOUNTS - 1)}`;
    const exitMs = plan.firstExitMs + i * plan.spacingMs;
    const empty = random.chance(EMPTY_SHARE);
    const lines = empty
      ? []
      : Array.from({ length: random.int(1, 4) }, () => {
          const product = random.pick(products);
          const quantity = random.int(1, 3);
          return { productId: product.id, quantity, unitPriceCents: product.priceCents, totalCents: product.priceCents * quantity };
        });
    const base = { schemaVersion: SCHEMA_VERSION, storeId: index.store.id } as const;
    return {
      started: { ...base, eventId: `visit-started/${visitId}`, ts: exitMs - CHAOS_VISIT_MS, visitId, kind: 'shopper', accountId, partySize: 1 },
      receipt: {
        ...base,
        eventId: `receipt/${visitId}`,
        ts: exitMs,
        visitId,
        receiptId: `receipt-${visitId}`,
        accountId,
        exitMs,
        lines,
        pending: [],
        totalCents: lines.reduce((sum, line) => sum + line.totalCents, 0),
      },
      refundFirstLine: !empty && random.chance(REFUND_SHARE),
    };
  });
}
