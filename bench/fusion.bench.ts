/**
 * Multi-view fusion speed: how long grouping and triangulating one instant takes on one core, for
 * the kiosk (4 cameras) and the convenience store (12 cameras), with people standing, walking and
 * reaching, seen through each camera as a detector would report them (pixel noise, a fifth of them
 * read with sides swapped, a tenth missed). In the same run, the baseline: triangulating the same
 * people when the association is already known (every true person's keypoints from the cameras
 * that see them), the least work any fusion has to do. The target is real time at the cameras'
 * 10 frames a second: an instant in under 100 ms.
 *
 *   node --import tsx bench/fusion.bench.ts [--instants 10] [--json]
 */
import { parseArgs } from 'node:util';
import type { Store, Vec3 } from '../libs/contracts/index.ts';
import { seededRandom } from '../libs/geometry/camera.fixture.ts';
import { projectPoint } from '../libs/geometry/camera.ts';
import { triangulate } from '../libs/geometry/triangulate.ts';
import { skeleton } from '../libs/sim/body.model.ts';
import { CONVENIENCE_SPEC, generateStore, KIOSK_SPEC } from '../libs/sim/store.generator.ts';
import { fuseViews, type CameraPoses } from '../libs/tracking/multiview.pose.ts';
import { keypointBox, MIRRORED_KEYPOINTS, type DetectedPose } from '../libs/vision/pose.detector.ts';

const BUDGET_MS = 100;
const { values } = parseArgs({ options: { instants: { type: 'string' }, json: { type: 'boolean' } } });
const instants = Number(values.instants ?? 10);

interface Scene {
  views: CameraPoses[];
  /** Per true person, the cameras that see them and their keypoints there (for the baseline). */
  truth: Array<Array<{ view: number; keypoints: DetectedPose['keypoints'] }>>;
}

function scene(store: Store, people: number, random: () => number): Scene {
  const shopping = store.layout.zones.find((z) => z.kind === 'shopping')!.polygon;
  const xs = shopping.map((p) => p[0]);
  const ys = shopping.map((p) => p[1]);
  const bodies: Vec3[][] = Array.from({ length: people }, () => {
    const x = Math.min(...xs) + random() * (Math.max(...xs) - Math.min(...xs));
    const y = Math.min(...ys) + random() * (Math.max(...ys) - Math.min(...ys));
    const reach = random() < 0.3 ? { rightHand: { target: [x + 0.5, y, 1.1] as Vec3, amount: 1 } } : {};
    return skeleton(
      { heightM: 1.55 + random() * 0.4, build: random() },
      { x, y, heading: random() * 2 * Math.PI, gaitPhase: random() * 6, walk: random() < 0.5 ? 1 : 0, crouch: 0, lean: 0, ...reach },
    );
  });
  const truth: Scene['truth'] = bodies.map(() => []);
  const views = store.cameras.map((camera, v) => {
    const poses: DetectedPose[] = [];
    bodies.forEach((body, p) => {
      const keypoints = body.map((point): [number, number, number] => {
        const px = projectPoint(camera, point);
        const inside = px && px[0] >= 0 && px[1] >= 0 && px[0] < camera.width && px[1] < camera.height;
        return inside ? [px[0] + (random() - 0.5) * 4, px[1] + (random() - 0.5) * 4, 0.5 + random() * 0.4] : [0, 0, 0];
      });
      if (keypoints.filter((k) => k[2] > 0).length < 8 || random() < 0.1) return;
      truth[p].push({ view: v, keypoints });
      const seen = random() < 0.2 ? MIRRORED_KEYPOINTS.map((k) => keypoints[k]) : keypoints;
      poses.push({ score: 0.6, box: keypointBox(keypoints.filter((k) => k[2] > 0)), keypoints: seen });
    });
    return { camera, poses };
  });
  return { views, truth };
}

function timeIt(run: () => void): number {
  const t0 = performance.now();
  run();
  return performance.now() - t0;
}

const rows = (
  [
    ['kiosk', generateStore(KIOSK_SPEC), 9],
    ['convenience', generateStore(CONVENIENCE_SPEC), 20],
  ] as const
).map(([name, store, people]) => {
  const random = seededRandom(7);
  const scenes = Array.from({ length: instants }, () => scene(store, people, random));
  let fusionMs = 0;
  let baselineMs = 0;
  let detections = 0;
  let groups = 0;
  for (const s of scenes) {
    detections += s.views.reduce((n, v) => n + v.poses.length, 0);
    fusionMs += timeIt(() => (groups += fuseViews(s.views).filter((p) => p.members.length > 1).length));
    baselineMs += timeIt(() => {
      for (const seen of s.truth)
        for (let k = 0; k < 17; k++) {
          const observations = seen.filter((d) => d.keypoints[k][2] > 0).map((d) => ({ camera: s.views[d.view].camera, pixel: [d.keypoints[k][0], d.keypoints[k][1]] as [number, number] }));
          if (observations.length >= 2) triangulate(observations, { maxRefinementSteps: 4 });
        }
    });
  }
  return {
    store: name,
    cameras: store.cameras.length,
    people,
    detectionsPerInstant: detections / instants,
    peopleFusedPerInstant: groups / instants,
    fusionMsPerInstant: fusionMs / instants,
    baselineMsPerInstant: baselineMs / instants,
    fusionToBaseline: fusionMs / baselineMs,
    budgetToFusion: (BUDGET_MS * instants) / fusionMs,
  };
});

if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
else
  process.stdout.write(
    [
      `multi-view fusion, one core, ${instants} instants per store`,
      ...rows.map(
        (r) =>
          `  ${r.store} (${r.cameras} cameras, ${r.people} people, ${r.detectionsPerInstant.toFixed(0)} detections, ${r.peopleFusedPerInstant.toFixed(1)} fused): ` +
          `fusion ${r.fusionMsPerInstant.toFixed(1)} ms, known association ${r.baselineMsPerInstant.toFixed(1)} ms = ${r.fusionToBaseline.toFixed(1)}x; ` +
          `real time (${BUDGET_MS} ms) / fusion ${r.budgetToFusion.toFixed(1)}x`,
      ),
      '',
    ].join('\n'),
  );
