import assert from 'node:assert/strict';
import test from 'node:test';
import { KP, type Camera, type Vec3 } from '../contracts/index.ts';
import { cornerCameras, seededRandom } from '../geometry/camera.fixture.ts';
import { projectPoint } from '../geometry/camera.ts';
import { skeleton, type BodyPose } from '../sim/body.model.ts';
import { keypointBox, mirrorPose, type DetectedPose } from '../vision/pose.detector.ts';
import { DEFAULT_FUSION_OPTIONS, fuseViews, isShortOnForearm, posesInView, type CameraPoses } from './multiview.pose.ts';

const cameras = cornerCameras();
const still: BodyPose = { x: 0, y: 0, heading: 0, gaitPhase: 0, walk: 0, crouch: 0, lean: 0 };
// Two shoppers at a shelf: alice reaching with her right hand, bob beside her, shoulder to shoulder.
const alice = skeleton({ heightM: 1.68, build: 0.4 }, { ...still, x: 5, y: 4, heading: 0.3, rightHand: { target: [5.5, 4.3, 1.2], amount: 1 } });
const bob = skeleton({ heightM: 1.82, build: 0.7 }, { ...still, x: 5.15, y: 4.6, heading: 0.3, walk: 1, gaitPhase: 1 });

/** What a perfect detector would report for a person in a camera, plus pixel noise. */
function detect(camera: Camera, body: Vec3[], noisePx = 0, random = seededRandom(1)): DetectedPose {
  const keypoints = body.map((p): [number, number, number] => {
    const px = projectPoint(camera, p)!;
    return [px[0] + (random() - 0.5) * 2 * noisePx, px[1] + (random() - 0.5) * 2 * noisePx, 0.9];
  });
  return { score: 0.8, box: keypointBox(keypoints), keypoints };
}
const worst = (a: DetectedPose, b: DetectedPose) => Math.max(...a.keypoints.map((k, i) => Math.hypot(k[0] - b.keypoints[i][0], k[1] - b.keypoints[i][1])));

test('detections of the same people in four cameras are grouped and triangulated to their 3D keypoints', () => {
  const views: CameraPoses[] = cameras.map((camera) => ({ camera, poses: [detect(camera, bob), detect(camera, alice)] }));
  const people = fuseViews(views);
  assert.equal(people.length, 2);
  for (const person of people) {
    assert.equal(person.members.length, 4);
    const which = person.members[0].pose;
    assert.ok(person.members.every((m) => m.pose === which && !m.mirrored), JSON.stringify(person.members));
    const truth = which === 0 ? bob : alice;
    person.keypoints.forEach((kp, k) => {
      assert.ok(kp, `keypoint ${k} triangulated`);
      assert.ok(Math.hypot(...kp.point.map((v, i) => v - truth[k][i])) < 1e-3, `keypoint ${k}: ${kp.point} vs ${truth[k]}`);
      assert.equal(kp.views.length, 4);
    });
  }
});

test("a camera that swapped a person's sides is put right, and a camera that missed a person gets them from the others", () => {
  const views: CameraPoses[] = cameras.map((camera, i) => ({
    camera,
    poses: [
      ...(i === 2 ? [] : [detect(camera, bob, 1.5, seededRandom(10 + i))]),
      i === 1 ? mirrorPose(detect(camera, alice, 1.5, seededRandom(20 + i))) : detect(camera, alice, 1.5, seededRandom(20 + i)),
    ],
  }));
  const people = fuseViews(views);
  const aliceGroup = people.find((p) => p.members.some((m) => m.view === 2 && m.pose === 0))!;
  assert.equal(aliceGroup.members.length, 4);
  assert.deepEqual(aliceGroup.members.filter((m) => m.mirrored).map((m) => m.view), [1]);
  // Camera 2 (index 1) now reports alice with her sides as they are.
  const inCam2 = posesInView(people, views, 1);
  const aliceIn2 = inCam2.find((p) => worst(p, detect(cameras[1], alice)) < 5);
  assert.ok(aliceIn2, 'alice with her sides put right in camera 2');
  assert.ok(aliceIn2.keypoints[KP.right_wrist][0] !== views[1].poses[1].keypoints[KP.right_wrist][0]);
  // Camera 3 (index 2) never saw bob; the three others place him within a few pixels.
  const inCam3 = posesInView(people, views, 2);
  assert.equal(inCam3.length, 2);
  const bobIn3 = inCam3.find((p) => worst(p, detect(cameras[2], bob)) < 6);
  assert.ok(bobIn3, `bob projected into camera 3: ${inCam3.map((p) => worst(p, detect(cameras[2], bob)).toFixed(1))}`);
});

test('whole-group sides follow the cameras: when most of them swap a person, so does the fusion', () => {
  // Geometry cannot tell a person from their mirror image; the majority reading decides.
  const views: CameraPoses[] = cameras.map((camera, i) => ({ camera, poses: [i === 0 ? detect(camera, alice) : mirrorPose(detect(camera, alice))] }));
  const [person] = fuseViews(views);
  const byView = [...person.members].sort((a, b) => a.view - b.view);
  assert.deepEqual(byView.map((m) => m.mirrored), [true, false, false, false]);
});

test('people in different places are not merged, and detections no other camera confirms pass through', () => {
  const stranger = detect(cameras[0], skeleton({ heightM: 1.7, build: 0.5 }, { ...still, x: 2, y: 6 }));
  const views: CameraPoses[] = [
    { camera: cameras[0], poses: [stranger] },
    { camera: cameras[1], poses: [detect(cameras[1], alice)] },
    { camera: cameras[2], poses: [detect(cameras[2], alice)] },
  ];
  const people = fuseViews(views);
  assert.equal(people.length, 2);
  const alone = people.find((p) => p.members.length === 1)!;
  assert.deepEqual(alone.members, [{ view: 0, pose: 0, mirrored: false }]);
  assert.ok(alone.keypoints.every((k) => k === null));
  const inCam1 = posesInView(people, views, 0);
  assert.ok(inCam1.some((p) => p === stranger || worst(p, stranger) === 0), 'the unconfirmed detection is still reported');
  assert.ok(inCam1.some((p) => worst(p, detect(cameras[0], alice)) < 1), 'alice, whom camera 1 missed, projected into it');
});

test('a keypoint one camera puts far off is triangulated from the others', () => {
  const views: CameraPoses[] = cameras.map((camera, i) => {
    const pose = detect(camera, alice);
    if (i === 3) pose.keypoints[KP.left_wrist] = [pose.keypoints[KP.left_wrist][0] + 60, pose.keypoints[KP.left_wrist][1] - 40, 0.9];
    return { camera, poses: [pose] };
  });
  const [person] = fuseViews(views);
  const wrist = person.keypoints[KP.left_wrist]!;
  assert.equal(wrist.views.length, 3);
  assert.ok(!wrist.views.includes(3));
  assert.ok(Math.hypot(...wrist.point.map((v, i) => v - alice[KP.left_wrist][i])) < 1e-3);
});

test("a keypoint the tracker moved in 3D moves each camera's own sure reading of it by as much as that camera sees of the move", () => {
  const views: CameraPoses[] = cameras.map((camera) => ({ camera, poses: [detect(camera, bob)] }));
  const [person] = fuseViews(views);
  const wrist = person.keypoints[KP.left_wrist]!;
  const move: Vec3 = [0.05, -0.03, 0.08];
  const target: Vec3 = [0, 1, 2].map((c) => bob[KP.left_wrist][c] + move[c]) as Vec3;
  const moved = { ...person, keypoints: person.keypoints.map((kp, k) => (k === KP.left_wrist ? { ...wrist, point: target, moved: move } : kp)) };
  views.forEach((view, v) => {
    const [pose] = posesInView([moved], views, v);
    const expected = projectPoint(view.camera, target)!;
    const [x, y, score] = pose.keypoints[KP.left_wrist];
    assert.ok(Math.hypot(x - expected[0], y - expected[1]) < 1e-6, `camera ${v}: ${x}, ${y} against ${expected}`);
    assert.equal(score, 0.9, "the camera's own score is kept");
    assert.deepEqual(pose.keypoints[KP.right_wrist], views[v].poses[0].keypoints[KP.right_wrist], 'keypoints not moved are as read');
  });
});

test("a camera's wrist found short along the forearm the others triangulate is taken from the 3D wrist; one off the forearm is its own", () => {
  // The forearm from (0, 0) to (10, 0) in an image.
  assert.equal(isShortOnForearm([5, 2], [0, 0], [10, 0], 0.25), true);
  assert.equal(isShortOnForearm([5, 3], [0, 0], [10, 0], 0.25), false, 'off the line by more than a quarter of the forearm');
  assert.equal(isShortOnForearm([11, 0], [0, 0], [10, 0], 0.25), false, 'beyond the wrist');
  assert.equal(isShortOnForearm([-1, 0], [0, 0], [10, 0], 0.25), false, 'behind the elbow');
  assert.equal(isShortOnForearm([5, 0], null, [10, 0], 0.25), false, 'no elbow to measure from');
  // The camera that sees alice's reaching right forearm longest puts her wrist 40 % of the way back
  // to her elbow, and surely.
  const forearmPx = (camera: Camera) => {
    const [e, w] = [projectPoint(camera, alice[KP.right_elbow])!, projectPoint(camera, alice[KP.right_wrist])!];
    return Math.hypot(w[0] - e[0], w[1] - e[1]);
  };
  const c = cameras.reduce((best, camera, i) => (forearmPx(camera) > forearmPx(cameras[best]) ? i : best), 0);
  assert.ok(forearmPx(cameras[c]) > 20, `forearm ${forearmPx(cameras[c])} px`);
  const views: CameraPoses[] = cameras.map((camera, i) => {
    const pose = detect(camera, alice);
    if (i === c) {
      const [ex, ey] = pose.keypoints[KP.right_elbow];
      const [wx, wy] = pose.keypoints[KP.right_wrist];
      pose.keypoints[KP.right_wrist] = [wx + (ex - wx) * 0.4, wy + (ey - wy) * 0.4, 0.9];
    }
    return { camera, poses: [pose] };
  });
  const people = fuseViews(views);
  const truth = projectPoint(cameras[c], alice[KP.right_wrist])!;
  const wristIn = (options = DEFAULT_FUSION_OPTIONS) => posesInView(people, views, c, options)[0].keypoints[KP.right_wrist];
  const offBy = (p: readonly number[]) => Math.hypot(p[0] - truth[0], p[1] - truth[1]);
  // On: the fused wrist projected (the short reading pulls the 3D point a little, not much).
  const fused = projectPoint(cameras[c], people[0].keypoints[KP.right_wrist]!.point)!;
  assert.ok(Math.hypot(wristIn()[0] - fused[0], wristIn()[1] - fused[1]) < 1e-9);
  assert.equal(wristIn()[2], 0.9, "the camera's own score is kept");
  // Off: the camera's own short reading, twice as far from the truth.
  const off = wristIn({ ...DEFAULT_FUSION_OPTIONS, shortWristLine: 0 });
  assert.deepEqual(off, views[c].poses[0].keypoints[KP.right_wrist]);
  assert.ok(offBy(wristIn()) < offBy(off) / 2, `${offBy(wristIn())} px against ${offBy(off)} px`);
  // Put off the forearm's line instead, the camera's own reading is kept.
  const [x, y] = views[c].poses[0].keypoints[KP.right_wrist];
  views[c].poses[0].keypoints[KP.right_wrist] = [x + 40, y + 40, 0.9];
  assert.deepEqual(posesInView(fuseViews(views), views, c)[0].keypoints[KP.right_wrist], [x + 40, y + 40, 0.9]);
});
