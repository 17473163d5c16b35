import { z } from 'zod';
import { Id, SCHEMA_VERSION, StoreClockMs } from './common.schema.ts';

/**
 * Everything after the sensors: visits (who is in the store, on which tracks), attributions (who
 * took what), the review queue (what nobody decided) and carts and receipts. Every message here is
 * keyed by visit id on the bus, except review items, keyed by their own id. Ids are derived from
 * what the message is (the visit, the shelf event, the track), so a replay or a restart names the
 * same thing the same way and every consumer dedupes on `eventId`.
 */

export const eventBase = {
  schemaVersion: z.literal(SCHEMA_VERSION).describe('Version of the event schema.'),
  eventId: z.string().min(1).max(160).describe('Unique id of this event, derived from what it is; consumers dedupe on it.'),
  storeId: Id.describe('The store the event happened in.'),
  ts: StoreClockMs.describe('When it happened, store clock, ms.'),
};

export const VisitKind = z
  .enum(['shopper', 'staff', 'anonymous'])
  .describe('shopper: opened by a verified QR scan and charged; staff: through the staff door, never charged; anonymous: came in without a scan (tailgating), flagged for the operator.');

export const VisitStarted = z
  .strictObject({
    ...eventBase,
    visitId: Id,
    kind: VisitKind,
    accountId: Id.optional().describe('The paying account; absent for staff and anonymous visits.'),
    partySize: z.number().int().min(1).max(20).describe('People this visit covers (one payer and companions).'),
    gateId: Id.optional(),
  })
  .describe('A visit began: a scan at the entry gate, the staff door, or someone who came in without a scan.');

export const VisitTrackBound = z
  .strictObject({
    ...eventBase,
    visitId: Id,
    trackId: Id.describe('The tracker track that is now one of this visit\'s people.'),
    member: z.number().int().nonnegative().describe('Which member of the party: 0 is the payer, then companions in the order they came in.'),
    reason: z
      .enum(['entry', 'relinked', 'reviewed'])
      .describe(
        'entry: the track came in through the gate for this visit; relinked: a new track continues one that was lost inside the store; reviewed: a reviewer decided a doubtful binding (a `bound` decision), and this message replaces the track\'s earlier binding.',
      ),
    replaces: Id.optional().describe('For a relink: the lost track this one continues (its doubt, if any, carries over). Absent on a reviewed binding, which stands on its own.'),
    doubt: z.string().optional().describe('Why the binding may be wrong (two people at the gate at once, a long gap before a relink); the operator sees it.'),
  })
  .describe('A track belongs to a visit from now on.');

export const VisitEnded = z
  .strictObject({
    ...eventBase,
    visitId: Id,
    exitMs: StoreClockMs.describe('When the last of the party left through the exit (or the staff door).'),
    confirmedByGate: z.boolean().describe('An exit gate.opened matched the departure.'),
  })
  .describe('Everyone of a visit has left the store.');

export const CartLine = z.strictObject({
  productId: Id,
  quantity: z.number().int().positive(),
});

/** Another visit's part of one shelf change (two shoppers at one lane at once). */
export const SharedLines = z.strictObject({
  visitId: Id,
  lines: z.array(CartLine).min(1),
  kind: z
    .enum(['pick', 'put'])
    .optional()
    .describe(
      "What this visit did, when it is not what the message's own kind says: one shopper put something back while another took something from the same plates at once, and the plates weighed only the difference.",
    ),
});

export const AttributionCandidate = z.strictObject({
  visitId: Id.nullable().describe('The visit of the track; null for a track bound to no visit yet.'),
  trackId: Id,
  probability: z.number().min(0).max(1).describe('Probability that this person did it.'),
  distanceM: z.number().nonnegative().describe('Closest wrist to the lane box during the weight change, metres.'),
});

export const EventAttributed = z
  .strictObject({
    ...eventBase,
    shelfEventId: z.string().min(1),
    visitId: Id,
    visitKind: VisitKind,
    trackId: Id.optional(),
    kind: z.enum(['pick', 'put']),
    lines: z.array(CartLine).min(1).describe('What moved: products and units (added to the cart on a pick, removed on a put).'),
    sharedWith: z
      .array(SharedLines)
      .optional()
      .describe('Two shoppers at one lane at once: the other visits that moved part of the same change, each attributed in a message of its own.'),
    laneIds: z.array(Id).describe('Where it moved.'),
    changeStartMs: StoreClockMs.optional().describe(
      "When the shelf change began (store clock): a cart folds a pick there (the unit is off the shelf from its lift's start), a put at `changeEndMs`; absent on older messages, which fold both at `changeEndMs`.",
    ),
    changeEndMs: StoreClockMs.optional().describe(
      "When the shelf change ended (store clock): where a cart folds it among the visit's other changes. `ts` is when it was decided, which may be seconds later (fusion waits for evidence); absent on older messages, which fold at `ts`.",
    ),
    misplaced: z.boolean().describe('A put on a lane that does not hold that product: the shelf now holds a misplaced item.'),
    confidence: z.number().min(0).max(1).describe('Probability that this (visit, lines) is right; calibrated.'),
    candidates: z.array(AttributionCandidate).describe('Everyone considered, most likely first.'),
    source: z.enum(['fusion', 'review']).describe('Decided by fusion, or by a person resolving a review item.'),
  })
  .describe('Fusion decided who moved what at a shelf.');

export const ReviewEvidence = z.strictObject({
  candidates: z.array(
    AttributionCandidate.extend({
      handDistances: z
        .array(z.tuple([StoreClockMs, z.number().nonnegative()]))
        .describe('[store-clock ms, metres]: the candidate\'s nearer wrist to the lane box over the event.'),
    }),
  ),
  hypotheses: z.array(z.strictObject({ productId: Id, quantity: z.number().int().positive(), probability: z.number().min(0).max(1) })),
  weight: z
    .strictObject({ shelfId: Id, plateIds: z.array(Id), startMs: StoreClockMs, endMs: StoreClockMs, deltaGrams: z.number() })
    .describe('Where to read the weight trace: the shelf, its plates and the span of the change.'),
  frames: z.array(z.strictObject({ cameraId: Id, ts: StoreClockMs })).describe('Camera frames to look at.'),
});

export const ReviewItemOpened = z
  .strictObject({
    ...eventBase,
    reviewId: z.string().min(1).max(160),
    kind: z.enum(['attribution', 'unexpected-put', 'binding', 'tailgating', 'contest']),
    reason: z.string().describe('Why no decision was made, for the reviewer.'),
    shelfEventId: z.string().min(1).optional(),
    visitIds: z.array(Id).describe('Visits whose receipts wait for this item (a pending line each).'),
    change: z.enum(['pick', 'put']).optional(),
    trackId: Id.optional().describe('Kind binding: the track whose binding is in doubt; a `bound` decision names it.'),
    followsReviewId: z
      .string()
      .min(1)
      .max(160)
      .optional()
      .describe(
        'An item another item\'s decision answers: a pick, or a put of what the visit holds, sure but for whose visit it is, made through a track whose gate binding is in doubt, follows that binding item. Once the binding is decided, the stage that opened this item decides it (reviewer `fusion`) for the visit the track is on (a put only when that is the visit it was weighed for, by what that visit held); a person may still decide it first.',
      ),
    evidence: ReviewEvidence.optional(),
    contest: z
      .strictObject({
        visitId: Id,
        receiptId: z.string().min(1),
        lineNo: z.number().int().min(1),
        accountId: Id.optional().describe('The account that paid for the visit and contests the line.'),
      })
      .optional()
      .describe('Kind contest: whose receipt line it is. visitIds stays empty, since no receipt waits for a contest.'),
  })
  .describe('Something a person must decide: who took an item, a put of something nobody held, a doubtful gate binding (kind binding, decided bound), a receipt line the shopper contests (kind contest, reviewId contest/<receipt>/<line>, decided approved or rejected).');

export const ReviewItemResolved = z
  .strictObject({
    ...eventBase,
    reviewId: z.string().min(1).max(160),
    decision: z.discriminatedUnion('outcome', [
      z.strictObject({
        outcome: z.literal('attributed'),
        visitId: Id,
        lines: z.array(CartLine).min(1),
        kind: z.enum(['pick', 'put']),
        sharedWith: z.array(SharedLines).optional().describe('Two shoppers at once: the other visits and what each of them moved.'),
      }),
      z.strictObject({ outcome: z.literal('dismissed'), note: z.string() }),
      z
        .strictObject({
          outcome: z.literal('bound'),
          visitId: Id.describe('The visit the person on the track belongs to.'),
          trackId: Id.describe('The track the item is about (or one that continues it).'),
        })
        .describe('A binding item decided: the person on this track belongs to this visit. The gate rebinds the track if needed and lifts the doubt; no cart line changes.'),
      z.strictObject({ outcome: z.literal('approved'), note: z.string() }).describe('A contest upheld: the contested line is refunded.'),
      z.strictObject({ outcome: z.literal('rejected'), note: z.string() }).describe('A contest turned down: the line stays charged.'),
      z
        .strictObject({
          outcome: z.literal('withdrawn'),
          note: z.string().describe('Why nobody needs to decide it any more, for the operator.'),
          settledBy: z
            .string()
            .min(1)
            .max(160)
            .describe('What answered it: the review item whose decision answered this one too (gate), or the shelf event whose decision did (fusion).'),
        })
        .describe(
          'Nobody decided this item: the stage that opened it closed it, because a decision on something else answered it. The gate: the other binding of a pair, once the reviewer placed one of them. Fusion: a pick in review whose shopper put the unit back, so that the pick and the put-back, decided together, cancel out whichever product it was. The item leaves the queue and is counted apart from decisions; what the item was about changes only by the decision that answered it.',
        ),
    ]),
    reviewer: z
      .string()
      .min(1)
      .describe('Who decided: a person\'s id; for a withdrawn item, the stage that withdrew it (`gate` or `fusion`); for an item another decision answered (followsReviewId), the stage that opened it (`fusion`).'),
  })
  .describe('A reviewer decided an item, or the stage that opened it withdrew it (outcome withdrawn).');

export const ReviewDecisionRefused = z
  .strictObject({
    ...eventBase,
    reviewId: z.string().min(1).max(160),
    decisionEventId: z.string().min(1).max(160).describe('The `review.item-resolved` (its event id) that was not applied.'),
    refusedBy: z.enum(['gate']).describe('The stage that opened the item and could not apply the decision.'),
    why: z
      .enum(['refused', 'after-exit'])
      .describe(
        'refused: the decision does not hold together (a track the item is not about, a visit with no place in the doubt, a lost track moved); after-exit: it would move someone into or out of a visit that has ended, whose receipt is final.',
      ),
    reason: z.string().describe('What stood in the way, and where the correction lies, for the operator.'),
  })
  .describe('A reviewer\'s decision that the stage which opened the item did not apply: nothing changed. The operator may decide the item again.');

export const VisitSettled = z
  .strictObject({
    ...eventBase,
    visitId: Id,
    exitMs: StoreClockMs,
    shelfEventIds: z.array(z.string().min(1)).describe('Every shelf event fusion attributed to this visit, up to its exit.'),
    reviewIds: z.array(z.string().min(1)).describe('Review items still open that name this visit.'),
    withdrawnReviewIds: z
      .array(z.string().min(1))
      .optional()
      .describe('Review items fusion opened naming this visit and withdrew since: its receipt waits until their withdrawals are seen, so that it lists no line pending on them.'),
  })
  .describe('Fusion has settled every shelf event up to this visit\'s exit: the receipt can be finalised.');

export const ReceiptLine = z.strictObject({
  productId: Id,
  quantity: z.number().int().positive(),
  unitPriceCents: z.number().int().nonnegative(),
  totalCents: z.number().int().nonnegative(),
});

export const CartUpdated = z
  .strictObject({
    ...eventBase,
    visitId: Id,
    version: z.number().int().positive().describe('Cart events applied so far; a higher version is newer.'),
    lines: z.array(ReceiptLine),
    pendingReviewIds: z.array(z.string()).describe('Review items this cart waits for.'),
    totalCents: z.number().int().nonnegative(),
    appliedShelfEventId: z
      .string()
      .min(1)
      .optional()
      .describe('The shelf event whose attribution (or review decision) this version applied, added, replaced or took away; absent when only a pending line changed.'),
  })
  .describe('A visit\'s cart as it stands now (the read model), after an item was added or removed.');

export const ReceiptFinalised = z
  .strictObject({
    ...eventBase,
    visitId: Id,
    receiptId: z.string().min(1),
    accountId: Id.optional(),
    exitMs: StoreClockMs,
    lines: z.array(ReceiptLine),
    pending: z
      .array(z.strictObject({ reviewId: z.string(), shelfEventId: z.string().optional(), candidates: z.array(CartLine) }))
      .describe('Lines that wait for review: what may be added once a person decides.'),
    totalCents: z.number().int().nonnegative().describe('Sum of the decided lines, minor units.'),
  })
  .describe('The final receipt of a visit that left: what to charge.');

export type VisitKind = z.infer<typeof VisitKind>;
export type VisitStarted = z.infer<typeof VisitStarted>;
export type VisitTrackBound = z.infer<typeof VisitTrackBound>;
export type VisitEnded = z.infer<typeof VisitEnded>;
export type CartLine = z.infer<typeof CartLine>;
export type AttributionCandidate = z.infer<typeof AttributionCandidate>;
export type EventAttributed = z.infer<typeof EventAttributed>;
export type ReviewEvidence = z.infer<typeof ReviewEvidence>;
export type ReviewItemOpened = z.infer<typeof ReviewItemOpened>;
export type ReviewItemResolved = z.infer<typeof ReviewItemResolved>;
export type ReviewDecisionRefused = z.infer<typeof ReviewDecisionRefused>;
export type VisitSettled = z.infer<typeof VisitSettled>;
export type ReceiptLine = z.infer<typeof ReceiptLine>;
export type CartUpdated = z.infer<typeof CartUpdated>;
export type ReceiptFinalised = z.infer<typeof ReceiptFinalised>;
