/**
 * Shelf perception throughput: load-cell samples per second on one core, for the streaming detector
 * and, in the same run, the AutoCheckout moving-window baseline. The store is a large one (200 shelves
 * of 12 plates at 60 Hz: 144k samples per second live); the target is ten times that on one core.
 *
 *   node --import tsx bench/shelf.bench.ts [--seconds 30] [--json]
 */
import { parseArgs } from 'node:util';
import { indexStore, type ShelfEventDetected } from '../libs/contracts/index.ts';
import { BaselineDetector } from '../libs/shelf/baseline.detector.ts';
import { ShelfPerception, type ShelfEventSource } from '../libs/shelf/shelf.perception.ts';
import { planShelfActivity, shelfActivityTicks } from '../libs/sim/shelf-activity.sim.ts';
import { CONVENIENCE_SPEC, generateStore, type GondolaSpec } from '../libs/sim/store.generator.ts';

const LIVE_SAMPLES_PER_SECOND = 200 * 12 * 60;
const TARGET_SAMPLES_PER_SECOND = 10 * LIVE_SAMPLES_PER_SECOND;
const ROUNDS = 3;

const { values } = parseArgs({ options: { seconds: { type: 'string' }, json: { type: 'boolean' } } });
const seconds = Number(values.seconds ?? 30);

// A large store: 40 gondolas of 5 shelves, 12 plates and 24 lanes per shelf.
const gondolas: GondolaSpec[] = Array.from({ length: 40 }, (_, i) => {
  const x = 1 + (i % 8) * 3.2;
  const y = 2 + Math.floor(i / 8) * 3.2;
  return {
    footprint: [x, y, x + 3, y + 0.5],
    facing: '-y',
    heightM: 2,
    shelfHeightsM: [0.2, 0.55, 0.9, 1.25, 1.6],
    platesPerShelf: 12,
    lanesPerShelf: 24,
  };
});
const spec = {
  ...CONVENIENCE_SPEC,
  id: 'bench-large',
  name: 'Large bench store',
  floor: [28, 20] as [number, number],
  zones: CONVENIENCE_SPEC.zones.map((z) => (z.kind === 'shopping' ? { ...z, polygon: [[0.5, 1], [27.5, 1], [27.5, 19], [0.5, 19]] as typeof z.polygon } : z)),
  gondolas,
};
const index = indexStore(generateStore(spec));
const plan = planShelfActivity({ index, startMs: 1_700_000_000_000, durationMs: seconds * 1000, seed: 5 });
process.stderr.write(`simulating ${index.shelves.size} shelves for ${seconds} s (${plan.actions.length} picks and puts)...\n`);
const ticks = [...shelfActivityTicks(index, plan, 5)];
const samples = ticks.reduce((s, t) => s + t.grams.length, 0);

function measure(make: (onEvent: (e: ShelfEventDetected) => void) => ShelfEventSource): { samplesPerSecond: number; events: number } {
  let best = 0;
  let events = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let count = 0;
    const source = make(() => count++);
    const t0 = performance.now();
    for (const tick of ticks) source.push(tick.shelfId, tick.ts, tick.grams);
    source.finish();
    const rate = (samples * 1000) / (performance.now() - t0);
    best = Math.max(best, rate);
    events = count;
  }
  return { samplesPerSecond: best, events };
}

const detector = measure((onEvent) => new ShelfPerception({ index, onEvent }));
const baseline = measure((onEvent) => new BaselineDetector({ index, onEvent }));
const result = {
  store: { shelves: index.shelves.size, platesPerShelf: 12, sampleRateHz: 60, liveSamplesPerSecond: LIVE_SAMPLES_PER_SECOND },
  samples,
  actions: plan.actions.length,
  detector: { samplesPerSecond: Math.round(detector.samplesPerSecond), events: detector.events },
  baseline: { samplesPerSecond: Math.round(baseline.samplesPerSecond), events: baseline.events },
  detectorToBaseline: detector.samplesPerSecond / baseline.samplesPerSecond,
  detectorToTarget: detector.samplesPerSecond / TARGET_SAMPLES_PER_SECOND,
  targetSamplesPerSecond: TARGET_SAMPLES_PER_SECOND,
};
if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
else
  process.stdout.write(
    [
      `shelf perception, one core, ${index.shelves.size} shelves x 12 plates, ${samples} samples, best of ${ROUNDS}`,
      `  detector  ${(detector.samplesPerSecond / 1e6).toFixed(2)} M samples/s  (${detector.events} events for ${plan.actions.length} true picks and puts)`,
      `  baseline  ${(baseline.samplesPerSecond / 1e6).toFixed(2)} M samples/s  (${baseline.events} events)`,
      `  detector / baseline  ${result.detectorToBaseline.toFixed(2)}x`,
      `  detector / target    ${result.detectorToTarget.toFixed(2)}x  (target ${(TARGET_SAMPLES_PER_SECOND / 1e6).toFixed(2)} M samples/s = 10x a large store live)`,
      '',
    ].join('\n'),
  );
