import test from 'node:test';
import assert from 'node:assert/strict';
import { KP, type Vec3 } from '../contracts/index.ts';
import { skeleton, twoBone, type BodyPose } from './body.model.ts';

const dist = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const standing: BodyPose = { x: 2, y: 3, heading: Math.PI / 2, gaitPhase: 0, walk: 0, crouch: 0, lean: 0 };
const shape = { heightM: 1.75, build: 0.5 };

test('a standing person has human proportions', () => {
  const k = skeleton(shape, standing);
  assert.equal(k.length, 17);
  assert.ok(Math.abs(k[KP.nose][2] - 1.6) < 0.05, `nose at ${k[KP.nose][2]}`);
  assert.ok(Math.abs(k[KP.left_shoulder][2] - 1.43) < 0.03);
  assert.ok(Math.abs(k[KP.left_hip][2] - 0.93) < 0.03);
  assert.ok(k[KP.left_ankle][2] < 0.1);
  // Facing +y: the person's left is -x, and the nose is ahead (+y) of the ears.
  assert.ok(k[KP.left_shoulder][0] < k[KP.right_shoulder][0]);
  assert.ok(k[KP.nose][1] > k[KP.left_ear][1]);
  // Limb lengths are kept whatever the pose.
  assert.ok(Math.abs(dist(k[KP.left_shoulder], k[KP.left_elbow]) - 0.186 * 1.75) < 1e-6);
  assert.ok(Math.abs(dist(k[KP.left_hip], k[KP.left_knee]) - 0.245 * 1.75) < 1e-6);
  // Wrists hang beside the hips.
  assert.ok(k[KP.left_wrist][2] > 0.7 && k[KP.left_wrist][2] < 0.95, `wrist at ${k[KP.left_wrist][2]}`);
});

test('a reach puts the wrist on a target within arm length', () => {
  const target: Vec3 = [2.15, 3.45, 1.2];
  const k = skeleton(shape, { ...standing, rightHand: { target, amount: 1 } });
  assert.ok(dist(k[KP.right_wrist], target) < 1e-6);
  assert.ok(Math.abs(dist(k[KP.right_elbow], k[KP.right_wrist]) - 0.146 * 1.75) < 1e-6);
});

test('crouching lowers the hips and keeps the feet on the floor', () => {
  const k = skeleton(shape, { ...standing, crouch: 1 });
  assert.ok(k[KP.left_hip][2] < 0.5);
  assert.ok(Math.abs(k[KP.left_ankle][2] - 0.039 * 1.75) < 0.02);
});

test('walking swings the legs in opposite phase', () => {
  const k = skeleton(shape, { ...standing, walk: 1, gaitPhase: Math.PI / 2 });
  const ahead = (p: Vec3) => p[1] - standing.y;
  assert.ok(ahead(k[KP.left_ankle]) > 0.2 && ahead(k[KP.right_ankle]) < -0.2);
  assert.ok(ahead(k[KP.right_wrist]) > ahead(k[KP.left_wrist]), 'arms swing against the legs');
});

test('two-bone IK keeps both bone lengths', () => {
  const { mid, end } = twoBone([0, 0, 1], [0.3, 0.2, 0.5], 0.4, 0.35, [1, 0, 0]);
  assert.ok(Math.abs(dist([0, 0, 1], mid) - 0.4) < 1e-9);
  assert.ok(Math.abs(dist(mid, end) - 0.35) < 1e-9);
});
