import { z } from 'zod';
import { Id, SCHEMA_VERSION } from './common.schema.ts';

/**
 * A simulator scenario: who comes in when, and what each person does. Times are seconds from the
 * start of the recording. Actions run in order; walking to the right lane is implied.
 */

/**
 * The longest scenario the simulator records, seconds of store time from second zero to the end of
 * the recording. Output grows with store time (every load cell at its sample rate, every camera at
 * its frame rate), so a time far beyond this is a typo that would fill the disk, not a scenario.
 */
export const MAX_SCENARIO_SECONDS = 3600;

const Seconds = z.number().nonnegative();
/** A moment of the scenario: no later than the longest scenario the simulator records. */
const ScenarioTime = Seconds.max(
  MAX_SCENARIO_SECONDS,
  `at most ${MAX_SCENARIO_SECONDS} s, the longest scenario the simulator records (MAX_SCENARIO_SECONDS)`,
);
const Colour = z.string().regex(/^#[0-9a-f]{6}$/, 'a colour is #rrggbb');

/**
 * The hard cases attribution is judged on, one tag each (docs/formats/scenario.md says what each one
 * stages). A person carries the tags of the cases they take part in; a visit's truth carries its
 * party's, so scores can be broken down by case.
 */
export const SCENARIO_TAGS = [
  'two-at-one-shelf-same-product',
  'two-at-one-shelf-different-products',
  'crossing-arms',
  'standing-close',
  'hand-off',
  'wrong-shelf-put-back',
  'takes-misplaced-item',
  'long-hand-rest',
  'multi-item-grab',
  'dropped-item',
  'quick-pick-put-back',
  'group',
  'staff-restock',
  'takes-nothing',
  'tailgating',
  'near-equal-weights',
] as const;
export const ScenarioTag = z.enum(SCENARIO_TAGS).describe('A hard case this person takes part in.');
export type ScenarioTag = z.infer<typeof ScenarioTag>;

/** The longest a hand rests on a plate before it lifts an item, seconds. */
export const MAX_HAND_REST_S = 30;

export const ScenarioAction = z.discriminatedUnion('do', [
  z.strictObject({ do: z.literal('walk-to'), lane: Id.describe('Stand in front of this lane.') }),
  z.strictObject({
    do: z.literal('pick'),
    lane: Id,
    quantity: z.number().int().min(1).max(6).default(1).describe('Units taken in one reach.'),
    reachFrom: Id.optional().describe('Stand in front of this lane and reach across into the lane taken from (crossing arms with a neighbour).'),
    restS: Seconds.max(MAX_HAND_REST_S)
      .optional()
      .describe('The hand rests on the plate this long before it lifts (a long hand rest): the plate feels the hand, then the pick.'),
  }),
  z.strictObject({
    do: z.literal('put'),
    lane: Id.describe('Where the item is put down: its own lane or another one (a misplaced item).'),
    product: Id.optional().describe('Which carried product; the one picked last when absent.'),
    quantity: z.number().int().min(1).max(6).default(1),
  }),
  z.strictObject({
    do: z.literal('hand-off'),
    to: Id.describe('The person who receives the item; both must be in the store.'),
    product: Id.optional(),
    quantity: z.number().int().min(1).max(6).default(1),
  }),
  z.strictObject({
    do: z.literal('drop'),
    product: Id.optional().describe('Which carried product; the one picked last when absent.'),
  }).describe('The item slips to the floor; the person picks it up and keeps it. No shelf sees it.'),
  z.strictObject({
    do: z.literal('wait-for'),
    from: Id.describe('The person who will hand this one an item (a hand-off to this person).'),
    maxS: Seconds.max(600).default(120).describe('Give up and go on after this long.'),
  }).describe('Stand still until `from` has handed over an item, so a giver held up on the way still finds the receiver.'),
  z.strictObject({ do: z.literal('linger'), seconds: Seconds.max(600) }),
  z.strictObject({ do: z.literal('wait-until'), atS: ScenarioTime.describe('Stand still until this time (to stage simultaneous picks).') }),
  z.strictObject({ do: z.literal('lean'), lane: Id.describe('Rest a hand on this lane\'s shelf edge: weight moves, nothing is taken.'), seconds: Seconds.max(30).default(2) }),
  z.strictObject({ do: z.literal('restock'), lane: Id, quantity: z.number().int().min(1).max(24) }),
  z.strictObject({ do: z.literal('leave') }),
]);

export const AppearanceOverride = z
  .strictObject({
    skin: Colour.optional(),
    hair: Colour.optional(),
    shirt: Colour.optional(),
    trousers: Colour.optional(),
    shoes: Colour.optional(),
    heightM: z.number().min(1.0).max(2.2).optional(),
    build: z.number().min(0).max(1).optional(),
  })
  .describe('Fix parts of how a person looks; the rest is drawn from the seed.');

export const ScenarioPerson = z
  .strictObject({
    id: Id,
    role: z
      .enum(['shopper', 'companion', 'staff', 'tailgater'])
      .default('shopper')
      .describe('tailgater: comes in right behind `with` without a scan (an anonymous visit of their own).'),
    accountId: Id.optional().describe('The app account whose QR code a shopper scans; required for shoppers.'),
    with: Id.optional().describe('For a companion: the shopper who pays for them (same visit). For a tailgater: the person they follow through the entry gate.'),
    tags: z.array(ScenarioTag).optional().describe('The hard cases this person takes part in (SCENARIO_TAGS).'),
    arriveAtS: ScenarioTime,
    walkingSpeedMps: z.number().min(0.3).max(2.5).optional(),
    appearance: AppearanceOverride.optional(),
    actions: z.array(ScenarioAction).min(1),
  })
  .describe('One person in the scenario.');

export const LoadCellFaultSpec = z.strictObject({
  loadCell: Id,
  kind: z.enum(['stuck', 'dead', 'saturated', 'noisy']),
  atS: ScenarioTime,
});

export const Scenario = z
  .strictObject({
    schemaVersion: z.literal(SCHEMA_VERSION),
    name: z.string().min(1),
    description: z.string().describe('What makes this case easy or hard.'),
    store: Id.describe('The store it runs in by default: an id under fixtures/stores. Any store holding every lane, product and load cell it names can run it (--store).'),
    startMs: z.number().int().nonnegative().default(1_780_000_000_000).describe('Store-clock time of second zero.'),
    tailS: Seconds.max(120).default(3).describe('Seconds recorded after the last person leaves.'),
    people: z.array(ScenarioPerson).min(1),
    faults: z.array(LoadCellFaultSpec).default([]),
  })
  .superRefine((scenario, ctx) => {
    const ids = new Map(scenario.people.map((p) => [p.id, p]));
    if (ids.size !== scenario.people.length) ctx.addIssue({ code: 'custom', path: ['people'], message: 'person ids must be unique' });
    scenario.people.forEach((person, i) => {
      const at = ['people', i];
      if (person.role === 'shopper' && !person.accountId)
        ctx.addIssue({ code: 'custom', path: [...at, 'accountId'], message: `shopper ${person.id} has no accountId to scan at the gate` });
      if (person.role === 'companion') {
        const payer = person.with ? ids.get(person.with) : undefined;
        if (!payer || payer.role !== 'shopper')
          ctx.addIssue({ code: 'custom', path: [...at, 'with'], message: `companion ${person.id} must name the shopper they came with` });
      }
      if (person.role === 'tailgater') {
        const followed = person.with ? ids.get(person.with) : undefined;
        if (!followed || (followed.role !== 'shopper' && followed.role !== 'companion'))
          ctx.addIssue({ code: 'custom', path: [...at, 'with'], message: `tailgater ${person.id} must name the shopper or companion they follow through the gate` });
      }
      person.actions.forEach((action, ai) => {
        if (action.do === 'hand-off' && !ids.has(action.to))
          ctx.addIssue({ code: 'custom', path: [...at, 'actions', ai, 'to'], message: `${person.id} hands off to unknown person ${action.to}` });
        if (action.do === 'wait-for' && !ids.get(action.from)?.actions.some((a) => a.do === 'hand-off' && a.to === person.id))
          ctx.addIssue({ code: 'custom', path: [...at, 'actions', ai, 'from'], message: `${person.id} waits for ${action.from}, who hands them nothing` });
        if (action.do === 'restock' && person.role !== 'staff')
          ctx.addIssue({ code: 'custom', path: [...at, 'actions', ai], message: `only staff restock (${person.id} is a ${person.role})` });
      });
      if (person.actions.at(-1)?.do !== 'leave')
        ctx.addIssue({ code: 'custom', path: [...at, 'actions'], message: `${person.id} never leaves: end the actions with {"do": "leave"}` });
    });
  })
  .describe('A simulator scenario file (fixtures/scenarios/*.json).');

export type ScenarioAction = z.infer<typeof ScenarioAction>;
export type ScenarioPerson = z.infer<typeof ScenarioPerson>;
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;
