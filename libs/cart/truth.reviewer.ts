import { SCHEMA_VERSION, type ReviewItemOpened, type ReviewItemResolved, type ShelfEventDetected } from '../contracts/index.ts';
import { matchSharedEvents } from '../shelf/shelf.eval.ts';
import { trueVisitOfPerson, trueVisitResolver, truthDecision, type ReceiptTruthSet } from './receipts.eval.ts';

/**
 * A reviewer for replays: each review item about a shelf event is decided as the recording's truth
 * says, `delayMs` of store time after it opened, the way an operator at the review queue would. The
 * decisions go on the bus during the run, so what follows them (the shelf's stock, what fusion
 * believes lies misplaced, the carts before their visits leave) can be measured; the receipt
 * scorer decides every item again after the run, as it always does.
 *
 * A gate binding in doubt is decided too when its track is one of the true skeletons' (`--people
 * truth`: `truth-<person>`, or `truth-<person>-<n>` after a break), for the visit the store knows
 * that person by. Other items about no shelf event (a binding of a camera track, a tailgater) are
 * left to a person, as are items the stage that opened them withdrew or answered from another
 * decision, and items a shopper did whose visit the store knows by another id (a tailgater's
 * anonymous visit: the scorer finds which it is only once the run is over). An item no shopper did
 * (staff restocking, a hand resting) is dismissed, as the scorer dismisses it.
 */
export const TRUTH_REVIEWER = 'replay-truth';

export class TruthReviewer {
  private waiting: Array<{ item: ReviewItemOpened; dueMs: number }> = [];
  private readonly withdrawnIds = new Set<string>();
  private readonly trueVisitOf: ReturnType<typeof trueVisitResolver>;
  /** The true visit of each person of the truth. */
  private readonly visitOfPerson: Map<string, string>;

  constructor(
    private readonly truth: Pick<ReceiptTruthSet, 'visits' | 'actions' | 'products'>,
    readonly delayMs: number,
  ) {
    this.trueVisitOf = trueVisitResolver(truth.visits);
    this.visitOfPerson = trueVisitOfPerson(truth.visits);
  }

  /** An item opened: one about a shelf event, or a binding of a true skeleton's track, is decided `delayMs` after it (store clock). */
  opened(item: ReviewItemOpened): void {
    const aboutShelf = item.shelfEventId !== undefined && (item.kind === 'attribution' || item.kind === 'unexpected-put');
    const aboutTruthTrack = item.kind === 'binding' && item.trackId !== undefined && this.personOfTrack(item.trackId) !== undefined;
    if (!aboutShelf && !aboutTruthTrack) return;
    this.waiting.push({ item, dueMs: item.ts + this.delayMs });
    this.waiting.sort((a, b) => a.dueMs - b.dueMs);
  }

  /** An item its stage withdrew, or answered from another decision: nobody decides it. */
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
      if (item.kind === 'binding') return this.bindingDecision(item, dueMs, started);
      const actions = actionsByEvent.get(item.shelfEventId!) ?? [];
      if (actions.some((action) => this.trueVisitOf(action) !== undefined && pipelineVisitOf(action) === undefined)) return [];
      return [decided(item, dueMs, truthDecision(actions, pipelineVisitOf) ?? { outcome: 'dismissed', note: 'no shopper moved anything at this shelf event' })];
    });
  }

  /**
   * The person a track of the true skeletons is (`truth-<person>`, or `truth-<person>-<n>` after a
   * break), among the truth's people; undefined for any other track (a camera's).
   */
  private personOfTrack(trackId: string): string | undefined {
    const m = /^truth-(.+?)(?:-(\d+))?$/.exec(trackId);
    if (!m) return undefined;
    const whole = trackId.slice('truth-'.length);
    if (this.visitOfPerson.has(whole)) return whole;
    return m[2] !== undefined && this.visitOfPerson.has(m[1]) ? m[1] : undefined;
  }

  /** A binding item decided as the truth says: the track's person is on their own visit, when the store knows it by that id. */
  private bindingDecision(item: ReviewItemOpened, dueMs: number, started: ReadonlySet<string>): ReviewItemResolved[] {
    const personId = this.personOfTrack(item.trackId!);
    const visitId = personId === undefined ? undefined : this.visitOfPerson.get(personId);
    if (visitId === undefined || !started.has(visitId)) return [];
    return [decided(item, dueMs, { outcome: 'bound', visitId, trackId: item.trackId! })];
  }
}

/** The replay reviewer's decision of an item, dated when it fell due. */
function decided(item: ReviewItemOpened, dueMs: number, decision: ReviewItemResolved['decision']): ReviewItemResolved {
  return { schemaVersion: SCHEMA_VERSION, eventId: `${TRUTH_REVIEWER}-${item.reviewId}`, storeId: item.storeId, ts: dueMs, reviewId: item.reviewId, decision, reviewer: TRUTH_REVIEWER };
}
