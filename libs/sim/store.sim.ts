import {
  KP,
  MAX_SCENARIO_SECONDS,
  plateShares,
  WalkoutError,
  type ActionTruth,
  type GateLine,
  type ReceiptTruth,
  type Scenario,
  type ScenarioPerson,
  type StoreIndex,
  type Vec2,
  type Vec3,
  type VisitTruth,
} from '../contracts/index.ts';
import { drawAppearance, type Appearance } from './appearance.ts';
import { buildFloorMap, laneAccess, zoneCentre, type FloorMap } from './floor.map.ts';
import type { LoadCellFault, PlateLoadChange } from './loadcell.sim.ts';
import { cumulativeLengths, PersonTimeline, type Hand, type Segment } from './person.timeline.ts';
import { skeleton, type BodyShape } from './body.model.ts';
import { createRandom, type Random } from './random.ts';

/**
 * Runs a scenario in a store: plans every person's movements, then replays the shelf transactions
 * in time order against a per-lane inventory of individual items (each with its own weight). The
 * result holds all ground truth plus what the sensors must show (plate load changes, lane stock).
 */

const SCAN_S = 1.2; // standing at the entry gate while the QR code is read
const EXIT_S = 1.0; // passing the exit gate
const TURN_S = 0.4;
const REACH_OUT_S = 0.75;
const GRASP_S = 0.45;
const REACH_BACK_S = 0.7;
const WEIGHT_TRANSIENT_MS = 400; // public load-cell data shows picks as transients of about 0.4 s
const HAND_OFF_GAP_M = 0.65;
const HAND_OFF_HEIGHT_M = 1.05;
const HAND_OFF_MIN_NOTICE_MS = 2_500; // the receiver must still be there this long: reach out, hold, let go
const UNITS_PER_REACH = 2; // a hand takes at most two units at once
const RESTOCK_UNITS_PER_REACH = 3;
const ARM_FRACTION = 0.186 + 0.146; // shoulder to wrist, fraction of body height
const REACH_COMFORT = 0.97; // people do not lock the elbow straight
const MAX_LEAN_RAD = 0.9;
const SAME_PLACE_M = 0.05;
const PERSONAL_SPACE_M = 0.5; // shoulder to shoulder: centres of two people standing side by side
const MAX_SIDESTEP_M = 0.3; // a reach still gets to the lane from this far along the shelf
const STAY_GUESS_MS = 4000; // how long someone who arrives at a shelf is likely to stand there
const WALK_CLEARANCE_M = 0.4; // a walker passes others no closer than this, centre to centre
const YIELD_STEP_MS = 250; // a walker who would bump into someone waits this long and looks again
const MAX_YIELD_MS = 30_000; // then goes anyway (and the simulation warns)
const CLEARANCE_SAMPLE_MS = 100;
const SHELF_DWELL_GUESS_MS = 2000; // a shopper arriving at a shelf stands there at least this long
const BODY_RADIUS_M = 0.25; // the walker's own half-width, kept off the people walked round
const GATE_CLEAR_S = 1.0; // after the scan, the time it takes to step away from the gate
const TAILGATE_PASS_MS = 600; // a tailgater slips through the open gate right behind the person they follow
const HAND_REST_GRAMS_RANGE = [15, 60] as const; // a hand resting on a plate, not pressing: grams it adds
const DROP_REACH_MS = 700; // bent down, the hand closing on the item on the floor
const DROP_AHEAD_M = 0.35; // a dropped item lands about this far in front of the feet
const DROP_HEIGHT_M = 0.06;
const HAND_OFF_WAIT_MARGIN_MS = 2_000; // a receiver who waits stays this much longer than the giver needs
const MAX_PLANNING_ROUNDS = 5; // re-plans to give receivers who wait the time their givers need
const ALONG_SHELF_STEPS_M = [0.15, -0.15, 0.3, -0.3, 0.45, -0.45]; // other spots at a shelf, nearest first
const STEP_ASIDE_RADII_M = [0.3, 0.55, 0.8]; // other spots anywhere else, nearest ring first
const STEP_ASIDE_DIRECTIONS = 12;
const GOOD_ENOUGH_WAIT_MS = 5_000; // a free spot reached within this wait ends the search for one
const HOLDING_RADII_M = [0.9, 1.4]; // where someone waits for a crowd to clear: this far from where they want to be
const MAX_PATIENCE_MS = 120_000; // the longest anyone waits for a way to clear before pushing through
const MAX_HOLDS = 3; // times someone steps aside to wait before one walk, at most
const REACH_SPOT_STEPS_M = [0, 0.1, -0.1, 0.2, -0.2, 0.3, -0.3]; // spots along the shelf from a lane's own, to reach it from
const REACH_SPOT_CLOSER_M = [0, 0.05]; // and a step nearer the shelf (toes against it)
const CACHE_GRID_MS = 50; // the common step of YIELD_STEP_MS and CLEARANCE_SAMPLE_MS
const MIN_APART_M = 0.3; // two people's floor centres never closer: their bodies would overlap
const APART_MARGIN_M = 0.05; // kept on top, so sampling between instants does not hide a brush
const STAY_MARGIN_MS = 500;
const MAX_REPLANS = 6; // a person is planned again at most this often to find stays clear of everyone
const MAX_DOOR_REPLANS = 20; // and this often while they would stand at the entry door with someone
const SQUEEZE_MARGIN_M = 0.05; // squeezing out of a crowd, the way keeps this far inside the gaps
const MAX_WAIT_ASIDES = 2; // times someone steps aside out of a passer-by's way before one walk, at most
const PARTY_TOGETHER_MS = 3_000; // a party member comes to the door at most this long after the one before them left it
const MAX_PARTY_REPLANS = 4; // a party is planned again at most this often to pass the entry together

export interface SimPerson {
  id: string;
  role: ScenarioPerson['role'];
  visitId?: string;
  accountId?: string;
  appearance: Appearance;
  timeline: PersonTimeline;
}

export interface Item {
  productId: string;
  grams: number;
  /**
   * The visit of whoever last took the item off a shelf: an item handed to another shopper stays on
   * the receipt of the visit that picked it (the rule the big vendors use), wherever it leaves the store.
   */
  pickedByVisit?: string;
}

export interface Simulation {
  scenario: Scenario;
  index: StoreIndex;
  startMs: number;
  endMs: number;
  people: SimPerson[];
  gateLines: GateLine[];
  actions: ActionTruth[];
  visits: VisitTruth[];
  receipts: ReceiptTruth[];
  /** Per shelf: what happens to the load on its plates, in time order. */
  plateChanges: Map<string, PlateLoadChange[]>;
  /** Per plate: grams of stock resting on it when the recording starts. */
  initialPlateGrams: Map<string, number>;
  faults: LoadCellFault[];
  /** Units on a lane at time t (for drawing the shelves). */
  laneStockAt(laneId: string, t: number): number;
  warnings: string[];
  /** When each lane action's weight changed (ms), and when a hand came to rest on the plate before it. */
  contacts: Map<string, { atMs: number; restFromMs?: number }>;
}

type Transaction =
  | { kind: 'pick'; t: number; personId: string; laneId: string; quantity: number; startMs: number; endMs: number; rest?: { fromMs: number; durationMs: number; grams: number } }
  | { kind: 'drop'; t: number; personId: string; productId?: string; startMs: number; endMs: number }
  | { kind: 'put'; t: number; personId: string; laneId: string; quantity: number; productId?: string; startMs: number; endMs: number }
  | { kind: 'restock'; t: number; personId: string; laneId: string; quantity: number; startMs: number; endMs: number }
  | { kind: 'hand-off'; t: number; personId: string; toPersonId: string; quantity: number; productId?: string; startMs: number; endMs: number }
  | { kind: 'lean'; t: number; personId: string; laneId: string; durationMs: number };

/**
 * Checks a scenario against the store it runs in, naming the person and action that are wrong. The
 * scenario's `store` is where it runs by default; any store holding every lane, product and load
 * cell it names will do (the same kiosk with other cameras, say).
 */
export function checkScenarioAgainstStore(scenario: Scenario, index: StoreIndex): string[] {
  const problems: string[] = [];
  scenario.people.forEach((person, pi) =>
    person.actions.forEach((action, ai) => {
      if ('lane' in action && !index.lanes.has(action.lane))
        problems.push(`people.${pi}.actions.${ai}: ${person.id} goes to unknown lane ${action.lane}`);
      if (action.do === 'pick' && action.reachFrom && !index.lanes.has(action.reachFrom))
        problems.push(`people.${pi}.actions.${ai}: ${person.id} reaches from unknown lane ${action.reachFrom}`);
      if (action.do === 'put' && action.product && !index.products.has(action.product))
        problems.push(`people.${pi}.actions.${ai}: ${person.id} puts unknown product ${action.product}`);
    }),
  );
  const cells = new Set(index.store.loadCells.map((c) => c.id));
  scenario.faults.forEach((f, i) => {
    if (!cells.has(f.loadCell)) problems.push(`faults.${i}: unknown load cell ${f.loadCell}`);
  });
  const kinds = new Set(index.store.layout.zones.map((z) => z.kind));
  for (const needed of ['entry', 'exit'] as const) if (!kinds.has(needed)) problems.push(`store ${index.store.id} has no ${needed} zone`);
  if (scenario.people.some((p) => p.role === 'staff') && !kinds.has('staff-door'))
    problems.push(`store ${index.store.id} has no staff door for the staff in this scenario`);
  return problems;
}

/**
 * When the recording ends: a little after the last person leaves. A scenario whose people stay
 * longer than the simulator records is refused here, after planning (cheap) and before any sample,
 * frame or file is made.
 */
function recordingEnd(scenario: Scenario, people: readonly SimPerson[]): number {
  const last = people.reduce((latest, person) => (person.timeline.exitMs > latest.timeline.exitMs ? person : latest));
  const endMs = last.timeline.exitMs + Math.round(scenario.tailS * 1000);
  const seconds = (endMs - scenario.startMs) / 1000;
  if (seconds > MAX_SCENARIO_SECONDS)
    throw new WalkoutError(
      'SCENARIO_INVALID',
      `scenario ${scenario.name} runs ${seconds.toFixed(0)} s of store time (${last.id} leaves last, at ${((last.timeline.exitMs - scenario.startMs) / 1000).toFixed(0)} s); ` +
        `the simulator records at most ${MAX_SCENARIO_SECONDS} s (MAX_SCENARIO_SECONDS)`,
    );
  return endMs;
}

/**
 * People who receive a hand-off are planned before those who give, so the giver can walk to them; the
 * person a tailgater follows is planned before the tailgater, who comes in right behind them; a payer
 * is planned before their companions, who can only pass the gate once the payer has scanned. Those
 * who come in on someone's scan or behind them are planned right after that person, before anyone
 * else: people planned in between would take the door first, and a payer planned early (to receive a
 * hand-off) could shop and leave while the party still queued outside.
 */
function planningOrder(people: ScenarioPerson[]): ScenarioPerson[] {
  const byId = new Map(people.map((p) => [p.id, p]));
  const followers = new Map<string, ScenarioPerson[]>();
  for (const p of people) if (p.role === 'tailgater' || p.role === 'companion') followers.set(p.with!, [...(followers.get(p.with!) ?? []), p]);
  const order: ScenarioPerson[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: ScenarioPerson, chain: string[]) => {
    if (state.get(p.id) === 'done') return;
    if (state.get(p.id) === 'visiting')
      throw new WalkoutError('SCENARIO_INVALID', `hand-offs go round in a circle: ${[...chain, p.id].join(' -> ')}`);
    state.set(p.id, 'visiting');
    if (p.role === 'tailgater' || p.role === 'companion') visit(byId.get(p.with!)!, [...chain, p.id]);
    for (const a of p.actions) if (a.do === 'hand-off') visit(byId.get(a.to)!, [...chain, p.id]);
    state.set(p.id, 'done');
    order.push(p);
    for (const follower of followers.get(p.id) ?? []) visit(follower, [...chain, p.id]);
  };
  for (const p of people) visit(p, []);
  return order;
}

/** A receiver's `wait-for`: where it is in the scenario, and what the last plan made of it. */
interface WaitFor {
  key: string;
  receiverId: string;
  giverId: string;
  maxMs: number;
  /** When the receiver began to wait in the last plan. */
  fromMs: number;
  /** When the giver's hand-off ended (or, if the receiver had gone, when it would have): the wait needed. */
  neededUntilMs?: number;
  handedOver: boolean;
}

interface Plan {
  people: Map<string, SimPerson>;
  gateLines: GateLine[];
  transactions: Transaction[];
  warnings: string[];
  waits: WaitFor[];
}

const waitKey = (receiverId: string, giverId: string) => `${receiverId}<${giverId}`;

/** The scenario without the hand-offs (and the receivers' waits for them) that could not happen. */
function withoutHandOffs(scenario: Scenario, unmet: readonly WaitFor[]): Scenario {
  const dropped = (giverId: string, receiverId: string) => unmet.some((w) => w.giverId === giverId && w.receiverId === receiverId);
  const people = scenario.people.map((person) => {
    const actions = person.actions.filter(
      (a) => !(a.do === 'hand-off' && dropped(person.id, a.to)) && !(a.do === 'wait-for' && dropped(a.from, person.id)),
    );
    const handsOff = actions.some((a) => a.do === 'hand-off' || a.do === 'wait-for');
    const tags = person.tags?.filter((tag) => tag !== 'hand-off' || handsOff);
    return { ...person, actions, ...(person.tags ? { tags } : {}) };
  });
  return { ...scenario, people };
}

export function simulate(planned: Scenario, index: StoreIndex, seed: number): Simulation {
  const problems = checkScenarioAgainstStore(planned, index);
  if (problems.length) throw new WalkoutError('SCENARIO_INVALID', `scenario ${planned.name}:\n${problems.join('\n')}`);
  const random = createRandom(seed);
  const floor = buildFloorMap(index);
  const startMs = planned.startMs;
  const at = (s: number) => startMs + Math.round(s * 1000);

  // Receivers who wait for a giver stand as long as the giver needs, which only a plan tells: plan,
  // lengthen the waits that were too short, plan again (waits only grow, so this settles quickly).
  // A hand-off whose receiver still cannot wait long enough is taken out of the scenario (with its
  // tag), so the recording never claims a hand-off that did not happen.
  const waitMs = new Map<string, number>();
  let scenario = planned;
  let plan = planEveryone(scenario, index, floor, random, waitMs);
  for (let round = 1; round < MAX_PLANNING_ROUNDS; round++) {
    let longer = false;
    for (const wait of plan.waits) {
      if (wait.handedOver || wait.neededUntilMs === undefined) continue;
      const needed = Math.min(wait.maxMs, Math.round(wait.neededUntilMs + HAND_OFF_WAIT_MARGIN_MS - wait.fromMs));
      if (needed > (waitMs.get(wait.key) ?? 0)) {
        waitMs.set(wait.key, needed);
        longer = true;
      }
    }
    if (!longer || round === MAX_PLANNING_ROUNDS - 1) {
      const unmet = plan.waits.filter((wait) => !wait.handedOver);
      if (unmet.length === 0) break;
      scenario = withoutHandOffs(scenario, unmet);
    }
    plan = planEveryone(scenario, index, floor, random, waitMs);
  }
  const { people, gateLines, transactions, warnings } = plan;

  const simPeople = scenario.people.map((p) => people.get(p.id)!);
  const endMs = recordingEnd(scenario, simPeople);
  const shelf = replayTransactions(index, transactions, people, random.fork('inventory'), warnings);

  const tagsOf = (personIds: string[]) =>
    [...new Set(personIds.flatMap((id) => scenario.people.find((p) => p.id === id)!.tags ?? []))].sort();
  const visits: VisitTruth[] = simPeople
    .filter((p) => p.role === 'shopper' || p.role === 'tailgater')
    .map((payer) => {
      const party = simPeople.filter((p) => p.visitId === payer.visitId);
      const personIds = party.map((p) => p.id);
      return {
        visitId: payer.visitId!,
        kind: payer.role === 'tailgater' ? ('anonymous' as const) : ('shopper' as const),
        ...(payer.accountId ? { accountId: payer.accountId } : {}),
        personIds,
        entryMs: Math.min(...party.map((p) => p.timeline.enterMs)),
        exitMs: Math.max(...party.map((p) => p.timeline.exitMs)),
        tags: tagsOf(personIds),
      };
    });
  const receipts: ReceiptTruth[] = visits.map((visit) => {
    const counts = new Map<string, number>();
    for (const items of shelf.carried.values())
      for (const item of items) if (item.pickedByVisit === visit.visitId) counts.set(item.productId, (counts.get(item.productId) ?? 0) + 1);
    const lines = [...counts.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([productId, quantity]) => ({ productId, quantity, unitPriceCents: index.products.get(productId)!.priceCents }));
    return {
      visitId: visit.visitId,
      ...(visit.accountId ? { accountId: visit.accountId } : {}),
      lines,
      totalCents: lines.reduce((s, l) => s + l.quantity * l.unitPriceCents, 0),
    };
  });
  for (const p of simPeople)
    if (p.role === 'staff' && (shelf.carried.get(p.id)?.length ?? 0) > 0) warnings.push(`staff ${p.id} left carrying items`);

  gateLines.sort((a, b) => a.message.ts - b.message.ts);
  return {
    scenario,
    index,
    startMs,
    endMs,
    people: simPeople,
    gateLines,
    actions: shelf.actions,
    visits,
    receipts,
    plateChanges: shelf.plateChanges,
    initialPlateGrams: shelf.initialPlateGrams,
    faults: scenario.faults.map((f) => ({ loadCellId: f.loadCell, kind: f.kind, fromMs: at(f.atS) })),
    laneStockAt: shelf.laneStockAt,
    warnings,
    contacts: shelf.contacts,
  };
}

/**
 * Plans every person's movements, one after the other: each keeps clear of those planned before.
 * `waitMs` holds how long each receiver's `wait-for` lasts this time (0 when not yet known).
 */
function planEveryone(scenario: Scenario, index: StoreIndex, floor: FloorMap, random: Random, waitMs: ReadonlyMap<string, number>): Plan {
  const startMs = scenario.startMs;
  const at = (s: number) => startMs + Math.round(s * 1000);
  const zone = (kind: 'entry' | 'exit' | 'staff-door') => index.store.layout.zones.find((z) => z.kind === kind)!;
  const gate = (kind: 'entry' | 'exit' | 'staff') => index.store.gates.find((g) => g.kind === kind);
  const warnings: string[] = [];
  const gateLines: GateLine[] = [];
  const transactions: Transaction[] = [];
  const people = new Map<string, SimPerson>();
  const occupied: Occupancy[] = [];
  const waits: WaitFor[] = [];
  const gateOpenedAt = new Map<string, number>(); // person id -> when the entry gate opened for them

  const visitOf = (p: ScenarioPerson) =>
    p.role === 'shopper' || p.role === 'tailgater' ? `v-${p.id}` : p.role === 'companion' ? `v-${p.with!}` : undefined;

  // A party (a payer, then whoever comes in on their scan or behind them) passes the entry together:
  // when one of them would wait outside long after the one before them went in (people planned
  // earlier keep coming to the door), the payer is planned again waiting for a longer free door.
  const order = planningOrder(scenario.people);
  for (let i = 0; i < order.length; ) {
    const leader = order[i];
    let size = 1;
    while (i + size < order.length && order[i + size].with === leader.id) size++;
    const party = order.slice(i, i + size);
    i += size;
    if (size === 1) {
      planClearOfOthers(leader, 0);
      continue;
    }
    const mark = { gateLines: gateLines.length, transactions: transactions.length, warnings: warnings.length, occupied: occupied.length, waits: waits.map((w) => ({ ...w })) };
    let partyDoorMs = 0;
    for (let attempt = 0; ; attempt++) {
      for (const member of party) planClearOfOthers(member, member === leader ? partyDoorMs : 0);
      const apart = partyApart(party.map((p) => people.get(p.id)!.timeline));
      if (apart.lagMs <= PARTY_TOGETHER_MS || attempt === MAX_PARTY_REPLANS) break;
      gateLines.length = mark.gateLines;
      transactions.length = mark.transactions;
      warnings.length = mark.warnings;
      occupied.length = mark.occupied;
      waits.splice(0, waits.length, ...mark.waits.map((w) => ({ ...w })));
      for (const member of party) {
        people.delete(member.id);
        gateOpenedAt.delete(member.id);
      }
      partyDoorMs = Math.max(2 * partyDoorMs, apart.doorMs);
    }
  }
  return { people, gateLines, transactions, warnings, waits };

  /**
   * Plans one person clear of everyone planned before. Planned one after another, a person does not
   * know at first how long those planned before them will keep passing by: plan them, find where
   * they would stand in the way of someone planned earlier (who walks through that spot), make the
   * walk that brought them there wait until the spot stays clear for the whole stay, and plan them
   * again. `doorMs`: how long the entry must be free when they arrive (their party's time there).
   */
  function planClearOfOthers(person: ScenarioPerson, doorMs: number) {
    const stayAfterWalk = new Map<number, number>(doorMs > 0 ? [[-1, doorMs]] : []);
    const mark = { gateLines: gateLines.length, transactions: transactions.length, warnings: warnings.length, waits: waits.map((w) => ({ ...w })) };
    const rollBack = () => {
      gateLines.length = mark.gateLines;
      transactions.length = mark.transactions;
      warnings.length = mark.warnings;
      waits.splice(0, waits.length, ...mark.waits.map((w) => ({ ...w })));
    };
    let timeline = planPerson(person, stayAfterWalk);
    // A longer stay can leave no clear way at all: the try with the fewest warnings, then the fewest
    // instants at the entry door with someone, then the fewest instants in someone's way, is kept.
    let meetings = stillMeetings(people, person.id, timeline);
    const badness = () => (warnings.length - mark.warnings) * 1e6 + meetings.atDoor * 1e3 + meetings.instants;
    let best = { badness: badness(), stays: new Map(stayAfterWalk), latest: true };
    // Two people at the entry gate at once is what the gate cannot tell apart: that is tried longer,
    // each try asking for a longer free door (so a later arrival), until one is found.
    for (let attempt = 1; meetings.instants > 0 && (attempt <= MAX_REPLANS || (meetings.atDoor > 0 && attempt <= MAX_DOOR_REPLANS)); attempt++) {
      let longer = false;
      for (const [k, stay] of meetings.stays)
        if (stay > (stayAfterWalk.get(k) ?? 0)) {
          stayAfterWalk.set(k, stay);
          longer = true;
        }
      if (!longer && meetings.atDoor > 0) {
        stayAfterWalk.set(-1, (stayAfterWalk.get(-1) ?? 0) + YIELD_STEP_MS);
        longer = true;
      }
      if (!longer) break;
      rollBack();
      timeline = planPerson(person, stayAfterWalk);
      meetings = stillMeetings(people, person.id, timeline);
      best.latest = false;
      if (badness() < best.badness) best = { badness: badness(), stays: new Map(stayAfterWalk), latest: true };
    }
    if (!best.latest) {
      rollBack();
      timeline = planPerson(person, best.stays);
    }
    // Where this person stood still, and when: people planned later keep out of these spots.
    for (const seg of timeline.segments) if (seg.kind !== 'walk') occupied.push({ personId: person.id, at: seg.at, t0: seg.t0, t1: seg.t1 });
  }

  /** One person's movements, keeping clear of those planned before; `stayAfterWalk`: how long to stay clear after the n-th walk. */
  function planPerson(person: ScenarioPerson, stayAfterWalk: ReadonlyMap<number, number>): PersonTimeline {
    const personRandom = random.fork(`person:${person.id}`);
    const appearance = drawAppearance(personRandom, person.role === 'tailgater' ? 'shopper' : person.role, person.appearance ?? {});
    const doorZone = person.role === 'staff' ? zone('staff-door') : zone('entry');
    const inside = (p: Vec2): Vec2 => towardsFloor(index, floor, p);
    const door = inside(zoneCentre(doorZone.polygon));
    // One person at a time passes the gate; whoever finds someone there waits outside, unseen. A
    // tailgater waits for the gate to open for the person they follow and slips in right behind them.
    // A companion passes on their payer's scan: not before the gate has opened for the payer, however
    // long the payer waited outside for a free door.
    const tailgating = person.role === 'tailgater';
    const following = tailgating || person.role === 'companion';
    const earliest = following ? Math.max(at(person.arriveAtS), gateOpenedAt.get(person.with!) ?? 0) : at(person.arriveAtS);
    const atDoorMs = Math.max(tailgating ? TAILGATE_PASS_MS : Math.round((SCAN_S + GATE_CLEAR_S) * 1000), stayAfterWalk.get(-1) ?? 0);
    const arrival = waitForFreeSpot(people, person.id, door, earliest, atDoorMs);
    const timeline = new PersonTimeline({ heightM: appearance.heightM, build: appearance.build }, arrival);
    const visitId = visitOf(person);
    const sim: SimPerson = { id: person.id, role: person.role, visitId, accountId: person.accountId, appearance, timeline };
    people.set(person.id, sim);
    const speed = person.walkingSpeedMps ?? Math.min(1.6, Math.max(0.9, personRandom.normal(1.25, 0.12)));
    const strideM = 0.83 * appearance.heightM; // two steps, each about 0.41 of body height
    let pos: Vec2 = door;
    let heading = Math.atan2(index.store.layout.floor[2][1] / 2 - pos[1], index.store.layout.floor[2][0] / 2 - pos[0]);
    let t = arrival;
    let phase = 0;
    let walksSoFar = 0;

    const stand = (ms: number) => {
      if (ms <= 0) return;
      timeline.add({ kind: 'stand', t0: t, t1: t + ms, at: pos, heading });
      t += ms;
    };
    type Route = { along: number[]; walk: (t0: number) => Segment; wait: number | null };
    /** The way to `goal` that gets there soonest without walking through anyone: straight, or round whoever stands still. */
    const bestRoute = (goal: Vec2, dwellMs: number, meeting?: string, squeeze = false, delayMs = 0): Route => {
      const route = (path: Vec2[]): Route => {
        const along = cumulativeLengths(path);
        const ms = Math.round((along.at(-1)! / speed + 0.4) * 1000);
        const walk = (t0: number): Segment => ({ kind: 'walk', t0, t1: t0 + ms, path, along, startPhase: phase, strideM });
        const wait = waitForClearWay(people, person.id, timeline.shape, walk, t + delayMs, dwellMs, meeting);
        return { along, walk, wait: wait === null ? null : delayMs + wait };
      };
      let chosen = route(floor.path(pos, goal));
      if (chosen.wait !== 0) {
        // Someone is in the way: walk round whoever stands still there, if that is quicker than waiting.
        // Squeezing out of a crowd, the circles kept clear shrink so they leave the start and the goal
        // outside them: someone shoulder to shoulder with others can still step out of the row.
        const room = (at: Vec2) => Math.min(Math.hypot(at[0] - pos[0], at[1] - pos[1]), Math.hypot(at[0] - goal[0], at[1] - goal[1])) - SQUEEZE_MARGIN_M;
        const standing = standingStill(people, person.id, t + delayMs, meeting).map((at) => ({
          at,
          radius: squeeze ? Math.max(0, Math.min(WALK_CLEARANCE_M + BODY_RADIUS_M, room(at))) : WALK_CLEARANCE_M + BODY_RADIUS_M,
        }));
        const detour = route(floor.path(pos, goal, standing));
        if (routeCost(detour, speed) < routeCost(chosen, speed)) chosen = detour;
      }
      return chosen;
    };
    /**
     * Walks to `goal`, or, when people stand there or in the way for longer than anyone waits, to the
     * first of `elsewhere` (free spots nearby, nearest first) that can be reached. Returns where the
     * walk ended.
     */
    const walkTo = (
      goal: Vec2,
      finalHeading?: number | ((end: Vec2) => number),
      dwellMs = 0,
      meeting?: string,
      elsewhere: () => Vec2[] = () => [],
      holds = 0,
      asides = 0,
    ): Vec2 => {
      let end = goal;
      if (Math.hypot(goal[0] - pos[0], goal[1] - pos[1]) > SAME_PLACE_M) {
        // The stay after this walk, as far as known: the guess, or what an earlier try of this plan showed.
        dwellMs = Math.max(dwellMs, stayAfterWalk.get(walksSoFar) ?? 0);
        let chosen = bestRoute(goal, dwellMs, meeting);
        if (chosen.wait === null) chosen = bestRoute(goal, dwellMs, meeting, true);
        if (chosen.wait === null) {
          // Step aside into free space: the nearest spot that opens up soonest.
          for (const spot of elsewhere()) {
            if (Math.hypot(spot[0] - pos[0], spot[1] - pos[1]) <= SAME_PLACE_M) continue;
            const other = bestRoute(spot, dwellMs, meeting, true);
            if (routeCost(other, speed) < routeCost(chosen, speed)) {
              chosen = other;
              end = spot;
            }
            if (chosen.wait !== null && chosen.wait <= GOOD_ENOUGH_WAIT_MS) break;
          }
        }
        if (chosen.wait === null && holds < MAX_HOLDS) {
          // Blocked for longer than anyone waits: go and wait somewhere free nearby, out of the
          // crowd, and try again from there.
          for (const spot of [...around(goal, HOLDING_RADII_M), ...around(pos, HOLDING_RADII_M)]) {
            if (Math.hypot(spot[0] - pos[0], spot[1] - pos[1]) < PERSONAL_SPACE_M) continue; // somewhere else
            const there = bestRoute(spot, SHELF_DWELL_GUESS_MS, meeting, true);
            if (there.wait === null) continue;
            walkTo(spot, undefined, SHELF_DWELL_GUESS_MS, meeting, undefined, MAX_HOLDS, MAX_WAIT_ASIDES);
            return walkTo(goal, finalHeading, dwellMs, meeting, elsewhere, holds + 1, asides);
          }
        }
        // Last, before anyone walks through anyone: wait longer where this person is.
        for (let delay = MAX_YIELD_MS; chosen.wait === null && delay < MAX_PATIENCE_MS; delay += MAX_YIELD_MS) chosen = bestRoute(goal, dwellMs, meeting, true, delay);
        // Someone planned before will pass right where this person would wait (they cannot know
        // about a later person): wait a step aside, in free space, and go on from there. Not at the
        // door, where whoever waits outside is unseen and only one stands at a time.
        if (chosen.wait !== null && chosen.wait > 0 && asides < MAX_WAIT_ASIDES && walksSoFar > 0 && passesNear(people, person.id, pos, t, t + chosen.wait, meeting)) {
          for (const spot of around(pos, [...STEP_ASIDE_RADII_M, ...HOLDING_RADII_M])) {
            if (bestRoute(spot, chosen.wait, meeting, true).wait !== 0) continue;
            walkTo(spot, undefined, chosen.wait, meeting, undefined, MAX_HOLDS, MAX_WAIT_ASIDES);
            return walkTo(goal, finalHeading, dwellMs, meeting, elsewhere, holds, asides + 1);
          }
        }
        if (chosen.wait === null) warnings.push(`${person.id} found no clear way at ${((t - startMs) / 1000).toFixed(1)} s and walked through someone`);
        else stand(chosen.wait);
        const segment = chosen.walk(t);
        const along = chosen.along;
        timeline.add(segment);
        walksSoFar++;
        const ms = segment.t1 - segment.t0;
        phase += (along.at(-1)! / strideM) * 2 * Math.PI;
        heading = timeline.poseAt(t + ms).heading;
        t += ms;
        pos = end;
      }
      const turnTo = typeof finalHeading === 'function' ? finalHeading(end) : finalHeading;
      if (turnTo !== undefined) {
        const delta = Math.abs(Math.atan2(Math.sin(turnTo - heading), Math.cos(turnTo - heading)));
        if (delta > 0.05) {
          const ms = Math.round(TURN_S * 1000 * Math.max(0.5, delta / Math.PI) * 2);
          timeline.add({ kind: 'turn', t0: t, t1: t + ms, at: pos, from: heading, to: turnTo });
          t += ms;
        }
        heading = turnTo;
      }
      return end;
    };
    /** A reach towards `target`; returns the moments the hand arrives and leaves. */
    const reach = (target: Vec3, holdMs: number, hand: Hand = 'right') => {
      const out = Math.round(REACH_OUT_S * 1000 * personRandom.uniform(0.85, 1.15));
      const back = Math.round(REACH_BACK_S * 1000 * personRandom.uniform(0.85, 1.15));
      const { crouch, lean } = postureFor(timeline.shape, pos, heading, target, hand);
      const seg = { kind: 'reach' as const, t0: t, t1: t + out + holdMs + back, at: pos, heading, hand, target, holdFrom: t + out, holdTo: t + out + holdMs, crouch, lean };
      timeline.add(seg);
      t = seg.t1;
      return seg;
    };
    /** Free floor spots round a point, nearest ring first. */
    const around = (centre: Vec2, radii: readonly number[] = STEP_ASIDE_RADII_M): Vec2[] =>
      radii.flatMap((radius) =>
        Array.from({ length: STEP_ASIDE_DIRECTIONS }, (_, k): Vec2 => {
          const angle = (2 * Math.PI * k) / STEP_ASIDE_DIRECTIONS;
          return [centre[0] + radius * Math.cos(angle), centre[1] + radius * Math.sin(angle)];
        }).filter((spot) => floor.walkable(spot)),
      );
    const goToLane = (laneId: string) => {
      const access = laneAccess(index, laneId);
      let spot = inside(access.stand);
      if (Math.hypot(spot[0] - pos[0], spot[1] - pos[1]) > SAME_PLACE_M) {
        const along = cumulativeLengths(floor.path(pos, spot)).at(-1)!;
        const arrival = t + (along / speed) * 1000;
        const roomy = inside(makeRoom(occupied, person.id, spot, access.heading, arrival, arrival + STAY_GUESS_MS));
        // Making room must not put the lane out of reach: then the lane's own spot it is, waiting for it.
        if (reachesWithEither(timeline.shape, roomy, access.heading, access.hand)) spot = roomy;
      }
      // Other spots along the shelf from which the hand still gets to the lane.
      const alongShelf = (): Vec2[] => {
        const direction: Vec2 = [-Math.sin(access.heading), Math.cos(access.heading)];
        return ALONG_SHELF_STEPS_M.flatMap((d): Vec2[] => {
          const p: Vec2 = [spot[0] + direction[0] * d, spot[1] + direction[1] * d];
          const reachable = reachesWithEither(timeline.shape, p, access.heading, access.hand);
          return floor.walkable(p) && reachable ? [p] : [];
        });
      };
      walkTo(spot, access.heading, SHELF_DWELL_GUESS_MS, undefined, alongShelf);
      return access;
    };

    /**
     * The hand that gets to `target` from where the person stands, `preferred` if it can. When neither
     * can (the spot was taken and they stood aside), they step to a spot at the lane (`home`) from
     * which a hand reaches, the nearest first, waiting for it to clear: no item moves while the hand
     * is away from its lane.
     */
    const handThatReaches = (target: Vec3, preferred: Hand, home: { stand: Vec2; heading: number }, laneId: string): Hand => {
      const other: Hand = preferred === 'left' ? 'right' : 'left';
      const reaches = (h: Hand) => reachablePosture(timeline.shape, pos, heading, target, h) !== null;
      if (reaches(preferred)) return preferred;
      if (reaches(other)) return other;
      const along: Vec2 = [-Math.sin(home.heading), Math.cos(home.heading)];
      const towards: Vec2 = [Math.cos(home.heading), Math.sin(home.heading)];
      const start = inside(home.stand);
      const spots = REACH_SPOT_STEPS_M.flatMap((d) =>
        REACH_SPOT_CLOSER_M.map((c): Vec2 => [start[0] + along[0] * d + towards[0] * c, start[1] + along[1] * d + towards[1] * c]),
      )
        .filter((p) => floor.walkable(p) && reachesWithEither(timeline.shape, p, home.heading, target))
        .sort((a, b) => Math.hypot(a[0] - pos[0], a[1] - pos[1]) - Math.hypot(b[0] - pos[0], b[1] - pos[1]));
      if (spots.length === 0) {
        warnings.push(`${person.id} cannot reach lane ${laneId} from anywhere in front of it`);
        return preferred;
      }
      walkTo(spots[0], home.heading, SHELF_DWELL_GUESS_MS);
      return reaches(preferred) || !reaches(other) ? preferred : other;
    };

    // Entering: shoppers scan the app QR code; companions pass with them; tailgaters slip in behind
    // someone else, unscanned; staff use the staff door. Gate events are named after what they are
    // (the gate, the visit or the time and who passed), not counted: one more person in a scenario
    // renames nobody else's.
    stand(tailgating ? TAILGATE_PASS_MS : Math.round(SCAN_S * 1000));
    const entryGate = person.role === 'staff' ? gate('staff') : gate('entry');
    if (person.role === 'shopper') {
      const partySize = 1 + scenario.people.filter((p) => p.role === 'companion' && p.with === person.id).length;
      gateLines.push({
        topic: 'gate.qr-scanned',
        message: { schemaVersion: 1, eventId: `${entryGate!.id}-scan-${visitId}`, storeId: index.store.id, ts: arrival + 500, gateId: entryGate!.id, visitId: visitId!, accountId: person.accountId!, partySize },
      });
    }
    gateOpenedAt.set(person.id, t - 200);
    if (entryGate && !tailgating)
      gateLines.push({
        topic: 'gate.opened',
        message: { schemaVersion: 1, eventId: `${entryGate.id}-opened-${t - 200}-${person.id}`, storeId: index.store.id, ts: t - 200, gateId: entryGate.id, kind: entryGate.kind, ...(visitId ? { visitId } : {}) },
      });

    person.actions.forEach((action) => {
      switch (action.do) {
        case 'walk-to':
          goToLane(action.lane);
          break;
        case 'pick':
        case 'restock': {
          // Reaching across from a neighbour's spot, the hand on that side goes (arms cross).
          const across = action.do === 'pick' ? action.reachFrom : undefined;
          const access = across ? { ...goToLane(across), hand: laneAccess(index, action.lane).hand } : goToLane(action.lane);
          const hand = handThatReaches(
            access.hand,
            across && sideOf(pos, heading, access.hand) === 'left' ? 'left' : 'right',
            laneAccess(index, action.lane),
            action.lane,
          );
          let left = action.quantity;
          const perReach = action.do === 'pick' ? UNITS_PER_REACH : RESTOCK_UNITS_PER_REACH;
          // A long hand rest: the hand lies on the plate (it feels a little weight) before it takes hold.
          const restMs = action.do === 'pick' ? Math.round((action.restS ?? 0) * 1000) : 0;
          let firstReach = true;
          while (left > 0) {
            const n = Math.min(perReach, left);
            const resting = firstReach ? restMs : 0;
            const seg = reach(access.hand, resting + Math.round(GRASP_S * 1000), hand);
            // A pick lifts the item as the hand starts back; a restock sets it down as the hand arrives.
            const contact = action.do === 'pick' ? seg.holdTo - 100 : seg.holdFrom + 100;
            const rest = resting > 0 ? { rest: { fromMs: seg.holdFrom, durationMs: resting, grams: personRandom.uniform(...HAND_REST_GRAMS_RANGE) } } : {};
            transactions.push({ kind: action.do, t: contact, personId: person.id, laneId: action.lane, quantity: n, startMs: seg.t0, endMs: seg.t1, ...rest });
            left -= n;
            firstReach = false;
          }
          break;
        }
        case 'put': {
          const access = goToLane(action.lane);
          const hand = handThatReaches(access.hand, 'right', access, action.lane);
          const seg = reach(access.hand, Math.round(GRASP_S * 1000), hand);
          transactions.push({ kind: 'put', t: seg.holdFrom + 100, personId: person.id, laneId: action.lane, quantity: action.quantity, productId: action.product, startMs: seg.t0, endMs: seg.t1 });
          break;
        }
        case 'drop': {
          // The item slips: it is on the floor in front of the feet; the person bends down for it.
          stand(300);
          const onFloor: Vec3 = [pos[0] + Math.cos(heading) * DROP_AHEAD_M, pos[1] + Math.sin(heading) * DROP_AHEAD_M, DROP_HEIGHT_M];
          const seg = reach(onFloor, DROP_REACH_MS);
          transactions.push({ kind: 'drop', t: seg.t0, personId: person.id, productId: action.product, startMs: seg.t0, endMs: seg.t1 });
          break;
        }
        case 'hand-off': {
          const receiver = people.get(action.to)!;
          const waiting = waits.find((w) => w.receiverId === action.to && w.giverId === person.id && !w.handedOver);
          // Nobody hands an item to someone who has gone (the giver was held up): the giver keeps it,
          // so it stays on the giver's receipt rather than appearing on the receiver's after they left.
          // A receiver who waits for this giver is told how long they should have waited.
          const gone = (arriving: number) => {
            if (waiting) waiting.neededUntilMs = Math.max(waiting.neededUntilMs ?? 0, arriving + HAND_OFF_MIN_NOTICE_MS);
            warnings.push(`${person.id} meant to hand an item to ${action.to}, who had left by ${((t - startMs) / 1000).toFixed(1)} s, and kept it`);
          };
          if (!receiver.timeline.present(t + HAND_OFF_MIN_NOTICE_MS)) {
            const last = receiver.timeline.placeAt(receiver.timeline.exitMs).at;
            gone(t + (Math.hypot(last[0] - pos[0], last[1] - pos[1]) / speed) * 1000);
            return;
          }
          // Walk to where the receiver will be, then hold the item out to them.
          let meet = receiver.timeline.placeAt(t).at;
          for (let i = 0; i < 3; i++) {
            const eta = t + (Math.hypot(meet[0] - pos[0], meet[1] - pos[1]) / speed) * 1000 + 400;
            meet = receiver.timeline.placeAt(eta).at;
          }
          const dx = pos[0] - meet[0];
          const dy = pos[1] - meet[1];
          const d = Math.hypot(dx, dy) || 1;
          const spot = inside([meet[0] + (dx / d) * HAND_OFF_GAP_M, meet[1] + (dy / d) * HAND_OFF_GAP_M]);
          const facing = (end: Vec2) => Math.atan2(meet[1] - end[1], meet[0] - end[0]);
          const end = walkTo(spot, facing, 0, action.to, () => around(meet, [HAND_OFF_GAP_M]));
          if (!receiver.timeline.present(t + HAND_OFF_MIN_NOTICE_MS)) {
            gone(t);
            return;
          }
          const seg = reach([(end[0] + meet[0]) / 2, (end[1] + meet[1]) / 2, HAND_OFF_HEIGHT_M], 700);
          transactions.push({ kind: 'hand-off', t: seg.holdTo - 100, personId: person.id, toPersonId: action.to, quantity: action.quantity, productId: action.product, startMs: seg.t0, endMs: seg.t1 });
          if (waiting) {
            waiting.handedOver = true;
            waiting.neededUntilMs = seg.t1;
          }
          break;
        }
        case 'wait-for': {
          const key = waitKey(person.id, action.from);
          waits.push({ key, receiverId: person.id, giverId: action.from, maxMs: Math.round(action.maxS * 1000), fromMs: t, handedOver: false });
          stand(waitMs.get(key) ?? 0);
          break;
        }
        case 'linger':
          stand(Math.round(action.seconds * 1000));
          break;
        case 'wait-until':
          stand(at(action.atS) - t);
          break;
        case 'lean': {
          const access = goToLane(action.lane);
          const edge: Vec3 = [access.laneFront[0], access.laneFront[1], access.laneFront[2] + 0.02];
          const holdMs = Math.round(action.seconds * 1000);
          const seg = reach(edge, holdMs, 'left');
          transactions.push({ kind: 'lean', t: seg.holdFrom, personId: person.id, laneId: action.lane, durationMs: holdMs });
          break;
        }
        case 'leave': {
          const exitZone = person.role === 'staff' ? zone('staff-door') : zone('exit');
          const exit = inside(zoneCentre(exitZone.polygon));
          walkTo(exit, undefined, Math.round(EXIT_S * 1000), undefined, () => around(exit));
          const exitGate = person.role === 'staff' ? gate('staff') : gate('exit');
          if (exitGate)
            gateLines.push({
              topic: 'gate.opened',
              message: { schemaVersion: 1, eventId: `${exitGate.id}-opened-${t + 300}-${person.id}`, storeId: index.store.id, ts: t + 300, gateId: exitGate.id, kind: exitGate.kind },
            });
          stand(Math.round(EXIT_S * 1000));
          break;
        }
      }
    });
    return timeline;
  }
}

/**
 * Where the person just planned stands still closer than MIN_APART_M (and a margin) to someone
 * planned before: how many sampled instants, and for each walk that brought them there (-1: at the
 * door, before any walk) how long they must find that spot clear to avoid it (to the start of their
 * next walk; at the door too, a wait for a clear way included: a door free only until the meeting
 * lets them in just to stand there when the next person planned before them arrives). Instants at
 * the door, stepping off it included, are also counted apart: two people at the gate at once is
 * what the gate cannot tell apart.
 */
function stillMeetings(
  people: ReadonlyMap<string, SimPerson>,
  personId: string,
  timeline: PersonTimeline,
): { instants: number; atDoor: number; stays: Map<number, number> } {
  const walks = timeline.segments.filter((s) => s.kind === 'walk');
  const others = [...people.values()].filter((p) => p.id !== personId && p.timeline.exitMs >= timeline.enterMs && p.timeline.enterMs <= timeline.exitMs);
  const stays = new Map<number, number>();
  let instants = 0;
  let atDoor = 0;
  let k = -1;
  for (let t = timeline.enterMs; t <= timeline.exitMs; t += CLEARANCE_SAMPLE_MS) {
    while (k + 1 < walks.length && walks[k + 1].t1 <= t) k++;
    // Walking away from the entry door counts as being at it: a walk that starts on someone (who
    // came to the door a moment before) is let go as long as it only moves apart.
    if (!timeline.stillAt(t) && k >= 0) continue;
    const here = timeline.placeAt(t).at;
    const inTheWay = others.some((o) => {
      if (!o.timeline.present(t)) return false;
      const at = o.timeline.placeAt(t).at;
      return Math.hypot(at[0] - here[0], at[1] - here[1]) < MIN_APART_M + APART_MARGIN_M;
    });
    if (!inTheWay) continue;
    instants++;
    if (k < 0) atDoor++;
    const until = walks[k + 1]?.t0 ?? timeline.exitMs;
    const stay = until - (k < 0 ? timeline.enterMs : walks[k].t1) + STAY_MARGIN_MS;
    stays.set(k, Math.max(stays.get(k) ?? 0, stay));
  }
  return { instants, atDoor, stays };
}

/**
 * How far apart a party passed the entry: the longest any member came to the door after the one
 * before them left it (their first walk), and how long the door was theirs from the first arrival to
 * the last departure with the waits outside left out, which is what the payer must find free.
 */
function partyApart(timelines: readonly PersonTimeline[]): { lagMs: number; doorMs: number } {
  const leftDoor = (timeline: PersonTimeline) => timeline.segments.find((s) => s.kind === 'walk')?.t0 ?? timeline.exitMs;
  let lagMs = 0;
  let doorMs = 0;
  timelines.forEach((timeline, k) => {
    doorMs += leftDoor(timeline) - timeline.enterMs;
    if (k > 0) lagMs = Math.max(lagMs, timeline.enterMs - leftDoor(timelines[k - 1]));
  });
  return { lagMs, doorMs };
}

/** Which side of someone standing at `at`, facing `heading`, a point is on. */
function sideOf(at: Vec2, heading: number, point: Vec3): Hand {
  const cross = Math.cos(heading) * (point[1] - at[1]) - Math.sin(heading) * (point[0] - at[0]);
  return cross > 0 ? 'left' : 'right';
}

/** What a route costs in ms: the wait before it plus the walk; a route with no clear way costs the most. */
const routeCost = (route: { along: number[]; wait: number | null }, speed: number) =>
  route.wait === null ? Infinity : route.wait + (route.along.at(-1)! / speed) * 1000;

/**
 * How far a person bends and crouches to get a hand to `target`: the least effort that brings the
 * shoulder within reach (bending first, as people do for middle shelves; crouching for low ones).
 */
export function postureFor(shape: BodyShape, at: Vec2, heading: number, target: Vec3, hand: Hand): { crouch: number; lean: number } {
  return reachablePosture(shape, at, heading, target, hand) ?? { crouch: 1, lean: MAX_LEAN_RAD };
}

/** The least-effort posture that gets the hand to `target` from `at`, or null when no posture does. */
function reachablePosture(shape: BodyShape, at: Vec2, heading: number, target: Vec3, hand: Hand): { crouch: number; lean: number } | null {
  const armM = ARM_FRACTION * shape.heightM * REACH_COMFORT;
  const shoulderIndex = hand === 'left' ? KP.left_shoulder : KP.right_shoulder;
  const candidates: Array<{ crouch: number; lean: number }> = [];
  for (let crouch = 0; crouch <= 1 + 1e-9; crouch += 0.1) for (let lean = 0; lean <= MAX_LEAN_RAD + 1e-9; lean += 0.05) candidates.push({ crouch, lean });
  // People bend their knees before they fold their back: a deep bend costs more than a half squat.
  candidates.sort((a, b) => postureCost(a) - postureCost(b));
  for (const posture of candidates) {
    const shoulder = skeleton(shape, { x: at[0], y: at[1], heading, gaitPhase: 0, walk: 0, ...posture })[shoulderIndex];
    if (Math.hypot(shoulder[0] - target[0], shoulder[1] - target[1], shoulder[2] - target[2]) <= armM) return posture;
  }
  return null;
}

interface Occupancy {
  personId: string;
  at: Vec2;
  t0: number;
  t1: number;
}

/**
 * People do not walk through each other: a walk that would pass someone planned earlier closer than
 * WALK_CLEARANCE_M, or that arrives where someone will be in the next `dwellMs`, waits (the walker
 * stands aside and lets them pass) and is tried again. Returns the wait in ms, or null when no wait up
 * to MAX_YIELD_MS clears the way. Someone already that close when the walk starts (shoulder to
 * shoulder at a shelf) only must not come closer; the person being met for a hand-off is not in the way.
 */
function waitForClearWay(
  people: ReadonlyMap<string, SimPerson>,
  personId: string,
  shape: BodyShape,
  walk: (t0: number) => Segment,
  from: number,
  dwellMs: number,
  meeting?: string,
): number | null {
  // Only people in the store at some moment the walk could take matter.
  const first = walk(from);
  const latest = from + MAX_YIELD_MS + (first.t1 - first.t0) + dwellMs;
  const others = [...people.values()].filter(
    (p) => p.id !== personId && p.id !== meeting && p.timeline.exitMs >= from && p.timeline.enterMs <= latest,
  );
  if (others.length === 0) return 0;
  // Every probe samples at `from` plus a multiple of CACHE_GRID_MS (waits step by YIELD_STEP_MS,
  // samples by CLEARANCE_SAMPLE_MS): where the others are at those instants is worked out once.
  const span = Math.floor((latest - from) / CACHE_GRID_MS) + 2;
  const cached = others.map(() => ({ x: new Float64Array(span), y: new Float64Array(span), state: new Uint8Array(span) })); // 0 unknown, 1 present, 2 absent
  const otherAt = (i: number, t: number): Vec2 | null => {
    const j = Math.round((t - from) / CACHE_GRID_MS);
    const c = cached[i];
    if (c.state[j] === 0) {
      const timeline = others[i].timeline;
      if (timeline.present(t)) {
        const at = timeline.placeAt(t).at;
        c.x[j] = at[0];
        c.y[j] = at[1];
        c.state[j] = 1;
      } else c.state[j] = 2;
    }
    return c.state[j] === 1 ? [c.x[j], c.y[j]] : null;
  };
  let blocker = -1;
  for (let wait = 0; wait <= MAX_YIELD_MS; wait += YIELD_STEP_MS) {
    const segment = walk(from + wait);
    // The walk, then standing at its end for dwellMs.
    const probe = new PersonTimeline(shape, segment.t0);
    probe.add(segment);
    if (segment.kind === 'walk' && dwellMs > 0) probe.add({ kind: 'stand', t0: segment.t1, t1: segment.t1 + dwellMs, at: segment.path.at(-1)!, heading: 0 });
    const samples = Math.floor((segment.t1 + dwellMs - segment.t0) / CLEARANCE_SAMPLE_MS) + 1;
    const walker: Array<Vec2 | undefined> = new Array(samples);
    const walkerAt = (k: number) => (walker[k] ??= probe.placeAt(segment.t0 + k * CLEARANCE_SAMPLE_MS).at);
    const inTheWay = (i: number) => {
      let allowed = WALK_CLEARANCE_M;
      for (let k = 0; k < samples; k++) {
        const b = otherAt(i, segment.t0 + k * CLEARANCE_SAMPLE_MS);
        if (!b) continue;
        const a = walkerAt(k);
        const gap = Math.hypot(a[0] - b[0], a[1] - b[1]);
        if (k === 0) allowed = Math.min(WALK_CLEARANCE_M, gap - 0.02);
        else if (gap < allowed) return true;
      }
      return false;
    };
    // Whoever was in the way a moment ago most likely still is: look at them first.
    if (blocker >= 0 && inTheWay(blocker)) continue;
    let found = -1;
    for (let i = 0; i < others.length && found < 0; i++) if (i !== blocker && inTheWay(i)) found = i;
    if (found < 0) return wait;
    blocker = found;
  }
  return null;
}

/** Whether anyone planned so far (but `meeting`) comes closer than MIN_APART_M (and a margin) to `spot` between `from` and `to`. */
function passesNear(people: ReadonlyMap<string, SimPerson>, personId: string, spot: Vec2, from: number, to: number, meeting?: string): boolean {
  for (const other of people.values()) {
    if (other.id === personId || other.id === meeting || other.timeline.exitMs < from || other.timeline.enterMs > to) continue;
    for (let t = from; t <= to; t += CLEARANCE_SAMPLE_MS) {
      if (!other.timeline.present(t)) continue;
      const at = other.timeline.placeAt(t).at;
      if (Math.hypot(at[0] - spot[0], at[1] - spot[1]) < MIN_APART_M + APART_MARGIN_M) return true;
    }
  }
  return false;
}

/** Where the people planned so far stand still (not walking) at `t`. */
function standingStill(people: ReadonlyMap<string, SimPerson>, personId: string, t: number, meeting?: string): Vec2[] {
  const still: Vec2[] = [];
  for (const other of people.values()) {
    if (other.id === personId || other.id === meeting || !other.timeline.present(t)) continue;
    if (other.timeline.poseAt(t).walk > 0) continue;
    still.push(other.timeline.placeAt(t).at);
  }
  return still;
}

/** The first moment from `from` on, in steps of YIELD_STEP_MS, when nobody is near `spot` for `forMs`. */
function waitForFreeSpot(people: ReadonlyMap<string, SimPerson>, personId: string, spot: Vec2, from: number, forMs: number): number {
  const others = [...people.values()].filter((p) => p.id !== personId);
  const busyAt = (t: number) =>
    others.some((other) => {
      if (!other.timeline.present(t)) return false;
      const at = other.timeline.placeAt(t).at;
      return Math.hypot(at[0] - spot[0], at[1] - spot[1]) < WALK_CLEARANCE_M;
    });
  let start = from;
  for (let t = start; t <= start + forMs; t += CLEARANCE_SAMPLE_MS)
    if (busyAt(t)) {
      start += YIELD_STEP_MS;
      t = start - CLEARANCE_SAMPLE_MS;
    }
  return start;
}

/**
 * A standing spot clear of everyone who stands near it at the same time: two shoppers at neighbouring
 * lanes stand shoulder to shoulder, not inside each other. The spot slides along the shelf (the
 * reach then goes sideways), away from whoever is in the way.
 */
function makeRoom(occupied: Occupancy[], personId: string, spot: Vec2, heading: number, from: number, to: number): Vec2 {
  const along: Vec2 = [-Math.sin(heading), Math.cos(heading)]; // the shelf's direction, seen from the shopper
  let at = spot;
  for (let round = 0; round < 3; round++) {
    const inTheWay = occupied.filter(
      (o) => o.personId !== personId && o.t0 < to && o.t1 > from && Math.hypot(o.at[0] - at[0], o.at[1] - at[1]) < PERSONAL_SPACE_M,
    );
    if (inTheWay.length === 0) break;
    for (const o of inTheWay) {
      const side = (at[0] - o.at[0]) * along[0] + (at[1] - o.at[1]) * along[1];
      const away = side === 0 ? 1 : Math.sign(side);
      const gap = Math.hypot(o.at[0] - at[0], o.at[1] - at[1]);
      const shift = Math.min(MAX_SIDESTEP_M, PERSONAL_SPACE_M - gap + 0.02);
      at = [at[0] + along[0] * away * shift, at[1] + along[1] * away * shift];
    }
  }
  return at;
}

/**
 * Whether someone of this height gets a hand to the lane from its own standing spot (bending and
 * crouching as they must): a child cannot take from a top shelf.
 */
export function canReachLane(index: StoreIndex, laneId: string, heightM: number): boolean {
  const access = laneAccess(index, laneId);
  return reachesWithEither({ heightM, build: 0.5 }, access.stand, access.heading, access.hand);
}

/** Whether either hand gets to `target` from `at` facing `heading`. */
function reachesWithEither(shape: BodyShape, at: Vec2, heading: number, target: Vec3): boolean {
  return reachablePosture(shape, at, heading, target, 'right') !== null || reachablePosture(shape, at, heading, target, 'left') !== null;
}

const postureCost = (p: { crouch: number; lean: number }) => p.lean * p.lean + 0.35 * p.crouch * p.crouch;

/** Pulls a point into the walkable floor (zone centres can sit against a wall). */
function towardsFloor(index: StoreIndex, map: FloorMap, p: Vec2): Vec2 {
  const floor = index.store.layout.floor;
  const cx = floor.reduce((s, q) => s + q[0], 0) / floor.length;
  const cy = floor.reduce((s, q) => s + q[1], 0) / floor.length;
  for (let step = 0; step < 40; step++) {
    const u = step * 0.025;
    const q: Vec2 = [p[0] + (cx - p[0]) * u, p[1] + (cy - p[1]) * u];
    if (map.walkable(q)) return q;
  }
  return p;
}

function replayTransactions(
  index: StoreIndex,
  transactions: Transaction[],
  people: Map<string, SimPerson>,
  random: Random,
  warnings: string[],
) {
  const lanes = new Map<string, Item[]>(); // front of the lane is the end of the array
  const stockHistory = new Map<string, Array<{ t: number; count: number }>>();
  const initialPlateGrams = new Map<string, number>();
  for (const plateId of index.plates.keys()) initialPlateGrams.set(plateId, 0);
  const drawItem = (productId: string): Item => {
    const product = index.products.get(productId)!;
    return { productId, grams: Math.max(0.1, random.normal(product.unitWeightGrams, product.weightSpreadGrams)) };
  };
  for (const placement of index.store.planogram.placements) {
    const items = Array.from({ length: placement.initialStock }, () => drawItem(placement.productId));
    lanes.set(placement.laneId, items);
    stockHistory.set(placement.laneId, [{ t: -Infinity, count: items.length }]);
    const grams = items.reduce((s, i) => s + i.grams, 0);
    for (const [plateId, share] of plateShares(index, placement.laneId)) initialPlateGrams.set(plateId, initialPlateGrams.get(plateId)! + grams * share);
  }
  const carried = new Map<string, Item[]>([...people.keys()].map((id) => [id, []]));
  const plateChanges = new Map<string, PlateLoadChange[]>();
  const actions: ActionTruth[] = [];
  const contacts = new Map<string, { atMs: number; restFromMs?: number }>();
  let actionCounter = 0;

  const loadChange = (laneId: string, t: number, grams: number, kind: 'pick' | 'put') => {
    const shelfId = index.lanes.get(laneId)!.shelf.id;
    const list = plateChanges.get(shelfId) ?? [];
    for (const [plateId, share] of plateShares(index, laneId))
      list.push({ plateId, atMs: t, durationMs: WEIGHT_TRANSIENT_MS, deltaGrams: grams * share, kind });
    plateChanges.set(shelfId, list);
  };
  const recordStock = (laneId: string, t: number) => stockHistory.get(laneId)!.push({ t, count: lanes.get(laneId)!.length });
  const recordCarry = (personId: string, t: number) => people.get(personId)!.timeline.carried.push({ t, count: carried.get(personId)!.length });
  const groupByProduct = (items: Item[]) => {
    const groups = new Map<string, number>();
    for (const item of items) groups.set(item.productId, (groups.get(item.productId) ?? 0) + 1);
    return groups;
  };
  const laneInfo = (laneId: string) => {
    const { shelf, lane } = index.lanes.get(laneId)!;
    return { shelfId: shelf.id, laneId, plateIds: lane.plateIds };
  };

  transactions.sort((a, b) => a.t - b.t);
  for (const tx of transactions) {
    const person = people.get(tx.personId)!;
    const visit = person.visitId ? { visitId: person.visitId } : {};
    switch (tx.kind) {
      case 'pick': {
        const lane = lanes.get(tx.laneId)!;
        const taken = lane.splice(Math.max(0, lane.length - tx.quantity));
        if (taken.length < tx.quantity) warnings.push(`${tx.personId} wanted ${tx.quantity} from lane ${tx.laneId} at ${tx.t} but found ${taken.length}`);
        if (taken.length === 0) break;
        for (const item of taken) item.pickedByVisit = person.visitId;
        carried.get(tx.personId)!.push(...taken);
        if (tx.rest) {
          // The resting hand weighs on the plate it lies on; no stock moves until the pick.
          const { shelf, lane } = index.lanes.get(tx.laneId)!;
          const list = plateChanges.get(shelf.id) ?? [];
          list.push({ plateId: lane.plateIds[0], atMs: tx.rest.fromMs, durationMs: tx.rest.durationMs, deltaGrams: 0, kind: 'lean', leanGrams: tx.rest.grams });
          plateChanges.set(shelf.id, list);
        }
        loadChange(tx.laneId, tx.t, -taken.reduce((s, i) => s + i.grams, 0), 'pick');
        for (const [productId, quantity] of groupByProduct(taken)) {
          contacts.set(`a-${actionCounter + 1}`, { atMs: tx.t, ...(tx.rest ? { restFromMs: tx.rest.fromMs } : {}) });
          actions.push({ actionId: `a-${++actionCounter}`, kind: 'pick', startMs: tx.startMs, endMs: tx.endMs, personId: tx.personId, ...visit, productId, quantity, ...laneInfo(tx.laneId) });
        }
        recordStock(tx.laneId, tx.t);
        recordCarry(tx.personId, tx.t);
        break;
      }
      case 'put':
      case 'hand-off': {
        const hand = carried.get(tx.personId)!;
        const productId = tx.productId ?? hand.at(-1)?.productId;
        const moving: Item[] = [];
        // Units of one product are alike, so which one goes is the store's rule: a put-back comes off
        // the putter's own receipt first, and an item handed to them stays on the giver's.
        const own = (item: Item) => item.pickedByVisit !== undefined && item.pickedByVisit === person.visitId;
        for (const wanted of tx.kind === 'put' ? [own, (item: Item) => !own(item)] : [() => true])
          for (let i = hand.length - 1; i >= 0 && moving.length < tx.quantity; i--)
            if (hand[i].productId === productId && wanted(hand[i])) moving.push(...hand.splice(i, 1));
        if (moving.length < tx.quantity)
          warnings.push(`${tx.personId} wanted to ${tx.kind} ${tx.quantity} of ${productId ?? 'anything'} at ${tx.t} but carried ${moving.length}`);
        if (moving.length === 0) break;
        recordCarry(tx.personId, tx.t);
        if (tx.kind === 'put') {
          lanes.get(tx.laneId)!.push(...moving);
          loadChange(tx.laneId, tx.t, moving.reduce((s, i) => s + i.grams, 0), 'put');
          // The cart a put changes is the one each unit is on: an item handed over and put back
          // leaves the giver's receipt, so a put of units of two visits is an action for each.
          const owners = new Map<string | undefined, number>();
          for (const item of moving) owners.set(item.pickedByVisit, (owners.get(item.pickedByVisit) ?? 0) + 1);
          for (const [owner, quantity] of owners) {
            contacts.set(`a-${actionCounter + 1}`, { atMs: tx.t });
            const whose = owner ? { visitId: owner } : visit;
            actions.push({ actionId: `a-${++actionCounter}`, kind: 'put', startMs: tx.startMs, endMs: tx.endMs, personId: tx.personId, ...whose, productId: productId!, quantity, ...laneInfo(tx.laneId) });
          }
          recordStock(tx.laneId, tx.t);
        } else {
          carried.get(tx.toPersonId)!.push(...moving);
          recordCarry(tx.toPersonId, tx.t);
          const receiver = people.get(tx.toPersonId)!;
          actions.push({
            actionId: `a-${++actionCounter}`, kind: 'hand-off', startMs: tx.startMs, endMs: tx.endMs, personId: tx.personId, ...visit,
            toPersonId: tx.toPersonId, ...(receiver.visitId ? { toVisitId: receiver.visitId } : {}), productId: productId!, quantity: moving.length,
          });
        }
        break;
      }
      case 'restock': {
        const productId = index.placementByLane.get(tx.laneId)!.productId;
        const items = Array.from({ length: tx.quantity }, () => drawItem(productId));
        lanes.get(tx.laneId)!.push(...items);
        loadChange(tx.laneId, tx.t, items.reduce((s, i) => s + i.grams, 0), 'put');
        contacts.set(`a-${actionCounter + 1}`, { atMs: tx.t });
        actions.push({ actionId: `a-${++actionCounter}`, kind: 'put', startMs: tx.startMs, endMs: tx.endMs, personId: tx.personId, productId, quantity: items.length, ...laneInfo(tx.laneId) });
        recordStock(tx.laneId, tx.t);
        break;
      }
      case 'drop': {
        // The item goes to the floor and back into the hand: the receipt keeps it, no shelf sees it.
        // The truth says so, for the visit that took it off the shelf (the one it is charged to).
        const hand = carried.get(tx.personId)!;
        const productId = tx.productId ?? hand.at(-1)?.productId;
        const item = hand.findLast((held) => held.productId === productId);
        if (!item) {
          warnings.push(`${tx.personId} wanted to drop ${productId ?? 'something'} at ${tx.t} but carried none`);
          break;
        }
        actions.push({
          actionId: `a-${++actionCounter}`, kind: 'drop', startMs: tx.startMs, endMs: tx.endMs, personId: tx.personId,
          ...(item.pickedByVisit ? { visitId: item.pickedByVisit } : {}), productId: item.productId, quantity: 1,
        });
        break;
      }
      case 'lean': {
        const { shelf, lane } = index.lanes.get(tx.laneId)!;
        const list = plateChanges.get(shelf.id) ?? [];
        list.push({ plateId: lane.plateIds[0], atMs: tx.t, durationMs: tx.durationMs, deltaGrams: 0, kind: 'lean' });
        plateChanges.set(shelf.id, list);
        break;
      }
    }
  }
  for (const list of plateChanges.values()) list.sort((a, b) => a.atMs - b.atMs);
  const laneStockAt = (laneId: string, t: number) => {
    const history = stockHistory.get(laneId);
    if (!history) return 0;
    let count = history[0].count;
    for (const h of history) if (h.t <= t) count = h.count;
    return count;
  };
  return { actions, plateChanges, initialPlateGrams, laneStockAt, carried, contacts };
}
