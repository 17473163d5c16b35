import { SCHEMA_VERSION, type ScenarioAction, type ScenarioInput, type StoreIndex } from '../contracts/index.ts';
import { parseScenario } from './scenario.load.ts';
import { createRandom, type Random } from './random.ts';
import type { Scenario } from '../contracts/index.ts';

/**
 * Random scenarios with difficulty knobs, for stress tests and accuracy runs. Every knob is a
 * probability per shopper (or, for crowding, how tightly arrivals bunch together).
 */
export interface Difficulty {
  /** 0: arrivals spread over the whole window .. 1: everyone arrives in the first tenth. */
  crowding: number;
  /** Chance a shopper is paired with another to reach into neighbouring lanes at the same instant. */
  simultaneousPicks: number;
  /** Chance a shopper puts an item back on a different lane. */
  wrongLanePutBacks: number;
  /** Chance a shopper picks two products of near-equal weight from one shelf. */
  nearEqualWeights: number;
  /** Chance a shopper hands an item to another shopper. */
  handOffs: number;
  /** Chance a shopper brings companions (same visit, one payer). */
  groups: number;
  /** Chance a shopper stands in the aisle for a while, blocking camera views. */
  occlusion: number;
  /** Chance a shopper leans on a shelf. */
  leans: number;
  /** Staff restocks during the recording. */
  staff: boolean;
}

export const DIFFICULTY_PRESETS: Record<'easy' | 'normal' | 'hard', Difficulty> = {
  easy: { crowding: 0, simultaneousPicks: 0, wrongLanePutBacks: 0, nearEqualWeights: 0, handOffs: 0, groups: 0, occlusion: 0, leans: 0, staff: false },
  normal: { crowding: 0.3, simultaneousPicks: 0.15, wrongLanePutBacks: 0.1, nearEqualWeights: 0.15, handOffs: 0.05, groups: 0.1, occlusion: 0.15, leans: 0.1, staff: true },
  hard: { crowding: 0.7, simultaneousPicks: 0.4, wrongLanePutBacks: 0.25, nearEqualWeights: 0.4, handOffs: 0.15, groups: 0.2, occlusion: 0.3, leans: 0.25, staff: true },
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

export function generateScenario(options: RandomScenarioOptions): Scenario {
  const { index, difficulty } = options;
  const random = createRandom(options.seed);
  const lanes = [...index.placementByLane.keys()];
  const stockedLanes = lanes.filter((l) => (index.placementByLane.get(l)?.initialStock ?? 0) >= 4);
  const windowS = Math.max(10, options.minutes * 60 - 45); // leave time to shop and walk out
  const arrivalWindowS = windowS * (1 - 0.9 * difficulty.crowding);
  const pairs = nearEqualPairs(index);
  const people: NonNullable<ScenarioInput['people']> = [];
  const arrivals = Array.from({ length: options.shoppers }, () => random.uniform(0, arrivalWindowS)).sort((a, b) => a - b);
  const neighbour = (laneId: string) => {
    const { shelf } = index.lanes.get(laneId)!;
    const i = shelf.lanes.findIndex((l) => l.id === laneId);
    return shelf.lanes[i + 1]?.id ?? shelf.lanes[i - 1]?.id;
  };
  const pickLane = (r: Random) => r.pick(stockedLanes);

  for (let s = 0; s < options.shoppers; s++) {
    const r = random.fork(`shopper:${s}`);
    const id = `shopper-${s + 1}`;
    const actions: ScenarioAction[] = [];
    const arriveAtS = Math.round(arrivals[s] * 10) / 10;
    if (r.chance(difficulty.occlusion)) actions.push({ do: 'walk-to', lane: pickLane(r) }, { do: 'linger', seconds: r.uniform(3, 8) });
    if (r.chance(difficulty.nearEqualWeights) && pairs.length) {
      const [a, b] = r.pick(pairs);
      actions.push({ do: 'pick', lane: a, quantity: 1 }, { do: 'pick', lane: b, quantity: 1 });
    }
    const picks = r.int(1, 3);
    for (let p = 0; p < picks; p++) {
      const lane = pickLane(r);
      const quantity = r.chance(0.15) ? 2 : 1;
      actions.push({ do: 'pick', lane, quantity });
      if (r.chance(difficulty.wrongLanePutBacks)) actions.push({ do: 'put', lane: pickLane(r), quantity: 1 });
      else if (r.chance(0.1)) actions.push({ do: 'put', lane, quantity: 1 });
      if (r.chance(difficulty.leans)) actions.push({ do: 'lean', lane: neighbour(lane) ?? lane, seconds: r.uniform(1, 3) });
    }
    people.push({ id, role: 'shopper', accountId: `acct-${s + 1}`, arriveAtS, actions });
    if (r.chance(difficulty.groups)) {
      const companions = r.int(1, 2);
      for (let c = 0; c < companions; c++)
        people.push({
          id: `${id}-companion-${c + 1}`,
          role: 'companion',
          with: id,
          arriveAtS: arriveAtS + 0.5 * (c + 1),
          appearance: r.chance(0.5) ? { heightM: r.uniform(1.2, 1.5) } : undefined,
          actions: [{ do: 'pick', lane: pickLane(r), quantity: 1 }],
        });
    }
  }

  // Pairs reaching into neighbouring lanes at the same instant: both wait there, then reach together.
  const shoppers = people.filter((p) => p.role === 'shopper');
  for (let i = 0; i + 1 < shoppers.length; i += 2) {
    if (!random.chance(difficulty.simultaneousPicks)) continue;
    const [a, b] = [shoppers[i], shoppers[i + 1]];
    const lane = pickLane(random);
    const next = neighbour(lane);
    if (!next) continue;
    const atS = Math.max(a.arriveAtS, b.arriveAtS) + 12;
    a.actions.unshift({ do: 'walk-to', lane }, { do: 'wait-until', atS }, { do: 'pick', lane, quantity: 1 });
    b.actions.unshift({ do: 'walk-to', lane: next }, { do: 'wait-until', atS }, { do: 'pick', lane: next, quantity: 1 });
  }

  // Hand-offs: the receiver waits at a lane a while; the giver picks and brings them an item.
  for (let i = 0; i + 1 < shoppers.length; i++) {
    if (!random.chance(difficulty.handOffs)) continue;
    const [receiver, giver] = [shoppers[i], shoppers[i + 1]];
    receiver.actions.push({ do: 'walk-to', lane: pickLane(random) }, { do: 'linger', seconds: 15 });
    giver.actions.push({ do: 'pick', lane: pickLane(random), quantity: 1 }, { do: 'hand-off', to: receiver.id, quantity: 1 });
    i++;
  }

  if (difficulty.staff) {
    const lane = random.pick(lanes);
    people.push({ id: 'staff-1', role: 'staff', arriveAtS: random.uniform(0, arrivalWindowS), actions: [{ do: 'restock', lane, quantity: random.int(2, 6) }] });
  }
  for (const person of people) person.actions.push({ do: 'leave' });

  const scenario: ScenarioInput = {
    schemaVersion: SCHEMA_VERSION,
    name: `random-${index.store.id}-${options.shoppers}x${options.minutes}m-seed${options.seed}`,
    description: `Random scenario: ${options.shoppers} shoppers over ${options.minutes} min, difficulty ${JSON.stringify(difficulty)}`,
    store: index.store.id,
    ...(options.startMs !== undefined ? { startMs: options.startMs } : {}),
    people,
  };
  return parseScenario(scenario, scenario.name);
}
