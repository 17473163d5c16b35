import { createHash } from 'node:crypto';
import {
  SCHEMA_VERSION,
  type GateOpened,
  type GateQrScanned,
  type PeopleTracked,
  type ReviewDecisionRefused,
  type ReviewItemOpened,
  type ReviewItemResolved,
  type StoreIndex,
  type TrackedPerson,
  type VisitEnded,
  type VisitKind,
  type VisitStarted,
  type VisitTrackBound,
  withdrawalEventId,
} from '../contracts/index.ts';
import { distanceToPolygonEdge, insidePolygon } from '../contracts/store.frame.ts';

/**
 * Who is in the store, on which tracks: the gate's scans and openings and the tracker's people in,
 * visits out (`visit.started`, `visit.track-bound`, `visit.ended`, and `review.item-opened` for a
 * doubtful binding or someone who came in without a scan).
 *
 * A pure state machine: no bus, no clock. Its time is the people stream's (store clock): every
 * decision waits until the tracker has published instants far enough past the moment it concerns,
 * so that gate messages, which come in real time while the tracker lags about a second, have had
 * time to arrive. Given the same messages in the same order it says the same things, under ids
 * derived from what they are, so a replay or a restart names everything the same way.
 *
 * The rules (docs/stages/visits.md says why each number is what it is):
 * - A scan opens a shopper visit at once. The visit's people are the tracks that cross the entry
 *   zone (come in there, then step out of it into the store) after the scan: an entry gate opening
 *   that names the visit, made while that person stood at the gate, picks it; otherwise the oldest
 *   scan whose payer has not passed; otherwise the newest scan with companions still to come. A
 *   party whose gate opened for a companion not yet in stays open for them.
 * - Crossings less than SIMULTANEOUS_MS apart that go to different visits are bound with a doubt and
 *   a `binding` review item: the order they passed in decided, and it may be wrong.
 * - A crossing that no scan explains is someone who came in without one: an anonymous visit and a
 *   `tailgating` review item. Someone coming out of the staff door opens a staff visit.
 * - A track that appears inside the store (not at a door) continues a bound track lost nearby a
 *   little before (`relinked`), nearest pair first; a long gap or a near tie adds a doubt. One that
 *   nothing continues is someone nobody let in: anonymous, flagged.
 * - A visit ends once every one of its tracks has left through an exit (or the staff door, for
 *   staff); an exit gate opening near the departure confirms it. A lost track holds its visit open
 *   for LOST_TIMEOUT_MS (or until a stream ends with nobody in view): an exit opening nobody seen
 *   claimed in that time explains it (left unseen); otherwise the visit ends with a `binding` review
 *   item. The only track lost inside leaves sooner, through such an opening once it has settled.
 * - A newcomer gone again before its relink is decided was a flicker, left unbound. One that
 *   appeared beside a bound track which vanished within SPLIT_OVERLAP_MS may continue it (the tracker
 *   started the person over). A replaced track seen again puts it and its successor in doubt.
 * - A `bound` decision on a binding item it opened (`onReviewResolved`) is the reviewer's word:
 *   the track (and the tracks continuing it) go to the decided visit without doubt. Moving it to
 *   another visit takes that visit's place in the same doubt: the track the same crossing (or the
 *   same close relink) gave that visit trades places with it; a lost track of that visit that the
 *   relink could have continued is continued by it instead, and the one it had continued is lost
 *   again. When that trade answers the other track's doubt too, the other's own binding item is
 *   withdrawn (`review.item-resolved`, outcome `withdrawn`, reviewer `gate`). An ended visit is
 *   never changed (only a doubt on it lifted); no such place, no change.
 */

/** A decision on a crossing waits this long after it (people-stream time), for a scan sent just before it to arrive, ms. */
export const CROSSING_DECIDE_MS = 2_000;
/** Crossings closer than this went through the gate together: which scan went with whom is a guess, ms. */
export const SIMULTANEOUS_MS = 1_000;
/**
 * An entry gate opening up to this long before a track was first seen may still be theirs (the
 * cameras may pick someone up a moment after the gate opened for them), ms.
 */
export const GATE_BEFORE_SEEN_MS = 1_000;
/** A scan whose payer has not come in after this long no longer waits for them, ms. */
export const SCAN_VALID_MS = 60_000;
/** Companions of a party come in within this long of the one before them, ms. */
export const PARTY_WINDOW_MS = 60_000;
/** A scanned visit nobody came in on ends this long after the scan, ms. */
export const NO_SHOW_MS = 120_000;
/** A track first seen this close to a door zone came in through that door, metres (the tracker may start it a step late). */
export const DOOR_MARGIN_M = 0.3;
/** A track not seen for this long has gone (the tracker may miss someone for an instant and keep the id), ms. */
export const GONE_AFTER_MS = 600;
/** A departure waits this long before it ends a visit: the track may come back, and the exit gate's message must have arrived, ms. */
export const EXIT_SETTLE_MS = 3_000;
/** An exit gate opening within this long before or after a departure was for it, ms. */
export const EXIT_GATE_WINDOW_MS = 3_000;
/** A track that appeared inside waits this long before it is relinked, for the track it continues to be missed, ms. */
export const RELINK_DECIDE_MS = 1_000;
/**
 * The tracker may start a new track for someone up to this long before it lets the old one go (it
 * re-runs a window of instants and may place one person twice for a moment), ms: a track that
 * vanished this soon after a newcomer appeared beside it may be continued by it.
 */
export const SPLIT_OVERLAP_MS = 1_000;
/**
 * A newcomer and a bound track seen this close in the same instant may be one person placed twice,
 * metres: the demo's restarts were 0.04 to 0.28 m from the old track, two people side by side are
 * about half a metre apart (hip centre to hip centre).
 */
export const SPLIT_NEAR_M = 0.4;
/** A lost track can be continued by a new one appearing at most this long after, ms. */
export const RELINK_WINDOW_MS = 30_000;
/** A relink across a longer gap than this is in doubt, ms. */
export const RELINK_SURE_GAP_MS = 2_000;
/** A new track this close to where a track was lost may continue it, before walking is allowed for, metres. */
export const RELINK_NEAR_M = 1.0;
/** How fast someone unseen may have walked from where they were lost, metres per second. */
export const UNSEEN_WALK_MPS = 1.5;
/** However long the gap, a relink farther than this is no relink, metres. */
export const RELINK_FAR_M = 6.0;
/** A restart reads the people stream again from this long before the first sighting it must rebuild, ms. */
export const RESTART_MARGIN_MS = 1_000;
/** A lost track is taken to keep going the way it was going for at most this long (people stop, turn), ms. */
export const PREDICT_MAX_MS = 1_000;
/** A track's velocity is measured over about this long: long enough that keypoint noise averages out, ms. */
export const VELOCITY_SPAN_MS = 500;
/** A second lost track no farther than this beyond the nearest makes a relink doubtful, metres. */
export const RELINK_AMBIGUOUS_M = 0.5;
/** A track lost inside holds its visit open this long before the visit ends without it, ms. */
export const LOST_TIMEOUT_MS = 120_000;
/**
 * The read model (`visits()`, `visitOfTrack`) keeps an ended visit this long after it ended, store
 * time, ms: what an operator looking at the store now looks back on. No decision needs an ended
 * visit once it is older than everything still undecided; the topics keep the whole history.
 */
export const ENDED_VISIT_KEEP_MS = 15 * 60_000;
/**
 * Tracks nothing can be decided about any more are let go at most this often, store time, ms: the
 * sweep looks at every track kept, and keeping one a moment longer changes no decision.
 */
export const FORGET_SWEEP_MS = 1_000;
/** Decisions on binding items not opened yet kept at most, for a restart that reads them back early. */
export const EARLY_DECISIONS_MAX = 256;

export type BinderOutput =
  | { topic: 'visit.started'; message: VisitStarted }
  | { topic: 'visit.track-bound'; message: VisitTrackBound }
  | { topic: 'visit.ended'; message: VisitEnded }
  | { topic: 'review.item-opened'; message: ReviewItemOpened }
  | { topic: 'review.item-resolved'; message: ReviewItemResolved }
  | { topic: 'review.decision-refused'; message: ReviewDecisionRefused };

/** How the gate signs what it says in the review queue: the `reviewer` of its withdrawals, `refusedBy` of its refusals. */
export const GATE_STAGE = 'gate';

/**
 * What a review decision did: applied, changed nothing (already so, a repeat), or was not taken (an
 * item or a place the binder does not know; a decision that does not hold together; one that would
 * move someone into or out of a visit that has ended, whose receipt is final: `after-exit`).
 */
export type ReviewVerdict = 'applied' | 'unchanged' | 'unknown' | 'refused' | 'after-exit' | 'ignored';

export interface ReviewResult {
  outputs: BinderOutput[];
  verdict: ReviewVerdict;
  /** Why, for the log. */
  detail: string;
  /** Why, for the operator: a decision not taken, in their words. */
  reason?: string;
}

/** A binding review item the binder opened, and what its doubt was between. */
interface BindingReview {
  trackId: string;
  why: 'crossing' | 'relink' | 'lost';
  /** Tracks that took the other places in the same doubt: the rest of the crossing, the other newcomers of a close relink. */
  partners: string[];
  /** Lost tracks the relink could have continued instead. */
  lostRivals: string[];
  /** Decisions taken (their event ids). */
  decided: Set<string>;
  /** The event id of its withdrawal, once a decision on another item answered it. */
  withdrawn?: string;
}

export type TrackStatus = 'present' | 'exited' | 'lost' | 'replaced' | 'given-up';

export interface VisitTrackView {
  trackId: string;
  member: number;
  reason: 'entry' | 'relinked' | 'reviewed';
  replaces?: string;
  doubt?: string;
  status: TrackStatus;
}

export interface VisitView {
  visitId: string;
  kind: VisitKind;
  accountId?: string;
  partySize: number;
  state: 'open' | 'ended';
  startedMs: number;
  tracks: VisitTrackView[];
  /** What the operator is told about: doubts, tailgating, a track lost for good. */
  flags: string[];
  exitMs?: number;
  confirmedByGate?: boolean;
}

type Point = [number, number];
type Door = 'entry' | 'staff-door' | 'inside';

interface Track {
  trackId: string;
  firstTs: number;
  firstPos: Point;
  /** Where the track came from: a door it was first seen at, or inside the store. */
  door: Door;
  lastTs: number;
  lastPos: Point;
  /** Floor velocity when last seen, metres per second, over VELOCITY_SPAN_MS. */
  velocity: Point;
  /** Recent positions, oldest first, spanning about VELOCITY_SPAN_MS, for the velocity. */
  recent: Array<{ ts: number; pos: Point }>;
  /** A door track that stepped out of its door zone, and when (null: not yet). */
  crossedAt: number | null;
  /** What has been decided about it: waiting for a decision, bound, or left unbound. */
  decision: 'pending' | 'bound' | 'unbound';
  visitId?: string;
  member?: number;
  /** The lost track this one continues, and the one continuing this one. */
  replaces?: string;
  replacedBy?: string;
  /** Its own binding's doubt (not one it carries from the track it continues), until a reviewer lifts it. */
  doubt?: string;
  /** Once gone and decided: how it left. */
  departure?: { ts: number; how: 'exit' | 'given-up'; confirmed: boolean };
  /** A replaced track seen again after its successor was bound (store clock, ms): two people where the visit has one. */
  seenAgainAt?: number;
  /** A newcomer's first SPLIT_OVERLAP_MS: the bound tracks seen at its place in the same instant (one person placed twice?). */
  beside?: Set<Track>;
}

interface Visit {
  visitId: string;
  kind: VisitKind;
  accountId?: string;
  partySize: number;
  gateId?: string;
  startedMs: number;
  /** Members handed out so far (entry bindings). */
  members: number;
  /** When the latest member came in (-Infinity: none yet). */
  lastEntryMs: number;
  /** Every track it has held, in the order they came to it. */
  trackIds: string[];
  bindings: Map<string, VisitTrackView>;
  flags: string[];
  ended?: { exitMs: number; confirmedByGate: boolean };
}

interface Opening {
  message: GateOpened;
  claimed: boolean;
}

/** A floor point for a person: between the hips, else the ankles, else whatever keypoints are known. */
export function floorPoint(person: Pick<TrackedPerson, 'keypoints'>): Point | null {
  const average = (indices: number[]): Point | null => {
    let x = 0;
    let y = 0;
    let n = 0;
    for (const i of indices) {
      const k = person.keypoints[i];
      if (!k) continue;
      x += k[0];
      y += k[1];
      n++;
    }
    return n ? [x / n, y / n] : null;
  };
  const HIPS = [11, 12];
  const ANKLES = [15, 16];
  return average(HIPS) ?? average(ANKLES) ?? average(person.keypoints.map((_, i) => i));
}

/** A visit id made from a track id and a prefix, within the 64 characters ids may have. */
export function visitIdForTrack(prefix: 'anon' | 'staff', trackId: string): string {
  const id = `${prefix}-${trackId}`;
  return id.length <= 64 ? id : `${prefix}-${createHash('sha1').update(trackId).digest('hex').slice(0, 24)}`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const at = (p: Point) => `(${p[0].toFixed(2)}, ${p[1].toFixed(2)})`;
const distance = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
/** In one of the zones, or within DOOR_MARGIN_M of one (the tracker may place someone a step off). */
const nearZone = (polygons: Point[][], position: Point) => polygons.some((p) => insidePolygon(position, p) || distanceToPolygonEdge(position, p) <= DOOR_MARGIN_M);

export class VisitBinder {
  private readonly storeId: string;
  private readonly zones: { entry: Point[][]; exit: Point[][]; staffDoor: Point[][] };
  /** Tracks something may still be decided about or that an open visit holds; others go at the horizon (forgetOld). */
  private readonly tracks = new Map<string, Track>();
  /** Of those, the ones waiting for a decision, and the bound ones still in play (not replaced, not departed): what each instant looks at. */
  private readonly pending = new Set<Track>();
  private readonly inPlay = new Set<Track>();
  /** Open visits, and visits ended within ENDED_VISIT_KEEP_MS (oldest end first in `endedOrder`), with the visit of each of their tracks: the read model. */
  private readonly visitsById = new Map<string, Visit>();
  private readonly visitByTrack = new Map<string, string>();
  private readonly openVisits = new Set<Visit>();
  private readonly endedOrder: Visit[] = [];
  private endedCount = 0;
  private sweptAt = -Infinity;
  /** Scanned visits, oldest scan first. */
  private readonly scans: Visit[] = [];
  private readonly entryOpenings: Opening[] = [];
  private readonly exitOpenings: Opening[] = [];
  private readonly openingIds = new Set<string>();
  /** Whether the entry gate reports its openings: then each person through it needs one of their own. */
  private gateReportsOpenings = false;
  /** Lost tracks a doubtful relink could have taken instead, and which newcomer it was: whoever continues them later is in doubt too. */
  private readonly contested = new Map<Track, string>();
  /** Visits everyone seen has left, held open for a companion the gate has opened for but who has not come in yet. */
  private readonly awaitingParty = new Set<Visit>();
  /** Binding review items opened, by review id, while their track is kept. */
  private readonly bindingReviews = new Map<string, BindingReview>();
  /** Replaced tracks seen again, waiting for their doubt to be published. */
  private readonly seenAgain = new Set<Track>();
  /** Visits a review decision changed: their end is looked at again on the next instant. */
  private readonly recheck = new Set<Visit>();
  private readonly verdicts: Record<ReviewVerdict, number> = { applied: 0, unchanged: 0, unknown: 0, refused: 0, 'after-exit': 0, ignored: 0 };
  /**
   * `bound` decisions on binding items not opened (yet), by review id: a restarted binder may read a
   * decision back before the instants that open its item again. Tried once the item opens; let go
   * once older than anything still undecided, and never more than EARLY_DECISIONS_MAX.
   */
  private readonly early = new Map<string, ReviewItemResolved>();
  /** The newest instant seen (people-stream time). */
  private now = -Infinity;
  /** Whether the newest instant had nobody in it. */
  private nobodyInView = false;
  private instants = 0;

  constructor(index: StoreIndex) {
    this.storeId = index.store.id;
    const polygons = (kind: string) => index.store.layout.zones.filter((z) => z.kind === kind).map((z) => z.polygon as Point[]);
    this.zones = { entry: polygons('entry'), exit: polygons('exit'), staffDoor: polygons('staff-door') };
  }

  /** The newest people instant taken (store clock, ms); -Infinity before the first. */
  get watermark(): number {
    return this.now;
  }

  /** A scan or a gate opening. A message seen before (same scan visit, same opening id) changes nothing. */
  onGate(message: GateQrScanned | GateOpened): BinderOutput[] {
    if ('accountId' in message) return this.onScan(message);
    // An opening older than anything still undecided cannot matter (and its id may be forgotten).
    if (this.openingIds.has(message.eventId) || message.ts < this.forgetBefore()) return [];
    this.openingIds.add(message.eventId);
    const opening = { message, claimed: false };
    const list = message.kind === 'entry' ? this.entryOpenings : this.exitOpenings;
    if (message.kind === 'entry') this.gateReportsOpenings = true;
    list.push(opening);
    list.sort((a, b) => a.message.ts - b.message.ts);
    return [];
  }

  /** One instant of the tracker's people. An instant at or before the newest one taken changes nothing. */
  onPeople(instant: PeopleTracked): BinderOutput[] {
    if (instant.ts <= this.now) return [];
    const first = this.instants === 0;
    this.now = instant.ts;
    this.instants++;
    this.nobodyInView = true;
    const seen: Track[] = [];
    for (const person of instant.people) {
      const position = floorPoint(person);
      if (!position) continue;
      this.see(person.trackId, position, first);
      this.nobodyInView = false;
      seen.push(this.tracks.get(person.trackId)!);
    }
    this.noteBeside(seen);
    return this.decide(false);
  }

  /**
   * The end of a stream (a replay): decides what waits for later instants with what is known now. A
   * stream that ends with nobody in view is a store that has closed: whoever was lost inside left
   * unseen, as the lost timeout would decide.
   */
  finish(): BinderOutput[] {
    return this.decide(true);
  }

  /**
   * A reviewer's decision. Only `bound` decisions on binding items this binder opened do anything
   * (the rule is in the header); anything else changes nothing and says why. The same decision
   * again, or one that states what the binder already holds, changes nothing.
   */
  onReviewResolved(message: ReviewItemResolved): ReviewResult {
    const result = this.reviewDecision(message);
    this.verdicts[result.verdict]++;
    // A decision on an item this gate opened that it cannot apply is answered where the operator reads the queue.
    if (result.verdict === 'refused' || result.verdict === 'after-exit') result.outputs.push(this.refusal(message, result.verdict, result.reason!));
    return result;
  }

  /** The answer to a decision not applied, named after the decision, so a decision read again is answered under the same id. */
  private refusal(decision: ReviewItemResolved, why: 'refused' | 'after-exit', reason: string): BinderOutput {
    const tag = createHash('sha1').update(`${decision.reviewId}\n${decision.eventId}`).digest('hex').slice(0, 16);
    return {
      topic: 'review.decision-refused',
      message: {
        schemaVersion: SCHEMA_VERSION,
        eventId: `refused-${tag}`,
        storeId: this.storeId,
        ts: decision.ts,
        reviewId: decision.reviewId,
        decisionEventId: decision.eventId,
        refusedBy: GATE_STAGE,
        why,
        reason,
      },
    };
  }

  /** How many review decisions were applied, changed nothing, or were not taken, since the binder started. */
  reviewVerdicts(): Record<ReviewVerdict, number> {
    return { ...this.verdicts };
  }

  private reviewDecision(message: ReviewItemResolved): ReviewResult {
    const nothing = (verdict: ReviewVerdict, reason: string): ReviewResult => ({ outputs: [], verdict, detail: `review ${message.reviewId}: ${reason}`, reason });
    const { decision } = message;
    const review = this.bindingReviews.get(message.reviewId);
    if (decision.outcome === 'withdrawn' && review?.withdrawn === message.eventId) return nothing('unchanged', `withdrawn by this gate, answered by ${decision.settledBy}`);
    if (decision.outcome !== 'bound') return nothing('ignored', review ? `decided ${decision.outcome}: the binding keeps its doubt` : `decided ${decision.outcome}: not a binding item`);
    if (!review) {
      if (/^review-(binding|lost)-/.test(message.reviewId) && message.ts >= this.forgetBefore()) {
        this.early.delete(message.reviewId);
        this.early.set(message.reviewId, message);
        if (this.early.size > EARLY_DECISIONS_MAX) this.early.delete(this.early.keys().next().value!);
      }
      return nothing('unknown', 'no binding item of that id is held by this gate (not opened yet: kept for a while; another store; or forgotten with its track)');
    }
    if (review.decided.has(message.eventId)) return nothing('unchanged', `decision ${message.eventId} was taken already`);
    const track = this.tracks.get(review.trackId);
    if (!track || track.decision !== 'bound') return nothing('unknown', `its track ${review.trackId} is no longer held`);
    const line = this.chain(track);
    if (!line.some((t) => t.trackId === decision.trackId))
      return nothing('refused', `the decision names track ${decision.trackId}, but the item is about ${track.trackId}${line.length > 1 ? ` (continued by ${line.slice(1).map((t) => t.trackId).join(', ')})` : ''}`);
    const target = this.visitsById.get(decision.visitId);
    if (!target) return nothing('unknown', `visit ${decision.visitId} is not known to this gate`);
    review.decided.add(message.eventId);
    const current = this.visitsById.get(track.visitId!)!;
    const why = `a reviewer (${message.reviewer}) decided ${track.trackId} is ${target.visitId}'s (review ${message.reviewId})`;
    if (target === current) {
      if (review.why === 'lost') {
        current.flags.push(`reviewed: ${why}`);
        return nothing('unchanged', `${track.trackId} stays on ${current.visitId}, which ended when it was lost`);
      }
      if (!track.doubt) return nothing('unchanged', `${track.trackId} is on ${current.visitId} already, without doubt`);
      track.doubt = undefined;
      current.flags.push(`reviewed: ${why}`);
      // An ended visit's tracks pick nothing more, and a binding message for it could bring back a
      // visit its consumers have let go: its record changes, and nothing is bound again.
      const rebound = this.rebound(line, message);
      const outputs = current.ended ? [] : rebound;
      // A doubt between two places only: confirming one settles the other where it is too (settled
      // only here, where what it publishes goes out: a withdrawal kept back would leave its item
      // open). The other is bound again only while its visit is in the store.
      const settled = review.partners.length + review.lostRivals.length === 1 ? this.otherOfPair(review) : undefined;
      if (settled) {
        settled.doubt = undefined;
        const theirs = this.rebound(this.chain(settled), message);
        outputs.push(...(this.visitsById.get(settled.visitId!)!.ended ? [] : theirs), ...this.withdraw(settled, message, why));
      }
      const detail = current.ended ? `${why}; the visit has ended, so only its record changes` : why;
      return { outputs, verdict: 'applied', detail: settled ? `${detail}; ${settled.trackId} stays on ${settled.visitId}` : detail };
    }
    if (review.why === 'lost') return nothing('refused', `${track.trackId} was lost for good on ${current.visitId}; a lost track is only confirmed, never moved`);
    const ended = [current, target].find((v) => v.ended);
    if (ended) {
      // A visit that has ended has had its receipt finalised and charged: the store does not rewrite it.
      // A doubt kept every pick of this person out of any cart (in review, naming the visits the doubt
      // was between), so the correction is to decide those items: checkout charges a pending line
      // decided for a visit on its own, and charges nothing for one given to another. Without a doubt
      // (lifted by an earlier decision) the picks were charged, and only a refund undoes them.
      const stays = `${ended.visitId} has ended and its receipt is final, so ${track.trackId} stays on ${current.visitId}`;
      const reason = track.doubt
        ? `${stays} with its doubt (which deciding ${current.visitId} may still lift). Its picks went to review, not to a cart: deciding those items corrects the receipts`
        : `${stays}. Its doubt was lifted before, so its picks since were charged to ${current.visitId}: a refund on that receipt (an approved contest) corrects them`;
      for (const visit of new Set([current, target])) visit.flags.push(`decision refused after exit: ${why}; ${reason}`);
      return nothing('after-exit', reason);
    }
    // The place on the target visit this doubt was between: a partner of the crossing or relink on it, or a lost track of it the relink could have continued.
    const alternatives = review.partners.length + review.lostRivals.length;
    const partner = review.partners.map((id) => this.tracks.get(id)).find((t) => t?.decision === 'bound' && t.visitId === target.visitId);
    const rival = review.lostRivals.map((id) => this.tracks.get(id)).find((t) => t?.decision === 'bound' && t.visitId === target.visitId && !t.departure);
    const continuing = rival?.replacedBy ? this.tracks.get(rival.replacedBy) : undefined;
    const other = partner ?? continuing;
    if (other) {
      const theirs = this.chain(other);
      this.exchange(track, other);
      track.doubt = undefined;
      current.flags.push(`reviewed: ${why}; ${other.trackId} takes its place`);
      target.flags.push(`reviewed: ${why}; ${other.trackId} goes to ${current.visitId}`);
      // With no third place the doubt was between, the reviewer decided the other one too: its own item is answered.
      const answered = alternatives === 1 && other.doubt !== undefined;
      if (answered) other.doubt = undefined;
      const outputs = [...this.rebound(line, message), ...this.rebound(theirs, message), ...(answered ? this.withdraw(other, message, why) : [])];
      return { outputs, verdict: 'applied', detail: `${why}; ${other.trackId} goes to ${current.visitId}` };
    }
    if (rival) {
      const freed = this.takeOver(track, rival);
      track.doubt = undefined;
      current.flags.push(`reviewed: ${why}${freed ? `; ${freed.trackId} is lost again` : ''}`);
      target.flags.push(`reviewed: ${why}, continuing ${rival.trackId}`);
      return { outputs: this.rebound(line, message), verdict: 'applied', detail: `${why}, continuing ${rival.trackId}` };
    }
    return nothing('refused', `${target.visitId} has no place in this doubt (no track of the same crossing or relink is on it)`);
  }

  /**
   * The other place of a doubt between two: its crossing partner, or the lost track its relink could
   * have continued (or the track that continues it), when that one is bound, still in doubt and on
   * another visit (which may have ended: its doubt goes from the record, and its item is withdrawn).
   */
  private otherOfPair(review: { trackId: string; partners: string[]; lostRivals: string[] }): Track | undefined {
    const own = this.tracks.get(review.trackId);
    const [id] = [...review.partners, ...review.lostRivals];
    let other = this.tracks.get(id);
    if (other?.replacedBy) other = this.tracks.get(other.replacedBy);
    if (!other || other.decision !== 'bound' || other.doubt === undefined || other.visitId === own?.visitId) return undefined;
    return other;
  }

  /**
   * Closes the binding items about a track whose doubt a decision on another item lifted, so that no
   * operator is asked again: a `review.item-resolved` whose outcome is `withdrawn`, by the gate.
   */
  private withdraw(track: Track, decision: ReviewItemResolved, why: string): BinderOutput[] {
    const out: BinderOutput[] = [];
    const visit = this.visitsById.get(track.visitId!)!;
    for (const [reviewId, review] of this.bindingReviews) {
      if (review.trackId !== track.trackId || review.why === 'lost' || review.withdrawn !== undefined || reviewId === decision.reviewId) continue;
      review.withdrawn = withdrawalEventId(reviewId);
      visit.flags.push(`withdrawn: review ${reviewId}, answered by ${decision.reviewId}`);
      out.push({
        topic: 'review.item-resolved',
        message: {
          schemaVersion: SCHEMA_VERSION,
          eventId: review.withdrawn,
          storeId: this.storeId,
          ts: decision.ts,
          reviewId,
          decision: { outcome: 'withdrawn', note: `${why}, so ${track.trackId} is ${visit.visitId}'s`, settledBy: decision.reviewId },
          reviewer: GATE_STAGE,
        },
      });
    }
    return out;
  }

  /** A track and the tracks continuing it, in order. */
  private chain(track: Track): Track[] {
    const line = [track];
    for (let next = track.replacedBy; next !== undefined; ) {
      const t = this.tracks.get(next);
      if (!t) break;
      line.push(t);
      next = t.replacedBy;
    }
    return line;
  }

  /** Two tracks (with their continuations) trade visits, members and the lost tracks they continue. */
  private exchange(a: Track, b: Track) {
    const [lineA, lineB] = [this.chain(a), this.chain(b)];
    const [visitA, visitB] = [this.visitsById.get(a.visitId!)!, this.visitsById.get(b.visitId!)!];
    const [memberA, memberB, replacesA, replacesB] = [a.member!, b.member!, a.replaces, b.replaces];
    this.moveLine(lineA, visitA, visitB, memberB);
    this.moveLine(lineB, visitB, visitA, memberA);
    a.replaces = replacesB;
    b.replaces = replacesA;
    const before = (id: string | undefined) => (id === undefined ? undefined : this.tracks.get(id));
    if (before(replacesB)) before(replacesB)!.replacedBy = a.trackId;
    if (before(replacesA)) before(replacesA)!.replacedBy = b.trackId;
  }

  /** A track (with its continuations) continues a lost track of another visit; the one it continued is lost again. */
  private takeOver(track: Track, lost: Track): Track | undefined {
    const from = this.visitsById.get(track.visitId!)!;
    const freed = track.replaces === undefined ? undefined : this.tracks.get(track.replaces);
    if (freed) {
      freed.replacedBy = undefined;
      if (!freed.departure) this.inPlay.add(freed);
    }
    this.moveLine(this.chain(track), from, this.visitsById.get(lost.visitId!)!, lost.member!);
    track.replaces = lost.trackId;
    lost.replacedBy = track.trackId;
    this.inPlay.delete(lost);
    return freed;
  }

  private moveLine(line: Track[], from: Visit, to: Visit, member: number) {
    const ids = new Set(line.map((t) => t.trackId));
    from.trackIds = from.trackIds.filter((id) => !ids.has(id));
    for (const t of line) {
      from.bindings.delete(t.trackId);
      t.visitId = to.visitId;
      t.member = member;
      to.trackIds.push(t.trackId);
      this.visitByTrack.set(t.trackId, to.visitId);
    }
    this.recheck.add(from);
    this.recheck.add(to);
  }

  /** `visit.track-bound` again for each track of a line, as the reviewer left it; each keeps only a doubt of its own binding. */
  private rebound(line: Track[], decision: ReviewItemResolved): BinderOutput[] {
    const tag = createHash('sha1').update(`${decision.reviewId}\n${decision.eventId}`).digest('hex').slice(0, 12);
    return line.map((track) => {
      const visit = this.visitsById.get(track.visitId!)!;
      const view: VisitTrackView = {
        trackId: track.trackId,
        member: track.member!,
        reason: 'reviewed',
        ...(track.replaces ? { replaces: track.replaces } : {}),
        ...(track.doubt ? { doubt: track.doubt } : {}),
        status: 'present',
      };
      visit.bindings.set(track.trackId, view);
      return {
        topic: 'visit.track-bound',
        message: {
          schemaVersion: SCHEMA_VERSION,
          eventId: `${visit.visitId}-track-${track.trackId}-reviewed-${tag}`,
          storeId: this.storeId,
          ts: decision.ts,
          visitId: visit.visitId,
          trackId: track.trackId,
          member: track.member!,
          reason: 'reviewed',
          ...(track.doubt ? { doubt: track.doubt } : {}),
        },
      };
    });
  }

  visitOfTrack(trackId: string): string | undefined {
    return this.visitByTrack.get(trackId);
  }

  /** Visits open now, and ended since the binder started (the read model keeps only recent ones). */
  counts(): { open: number; ended: number } {
    return { open: this.openVisits.size, ended: this.endedCount };
  }

  /** How much state the binder holds, for tests and stats: it follows the store's traffic, not its history. */
  held(): { tracks: number; visits: number; trackLinks: number; scans: number; openings: number } {
    return {
      tracks: this.tracks.size,
      visits: this.visitsById.size,
      trackLinks: this.visitByTrack.size,
      scans: this.scans.length,
      openings: this.entryOpenings.length + this.exitOpenings.length,
    };
  }

  visits(): VisitView[] {
    return [...this.visitsById.values()].map((visit) => ({
      visitId: visit.visitId,
      kind: visit.kind,
      ...(visit.accountId ? { accountId: visit.accountId } : {}),
      partySize: visit.partySize,
      state: visit.ended ? 'ended' : 'open',
      startedMs: visit.startedMs,
      tracks: visit.trackIds.map((trackId) => {
        const view = visit.bindings.get(trackId)!;
        const track = this.tracks.get(trackId);
        return { ...view, status: track ? this.statusOf(track) : view.status };
      }),
      flags: [...visit.flags],
      ...(visit.ended ? { exitMs: visit.ended.exitMs, confirmedByGate: visit.ended.confirmedByGate } : {}),
    }));
  }

  /**
   * Where a binder started afresh must read the streams again from to rebuild every open visit as
   * this one has it (store clock, ms): people from the first sighting of any track of an open visit
   * or awaiting a decision (less a margin, so that none of those is in the fresh binder's first
   * instant, where it would count as there before the binder), gate messages from a little earlier
   * still (an opening may precede its person being seen). Bindings of visits already ended are not
   * rebuilt: their messages are out.
   */
  restartPoint(): { people: number; gate: number } {
    let from = this.now;
    for (const visit of this.openVisits) {
      from = Math.min(from, visit.startedMs);
      for (const trackId of visit.trackIds) from = Math.min(from, this.tracks.get(trackId)?.firstTs ?? from);
    }
    for (const track of this.pending) {
      const mayCross = track.door !== 'inside' && track.crossedAt === null && !this.gone(track);
      if (track.decision === 'pending' && (track.door === 'inside' || track.crossedAt !== null || mayCross)) from = Math.min(from, track.firstTs);
    }
    const people = from - RESTART_MARGIN_MS;
    return { people, gate: people - GATE_BEFORE_SEEN_MS };
  }

  private statusOf(track: Track): TrackStatus {
    if (track.replacedBy) return 'replaced';
    if (track.departure) return track.departure.how === 'exit' ? 'exited' : 'given-up';
    return this.gone(track) ? 'lost' : 'present';
  }

  private onScan(scan: GateQrScanned): BinderOutput[] {
    // A scan older than the visits the read model keeps may be of one it let go: taken again, it would start that visit twice.
    if (this.visitsById.has(scan.visitId) || scan.ts < this.now - ENDED_VISIT_KEEP_MS) return [];
    const visit = this.newVisit({ visitId: scan.visitId, kind: 'shopper', accountId: scan.accountId, partySize: scan.partySize, gateId: scan.gateId, startedMs: scan.ts });
    this.scans.push(visit);
    this.scans.sort((a, b) => a.startedMs - b.startedMs);
    return [this.started(visit)];
  }

  private newVisit(fields: Pick<Visit, 'visitId' | 'kind' | 'partySize' | 'startedMs'> & Partial<Pick<Visit, 'accountId' | 'gateId'>>): Visit {
    const visit: Visit = { ...fields, members: 0, lastEntryMs: -Infinity, trackIds: [], bindings: new Map(), flags: [] };
    this.visitsById.set(visit.visitId, visit);
    this.openVisits.add(visit);
    return visit;
  }

  private doorOf(position: Point): Door {
    if (nearZone(this.zones.entry, position)) return 'entry';
    if (nearZone(this.zones.staffDoor, position)) return 'staff-door';
    return 'inside';
  }

  private inDoorZone(door: Door, position: Point): boolean {
    const polygons = door === 'entry' ? this.zones.entry : this.zones.staffDoor;
    return polygons.some((p) => insidePolygon(position, p));
  }

  private see(trackId: string, position: Point, firstInstant: boolean) {
    const track = this.tracks.get(trackId);
    if (track) {
      if (track.replacedBy !== undefined && track.seenAgainAt === undefined && track.decision === 'bound') {
        track.seenAgainAt = this.now;
        this.seenAgain.add(track);
      }
      track.lastTs = this.now;
      track.lastPos = position;
      track.recent.push({ ts: this.now, pos: position });
      while (track.recent.length > 2 && this.now - track.recent[1].ts >= VELOCITY_SPAN_MS) track.recent.shift();
      const [oldest] = track.recent;
      const span = (this.now - oldest.ts) / 1000;
      track.velocity = span > 0 ? [(position[0] - oldest.pos[0]) / span, (position[1] - oldest.pos[1]) / span] : [0, 0];
      if (track.door !== 'inside' && track.crossedAt === null && !this.inDoorZone(track.door, position)) track.crossedAt = this.now;
      return;
    }
    const door = this.doorOf(position);
    const fresh: Track = {
      trackId,
      firstTs: this.now,
      firstPos: position,
      door,
      lastTs: this.now,
      lastPos: position,
      velocity: [0, 0],
      recent: [{ ts: this.now, pos: position }],
      crossedAt: door !== 'inside' && !this.inDoorZone(door, position) ? this.now : null,
      // Seen in the binder's first instant away from any door: inside before the binder started, nobody's to bind.
      decision: firstInstant && door === 'inside' ? 'unbound' : 'pending',
    };
    this.tracks.set(trackId, fresh);
    if (fresh.decision === 'pending') this.pending.add(fresh);
  }

  /** For each newcomer of this instant, still in its first SPLIT_OVERLAP_MS: the bound tracks seen right where it is. */
  private noteBeside(seen: Track[]) {
    const newcomers = seen.filter((t) => t.decision === 'pending' && t.door === 'inside' && this.now - t.firstTs <= SPLIT_OVERLAP_MS);
    if (newcomers.length === 0) return;
    const bound = seen.filter((t) => this.inPlay.has(t));
    for (const newcomer of newcomers)
      for (const track of bound) if (distance(track.lastPos, newcomer.lastPos) <= SPLIT_NEAR_M) (newcomer.beside ??= new Set()).add(track);
  }

  private gone(track: Track): boolean {
    return this.now - track.lastTs >= GONE_AFTER_MS;
  }

  /** Everything whose moment has passed far enough: crossings, relinks, departures, no-shows; in time order within each kind. */
  private decide(final: boolean): BinderOutput[] {
    const out: BinderOutput[] = [];
    const ready = (ts: number, waitMs: number) => final || this.now >= ts + waitMs;
    out.push(...this.decideCrossings(ready));
    out.push(...this.decideRelinks(ready));
    out.push(...this.doubtSeenAgain());
    out.push(...this.decideDepartures(ready, final));
    out.push(...this.endNoShows());
    for (const [reviewId, decision] of this.early) {
      if (this.bindingReviews.has(reviewId)) {
        this.early.delete(reviewId);
        out.push(...this.onReviewResolved(decision).outputs);
      } else if (decision.ts < this.forgetBefore()) this.early.delete(reviewId);
    }
    this.forgetOld();
    return out;
  }

  private pendingCrossings(): Track[] {
    return [...this.pending]
      .filter((t) => t.door !== 'inside' && t.crossedAt !== null)
      .sort((a, b) => a.crossedAt! - b.crossedAt! || a.trackId.localeCompare(b.trackId));
  }

  /** Door tracks that crossed: in clusters of crossings less than SIMULTANEOUS_MS apart, each whole cluster at once. */
  private decideCrossings(ready: (ts: number, waitMs: number) => boolean): BinderOutput[] {
    const out: BinderOutput[] = [];
    for (;;) {
      const pending = this.pendingCrossings();
      if (pending.length === 0) break;
      let size = 1;
      while (size < pending.length && pending[size].crossedAt! - pending[size - 1].crossedAt! < SIMULTANEOUS_MS) size++;
      const cluster = pending.slice(0, size);
      // A crossing that may still join the cluster would come within SIMULTANEOUS_MS of its last.
      if (!ready(cluster[size - 1].crossedAt!, Math.max(CROSSING_DECIDE_MS, SIMULTANEOUS_MS))) break;
      // Each in the order they passed, taking their place in the party as they go.
      const choices = cluster.map((track) => {
        const visit = this.visitForCrossing(track);
        return { track, visit, walkIn: visit === null, member: visit ? visit.members++ : 0 };
      });
      // Only people through the entry compete for scans; someone at the staff door is staff whoever passes.
      const atEntry = choices.filter((c) => c.track.door === 'entry');
      const distinct = new Set(atEntry.map((c) => c.visit?.visitId ?? `anonymous ${c.track.trackId}`));
      const doubt =
        distinct.size > 1
          ? `${cluster.length} people crossed the entry within ${seconds(cluster[size - 1].crossedAt! - cluster[0].crossedAt!)} of each other; the order they passed in decided who is on which visit`
          : undefined;
      for (const choice of choices) if (!choice.visit) choice.visit = this.openWalkIn(choice.track, out);
      const visitIds = choices.map((c) => c.visit!.visitId);
      for (const { track, visit, walkIn, member } of choices) {
        const inDoubt = track.door === 'entry' ? doubt : undefined;
        out.push(this.bind(track, visit!, { reason: 'entry', ts: track.crossedAt!, member: walkIn ? visit!.members++ : member, doubt: inDoubt }));
        visit!.lastEntryMs = track.crossedAt!;
        if (inDoubt && visit!.kind === 'shopper') {
          const partners = choices.filter((c) => c.track !== track && c.track.door === 'entry').map((c) => c.track.trackId);
          out.push(this.review(visit!, 'binding', track, track.crossedAt!, inDoubt, visitIds, { why: 'crossing', partners, lostRivals: [] }));
        }
      }
    }
    return out;
  }

  /** The visit a crossing belongs to, or null when no scan explains it (a walk-in: staff, or tailgating). */
  private visitForCrossing(track: Track): Visit | null {
    if (track.door === 'staff-door') return null;
    const tc = track.crossedAt!;
    // A scan stamped after the crossing was made by someone behind: the one who crossed was already through.
    const open = (visit: Visit) => !visit.ended && visit.members < visit.partySize && visit.startedMs <= tc;
    // The gate opened for a visit while this person stood at it: theirs. Of several such openings, the
    // first still unclaimed: who waits at the gate since their own opening passes before whoever
    // scanned behind them (one that comes to the gate after an opening is not offered it, so a
    // newcomer who scans and passes first still takes their own).
    for (let i = 0; i < this.entryOpenings.length; i++) {
      const opening = this.entryOpenings[i];
      const ts = opening.message.ts;
      if (opening.claimed || ts > tc || ts < track.firstTs - GATE_BEFORE_SEEN_MS || !opening.message.visitId) continue;
      const visit = this.visitsById.get(opening.message.visitId);
      if (visit && open(visit)) {
        opening.claimed = true;
        return visit;
      }
    }
    if (this.gateReportsOpenings) {
      // One opening lets one person through: someone with no opening left for them came through on
      // another's (a tailgater), even while a party still has places. Openings that name no visit
      // this binder knows are claimed in the order they came.
      const unnamed = this.entryOpenings.find(
        (o) => !o.claimed && !(o.message.visitId && this.visitsById.has(o.message.visitId)) && o.message.ts <= tc && o.message.ts >= track.firstTs - GATE_BEFORE_SEEN_MS,
      );
      if (!unnamed) return null;
      unnamed.claimed = true;
    }
    const payerWaiting = this.scans.find((v) => open(v) && v.members === 0 && v.startedMs >= tc - SCAN_VALID_MS);
    if (payerWaiting) return payerWaiting;
    const partyWaiting = [...this.scans].reverse().find((v) => open(v) && v.members > 0 && tc - v.lastEntryMs <= PARTY_WINDOW_MS);
    return partyWaiting ?? null;
  }

  /** A visit for someone who came in with no scan: staff through the staff door, anyone else anonymous and flagged. */
  private openWalkIn(track: Track, out: BinderOutput[]): Visit {
    const staff = track.door === 'staff-door';
    const visit = this.newVisit({
      visitId: visitIdForTrack(staff ? 'staff' : 'anon', track.trackId),
      kind: staff ? 'staff' : 'anonymous',
      partySize: 1,
      startedMs: track.crossedAt ?? track.firstTs,
    });
    out.push(this.started(visit));
    if (!staff) {
      const where = track.door === 'entry' ? `came in through the entry at ${at(track.firstPos)}` : `appeared inside the store at ${at(track.firstPos)}`;
      const reason = `${where} with no scan or lost track to explain it`;
      visit.flags.push(`tailgating: ${reason}`);
      out.push(this.review(visit, 'tailgating', track, visit.startedMs, reason, [visit.visitId]));
    }
    return visit;
  }

  /**
   * Tracks that appeared inside the store: each continues a lost track near it, or is someone
   * unexplained. Newcomers that could continue the same lost tracks compete: the nearest pair is
   * linked first, so two people lost side by side are not crossed over because one reappeared
   * first. A newcomer still waiting its turn takes part in the competition without being decided.
   */
  private decideRelinks(ready: (ts: number, waitMs: number) => boolean): BinderOutput[] {
    const out: BinderOutput[] = [];
    // A newcomer gone again before its turn came was a flicker of the tracker (a person fused twice
    // for an instant, a ghost): nobody to bind. Relinked, it would take a lost person's visit and,
    // lost again at once, hand it to whoever appears next nearby.
    for (const track of this.pending) {
      if (track.door === 'inside' && ready(track.firstTs, RELINK_DECIDE_MS) && this.gone(track)) {
        track.decision = 'unbound';
        this.pending.delete(track);
      }
    }
    const newcomers = [...this.pending]
      .filter((t) => t.door === 'inside' && !this.gone(t))
      .sort((a, b) => a.firstTs - b.firstTs || a.trackId.localeCompare(b.trackId));
    const candidatesOf = new Map(newcomers.map((n) => [n, this.lostBefore(n)]));
    // A lost track whose own crossing is still undecided: wait for it, so the relink carries its visit.
    const decidable = newcomers.filter(
      (n) => ready(n.firstTs, RELINK_DECIDE_MS) && !candidatesOf.get(n)!.some((c) => c.lost.decision === 'pending') && !this.maySplitFrom(n, ready),
    );
    if (decidable.length === 0) return out;
    const pairs = newcomers
      .flatMap((newcomer) => candidatesOf.get(newcomer)!.map((c) => ({ newcomer, ...c })))
      .sort((a, b) => a.apart - b.apart || a.gapMs - b.gapMs || a.newcomer.trackId.localeCompare(b.newcomer.trackId) || a.lost.trackId.localeCompare(b.lost.trackId));
    const linked = new Map<Track, (typeof pairs)[number]>();
    const taken = new Set<Track>();
    for (const pair of pairs) {
      if (linked.has(pair.newcomer) || taken.has(pair.lost)) continue;
      linked.set(pair.newcomer, pair);
      taken.add(pair.lost);
    }
    for (const track of decidable) {
      const link = linked.get(track);
      if (!link) {
        const visit = this.openWalkIn(track, out);
        out.push(this.bind(track, visit, { reason: 'entry', ts: track.firstTs, member: visit.members++ }));
        continue;
      }
      // Close calls: another lost track nearly as near this newcomer, or another newcomer nearly as near its lost track.
      const rivals = pairs.filter((p) => p !== link && (p.newcomer === track || p.lost === link.lost) && p.apart <= link.apart + RELINK_AMBIGUOUS_M);
      const lostRivals = rivals.filter((r) => r.newcomer === track).map((r) => r.lost);
      const newRivals = rivals.filter((r) => r.lost === link.lost).map((r) => r.newcomer);
      const doubts: string[] = [];
      if (link.gapMs > RELINK_SURE_GAP_MS) doubts.push(`the track it continues was lost ${seconds(link.gapMs)} before`);
      if (lostRivals.length) doubts.push(`${lostRivals.length + 1} lost tracks could be this person (${[link.lost, ...lostRivals].map((t) => t.trackId).join(', ')})`);
      if (newRivals.length) doubts.push(`${newRivals.length + 1} new tracks could continue ${link.lost.trackId} (${[track, ...newRivals].map((t) => t.trackId).join(', ')})`);
      const contestedBy = this.contested.get(link.lost);
      if (contestedBy) doubts.push(`${contestedBy} could have continued ${link.lost.trackId} instead`);
      for (const rival of lostRivals) this.contested.set(rival, track.trackId);
      const doubt = doubts.length ? doubts.join('; ') : undefined;
      const visit = this.visitsById.get(link.lost.visitId!)!;
      link.lost.replacedBy = track.trackId;
      this.inPlay.delete(link.lost);
      out.push(this.bind(track, visit, { reason: 'relinked', ts: track.firstTs, member: link.lost.member!, replaces: link.lost.trackId, doubt }));
      if (doubt) {
        const rivalVisits = [...lostRivals.map((t) => t.visitId), ...newRivals.map((n) => linked.get(n)?.lost.visitId)].filter((v): v is string => v !== undefined);
        const doubtOf = { why: 'relink' as const, partners: newRivals.map((t) => t.trackId), lostRivals: lostRivals.map((t) => t.trackId) };
        out.push(this.review(visit, 'binding', track, track.firstTs, `relinked to ${link.lost.trackId}: ${doubt}`, [visit.visitId, ...rivalVisits], doubtOf));
      }
    }
    return out;
  }

  /**
   * A replaced track seen again means a relink joined two people (or the tracker follows one person
   * twice): the track and the one that continues it cannot both be the visit's person, and nothing
   * says which is. Both get a doubt (their picks and puts go to review), published as their binding
   * again, and the operator a binding item.
   */
  private doubtSeenAgain(): BinderOutput[] {
    const out: BinderOutput[] = [];
    for (const track of this.seenAgain) {
      this.seenAgain.delete(track);
      const successor = this.tracks.get(track.replacedBy!);
      const visit = this.visitsById.get(track.visitId!);
      if (!successor || !visit || visit.ended) continue;
      const doubt = `track ${track.trackId} was seen again at ${at(track.lastPos)} after ${successor.trackId} was taken to continue it: two people, and only one of them is this visit's`;
      for (const which of [track, successor]) {
        if (which.doubt !== undefined || which.visitId !== visit.visitId) continue;
        which.doubt = doubt;
        visit.flags.push(`doubt on ${which.trackId}: ${doubt}`);
        const view = visit.bindings.get(which.trackId);
        if (view) view.doubt = doubt;
        out.push({
          topic: 'visit.track-bound',
          message: {
            schemaVersion: SCHEMA_VERSION,
            eventId: `${visit.visitId}-track-${which.trackId}-seen-again`,
            storeId: this.storeId,
            ts: track.seenAgainAt!,
            visitId: visit.visitId,
            trackId: which.trackId,
            member: which.member!,
            reason: which.replaces ? 'relinked' : 'entry',
            ...(which.replaces ? { replaces: which.replaces } : {}),
            doubt,
          },
        });
      }
      out.push(this.review(visit, 'binding', track, track.seenAgainAt!, doubt, [visit.visitId], { why: 'relink', partners: [successor.trackId], lostRivals: [] }));
    }
    return out;
  }

  /**
   * Bound tracks lost before `track` appeared, near enough for it to be them, nearest first. Near is
   * measured from where the lost track was heading (its last velocity, carried on for at most
   * PREDICT_MAX_MS): two people lost side by side while walking are told apart by their direction.
   */
  private lostBefore(track: Track): Array<{ lost: Track; gapMs: number; apart: number }> {
    const candidates: Array<{ lost: Track; gapMs: number; apart: number }> = [];
    // Only a bound track still in play, or a door track that crossed and waits for its binding, can be continued.
    for (const lost of [...this.inPlay, ...this.pending]) {
      if (lost === track || lost.replacedBy || lost.departure || lost.decision === 'unbound') continue;
      if (lost.decision === 'pending' && lost.door === 'inside') continue;
      if (lost.decision === 'pending' && lost.crossedAt === null) continue;
      if (!this.gone(lost) || lost.firstTs >= track.firstTs) continue;
      // Seen after the newcomer appeared: only the same person placed twice, vanishing soon after.
      if (lost.lastTs >= track.firstTs && !(track.beside?.has(lost) && lost.lastTs <= track.firstTs + SPLIT_OVERLAP_MS)) continue;
      if (this.endsInExit(lost)) continue;
      const gapMs = Math.max(0, track.firstTs - lost.lastTs);
      if (gapMs > RELINK_WINDOW_MS) continue;
      const reach = Math.min(RELINK_FAR_M, RELINK_NEAR_M + (UNSEEN_WALK_MPS * gapMs) / 1000);
      const carried = Math.min(gapMs, PREDICT_MAX_MS) / 1000;
      const heading: Point = [lost.lastPos[0] + lost.velocity[0] * carried, lost.lastPos[1] + lost.velocity[1] * carried];
      // Near either where they were or where they were going.
      const apart = Math.min(distance(heading, track.firstPos), distance(lost.lastPos, track.firstPos));
      if (apart > reach) continue;
      candidates.push({ lost, gapMs, apart });
    }
    return candidates.sort((a, b) => a.apart - b.apart || a.gapMs - b.gapMs || a.lost.trackId.localeCompare(b.lost.trackId));
  }

  /**
   * Whether a newcomer may yet turn out to be a bound person's track starting over: a bound track
   * seen right where it is (`beside`) is still seen, and it has not been SPLIT_OVERLAP_MS since the
   * newcomer appeared, so that one may still vanish and leave the newcomer to continue it.
   */
  private maySplitFrom(newcomer: Track, ready: (ts: number, waitMs: number) => boolean): boolean {
    if (!newcomer.beside || ready(newcomer.firstTs, SPLIT_OVERLAP_MS + GONE_AFTER_MS)) return false;
    for (const track of newcomer.beside) if (!this.gone(track) && !track.departure && !track.replacedBy) return true;
    return false;
  }

  private endsInExit(track: Track): boolean {
    const polygons = this.visitsById.get(track.visitId ?? '')?.kind === 'staff' ? [...this.zones.exit, ...this.zones.staffDoor] : this.zones.exit;
    return nearZone(polygons, track.lastPos);
  }

  /**
   * Bound tracks that have gone: through an exit (once settled), or lost inside past the timeout
   * (which only time brings), or lost inside when a stream ends with nobody in view (`final`: the
   * store has closed, nothing can come back to continue them); then the visits everyone has left.
   * Departures seen at an exit go first, so that they claim their own gate openings before a lost
   * track looks for one to explain it.
   */
  private decideDepartures(ready: (ts: number, waitMs: number) => boolean, final: boolean): BinderOutput[] {
    const out: BinderOutput[] = [];
    const gone = [...this.inPlay]
      .filter((t) => this.gone(t))
      .sort((a, b) => a.lastTs - b.lastTs || a.trackId.localeCompare(b.trackId));
    const touched = new Set<Visit>();
    const lost: Track[] = [];
    for (const track of gone) {
      if (!this.endsInExit(track)) {
        lost.push(track);
        continue;
      }
      if (!ready(track.lastTs, EXIT_SETTLE_MS)) continue;
      const visit = this.visitsById.get(track.visitId!)!;
      const door = visit.kind === 'staff' && nearZone(this.zones.staffDoor, track.lastPos) ? 'staff' : 'exit';
      const opening = this.claimExitOpening(visit, door, track.lastTs - EXIT_GATE_WINDOW_MS, track.lastTs + EXIT_GATE_WINDOW_MS, track.lastTs);
      track.departure = { ts: track.lastTs, how: 'exit', confirmed: opening !== null };
      this.inPlay.delete(track);
      touched.add(visit);
    }
    const closed = final && this.nobodyInView;
    for (const track of lost) {
      const timedOut = this.now >= track.lastTs + LOST_TIMEOUT_MS;
      // The only person lost inside, and an exit opening since that no departure seen has claimed: they left unseen through it.
      const leftUnseen = !timedOut && !closed && lost.length === 1 ? this.openingNobodySeenUse(track, ready) : undefined;
      if (!timedOut && !closed && !leftUnseen) continue;
      const visit = this.visitsById.get(track.visitId!)!;
      if (leftUnseen) leftUnseen.claimed = true;
      // Lost for good: an exit opening nobody claimed since explains it (they left unseen).
      const opening = leftUnseen ?? this.claimExitOpening(visit, 'exit', track.lastTs, track.lastTs + LOST_TIMEOUT_MS, track.lastTs);
      track.departure = { ts: opening?.message.ts ?? track.lastTs, how: 'given-up', confirmed: opening !== null };
      this.inPlay.delete(track);
      touched.add(visit);
      if (!opening && visit.kind !== 'anonymous') {
        const why = timedOut
          ? `not seen again for ${seconds(LOST_TIMEOUT_MS)}`
          : `not seen again before the people stream ended with nobody in view`;
        const reason = `track ${track.trackId} was lost inside the store at ${at(track.lastPos)} and ${why}; the visit ended without seeing them leave`;
        visit.flags.push(`lost: ${reason}`);
        const ts = timedOut ? track.lastTs + LOST_TIMEOUT_MS : this.now;
        out.push(this.review(visit, 'binding', track, ts, reason, [visit.visitId], { why: 'lost', partners: [], lostRivals: [] }, 'lost'));
      }
    }
    for (const visit of [...new Set([...touched, ...this.awaitingParty, ...this.recheck])].sort((a, b) => a.visitId.localeCompare(b.visitId))) {
      this.recheck.delete(visit);
      const active = visit.trackIds.map((id) => this.tracks.get(id)!).filter((t) => !t.replacedBy);
      this.awaitingParty.delete(visit);
      if (visit.ended || active.some((t) => !t.departure)) continue;
      if (this.companionAtGate(visit)) {
        this.awaitingParty.add(visit);
        continue;
      }
      const last = active.reduce((a, b) => (b.departure!.ts >= a.departure!.ts ? b : a));
      out.push(this.end(visit, { exitMs: last.departure!.ts, confirmedByGate: last.departure!.confirmed }));
    }
    return out;
  }

  /**
   * An exit opening after a track was lost that no departure seen has claimed, once every departure
   * that could still claim it has settled (within EXIT_GATE_WINDOW_MS of it, then EXIT_SETTLE_MS),
   * and that names no other visit.
   */
  private openingNobodySeenUse(track: Track, ready: (ts: number, waitMs: number) => boolean): Opening | undefined {
    return this.exitOpenings.find(
      (o) =>
        !o.claimed &&
        o.message.kind === 'exit' &&
        o.message.ts > track.lastTs &&
        ready(o.message.ts, EXIT_GATE_WINDOW_MS + EXIT_SETTLE_MS) &&
        (!o.message.visitId || o.message.visitId === track.visitId || !this.visitsById.has(o.message.visitId)),
    );
  }

  /**
   * Whether the entry gate opened for one of the visit's party who has not come in yet (not long
   * ago): a companion waiting at the gate while the others shop, who may still come in after they left.
   */
  private companionAtGate(visit: Visit): boolean {
    if (visit.members >= visit.partySize) return false;
    return this.entryOpenings.some((o) => !o.claimed && o.message.visitId === visit.visitId && o.message.ts >= this.now - SCAN_VALID_MS);
  }

  /** The unclaimed exit (or staff) opening nearest `near` within [from, to]; one naming the visit first. Claimed when found. */
  private claimExitOpening(visit: Visit, kind: 'exit' | 'staff', from: number, to: number, near: number): Opening | null {
    const fits = this.exitOpenings.filter((o) => !o.claimed && o.message.kind === kind && o.message.ts >= from && o.message.ts <= to);
    const named = fits.filter((o) => o.message.visitId === visit.visitId);
    const pool = named.length ? named : fits.filter((o) => !o.message.visitId || !this.visitsById.has(o.message.visitId));
    const best = pool.sort((a, b) => Math.abs(a.message.ts - near) - Math.abs(b.message.ts - near) || a.message.eventId.localeCompare(b.message.eventId))[0];
    if (!best) return null;
    best.claimed = true;
    return best;
  }

  /** Scanned visits nobody came in on end NO_SHOW_MS after the scan. */
  private endNoShows(): BinderOutput[] {
    const out: BinderOutput[] = [];
    for (const visit of this.scans) {
      // Only time ends a scan: at the end of a stream its payer may still be about to come in.
      if (visit.ended || visit.trackIds.length > 0 || this.now < visit.startedMs + NO_SHOW_MS) continue;
      visit.flags.push(`no-show: nobody came in on this scan within ${seconds(NO_SHOW_MS)}`);
      out.push(this.end(visit, { exitMs: visit.startedMs, confirmedByGate: false }));
    }
    return out;
  }

  private end(visit: Visit, ended: NonNullable<Visit['ended']>): BinderOutput {
    visit.ended = ended;
    this.openVisits.delete(visit);
    this.endedOrder.push(visit);
    this.endedCount++;
    return this.endedMessage(visit);
  }

  /**
   * Lets go of what no decision can need again: departed or unbound tracks long gone, used openings,
   * ended scans; and, from the read model, visits ended more than ENDED_VISIT_KEEP_MS ago.
   */
  private forgetOld() {
    const horizon = this.forgetBefore();
    for (const list of [this.entryOpenings, this.exitOpenings])
      while (list.length && list[0].message.ts < horizon) this.openingIds.delete(list.shift()!.message.eventId);
    while (this.scans.length && (this.scans[0].ended || this.scans[0].members >= this.scans[0].partySize) && this.scans[0].startedMs < horizon) this.scans.shift();
    if (this.now < this.sweptAt + FORGET_SWEEP_MS) return;
    this.sweptAt = this.now;
    for (const [id, track] of this.tracks) {
      const visit = track.visitId ? this.visitsById.get(track.visitId) : undefined;
      // A bound track whose visit the read model let go belonged to a visit ended long ago.
      const visitEnded = track.decision === 'bound' && (visit === undefined || visit.ended !== undefined);
      const done = track.decision === 'unbound' || visitEnded || (track.decision === 'pending' && track.door !== 'inside' && track.crossedAt === null);
      if (done && track.lastTs < horizon) {
        // The read model keeps what became of it.
        const view = visit?.bindings.get(id);
        if (view) view.status = this.statusOf(track);
        this.tracks.delete(id);
        this.pending.delete(track);
        this.inPlay.delete(track);
        this.contested.delete(track);
      }
    }
    for (const [reviewId, review] of this.bindingReviews) if (!this.tracks.has(review.trackId)) this.bindingReviews.delete(reviewId);
    // Visits end roughly in order of their exit; one that ended earlier behind a later one waits its turn.
    const keepFrom = Math.min(horizon, this.now - ENDED_VISIT_KEEP_MS);
    while (this.endedOrder.length && this.endedOrder[0].ended!.exitMs < keepFrom) {
      const visit = this.endedOrder.shift()!;
      this.visitsById.delete(visit.visitId);
      for (const trackId of visit.trackIds) if (this.visitByTrack.get(trackId) === visit.visitId) this.visitByTrack.delete(trackId);
    }
  }

  /** Store time before which nothing can matter to a decision still to come. */
  private forgetBefore(): number {
    return this.now - Math.max(RELINK_WINDOW_MS, LOST_TIMEOUT_MS) - EXIT_SETTLE_MS;
  }

  private bind(track: Track, visit: Visit, how: { reason: 'entry' | 'relinked'; ts: number; member: number; replaces?: string; doubt?: string }): BinderOutput {
    track.decision = 'bound';
    this.pending.delete(track);
    this.inPlay.add(track);
    track.visitId = visit.visitId;
    this.visitByTrack.set(track.trackId, visit.visitId);
    track.member = how.member;
    track.replaces = how.replaces;
    track.doubt = how.doubt;
    visit.trackIds.push(track.trackId);
    const view: VisitTrackView = {
      trackId: track.trackId,
      member: how.member,
      reason: how.reason,
      ...(how.replaces ? { replaces: how.replaces } : {}),
      ...(how.doubt ? { doubt: how.doubt } : {}),
      status: 'present',
    };
    visit.bindings.set(track.trackId, view);
    if (how.doubt) visit.flags.push(`doubt on ${track.trackId}: ${how.doubt}`);
    return {
      topic: 'visit.track-bound',
      message: {
        schemaVersion: SCHEMA_VERSION,
        eventId: `${visit.visitId}-track-${track.trackId}`,
        storeId: this.storeId,
        ts: how.ts,
        visitId: visit.visitId,
        trackId: track.trackId,
        member: how.member,
        reason: how.reason,
        ...(how.replaces ? { replaces: how.replaces } : {}),
        ...(how.doubt ? { doubt: how.doubt } : {}),
      },
    };
  }

  private started(visit: Visit): BinderOutput {
    return {
      topic: 'visit.started',
      message: {
        schemaVersion: SCHEMA_VERSION,
        eventId: `${visit.visitId}-started`,
        storeId: this.storeId,
        ts: visit.startedMs,
        visitId: visit.visitId,
        kind: visit.kind,
        ...(visit.accountId ? { accountId: visit.accountId } : {}),
        partySize: visit.partySize,
        ...(visit.gateId ? { gateId: visit.gateId } : {}),
      },
    };
  }

  private endedMessage(visit: Visit): BinderOutput {
    return {
      topic: 'visit.ended',
      message: {
        schemaVersion: SCHEMA_VERSION,
        eventId: `${visit.visitId}-ended`,
        storeId: this.storeId,
        ts: visit.ended!.exitMs,
        visitId: visit.visitId,
        exitMs: visit.ended!.exitMs,
        confirmedByGate: visit.ended!.confirmedByGate,
      },
    };
  }

  /** A review item named after its kind, visit and track: the same doubt is one item however often it is reached. */
  private review(
    visit: Visit,
    kind: 'binding' | 'tailgating',
    track: Track,
    ts: number,
    reason: string,
    visitIds: string[],
    doubt?: Omit<BindingReview, 'trackId' | 'decided'>,
    what: string = kind,
  ): BinderOutput {
    const reviewId = `review-${what}-${visit.visitId}-${track.trackId}`.slice(0, 160);
    if (doubt && !this.bindingReviews.has(reviewId)) this.bindingReviews.set(reviewId, { ...doubt, trackId: track.trackId, decided: new Set() });
    return {
      topic: 'review.item-opened',
      message: {
        schemaVersion: SCHEMA_VERSION,
        eventId: reviewId,
        storeId: this.storeId,
        ts,
        reviewId,
        kind,
        reason,
        visitIds: [...new Set(visitIds)],
        ...(kind === 'binding' ? { trackId: track.trackId } : {}),
      },
    };
  }
}
