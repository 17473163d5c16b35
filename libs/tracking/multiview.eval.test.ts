import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { openRecording, type Recording } from '../recording/index.ts';
import { keypointBox, mirrorPose, type DetectedPose } from '../vision/pose.detector.ts';
import type { Vec3 } from '../contracts/index.ts';
import { evaluateFusion, groupByInstant, scoreFloorTracking, type CameraInstant } from './multiview.eval.ts';
import type { FusedPerson } from './multiview.pose.ts';
import { DEFAULT_TRACKER_OPTIONS, type TrackedInstant } from './people.tracker.ts';

const DEMO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo', import.meta.url));
/** Instants sampled from the demo: every 40th frame (4 s apart at 10 fps), too far apart to track. */
const EVERY = 40;
const INSTANTS = 12;

const allCameras = (recording: Recording) => recording.index.store.cameras.map((c) => c.id);
/**
 * The demo's four ceiling cameras. Tests of what fusion does with cameras missing or reading sides
 * wrong use these alone: the two shelf cameras would see for the blind one and outvote the wrong ones.
 */
const ceilingCameras = (recording: Recording) => recording.index.store.cameras.filter((c) => c.kind === 'ceiling').map((c) => c.id);

/**
 * A detector that sees exactly what the 2D truth says (keypoints outside the image unscored), so
 * every miss after fusion is fusion's own. `change` can take people away or swap their sides.
 */
async function perfectDetections(
  recording: Recording,
  change: (cameraId: string, poses: DetectedPose[]) => DetectedPose[] = (_, p) => p,
  every = EVERY,
  count = INSTANTS,
  cameras: (recording: Recording) => string[] = allCameras,
): Promise<CameraInstant[]> {
  const instants: CameraInstant[] = [];
  const wanted = cameras(recording);
  for (const stream of recording.manifest.streams.cameras) {
    if (!wanted.includes(stream.cameraId)) continue;
    let taken = 0;
    for await (const line of recording.truthPoses(stream.cameraId)) {
      if (line.frameIndex % every !== 0) continue;
      if (++taken > count) break;
      const poses = line.people.map((p): DetectedPose => {
        const keypoints = p.keypoints.map(([x, y, v]): [number, number, number] => [x, y, v > 0 ? 0.9 : 0]);
        return { score: 0.8, box: keypointBox(keypoints.filter((k) => k[2] > 0)), keypoints };
      });
      instants.push({ cameraId: stream.cameraId, ts: line.ts, truth: line.people, detections: change(stream.cameraId, poses) });
    }
  }
  return instants;
}

test('fusion of perfect detections: every wrist in view found in every camera, and in 3D within a centimetre', async () => {
  const recording = await openRecording(DEMO);
  const report = (await evaluateFusion(recording, await perfectDetections(recording)))!;
  assert.equal(report.instants, INSTANTS);
  assert.deepEqual(report.cameras.map((c) => c.cameraId), ['cam-1', 'cam-2', 'cam-3', 'cam-4', 'cam-5', 'cam-6']);
  const wrists = report.overall.wristsInView;
  assert.ok(wrists.total > 40, `enough wrists to mean something: ${wrists.total}`);
  assert.equal(wrists.found, wrists.total, JSON.stringify(report.overall.wristMisses));
  assert.ok(report.wrists3d.total > 20);
  assert.equal(report.wrists3d.found, report.wrists3d.total);
  assert.ok(report.wrists3d.medianErrorM! < 0.01, `median 3D wrist error ${report.wrists3d.medianErrorM}`);
  assert.equal(report.tracked, null, 'instants 4 s apart are not followed');
});

test('a camera that saw no one still reports the people others triangulated; one that swapped everyone is put right', async () => {
  const recording = await openRecording(DEMO);
  const instants = await perfectDetections(
    recording,
    (cameraId, poses) => (cameraId === 'cam-1' ? [] : cameraId === 'cam-2' ? poses.map(mirrorPose) : poses),
    EVERY,
    INSTANTS,
    ceilingCameras,
  );
  const report = (await evaluateFusion(recording, instants))!;
  const blind = report.cameras.find((c) => c.cameraId === 'cam-1')!.summary.wristsInView;
  const swapped = report.cameras.find((c) => c.cameraId === 'cam-2')!.summary.wristsInView;
  assert.ok(blind.total > 0 && swapped.total > 0);
  // Only a wrist two other cameras have in their image can be triangulated for cam-1.
  let recoverable = 0;
  for (const seen of instants.filter((i) => i.cameraId === 'cam-1'))
    for (const person of seen.truth)
      for (const k of [9, 10]) {
        if (person.keypoints[k][2] !== 2) continue;
        const others = instants.filter((i) => i.ts === seen.ts && i.cameraId !== 'cam-1' && i.truth.find((p) => p.personId === person.personId)?.keypoints[k][2]);
        if (others.length >= 2) recoverable++;
      }
  assert.ok(recoverable < blind.total, "some of cam-1's wrists are out of the other cameras' sight");
  assert.ok(blind.found >= recoverable - 2, `cam-1 found ${blind.found}/${blind.total} from the other cameras; ${recoverable} were in two or more of their images`);
  assert.ok(swapped.found / swapped.total >= 0.9, `cam-2 put right ${swapped.found}/${swapped.total}`);
});

test('fusion needs two cameras', async () => {
  const recording = await openRecording(DEMO);
  const one = (await perfectDetections(recording)).filter((i) => i.cameraId === 'cam-3');
  assert.equal(await evaluateFusion(recording, one), null);
});

test('followed over time, people most cameras read the wrong way round are put right by how they walk', async () => {
  const recording = await openRecording(DEMO);
  // Three of the four ceiling cameras swap everyone's sides: at each instant the majority is wrong.
  const swapped = new Set(['cam-1', 'cam-2', 'cam-4']);
  const instants = await perfectDetections(
    recording,
    (cameraId, poses) => (swapped.has(cameraId) ? poses.map(mirrorPose) : poses),
    4,
    60,
    ceilingCameras,
  );
  const report = (await evaluateFusion(recording, instants))!;
  assert.ok(report.tracked, 'instants 0.4 s apart are followed');
  const alone = report.overall.wristsInView;
  const tracked = report.tracked.overall.wristsInView;
  assert.ok(alone.found / alone.total < 0.3, `the majority reads them swapped: ${alone.found}/${alone.total}`);
  assert.ok(tracked.found / tracked.total > 0.45, `walking turns them round: ${tracked.found}/${tracked.total} (${report.tracked.tracks} tracks, ${report.tracked.flips} flips)`);
  assert.ok(tracked.found > 1.8 * alone.found, `${tracked.found} against ${alone.found} at each instant alone`);
  assert.ok(report.tracked.flips > 0 && report.tracked.tracks >= 3);
  // Where people stand does not depend on their sides: on the floor, every tracked person is a true
  // one within a few centimetres (no false positives), and people are followed nearly throughout.
  const floor = report.tracked.floor!;
  assert.equal(floor.maxDistanceM, 0.5);
  assert.equal(floor.frames, 60);
  assert.equal(floor.falsePositives, 0);
  assert.ok(floor.motp! < 0.02, `MOTP ${floor.motp} m`);
  assert.ok(floor.mota! > 0.9 && floor.idf1! > 0.9, `MOTA ${floor.mota}, IDF1 ${floor.idf1}`);
  // The face (the nose ahead of the shoulders, which no camera reads the wrong way round) turns
  // nearly everyone round. Without it, walking and standing at shelves do; without the shelves too,
  // only walking: fewer wrists put right each time.
  const noFace = { ...DEFAULT_TRACKER_OPTIONS, faceWeight: 0 };
  const byBody = (await evaluateFusion(recording, instants, { tracker: noFace }))!.tracked!.overall.wristsInView;
  const noShelves = (await evaluateFusion(recording, instants, { tracker: { ...noFace, shelfWeight: 0 } }))!.tracked!.overall.wristsInView;
  assert.ok(tracked.found / tracked.total > 0.9, `the face turns them round: ${tracked.found}/${tracked.total}`);
  assert.ok(tracked.found > byBody.found, `the face: ${tracked.found} against ${byBody.found} by walking and shelves`);
  assert.ok(byBody.found > 1.2 * noShelves.found, `facing shelves: ${byBody.found} against ${noShelves.found} by walking alone`);
});

test('cameras not in step: each frame is fused with the nearest frames of the others (within half a frame)', async () => {
  const recording = await openRecording(DEMO);
  const inStep = await perfectDetections(recording);
  // cam-2 runs 30 ms late and cam-3 20 ms early (frames every 100 ms).
  const late = inStep.map((i) => ({ ...i, ts: i.ts + (i.cameraId === 'cam-2' ? 30 : i.cameraId === 'cam-3' ? -20 : 0) }));
  const a = (await evaluateFusion(recording, inStep))!;
  const b = (await evaluateFusion(recording, late))!;
  assert.equal(b.instants, a.instants);
  assert.deepEqual(b.overall.wristsInView, a.overall.wristsInView);
  assert.equal(b.wrists3d.found, a.wrists3d.found);
});

test('grouping by instant: one frame per camera, nearest first, a new instant past half a frame', () => {
  const at = (cameraId: string, ts: number): CameraInstant => ({ cameraId, ts, truth: [], detections: [] });
  const groups = groupByInstant([at('a', 0), at('b', 40), at('a', 100), at('b', 160), at('a', 200), at('a', 230)], 50);
  assert.deepEqual(
    groups.map((g) => g.map((i) => `${i.cameraId}${i.ts}`)),
    [['a0', 'b40'], ['a100'], ['b160', 'a200'], ['a230']],
  );
});

/** A person standing at (x, y): shoulders and hips there, nothing else found. */
function standingAt(x: number, y: number): FusedPerson {
  const keypoints: FusedPerson['keypoints'] = new Array(17).fill(null);
  for (const k of [5, 6, 11, 12]) keypoints[k] = { point: [x, y, k < 11 ? 1.4 : 0.9], score: 0.9, views: [0, 1] };
  return { keypoints, members: [], sideSupport: 1 };
}

function truthAt(x: number, y: number): Vec3[] {
  return Array.from({ length: 17 }, (_, k): Vec3 => [x, y, k < 11 ? 1.4 : 0.9]);
}

test('tracks on the floor, worked by hand: a person taken over by another track is a switch, a track nobody stands near a false positive', () => {
  // Three instants; Ann stands at (0, 0), Bob walks from (3, 0) to (3, 1). Track 1 is Ann's until
  // the last instant, where track 2 (a new track) takes her over; track 3 follows Bob but at the
  // middle instant stands 0.6 m off him (a miss and a false positive). The person fused at (8, 8)
  // is on no track: the tracker did not report them, so they are not counted.
  const instants: TrackedInstant[] = [
    { ts: 0, people: [standingAt(0, 0), standingAt(3, 0)] },
    { ts: 100, people: [standingAt(0.1, 0), standingAt(3, 1.1), standingAt(8, 8)] },
    { ts: 200, people: [standingAt(0, 0.2), standingAt(3, 1)] },
  ];
  const tracks = [
    { id: 1, points: [{ instant: 0, person: 0, flipped: false }, { instant: 1, person: 0, flipped: false }] },
    { id: 2, points: [{ instant: 2, person: 0, flipped: false }] },
    { id: 3, points: [{ instant: 0, person: 1, flipped: false }, { instant: 1, person: 1, flipped: false }, { instant: 2, person: 1, flipped: false }] },
  ];
  const skeletons = new Map([
    [0, [{ personId: 'ann', keypoints: truthAt(0, 0) }, { personId: 'bob', keypoints: truthAt(3, 0) }]],
    [100, [{ personId: 'ann', keypoints: truthAt(0, 0) }, { personId: 'bob', keypoints: truthAt(3, 0.5) }]],
    [200, [{ personId: 'ann', keypoints: truthAt(0, 0) }, { personId: 'bob', keypoints: truthAt(3, 1) }]],
  ]);
  const floor = scoreFloorTracking(instants, tracks, skeletons)!;
  assert.deepEqual(
    [floor.objects, floor.matches, floor.misses, floor.falsePositives, floor.idSwitches, floor.fragmentations],
    [6, 5, 1, 1, 1, 1],
  );
  // 1 - (1 miss + 1 false positive + 1 switch) / 6.
  assert.ok(Math.abs(floor.mota! - 0.5) < 1e-12);
  // Matches at 0, 0.1, 0.2 m (Ann) and 0, 0 m (Bob).
  assert.ok(Math.abs(floor.motp! - 0.3 / 5) < 1e-12);
  // Identities: Ann with track 1 (2 instants), Bob with track 3 (2): IDF1 = 2 x 4 / (6 + 6).
  assert.ok(Math.abs(floor.idf1! - 8 / 12) < 1e-12);
  assert.equal(scoreFloorTracking(instants, tracks, new Map()), null, 'no skeleton truth, nothing to score');
});
