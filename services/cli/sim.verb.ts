import path from 'node:path';
import { indexStore, loadStore, MAX_SCENARIO_SECONDS, WalkoutError, type Scenario } from '../../libs/contracts/index.ts';
import { outputKinds, prepareOutput } from '../../libs/cli/output.ts';
import { optionalInt, report, requireString, storeFile, type Verb } from '../../libs/cli/verb.ts';
import { loadScenario } from '../../libs/sim/scenario.load.ts';
import { DIFFICULTY_PRESETS, generateScenario } from '../../libs/sim/scenario.generator.ts';
import { simulate } from '../../libs/sim/store.sim.ts';
import { writeSimulation } from '../../libs/sim/recording.sim.ts';
import { writeFile } from 'node:fs/promises';
import { cameraFootage } from './footage.ts';

const USAGE = `walkout sim --scenario <file> --out <dir> [--seed N] [options]
walkout sim --random --shoppers N --minutes M --seed S --store <store> --out <dir> [options]

Simulates a scenario in a store and writes a recording folder (see docs/formats/recording.md).

  --scenario <file>     a scenario file (fixtures/scenarios/*.json)
  --random              generate a random scenario instead
  --shoppers N          random: number of shoppers (default 6)
  --minutes M           random: length of the arrival window in minutes (default 2; a scenario
                        runs at most an hour of store time, MAX_SCENARIO_SECONDS)
  --difficulty D        random: easy | normal | hard (default normal)
  --store <store>       a store id under fixtures/stores or a store file (default: the scenario's store)
  --seed N              seed: same seed, same bytes (default 1)
  --out <dir>           the recording folder to write; a recording there is replaced once the new
                        one is written, anything else only with --force
  --force               replace what --out names even if it is not a recording
  --no-video            skip rendering and encoding camera footage (load cells and truth only)
  --cameras a,b         film only these cameras
  --json                print the summary as JSON`;

export const simVerb: Verb = {
  name: 'sim',
  summary: 'Simulate shoppers in a store and write a recording with ground truth.',
  usage: USAGE,
  options: {
    scenario: { type: 'string' },
    random: { type: 'boolean' },
    shoppers: { type: 'string' },
    minutes: { type: 'string' },
    difficulty: { type: 'string' },
    store: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'no-video': { type: 'boolean' },
    cameras: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values }) {
    const out = requireString(values, 'out', simVerb);
    const seed = optionalInt(values, 'seed', simVerb, 1);
    let scenario: Scenario;
    let index;
    let store: string;
    if (values.random) {
      store = storeFile(typeof values.store === 'string' ? values.store : 'kiosk');
      index = indexStore(await loadStore(store));
      const difficultyName = (values.difficulty ?? 'normal') as string;
      const difficulty = DIFFICULTY_PRESETS[difficultyName as keyof typeof DIFFICULTY_PRESETS];
      if (!difficulty) throw new WalkoutError('USAGE', `--difficulty must be easy, normal or hard, not "${difficultyName}"`);
      const minutes = optionalInt(values, 'minutes', simVerb, 2, {
        min: 1,
        max: MAX_SCENARIO_SECONDS / 60,
        unit: 'minutes',
        why: 'MAX_SCENARIO_SECONDS, the longest scenario the simulator records',
      });
      scenario = generateScenario({
        index,
        shoppers: optionalInt(values, 'shoppers', simVerb, 6),
        minutes,
        seed,
        difficulty,
      });
    } else {
      scenario = await loadScenario(requireString(values, 'scenario', simVerb));
      store = storeFile(typeof values.store === 'string' ? values.store : scenario.store);
      index = indexStore(await loadStore(store));
    }
    const output = await prepareOutput({
      verb: simVerb.name,
      target: out,
      kind: outputKinds.recording,
      inputs: { '--scenario': values.random ? undefined : (values.scenario as string), '--store': store },
      force: values.force === true,
    });
    const started = performance.now();
    const simulation = simulate(scenario, index, seed);
    const cameraIds = typeof values.cameras === 'string' ? values.cameras.split(',') : undefined;
    const manifest = await output.write(async (into) => {
      const written = await writeSimulation(simulation, into, {
        seed,
        footage: values['no-video'] ? undefined : cameraFootage(index.store),
        cameraIds,
        quiet: values.json === true,
      });
      // What was simulated: a random hard scenario may have lost a hand-off that could not happen.
      await writeFile(path.join(into, 'scenario.json'), `${JSON.stringify(simulation.scenario, null, 2)}\n`);
      return written;
    });
    const summary = {
      out,
      scenario: scenario.name,
      store: index.store.id,
      seed,
      seconds: (manifest.endMs - manifest.startMs) / 1000,
      people: simulation.people.length,
      visits: simulation.visits.length,
      actions: simulation.actions.length,
      cameras: manifest.streams.cameras.length,
      frames: manifest.streams.cameras.reduce((s, c) => s + c.frameCount, 0),
      shelves: manifest.streams.loadCells.length,
      warnings: simulation.warnings,
      wallSeconds: Math.round((performance.now() - started) / 100) / 10,
    };
    report(values.json === true, summary, () =>
      [
        `wrote ${out}: ${summary.scenario} in ${summary.store}, seed ${seed}`,
        `  ${summary.seconds.toFixed(1)} s of store time, ${summary.people} people, ${summary.visits} visits, ${summary.actions} picks/puts/hand-offs/drops`,
        `  ${summary.cameras} camera videos (${summary.frames} frames), ${summary.shelves} shelves of load cells, in ${summary.wallSeconds} s`,
        ...summary.warnings.map((w) => `  warning: ${w}`),
      ].join('\n'),
    );
  },
};
