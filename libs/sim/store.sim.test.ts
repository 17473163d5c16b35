import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { indexStore, KP, loadStore, MAX_SCENARIO_SECONDS, WalkoutError, type Scenario, type StoreIndex } from '../contracts/index.ts';
import { buildFloorMap, laneAccess } from './floor.map.ts';
import { writeSimulation } from './recording.sim.ts';
import { DIFFICULTY_PRESETS, generateScenario } from './scenario.generator.ts';
import { loadScenario, parseScenario } from './scenario.load.ts';
import { simulate } from './store.sim.ts';

const fixture = (p: string) => new URL(`../../fixtures/${p}`, import.meta.url).pathname;
const kiosk = async () => indexStore(await loadStore(fixture('stores/kiosk.json')));
const scenario = (name: string) => loadScenario(fixture(`scenarios/${name}.json`));
const receiptOf = (sim: ReturnType<typeof simulate>, visitId: string) =>
  Object.fromEntries(sim.receipts.find((r) => r.visitId === visitId)!.lines.map((l) => [l.productId, l.quantity]));

async function hashFolder(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.set(path.relative(dir, full), createHash('sha256').update(await readFile(full)).digest('hex'));
    }
  };
  await walk(dir);
  return out;
}

test('same seed, same bytes; another seed, other samples', async () => {
  const index = await kiosk();
  const sc = await scenario('two-shoppers-one-shelf');
  const write = async (seed: number) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'walkout-sim-'));
    await writeSimulation(simulate(sc, index, seed), dir, { seed, quiet: true });
    return hashFolder(dir);
  };
  const [a, b, c] = [await write(7), await write(7), await write(8)];
  assert.ok(a.size > 10);
  assert.deepEqual([...a.entries()].sort(), [...b.entries()].sort());
  assert.notEqual(a.get('loadcells/g1-s2.csv'), c.get('loadcells/g1-s2.csv'));
});

test('a misplaced item is taken by the next shopper from the wrong lane', async () => {
  const sim = simulate(await scenario('wrong-lane-put-back'), await kiosk(), 1);
  // Alice put the energy drink (p-0017) on the milk lane; Bob, picking from the milk lane, gets it.
  assert.deepEqual(receiptOf(sim, 'v-alice'), { 'p-0015': 1 });
  assert.deepEqual(receiptOf(sim, 'v-bob'), { 'p-0017': 1 });
  const bobs = sim.actions.find((a) => a.personId === 'bob')!;
  assert.equal(bobs.laneId, 'g1-s3-l2');
  assert.equal(bobs.productId, 'p-0017');
});

test('a handed item stays on the picker\'s receipt; groups pay once; staff restocks are not sold', async () => {
  const index = await kiosk();
  const handOff = simulate(await scenario('hand-off'), index, 1);
  // Alice picks two and hands one to Bob: both leave the store on Alice's receipt (the rule the big
  // vendors use), and Bob, who took nothing off a shelf, pays nothing.
  assert.deepEqual(receiptOf(handOff, 'v-alice'), { 'p-0035': 2 });
  assert.deepEqual(receiptOf(handOff, 'v-bob'), {});
  const given = handOff.actions.find((a) => a.kind === 'hand-off')!;
  assert.equal(given.toVisitId, 'v-bob');

  const group = simulate(await scenario('group-visit'), index, 1);
  assert.equal(group.visits.length, 1);
  assert.deepEqual(group.visits[0].personIds, ['parent', 'kid-1', 'kid-2']);
  assert.deepEqual(receiptOf(group, 'v-parent'), { 'p-0005': 1, 'p-0006': 1, 'p-0028': 1 });
  const scan = group.gateLines.find((g) => g.topic === 'gate.qr-scanned')!;
  assert.equal(scan.topic === 'gate.qr-scanned' && scan.message.partySize, 3);

  const restock = simulate(await scenario('staff-restock'), index, 1);
  assert.equal(restock.receipts.length, 1);
  assert.deepEqual(receiptOf(restock, 'v-carol'), { 'p-0022': 3 });
  const staffPuts = restock.actions.filter((a) => a.personId === 'staff-1');
  assert.equal(staffPuts.reduce((s, a) => s + a.quantity, 0), 6);
  assert.ok(staffPuts.every((a) => a.kind === 'put' && a.visitId === undefined));
  // Carol's three bags come in two reaches (a hand takes at most two).
  assert.deepEqual(restock.actions.filter((a) => a.personId === 'carol').map((a) => a.quantity), [2, 1]);
});

test('weight changes on the plates add up to the items moved, split across plates', async () => {
  const index = await kiosk();
  const sim = simulate(await scenario('crowd'), index, 3);
  const changes = [...sim.plateChanges.values()].flat().filter((c) => c.kind !== 'lean');
  const leans = [...sim.plateChanges.values()].flat().filter((c) => c.kind === 'lean');
  assert.equal(leans.length, 1);
  assert.equal(leans[0].deltaGrams, 0);
  for (const action of sim.actions) {
    const product = index.products.get(action.productId)!;
    const mine = changes.filter((c) => action.plateIds!.includes(c.plateId) && c.atMs >= action.startMs && c.atMs <= action.endMs);
    const total = mine.reduce((s, c) => s + c.deltaGrams, 0);
    const expected = (action.kind === 'pick' ? -1 : 1) * action.quantity * product.unitWeightGrams;
    const tolerance = 4 * product.weightSpreadGrams * Math.sqrt(action.quantity) + 1;
    // Simultaneous neighbours may share a plate: only check actions that had their plates to themselves.
    if (mine.length === action.plateIds!.length) assert.ok(Math.abs(total - expected) < tolerance, `${action.actionId}: ${total} vs ${expected}`);
  }
});

function assertMovesLikePeople(sim: ReturnType<typeof simulate>, index: StoreIndex) {
  const floor = buildFloorMap(index);
  for (const person of sim.people) {
    const t0 = person.timeline.enterMs;
    const t1 = person.timeline.exitMs;
    let previous = person.timeline.placeAt(t0).at;
    let maxSpeed = 0;
    for (let t = t0 + 100; t <= t1; t += 100) {
      const { at } = person.timeline.placeAt(t);
      maxSpeed = Math.max(maxSpeed, Math.hypot(at[0] - previous[0], at[1] - previous[1]) / 0.1);
      previous = at;
      // Bodies are about 0.25 m in radius; paths may cut a corner by a few centimetres, never walk through.
      assert.ok(floor.clearance(at) > 0.18, `${person.id} walks into a gondola at ${t - t0} ms: ${at}`);
    }
    assert.ok(maxSpeed < 2.2, `${person.id} moved at ${maxSpeed.toFixed(2)} m/s`);
  }
}

test('people walk at human speeds, around gondolas, and their hand reaches the lane they take from', async () => {
  const index = await kiosk();
  const sim = simulate(await scenario('crowd'), index, 1);
  assertMovesLikePeople(sim, index);
  for (const action of sim.actions.filter((a) => a.kind === 'pick')) {
    const person = sim.people.find((p) => p.id === action.personId)!;
    const hand = laneAccess(index, action.laneId!).hand;
    // Some time during the reach a wrist is at the lane.
    let best = Infinity;
    for (let t = action.startMs; t <= action.endMs; t += 20) {
      const k = person.timeline.keypointsAt(t);
      for (const w of [k[KP.left_wrist], k[KP.right_wrist]]) best = Math.min(best, Math.hypot(w[0] - hand[0], w[1] - hand[1], w[2] - hand[2]));
    }
    assert.ok(best < 0.02, `${action.actionId}: wrist got only within ${best.toFixed(3)} m of ${action.laneId}`);
  }
});

test('a scenario naming an unknown lane is refused with the person and action', async () => {
  const bad: Scenario = parseScenario(
    {
      schemaVersion: 1, name: 'bad', description: '', store: 'kiosk',
      people: [{ id: 'zed', accountId: 'acct-zed', arriveAtS: 0, actions: [{ do: 'linger', seconds: 1 }, { do: 'pick', lane: 'g9-s1-l1' }, { do: 'leave' }] }],
    },
    'bad.json',
  );
  assert.throws(() => simulate(bad, indexStoreSync, 1), (e: unknown) => e instanceof WalkoutError && /people\.0\.actions\.1: zed goes to unknown lane g9-s1-l1/.test(e.message));
  assert.throws(
    () => parseScenario({ schemaVersion: 1, name: 'x', description: '', store: 'kiosk', people: [{ id: 'amy', arriveAtS: 0, actions: [{ do: 'leave' }] }] }, 'x.json'),
    /x\.json at people\.0\.accountId: shopper amy has no accountId/,
  );
});
const indexStoreSync = await kiosk();

test('a scenario runs in another store holding its lanes: the kiosk with shelf cameras moves its people as the kiosk does', async () => {
  const crowd = await scenario('crowd');
  const inKiosk = simulate(crowd, await kiosk(), 1);
  const withShelfCameras = simulate(crowd, indexStore(await loadStore(fixture('stores/kiosk-shelf-cams.json'))), 1);
  assert.equal(withShelfCameras.index.store.cameras.length, 6);
  assert.deepEqual(withShelfCameras.receipts, inKiosk.receipts);
  for (const t of [inKiosk.startMs + 5000, inKiosk.startMs + 20000])
    inKiosk.people.forEach((p, i) => assert.deepEqual(withShelfCameras.people[i].timeline.keypointsAt(t), p.timeline.keypointsAt(t), `${p.id} at ${t}`));
});

test('random scenarios are valid, deterministic, and run in the large store', async () => {
  const index = indexStore(await loadStore(fixture('stores/convenience.json')));
  const options = { index, shoppers: 12, minutes: 2, seed: 5, difficulty: DIFFICULTY_PRESETS.hard };
  const a = generateScenario(options);
  assert.deepEqual(generateScenario(options), a);
  assert.notDeepEqual(generateScenario({ ...options, seed: 6 }), a);
  const sim = simulate(a, index, 5);
  assert.ok(sim.actions.length >= 12);
  assert.equal(sim.visits.filter((v) => v.kind === 'shopper').length, 12);
  assert.ok(sim.visits.every((v) => (v.kind === 'anonymous') === (v.accountId === undefined)));
  assertMovesLikePeople(sim, index);
  // Every receipt line is a product that some action moved to that visit.
  for (const receipt of sim.receipts)
    for (const line of receipt.lines) assert.ok(sim.actions.some((x) => x.productId === line.productId), line.productId);
});

test('the committed demo recording is what the simulator makes today (re-run `walkout sim` on kiosk-demo after a change)', async () => {
  const demo = await scenario('kiosk-demo');
  assert.equal(demo.store, 'kiosk-shelf-cams', 'the demo runs in the kiosk with its shelf cameras');
  const index = indexStore(await loadStore(fixture(`stores/${demo.store}.json`)));
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-demo-'));
  await writeSimulation(simulate(demo, index, 1), dir, { seed: 1, quiet: true });
  const fresh = await hashFolder(dir);
  const committed = await hashFolder(fixture('recordings/kiosk-demo'));
  // Videos and 2D pose truth need the renderer; everything else must match byte for byte.
  for (const [file, hash] of fresh) if (file !== 'manifest.json') assert.equal(committed.get(file), hash, `${file} differs from the committed recording`);
  assert.ok(committed.has('cameras/cam-1.mp4') && committed.has('cameras/cam-6.mp4') && committed.has('truth/poses/cam-6.jsonl'));
});

test('gate events are named after what they are, not counted: listing the people in another order renames none', async () => {
  const listed = await scenario('two-shoppers-one-shelf');
  const store = await kiosk();
  // Gate event (topic, time, gate) -> its id.
  const ids = (people: Scenario['people']) =>
    new Map(simulate({ ...listed, people }, store, 1).gateLines.map((line) => [`${line.topic} ${line.message.ts} ${line.message.gateId}`, line.message.eventId]));
  const asListed = ids(listed.people);
  assert.equal(new Set(asListed.values()).size, asListed.size, 'unique');
  const reversed = ids([...listed.people].reverse());
  // Planned in the other order, people come and leave at other moments (whoever is planned second
  // yields, at the door too); the events that are the same keep their names.
  const same = [...asListed.keys()].filter((event) => reversed.has(event));
  assert.ok(same.length >= 2, `one entry at least (scan and gate): ${same}`);
  for (const event of same) assert.equal(reversed.get(event), asListed.get(event), event);
});

test('shoppers reaching into neighbouring lanes at once stand shoulder to shoulder, not inside each other', async () => {
  const sim = simulate(await scenario('crowd'), await kiosk(), 1);
  const place = (id: string, t: number) => sim.people.find((p) => p.id === id)!.timeline.placeAt(t).at;
  // Erin and Frank reach into g1-s2-l3 and g1-s2-l4 (lanes 0.33 m apart) at second 12.
  for (const [a, b] of [['erin', 'frank'], ['grace', 'heidi']]) {
    const pick = sim.actions.find((x) => x.personId === b && x.kind === 'pick')!;
    const t = (pick.startMs + pick.endMs) / 2;
    const [pa, pb] = [place(a, t), place(b, t)];
    assert.ok(Math.hypot(pa[0] - pb[0], pa[1] - pb[1]) >= 0.45, `${a} and ${b} stand ${Math.hypot(pa[0] - pb[0], pa[1] - pb[1]).toFixed(2)} m apart`);
  }
});

test('nobody walks through anyone: people wait, walk round, or queue at the gates (every scenario fixture)', async () => {
  const store = await kiosk();
  const names = (await readdir(fixture('scenarios'))).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));
  assert.ok(names.length >= 8, `found ${names.length} scenarios`);
  for (const name of names) {
    const sim = simulate(await scenario(name), store, 1);
    assert.deepEqual(sim.warnings.filter((w) => w.includes('walked through')), [], name);
    const start = Math.min(...sim.people.map((p) => p.timeline.enterMs));
    const end = Math.max(...sim.people.map((p) => p.timeline.exitMs));
    let closest = { gap: Infinity, at: 0, who: '' };
    for (let t = start; t <= end; t += 50) {
      const present = sim.people.filter((p) => p.timeline.present(t));
      for (let i = 0; i < present.length; i++)
        for (let j = i + 1; j < present.length; j++) {
          const a = present[i].timeline.placeAt(t).at;
          const b = present[j].timeline.placeAt(t).at;
          const gap = Math.hypot(a[0] - b[0], a[1] - b[1]);
          if (gap < closest.gap) closest = { gap, at: t - start, who: `${present[i].id} and ${present[j].id}` };
        }
    }
    // Two bodies side by side have their centres about 0.4 m apart; closer than 0.3 m they overlap.
    assert.ok(closest.gap >= 0.3, `${name}: ${closest.who} are ${closest.gap.toFixed(2)} m apart at ${(closest.at / 1000).toFixed(1)} s`);
  }
});

test('an item for someone who has already left stays with the giver: on the giver\'s receipt, not the leaver\'s', async () => {
  const late: Scenario = parseScenario(
    {
      schemaVersion: 1, name: 'late-hand-off', description: '', store: 'kiosk',
      people: [
        { id: 'amy', accountId: 'acct-amy', arriveAtS: 0, actions: [{ do: 'leave' }] },
        { id: 'ben', accountId: 'acct-ben', arriveAtS: 2, actions: [{ do: 'pick', lane: 'g1-s2-l2' }, { do: 'linger', seconds: 20 }, { do: 'hand-off', to: 'amy' }, { do: 'leave' }] },
      ],
    },
    'late.json',
  );
  const sim = simulate(late, await kiosk(), 1);
  assert.ok(sim.warnings.some((w) => /ben meant to hand an item to amy, who had left/.test(w)), sim.warnings.join('\n'));
  assert.equal(sim.actions.filter((a) => a.kind === 'hand-off').length, 0);
  assert.deepEqual(receiptOf(sim, 'v-amy'), {});
  assert.equal(Object.values(receiptOf(sim, 'v-ben')).reduce((s, n) => s + n, 0), 1);
});

test('a scenario longer than the simulator records is refused before any work, naming the file and the element', async () => {
  const person = (actions: unknown[]) => ({ schemaVersion: 1, name: 'long', description: '', store: 'kiosk', people: [{ id: 'zed', accountId: 'acct-zed', arriveAtS: 0, actions }] });
  const limit = `at most ${MAX_SCENARIO_SECONDS} s, the longest scenario the simulator records \\(MAX_SCENARIO_SECONDS\\)`;
  assert.throws(
    () => parseScenario(person([{ do: 'wait-until', atS: 100_000 }, { do: 'leave' }]), 'long.json'),
    (e: unknown) => e instanceof WalkoutError && e.code === 'SCENARIO_INVALID' && new RegExp(`long\\.json at people\\.0\\.actions\\.0\\.atS: ${limit}`).test(e.message),
  );
  assert.throws(() => parseScenario({ ...person([{ do: 'leave' }]), people: [{ id: 'zed', accountId: 'acct-zed', arriveAtS: 1e9, actions: [{ do: 'leave' }] }] }, 'late.json'), new RegExp(`late\\.json at people\\.0\\.arriveAtS: ${limit}`));
  // Each linger is allowed; together they run past the limit, which only planning can tell.
  const lingering = parseScenario(person([...Array.from({ length: 7 }, () => ({ do: 'linger', seconds: 600 })), { do: 'leave' }]), 'lingering.json');
  assert.throws(
    () => simulate(lingering, indexStoreSync, 1),
    (e: unknown) =>
      e instanceof WalkoutError && e.code === 'SCENARIO_INVALID' && /scenario long runs 42\d\d s of store time \(zed leaves last, at 42\d\d s\); the simulator records at most 3600 s \(MAX_SCENARIO_SECONDS\)/.test(e.message),
  );
});

test('a put-back comes off the putter\'s own receipt: a handed item of the same product stays on the giver\'s', async () => {
  const lane = 'g1-s2-l2';
  const scenarioInput: Scenario = parseScenario(
    {
      schemaVersion: 1, name: 'put-back-after-hand-off', description: '', store: 'kiosk',
      people: [
        { id: 'amy', accountId: 'acct-amy', arriveAtS: 0, actions: [{ do: 'pick', lane }, { do: 'wait-for', from: 'ben', maxS: 120 }, { do: 'put', lane }, { do: 'leave' }] },
        { id: 'ben', accountId: 'acct-ben', arriveAtS: 4, actions: [{ do: 'pick', lane }, { do: 'hand-off', to: 'amy' }, { do: 'leave' }] },
      ],
    },
    'put-back-after-hand-off.json',
  );
  const index = await kiosk();
  const sim = simulate(scenarioInput, index, 1);
  assert.equal(sim.actions.filter((a) => a.kind === 'hand-off').length, 1, sim.warnings.join('\n'));
  const productId = index.placementByLane.get(lane)!.productId;
  // Amy took one and put one back: she pays nothing; Ben's item, handed to her, stays on his receipt.
  assert.deepEqual(receiptOf(sim, 'v-amy'), {});
  assert.deepEqual(receiptOf(sim, 'v-ben'), { [productId]: 1 });
});
