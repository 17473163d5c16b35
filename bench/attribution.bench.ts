/**
 * Attribution on hard simulated runs: how fast the fusion engine goes against the store clock (the
 * target is 10x for 40 shoppers), and how well it attributes (accuracy, reviews per 1000 visits,
 * calibration error with its reliability table, receipts built from its attributions that are
 * exact). People come from the true skeletons with the tracker's typical error (--noise), shelf
 * events from shelf perception over the load cells, visits bound from the truth. The engine's time
 * is measured alone: its inputs are read and made beforehand.
 *
 *   node --import tsx bench/attribution.bench.ts [--noise 0.05] [--seed 1] [--params FILE] [--json] [--events] [recording ...]
 *
 * --params settles with a parameter file the fit wrote elsewhere (bench/attribution.fit.ts --out)
 * in place of the committed one, to compare a refit before it replaces them (the service's speed is
 * measured with the committed parameters either way).
 *
 * --events lists, per recording, every settled event that is not a right decision (reviews, wrong
 * decisions, spurious events, changes nothing explains) and every event two visits shared (in truth
 * or in fusion's best option) with its verdict against the truth, and
 * counts them by outcome and verdict: where the remaining receipts and reviews come from.
 *
 * The service's speed is measured too, on the first recording: the same inputs published on the
 * in-process bus (schema checks, delivery, holds) to createFusionService, until it has taken them all
 * and flushed.
 *
 * With no recording it simulates one (40 shoppers, 8 minutes, hard, kiosk, seed 1, no video) in a
 * temporary folder. The parameters are libs/fusion/attribution.params.json, fitted on other seeds
 * (bench/attribution.fit.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { topics } from '../libs/contracts/index.ts';
import { createMemoryBus, parseBusConfig } from '../libs/bus/index.ts';
import { waitFor } from '../libs/bus/bus.harness.ts';
import { collect, openRecording, type Recording } from '../libs/recording/index.ts';
import { formatReliability } from '../libs/cart/receipts.format.ts';
import { calibrationTable } from '../libs/fusion/calibration.eval.ts';
import { bestIsRight, diagnoseRecords, fusionInputs, labelRecords, runFusion, scoreRun, type AttributionScore, type EventDiagnosis } from '../libs/fusion/fusion.eval.ts';
import { sharesOf } from '../libs/fusion/attribution.model.ts';
import { readFileSync } from 'node:fs';
import type { AttributionParams } from '../libs/fusion/attribution.model.ts';
import { DEFAULT_PARAMS } from '../libs/fusion/fusion.engine.ts';
import { createFusionService } from '../services/fusion/fusion.service.ts';

const THRESHOLDS = [0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];
const decidedRight = (d: EventDiagnosis) => d.outcome === 'attributed' && d.verdict === 'right';
/** An event two visits shared, in truth or in its best option. */
const twoAtOnce = (d: EventDiagnosis) => Boolean(d.truth?.includes(' + ') || d.best?.includes(' + '));

/** Fusion must run at least this many times faster than the store clock. */
const TARGET_RATIO = 10;
const { values, positionals } = parseArgs({
  options: { noise: { type: 'string' }, seed: { type: 'string' }, params: { type: 'string' }, json: { type: 'boolean' }, events: { type: 'boolean' } },
  allowPositionals: true,
});
/** The parameters settled with: a fitted file's, or the committed ones. */
const params: AttributionParams = values.params ? { ...DEFAULT_PARAMS, ...(JSON.parse(readFileSync(values.params, 'utf8')) as { params: Partial<AttributionParams> }).params } : DEFAULT_PARAMS;
const noiseM = Number(values.noise ?? 0.05);
const seed = Number(values.seed ?? 1);

function simulated(): { dirs: string[]; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'walkout-attribution-'));
  const out = path.join(dir, 'run');
  const cli = new URL('../bin/walkout.js', import.meta.url).pathname;
  const args = [cli, 'sim', '--random', '--shoppers', '40', '--minutes', '8', '--difficulty', 'hard', '--store', 'kiosk', '--seed', '1', '--no-video', '--out', out];
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`walkout sim failed (${result.status})`);
  return { dirs: [out], cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Store time over wall time of the fusion service taking a recording's inputs off the in-process bus. */
async function serviceRatio(recording: Recording): Promise<number> {
  const inputs = await collect(fusionInputs(recording, { noiseM, seed }));
  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory' }) });
  await bus.start();
  const service = createFusionService({ index: recording.index, bus });
  await service.start();
  const taken = () => Object.values(service.stats().messages).reduce((sum, n) => sum + n, 0);
  const started = performance.now();
  for (const input of inputs) await bus.publish(input.topic, input.message as never);
  await waitFor(() => taken() >= inputs.length, () => `the service to take ${inputs.length} messages (has ${taken()})`, 600_000);
  await service.flush();
  const wallMs = performance.now() - started;
  await service.stop();
  await bus.close();
  return (recording.manifest.endMs - recording.manifest.startMs) / wallMs;
}

const { dirs, cleanup } = positionals.length > 0 ? { dirs: positionals, cleanup: () => undefined } : simulated();
try {
  const scores: Array<AttributionScore & { recording: string }> = [];
  const decisions: Array<{ confidence: number; right: boolean }> = [];
  const diagnoses: Array<EventDiagnosis & { recording: string; atS: number }> = [];
  /** Every event settled with a visit as its best option (decided or reviewed), for what other thresholds would do. */
  const settledWithVisit: Array<{ confidence: number; right: boolean }> = [];
  for (const dir of dirs) {
    const recording = await openRecording(dir);
    const run = await runFusion(recording, { noiseM, seed, params });
    const score = scoreRun(run);
    scores.push({ recording: dir, ...score });
    decisions.push(...score.decisions);
    const labelled = labelRecords(run);
    for (const record of labelled)
      if ((record.outcome === 'attributed' || record.outcome === 'review') && record.options[0] && sharesOf(record.options[0]).every((share) => typeof share.who.visitId === 'string'))
        settledWithVisit.push({ confidence: record.confidence, right: bestIsRight(record) });
    if (values.events)
      for (const d of diagnoseRecords(labelled))
        if ((!decidedRight(d) || twoAtOnce(d)) && !(d.outcome === 'not-an-item' && d.verdict === 'spurious'))
          diagnoses.push({ recording: dir, atS: (d.startMs - recording.manifest.startMs) / 1000, ...d });
  }
  const sum = (key: keyof AttributionScore) => scores.reduce((total, s) => total + (s[key] as number), 0);
  const { calibration: reliability, calibrationError } = calibrationTable(decisions);
  const total = {
    recordings: dirs.length,
    noiseM,
    visits: sum('visits'),
    events: sum('events'),
    trueActions: sum('trueActions'),
    matchedEvents: sum('matchedEvents'),
    attributed: sum('attributed'),
    attributionAccuracy: sum('attributedRight') / Math.max(1, sum('attributed')),
    reviews: sum('reviews'),
    unexpectedPuts: sum('unexpectedPuts'),
    reviewsPer1000: (1000 * sum('reviews')) / Math.max(1, sum('visits')),
    calibrationError,
    exactMatch: sum('receiptsExact') / Math.max(1, sum('visits')),
    /** Receipts wrong with no review pending on them: what a review cannot mend. */
    wrongReceipts: scores.reduce((total, s) => total + s.wrongReceipts.length, 0),
    speedRatio: sum('storeMs') / Math.max(1e-9, sum('engineMs')),
    serviceSpeedRatio: await serviceRatio(await openRecording(dirs[0])),
    reliability,
  };
  if (values.json) console.log(JSON.stringify({ ...total, perRecording: scores.map(({ reliability: _r, decisions: _d, ...s }) => s), ...(values.events ? { events: diagnoses } : {}) }, null, 2));
  else {
    if (values.events) {
      const counts = new Map<string, number>();
      for (const d of diagnoses) {
        console.log(
          `${d.recording} ${d.atS.toFixed(1)} s ${d.shelfId} ${d.kind} ${d.plateIds.join(',')} ${d.deltaGrams} g: ${d.outcome} ${d.verdict} at ${d.confidence.toFixed(2)}; truth ${d.truth ?? 'none'}, best ${d.best ?? 'none'}`,
        );
        if (!decidedRight(d)) counts.set(`${d.outcome} ${d.verdict}`, (counts.get(`${d.outcome} ${d.verdict}`) ?? 0) + 1);
      }
      const pairs = diagnoses.filter(twoAtOnce);
      console.log(
        `two shoppers at once (listed above, decided right or not): ${pairs.filter((d) => d.truth?.includes(' + ')).length} events truly two visits', ` +
          `${pairs.filter((d) => d.best?.includes(' + ')).length} with a pair best, ${pairs.filter(decidedRight).length} of them decided right`,
      );
      console.log(`events not decided right (leans and nudges dismissed as no item left out): ${[...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} ${k}`).join(', ')}\n`);
    }
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    for (const s of scores)
      console.log(
        `${s.recording}: ${s.visits} visits, ${s.events} events, ${s.attributed} attributed (${pct(s.attributionAccuracy)} right), ${s.reviews} reviews, ECE ${s.calibrationError.toFixed(3)}, receipts exact ${pct(s.exactMatch)}`,
      );
    console.log(`\nall: ${total.visits} visits, ${total.events} shelf events, noise ${noiseM} m`);
    console.log(`  shelf events matching a true pick or put: ${total.matchedEvents} of ${total.events}; true picks and puts found: ${total.matchedEvents} of ${total.trueActions}`);
    console.log(`  attribution accuracy ${pct(total.attributionAccuracy)} of ${total.attributed} decided`);
    console.log(`  reviews ${total.reviews} (${total.unexpectedPuts} unexpected puts): ${total.reviewsPer1000.toFixed(0)} per 1000 visits`);
    console.log(`  receipts exact ${pct(total.exactMatch)} before review; ${total.wrongReceipts} wrong with no review pending`);
    console.log(`  calibration error ${total.calibrationError.toFixed(4)}; reliability:`);
    for (const line of formatReliability({ calibration: reliability })) console.log(`  ${line}`);
    console.log('  other thresholds, the same confidences (what each would decide, how many wrongly, how many it would review; later events would differ):');
    for (const threshold of THRESHOLDS) {
      const decided = settledWithVisit.filter((r) => r.confidence >= threshold);
      const marker = threshold === params.decideAbove ? ' (the threshold in use)' : '';
      console.log(`    ${threshold.toFixed(2)}: ${decided.length} decided, ${decided.filter((r) => !r.right).length} wrong, ${settledWithVisit.length - decided.length} to review${marker}`);
    }
    console.log(`  speed: engine ${total.speedRatio.toFixed(0)}x the store clock, service on the in-process bus ${total.serviceSpeedRatio.toFixed(0)}x (target ${TARGET_RATIO}x) ${total.serviceSpeedRatio >= TARGET_RATIO ? 'ok' : 'TOO SLOW'}`);
  }
} finally {
  cleanup();
}
