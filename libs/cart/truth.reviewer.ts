import { SCHEMA_VERSION, type ReviewItemOpened, type ReviewItemResolved, type ShelfEventDetected } from '../contracts/index.ts';
import { matchSharedEvents } from '../shelf/shelf.eval.ts';
import { trueVisitResolver, truthDecision, type ReceiptTruthSet } from './receipts.eval.ts';

/**
 * A reviewer for replays: each review item about a shelf event is decided as the recording's truth
 * says, `delayMs` of store time after it opened, the way an operator at the review queue would. The
 * decisions go on the bus during the run, so what follows them (the shelf's stock, what fusion
 * believes lies misplaced, the carts before their visits leave) can be measured; the receipt
 * scorer decides every item again after the run, as it always does.
 *
 * Items about no shelf event (a binding, a tailgater) are left to a person, as are items withdrawn
 * by the stage that opened them and items a shopper did whose visit the store knows by another id
 * (a tailgater's anonymous visit: the scorer finds which it is only once the run is over). An item
 * no shopper did (staff restocking, a hand resting) is dismissed, as the scorer dismisses it.
 */
export const TRUTH_REVIEWER = 'replay-truth';

export class TruthReviewer {
  private waiting: Array<{ item: ReviewItemOpened; dueMs: number }> = [];
  private readonly withdrawnIds = new Set<string>();
  private readonly trueVisitOf: ReturnType<typeof trueVisitResolver>;

  constructor(
    private readonly truth: Pick<ReceiptTruthSet, 'visits' | 'actions' | 'products'>,
    readonly delayMs: number,
  ) {
    this.trueVisitOf = trueVisitResolver(truth.visits);
  }

  /** An item opened: one about a shelf event is decided `delayMs` after it (store clock). */
  opened(item: ReviewItemOpened): void {
    if (item.shelfEventId === undefined || (item.kind !== 'attribution' && item.kind !== 'unexpected-put')) return;
    this.waiting.push({ item, dueMs: item.ts + this.delayMs });
    this.waiting.sort((a, b) => a.dueMs - b.dueMs);
  }

  /** An item its stage withdrew: nobody decides it. */
  withdrawn(reviewId: string): void {
    this.withdrawnIds.add(reviewId);
  }

  /** Whether a decision is due by `nowMs`. */
  hasDue(nowMs: number): boolean {
    return this.waiting.length > 0 && this.waiting[0].dueMs <= nowMs;
  }

  /**
   * The decisions due by `nowMs`, each dated when it fell due: the shelf events known so far are
   * matched to the true actions, and `started` says which visits the store knows by their own id.
   */
  due(nowMs: number, events: readonly ShelfEventDetected[], started: ReadonlySet<string>): ReviewItemResolved[] {
    const due = this.waiting.filter((entry) => entry.dueMs <= nowMs && !this.withdrawnIds.has(entry.item.reviewId));
    this.waiting = this.waiting.filter((entry) => entry.dueMs > nowMs);
    if (due.length === 0) return [];
    const actionsByEvent = new Map([...matchSharedEvents([...events], [...this.truth.actions], { products: this.truth.products })].map(([event, actions]) => [event.shelfEventId, actions]));
    const pipelineVisitOf = (action: Parameters<typeof this.trueVisitOf>[0]) => {
      const visitId = this.trueVisitOf(action);
      return visitId !== undefined && started.has(visitId) ? visitId : undefined;
    };
    return due.flatMap(({ item, dueMs }) => {
      const actions = actionsByEvent.get(item.shelfEventId!) ?? [];
      if (actions.some((action) => this.trueVisitOf(action) !== undefined && pipelineVisitOf(action) === undefined)) return [];
      return [
        {
          schemaVersion: SCHEMA_VERSION,
          eventId: `${TRUTH_REVIEWER}-${item.reviewId}`,
          storeId: item.storeId,
          ts: dueMs,
          reviewId: item.reviewId,
          decision: truthDecision(actions, pipelineVisitOf) ?? { outcome: 'dismissed', note: 'no shopper moved anything at this shelf event' },
          reviewer: TRUTH_REVIEWER,
        },
      ];
    });
  }
}
