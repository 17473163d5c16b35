/**
 * Scores a detector on real pictures (docs/experiments/top-down-people.md): the hand-labelled
 * store frames (people found / present, phantoms), the COCO skier (OKS of the best pose, extra
 * people) and the street video's frame at 0.4 s (people found). Prints JSON; --save keeps every
 * detection so the figures can be checked again without the model.
 *
 *   node --import tsx libs/vision/people-eval.run.ts --detector topdown [--input-size 640] [--mirror off] [--precision float|int8] [--save f.json]
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readImageFile, readVideoStill } from '../video/still.read.ts';
import { createChosenDetector } from './detector.registry.ts';
import { objectKeypointSimilarity } from './oks.metric.ts';
import { countPeople, sumCounts, type LabelledPerson } from './people.eval.ts';
import { SHARED_DATA_DIR } from '../testing/shared-data.ts';

const { values } = parseArgs({ options: { detector: { type: 'string' }, 'input-size': { type: 'string' }, mirror: { type: 'string' }, save: { type: 'string' }, 'min-score': { type: 'string' }, precision: { type: 'string' } } });
const root = new URL('../../', import.meta.url).pathname;
const { detector } = await createChosenDetector(
  { detector: values.detector, inputSize: Number(values['input-size'] ?? 640), refine: 'none', mirror: values.mirror !== 'off', minPoseScore: values['min-score'] === undefined ? undefined : Number(values['min-score']), precision: values.precision as 'float' | 'int8' | undefined },
  'people-eval',
);
const labels = JSON.parse(await readFile(path.join(root, 'fixtures/labels/autocheckout-people.labels.json'), 'utf8')) as { frames: Record<string, LabelledPerson[]> };
const saved: Record<string, unknown> = {};
const perFrame: Record<string, unknown> = {};
const counts = [];
for (const [name, people] of Object.entries(labels.frames)) {
  const poses = await detector.detect(await readImageFile(path.join(SHARED_DATA_DIR, 'autocheckout/camera_angles', name)));
  saved[name] = poses;
  const count = countPeople(people, poses);
  counts.push(count);
  perFrame[name] = { ...count, scores: poses.map((p) => Math.round(p.score * 100) / 100) };
}
const coco = JSON.parse(await readFile(path.join(root, 'fixtures/pose/coco-000000000785.keypoints.json'), 'utf8')).annotations[0];
const truth = Array.from({ length: 17 }, (_, k) => coco.keypoints.slice(k * 3, k * 3 + 3) as [number, number, number]);
const skier = await detector.detect(await readImageFile(path.join(root, 'fixtures/pose/coco-000000000785.jpg')));
saved['coco-785'] = skier;
const oks = skier.map((p) => objectKeypointSimilarity(p.keypoints, truth, coco.area));
const street = await detector.detect((await readVideoStill(path.join(root, 'fixtures/video/people-walking.mp4'), 0.4)).frame);
saved['people-walking@0.4'] = street;
// The walkers near the camera in that frame, judged by eye (as in services/cli/detect.verb.integration.test.ts).
const walkers = [480, 541, 633, 870].filter((cx) => street.some(({ box: [x, , w, h] }) => Math.abs(x + w / 2 - cx) < 40 && h > 100)).length;
const started = Date.now();
for (let i = 0; i < 3; i++) await detector.detect(await readImageFile(path.join(SHARED_DATA_DIR, 'autocheckout/camera_angles', '2.png')));
console.log(
  JSON.stringify(
    {
      model: detector.model,
      store: { ...sumCounts(counts), perFrame },
      coco: { bestOks: Math.round(Math.max(0, ...oks) * 1000) / 1000, people: skier.length },
      street: { walkersFound: walkers, of: 4, people: street.length },
      msPerStoreFrame: Math.round((Date.now() - started) / 3),
    },
    null,
    1,
  ),
);
if (values.save) await writeFile(values.save, JSON.stringify(saved));
detector.dispose();
