/**
 * Pose detection speed and what each extra look buys: MoveNet MultiPose at input 640 on the kiosk's
 * four cameras rendered raw at evenly spaced instants of two-shoppers-one-shelf, read four ways:
 * one pass (the baseline, in the same run), mirrored second read, upright second look, and both
 * (the `eval pose` default). Prints ms a frame, the ratio to one pass, and wrists in view found, so
 * a change in cost can be weighed against what it finds.
 *
 *   node --import tsx bench/pose.bench.ts [--instants 8] [--json]
 */
import { parseArgs } from 'node:util';
import { indexStore, loadStore } from '../libs/contracts/index.ts';
import { createCameraRenderer } from '../libs/render/scene.renderer.ts';
import { peopleAt } from '../libs/sim/recording.sim.ts';
import { loadScenario } from '../libs/sim/scenario.load.ts';
import { simulate } from '../libs/sim/store.sim.ts';
import { createDetector } from '../libs/vision/detector.registry.ts';
import { emptyTally, summariseRecall, tallyFrame } from '../libs/vision/keypoint.recall.ts';
import { cameraViewGeometry } from '../libs/vision/view.geometry.ts';

const { values } = parseArgs({ options: { instants: { type: 'string' }, json: { type: 'boolean' } } });
const instants = Number(values.instants ?? 8);
if (!Number.isInteger(instants) || instants < 1) throw new Error(`bench/pose.bench.ts: --instants must be a whole number >= 1, got ${values.instants}`);

const store = await loadStore(new URL('../fixtures/stores/kiosk.json', import.meta.url).pathname);
const scenario = await loadScenario(new URL('../fixtures/scenarios/two-shoppers-one-shelf.json', import.meta.url).pathname);
const sim = simulate(scenario, indexStore(store), 1);
const start = Math.min(...sim.people.map((p) => p.timeline.enterMs));
const end = Math.max(...sim.people.map((p) => p.timeline.endMs));
const frames = store.cameras.flatMap((camera) => {
  const renderer = createCameraRenderer(store, camera.id);
  const view = cameraViewGeometry(camera);
  return Array.from({ length: instants }, (_, i) => ({ view, frame: renderer.render(peopleAt(sim, start + ((end - start) * (i + 0.5)) / instants)) }));
});

const variants = [
  { name: 'one pass (baseline)', mirror: false, refine: 'none' },
  { name: 'mirrored second read', mirror: true, refine: 'none' },
  { name: 'upright second look', mirror: false, refine: 'upright' },
  { name: 'both (eval pose default)', mirror: true, refine: 'upright' },
] as const;
const results: Array<{ variant: string; msPerFrame: number; ratio: number; wristsFound: number; wristsInView: number }> = [];
for (const variant of variants) {
  const detector = await createDetector({ type: 'movenet', inputSize: 640, mirror: variant.mirror, refine: variant.refine });
  await detector.detect(frames[0].frame, frames[0].view); // warm-up: the first call compiles the graph
  const tally = emptyTally();
  const started = performance.now();
  for (const { frame, view } of frames) tallyFrame(tally, frame.people, await detector.detect(frame, view));
  const msPerFrame = (performance.now() - started) / frames.length;
  detector.dispose();
  const wrists = summariseRecall(tally).wristsInView;
  results.push({ variant: variant.name, msPerFrame, ratio: msPerFrame / (results[0]?.msPerFrame ?? msPerFrame), wristsFound: wrists.found, wristsInView: wrists.total });
}

if (values.json) console.log(JSON.stringify({ frames: frames.length, results }, null, 2));
else {
  console.log(`MoveNet MultiPose at 640 on ${frames.length} raw kiosk frames (two-shoppers-one-shelf, ${instants} instants x ${store.cameras.length} cameras)`);
  for (const r of results)
    console.log(`  ${r.variant.padEnd(26)} ${r.msPerFrame.toFixed(0).padStart(5)} ms/frame  ${r.ratio.toFixed(2)}x one pass  wrists in view ${r.wristsFound}/${r.wristsInView}`);
}
