import { SCHEMA_VERSION, type ScenarioAction, type ScenarioInput, type ScenarioTag, type StoreIndex } from '../contracts/index.ts';
import { parseScenario } from './scenario.load.ts';
import { createRandom, type Random } from './random.ts';
import { canReachLane } from './store.sim.ts';
import type { Scenario } from '../contracts/index.ts';

/**
 * Random scenarios with difficulty knobs, for stress tests and accuracy runs. Every knob is a
 * probability per shopper (or per pair of shoppers for the cases two people play together; for
 * crowding, how tightly arrivals bunch together). Each shopper carries the tags of the hard cases it
 * takes part in, so scores can be read by case.
 */
export interface Difficulty {
  /** 0: arrivals spread over the whole window .. 1: everyone arrives in the first tenth. */
  crowding: number;
  /** Chance a pair of shoppers reaches into neighbouring lanes at the same instant, standing close. */
  simultaneousPicks: number;
  /** Chance a pair of shoppers takes from the same lane a moment apart. */
  sameProductPicks: number;
  /** Chance a pair of shoppers, side by side, each reaches into the lane in front of the other. */
  crossingArms: number;
  /** Chance a shopper puts an item back on a different lane. */
  wrongLanePutBacks: number;
  /** Chance a pair plays a put-back on the wrong lane and a later pick of that misplaced item. */
  misplacedPicks: number;
  /** Chance a shopper picks two products of near-equal weight from one shelf. */
  nearEqualWeights: number;
  /** Chance a pick takes two units in one grab. */
  multiItemGrabs: number;
  /** Chance a pick is put straight back on its own lane. */
  quickPutBacks: number;
  /** Chance a pick starts with the hand resting on the plate for seconds. */
  longHandRests: number;
  /** Chance a shopper drops an item they took, picks it up and keeps it. */
  drops: number;
  /** Chance a shopper hands an item to another shopper. */
  handOffs: number;
  /** Chance a shopper brings companions (same visit, one payer). */
  groups: number;
  /** Chance someone slips in behind a shopper without a scan. */
  tailgating: number;
  /** Chance a shopper walks to a shelf, looks, and takes nothing. */
  takesNothing: number;
  /** Chance a shopper stands in the aisle for a while, blocking camera views. */
  occlusion: number;
  /** Chance a shopper leans on a shelf. */
  leans: number;
  /** Staff restocks during the recording. */
  staff: boolean;
}

const NONE: Difficulty = {
  crowding: 0,
  simultaneousPicks: 0,
  sameProductPicks: 0,
  crossingArms: 0,
  wrongLanePutBacks: 0,
  misplacedPicks: 0,
  nearEqualWeights: 0,
  multiItemGrabs: 0,
  quickPutBacks: 0,
  longHandRests: 0,
  drops: 0,
  handOffs: 0,
  groups: 0,
  tailgating: 0,
  takesNothing: 0,
  occlusion: 0,
  leans: 0,
  staff: false,
};

export const DIFFICULTY_PRESETS: Record<'easy' | 'normal' | 'hard', Difficulty> = {
  easy: NONE,
  normal: {
    crowding: 0.3,
    simultaneousPicks: 0.15,
    sameProductPicks: 0.05,
    crossingArms: 0.03,
    wrongLanePutBacks: 0.1,
    misplacedPicks: 0.05,
    nearEqualWeights: 0.15,
    multiItemGrabs: 0.15,
    quickPutBacks: 0.1,
    longHandRests: 0.05,
    drops: 0.03,
    handOffs: 0.05,
    groups: 0.1,
    tailgating: 0.03,
    takesNothing: 0.05,
    occlusion: 0.15,
    leans: 0.1,
    staff: true,
  },
  hard: {
    crowding: 0.7,
    simultaneousPicks: 0.25,
    sameProductPicks: 0.1,
    crossingArms: 0.1,
    wrongLanePutBacks: 0.25,
    misplacedPicks: 0.1,
    nearEqualWeights: 0.4,
    multiItemGrabs: 0.25,
    quickPutBacks: 0.15,
    longHandRests: 0.15,
    drops: 0.1,
    handOffs: 0.15,
    groups: 0.2,
    tailgating: 0.08,
    takesNothing: 0.1,
    occlusion: 0.3,
    leans: 0.25,
    staff: true,
  },
};

export interface RandomScenarioOptions {
  index: StoreIndex;
  shoppers: number;
  minutes: number;
  seed: number;
  difficulty: Difficulty;
  startMs?: number;
}

const NEAR_EQUAL_GRAMS = 8;
/** A lane is offered to pickers while it keeps at least this many units beyond what is planned from it. */
const STOCK_RESERVE_UNITS = 1;
/** Seconds from the later arrival of a pair to the moment they act together (time to walk there). */
const PAIR_MEET_S = 12;
/** Seconds between two shoppers' picks from one lane. */
const SAME_LANE_GAP_S = 1.5;
/** Seconds from a wrong-lane put-back to the next shopper's pick of that item. */
const MISPLACED_PICK_AFTER_S = 6;
const HAND_REST_S_RANGE = [3, 8] as const;
/** How long a receiver waits for the giver at most, seconds. */
const RECEIVER_MAX_WAIT_S = 180;

type GeneratedPerson = NonNullable<ScenarioInput['people']>[number] & { actions: ScenarioAction[]; arriveAtS: number; tags: ScenarioTag[] };

/** Pairs of lanes on one shelf whose products weigh within NEAR_EQUAL_GRAMS of each other. */
function nearEqualPairs(index: StoreIndex): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const { shelf } of index.shelves.values()) {
    const lanes = shelf.lanes.map((l) => ({ id: l.id, product: index.products.get(index.placementByLane.get(l.id)?.productId ?? '') }));
    for (let i = 0; i < lanes.length; i++)
      for (let j = i + 1; j < lanes.length; j++) {
        const a = lanes[i].product;
        const b = lanes[j].product;
        if (a && b && a.id !== b.id && Math.abs(a.unitWeightGrams - b.unitWeightGrams) < NEAR_EQUAL_GRAMS) pairs.push([lanes[i].id, lanes[j].id]);
      }
  }
  return pairs;
}

const tag = (person: GeneratedPerson, ...tags: ScenarioTag[]) => {
  for (const t of tags) if (!person.tags.includes(t)) person.tags.push(t);
};

export function generateScenario(options: RandomScenarioOptions): Scenario {
  const { index, difficulty } = options;
  const random = createRandom(options.seed);
  const lanes = [...index.placementByLane.keys()];
  // What each lane has left once the picks planned so far are taken: nobody is sent to an empty lane.
  const stockLeft = new Map(lanes.map((l) => [l, index.placementByLane.get(l)?.initialStock ?? 0]));
  const windowS = Math.max(10, options.minutes * 60 - 45); // leave time to shop and walk out
  const arrivalWindowS = windowS * (1 - 0.9 * difficulty.crowding);
  const pairs = nearEqualPairs(index);
  const people: GeneratedPerson[] = [];
  const arrivals = Array.from({ length: options.shoppers }, () => random.uniform(0, arrivalWindowS)).sort((a, b) => a - b);
  const productOf = (laneId: string) => index.placementByLane.get(laneId)?.productId;
  const neighbour = (laneId: string) => {
    const { shelf } = index.lanes.get(laneId)!;
    const i = shelf.lanes.findIndex((l) => l.id === laneId);
    return shelf.lanes[i + 1]?.id ?? shelf.lanes[i - 1]?.id;
  };
  const inStock = (laneId: string | undefined, units: number): laneId is string =>
    laneId !== undefined && (stockLeft.get(laneId) ?? 0) >= units + STOCK_RESERVE_UNITS;
  const take = (laneId: string, units: number) => stockLeft.set(laneId, stockLeft.get(laneId)! - units);
  /** A lane with stock to spare for `units`, or undefined when the store is nearly empty. */
  const pickLane = (r: Random, units = 1, suits: (laneId: string) => boolean = () => true) => {
    const open = lanes.filter((l) => inStock(l, units) && suits(l));
    return open.length ? r.pick(open) : undefined;
  };

  for (let s = 0; s < options.shoppers; s++) {
    const r = random.fork(`shopper:${s}`);
    const shopper: GeneratedPerson = { id: `shopper-${s + 1}`, role: 'shopper', accountId: `acct-${s + 1}`, arriveAtS: Math.round(arrivals[s] * 10) / 10, actions: [], tags: [] };
    const actions = shopper.actions;
    const looking = pickLane(r) ?? lanes[0];
    if (r.chance(difficulty.occlusion)) actions.push({ do: 'walk-to', lane: looking }, { do: 'linger', seconds: r.uniform(3, 8) });
    if (r.chance(difficulty.takesNothing)) {
      // Looks at a shelf, maybe leans on it, and leaves with nothing.
      actions.push({ do: 'walk-to', lane: looking }, { do: 'linger', seconds: r.uniform(2, 6) });
      tag(shopper, 'takes-nothing');
      people.push(shopper);
      continue;
    }
    if (r.chance(difficulty.nearEqualWeights) && pairs.length) {
      const [a, b] = r.pick(pairs);
      if (inStock(a, 1) && inStock(b, 1)) {
        actions.push({ do: 'pick', lane: a, quantity: 1 }, { do: 'pick', lane: b, quantity: 1 });
        take(a, 1);
        take(b, 1);
        tag(shopper, 'near-equal-weights');
      }
    }
    const picks = r.int(1, 3);
    for (let p = 0; p < picks; p++) {
      const quantity = r.chance(difficulty.multiItemGrabs) ? 2 : 1;
      const lane = pickLane(r, quantity);
      if (!lane) break;
      take(lane, quantity);
      const resting = r.chance(difficulty.longHandRests);
      actions.push({ do: 'pick', lane, quantity, ...(resting ? { restS: Math.round(r.uniform(...HAND_REST_S_RANGE) * 10) / 10 } : {}) });
      if (quantity > 1) tag(shopper, 'multi-item-grab');
      if (resting) tag(shopper, 'long-hand-rest');
      if (r.chance(difficulty.drops)) {
        actions.push({ do: 'drop' });
        tag(shopper, 'dropped-item');
      }
      if (r.chance(difficulty.wrongLanePutBacks)) {
        const elsewhere = r.pick(lanes.filter((l) => productOf(l) !== productOf(lane)));
        actions.push({ do: 'put', lane: elsewhere, quantity: 1 });
        tag(shopper, 'wrong-shelf-put-back');
      } else if (r.chance(difficulty.quickPutBacks)) {
        actions.push({ do: 'put', lane, quantity: 1 });
        take(lane, -1);
        tag(shopper, 'quick-pick-put-back');
      }
      if (r.chance(difficulty.leans)) actions.push({ do: 'lean', lane: neighbour(lane) ?? lane, seconds: r.uniform(1, 3) });
    }
    people.push(shopper);
    if (r.chance(difficulty.groups)) {
      tag(shopper, 'group');
      const companions = r.int(1, 2);
      for (let c = 0; c < companions; c++) {
        let lane = pickLane(r);
        const appearance = r.chance(0.5) ? { heightM: r.uniform(1.2, 1.5) } : undefined;
        // A child takes from a shelf they can reach.
        if (lane && appearance && !canReachLane(index, lane, appearance.heightM))
          lane = pickLane(r, 1, (l) => canReachLane(index, l, appearance.heightM));
        const companion: GeneratedPerson = {
          id: `${shopper.id}-companion-${c + 1}`,
          role: 'companion',
          with: shopper.id,
          arriveAtS: shopper.arriveAtS + 0.5 * (c + 1),
          appearance,
          actions: lane ? [{ do: 'pick', lane, quantity: 1 }] : [{ do: 'walk-to', lane: looking }],
          tags: ['group'],
        };
        if (lane) take(lane, 1);
        people.push(companion);
      }
    }
    if (r.chance(difficulty.tailgating)) {
      // Someone slips through the gate behind this shopper without scanning and shops alone.
      const lane = pickLane(r);
      tag(shopper, 'tailgating');
      people.push({
        id: `${shopper.id}-tailgater`,
        role: 'tailgater',
        with: shopper.id,
        arriveAtS: shopper.arriveAtS,
        actions: lane ? [{ do: 'pick', lane, quantity: 1 }] : [{ do: 'walk-to', lane: looking }],
        tags: ['tailgating'],
      });
      if (lane) take(lane, 1);
    }
  }

  playPairs(people, random, difficulty, { lanes, neighbour, productOf, inStock, take, pickLane });

  if (difficulty.staff) {
    const lane = random.pick(lanes);
    const quantity = random.int(2, 6);
    const staff: GeneratedPerson = { id: 'staff-1', role: 'staff', arriveAtS: random.uniform(0, arrivalWindowS), actions: [{ do: 'restock', lane, quantity }], tags: ['staff-restock'] };
    people.push(staff);
    stockLeft.set(lane, stockLeft.get(lane)! + quantity);
    // The next shopper to arrive after the restock starts takes from the restocked lane.
    const after = people.find((p) => p.role === 'shopper' && p.arriveAtS > staff.arriveAtS + 5 && !p.tags.includes('takes-nothing'));
    if (after && inStock(lane, 1)) {
      after.actions.push({ do: 'pick', lane, quantity: 1 });
      take(lane, 1);
      tag(after, 'staff-restock');
    }
  }
  for (const person of people) person.actions.push({ do: 'leave' });

  const scenario: ScenarioInput = {
    schemaVersion: SCHEMA_VERSION,
    name: `random-${index.store.id}-${options.shoppers}x${options.minutes}m-seed${options.seed}`,
    description: `Random scenario: ${options.shoppers} shoppers over ${options.minutes} min, difficulty ${JSON.stringify(difficulty)}`,
    store: index.store.id,
    ...(options.startMs !== undefined ? { startMs: options.startMs } : {}),
    people: people.map(({ tags, ...person }) => ({ ...person, ...(tags.length ? { tags: [...tags].sort() } : {}) })),
  };
  return parseScenario(scenario, scenario.name);
}

interface LaneTools {
  lanes: string[];
  neighbour(laneId: string): string | undefined;
  productOf(laneId: string): string | undefined;
  inStock(laneId: string | undefined, units: number): laneId is string;
  take(laneId: string, units: number): void;
  pickLane(r: Random, units?: number): string | undefined;
}

/**
 * The cases two shoppers play together, each pair staged with `wait-until` so that they happen at
 * once: both go to the shelf first, then act at the same moment. A shopper plays in one pair at most,
 * so no two stagings pull them to two places at one time.
 */
function playPairs(people: GeneratedPerson[], random: Random, difficulty: Difficulty, tools: LaneTools) {
  const { neighbour, productOf, inStock, take, pickLane } = tools;
  const shoppers = people.filter((p) => p.role === 'shopper' && !p.tags.includes('takes-nothing'));
  const stagings: Array<{ chance: number; stage: (a: GeneratedPerson, b: GeneratedPerson) => boolean }> = [];
  const pairUp = (chance: number, stage: (a: GeneratedPerson, b: GeneratedPerson) => boolean) => stagings.push({ chance, stage });
  const meetAt = (a: GeneratedPerson, b: GeneratedPerson) => Math.max(a.arriveAtS, b.arriveAtS) + PAIR_MEET_S;

  // Neighbouring lanes at the same instant, shoulder to shoulder.
  pairUp(difficulty.simultaneousPicks, (a, b) => {
    const lane = pickLane(random);
    const next = lane && neighbour(lane);
    if (!lane || !next || !inStock(next, 1)) return false;
    const atS = meetAt(a, b);
    a.actions.unshift({ do: 'walk-to', lane }, { do: 'wait-until', atS }, { do: 'pick', lane, quantity: 1 });
    b.actions.unshift({ do: 'walk-to', lane: next }, { do: 'wait-until', atS }, { do: 'pick', lane: next, quantity: 1 });
    take(lane, 1);
    take(next, 1);
    const kind = productOf(lane) === productOf(next) ? 'two-at-one-shelf-same-product' : 'two-at-one-shelf-different-products';
    for (const p of [a, b]) tag(p, kind, 'standing-close');
    return true;
  });
  // One lane, two hands a moment apart.
  pairUp(difficulty.sameProductPicks, (a, b) => {
    const lane = pickLane(random, 2);
    if (!lane) return false;
    const atS = meetAt(a, b);
    a.actions.unshift({ do: 'walk-to', lane }, { do: 'wait-until', atS }, { do: 'pick', lane, quantity: 1 });
    b.actions.unshift({ do: 'walk-to', lane }, { do: 'wait-until', atS: atS + SAME_LANE_GAP_S }, { do: 'pick', lane, quantity: 1 });
    take(lane, 2);
    for (const p of [a, b]) tag(p, 'two-at-one-shelf-same-product', 'standing-close');
    return true;
  });
  // Side by side, each reaching into the lane in front of the other.
  pairUp(difficulty.crossingArms, (a, b) => {
    const lane = pickLane(random);
    const next = lane && neighbour(lane);
    if (!lane || !next || !inStock(next, 1)) return false;
    const atS = meetAt(a, b);
    a.actions.unshift({ do: 'walk-to', lane }, { do: 'wait-until', atS }, { do: 'pick', lane: next, reachFrom: lane, quantity: 1 });
    b.actions.unshift({ do: 'walk-to', lane: next }, { do: 'wait-until', atS }, { do: 'pick', lane, reachFrom: next, quantity: 1 });
    take(lane, 1);
    take(next, 1);
    for (const p of [a, b]) tag(p, 'crossing-arms', 'standing-close');
    return true;
  });
  // A put-back on the wrong lane, then the next shopper takes that misplaced item from it.
  pairUp(difficulty.misplacedPicks, (a, b) => {
    const from = pickLane(random);
    if (!from) return false;
    const wrong = random.pick(tools.lanes.filter((l) => productOf(l) !== productOf(from)));
    const atS = meetAt(a, b);
    a.actions.unshift({ do: 'pick', lane: from, quantity: 1 }, { do: 'wait-until', atS }, { do: 'put', lane: wrong, quantity: 1 });
    b.actions.unshift({ do: 'wait-until', atS: atS + MISPLACED_PICK_AFTER_S }, { do: 'pick', lane: wrong, quantity: 1 });
    take(from, 1);
    tag(a, 'wrong-shelf-put-back');
    tag(b, 'takes-misplaced-item');
    return true;
  });
  // Hand-offs: the giver picks and brings the receiver an item; the receiver waits at a shelf for them.
  pairUp(difficulty.handOffs, (receiver, giver) => {
    const meeting = pickLane(random);
    const lane = pickLane(random);
    if (!meeting || !lane) return false;
    receiver.actions.push({ do: 'walk-to', lane: meeting }, { do: 'wait-for', from: giver.id, maxS: RECEIVER_MAX_WAIT_S });
    giver.actions.push({ do: 'pick', lane, quantity: 1 }, { do: 'hand-off', to: receiver.id, quantity: 1 });
    take(lane, 1);
    for (const p of [receiver, giver]) tag(p, 'hand-off');
    return true;
  });

  // Each pair of neighbours in the arrival order plays one case at most, the cases tried in a fresh
  // order for every pair so that none crowds the others out.
  for (let i = 0; i + 1 < shoppers.length; i++) {
    const [a, b] = [shoppers[i], shoppers[i + 1]];
    const played = random.shuffle([...stagings]).some(({ chance, stage }) => random.chance(chance) && stage(a, b));
    if (played) i++;
  }
}
