import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { indexStore, loadStore } from '../../libs/contracts/index.ts';
import { report, type Verb } from '../../libs/cli/verb.ts';
import { formatSummary, summariseRecording } from '../../libs/recording/index.ts';
import { loadScenario } from '../../libs/sim/scenario.load.ts';
import { simulate } from '../../libs/sim/store.sim.ts';
import { writeSimulation } from '../../libs/sim/recording.sim.ts';
import { cameraFootage } from './footage.ts';

/**
 * The main job. For now the store runs as far as the pipeline goes: simulate the demo scenario on
 * the embedded default, summarise the fresh recording and the committed one, and check they agree.
 */
const DEMO_SCENARIO = 'fixtures/scenarios/kiosk-demo.json';
const COMMITTED_RECORDING = 'fixtures/recordings/kiosk-demo';
const DEMO_SEED = 1;

export const startVerb: Verb = {
  name: 'start',
  summary: 'Run the store on the embedded default (today: simulate the demo and summarise it).',
  usage: `walkout start [--out .walkout/demo] [--no-video] [--json]

Simulates ${DEMO_SCENARIO} (seed ${DEMO_SEED}) into --out, then summarises it next to the committed
recording ${COMMITTED_RECORDING} and checks that their ground truth is identical.`,
  options: { out: { type: 'string' }, 'no-video': { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values }) {
    const out = typeof values.out === 'string' ? values.out : '.walkout/demo';
    const json = values.json === true;
    const scenario = await loadScenario(DEMO_SCENARIO);
    const index = indexStore(await loadStore(path.join('fixtures/stores', `${scenario.store}.json`)));
    await rm(out, { recursive: true, force: true });
    await writeSimulation(simulate(scenario, index, DEMO_SEED), out, {
      seed: DEMO_SEED,
      footage: values['no-video'] ? undefined : cameraFootage(index.store),
      quiet: json,
    });
    const fresh = await summariseRecording(out);
    const committed = await summariseRecording(COMMITTED_RECORDING);
    const same = async (relative: string) =>
      (await readFile(path.join(out, relative), 'utf8')) === (await readFile(path.join(COMMITTED_RECORDING, relative), 'utf8'));
    const truthFiles = ['truth/actions.jsonl', 'truth/receipts.jsonl', 'truth/visits.jsonl', 'gates.jsonl'];
    const agreement = Object.fromEntries(await Promise.all(truthFiles.map(async (f) => [f, await same(f)] as const)));
    report(json, { fresh, committed, truthMatchesCommitted: agreement }, () =>
      [
        'simulated now:',
        formatSummary(fresh),
        'committed fixture:',
        formatSummary(committed),
        `ground truth identical to the committed recording: ${Object.values(agreement).every(Boolean) ? 'yes' : `no (${JSON.stringify(agreement)})`}`,
      ].join('\n'),
    );
  },
};
