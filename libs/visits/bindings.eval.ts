import type { GateLine, PeopleTracked, SkeletonTruth, StoreIndex } from '../contracts/index.ts';
import { VisitBinder, type BinderOutput } from './visit.binder.ts';

/**
 * How well visits were bound, against a recording's truth: every truth person's tracks should be
 * on that person's visit (staff on a staff visit), every visit should end, and as few bindings as
 * possible should need an operator. Apart from the binder, so what is measured is what runs live.
 */

/** How much later than the instant it describes the tracker publishes it (its settling lag), ms. */
export const TRACKER_LAG_MS = 1_000;

export type BinderInput = { kind: 'gate'; line: GateLine } | { kind: 'people'; instant: PeopleTracked };

/**
 * The order live messages reach the binder: gate messages when they happen, each people instant
 * `lagMs` after it (the tracker settles an instant with what comes after it). Ties go to the gate.
 */
export function arrivalOrder(gates: readonly GateLine[], instants: readonly PeopleTracked[], lagMs = TRACKER_LAG_MS): BinderInput[] {
  const items: Array<{ at: number; rank: number; input: BinderInput }> = [
    ...gates.map((line) => ({ at: line.message.ts, rank: 0, input: { kind: 'gate', line } as BinderInput })),
    ...instants.map((instant) => ({ at: instant.ts + lagMs, rank: 1, input: { kind: 'people', instant } as BinderInput })),
  ];
  return items.sort((a, b) => a.at - b.at || a.rank - b.rank).map((item) => item.input);
}

/** Runs a fresh binder over inputs in order and returns everything it said, the end of the stream included. */
export function runBinder(index: StoreIndex, inputs: readonly BinderInput[]): { outputs: BinderOutput[]; binder: VisitBinder } {
  const binder = new VisitBinder(index);
  const outputs: BinderOutput[] = [];
  for (const input of inputs) outputs.push(...(input.kind === 'gate' ? binder.onGate(input.line.message) : binder.onPeople(input.instant)));
  outputs.push(...binder.finish());
  return { outputs, binder };
}

export interface WrongBinding {
  trackId: string;
  personId: string;
  expected: string;
  got: string | null;
  /** The operator was told: the binding, or one it continues, carries a doubt, or it is on an anonymous (flagged) visit. */
  flagged: boolean;
}

export interface BindingScore {
  /** Truth people seen on at least one track. */
  people: number;
  /** People every one of whose tracks is on their own visit (staff: on a staff visit). */
  peopleRight: number;
  tracks: number;
  tracksRight: number;
  tracksUnbound: number;
  /** Payers whose first track is member 0 of their visit. */
  payers: number;
  payersRight: number;
  relinks: number;
  relinksRight: number;
  /** Truth visits (shopper parties) and how many of them the binder ended, and of those how many the exit gate confirmed. */
  visits: number;
  visitsEnded: number;
  visitsConfirmed: number;
  /** Review items by kind, and bindings that carry a doubt. */
  reviews: Record<string, number>;
  doubts: number;
  /** Review items for every 1000 truth visits (shopper parties and staff). */
  reviewsPer1000: number;
  wrong: WrongBinding[];
  /** Wrong tracks nobody was told about: the figure that costs money. */
  wrongUnflagged: number;
}

/** Who each truth person is: their role and visit, from the skeleton truth. */
export function truthPeopleRoles(skeletons: Iterable<SkeletonTruth>): Map<string, { role: string; visitId?: string }> {
  const people = new Map<string, { role: string; visitId?: string }>();
  for (const tick of skeletons) for (const p of tick.people) if (!people.has(p.personId)) people.set(p.personId, { role: p.role, ...(p.visitId ? { visitId: p.visitId } : {}) });
  return people;
}

export function scoreBindings(
  truth: { people: Map<string, { role: string; visitId?: string }>; payers: Set<string> },
  personOfTrack: ReadonlyMap<string, string>,
  outputs: readonly BinderOutput[],
): BindingScore {
  const kindOf = new Map<string, string>();
  const bound = new Map<string, { visitId: string; member: number; reason: string; doubt?: string; replaces?: string }>();
  const ended = new Map<string, boolean>();
  const reviews: Record<string, number> = {};
  let doubts = 0;
  for (const { topic, message } of outputs) {
    if (topic === 'visit.started') kindOf.set(message.visitId, message.kind);
    else if (topic === 'visit.track-bound') {
      bound.set(message.trackId, { visitId: message.visitId, member: message.member, reason: message.reason, doubt: message.doubt, replaces: message.replaces });
      if (message.doubt) doubts++;
    } else if (topic === 'visit.ended') ended.set(message.visitId, message.confirmedByGate);
    else if (topic === 'review.item-opened') reviews[message.kind] = (reviews[message.kind] ?? 0) + 1;
  }
  const flagged = (trackId: string | undefined, depth = 0): boolean => {
    const binding = trackId === undefined ? undefined : bound.get(trackId);
    if (!binding || depth > 1000) return false;
    return binding.doubt !== undefined || kindOf.get(binding.visitId) === 'anonymous' || flagged(binding.replaces, depth + 1);
  };
  const tracksOf = new Map<string, string[]>();
  for (const [trackId, personId] of personOfTrack) tracksOf.set(personId, [...(tracksOf.get(personId) ?? []), trackId]);
  // Who is on each visit the binder made: a tailgater is bound right when they have an anonymous
  // visit of their own (the binder names it; the simulator's name for it is not knowable at the gate).
  const peopleOnVisit = new Map<string, Set<string>>();
  for (const [trackId, binding] of bound) {
    const personId = personOfTrack.get(trackId);
    if (personId !== undefined) peopleOnVisit.set(binding.visitId, new Set([...(peopleOnVisit.get(binding.visitId) ?? []), personId]));
  }
  const rightVisit = (who: { role: string; visitId?: string }, visitId: string) => {
    if (who.role === 'staff') return kindOf.get(visitId) === 'staff';
    if (who.role === 'tailgater') return kindOf.get(visitId) === 'anonymous' && (peopleOnVisit.get(visitId)?.size ?? 0) === 1;
    return visitId === who.visitId;
  };
  const score = { people: 0, peopleRight: 0, tracks: 0, tracksRight: 0, tracksUnbound: 0, payers: 0, payersRight: 0, relinks: 0, relinksRight: 0 };
  const wrong: WrongBinding[] = [];
  for (const [personId, trackIds] of tracksOf) {
    const who = truth.people.get(personId);
    if (!who) continue;
    score.people++;
    const expected = who.role === 'staff' ? 'a staff visit' : who.role === 'tailgater' ? 'an anonymous visit of their own' : who.visitId!;
    let allRight = true;
    for (const trackId of trackIds) {
      score.tracks++;
      const binding = bound.get(trackId);
      const right = binding !== undefined && rightVisit(who, binding.visitId);
      if (!binding) score.tracksUnbound++;
      if (binding?.reason === 'relinked') {
        score.relinks++;
        if (right) score.relinksRight++;
      }
      if (right) score.tracksRight++;
      else {
        allRight = false;
        wrong.push({ trackId, personId, expected, got: binding?.visitId ?? null, flagged: flagged(trackId) });
      }
    }
    if (allRight) score.peopleRight++;
    if (truth.payers.has(personId)) {
      score.payers++;
      const first = bound.get(trackIds[0]);
      if (first && first.member === 0 && first.visitId === who.visitId) score.payersRight++;
    }
  }
  const truthVisits = new Set([...truth.people.values()].filter((p) => p.visitId).map((p) => p.visitId!));
  const staff = [...truth.people.values()].filter((p) => p.role === 'staff').length;
  const reviewCount = Object.values(reviews).reduce((sum, n) => sum + n, 0);
  return {
    ...score,
    visits: truthVisits.size,
    visitsEnded: [...truthVisits].filter((v) => ended.has(v)).length,
    visitsConfirmed: [...truthVisits].filter((v) => ended.get(v) === true).length,
    reviews,
    doubts,
    reviewsPer1000: (1000 * reviewCount) / Math.max(1, truthVisits.size + staff),
    wrong,
    wrongUnflagged: wrong.filter((w) => !w.flagged).length,
  };
}
