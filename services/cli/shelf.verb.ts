import { indexStore, loadStore, MAX_SCENARIO_SECONDS, WalkoutError, type StoreIndex } from '../../libs/contracts/index.ts';
import { outputKinds, prepareOutput } from '../../libs/cli/output.ts';
import { progress } from '../../libs/cli/progress.ts';
import { optionalInt, report, requireString, storeFile, type Verb } from '../../libs/cli/verb.ts';
import { collect, openRecording, RecordingWriter } from '../../libs/recording/index.ts';
import { evaluateShelfPerception, type ShelfScore } from '../../libs/shelf/shelf.eval.ts';
import { recordingShelfTicks } from '../../libs/shelf/shelf.replay.ts';
import { planShelfActivity, shelfActivityTicks, type ShelfActivity } from '../../libs/sim/shelf-activity.sim.ts';

const EVAL_USAGE = `walkout eval shelf <recording> [--json] [--details]

Runs shelf perception and the AutoCheckout moving-window baseline over the recording's load cells,
side by side, and scores both against its true picks and puts: event precision, recall and F1 (an event
matches a true action on the same shelf, of the same kind, listing its lane, within 1 s of its span),
quantity accuracy, product top-1 accuracy (all matched actions, and those whose weight tells the
product apart), and samples per second.

  --details   also list missed actions, spurious events and wrong products (first 20 of each)
  --json      print the report as JSON`;

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const line = (name: string, s: ShelfScore & { samplesPerSecond: number }) =>
  `  ${name.padEnd(9)} ${String(s.events).padStart(6)} ${String(s.matched).padStart(7)} ${pct(s.precision).padStart(9)} ${pct(s.recall).padStart(8)} ` +
  `${s.f1.toFixed(4).padStart(7)} ${pct(s.quantityAccuracy).padStart(9)} ${pct(s.productTop1).padStart(8)} ${pct(s.productTop1Separable).padStart(12)} ${(s.samplesPerSecond / 1e6).toFixed(2).padStart(8)}`;

export const evalShelfVerb: Verb = {
  name: 'eval shelf',
  summary: 'Score shelf perception against the ground truth of a recording, next to the baseline.',
  usage: EVAL_USAGE,
  options: { json: { type: 'boolean' }, details: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new WalkoutError('USAGE', `walkout eval shelf: give one recording folder\n\n${EVAL_USAGE}`);
    const recording = await openRecording(positionals[0]);
    const truth = await collect(recording.truthActions());
    const { startMs, endMs } = recording.manifest;
    const totalSeconds = Math.max(1, Math.round((endMs - startMs) / 1000));
    const bar = progress('shelf eval', totalSeconds, { unit: 's of store time', quiet: values.json === true });
    let shown = 0;
    const result = await evaluateShelfPerception({
      index: recording.index,
      ticks: recordingShelfTicks(recording),
      truth,
      onTick: (ts) => {
        const done = Math.floor((ts - startMs) / 1000);
        if (done > shown) {
          bar.tick(done - shown);
          shown = done;
        }
      },
    });
    bar.done();
    const brief = (s: ShelfScore & { seconds: number; samplesPerSecond: number }) => {
      const { missed, spurious, wrongProduct, ...rest } = s;
      return values.details
        ? { ...rest, missed: missed.slice(0, 20), spurious: spurious.slice(0, 20), wrongProduct: wrongProduct.slice(0, 20) }
        : { ...rest, missed: missed.length, spurious: spurious.length, wrongProduct: wrongProduct.length };
    };
    const data = {
      recording: positionals[0],
      store: recording.index.store.id,
      shelves: recording.manifest.streams.loadCells.length,
      ticks: result.ticks,
      samples: result.samples,
      actions: result.detector.actions,
      separableActions: result.detector.separableActions,
      detector: brief(result.detector),
      baseline: brief(result.baseline),
    };
    report(values.json === true, data, () => {
      const lines = [
        `shelf perception on ${positionals[0]} (${data.store}, ${data.shelves} shelves, ${data.actions} true picks/puts, ${data.separableActions} told apart by weight)`,
        '             events matched precision   recall      F1  quantity    top-1  top-1 (sep.)  M smp/s',
        line('detector', result.detector),
        line('baseline', result.baseline),
      ];
      if (values.details)
        for (const [name, s] of [['detector', result.detector], ['baseline', result.baseline]] as const) {
          for (const a of s.missed.slice(0, 20)) lines.push(`  ${name} missed   ${a.kind} ${a.shelfId}/${a.laneId} ${a.productId} x${a.quantity} at ${a.startMs}`);
          for (const e of s.spurious.slice(0, 20))
            lines.push(`  ${name} spurious ${e.kind} ${e.shelfId}/${e.laneIds.join('|')} ${e.deltaGrams} g at ${e.startMs} (${e.hypotheses[0]?.productId ?? '?'})`);
          for (const w of s.wrongProduct.slice(0, 20))
            lines.push(`  ${name} wrong    ${w.action.kind} ${w.action.laneId} ${w.action.productId} x${w.action.quantity}, said ${w.event.hypotheses[0]?.productId} x${w.event.hypotheses[0]?.quantity}`);
        }
      return lines.join('\n');
    });
  },
};

const SIMULATE_USAGE = `walkout shelf simulate --out <dir> [--store kiosk|convenience|<file>] [--seed N] [--seconds S] [--force] [--json]

Writes a shelf-only recording (load cells and true picks/puts, no cameras) of the hard cases of shelf
perception: rapid successive picks, neighbouring-lane simultaneous picks, lanes spanning plates, grabs
of several units, wrong-lane put-backs and later picks of them, leans, near-equal weights.
--seconds is store time to simulate (default 300, at most 3600: MAX_SCENARIO_SECONDS, the longest
the simulator records). Score it with \`walkout eval shelf <dir>\`. A recording already at --out is
replaced once the new one is written; anything else there only with --force.`;

export const shelfSimulateVerb: Verb = {
  name: 'shelf simulate',
  summary: 'Write a shelf-only recording of hard pick/put/lean cases with ground truth.',
  usage: SIMULATE_USAGE,
  options: {
    out: { type: 'string' },
    store: { type: 'string' },
    seed: { type: 'string' },
    seconds: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  async run({ values }) {
    const out = requireString(values, 'out', shelfSimulateVerb);
    const seed = optionalInt(values, 'seed', shelfSimulateVerb, 1);
    // planShelfActivity holds the same limit; checked here too so that a user hears it as a usage error.
    const seconds = optionalInt(values, 'seconds', shelfSimulateVerb, 300, {
      min: 1,
      max: MAX_SCENARIO_SECONDS,
      unit: 'seconds',
      why: 'MAX_SCENARIO_SECONDS, the longest the simulator records',
    });
    const file = storeFile(typeof values.store === 'string' ? values.store : 'kiosk');
    const index = indexStore(await loadStore(file));
    const startMs = 1_700_000_000_000;
    const output = await prepareOutput({ verb: shelfSimulateVerb.name, target: out, kind: outputKinds.recording, inputs: { '--store': file }, force: values.force === true });
    const plan = planShelfActivity({ index, startMs, durationMs: seconds * 1000, seed });
    await output.write((into) => writeShelfActivity(into, index, plan, { startMs, seed, quiet: values.json === true }));
    const summary = { out, store: index.store.id, seed, seconds: (plan.endMs - startMs) / 1000, shelves: plan.shelfIds.length, actions: plan.actions.length, episodes: plan.episodes };
    report(values.json === true, summary, () =>
      [
        `wrote ${out}: ${summary.seconds.toFixed(1)} s of ${summary.shelves} shelves in ${summary.store}, seed ${seed}, ${summary.actions} true picks/puts`,
        `  episodes: ${Object.entries(plan.episodes).map(([k, n]) => `${k} ${n}`).join(', ')}`,
      ].join('\n'),
    );
  },
};

/** Writes the planned shelf activity as a recording: load cells tick by tick, then the true picks and puts. */
async function writeShelfActivity(
  dir: string,
  index: StoreIndex,
  plan: ShelfActivity,
  options: { startMs: number; seed: number; quiet: boolean },
): Promise<void> {
  const writer = await RecordingWriter.create(dir, index.store, { kind: 'simulator', detail: `walkout shelf simulate, store ${index.store.id}, seed ${options.seed}` });
  const streams = new Map(
    plan.shelfIds.map((shelfId) => {
      const plates = index.shelves.get(shelfId)!.shelf.plates;
      const cells = plates.map((p) => index.loadCellByPlate.get(p.id)!);
      return [shelfId, writer.loadCells(shelfId, cells.map((c) => c.id), cells[0].sampleRateHz)];
    }),
  );
  const bar = progress('shelf simulate', Math.round((plan.endMs - options.startMs) / 1000), { unit: 's of store time', quiet: options.quiet });
  let shown = 0;
  let ticks = 0;
  for (const tick of shelfActivityTicks(index, plan, options.seed)) {
    streams.get(tick.shelfId)!.write(tick.ts, tick.grams);
    if (++ticks % 50_000 === 0) await writer.settle();
    const done = Math.floor((tick.ts - options.startMs) / 1000);
    if (done > shown) {
      bar.tick(done - shown);
      shown = done;
    }
  }
  bar.done();
  for (const action of plan.actions) writer.truth.actions.write(action);
  await writer.close({ startMs: options.startMs, endMs: plan.endMs });
}
