import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { indexStore, KP, loadStore, ReceiptTruth, SCENARIO_TAGS, VisitTruth, type StoreIndex } from '../contracts/index.ts';
import { scoreReceipts } from '../cart/receipts.eval.ts';
import { collect, openRecording } from '../recording/index.ts';
import { scoreShelfEvents } from '../shelf/shelf.eval.ts';
import { laneAccess } from './floor.map.ts';
import { simulateShelfLoadCells } from './loadcell.sim.ts';
import { writeSimulation } from './recording.sim.ts';
import { DIFFICULTY_PRESETS, generateScenario } from './scenario.generator.ts';
import { loadScenario, parseScenario } from './scenario.load.ts';
import { simulate } from './store.sim.ts';

const fixture = (p: string) => new URL(`../../fixtures/${p}`, import.meta.url).pathname;
const stores = new Map<string, StoreIndex>();
const storeIndex = async (id: string) => {
  if (!stores.has(id)) stores.set(id, indexStore(await loadStore(fixture(`stores/${id}.json`))));
  return stores.get(id)!;
};
const run = async (name: string) => {
  const scenario = await loadScenario(fixture(`scenarios/${name}.json`));
  return simulate(scenario, await storeIndex(scenario.store), 1);
};
const receiptOf = (sim: ReturnType<typeof simulate>, visitId: string) =>
  Object.fromEntries(sim.receipts.find((r) => r.visitId === visitId)!.lines.map((l) => [l.productId, l.quantity]));

test('every fixture scenario runs without a warning, and its visits carry the tags of their people', async () => {
  const names = (await readdir(fixture('scenarios'))).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
  const carried = new Set<string>();
  for (const name of names) {
    const sim = await run(name);
    assert.deepEqual(sim.warnings, [], name);
    for (const person of sim.scenario.people) {
      const visit = sim.visits.find((v) => v.personIds.includes(person.id));
      if (person.role === 'staff') {
        assert.equal(visit, undefined, `${name}: staff ${person.id} has no visit`);
        continue;
      }
      assert.ok(visit, `${name}: ${person.id} belongs to a visit`);
      for (const tag of person.tags ?? []) assert.ok(visit.tags.includes(tag), `${name}: ${visit.visitId} carries ${person.id}'s tag ${tag}`);
    }
    for (const visit of sim.visits) for (const tag of visit.tags) carried.add(tag);
    if ((SCENARIO_TAGS as readonly string[]).includes(name)) assert.ok(sim.visits.some((v) => v.tags.includes(name)), `${name}.json plays its case`);
  }
  assert.deepEqual(SCENARIO_TAGS.filter((tag) => !carried.has(tag)), [], 'every hard case has a fixture whose visits carry it');
});

test('a tailgater comes in behind a shopper without a scan, on an anonymous visit of their own', async () => {
  const sim = await run('tailgating');
  const scans = sim.gateLines.filter((g) => g.topic === 'gate.qr-scanned');
  assert.deepEqual(scans.map((g) => g.message.visitId), ['v-mia']);
  const entries = sim.gateLines.filter((g) => g.topic === 'gate.opened' && g.message.kind === 'entry');
  assert.equal(entries.length, 1, 'one entry opening: mia\'s, which nico slips through');
  const nico = sim.people.find((p) => p.id === 'nico')!;
  const mia = sim.people.find((p) => p.id === 'mia')!;
  assert.ok(nico.timeline.enterMs > mia.timeline.enterMs && nico.timeline.enterMs - entries[0].message.ts < 2_000, 'right behind mia');
  // Never inside each other at the gate.
  for (let t = nico.timeline.enterMs; t < nico.timeline.enterMs + 5_000; t += 50) {
    const [a, b] = [nico.timeline.placeAt(t).at, mia.timeline.placeAt(t).at];
    assert.ok(Math.hypot(a[0] - b[0], a[1] - b[1]) >= 0.35, `${t - nico.timeline.enterMs} ms after nico came in`);
  }
  const visit = sim.visits.find((v) => v.visitId === 'v-nico')!;
  assert.equal(visit.kind, 'anonymous');
  assert.equal(visit.accountId, undefined);
  assert.deepEqual(receiptOf(sim, 'v-nico'), { 'p-0025': 1 });
  assert.deepEqual(receiptOf(sim, 'v-mia'), { 'p-0008': 1 });
  assert.equal(sim.actions.find((a) => a.personId === 'nico')!.visitId, 'v-nico');
});

test('tags and visit kinds reach visits.jsonl; old truth lines without them still read', async () => {
  const sim = await run('tailgating');
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-cases-'));
  await writeSimulation(sim, dir, { seed: 1, quiet: true });
  const recording = await openRecording(dir);
  const visits: VisitTruth[] = [];
  for await (const visit of recording.truthVisits()) visits.push(visit);
  assert.deepEqual(
    visits.map((v) => [v.visitId, v.kind, v.tags]),
    [['v-mia', 'shopper', ['tailgating']], ['v-nico', 'anonymous', ['tailgating']]],
  );
  const old = VisitTruth.parse({ visitId: 'v-a', accountId: 'acct-a', personIds: ['a'], entryMs: 1, exitMs: 2 });
  assert.equal(old.kind, 'shopper');
  assert.deepEqual(old.tags, []);
  assert.equal(ReceiptTruth.parse({ visitId: 'v-nico', lines: [], totalCents: 0 }).accountId, undefined);
});

test('a drop in a recording\'s truth is scored as the rules say: the item stays on the receipt of the visit that picked it, and no shelf owes an event for it', async () => {
  const sim = await run('dropped-item');
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-drop-'));
  await writeSimulation(sim, dir, { seed: 1, quiet: true });
  const recording = await openRecording(dir);
  const actions = await collect(recording.truthActions());
  assert.deepEqual(actions.map((a) => a.kind), ['pick', 'drop', 'pick'], 'the drop is written and read back');
  const visits = await collect(recording.truthVisits());
  const receipts = await collect(recording.truthReceipts());
  const lines = receipts[0].lines.map((l) => ({ ...l, totalCents: l.quantity * l.unitPriceCents }));
  // The receipt the rules ask for: both picks charged, the dropped bottle among them.
  const charged = {
    schemaVersion: 1 as const, eventId: 'receipt/v-ivo', storeId: 'kiosk', ts: visits[0].exitMs, visitId: 'v-ivo', receiptId: 'receipt-v-ivo',
    accountId: 'acct-ivo', exitMs: visits[0].exitMs, lines, pending: [], totalCents: lines.reduce((s, l) => s + l.totalCents, 0),
  };
  const pipeline = { receipts: [charged], attributions: [], reviews: [], shelfEvents: [] };
  assert.equal(scoreReceipts({ visits, receipts, actions }, pipeline).exactMatch, 1);
  // Without the true receipt, the visit's picks less its puts: the drop takes nothing away.
  assert.equal(scoreReceipts({ visits, receipts: [], actions }, pipeline).exactMatch, 1);
  const dropped = { ...charged, lines: lines.filter((l) => l.productId !== actions[1].productId) };
  assert.equal(scoreReceipts({ visits, receipts: [], actions }, { ...pipeline, receipts: [dropped] }).exactMatch, 0, 'a receipt without the dropped item is wrong');
  // Shelf perception is owed the two picks only.
  assert.equal(scoreShelfEvents(recording.index, [], actions).actions, 2);
});

test('a dropped item is picked up again and stays on the receipt; the shelf saw only the pick', async () => {
  const sim = await run('dropped-item');
  assert.deepEqual(receiptOf(sim, 'v-ivo'), { 'p-0018': 1, 'p-0020': 1 });
  const index = await storeIndex('kiosk');
  const waterShelf = index.lanes.get('g1-s4-l2')!.shelf.id;
  const changes = sim.plateChanges.get(waterShelf)!;
  assert.ok(changes.every((c) => c.kind === 'pick'), 'no put and no lean on the water shelf');
  // The drop is in the truth, on the visit that took the bottle off the shelf, with no shelf.
  const ivos = sim.actions.filter((a) => a.personId === 'ivo');
  assert.deepEqual(ivos.map((a) => a.kind), ['pick', 'drop', 'pick']);
  assert.deepEqual([ivos[1].visitId, ivos[1].productId, ivos[1].quantity, ivos[1].shelfId], ['v-ivo', ivos[0].productId, 1, undefined]);
  // Between the two picks, ivo bends down to the floor for the bottle: during the drop.
  const [first, , second] = ivos;
  assert.ok(ivos[1].startMs >= first.endMs && ivos[1].endMs <= second.startMs);
  const ivo = sim.people.find((p) => p.id === 'ivo')!;
  let lowest = Infinity;
  for (let t = first.endMs; t < second.startMs; t += 20) {
    const k = ivo.timeline.keypointsAt(t);
    lowest = Math.min(lowest, k[KP.left_wrist][2], k[KP.right_wrist][2]);
  }
  assert.ok(lowest < 0.25, `a wrist came down to ${lowest.toFixed(2)} m`);
});

test('a long hand rest weighs on the plate for seconds before the pick takes the weight', async () => {
  const sim = await run('long-hand-rest');
  const index = await storeIndex('kiosk');
  const pick = sim.actions.find((a) => a.kind === 'pick')!;
  const { shelf, lane } = index.lanes.get(pick.laneId!)!;
  const slot = shelf.plates.findIndex((p) => p.id === lane.plateIds[0]);
  const readings: Array<[number, number]> = [];
  for (const tick of simulateShelfLoadCells({ index, shelfId: shelf.id, startMs: sim.startMs, endMs: sim.endMs, initialGrams: sim.initialPlateGrams, changes: sim.plateChanges.get(shelf.id)!, seed: 1 }))
    readings.push([tick.ts, tick.grams[slot]]);
  const mean = (from: number, to: number) => {
    const span = readings.filter(([ts]) => ts >= from && ts < to).map(([, g]) => g);
    return span.reduce((s, g) => s + g, 0) / span.length;
  };
  const before = mean(pick.startMs - 1_000, pick.startMs);
  // The rest is 6 s from when the hand arrives (under a second into the reach).
  const resting = mean(pick.startMs + 2_000, pick.startMs + 6_000) - before;
  const after = mean(pick.endMs + 1_000, pick.endMs + 2_000) - before;
  assert.ok(resting > 8 && resting < 80, `resting hand: ${resting.toFixed(1)} g`);
  const coffee = index.products.get(pick.productId)!.unitWeightGrams;
  assert.ok(Math.abs(after + coffee) < 25, `after the pick: ${after.toFixed(1)} g for a ${coffee} g bag`);
});

test('crossing arms: each shopper takes from the lane in front of the other', async () => {
  const sim = await run('crossing-arms');
  const index = await storeIndex('kiosk');
  for (const action of sim.actions) {
    const taker = sim.people.find((p) => p.id === action.personId)!;
    const other = sim.people.find((p) => p.id !== action.personId)!;
    const t = action.startMs + 1_000; // the hands are at the lanes
    const stand = laneAccess(index, action.laneId!).stand;
    const distance = (p: typeof taker) => Math.hypot(p.timeline.placeAt(t).at[0] - stand[0], p.timeline.placeAt(t).at[1] - stand[1]);
    assert.ok(distance(other) < distance(taker), `${action.laneId}: ${other.id} stands nearer than ${taker.id}, who takes from it`);
    const hand = laneAccess(index, action.laneId!).hand;
    const k = taker.timeline.keypointsAt(t);
    const reach = Math.min(...[k[KP.left_wrist], k[KP.right_wrist]].map((w) => Math.hypot(w[0] - hand[0], w[1] - hand[1], w[2] - hand[2])));
    assert.ok(reach < 0.05, `${taker.id}'s wrist at ${action.laneId}: ${reach.toFixed(3)} m`);
  }
  assert.deepEqual(receiptOf(sim, 'v-chen'), { 'p-0009': 1 });
  assert.deepEqual(receiptOf(sim, 'v-dana'), { 'p-0008': 1 });
});

test('a receiver who waits for the giver gets the item even when the giver is held up for long', async () => {
  const scenario = parseScenario(
    {
      schemaVersion: 1, name: 'slow-giver', description: '', store: 'kiosk',
      people: [
        { id: 'rosa', accountId: 'acct-rosa', arriveAtS: 0, tags: ['hand-off'], actions: [{ do: 'walk-to', lane: 'g2-s3-l1' }, { do: 'wait-for', from: 'sam' }, { do: 'leave' }] },
        { id: 'sam', accountId: 'acct-sam', arriveAtS: 1, tags: ['hand-off'], actions: [{ do: 'linger', seconds: 40 }, { do: 'pick', lane: 'g2-s2-l5' }, { do: 'hand-off', to: 'rosa' }, { do: 'leave' }] },
      ],
    },
    'slow-giver.json',
  );
  const sim = simulate(scenario, await storeIndex('kiosk'), 1);
  assert.deepEqual(sim.warnings, []);
  const handOff = sim.actions.find((a) => a.kind === 'hand-off')!;
  assert.equal(handOff.toVisitId, 'v-rosa');
  // The drink leaves with Rosa but stays on the receipt of Sam, who took it off the shelf.
  assert.deepEqual(receiptOf(sim, 'v-rosa'), {});
  assert.deepEqual(receiptOf(sim, 'v-sam'), { 'p-0035': 1 });
  assert.ok(sim.people[0].timeline.exitMs > handOff.endMs, 'rosa leaves after she has the drink');
  assert.throws(
    () => parseScenario({ ...scenario, people: [{ ...scenario.people[0], actions: [{ do: 'wait-for', from: 'nobody' }, { do: 'leave' }] }] }, 'x.json'),
    /rosa waits for nobody, who hands them nothing/,
  );
});

test('an item handed over and put back leaves the giver\'s receipt: the put changes the giver\'s cart, whoever made it', async () => {
  const scenario = parseScenario(
    {
      schemaVersion: 1, name: 'handed-back', description: '', store: 'kiosk',
      people: [
        { id: 'rosa', accountId: 'acct-rosa', arriveAtS: 0, tags: ['hand-off'], actions: [{ do: 'walk-to', lane: 'g2-s3-l1' }, { do: 'wait-for', from: 'sam' }, { do: 'put', lane: 'g2-s3-l1', quantity: 1 }, { do: 'leave' }] },
        { id: 'sam', accountId: 'acct-sam', arriveAtS: 1, tags: ['hand-off'], actions: [{ do: 'pick', lane: 'g2-s2-l5' }, { do: 'hand-off', to: 'rosa' }, { do: 'leave' }] },
      ],
    },
    'handed-back.json',
  );
  const sim = simulate(scenario, await storeIndex('kiosk'), 1);
  assert.deepEqual(sim.warnings, []);
  const put = sim.actions.find((a) => a.kind === 'put')!;
  assert.deepEqual([put.personId, put.visitId, put.productId], ['rosa', 'v-sam', 'p-0035'], 'rosa put back the drink sam took');
  assert.deepEqual(receiptOf(sim, 'v-rosa'), {});
  assert.deepEqual(receiptOf(sim, 'v-sam'), {}, 'the drink is back on a shelf');
});

test('a hard random kiosk run mixes the cases, tags its visits, and plans nobody through anyone', async () => {
  const index = await storeIndex('kiosk');
  const scenario = generateScenario({ index, shoppers: 20, minutes: 4, seed: 4, difficulty: DIFFICULTY_PRESETS.hard });
  const tagged = new Set(scenario.people.flatMap((p) => p.tags ?? []));
  assert.ok(tagged.size >= 14, `cases played: ${[...tagged].join(', ')}`);
  const sim = simulate(scenario, index, 4);
  assert.deepEqual(sim.warnings, []);
  for (const visit of sim.visits) {
    const people = sim.scenario.people.filter((p) => visit.personIds.includes(p.id));
    assert.deepEqual(visit.tags, [...new Set(people.flatMap((p) => p.tags ?? []))].sort(), visit.visitId);
    if (visit.tags.includes('hand-off'))
      assert.ok(sim.actions.some((a) => a.kind === 'hand-off' && (a.visitId === visit.visitId || a.toVisitId === visit.visitId)), `${visit.visitId} gives or gets a hand-off`);
    assert.equal(visit.kind === 'anonymous', visit.visitId.endsWith('-tailgater'), visit.visitId);
  }
  const scanned = new Set(sim.gateLines.flatMap((g) => (g.topic === 'gate.qr-scanned' ? [g.message.visitId] : [])));
  for (const visit of sim.visits) assert.equal(scanned.has(visit.visitId), visit.kind === 'shopper', `${visit.visitId} scanned`);
});
