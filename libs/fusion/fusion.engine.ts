import {
  plateShares,
  SCHEMA_VERSION,
  type AttributionCandidate,
  type Box3,
  type CartUpdated,
  type ChangeReexplained,
  type DeviceHealthReported,
  type EventAttributed,
  type JointExplanation,
  type PeopleTracked,
  type ProductHypothesis,
  type ReviewEvidence,
  type ReviewItemOpened,
  type ReviewItemResolved,
  type ShelfEventDetected,
  type StoreIndex,
  type Vec3,
  type VisitEnded,
  type VisitKind,
  type VisitSettled,
  type VisitStarted,
  type VisitTrackBound,
  withdrawalEventId,
} from '../contracts/index.ts';
import { inImage, projectPoint } from '../geometry/camera.ts';
import { calibrate, changeMsOf, expectedCarry, holdShare, jointOptions, movedBy, nettedShare, readingFit, sharesOf, situationOf, UNITS_IN_ONE_GRAB, unitsOf, whatHypotheses, whoProbabilities, whosOf, type AttributionParams, type JointOption, type MeasuredUnit, type WhatContext, type Who } from './attribution.model.ts';
import { CONTACT_SLACK_MS, EVIDENCE_AFTER_MS, EVIDENCE_BEFORE_MS, HandHistory, HISTORY_MS, IN_LANE_M, PROFILE_OFFSETS_MS, type HandEvidence } from './hand.evidence.ts';
import { NETTED_MIN_GRAMS, nettedReadings, type NettedHand, type NettedReading } from './netted.reading.ts';
import fittedParams from './attribution.params.json' with { type: 'json' };
import { SHARE_SD } from '../shelf/hypothesis.model.ts';

/**
 * Attribution: who picked up or put back what at each shelf event, and how sure. A pure engine (no
 * bus, no clock): each input returns the messages it leads to, in order. Time is the store clock of
 * the messages themselves.
 *
 * An event waits until the people stream has passed its end by EVIDENCE_AFTER_MS (the watermark): the
 * hands withdrawing after the change are part of the evidence. While a camera is reported dead or
 * offline the tracker may stall, so the other streams' time (shelf events, health reports) counts too.
 *
 * Then it is decided (`fusion.event-attributed`) when the calibrated confidence of its best (visit,
 * product, quantity) reaches `decideAbove`, and that visit is a visit (a track bound to no visit is
 * never charged silently) that holds what it puts back (or is staff restocking). Otherwise it goes to
 * review (`review.item-opened`, kind `attribution`, or `unexpected-put` for a put of something the
 * likeliest visit never took) with each candidate's hand distances, the weight span and the cameras
 * to look at. Nothing is guessed silently. A pick in review that its shopper's put-back of the unit
 * answers is decided with the put, and its review withdrawn (answeredPick).
 *
 * A visit is settled (`fusion.visit-settled`) once it has ended, the people stream is past its exit by
 * SHELF_EVENT_WAIT_MS (every shelf event starting before the exit has arrived by then) and none of
 * those events is still waiting.
 */

/** A shelf event is published at most this long (store time) after the exit of anyone who made it, ms. */
export const SHELF_EVENT_WAIT_MS = 10_000;
/** A review names the visits at least this likely to have done it (their receipts wait for it). */
export const REVIEW_MENTION_PROBABILITY = 0.05;
/** Settled shelf event ids are remembered this long (store time) after the event, to drop redeliveries, ms. */
export const SETTLED_MEMORY_MS = 15 * 60_000;
/**
 * A shelf event in review is remembered this long (store time) after it, for its decision to follow
 * into the stock: as long as the shelf keeps an event's stock move for a re-reading (REREAD_KEEP_MS
 * in libs/shelf), ms.
 */
export const DECISION_MEMORY_MS = 30 * 60_000;
/**
 * A settled visit (with its tracks, their doubts and its entanglements) is forgotten this long
 * (store time) after its exit: by then nothing about it can still arrive from shelves or cameras,
 * and a store open all day keeps only the visits of the last stretch, ms.
 */
export const VISIT_MEMORY_MS = 15 * 60_000;
/**
 * A person attributed a change of the same kind on the same lanes less than this long before (store
 * time, ms) is scored as reaching there again (`reusedReach`): the shelf splits one hand's grab of
 * two products from one lane into two events. A reach out and back takes about two seconds, so two
 * separate picks by one hand are further apart than this. A change on other lanes at the same moment
 * gets no such score: there it was nearly always another shopper's hand.
 */
export const REACH_REUSE_MS = 1_200;
/**
 * Two takes of one product from one lane, of the same kind (two picks, two puts), starting this close
 * (store time, ms), are twins. When fusion doubts which of two people made one of them and has
 * decided the other for one of the two, the doubtful one is weighed again: see TWIN_SAME_DOER.
 */
export const TWIN_MS = 3_000;
/**
 * Likelihood factor of a twin's doer having made the doubtful take too. Two people reaching into one
 * lane take one each: on 23 hard training runs (seeds 6-10, 26-43) every one of 12 twins with someone
 * else's hand there too was two people's (one person's twins, 24 of them, had nobody else near).
 * (0 + 1) / (12 + 2) rounded, not zero: one shopper may take two in two lifts with another hand by.
 */
export const TWIN_SAME_DOER = 0.07;
/**
 * How long a doubtful take waits for its twin to be decided, past TWIN_MS after its start: the
 * twin's own change and the evidence after it, ms.
 */
export const TWIN_WAIT_MS = TWIN_MS + 2 * EVIDENCE_AFTER_MS;
/**
 * A hand that comes to rest on a plate as another shopper's item leaves it makes the item's pick
 * weigh less than the item, so that no product explains it; the hand's lift later comes as small
 * picks on the same plates. A pick no product explains waits this long after it ends (store time,
 * ms) for such pieces; if its weight and theirs together are an item on its lanes, fusion reads them
 * as that item's pick (see settleAwaitingPieces).
 */
export const PIECES_WAIT_MS = 3_000;
/** How far (standard deviations) a pick and its pieces may weigh from a whole number of units to be read as them. */
export const PIECES_FIT_SD = 3;
/** A change no product explains and smaller than this share of the lightest item that could have moved is not an item. */
export const NOT_AN_ITEM_SHARE = 0.5;
/** Candidates listed in an attribution or a review, most likely first. */
const MAX_CANDIDATES_LISTED = 8;
/**
 * A hand resting on a plate weighs like a small put, and lifting it like a small pick. A put nobody
 * near the shelf carries, whose hand is still in the lane when the evidence ends, waits this long
 * (store time, ms) for the same hand's pick of the same weight: the two together are no item.
 */
export const HAND_REST_WAIT_MS = 15_000;
/**
 * A put's maker whose wrist is still this close to the lanes when its evidence ends may be resting
 * there, metres: a hand laid on the shelf's lip or on the items, the forearm on the edge, leaves the
 * wrist further out than a hand reaching in (IN_LANE_M).
 */
export const RESTING_HAND_M = 0.2;
/**
 * A put of nothing any shopper there holds whose maker's wrist is still this close may be a hand
 * leaning on the items, metres: nothing it could be put back, so it too waits for a lift.
 */
export const LEANING_HAND_M = 0.3;
/**
 * A put of what its putter never took may be of an item handed to them: the visits holding that
 * product whose wrists met the putter's within this distance (HISTORY_MS back at most) are named on
 * its review, so their receipts wait for it. The store's rule keeps a handed item on the receipt
 * of the visit that took it off the shelf, so a put-back by its receiver takes it off that one.
 */
export const HAND_OFF_M = 0.25;
/**
 * A put of what its likeliest putter never took may be the put-back of a shopper beside them who
 * holds that product, their hand on the next lane of the same plate (the shelf cannot always tell
 * lanes on one plate apart): the visits holding the product whose wrist came this close to the
 * lanes at the change are named on its review too, metres.
 */
export const HOLDER_BESIDE_M = 0.3;
/** A waiting put is decided once its hand has been out of the lanes this long (no lift can come). */
export const REST_GONE_MS = 3_000;
/** The lift matches the rest within this many standard deviations of the two changes, plus HAND_REST_SLACK_GRAMS. */
const HAND_REST_SIGMAS = 3;
const HAND_REST_SLACK_GRAMS = 4;
/** A reviewed put's product at least this likely is kept as possibly misplaced on its plates. */
export const MAYBE_MISPLACED_MIN = 0.1;
/** A misplaced item believed on a plate by less than this many units is forgotten. */
const MISPLACED_GONE_UNITS = 0.05;
/** The most unit weights kept per product of a visit or a plate (see WhatContext.measured): the latest. */
const MEASURED_KEPT = 4;
/**
 * Units of a product a shopper may hold besides a pick in review before a put-back of it can no
 * longer be told to be that pick's very unit (see answeredPick).
 */
const HELD_BESIDE_UNITS = 0.05;

/** How long a visit's gains are kept (VisitState.gains): longer than any event waits to be settled. */
const GAINS_KEPT_MS = 60_000;

export const DEFAULT_PARAMS: Readonly<AttributionParams> = Object.freeze(fittedParams.params as AttributionParams);

export type FusionOutput =
  | { topic: 'fusion.event-attributed'; message: EventAttributed }
  | { topic: 'fusion.change-reexplained'; message: ChangeReexplained }
  | { topic: 'review.item-opened'; message: ReviewItemOpened }
  | { topic: 'review.item-resolved'; message: ReviewItemResolved }
  | { topic: 'fusion.visit-settled'; message: VisitSettled };

/** Who withdraws a review item fusion opened (`review.item-resolved`, outcome withdrawn). */
export const FUSION_STAGE = 'fusion';

/** Which lanes a reading moves, and which way: readings alike in this differ only in what moved. */
function whereOf(explanation: JointExplanation): string {
  return explanation.items
    .map((item) => `${item.kind} ${item.laneId}`)
    .sort()
    .join(', ');
}

const sum = (values: readonly number[]) => values.reduce((total, v) => total + v, 0);

/**
 * Whether two shelf events are items of one change: the shelf gives each item of a change of several
 * the same whole explanations, and ends them together. (Their starts may differ: the shelf dates each
 * from its own plates' first movement.) Events without explanations are one change when they start
 * and end together.
 */
function sameChange(a: ShelfEventDetected, b: ShelfEventDetected): boolean {
  if (a.shelfId !== b.shelfId || a.endMs !== b.endMs) return false;
  if (a.explanations === undefined || b.explanations === undefined) return a.explanations === b.explanations && a.startMs === b.startMs;
  return JSON.stringify(a.explanations) === JSON.stringify(b.explanations);
}

/**
 * The changes as fusion settled them: the shelf's events, with those of each change fusion read
 * otherwise (`fusion.change-reexplained`) replaced by its reading, in store-clock order of their ends.
 */
export function settledChanges(shelfEvents: readonly ShelfEventDetected[], reexplained: readonly ChangeReexplained[]): ShelfEventDetected[] {
  // A reviewer's decision, or fusion's own, sent to the shelf leaves the event it names as it was.
  const readings = reexplained.filter((change) => change.review === undefined && change.attributed === undefined);
  const replaced = new Set(readings.flatMap((change) => change.replaces));
  return [...shelfEvents.filter((event) => !replaced.has(event.shelfEventId)), ...readings.flatMap((change) => change.events)].sort((a, b) => a.endMs - b.endMs);
}

export interface FusionEngineOptions {
  index: StoreIndex;
  params?: AttributionParams;
  /** Called with every settled event's candidates and joint options (for fitting and measuring). */
  onSettled?: (record: SettledRecord) => void;
}

/** What one settled event looked like to the engine: for the fit and the evaluation, not for the bus. */
export interface SettledRecord {
  event: ShelfEventDetected;
  evidence: Array<HandEvidence & { visitId: string | null; reused: boolean }>;
  options: JointOption[];
  /** What its hypotheses were weighed with (so a fit can weigh them again); none for an unexplained change. */
  whatContext?: WhatContext;
  confidence: number;
  outcome: 'attributed' | 'review' | 'unexpected-put' | 'unexplained' | 'not-an-item';
  /** Readings of the change as a put and a pick by two shoppers at once that fit its weight (see netted.reading.ts). */
  netted?: NettedReading[];
}

/** Who and what of a change, as fusion weighed them (see FusionEngine.weigh). */
interface Weighed {
  event: ShelfEventDetected;
  evidence: SettledRecord['evidence'];
  who: { people: number[]; unseen: number };
  candidates: AttributionCandidate[];
  whos: Who[];
  whatContext?: WhatContext;
  options: JointOption[];
  best?: JointOption;
  confidence: number;
}

/** A pick or put in review only because its track's gate binding is in doubt (see answerFollowers). */
interface Follower {
  trackId: string;
  kind: 'pick' | 'put';
  /** The visit the track was on when the change was weighed: a put was weighed by what it holds. */
  visitId: string;
  /** What the change moved, as it would have been attributed. */
  lines: Array<{ productId: string; quantity: number }>;
}

/** A put that may be a hand resting on a plate, waiting for the hand to lift off. */
interface RestingHand {
  event: ShelfEventDetected;
  trackId: string;
  untilMs: number;
  /** Smaller picks by the same hand on the same plates since: a lift the detector saw in pieces, until they add up. */
  lifts: ShelfEventDetected[];
  /** How near the lanes the hand counts as still there, metres (RESTING_HAND_M, or LEANING_HAND_M for a put nobody there could make). */
  withinM: number;
}

interface VisitState {
  kind: VisitKind;
  exitMs?: number;
  settled: boolean;
  attributed: Set<string>;
  reviews: Set<string>;
  /** Review items fusion opened naming it and withdrew since (see answeredPick). */
  withdrawn: Set<string>;
  /** What fusion attributed (picks less puts) and the cart's last word, per product. */
  ledger: Map<string, number>;
  /**
   * What picks sent to review may have added, in expected units (each product the visit was an
   * option for, by that option's share): a person may put back what their pending pick took, which
   * is no unexpected put.
   */
  pending: Map<string, number>;
  /** What the visit took last, whoever of its people took it. */
  hand: Hand;
  /**
   * What each of its tracks took last: a group's members each have a hand of their own, and a
   * put-back is of what the putter's hand took, not of what a companion took since.
   */
  hands: Map<string, Hand>;
  cart: { version: number; lines: Map<string, number> } | null;
  /** The weights of single units its picks (decided, or in review for each option) measured, per product, the latest MEASURED_KEPT. */
  measured: Map<string, MeasuredUnit[]>;
  /**
   * What its picks (decided, or in review in expected units) added and its decided puts took away
   * (negative units), and when their changes began, the last GAINS_KEPT_MS: an event settled late (a
   * put that waited as a resting hand) is weighed with what the visit held when it began, not with
   * what it took or put back since.
   */
  gains: Array<{ startMs: number; productId: string; units: number }>;
}

/** What a hand took last. */
interface Hand {
  /** The products of its latest pick (all its options when that pick went to review) not put back since; replaced, never changed in place. */
  latestPicked: ReadonlySet<string>;
  /** Where and when that pick's change began: the shelf's events of one grab begin together. */
  latestPickAt?: { shelfId: string; startMs: number };
  /** What it held before that pick (one pick back), for an event settled late that began before it. */
  before?: Hand;
}

/** A shelf event in review: what fusion kept it moved (mayBeMisplaced, by product: units put, or taken away for a pick) and what its review added to the visits it named. */
interface InReview {
  event: ShelfEventDetected;
  believed: Map<string, number>;
  held: OpenPick['held'];
}

/** What a decision says moved at its shelf event: units of a product, picked or put, over every visit it names. */
interface DecidedMove {
  kind: 'pick' | 'put';
  productId: string;
  quantity: number;
}

/** The moves of an attributed decision: each visit's lines (of the decision's kind unless the share names its own), summed by kind and product. */
function decidedMoves(decision: Extract<ReviewItemResolved['decision'], { outcome: 'attributed' }>): DecidedMove[] {
  const moves = new Map<string, DecidedMove>();
  const add = (kind: 'pick' | 'put', lines: ReadonlyArray<{ productId: string; quantity: number }>) => {
    for (const { productId, quantity } of lines) {
      const key = `${kind} ${productId}`;
      const move = moves.get(key) ?? { kind, productId, quantity: 0 };
      move.quantity += quantity;
      moves.set(key, move);
    }
  };
  add(decision.kind, decision.lines);
  for (const share of decision.sharedWith ?? []) add(share.kind ?? decision.kind, share.lines);
  return [...moves.values()];
}

/**
 * A pick fusion sent to review, while nobody has decided it: a put-back of its very unit by the
 * shopper it names may answer it (see answeredPick).
 */
interface OpenPick {
  event: ShelfEventDetected;
  options: JointOption[];
  candidates: AttributionCandidate[];
  visitIds: string[];
  /** What its review added to each named visit's holdings, in expected units (pending, gains). */
  held: Array<{ visitId: string; productId: string; units: number }>;
  /** The products each named visit was given the pick's measured unit of. */
  measured: Array<{ visitId: string; productId: string }>;
}

/**
 * What fusion believes lies misplaced on a plate, per product: expected units, the lanes it was put
 * on, and whether it lies at their front (no pick from those lanes since).
 */
interface Misplaced {
  units: number;
  laneIds: Set<string>;
  front: boolean;
  /** The weights the puts of single units of it measured, the latest MEASURED_KEPT. */
  measured: MeasuredUnit[];
}

export class FusionEngine {
  private readonly index: StoreIndex;
  private readonly params: AttributionParams;
  private readonly onSettled?: (record: SettledRecord) => void;
  private readonly history = new HandHistory();
  private readonly pending = new Map<string, ShelfEventDetected>();
  /** Settled shelf event id -> its endMs (for forgetting). */
  private readonly settled = new Map<string, number>();
  private readonly visits = new Map<string, VisitState>();
  private readonly trackVisit = new Map<string, string>();
  /** Tracks whose binding to their visit the gate doubted (two people at the gate, a long gap before a relink), with why. */
  private readonly trackDoubt = new Map<string, string>();
  /** The gate's binding review items whose doubt still stands, by review id: the track each is about and the visits it names. */
  private readonly bindingDoubts = new Map<string, { trackId?: string; visitIds: string[] }>();
  /**
   * When a reviewer's decision last bound each track (`reviewed`, store ms). The gate's bindings are
   * keyed by visit, so a restart reads them back in no set order: an earlier binding of the track read
   * after it changes nothing, and once it carries no doubt the track's binding items entangle nothing.
   */
  private readonly reviewedAt = new Map<string, number>();
  private readonly deadCameras = new Set<string>();
  /** The latest store time seen on the other streams (shelf events, health reports), ms. */
  private otherStreamsMs = -Infinity;
  private readonly laneCameras = new Map<string, string[]>();
  /** Recent attributions (for one reach, one event): the track, the kind, the plates and when the change started. */
  private recentReaches: Array<{ trackId: string; kind: 'pick' | 'put'; laneIds: string[]; changeMs: number }> = [];
  /** What each visit was decided to have taken or put back lately, for twins (TWIN_MS). */
  private recentTakes: Array<{ shelfEventId: string; visitId: string; kind: 'pick' | 'put'; laneIds: string[]; productId: string; startMs: number }> = [];
  /** Picks no product explains waiting for the pieces of their weight that came later (PIECES_WAIT_MS), by shelf event id. */
  private readonly awaitingPieces = new Map<string, { event: ShelfEventDetected; pieces: ShelfEventDetected[]; untilMs: number }>();
  /** Doubtful takes waiting for a twin to be decided (TWIN_WAIT_MS), by shelf event id. */
  private readonly awaitingTwin = new Map<string, { event: ShelfEventDetected; how: SettleHow; untilMs: number }>();
  /** Puts in doubt waiting for picks that began before them and are not settled yet (see picksBefore), by shelf event id. */
  private readonly awaitingPicks = new Map<string, { event: ShelfEventDetected; how: SettleHow; picks: string[] }>();
  /** What fusion believes lies misplaced on each plate (attributed or reviewed puts, less the picks of it since). */
  private readonly misplacedOnPlate = new Map<string, Map<string, Misplaced>>();
  private readonly storeId: string;
  private notItems = 0;
  /** Puts that may be a hand resting on the plate, waiting for its lift: the track, until when (store ms), and the lift's pieces so far. */
  private readonly restingHands = new Map<string, RestingHand>();
  /** Picks in review nobody has decided yet, by review id (see answeredPick). */
  private readonly openPicks = new Map<string, OpenPick>();
  /**
   * Picks and puts in review only because the track that made them has a doubtful gate binding, by review id:
   * the binding item's decision answers them (see answerFollowers).
   */
  private readonly followers = new Map<string, Follower>();
  /** Shelf events fusion sent to review, by review id, until decided or DECISION_MEMORY_MS old (see followDecision). */
  private readonly inReview = new Map<string, InReview>();
  /** Decisions dated later than the evidence reaches, store-clock order: each is followed once fusion gets there. */
  private decisionsAhead: ReviewItemResolved[] = [];

  constructor(options: FusionEngineOptions) {
    this.index = options.index;
    this.params = options.params ?? DEFAULT_PARAMS;
    this.onSettled = options.onSettled;
    this.storeId = options.index.store.id;
  }

  /** Changes no product explains that were too small to be an item (a resting hand, a nudge): not reviewed. */
  get notItemChanges(): number {
    return this.notItems;
  }

  /** What the engine keeps, for a long-running store to watch: visits, tracks bound to them, settled event ids remembered. */
  get kept(): { visits: number; tracks: number; settledEvents: number } {
    return { visits: this.visits.size, tracks: this.trackVisit.size, settledEvents: this.settled.size };
  }

  /** The people stream's watermark: the newest instant taken, ms. */
  get watermarkMs(): number {
    return this.history.latestMs;
  }

  get pendingEvents(): number {
    return this.pending.size;
  }

  /** Whether a shelf event is waiting for the people stream. */
  isPending(shelfEventId: string): boolean {
    return (
      this.pending.has(shelfEventId) ||
      this.awaitingTwin.has(shelfEventId) ||
      this.awaitingPicks.has(shelfEventId) ||
      [...this.awaitingPieces.values()].some((held) => [held.event, ...held.pieces].some((e) => e.shelfEventId === shelfEventId))
    );
  }

  /** Whether a visit's settlement has been given out. */
  isSettled(visitId: string): boolean {
    return this.visits.get(visitId)?.settled ?? false;
  }

  onPeople(instant: PeopleTracked): FusionOutput[] {
    if (instant.ts <= this.history.latestMs) return [];
    this.history.add(instant);
    return this.settleDue();
  }

  onShelfEvent(event: ShelfEventDetected): FusionOutput[] {
    this.otherStreamsMs = Math.max(this.otherStreamsMs, event.ts);
    if (this.pending.has(event.shelfEventId) || this.settled.has(event.shelfEventId)) return [];
    this.pending.set(event.shelfEventId, event);
    return this.settleDue();
  }

  onVisitStarted(message: VisitStarted): FusionOutput[] {
    this.visit(message.visitId, message.kind);
    return [];
  }

  onTrackBound(message: VisitTrackBound): FusionOutput[] {
    const reviewedAt = this.reviewedAt.get(message.trackId);
    if (reviewedAt !== undefined && (message.reason !== 'reviewed' || message.ts < reviewedAt)) return [];
    this.trackVisit.set(message.trackId, message.visitId);
    // A track continues the doubt of the one it replaces: the person may still be someone else.
    const doubt = message.doubt ?? (message.replaces ? this.trackDoubt.get(message.replaces) : undefined);
    if (doubt) this.trackDoubt.set(message.trackId, doubt);
    else this.trackDoubt.delete(message.trackId);
    this.visit(message.visitId);
    if (message.reason === 'reviewed') {
      this.reviewedAt.set(message.trackId, message.ts);
      if (!message.doubt) {
        this.doubtDecided(message.trackId);
        return this.answerFollowers(message);
      }
    }
    return [];
  }

  /** The gate's binding item about this track whose doubt still stands, if fusion has seen it opened. */
  private bindingItemOf(trackId: string): string | undefined {
    for (const [reviewId, item] of this.bindingDoubts) if (item.trackId === trackId) return reviewId;
    return undefined;
  }

  /**
   * A reviewer decided whose visit a track is (the gate's binding, after its item was decided; or
   * the decision itself, settling a visit that has ended: see answerEndedBinding): the picks of
   * that track in review only for the doubt are decided by it, for the visit the track is on now,
   * as they would have been attributed without the doubt, and so are its puts when that is the
   * visit whose holdings they were weighed with. Each goes out as a decision of its item by fusion
   * (FUSION_STAGE), which carts and checkout take as any decision, before or after the receipt, and
   * fusion follows as its own.
   */
  private answerFollowers(bound: Pick<VisitTrackBound, 'eventId' | 'ts' | 'trackId' | 'visitId'>): FusionOutput[] {
    const out: FusionOutput[] = [];
    for (const [reviewId, follower] of this.followers) {
      if (follower.trackId !== bound.trackId) continue;
      // A put was weighed by what the visit it was on holds: on another visit it is a person's to decide.
      if (follower.kind === 'put' && follower.visitId !== bound.visitId) continue;
      this.followers.delete(reviewId);
      const message: ReviewItemResolved = {
        schemaVersion: SCHEMA_VERSION,
        eventId: `answered-${reviewId}-by-${bound.eventId}`,
        storeId: this.storeId,
        ts: bound.ts,
        reviewId,
        decision: { outcome: 'attributed', visitId: bound.visitId, kind: follower.kind, lines: follower.lines },
        reviewer: FUSION_STAGE,
      };
      out.push({ topic: 'review.item-resolved', message }, ...this.followDecision(message));
    }
    return out;
  }

  /**
   * A decision on one of the gate's binding items (`binding`, as fusion read it opened) once the
   * visit its track is on had ended: a reviewer's `bound` confirming that visit, or the gate's
   * withdrawal of the item, settled where it is by the confirmation of the other place of its doubt
   * (libs/visits/visit.binder.ts). The gate then lifts the doubt in its record only: no binding
   * comes again for a visit whose receipt went out with the track's picks pending, so the changes
   * that followed the item are answered from the decision itself, for that visit. A decision moving
   * the track to another visit after exit is one the gate refuses (the operator decides those
   * changes), and before exit the gate's binding answers them (onTrackBound), having checked the
   * decision against the whole crossing.
   */
  private answerEndedBinding(message: ReviewItemResolved, binding: { trackId?: string }): FusionOutput[] {
    const { decision } = message;
    const trackId = binding.trackId;
    const visitId = trackId === undefined ? undefined : this.trackVisit.get(trackId);
    if (trackId === undefined || visitId === undefined || this.visits.get(visitId)?.exitMs === undefined) return [];
    const settles = decision.outcome === 'withdrawn' || (decision.outcome === 'bound' && decision.trackId === trackId && decision.visitId === visitId);
    if (!settles) return [];
    this.doubtDecided(trackId);
    return this.answerFollowers({ eventId: message.eventId, ts: message.ts, trackId, visitId });
  }

  /** The gate's doubtful bindings name the visits a track may belong to: a review fusion opens for that track names them all. */
  onReviewOpened(message: ReviewItemOpened): FusionOutput[] {
    if (message.kind !== 'binding') return [];
    // Read again after a reviewer decided its track (a redelivery after a restart): no doubt is left to name.
    if (message.trackId !== undefined && this.reviewedAt.has(message.trackId) && !this.trackDoubt.has(message.trackId)) return [];
    this.bindingDoubts.set(message.reviewId, { trackId: message.trackId, visitIds: [...message.visitIds] });
    return [];
  }

  /**
   * A decision on a review item, followed once the evidence reaches its time (at once, live; a replay
   * may deliver a reviewer's decisions ahead): see followDecision.
   */
  onReviewResolved(message: ReviewItemResolved): FusionOutput[] {
    if (message.decision.outcome === 'withdrawn' && message.reviewer === FUSION_STAGE) return [];
    this.decisionsAhead.push(message);
    this.decisionsAhead.sort((a, b) => a.ts - b.ts);
    return this.followDecisions(this.knownUntil());
  }

  /** The decisions whose time the evidence has reached (every one at `until` Infinity), in store-clock order. */
  private followDecisions(until: number): FusionOutput[] {
    const due = this.decisionsAhead.filter((decision) => decision.ts <= until);
    if (due.length === 0) return [];
    this.decisionsAhead = this.decisionsAhead.filter((decision) => decision.ts > until);
    return due.flatMap((decision) => this.followDecision(decision));
  }

  /**
   * A person decided a review item (a binding item of the gate's: see answerEndedBinding). A pick in
   * review is no longer fusion's to answer (answeredPick).
   * When the item is about a shelf event fusion sent to review and the decision says who moved what,
   * what fusion kept of the event by its options' shares gives way to what was decided: the units
   * the named visits may have held (the carts now say what each holds), and what lies misplaced on
   * the event's plates. When the decision moved something other than the shelf's reading of the
   * change, or the shelf could not read it (no product explained it), the shelf is told
   * (`fusion.change-reexplained` naming the review), so that its stock, and how it explains later
   * changes there, follow the decision too.
   */
  private followDecision(message: ReviewItemResolved): FusionOutput[] {
    const binding = this.bindingDoubts.get(message.reviewId);
    if (binding) return this.answerEndedBinding(message, binding);
    this.openPicks.delete(message.reviewId);
    this.followers.delete(message.reviewId);
    const item = this.inReview.get(message.reviewId);
    this.inReview.delete(message.reviewId);
    const decision = message.decision;
    if (!item || decision.outcome !== 'attributed') return [];
    const { event, believed, held } = item;
    this.takeBackHeld(held, event);
    const moves = decidedMoves(decision);
    this.believeDecided(event, believed, moves);
    // A change no product explained had no reading: its decision always goes to the shelf.
    return this.toShelf(event, moves, 'decided', { eventId: `decided-${message.eventId}`, ts: message.ts, probability: 1, review: message.reviewId });
  }

  /**
   * Fusion decided a put as another product or quantity than the shelf's likeliest hypothesis (a
   * put-back of what the shopper holds, which the shelf took for its lane's own product of like
   * weight): the shelf is told (`fusion.change-reexplained` naming the attribution), so that its
   * stock holds what was decided and a later pick of that unit is explained by it. None when the
   * decision is the shelf's reading, and none for a pick: a pick of what the shelf does not believe
   * lies there takes nothing out of its stock, while what the shelf took out stays, so the two
   * would part further (a put fusion sent to review leaves the shelf's reading of it in the stock).
   */
  private stockReading(event: ShelfEventDetected, best: JointOption, confidence: number): FusionOutput[] {
    if (event.kind !== 'put') return [];
    const moves = movedBy({ ...best, quantity: unitsOf(best) }).map((move) => ({ ...move, kind: event.kind }));
    const attributed = `attributed-${event.shelfEventId}`;
    return this.toShelf(event, moves, 'attributed', { eventId: `read-${attributed}`, ts: this.decidedAt(event), probability: confidence, attributed });
  }

  /**
   * What a decision moved, sent to the shelf as its reading of the event (`fusion.change-reexplained`
   * replacing it by readAs's events, with who decided: `review` or `attributed`); none when the
   * decision moved just what the shelf read (its likeliest hypothesis).
   */
  private toShelf(
    event: ShelfEventDetected,
    moves: readonly DecidedMove[],
    how: 'decided' | 'attributed',
    fields: Pick<ChangeReexplained, 'eventId' | 'ts' | 'probability' | 'review' | 'attributed'>,
  ): FusionOutput[] {
    const [shelfReading] = event.hypotheses;
    const asRead = moves.length === 1 && moves[0].kind === event.kind && moves[0].productId === shelfReading?.productId && moves[0].quantity === shelfReading.quantity;
    if (asRead) return [];
    const message: ChangeReexplained = { schemaVersion: SCHEMA_VERSION, storeId: this.storeId, shelfId: event.shelfId, replaces: [event.shelfEventId], events: this.readAs(event, moves, how), ...fields };
    return [{ topic: 'fusion.change-reexplained', message }];
  }

  /** A change as one event an item of `moves`, each its likeliest and only hypothesis, on the lane planned for it (`<shelf event id>-<how>-<n>`). */
  private readAs(event: ShelfEventDetected, moves: readonly DecidedMove[], how: string): ShelfEventDetected[] {
    // Its plates' weights were the whole change's: an item of the reading has none of its own.
    const { explanations: _shelfs, plateDeltaGrams: _plates, transitionMs: _timed, ...change } = event;
    return moves.map(({ kind, productId, quantity }, i): ShelfEventDetected => {
      const id = `${event.shelfEventId}-${how}-${i + 1}`;
      return { ...change, eventId: id, shelfEventId: id, kind, laneIds: [this.decidedLane(event, productId)], hypotheses: [{ productId, quantity, probability: 1 }], confidence: 1 };
    });
  }

  /**
   * The lane a decided product moved on: of the event's lanes (several for a change no product
   * explained), the one planned for it, else the first (a put there is misplaced; the shelf takes a
   * pick from where it keeps that product).
   */
  private decidedLane(event: ShelfEventDetected, productId: string): string {
    return event.laneIds.find((laneId) => this.plannedOn({ laneIds: [laneId] }, productId)) ?? event.laneIds[0];
  }

  /** What a pick in review added to the holdings of the visits it named, taken back (its decision, or the put that answered it, says who holds it now). */
  private takeBackHeld(held: OpenPick['held'], event: ShelfEventDetected): void {
    for (const { visitId, productId, units } of held) {
      const visit = this.visits.get(visitId);
      if (!visit) continue;
      const left = (visit.pending.get(productId) ?? 0) - units;
      if (left > 1e-9) visit.pending.set(productId, left);
      else visit.pending.delete(productId);
      const gain = visit.gains.findIndex((g) => g.startMs === event.startMs && g.productId === productId && g.units === units);
      if (gain >= 0) visit.gains.splice(gain, 1);
    }
  }

  /**
   * What fusion believes lies misplaced on a decided event's plates: for each product, the units the
   * decision moved less those the review kept by shares (`believed`: added for a put, taken away
   * for a pick). A put adds a product not planned on the lanes; a pick takes away what lay
   * misplaced, and gives back what the review took away that the decision did not.
   */
  private believeDecided(event: ShelfEventDetected, believed: ReadonlyMap<string, number>, moves: readonly DecidedMove[]): void {
    const decided = new Map<string, number>();
    for (const move of moves) if (move.kind === event.kind) decided.set(move.productId, (decided.get(move.productId) ?? 0) + move.quantity);
    const products = new Set([...believed.keys(), ...decided.keys()]);
    const asPut = { ...event, kind: 'put' as const };
    const asPick = { ...event, kind: 'pick' as const };
    for (const productId of products) {
      const delta = (decided.get(productId) ?? 0) - (believed.get(productId) ?? 0);
      if (Math.abs(delta) < MISPLACED_GONE_UNITS) continue;
      const planned = this.plannedOn(event, productId);
      if (event.kind === 'put') {
        if (planned) continue;
        if (delta > 0) this.trackMisplaced(asPut, productId, delta, true);
        else this.trackMisplaced(asPick, productId, -delta, false);
      } else if (delta > 0) this.trackMisplaced(asPick, productId, delta, false);
      else if (!planned) this.trackMisplaced(asPut, productId, -delta, true);
    }
    // A put and a pick at once: what the other kind moved, as the decision says.
    for (const move of moves)
      if (move.kind !== event.kind && (move.kind === 'pick' || !this.plannedOn(event, move.productId)))
        this.trackMisplaced(move.kind === 'put' ? asPut : asPick, move.productId, move.quantity, move.kind === 'put');
  }

  /** A reviewer decided a track's binding: the visits its binding item named are no longer entangled through it. */
  private doubtDecided(trackId: string): void {
    for (const [reviewId, item] of this.bindingDoubts) if (item.trackId === trackId) this.bindingDoubts.delete(reviewId);
  }

  /** The other visits a doubtful gate binding may have swapped this one with: those a binding item whose doubt stands names with it. */
  private entangledWith(visitId: string): string[] {
    const others = new Set<string>();
    for (const { visitIds } of this.bindingDoubts.values()) if (visitIds.includes(visitId)) for (const other of visitIds) if (other !== visitId) others.add(other);
    return [...others];
  }

  onVisitEnded(message: VisitEnded): FusionOutput[] {
    const visit = this.visit(message.visitId);
    visit.exitMs = message.exitMs;
    return this.settleVisits();
  }

  onCartUpdated(message: CartUpdated): FusionOutput[] {
    // A cart follows fusion's own attributions: one for a visit fusion does not know (forgotten long
    // after it left) has nothing left to inform.
    if (!this.visits.has(message.visitId)) return [];
    const visit = this.visit(message.visitId);
    if (visit.cart && visit.cart.version >= message.version) return [];
    visit.cart = { version: message.version, lines: new Map(message.lines.map((line) => [line.productId, line.quantity])) };
    return [];
  }

  onDeviceHealth(message: DeviceHealthReported): FusionOutput[] {
    this.otherStreamsMs = Math.max(this.otherStreamsMs, message.ts);
    if (message.deviceKind !== 'camera') return [];
    if (message.health === 'dead' || message.health === 'offline') this.deadCameras.add(message.deviceId);
    else this.deadCameras.delete(message.deviceId);
    return this.settleDue();
  }

  /** End of a replay: settles every waiting event and every ended visit with what is known. */
  flush(): FusionOutput[] {
    const out: FusionOutput[] = this.followDecisions(Infinity);
    for (const event of [...this.pending.values()].sort(byEnd)) if (this.pending.has(event.shelfEventId)) out.push(...this.settle(event));
    for (const rest of [...this.restingHands.values()]) out.push(...this.giveUpRest(rest));
    out.push(...this.settleAwaitingPieces(Infinity));
    out.push(...this.settleAwaitingTwin(Infinity));
    out.push(...this.settleAwaitingPicks(true));
    out.push(...this.settleVisits(Infinity));
    return out;
  }

  /**
   * When a decision on `event` is made, store clock: as late as the evidence it was decided with
   * reaches (never before the change ended), so pick-to-cart latency can be read off the message.
   */
  private decidedAt(event: ShelfEventDetected): number {
    const known = this.knownUntil();
    return Number.isFinite(known) ? Math.max(event.endMs, Math.round(known)) : event.endMs;
  }

  /** How far the evidence reaches: the people watermark, or the other streams' time while a camera is dead. */
  private knownUntil(): number {
    return this.deadCameras.size > 0 ? Math.max(this.history.latestMs, this.otherStreamsMs) : this.history.latestMs;
  }

  private settleDue(): FusionOutput[] {
    const until = this.knownUntil();
    const out: FusionOutput[] = this.followDecisions(until);
    const due = [...this.pending.values()].filter((event) => event.endMs + EVIDENCE_AFTER_MS <= until).sort(byEnd);
    // A put settled whole with the rest of its change takes those events out of the waiting list.
    for (const event of due) if (this.pending.has(event.shelfEventId)) out.push(...this.settle(event));
    for (const [id, rest] of this.restingHands)
      if (rest.untilMs <= until || this.restLeft(rest, until)) out.push(...this.giveUpRest(rest));
    out.push(...this.settleAwaitingPieces(until));
    out.push(...this.settleAwaitingTwin(until));
    out.push(...this.settleAwaitingPicks(false));
    this.forgetSettled(until);
    out.push(...this.settleVisits());
    this.forgetVisits(until);
    return out;
  }

  private forgetSettled(until: number): void {
    for (const [id, endMs] of this.settled) if (endMs < until - SETTLED_MEMORY_MS) this.settled.delete(id);
    for (const [reviewId, pick] of this.openPicks) if (pick.event.endMs < until - SETTLED_MEMORY_MS) this.openPicks.delete(reviewId);
    for (const [reviewId, item] of this.inReview) if (item.event.endMs < until - DECISION_MEMORY_MS) this.inReview.delete(reviewId);
  }

  /** Drops visits settled more than VISIT_MEMORY_MS ago, with everything keyed by them or their tracks. */
  private forgetVisits(until: number): void {
    const gone = new Set<string>();
    for (const [visitId, visit] of this.visits) if (visit.settled && visit.exitMs !== undefined && visit.exitMs < until - VISIT_MEMORY_MS) gone.add(visitId);
    if (gone.size === 0) return;
    for (const visitId of gone) this.visits.delete(visitId);
    for (const [reviewId, item] of this.bindingDoubts) {
      item.visitIds = item.visitIds.filter((visitId) => !gone.has(visitId));
      if (item.visitIds.length < 2) this.bindingDoubts.delete(reviewId);
    }
    for (const [trackId, visitId] of this.trackVisit)
      if (gone.has(visitId)) {
        this.trackVisit.delete(trackId);
        this.trackDoubt.delete(trackId);
        this.reviewedAt.delete(trackId);
      }
  }

  private visit(visitId: string, kind?: VisitKind): VisitState {
    let visit = this.visits.get(visitId);
    if (!visit) {
      visit = { kind: kind ?? 'shopper', settled: false, attributed: new Set(), reviews: new Set(), withdrawn: new Set(), ledger: new Map(), pending: new Map(), hand: { latestPicked: new Set() }, hands: new Map(), cart: null, measured: new Map(), gains: [] };
      this.visits.set(visitId, visit);
    } else if (kind) visit.kind = kind;
    return visit;
  }

  /**
   * Units of each product a visit may hold: what fusion attributed plus what pending picks may have
   * added, or what the cart says if more; at `atMs`, less what picks that began after it added and
   * plus what decided puts that began after it took away.
   */
  private holdings(visit: VisitState, atMs = Infinity): Map<string, number> {
    const holds = new Map(visit.ledger);
    for (const [productId, quantity] of visit.pending) holds.set(productId, (holds.get(productId) ?? 0) + quantity);
    for (const [productId, quantity] of visit.cart?.lines ?? []) holds.set(productId, Math.max(quantity, holds.get(productId) ?? 0));
    // Summed before the floor: a unit taken and put back since is no change, in whichever order they settled.
    const since = new Map<string, number>();
    for (const gain of visit.gains) if (gain.startMs > atMs) since.set(gain.productId, (since.get(gain.productId) ?? 0) + gain.units);
    for (const [productId, units] of since) holds.set(productId, Math.max(0, (holds.get(productId) ?? 0) - units));
    return holds;
  }

  /** Notes what a pick added to a visit, or a put took away (negative units; see VisitState.gains). */
  private gained(visit: VisitState, event: ShelfEventDetected, productId: string, units: number): void {
    visit.gains = visit.gains.filter((gain) => gain.startMs > event.startMs - GAINS_KEPT_MS);
    visit.gains.push({ startMs: event.startMs, productId, units });
  }

  /**
   * A rest whose lift did not come in full. When pieces of it came and what is left of the rest is
   * too small for an item (the rest of the lift went with the hand's next pick), none of them was an
   * item; otherwise the put and the pieces held back are settled as what they look like.
   */
  private giveUpRest(rest: RestingHand): FusionOutput[] {
    this.restingHands.delete(rest.event.shelfEventId);
    const left = rest.event.deltaGrams + rest.lifts.reduce((sum, piece) => sum + piece.deltaGrams, 0);
    if (rest.lifts.length > 0 && this.tooSmallForAnItem({ ...rest.event, deltaGrams: left })) {
      this.noItems([rest.event, ...rest.lifts]);
      return [];
    }
    return [rest.event, ...rest.lifts].flatMap((event) => this.settle(event, { restWaited: true }));
  }

  /** Changes held back as a rest or pieces of its lift, settled as no item (neither attributed nor reviewed). */
  private noItems(events: readonly ShelfEventDetected[]): void {
    for (const event of events) this.onSettled?.({ event, evidence: [], options: [], confidence: 0, outcome: 'not-an-item' });
    this.notItems += events.length;
  }

  /** Who and what of a change: everyone's evidence and probability, and every (who, product, quantity) with its own. */
  /**
   * `laterReaches` false leaves out reaches that explained changes starting after this one: an event
   * weighed again after waiting for its twin would otherwise see its twin's doer as reaching there
   * again (`reusedReach`, which stands for a grab the shelf split, the second change after the first).
   */
  private weigh(event: ShelfEventDetected, laterReaches = true): Weighed {
    const boxes = this.boxesOf(event);
    const evidence = this.history
      .evidence(boxes, {
        fromMs: event.startMs - EVIDENCE_BEFORE_MS,
        toMs: event.endMs + EVIDENCE_AFTER_MS,
        contactFromMs: event.startMs - CONTACT_SLACK_MS,
        contactToMs: event.endMs + CONTACT_SLACK_MS,
        changeMs: event.startMs,
        changeEndMs: event.endMs,
        kind: event.kind,
      })
      .map((e) => ({ ...e, visitId: this.trackVisit.get(e.trackId) ?? null, reused: this.reachSpent(e.trackId, event, laterReaches) }));
    const who = whoProbabilities(this.params, evidence, event.kind);
    const candidates: AttributionCandidate[] = evidence
      .map((e, i) => ({ visitId: e.visitId, trackId: e.trackId, probability: who.people[i], distanceM: round3(e.contactM) }))
      .sort((a, b) => b.probability - a.probability);
    // What a visit took last is its likeliest track's hand's (whosOf picks that track as it sums them).
    const whos = whosOf(evidence, who, (visitId) => {
      const visit = this.visit(visitId);
      return { staff: visit.kind === 'staff', holds: this.holdings(visit, event.startMs) };
    }).map((w) => (typeof w.visitId === 'string' ? { ...w, latestPicked: handAt(this.handOf(this.visit(w.visitId), w.trackId), event.startMs).latestPicked } : w));
    const whatContext = event.hypotheses.length > 0 ? this.whatContext(event, whos) : undefined;
    const hypotheses = whatContext ? whatHypotheses(this.params, event.kind, event.hypotheses, whatContext) : event.hypotheses;
    const options = hypotheses.length > 0 ? jointOptions(this.params, event.kind, whos, hypotheses, changeMsOf(event)) : [];
    const best = options[0];
    const confidence = best ? calibrate(this.params, best.probability, situationOf(this.index, event, best)) : 0;
    return { event, evidence, who, candidates, whos, whatContext, options, best, confidence };
  }

  /**
   * A put the shelf split into items of two lanes at one instant, none of which its likeliest
   * putters hold, while the whole change weighs like something one of them does hold: one hand put
   * that back. The shelf cannot know what shoppers carry and the split explains the weight as well,
   * so fusion weighs the whole change too. Settled whole, the other items of the split are no items.
   */
  private wholePut(weighed: Weighed): Weighed | undefined {
    const { event } = weighed;
    const parts = [...this.pending.values()].filter((other) => other.kind === 'put' && sameChange(other, event));
    if (parts.length === 0) return undefined;
    const changes = [event, ...parts];
    const split = [weighed, ...parts.map((part) => this.weigh(part))];
    if (split.some((part) => !part.best || part.best.carried)) return undefined;
    const hypotheses = new Map<string, ProductHypothesis>();
    for (const part of changes) for (const h of part.hypotheses) hypotheses.set(`${h.productId}x${h.quantity}`, h);
    const combined: ShelfEventDetected = {
      ...event,
      plateIds: [...new Set(changes.flatMap((part) => part.plateIds))],
      laneIds: [...new Set(changes.flatMap((part) => part.laneIds))],
      deltaGrams: changes.reduce((sum, part) => sum + part.deltaGrams, 0),
      sigmaGrams: Math.hypot(...changes.map((part) => part.sigmaGrams)),
      hypotheses: [...hypotheses.values()],
    };
    const whole = this.weigh(combined);
    if (!whole.best?.carried || sharesOf(whole.best).some((share) => typeof share.who.visitId !== 'string' || share.who.staff)) return undefined;
    for (const part of parts) {
      this.pending.delete(part.shelfEventId);
      this.settled.set(part.shelfEventId, part.endMs);
    }
    this.noItems(parts);
    return whole;
  }

  /**
   * A change of several items at once, which the shelf explained without knowing what the shoppers
   * there carry: each of its whole explanations weighed again by that (expectedCarry: a put of
   * something nobody there holds is as unlikely as `uncarriedPut` makes it). When another explanation
   * wins, its items replace the shelf's events of the change, which settle as no item, and are
   * settled in their place under ids of their own.
   */
  private reexplained(event: ShelfEventDetected, whos: readonly Who[]): ChangeReexplained | undefined {
    const joint = event.explanations;
    if (!joint || joint.length < 2) return undefined;
    const weights = joint.map((explanation) =>
      explanation.items.reduce((w, item) => w * expectedCarry(this.params, item.kind, whos, item.productId, item.quantity), explanation.probability),
    );
    // Readings that move the same lanes the same ways are one reading of where: they differ only in
    // what, which the events' hypotheses carry. The likeliest "where" wins.
    const byWhere = new Map<string, { members: number[]; weight: number }>();
    joint.forEach((explanation, i) => {
      const key = whereOf(explanation);
      const where = byWhere.get(key) ?? { members: [], weight: 0 };
      where.members.push(i);
      where.weight += weights[i];
      byWhere.set(key, where);
    });
    const total = sum(weights);
    const [where, { members, weight }] = [...byWhere].reduce((a, b) => (b[1].weight > a[1].weight ? b : a));
    if (where === whereOf(joint[0]) || total <= 0) return undefined;
    // The other events of the change: the shelf gave each the same explanations.
    const siblings = [...this.pending.values()].filter((other) => sameChange(other, event));
    for (const sibling of siblings) {
      this.pending.delete(sibling.shelfEventId);
      this.settled.set(sibling.shelfEventId, sibling.endMs);
    }
    const replaced = [event, ...siblings];
    this.noItems(replaced);
    const replaces = replaced.map((e) => e.shelfEventId).sort();
    const probability = Math.round((weight / total) * 1e4) / 1e4;
    // Each item's grams: its likeliest reading's, plus its share of what the change weighed beyond that reading.
    const lead = members.reduce((a, b) => (weights[b] > weights[a] ? b : a));
    const observed = sum(replaced.map((e) => e.deltaGrams));
    const predicted = sum(joint[lead].items.map((item) => item.deltaGrams));
    const spread = sum(joint[lead].items.map((item) => Math.abs(item.deltaGrams)));
    const { explanations: _shelfs, ...change } = event;
    const events = joint[lead].items.map((item, i): ShelfEventDetected => {
      const id = `${replaces[0]}-as-${i + 1}`;
      // What this item may be: every reading of this "where", by its weight, as the shelf's hypotheses are by its own.
      const hypotheses = new Map<string, { productId: string; quantity: number; probability: number }>();
      for (const m of members) {
        const same = joint[m].items.find((x) => x.kind === item.kind && x.laneId === item.laneId)!;
        const key = `${same.productId}x${same.quantity}`;
        const entry = hypotheses.get(key) ?? { productId: same.productId, quantity: same.quantity, probability: 0 };
        entry.probability += weights[m] / weight;
        hypotheses.set(key, entry);
      }
      return {
        ...change,
        eventId: id,
        shelfEventId: id,
        kind: item.kind,
        laneIds: [item.laneId],
        plateIds: [...plateShares(this.index, item.laneId).keys()],
        deltaGrams: Math.round((item.deltaGrams + ((observed - predicted) * Math.abs(item.deltaGrams)) / spread) * 10) / 10,
        hypotheses: [...hypotheses.values()]
          .sort((a, b) => b.probability - a.probability)
          .map((h) => ({ ...h, probability: Math.round(h.probability * 1e4) / 1e4 })),
        confidence: probability,
      };
    });
    return { schemaVersion: SCHEMA_VERSION, eventId: `reexplained-${replaces[0]}`, storeId: this.storeId, ts: event.endMs, shelfId: event.shelfId, replaces, events, probability };
  }

  /**
   * Picks no product explains whose wait for pieces is over (by `until`, store ms, and no event that
   * may be one of them still waiting for its evidence). When the pick's weight and that of the first
   * pieces after it are a whole number of units of a product on its lanes (the fewest pieces that fit
   * best), fusion reads them as one pick of it (`fusion.change-reexplained`), weighed as the pick was;
   * the pieces left, or all of them when nothing fits, are settled as they stand.
   */
  private settleAwaitingPieces(until: number): FusionOutput[] {
    const out: FusionOutput[] = [];
    for (const held of [...this.awaitingPieces.values()].sort((a, b) => byEnd(a.event, b.event))) {
      if (until < held.untilMs + EVIDENCE_AFTER_MS || [...this.pending.values()].some((event) => isPieceOf(event, held))) continue;
      this.awaitingPieces.delete(held.event.shelfEventId);
      const pieces = [...held.pieces].sort((a, b) => a.startMs - b.startMs);
      const whole = this.wholeOfPieces(held.event, pieces);
      const left = whole ? pieces.slice(whole.pieces) : [held.event, ...pieces];
      if (whole) {
        const replaced = [held.event, ...pieces.slice(0, whole.pieces)];
        this.noItems(replaced);
        const replaces = replaced.map((event) => event.shelfEventId).sort();
        out.push(
          {
            topic: 'fusion.change-reexplained',
            message: { schemaVersion: SCHEMA_VERSION, eventId: `reexplained-${replaces[0]}`, storeId: this.storeId, ts: replaced.at(-1)!.endMs, shelfId: held.event.shelfId, replaces, events: [whole.event], probability: 1 },
          },
          ...this.settle(whole.event, { piecesWaited: true }),
        );
      }
      for (const event of left) out.push(...this.settle(event, { piecesWaited: true }));
    }
    return out;
  }

  /**
   * A pick no product explains and its first pieces as one pick, when their weight together fits a
   * whole number of units (up to UNITS_IN_ONE_GRAB) of a product planned on its lanes or lying
   * misplaced on its plates, within PIECES_FIT_SD: of the prefixes of pieces, the one whose best fit
   * is closest. The event keeps the pick's own times (the pieces are the resting hand's lift); its
   * lanes are those its products lie on, the likeliest's first (the resting hand's lane is none of
   * them, unless a product there fits too).
   */
  private wholeOfPieces(event: ShelfEventDetected, pieces: readonly ShelfEventDetected[]): { event: ShelfEventDetected; pieces: number } | undefined {
    const products = this.productsThere(event);
    let found: { fits: PiecesFit[]; closest: number; pieces: number; grams: number; sigma: number } | undefined;
    for (let n = 1; n <= pieces.length; n++) {
      const changes = [event, ...pieces.slice(0, n)];
      const grams = sum(changes.map((change) => change.deltaGrams));
      const variance = sum(changes.map((change) => change.sigmaGrams ** 2));
      const plates = platesOf(changes);
      const fits = [...products].flatMap(([productId, laneIds]) => {
        const product = this.index.products.get(productId);
        if (!product) return [];
        return Array.from({ length: UNITS_IN_ONE_GRAB }, (_, k) => k + 1).flatMap((quantity) => {
          const unit = { grams: quantity * product.unitWeightGrams, spread: Math.sqrt(quantity) * product.weightSpreadGrams };
          const onLanes = laneIds.flatMap((laneId) => {
            const fit = plates ? this.piecesFitOnPlates(plates, laneId, unit) : piecesFitInAll(grams, variance, unit);
            return fit ? [{ ...fit, laneId }] : [];
          });
          if (onLanes.length === 0) return [];
          const density = sum(onLanes.map((fit) => fit.density));
          return [{ productId, quantity, density, z: Math.min(...onLanes.map((fit) => fit.z)), laneIds: onLanes.map((fit) => fit.laneId) }];
        });
      });
      if (fits.length === 0) continue;
      const closest = Math.min(...fits.map((fit) => fit.z));
      if (!found || closest < found.closest) found = { fits, closest, pieces: n, grams, sigma: Math.sqrt(variance) };
    }
    if (!found) return undefined;
    const total = sum(found.fits.map((fit) => fit.density));
    const fits = [...found.fits].sort((a, b) => b.density - a.density);
    const hypotheses = fits.map((fit) => ({ productId: fit.productId, quantity: fit.quantity, probability: Math.round((fit.density / total) * 1e4) / 1e4 }));
    const laneIds = [...new Set(fits.flatMap((fit) => fit.laneIds))];
    const id = `${event.shelfEventId}-whole`;
    const { explanations: _none, plateDeltaGrams: _plates, ...change } = event;
    return {
      pieces: found.pieces,
      event: {
        ...change,
        eventId: id,
        shelfEventId: id,
        laneIds,
        deltaGrams: Math.round(found.grams * 10) / 10,
        sigmaGrams: Math.round(found.sigma * 100) / 100,
        hypotheses,
        confidence: hypotheses[0].probability,
      },
    };
  }

  /**
   * How units taken off a lane fit changes known plate by plate (`platesOf`): each plate's change
   * against the units' weight times the share of the lane it carries (none for a plate the lane does
   * not rest on, and every plate of the lane counted, changed or not). A plate's deviation allows its
   * part of the changes' noise, where along the lane the units lay (SHARE_SD of their weight, on a
   * lane across plates) and their spread. Undefined when a plate is further off than PIECES_FIT_SD.
   */
  private piecesFitOnPlates(plates: ReadonlyMap<string, { grams: number; variance: number }>, laneId: string, unit: { grams: number; spread: number }): { density: number; z: number } | undefined {
    const shares = plateShares(this.index, laneId);
    const across = shares.size > 1 ? (SHARE_SD * unit.grams) ** 2 : 0;
    let density = 1;
    let squares = 0;
    const plateIds = new Set([...plates.keys(), ...shares.keys()]);
    // A plate of the lane the changes left alone did not move: as still as the stillest that moved.
    const unmoved = { grams: 0, variance: Math.min(...[...plates.values()].map((p) => p.variance)) };
    for (const plateId of plateIds) {
      const share = shares.get(plateId) ?? 0;
      const seen = plates.get(plateId) ?? unmoved;
      const sigma = Math.sqrt(seen.variance + (share > 0 ? across : 0) + (share * unit.spread) ** 2);
      const z = Math.abs(seen.grams + share * unit.grams) / sigma;
      if (z > PIECES_FIT_SD) return undefined;
      density *= Math.exp(-0.5 * z * z) / sigma;
      squares += z * z;
    }
    return { density, z: Math.sqrt(squares / plateIds.size) };
  }

  /**
   * Picks not settled yet that began before a put (waiting for their evidence, for the pieces of
   * their weight or for a twin), by shelf event id: what they took may be what the put brought back.
   */
  private picksBefore(put: ShelfEventDetected): string[] {
    const waiting = [
      ...this.pending.values(),
      ...[...this.awaitingPieces.values()].flatMap((held) => [held.event, ...held.pieces]),
      ...[...this.awaitingTwin.values()].map((held) => held.event),
    ];
    return waiting.filter((pick) => pick.kind === 'pick' && pick.startMs <= put.startMs).map((pick) => pick.shelfEventId);
  }

  /** Puts whose picks waited for are all settled (or every one, at the end of a replay), weighed again with what their shoppers now hold. */
  private settleAwaitingPicks(all: boolean): FusionOutput[] {
    const out: FusionOutput[] = [];
    for (const held of [...this.awaitingPicks.values()].sort((a, b) => byEnd(a.event, b.event))) {
      if (!all && held.picks.some((shelfEventId) => this.isPending(shelfEventId))) continue;
      this.awaitingPicks.delete(held.event.shelfEventId);
      out.push(...this.settle(held.event, { ...held.how, picksWaited: true }));
    }
    return out;
  }

  /** Doubtful takes whose wait for a twin is over (by `until`, store ms), settled as they now stand. */
  private settleAwaitingTwin(until: number): FusionOutput[] {
    const out: FusionOutput[] = [];
    for (const held of [...this.awaitingTwin.values()].sort((a, b) => byEnd(a.event, b.event)))
      if (held.untilMs <= until && this.awaitingTwin.delete(held.event.shelfEventId)) out.push(...this.settle(held.event, { ...held.how, twinWaited: true }));
    return out;
  }

  private settle(change: ShelfEventDetected, how: SettleHow = {}): FusionOutput[] {
    this.pending.delete(change.shelfEventId);
    this.settled.set(change.shelfEventId, change.endMs);
    const own = this.weigh(change, !how.twinWaited && !how.picksWaited);
    const instead = how.restWaited ? undefined : this.reexplained(change, own.whos);
    if (instead) return [{ topic: 'fusion.change-reexplained', message: instead }, ...instead.events.flatMap((event) => this.settle(event))];
    const whole = change.kind === 'put' && !how.restWaited ? this.wholePut(own) : undefined;
    const { event, evidence, who, candidates, whos, whatContext } = whole ?? own;
    let { options, best, confidence } = whole ?? own;
    const netted = this.netted(event, evidence);
    const record = (outcome: SettledRecord['outcome']) => this.onSettled?.({ event, evidence, options, whatContext, confidence, outcome, ...(netted.length > 0 ? { netted } : {}) });

    // A put whose maker's hand is still in the lanes, alone: maybe a hand resting there, however
    // well it fits a put-back. It waits for its lift (see liftOfRest) before it is decided or
    // reviewed; a put-back then a pick of the same weight by the same hand nets to nothing either way.
    if (event.kind === 'put' && !how.restWaited) {
      const hand = this.restingHand(event, evidence, who, !best || !best.carried, whos);
      if (hand) {
        this.restingHands.set(event.shelfEventId, { event, trackId: hand.trackId, untilMs: event.endMs + HAND_REST_WAIT_MS, lifts: [], withinM: hand.withinM });
        return [];
      }
    }
    if (event.kind === 'pick' && !how.restWaited) {
      const lift = this.liftOfRest(event, evidence, who);
      if (lift?.complete) {
        // The hand that rested lifted off: neither the rests nor any piece of the lift was an item.
        for (const rest of lift.rests) {
          this.restingHands.delete(rest.event.shelfEventId);
          this.noItems([rest.event, ...rest.lifts]);
        }
        record('not-an-item');
        this.notItems++;
        return [];
      }
      if (lift) {
        // A piece of the lift: it waits with the rest for the rest of it.
        lift.rests[0].lifts.push(event);
        return [];
      }
    }
    // One of two people at a lane, and the other take of the same product there decided for one of
    // them: the other made this one (TWIN_SAME_DOER). Its twin may not be decided yet: it waits.
    if (best && confidence < this.params.decideAbove && !whole) {
      const twin = this.twinOf(event, options);
      if (twin) ({ options, best, confidence } = this.weighedWithTwin(event, options, twin.visitId));
      else if (!how.twinWaited && whoIsInDoubt(options)) {
        this.awaitingTwin.set(event.shelfEventId, { event, how, untilMs: event.startMs + TWIN_WAIT_MS });
        return [];
      }
    }
    // A put in doubt while picks that began before it are not settled yet: what its shopper holds is
    // not known in full (a pick waiting for the pieces of its weight may be the very unit put back).
    // It waits for them and is weighed again.
    if (event.kind === 'put' && !how.picksWaited && (!best || !best.carried || confidence < this.params.decideAbove)) {
      const picks = this.picksBefore(event);
      if (picks.length > 0) {
        this.awaitingPicks.set(event.shelfEventId, { event, how, picks });
        return [];
      }
    }
    // Two shoppers' hands in the lanes, and the change weighs what one put back less what the other took.
    const putAndPick = netted.length > 0 && Math.abs(event.deltaGrams) >= NETTED_MIN_GRAMS ? netted[0] : undefined;
    // The best option keeps the share of its confidence that the weight leaves it against such readings.
    const nettedDoubt = best && putAndPick ? nettedShare(this.params, whatContext, event.kind, best, netted) : 0;
    // Sure enough alone, and the reading is what took it below: the review says so and names its shoppers.
    const nettedInstead = confidence >= this.params.decideAbove ? putAndPick : undefined;
    confidence *= 1 - nettedDoubt;
    // A pick no product explains: maybe an item with a hand come to rest on its plates, whose lift
    // comes later in pieces. It waits for them (PIECES_WAIT_MS), and a piece waits with it.
    if (!best && !putAndPick && event.kind === 'pick' && event.hypotheses.length === 0 && !how.piecesWaited) {
      const heldPick = [...this.awaitingPieces.values()].find((held) => isPieceOf(event, held));
      if (heldPick) {
        heldPick.pieces.push(event);
        return [];
      }
      if (!this.tooSmallForAnItem(event)) {
        this.awaitingPieces.set(event.shelfEventId, { event, pieces: [], untilMs: event.endMs + PIECES_WAIT_MS });
        return [];
      }
    }
    if (!best && !putAndPick && this.tooSmallForAnItem(event)) {
      // A hand resting on the plate, a nudge: no cart can change by less than half the lightest item
      // that could have moved, so there is nothing to decide and nothing to review.
      record('not-an-item');
      this.notItems++;
      return [];
    }
    if (!best) {
      record('unexplained');
      const reason = putAndPick ? `the weight change fits no product, but fits a put and a pick at once: ${putAndPickNames(putAndPick, event)}` : 'the weight change fits no product';
      if (putAndPick) this.mayHoldReadings(event, netted, 1);
      return [this.review(event, 'attribution', reason, whos, evidence, candidates, [], putAndPick ? [putAndPick.put.visitId, putAndPick.pick.visitId] : [])];
    }
    const shares = sharesOf(best);
    const unbound = shares.find((share) => share.who.visitId === null);
    const unseen = shares.some((share) => share.who.visitId === undefined);
    const answered = event.kind === 'put' && !unbound && !unseen ? this.answeredPick(event, options, best, confidence, 1 - nettedDoubt, candidates) : undefined;
    if (answered) {
      record('attributed');
      return answered;
    }
    if (unseen || unbound || confidence < this.params.decideAbove) {
      record('review');
      const reason = unseen
        ? 'nobody the cameras followed was near the shelf'
        : unbound
          ? `the likeliest person (track ${unbound.who.trackId}) is bound to no visit`
          : nettedInstead
            ? `the weight fits a put and a pick at once (${(nettedDoubt * 100).toFixed(1)}%) better than ${shareNames(best)} alone: ${putAndPickNames(nettedInstead, event)}`
            : `not sure enough: ${(confidence * 100).toFixed(1)}% for ${doubtNames(event.kind, best, options)}, below ${(this.params.decideAbove * 100).toFixed(0)}%`;
      if (nettedInstead) this.mayHoldReadings(event, netted, nettedDoubt);
      const pair = nettedInstead ? [nettedInstead.put.visitId, nettedInstead.pick.visitId] : [];
      // A plain doubt about a pick may be answered by its shopper's put-back of the unit (answeredPick).
      const answerable = !unseen && !unbound && !nettedInstead;
      return [this.review(event, 'attribution', reason, whos, evidence, candidates, options, [...visitsOf(best), ...this.handedBy(event, best), ...pair], answerable)];
    }
    const doubtful = shares.find((share) => share.who.trackId !== undefined && this.trackDoubt.has(share.who.trackId));
    if (doubtful) {
      // Sure of the person, not of whose visit they are: charging them would be a guess.
      record('review');
      const trackId = doubtful.who.trackId!;
      const rivals = [...this.entangledWith(doubtful.who.visitId!), ...visitsOf(best)];
      const reason = `${doubtful.who.visitId} took part through track ${trackId}, whose binding to it is in doubt: ${this.trackDoubt.get(trackId)}`;
      const opened = this.review(event, 'attribution', reason, whos, evidence, candidates, options, rivals);
      // One shopper's pick, or put of what they hold, sure but for whose visit it is: the binding
      // item's decision says that.
      const binding = !best.partner && (event.kind === 'pick' || best.carried) ? this.bindingItemOf(trackId) : undefined;
      if (!binding) return [opened];
      this.followers.set(opened.message.reviewId, { trackId, kind: event.kind, visitId: doubtful.who.visitId!, lines: movedBy(best) });
      return [{ ...opened, message: { ...opened.message, followsReviewId: binding } }];
    }
    if (!best.carried) {
      record('unexpected-put');
      const uncarried = shares.find((share) => holdShare(share.who, best.productId, share.quantity) === 0) ?? shares[0];
      return [
        this.review(event, 'unexpected-put', `${uncarried.who.visitId} put back ${uncarried.quantity} x ${best.productId} without having taken it`, whos, evidence, candidates, [], [
          ...visitsOf(best),
          ...this.handedBy(event, best),
          ...this.heldBeside(event, best, evidence),
        ]),
      ];
    }
    record('attributed');
    // A put weighed whole, or read with its rest, is no longer the one event the shelf moved stock by.
    const read = whole || how.restWaited ? [] : this.stockReading(event, best, confidence);
    return [...this.attribute(event, best, confidence, candidates), ...read];
  }

  /**
   * A put-back by one shopper of the very unit a pick of theirs in review took: a quick pick and
   * put-back of a product with look-alikes, say, the weight telling neither change apart. Whichever
   * product it was, the two cancel out on the receipt. So when the shopper holds nothing else the
   * pick may have been (HELD_BESIDE_UNITS), and it is sure enough (`decideAbove`) that the pick was
   * theirs alone and the put is theirs, of one of the pick's products, both are decided as the
   * put's likeliest product, each stating the chance that it is right (the put's confidence; for the
   * pick, its doer's share times the product's share among the put's options). The pick's review is
   * withdrawn, answered by the put. Nothing is charged on a guess, since the receipt holds neither;
   * what the put left misplaced is kept by shares (mayBeMisplaced), as the pick's review kept what it
   * took. `sure` is what a put and a pick by two shoppers at once leave of the put (nettedShare).
   */
  private answeredPick(event: ShelfEventDetected, options: readonly JointOption[], best: JointOption, confidence: number, sure: number, candidates: AttributionCandidate[]): FusionOutput[] | undefined {
    const visitId = best.who.visitId;
    if (typeof visitId !== 'string' || best.partner || best.alongside || best.quantity !== 1) return undefined;
    const visit = this.visits.get(visitId);
    if (!visit || visit.kind === 'staff' || (best.who.trackId !== undefined && this.trackDoubt.has(best.who.trackId))) return undefined;
    const alone = (o: JointOption) => !o.partner && !o.alongside && o.quantity === 1 && o.who.visitId === visitId;
    const holds = this.holdings(visit, event.startMs);
    const mass = (keep: (o: JointOption) => boolean) => sum(options.filter((o) => alone(o) && keep(o)).map((o) => o.probability));
    let found: { reviewId: string; pick: OpenPick; products: Set<string>; doer: number; putter: number; joint: number } | undefined;
    for (const [reviewId, pick] of this.openPicks) {
      if (pick.event.startMs >= event.startMs) continue;
      const own = pick.options.filter(alone);
      const products = new Set(own.map((o) => o.productId));
      if (!products.has(best.productId)) continue;
      const pending = (productId: string) => sum(pick.held.filter((add) => add.visitId === visitId && add.productId === productId).map((add) => add.units));
      if ([...products].some((productId) => (holds.get(productId) ?? 0) - pending(productId) > HELD_BESIDE_UNITS)) continue;
      const doer = sum(own.map((o) => o.probability));
      const putter = mass((o) => products.has(o.productId));
      const joint = doer * sure * putter;
      if (joint >= this.params.decideAbove && (!found || joint > found.joint)) found = { reviewId, pick, products, doer, putter, joint };
    }
    if (!found) return undefined;
    const { reviewId, pick, products, doer, putter } = found;
    // The put weighed the unit again, with the pick's shares as its prior: its share of the product is the pick's too.
    const productShare = mass((o) => o.productId === best.productId) / putter;
    const picked = pick.options.find((o) => alone(o) && o.productId === best.productId)!;
    const pickConfidence = calibrate(this.params, doer * productShare, situationOf(this.index, pick.event, picked));
    this.withdrawPick(reviewId, pick);
    this.mayBeMisplaced(event, options);
    const either = [...products].join(' or ');
    const withdrawal: FusionOutput = {
      topic: 'review.item-resolved',
      message: {
        schemaVersion: SCHEMA_VERSION,
        eventId: withdrawalEventId(reviewId),
        storeId: this.storeId,
        ts: this.decidedAt(event),
        reviewId,
        decision: {
          outcome: 'withdrawn',
          note: `${visitId} put the unit back (${event.shelfEventId}): the pick and its put-back cancel out, whichever of ${either} it was`,
          settledBy: event.shelfEventId,
        },
        reviewer: FUSION_STAGE,
      },
    };
    return [...this.attribute(pick.event, picked, pickConfidence, pick.candidates, true), withdrawal, ...this.attribute(event, best, confidence, candidates, true)];
  }

  /** A pick's review answered by a decision: what it added to the visits it named is taken back, and it is no longer open in their books. */
  private withdrawPick(reviewId: string, pick: OpenPick): void {
    this.openPicks.delete(reviewId);
    this.inReview.delete(reviewId);
    const grams = Math.abs(pick.event.deltaGrams);
    this.takeBackHeld(pick.held, pick.event);
    for (const { visitId, productId } of pick.measured) {
      const visit = this.visits.get(visitId);
      const left = withoutUnit(visit?.measured.get(productId) ?? [], grams);
      if (left.length > 0) visit?.measured.set(productId, left);
      else visit?.measured.delete(productId);
    }
    const products = new Set(pick.held.map((add) => add.productId));
    for (const visitId of pick.visitIds) {
      const visit = this.visits.get(visitId);
      if (!visit) continue;
      visit.reviews.delete(reviewId);
      visit.withdrawn.add(reviewId);
      for (const hand of [visit.hand, ...visit.hands.values()])
        if (hand.latestPickAt?.shelfId === pick.event.shelfId && hand.latestPickAt.startMs === pick.event.startMs)
          hand.latestPicked = new Set([...hand.latestPicked].filter((productId) => !products.has(productId)));
    }
  }

  /**
   * The visits that may have handed a put's item to a putter who never took it (see HAND_OFF_M):
   * holding the product when the put began, not among its putters, a track of theirs having met a
   * putter's hand since HISTORY_MS before it.
   */
  private handedBy(event: ShelfEventDetected, best: JointOption): string[] {
    if (event.kind !== 'put') return [];
    const putters = sharesOf(best).filter((share) => share.who.trackId !== undefined && holdShare(share.who, best.productId, share.quantity) === 0);
    if (putters.length === 0) return [];
    const named = new Set(visitsOf(best));
    const owners = new Set<string>();
    for (const [trackId, visitId] of this.trackVisit) {
      if (named.has(visitId) || owners.has(visitId) || this.unitsHeld(visitId, best.productId, event.startMs) <= 0) continue;
      if (putters.some((share) => this.history.handsMet(share.who.trackId!, trackId, event.startMs - HISTORY_MS, HAND_OFF_M))) owners.add(visitId);
    }
    return [...owners];
  }

  /**
   * The visits beside an unexpected put that hold its product (see HOLDER_BESIDE_M): a wrist within
   * reach of the lanes at the change, holding a unit when the put began.
   */
  private heldBeside(event: ShelfEventDetected, best: JointOption, evidence: Weighed['evidence']): string[] {
    const holders = new Set<string>();
    for (const e of evidence)
      if (typeof e.visitId === 'string' && e.contactM <= HOLDER_BESIDE_M && this.unitsHeld(e.visitId, best.productId, event.startMs) >= best.quantity / 2) holders.add(e.visitId);
    return [...holders];
  }

  /** Units of a product a shopper's visit held at `atMs` (see holdings); none for staff or a visit not known. */
  private unitsHeld(visitId: string, productId: string, atMs: number): number {
    const visit = this.visits.get(visitId);
    return visit && visit.kind !== 'staff' ? (this.holdings(visit, atMs).get(productId) ?? 0) : 0;
  }

  /**
   * The readings of a change as a put and a pick by two shoppers at once (see netted.reading.ts):
   * the shoppers whose hand was in the lanes during the change, with what they held as it began,
   * and what the lanes and plates hold.
   */
  private netted(event: ShelfEventDetected, evidence: Weighed['evidence']): NettedReading[] {
    const hands = new Map<string, NettedHand>();
    for (const e of evidence) {
      if (typeof e.visitId !== 'string' || e.contactM > IN_LANE_M || hands.has(e.visitId)) continue;
      const visit = this.visits.get(e.visitId);
      if (visit && visit.kind !== 'staff') hands.set(e.visitId, { visitId: e.visitId, holds: this.holdings(visit, event.startMs) });
    }
    if (hands.size < 2) return [];
    const onShelf = new Set(this.productsThere(event).keys());
    return nettedReadings({ deltaGrams: event.deltaGrams, sigmaGrams: event.sigmaGrams, hands: [...hands.values()], onShelf, product: (productId) => this.index.products.get(productId) });
  }

  /**
   * The products an event's change could have moved, each with the event's lanes it lies on: those
   * planned on its lanes, and those fusion knows lie misplaced on its plates (on the lanes of the
   * event they were put on; none when they lie elsewhere on those plates).
   */
  private productsThere(event: Pick<ShelfEventDetected, 'laneIds' | 'plateIds'>): Map<string, string[]> {
    const products = new Map<string, string[]>();
    for (const laneId of event.laneIds) {
      const productId = this.index.placementByLane.get(laneId)?.productId;
      if (productId) products.set(productId, [...(products.get(productId) ?? []), laneId]);
    }
    for (const plateId of event.plateIds)
      for (const [productId, known] of this.misplacedOnPlate.get(plateId) ?? [])
        products.set(productId, [...new Set([...(products.get(productId) ?? []), ...[...known.laneIds].filter((laneId) => event.laneIds.includes(laneId))])]);
    return products;
  }

  /**
   * Whether a change no product explains is smaller than half the lightest item that could have
   * moved: any product planned on its lanes or known to lie misplaced on its plates, or (for a put)
   * carried by a visit in the store.
   */
  private tooSmallForAnItem(event: ShelfEventDetected): boolean {
    const products = new Set(this.productsThere(event).keys());
    if (event.kind === 'put') for (const visit of this.visits.values()) for (const productId of this.holdings(visit).keys()) products.add(productId);
    const grams = [...products].map((productId) => this.index.products.get(productId)?.unitWeightGrams).filter((g): g is number => g !== undefined);
    return grams.length > 0 && Math.abs(event.deltaGrams) < NOT_AN_ITEM_SHARE * Math.min(...grams);
  }

  /**
   * The track whose wrist is still in the lanes when a put's evidence ends (a hand that may be resting
   * there), if any: at the last offset of the hand's profile the evidence window reaches (a short
   * change's window ends before the profile's last offset, which then holds no sighting). Within
   * RESTING_HAND_M; within LEANING_HAND_M when the put is of nothing a shopper there holds (for
   * another hand than the maker's, when its own visit holds nothing the put may be either: that hand
   * may be putting back).
   */
  private restingHand(
    event: ShelfEventDetected,
    evidence: ReadonlyArray<HandEvidence>,
    who: { people: number[] },
    heldByNobody: boolean,
    whos: readonly Who[],
  ): { trackId: string; withinM: number } | undefined {
    const last = lastProfileOffset(event.endMs + EVIDENCE_AFTER_MS - event.startMs);
    // The hand that stays must be the one that most likely made the change; another shopper's hand
    // in the lanes too (reaching beside it) does not make it any less a rest.
    const maker = evidence[likeliestOf(who)];
    const withinM = heldByNobody ? LEANING_HAND_M : RESTING_HAND_M;
    if (maker && (maker.profile[last] ?? Infinity) <= withinM) return { trackId: maker.trackId, withinM };
    // Nothing anyone there holds, and the likeliest maker left: a hand still in the lanes may be
    // resting (or leaning) there while the other took something out of the same plate.
    if (!heldByNobody) return undefined;
    const holders = new Set(whos.filter((w) => event.hypotheses.some((h) => (w.holds?.get(h.productId) ?? 0) > 0)).map((w) => w.trackId));
    const reachOf = (e: HandEvidence) => (holders.has(e.trackId) ? RESTING_HAND_M : withinM);
    const staying = evidence.filter((e) => (e.profile[last] ?? Infinity) <= reachOf(e));
    return staying.length === 1 ? { trackId: staying[0].trackId, withinM: reachOf(staying[0]) } : undefined;
  }

  /**
   * Whether a waiting put's hand has been out of its lanes for REST_GONE_MS of the people stream: a
   * lift comes while the hand is there, and its shelf event well within that time after, so the put
   * need not wait out HAND_REST_WAIT_MS.
   */
  private restLeft(rest: Pick<RestingHand, 'event' | 'trackId' | 'withinM'>, until: number): boolean {
    const boxes = this.boxesOf(rest.event);
    const since = Math.max(rest.event.endMs, until - REST_GONE_MS);
    return until - REST_GONE_MS >= rest.event.endMs && this.history.lastInLaneMs(rest.trackId, boxes, since, rest.withinM) === -Infinity;
  }

  /**
   * A resting hand this pick lifts off: a waiting put on the same plates by the hand in the lanes now
   * that most likely made this pick (another shopper taking what the resting one put back is a pick,
   * not a lift). Complete when this pick and the pieces before it weigh what the rest did; a piece
   * when they weigh less (the detector may see a lift in steps). The hand must have been in this
   * pick's lanes or in the rest's: a lift that weighs like a product is given that product's lane
   * alone, which a hand resting across two lanes may lie just beside. A hand that settled in two
   * steps (two rests) may come off in one: the lift then weighs what they did together.
   */
  private liftOfRest(event: ShelfEventDetected, evidence: ReadonlyArray<HandEvidence>, who: { people: number[] }): { rests: RestingHand[]; complete: boolean } | undefined {
    const likeliest = evidence[likeliestOf(who)];
    if (!likeliest) return undefined;
    const contactFromMs = event.startMs - CONTACT_SLACK_MS;
    const inRestLanes = (rest: RestingHand) => this.history.lastInLaneMs(rest.trackId, this.boxesOf(rest.event), contactFromMs, rest.withinM) !== -Infinity;
    const liftedBy = (rests: RestingHand[]) => {
      const changes = [...rests.flatMap((rest) => [rest.event, ...rest.lifts]), event];
      const tolerance = HAND_REST_SIGMAS * Math.hypot(...changes.map((change) => change.sigmaGrams)) + HAND_REST_SLACK_GRAMS;
      return { left: changes.reduce((sum, change) => sum + change.deltaGrams, 0), tolerance };
    };
    const hers: RestingHand[] = [];
    for (const rest of this.restingHands.values()) {
      if (rest.trackId !== likeliest.trackId || !rest.event.plateIds.some((plateId) => event.plateIds.includes(plateId))) continue;
      if (likeliest.contactM > IN_LANE_M && !inRestLanes(rest)) continue;
      hers.push(rest);
      const { left, tolerance } = liftedBy([rest]);
      if (Math.abs(left) <= tolerance) return { rests: [rest], complete: true };
      if (left > tolerance) return { rests: [rest], complete: false };
    }
    if (hers.length < 2) return undefined;
    const together = liftedBy(hers);
    return Math.abs(together.left) <= together.tolerance ? { rests: hers, complete: true } : undefined;
  }

  /** The 3D boxes of an event's lanes. */
  private boxesOf(event: Pick<ShelfEventDetected, 'laneIds'>): Box3[] {
    return event.laneIds.map((laneId) => this.index.lanes.get(laneId)?.lane.box).filter((box): box is Box3 => box !== undefined);
  }

  private reachSpent(trackId: string, event: ShelfEventDetected, laterReaches: boolean): boolean {
    return this.recentReaches.some(
      (reach) =>
        reach.trackId === trackId &&
        reach.kind === event.kind &&
        (laterReaches || reach.changeMs < event.startMs) &&
        Math.abs(reach.changeMs - event.startMs) < REACH_REUSE_MS &&
        reach.laneIds.some((laneId) => event.laneIds.includes(laneId)),
    );
  }

  /** A take of the best option's product on the event's lanes, of its kind, within TWIN_MS of it, decided for a visit one of its options names alone. */
  private twinOf(event: ShelfEventDetected, options: readonly JointOption[]): { visitId: string } | undefined {
    const productId = options[0].productId;
    const contenders = new Set(options.filter((o) => !o.partner && o.productId === productId).map((o) => o.who.visitId));
    return this.recentTakes.find(
      (take) =>
        take.shelfEventId !== event.shelfEventId &&
        take.kind === event.kind &&
        take.productId === productId &&
        Math.abs(take.startMs - event.startMs) <= TWIN_MS &&
        take.laneIds.some((laneId) => event.laneIds.includes(laneId)) &&
        contenders.has(take.visitId),
    );
  }

  /** The options with the twin's doer making this take alone weighed down by TWIN_SAME_DOER, normalised again, and the best's confidence. */
  private weighedWithTwin(event: ShelfEventDetected, options: readonly JointOption[], twinVisitId: string): Pick<Weighed, 'options' | 'best' | 'confidence'> {
    const weighed = options.map((o) => (!o.partner && o.who.visitId === twinVisitId && o.productId === options[0].productId ? { ...o, probability: o.probability * TWIN_SAME_DOER } : o));
    const total = sum(weighed.map((o) => o.probability));
    const sorted = weighed.map((o) => ({ ...o, probability: o.probability / total })).sort((a, b) => b.probability - a.probability);
    return { options: sorted, best: sorted[0], confidence: calibrate(this.params, sorted[0].probability, situationOf(this.index, event, sorted[0])) };
  }

  private whatContext(event: ShelfEventDetected, whos: readonly Who[]): WhatContext {
    const misplaced = new Map<string, number>();
    const front = new Set<string>();
    if (event.kind === 'pick')
      for (const plateId of event.plateIds)
        for (const [productId, known] of this.misplacedOnPlate.get(plateId) ?? []) {
          misplaced.set(productId, Math.max(known.units, misplaced.get(productId) ?? 0));
          if (known.front && event.laneIds.some((laneId) => known.laneIds.has(laneId))) front.add(productId);
        }
    const carried = new Map<string, number>();
    const measured = new Map<string, MeasuredUnit[]>();
    const measure = (productId: string, units: readonly MeasuredUnit[]) => measured.set(productId, [...(measured.get(productId) ?? []), ...units]);
    if (event.kind === 'pick') for (const plateId of event.plateIds) for (const [productId, known] of this.misplacedOnPlate.get(plateId) ?? []) measure(productId, known.measured);
    if (event.kind === 'put')
      for (const who of whos) {
        if (who.staff) continue;
        for (const [productId, units] of who.holds ?? []) if (units > 0) carried.set(productId, Math.max(units, carried.get(productId) ?? 0));
        if (typeof who.visitId === 'string') for (const [productId, units] of this.visits.get(who.visitId)?.measured ?? []) if (carried.has(productId)) measure(productId, units);
      }
    const planned = new Set(event.laneIds.map((laneId) => this.index.placementByLane.get(laneId)?.productId).filter((id): id is string => id !== undefined));
    return { deltaGrams: event.deltaGrams, sigmaGrams: event.sigmaGrams, planned, misplaced, front, carried, measured, product: (productId) => this.index.products.get(productId) };
  }

  /**
   * An event sent to review still moved something: a put left each product it may have been that the
   * lanes are not planned for, and a pick may have taken what lay misplaced there, each in
   * proportion to its probability. So a later pick of a possibly misplaced item is weighed against
   * the lane's own product instead of being taken for it with false certainty, and a misplaced item
   * a reviewed pick probably took stops haunting the plate.
   */
  private mayBeMisplaced(event: ShelfEventDetected, options: readonly JointOption[]): Map<string, number> {
    const marginal = new Map<string, { productId: string; quantity: number; probability: number }>();
    for (const option of options)
      for (const { productId, quantity } of movedBy({ ...option, quantity: unitsOf(option) })) {
        const key = `${productId}x${quantity}`;
        const entry = marginal.get(key) ?? { productId, quantity, probability: 0 };
        entry.probability += option.probability;
        marginal.set(key, entry);
      }
    const products = new Set([...marginal.values()].map((entry) => entry.productId));
    const before = new Map([...products].map((productId) => [productId, this.misplacedUnits(event, productId)]));
    for (const { productId, quantity, probability } of marginal.values()) {
      if (event.kind === 'pick') this.trackMisplaced(event, productId, quantity * probability, false);
      else if (probability >= MAYBE_MISPLACED_MIN && !this.plannedOn(event, productId)) this.trackMisplaced(event, productId, quantity * probability, true, quantity === 1 ? unitOf(event) : undefined);
    }
    if (event.kind === 'pick') this.pickedFrom(event);
    const sign = event.kind === 'put' ? 1 : -1;
    return new Map([...products].map((productId) => [productId, sign * (this.misplacedUnits(event, productId) - before.get(productId)!)]));
  }

  /** Units of a product fusion believes lie misplaced on an event's plates (the most on any one of them). */
  private misplacedUnits(event: Pick<ShelfEventDetected, 'plateIds'>, productId: string): number {
    return Math.max(0, ...event.plateIds.map((plateId) => this.misplacedOnPlate.get(plateId)?.get(productId)?.units ?? 0));
  }

  private plannedOn(event: Pick<ShelfEventDetected, 'laneIds'>, productId: string): boolean {
    return event.laneIds.some((laneId) => this.index.placementByLane.get(laneId)?.productId === productId);
  }

  /**
   * Keeps what fusion believes lies misplaced on each plate: a misplaced put adds (at the front), a
   * pick of it takes away. A pick of a product from its own lane takes away only what lay misplaced
   * on that lane: a plate may carry the product's own lane and, beside it, a unit misplaced on another.
   */
  private trackMisplaced(event: ShelfEventDetected, productId: string, units: number, misplaced: boolean, unit?: MeasuredUnit): void {
    const fromItsLane = event.kind === 'pick' && this.plannedOn(event, productId);
    for (const plateId of event.plateIds) {
      const onPlate = this.misplacedOnPlate.get(plateId) ?? new Map<string, Misplaced>();
      const known = onPlate.get(productId);
      if (event.kind === 'put' && misplaced) {
        const measured = unit ? withUnit(known?.measured ?? [], unit) : (known?.measured ?? []);
        onPlate.set(productId, { units: (known?.units ?? 0) + units, laneIds: new Set([...(known?.laneIds ?? []), ...event.laneIds]), front: true, measured });
      } else if (event.kind === 'pick' && known && (!fromItsLane || event.laneIds.some((laneId) => known.laneIds.has(laneId)))) {
        if (known.units - units > MISPLACED_GONE_UNITS) {
          known.units -= units;
          // A unit taken away for the most part takes its weight with it.
          if (units >= 0.5) known.measured = withoutUnit(known.measured, Math.abs(event.deltaGrams) / Math.max(1, Math.round(units)));
        } else onPlate.delete(productId);
      }
      if (onPlate.size > 0) this.misplacedOnPlate.set(plateId, onPlate);
      else this.misplacedOnPlate.delete(plateId);
    }
  }

  /** After a pick from a lane, what lay misplaced at its front is no longer known to be there. */
  private pickedFrom(event: ShelfEventDetected): void {
    for (const plateId of event.plateIds)
      for (const known of this.misplacedOnPlate.get(plateId)?.values() ?? []) if (event.laneIds.some((laneId) => known.laneIds.has(laneId))) known.front = false;
  }

  /**
   * Decides an event: each who of the best option (two for two people at once) gets its units, in a
   * message of its own that names the others' shares. With `stockByShares`, what the event moved on
   * the shelves was already kept by its options' shares (mayBeMisplaced), not as the best option alone.
   */
  private attribute(event: ShelfEventDetected, best: JointOption, confidence: number, candidates: AttributionCandidate[], stockByShares = false): FusionOutput[] {
    const misplaced = event.kind === 'put' && !this.plannedOn(event, best.productId);
    const single = unitsOf(best) === 1 && !best.alongside ? unitOf(event) : undefined;
    if (!stockByShares) {
      this.trackMisplaced(event, best.productId, unitsOf(best), misplaced, single);
      if (best.alongside) this.trackMisplaced(event, best.alongside.productId, best.alongside.quantity, false);
      if (event.kind === 'pick') this.pickedFrom(event);
    }
    const shares = sharesOf(best).map((share) => ({ ...share, visitId: share.who.visitId! }));
    this.recentReaches = this.recentReaches.filter((reach) => reach.changeMs > event.startMs - HISTORY_MS);
    this.recentTakes = this.recentTakes.filter((take) => take.startMs > event.startMs - HISTORY_MS);
    return shares.map((share, i) => {
      const visit = this.visit(share.visitId);
      visit.attributed.add(event.shelfEventId);
      const lines = movedBy({ ...best, quantity: share.quantity });
      if (visit.kind !== 'staff') {
        for (const line of lines) visit.ledger.set(line.productId, (visit.ledger.get(line.productId) ?? 0) + (event.kind === 'pick' ? line.quantity : -line.quantity));
        for (const line of lines) this.gained(visit, event, line.productId, event.kind === 'pick' ? line.quantity : -line.quantity);
        if (event.kind === 'pick' && single) visit.measured.set(best.productId, withUnit(visit.measured.get(best.productId) ?? [], single));
        if (event.kind === 'put') {
          const left = withoutUnit(visit.measured.get(best.productId) ?? [], Math.abs(event.deltaGrams) / unitsOf(best));
          if (left.length > 0) visit.measured.set(best.productId, left);
          else visit.measured.delete(best.productId);
        }
        this.tookLast(visit, event, lines.map((line) => line.productId), share.who.trackId);
      }
      if (share.who.trackId) this.recentReaches.push({ trackId: share.who.trackId, kind: event.kind, laneIds: event.laneIds, changeMs: event.startMs });
      this.recentTakes.push({ shelfEventId: event.shelfEventId, visitId: share.visitId, kind: event.kind, laneIds: event.laneIds, productId: best.productId, startMs: event.startMs });
      const others = shares.filter((other) => other !== share).map((other) => ({ visitId: other.visitId, lines: [{ productId: best.productId, quantity: other.quantity }] }));
      return {
        topic: 'fusion.event-attributed' as const,
        message: {
          schemaVersion: SCHEMA_VERSION,
          // The first share keeps the plain id, so one person's decision reads as before.
          eventId: i === 0 ? `attributed-${event.shelfEventId}` : `attributed-${event.shelfEventId}/${share.visitId}`,
          storeId: this.storeId,
          ts: this.decidedAt(event),
          shelfEventId: event.shelfEventId,
          changeStartMs: event.startMs,
          changeEndMs: event.endMs,
          visitId: share.visitId,
          visitKind: visit.kind,
          ...(share.who.trackId ? { trackId: share.who.trackId } : {}),
          kind: event.kind,
          lines,
          ...(others.length > 0 ? { sharedWith: others } : {}),
          laneIds: event.laneIds,
          misplaced,
          confidence,
          candidates: candidates.slice(0, MAX_CANDIDATES_LISTED),
          source: 'fusion' as const,
        },
      };
    });
  }

  private review(
    event: ShelfEventDetected,
    kind: 'attribution' | 'unexpected-put',
    reason: string,
    whos: Who[],
    evidence: Array<HandEvidence & { visitId: string | null }>,
    candidates: AttributionCandidate[],
    options: JointOption[] = [],
    alsoNamed: readonly string[] = [],
    answerable = false,
  ): Extract<FusionOutput, { topic: 'review.item-opened' }> {
    const reviewId = `review-${event.shelfEventId}`;
    // What the event moved on the shelves is believed by its options' shares until someone decides it.
    const believed = options.length > 0 ? this.mayBeMisplaced(event, options) : new Map<string, number>();
    const held: OpenPick['held'] = [];
    const measured: OpenPick['measured'] = [];
    const likely = whos
      .filter((w): w is Who & { visitId: string } => typeof w.visitId === 'string' && w.probability >= REVIEW_MENTION_PROBABILITY)
      .map((w) => w.visitId);
    // Visits the person may really be (a doubtful gate binding) wait for the item too.
    const visitIds = [...new Set([...likely, ...alsoNamed])];
    for (const visitId of visitIds) {
      const visit = this.visit(visitId);
      visit.reviews.add(reviewId);
      if (event.kind === 'pick' && visit.kind !== 'staff') {
        const own = options.flatMap((o) =>
          sharesOf(o)
            .filter((share) => share.who.visitId === visitId)
            .flatMap((share) => movedBy({ ...o, quantity: share.quantity }).map((line) => ({ ...line, probability: o.probability }))),
        );
        for (const add of this.mayHold(visit, event, own)) held.push({ visitId, ...add });
        // Whichever product a single unit was, it weighed what the shelf measured.
        const unit = unitOf(event);
        for (const o of options)
          if (!o.partner && !o.alongside && o.quantity === 1 && o.who.visitId === visitId) {
            visit.measured.set(o.productId, withUnit(visit.measured.get(o.productId) ?? [], unit));
            measured.push({ visitId, productId: o.productId });
          }
        // Options come likeliest first: the visit's first share names the hand that most likely moved it.
        const likeliest = options.flatMap(sharesOf).find((share) => share.who.visitId === visitId);
        if (own.length > 0) this.tookLast(visit, event, own.map((o) => o.productId), likeliest?.who.trackId);
      }
    }
    if (answerable && event.kind === 'pick' && options.length > 0) this.openPicks.set(reviewId, { event, options, candidates, visitIds, held, measured });
    this.inReview.set(reviewId, { event, believed, held });
    const byTrack = new Map(evidence.map((e) => [e.trackId, e]));
    const reviewEvidence: ReviewEvidence = {
      candidates: candidates.slice(0, MAX_CANDIDATES_LISTED).map((c) => ({ ...c, handDistances: byTrack.get(c.trackId)?.handDistances ?? [] })),
      hypotheses: event.hypotheses,
      weight: { shelfId: event.shelfId, plateIds: event.plateIds, startMs: event.startMs, endMs: event.endMs, deltaGrams: event.deltaGrams },
      frames: this.framesFor(event, evidence),
    };
    return {
      topic: 'review.item-opened',
      message: {
        schemaVersion: SCHEMA_VERSION,
        eventId: `opened-${reviewId}`,
        storeId: this.storeId,
        ts: this.decidedAt(event),
        reviewId,
        kind,
        reason,
        shelfEventId: event.shelfEventId,
        visitIds,
        change: event.kind,
        evidence: reviewEvidence,
      },
    };
  }

  /**
   * What the visit's hand holds, and the hand of the track that moved it (see the function
   * tookLast below).
   */
  private tookLast(visit: VisitState, event: ShelfEventDetected, productIds: readonly string[], trackId?: string): void {
    tookLast(visit.hand, event, productIds);
    if (trackId === undefined) return;
    const hand = visit.hands.get(trackId) ?? { latestPicked: new Set() };
    tookLast(hand, event, productIds);
    visit.hands.set(trackId, hand);
  }

  /** What a track of the visit took last; the visit's last for a track that took nothing yet (a new track continuing a lost one). */
  private handOf(visit: VisitState, trackId: string | undefined): Hand {
    return (trackId === undefined ? undefined : visit.hands.get(trackId)) ?? visit.hand;
  }

  /**
   * A pick in review may have added any of its options for this visit: each in expected units, by its
   * share of the visit's options (so an option the weight all but ruled out adds all but nothing).
   */
  private mayHold(visit: VisitState, event: ShelfEventDetected, options: ReadonlyArray<Pick<JointOption, 'productId' | 'quantity' | 'probability'>>): Array<{ productId: string; units: number }> {
    const total = options.reduce((sum, o) => sum + o.probability, 0);
    return options.map((option) => {
      const share = total > 0 ? option.probability / total : 1 / options.length;
      const units = share * option.quantity;
      this.mayHoldUnits(visit, event, option.productId, units);
      return { productId: option.productId, units };
    });
  }

  /**
   * A change sent to review as a put and a pick at once: each reading's picker may hold what it took,
   * by the reading's share of the readings' fit to the weight, times `share` (what the readings have
   * of the change). A later put-back of it is then weighed as carried, as after any pick in review.
   */
  private mayHoldReadings(event: ShelfEventDetected, readings: readonly NettedReading[], share: number): void {
    const fits = readings.map((reading) => readingFit(event.deltaGrams, reading));
    const total = fits.reduce((sum, fit) => sum + fit, 0);
    readings.forEach(({ pick }, i) => {
      const visit = this.visits.get(pick.visitId);
      if (visit && visit.kind !== 'staff' && total > 0) this.mayHoldUnits(visit, event, pick.productId, (share * pick.quantity * fits[i]) / total);
    });
  }

  /** A pick in review may have added these units of a product to a visit (pending until a decision). */
  private mayHoldUnits(visit: VisitState, event: ShelfEventDetected, productId: string, units: number): void {
    visit.pending.set(productId, (visit.pending.get(productId) ?? 0) + units);
    this.gained(visit, event, productId, units);
  }

  /** The cameras that have the event's lanes in view (and saw a candidate then), live ones only, at the middle of the change. */
  private framesFor(event: ShelfEventDetected, evidence: HandEvidence[]): ReviewEvidence['frames'] {
    const cameras = new Set<string>();
    for (const laneId of event.laneIds) for (const cameraId of this.camerasOnLane(laneId)) cameras.add(cameraId);
    for (const e of evidence) for (const cameraId of e.cameras) cameras.add(cameraId);
    const ts = Math.round((event.startMs + event.endMs) / 2);
    return [...cameras]
      .filter((cameraId) => !this.deadCameras.has(cameraId))
      .sort()
      .map((cameraId) => ({ cameraId, ts }));
  }

  private camerasOnLane(laneId: string): string[] {
    let cameras = this.laneCameras.get(laneId);
    if (!cameras) {
      const box = this.index.lanes.get(laneId)?.lane.box;
      const centre: Vec3 | null = box ? [0, 1, 2].map((axis) => (box.min[axis] + box.max[axis]) / 2) as Vec3 : null;
      cameras = centre ? [...this.index.cameras.values()].filter((camera) => inImage(camera, projectPoint(camera, centre))).map((camera) => camera.id) : [];
      this.laneCameras.set(laneId, cameras);
    }
    return cameras;
  }

  /** Settles every ended visit whose shelf events up to its exit have all arrived and been settled. */
  private settleVisits(until = this.knownUntil()): FusionOutput[] {
    const out: FusionOutput[] = [];
    for (const [visitId, visit] of this.visits) {
      if (visit.settled || visit.exitMs === undefined) continue;
      const exitMs = visit.exitMs;
      if (until < exitMs + SHELF_EVENT_WAIT_MS) continue;
      const waiting = [
        ...[...this.restingHands.values()].flatMap((rest) => [rest.event, ...rest.lifts]),
        ...[...this.awaitingTwin.values()].map((held) => held.event),
        ...[...this.awaitingPicks.values()].map((held) => held.event),
        ...[...this.awaitingPieces.values()].flatMap((held) => [held.event, ...held.pieces]),
      ];
      if ([...this.pending.values(), ...waiting].some((event) => event.startMs <= exitMs)) continue;
      visit.settled = true;
      out.push({
        topic: 'fusion.visit-settled',
        message: {
          schemaVersion: SCHEMA_VERSION,
          eventId: `settled-${visitId}`,
          storeId: this.storeId,
          ts: exitMs,
          visitId,
          exitMs,
          shelfEventIds: [...visit.attributed],
          reviewIds: [...visit.reviews],
          ...(visit.withdrawn.size > 0 ? { withdrawnReviewIds: [...visit.withdrawn] } : {}),
        },
      });
    }
    return out;
  }
}

/** How an event is settled: after its hand's rest was waited out, after a wait for its twin, after a wait for pieces of its weight, after a wait for the picks before it. */
interface SettleHow {
  restWaited?: boolean;
  twinWaited?: boolean;
  /** A pick no product explains, or a piece of one, after its wait for the pieces of its weight (PIECES_WAIT_MS). */
  piecesWaited?: boolean;
  /** A put in doubt, after its wait for the picks that began before it (picksBefore). */
  picksWaited?: boolean;
}

/** How a (product, quantity) fits a pick and its pieces, and the lanes of the pick's it fits on. */
interface PiecesFit {
  productId: string;
  quantity: number;
  density: number;
  z: number;
  laneIds: string[];
}

/**
 * The changes' weight on each plate, summed, and its variance (each change's spread evenly over its
 * plates); undefined unless every change gives its plates' own weights (`plateDeltaGrams`).
 */
function platesOf(changes: readonly ShelfEventDetected[]): Map<string, { grams: number; variance: number }> | undefined {
  const plates = new Map<string, { grams: number; variance: number }>();
  for (const change of changes) {
    const grams = change.plateDeltaGrams;
    if (!grams || grams.length !== change.plateIds.length) return undefined;
    change.plateIds.forEach((plateId, i) => {
      const plate = plates.get(plateId) ?? { grams: 0, variance: 0 };
      plates.set(plateId, { grams: plate.grams + grams[i], variance: plate.variance + change.sigmaGrams ** 2 / change.plateIds.length });
    });
  }
  return plates;
}

/** How units fit a pick and its pieces by their weight together alone (no plate's own weight known). */
function piecesFitInAll(grams: number, variance: number, unit: { grams: number; spread: number }): { density: number; z: number } | undefined {
  const sigma = Math.sqrt(variance + unit.spread ** 2);
  const z = Math.abs(grams + unit.grams) / sigma;
  return z <= PIECES_FIT_SD ? { density: Math.exp(-0.5 * z * z) / sigma, z } : undefined;
}

/** Whether a change no product explains may be a piece of a waiting pick's weight: a pick on the same shelf, on none but its plates, after it and within its wait. */
function isPieceOf(piece: ShelfEventDetected, held: { event: ShelfEventDetected; untilMs: number }): boolean {
  return (
    piece.shelfEventId !== held.event.shelfEventId &&
    piece.kind === 'pick' &&
    piece.hypotheses.length === 0 &&
    piece.shelfId === held.event.shelfId &&
    piece.startMs > held.event.startMs &&
    piece.startMs <= held.untilMs &&
    piece.plateIds.every((plateId) => held.event.plateIds.includes(plateId))
  );
}

/** Whether the doubt of a take is who made it: another visit alone with the best option's product is likely enough to be named. */
function whoIsInDoubt(options: readonly JointOption[]): boolean {
  const [best] = options;
  return (
    !best.partner &&
    typeof best.who.visitId === 'string' &&
    options.some((o) => !o.partner && o.productId === best.productId && typeof o.who.visitId === 'string' && o.who.visitId !== best.who.visitId && o.probability >= REVIEW_MENTION_PROBABILITY)
  );
}

const byEnd = (a: ShelfEventDetected, b: ShelfEventDetected) => a.endMs - b.endMs || (a.shelfEventId < b.shelfEventId ? -1 : 1);
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * What is in a hand: a pick replaces it with what it took (adds to it, when the shelf gave one grab
 * of two products as two events), a put of it empties it. An event settled late (a put that waited
 * as a resting hand) changes nothing that began after it. A new set each time: the settled records
 * of earlier events hold the old one.
 */
function tookLast(hand: Hand, event: ShelfEventDetected, productIds: readonly string[]): void {
  if (hand.latestPickAt && event.startMs < hand.latestPickAt.startMs) return;
  if (event.kind === 'put') {
    hand.latestPicked = new Set([...hand.latestPicked].filter((productId) => !productIds.includes(productId)));
    return;
  }
  const sameGrab = hand.latestPickAt?.shelfId === event.shelfId && hand.latestPickAt.startMs === event.startMs;
  if (!sameGrab) hand.before = { latestPicked: hand.latestPicked, latestPickAt: hand.latestPickAt };
  hand.latestPicked = new Set([...(sameGrab ? hand.latestPicked : []), ...productIds]);
  hand.latestPickAt = { shelfId: event.shelfId, startMs: event.startMs };
}

/** What a hand held when a change that began at `ms` began: one pick back when its latest pick began after (nothing known further back). */
function handAt(hand: Hand, ms: number): Hand {
  if (!hand.latestPickAt || hand.latestPickAt.startMs <= ms) return hand;
  const before = hand.before;
  return before && (!before.latestPickAt || before.latestPickAt.startMs <= ms) ? before : { latestPicked: new Set() };
}

/** The index of the last hand-profile offset at most `ms` after the change (the first when none is). */
function lastProfileOffset(ms: number): number {
  return Math.max(0, PROFILE_OFFSETS_MS.findLastIndex((offset) => offset <= ms));
}

/** The index of the likeliest person (the first of equals). */
function likeliestOf(who: { people: readonly number[] }): number {
  return who.people.reduce((best, p, i) => (p > who.people[best] ? i : best), 0);
}

/** The visits of an option's shares (one, or two for two people at once), for naming in a review. */
function visitsOf(option: JointOption): string[] {
  return sharesOf(option)
    .map((share) => share.who.visitId)
    .filter((visitId): visitId is string => typeof visitId === 'string');
}

/** "v-1" or "v-1 (1) and v-2 (1)" for two people at once. */
function shareNames(option: JointOption): string {
  return option.partner ? sharesOf(option).map((share) => `${share.who.visitId} (${share.quantity})`).join(' and ') : String(option.who.visitId);
}

/**
 * "v-1 taking 1 x p-a (the options give v-1 96%, 1 x p-a 81%)": the likeliest option of a doubt, and
 * how much of the options' weight its who and its what each have, so a reviewer sees at once whether
 * the doubt is about the shopper or about the product.
 */
function doubtNames(kind: 'pick' | 'put', best: JointOption, options: readonly JointOption[]): string {
  const whoOf = (option: JointOption) => sharesOf(option).map((share) => `${share.who.visitId}:${share.quantity}`).join(' ');
  const whatOf = (option: JointOption) => movedBy({ ...option, quantity: unitsOf(option) }).map((line) => `${line.quantity} x ${line.productId}`).join(' and ');
  const share = (same: (option: JointOption) => boolean) => `${(sum(options.filter(same).map((o) => o.probability)) * 100).toFixed(0)}%`;
  const [who, what] = [whoOf(best), whatOf(best)];
  return `${shareNames(best)} ${kind === 'pick' ? 'taking' : 'putting back'} ${what} (the options give ${shareNames(best)} ${share((o) => whoOf(o) === who)}, ${what} ${share((o) => whatOf(o) === what)})`;
}

/** "v-1 putting back 1 x p-a while v-2 took 1 x p-b (...g against ...g measured)": a netted reading, for a reviewer. */
function putAndPickNames(reading: NettedReading, event: Pick<ShelfEventDetected, 'deltaGrams'>): string {
  return (
    `${reading.put.visitId} putting back ${reading.put.quantity} x ${reading.put.productId} while ${reading.pick.visitId} took ${reading.pick.quantity} x ${reading.pick.productId} ` +
    `(${reading.predictedGrams.toFixed(1)} g against ${event.deltaGrams.toFixed(1)} g measured)`
  );
}

/** A single unit as the event measured it. */
function unitOf(event: Pick<ShelfEventDetected, 'deltaGrams' | 'sigmaGrams'>): MeasuredUnit {
  return { grams: Math.abs(event.deltaGrams), sigmaGrams: event.sigmaGrams };
}

/** The units with one more, the latest MEASURED_KEPT. */
function withUnit(units: readonly MeasuredUnit[], unit: MeasuredUnit): MeasuredUnit[] {
  return [...units, unit].slice(-MEASURED_KEPT);
}

/** The units without the one nearest `grams` (a unit that moved away). */
function withoutUnit(units: readonly MeasuredUnit[], grams: number): MeasuredUnit[] {
  if (units.length === 0) return [];
  let nearest = 0;
  for (let i = 1; i < units.length; i++) if (Math.abs(units[i].grams - grams) < Math.abs(units[nearest].grams - grams)) nearest = i;
  return units.filter((_, i) => i !== nearest);
}
