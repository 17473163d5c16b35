/**
 * Visit binding accuracy on simulated runs: the binder (libs/visits) fed the recording's true
 * skeletons as a perfect tracker would publish them, clean, with tracker-like noise, with track
 * breaks, and with a gate that does not say whom it opened for; scored by libs/visits/bindings.eval.ts.
 * The baseline, from the same run, is what a binder that only binds at the gate would get right:
 * every track after a break is lost to its visit. The binder's speed is given against the store clock.
 *
 *   node --import tsx bench/visit-bindings.bench.ts [--seeds 1,2] [--shoppers 40] [--minutes 8] [--difficulty hard] [--store kiosk] [--json]
 *   node --import tsx bench/visit-bindings.bench.ts --recording DIR [--recording DIR2 ...]
 *
 * Without --recording each seed is simulated in process exactly as
 * `npx walkout sim --random --shoppers 40 --minutes 8 --difficulty hard --store kiosk --seed N --no-video` does.
 */
import { parseArgs } from 'node:util';
import { indexStore, loadStore, type GateLine, type SkeletonTruth, type StoreIndex } from '../libs/contracts/index.ts';
import { storeFile } from '../libs/cli/verb.ts';
import { collect, openRecording } from '../libs/recording/index.ts';
import { DIFFICULTY_PRESETS, generateScenario } from '../libs/sim/scenario.generator.ts';
import { simulate } from '../libs/sim/store.sim.ts';
import { arrivalOrder, runBinder, scoreBindings, truthPeopleRoles, type BindingScore } from '../libs/visits/bindings.eval.ts';
import { truthPeopleFrom, type TruthPeopleOptions } from '../libs/replay/people-truth.source.ts';
import { simulatedSkeletons } from '../libs/visits/simulated-skeletons.sim.ts';

const NOISE_M = 0.05;
/** Each person's track breaks about this often, ms (a tracker losing people under occlusion now and then). */
const BREAK_EVERY_MS = 20_000;

interface Condition {
  name: string;
  people: TruthPeopleOptions;
  /** The gate does not say which visit an opening was for. */
  anonymousOpenings?: boolean;
}

const CONDITIONS: Condition[] = [
  { name: 'clean', people: {} },
  { name: `noise ${NOISE_M} m`, people: { noiseM: NOISE_M } },
  { name: 'breaks (0.5 s gaps)', people: { breakEveryMs: BREAK_EVERY_MS, breakGapInstants: 5 } },
  { name: `noise ${NOISE_M} m + breaks (1 s gaps)`, people: { noiseM: NOISE_M, breakEveryMs: BREAK_EVERY_MS, breakGapInstants: 10 } },
  { name: 'noise + breaks, openings unnamed', people: { noiseM: NOISE_M, breakEveryMs: BREAK_EVERY_MS, breakGapInstants: 10 }, anonymousOpenings: true },
];

interface Run {
  label: string;
  index: StoreIndex;
  gates: GateLine[];
  skeletons: SkeletonTruth[];
  payers: Set<string>;
}

const { values } = parseArgs({
  options: {
    recording: { type: 'string', multiple: true },
    seeds: { type: 'string' },
    shoppers: { type: 'string' },
    minutes: { type: 'string' },
    difficulty: { type: 'string' },
    store: { type: 'string' },
    json: { type: 'boolean' },
  },
});

async function runsFromRecordings(dirs: string[]): Promise<Run[]> {
  const runs: Run[] = [];
  for (const dir of dirs) {
    const recording = await openRecording(dir);
    const visits = await collect(recording.truthVisits());
    runs.push({
      label: dir,
      index: recording.index,
      gates: await collect(recording.gateLines()),
      skeletons: await collect(recording.truthSkeletons()),
      payers: new Set(visits.map((v) => v.personIds[0])),
    });
  }
  return runs;
}

async function simulatedRuns(): Promise<Run[]> {
  const storeName = values.store ?? 'kiosk';
  const index = indexStore(await loadStore(storeFile(storeName)));
  const difficultyName = (values.difficulty ?? 'hard') as keyof typeof DIFFICULTY_PRESETS;
  const shoppers = Number(values.shoppers ?? 40);
  const minutes = Number(values.minutes ?? 8);
  const seeds = (values.seeds ?? '1').split(',').map(Number);
  return seeds.map((seed) => {
    process.stderr.write(`simulating ${shoppers} shoppers, ${minutes} min, ${difficultyName}, ${storeName}, seed ${seed}...\n`);
    const sim = simulate(generateScenario({ index, shoppers, minutes, seed, difficulty: DIFFICULTY_PRESETS[difficultyName] }), index, seed);
    return {
      label: `${storeName} ${shoppers}x${minutes}m ${difficultyName} seed ${seed}`,
      index,
      gates: sim.gateLines,
      skeletons: simulatedSkeletons(sim),
      payers: new Set(sim.visits.map((v) => v.personIds[0])),
    };
  });
}

function unnamed(gates: GateLine[]): GateLine[] {
  return gates.map((line) => {
    if (line.topic !== 'gate.opened') return line;
    const { visitId: _forgotten, ...message } = line.message;
    return { topic: 'gate.opened', message };
  });
}

async function measure(run: Run, condition: Condition) {
  const people = truthPeopleFrom(run.index.store, run.skeletons, { seed: 7, ...condition.people });
  const inputs = arrivalOrder(condition.anonymousOpenings ? unnamed(run.gates) : run.gates, await collect(people));
  const t0 = performance.now();
  const { outputs } = runBinder(run.index, inputs);
  const ms = performance.now() - t0;
  const storeMs = run.skeletons.at(-1)!.ts - run.skeletons[0].ts;
  const score = scoreBindings({ people: truthPeopleRoles(run.skeletons), payers: run.payers }, people.personOfTrack, outputs);
  return { score, breaks: people.breaks, fasterThanStoreClock: storeMs / ms };
}

const share = (n: number, of: number) => (of === 0 ? 1 : n / of);
const percent = (x: number) => `${(100 * x).toFixed(1)} %`;

const runs = values.recording?.length ? await runsFromRecordings(values.recording) : await simulatedRuns();
const results: Array<{ run: string; condition: string; breaks: number; fasterThanStoreClock: number; score: BindingScore }> = [];
for (const run of runs) for (const condition of CONDITIONS) results.push({ run: run.label, condition: condition.name, ...(await measure(run, condition)) });

if (values.json) process.stdout.write(`${JSON.stringify(results.map((r) => ({ ...r, score: { ...r.score, wrong: r.score.wrong.slice(0, 20) } })), null, 2)}\n`);
else {
  const rows = results.map((r) => {
    const s = r.score;
    return [
      r.run,
      r.condition,
      String(r.breaks),
      `${s.peopleRight}/${s.people}`,
      percent(share(s.tracksRight, s.tracks)),
      `${s.wrongUnflagged}`,
      percent(share(s.tracksRight - s.relinksRight, s.tracks)),
      `${s.relinksRight}/${s.relinks}`,
      `${s.payersRight}/${s.payers}`,
      `${s.visitsEnded}/${s.visits} (${s.visitsConfirmed} by gate)`,
      `${JSON.stringify(s.reviews)} = ${s.reviewsPer1000.toFixed(0)}/1000`,
      `${r.fasterThanStoreClock.toFixed(0)}x`,
    ];
  });
  const header = ['run', 'condition', 'breaks', 'people right', 'tracks right', 'wrong unflagged', 'baseline: no relink', 'relinks right', 'payers member 0', 'visits ended', 'reviews', 'speed'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  process.stdout.write(`${line(header)}\n${rows.map(line).join('\n')}\n`);
  for (const r of results)
    for (const w of r.score.wrong.slice(0, 5)) process.stdout.write(`  wrong (${r.condition}): ${w.personId} on ${w.trackId}: expected ${w.expected}, got ${w.got ?? 'no visit'}${w.flagged ? ' (flagged)' : ''}\n`);
}
