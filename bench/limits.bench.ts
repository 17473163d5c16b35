/**
 * What the stated input limits cost at their edge, as ratios against the fixtures measured in the
 * same run (see docs/experiments/input-limits.md):
 *
 * - MAX_FLOOR_SIDE_M: the kiosk's two-shopper scenario on the kiosk floor (6 x 5 m, the baseline)
 *   and on the same layout with a floor of the largest size walkout takes; time and peak memory.
 * - MAX_SCENARIO_SECONDS: recording bytes per second of store time (load cells and truth, no
 *   video) for the same scenario as it is (the baseline) and held open for ten minutes of store time.
 *
 * Each case runs in a process of its own, so that its peak memory is its own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { indexStore, MAX_FLOOR_SIDE_M, parseStore, type Scenario, type Store } from '../libs/contracts/index.ts';
import { writeSimulation } from '../libs/sim/recording.sim.ts';
import { loadScenario } from '../libs/sim/scenario.load.ts';
import { simulate } from '../libs/sim/store.sim.ts';

const root = new URL('../', import.meta.url).pathname;
const SCENARIO = path.join(root, 'fixtures/scenarios/two-shoppers-one-shelf.json');
const KIOSK = path.join(root, 'fixtures/stores/kiosk.json');
const HELD_OPEN_S = 600;

interface CaseResult {
  seconds: number;
  maxRssMb: number;
  bytes?: number;
  storeSeconds?: number;
}

/** The kiosk, on a square floor `sideM` metres a side, or on its own floor when no side is given. */
async function kioskWithFloor(sideM?: number) {
  const store = JSON.parse(await readFile(KIOSK, 'utf8')) as Store;
  if (sideM !== undefined) store.layout.floor = [[0, 0], [sideM, 0], [sideM, sideM], [0, sideM]];
  return indexStore(parseStore(store));
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  return total;
}

/** One case, in this process: what the parent spawned us for. `value` is a floor side or a hold, absent for the kiosk as it is. */
async function runCase(kind: string, value: number | undefined): Promise<CaseResult> {
  const scenario: Scenario = await loadScenario(SCENARIO);
  const started = performance.now();
  if (kind === 'floor') {
    simulate(scenario, await kioskWithFloor(value), 1);
    return { seconds: (performance.now() - started) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 };
  }
  // The first shopper waits until `value` s before their first step; the recording runs that long.
  const held = value !== undefined && value > 0 ? { ...scenario, people: scenario.people.map((p, i) => (i === 0 ? { ...p, actions: [{ do: 'wait-until' as const, atS: value }, ...p.actions] } : p)) } : scenario;
  const simulation = simulate(held, await kioskWithFloor(), 1);
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-limits-'));
  try {
    await writeSimulation(simulation, dir, { seed: 1, quiet: true });
    return {
      seconds: (performance.now() - started) / 1000,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      bytes: await folderBytes(dir),
      storeSeconds: (simulation.endMs - simulation.startMs) / 1000,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function spawnCase(kind: string, value?: number): CaseResult {
  const args = [kind, ...(value === undefined ? [] : [String(value)])];
  const child = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, ...args], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`${args.join(' ')} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!);
}

if (process.argv[2]) {
  process.stdout.write(`${JSON.stringify(await runCase(process.argv[2], process.argv[3] === undefined ? undefined : Number(process.argv[3])))}\n`);
} else {
  const small = spawnCase('floor');
  const large = spawnCase('floor', MAX_FLOOR_SIDE_M);
  console.log(`kiosk floor as it is (baseline): ${small.seconds.toFixed(1)} s, peak ${small.maxRssMb.toFixed(0)} MB`);
  console.log(
    `floor ${MAX_FLOOR_SIDE_M} m (MAX_FLOOR_SIDE_M): ${large.seconds.toFixed(1)} s, peak ${large.maxRssMb.toFixed(0)} MB ` +
      `(x${(large.seconds / small.seconds).toFixed(1)} time, x${(large.maxRssMb / small.maxRssMb).toFixed(1)} memory)`,
  );
  const plain = spawnCase('length');
  const open = spawnCase('length', HELD_OPEN_S);
  const rate = (r: CaseResult) => r.bytes! / r.storeSeconds! / 1e6;
  console.log(`recording as it is (baseline): ${plain.storeSeconds!.toFixed(0)} s of store time, ${(plain.bytes! / 1e6).toFixed(1)} MB, ${rate(plain).toFixed(3)} MB per store second, ${plain.seconds.toFixed(1)} s`);
  console.log(
    `held open to ${HELD_OPEN_S} s: ${open.storeSeconds!.toFixed(0)} s of store time, ${(open.bytes! / 1e6).toFixed(1)} MB, ${rate(open).toFixed(3)} MB per store second, ` +
      `${open.seconds.toFixed(1)} s (x${(open.seconds / plain.seconds).toFixed(1)} time for x${(open.storeSeconds! / plain.storeSeconds!).toFixed(1)} store time)`,
  );
}
