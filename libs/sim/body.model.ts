import { KP, type Vec3 } from '../contracts/index.ts';

/**
 * A person's 17 COCO keypoints in the store frame, from a few pose parameters: where they stand,
 * which way they face, how far into a stride they are, how low they crouch, and where each hand
 * reaches. Proportions follow anthropometric ratios of body height (Drillis and Contini).
 */

export interface BodyShape {
  heightM: number;
  /** 0 slim .. 1 broad: widens shoulders and hips. */
  build: number;
}

export interface BodyPose {
  /** Floor point between the feet, metres. */
  x: number;
  y: number;
  /** Facing direction on the floor, radians from +x towards +y. */
  heading: number;
  /** Stride phase, radians; one full turn is two steps. */
  gaitPhase: number;
  /** 0 standing still .. 1 walking at full stride. */
  walk: number;
  /** 0 upright .. 1 deep squat (for the bottom shelf). */
  crouch: number;
  /** Forward bend of the torso at the hips, radians. */
  lean: number;
  /** Where each hand reaches (store frame) and how far the reach has gone (0..1). */
  leftHand?: { target: Vec3; amount: number };
  rightHand?: { target: Vec3; amount: number };
  /** A hand that carries goods hangs a little forward and bent. */
  leftCarrying?: boolean;
  rightCarrying?: boolean;
}

// Heights and lengths as fractions of body height.
const ANKLE = 0.039;
const HIP = 0.53;
const SHOULDER = 0.818;
const HEAD_CENTRE = 0.93;
const THIGH = 0.245;
const SHIN = 0.246;
const UPPER_ARM = 0.186;
const FOREARM = 0.146;
const HIP_HALF_WIDTH = 0.085;
const SHOULDER_HALF_WIDTH = 0.115;
// Walking (Perry's gait cycle): each foot is on the floor for 60% of a stride and swings for 40%.
// Planted, it stays where it landed while the body passes over it (the ankle moves back against the
// hips at walking speed, a little slower as the foot rolls over the toes), from heel strike ahead of
// the hips to toe-off behind them, the heel rising at the end; then it swings forward, the knee
// bending to clear the floor. One stride (two steps) is about 0.83 of body height, as the timeline
// walks it (store.sim), so a planted foot does not slide.
const STANCE_SHARE = 0.6;
const HEEL_STRIKE_AHEAD = 0.17;
const TOE_OFF_BEHIND = 0.25;
const HEEL_RISE = 0.055; // ankle lift at toe-off
const SWING_LIFT = 0.03; // extra ankle lift at mid-swing
const HIP_BOB = 0.02; // hips are lowest when both feet are down, highest over one foot
const ARM_SWING_RAD = 0.35;
const EYE_HALF_SPACING = 0.018; // pupils about 6 cm apart
// Head landmarks from the head centre (at ear height): the eyes sit about a centimetre above the ear
// canals (the Frankfurt plane is level when looking ahead), the nose tip a few centimetres lower.
const EYE_FORWARD = 0.045;
const EYE_ABOVE_EARS = 0.006;
const NOSE_FORWARD = 0.058;
const NOSE_BELOW_EYES = 0.014;
const EAR_HALF_SPACING = 0.045; // a head is about 15 cm wide
const MAX_CROUCH_DROP = 0.3; // hips drop this fraction of height in a deep squat

type V = Vec3;
const add = (a: V, b: V): V => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const sub = (a: V, b: V): V => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const scale = (a: V, s: number): V => [a[0] * s, a[1] * s, a[2] * s];
const dot = (a: V, b: V) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const len = (a: V) => Math.sqrt(dot(a, a));
const norm = (a: V): V => {
  const l = len(a);
  return l > 1e-9 ? scale(a, 1 / l) : [0, 0, 1];
};
const lerp = (a: V, b: V, t: number): V => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

/**
 * Two-bone inverse kinematics: the middle joint (knee, elbow) for a chain from `root` towards
 * `target`, bending towards `pole`. An out-of-reach target straightens the chain towards it.
 */
export function twoBone(root: V, target: V, upper: number, lower: number, pole: V): { mid: V; end: V } {
  const toTarget = sub(target, root);
  const dir = norm(toTarget);
  const d = Math.min(Math.max(len(toTarget), Math.abs(upper - lower) + 1e-4), upper + lower - 1e-4);
  const a = (upper * upper - lower * lower + d * d) / (2 * d);
  const h = Math.sqrt(Math.max(0, upper * upper - a * a));
  let bend = sub(pole, scale(dir, dot(pole, dir)));
  if (len(bend) < 1e-6) bend = Math.abs(dir[2]) < 0.9 ? [0, 0, 1] : [1, 0, 0];
  bend = norm(bend);
  const mid = add(add(root, scale(dir, a)), scale(bend, h));
  return { mid, end: add(root, scale(dir, d)) };
}

export function skeleton(shape: BodyShape, pose: BodyPose): Vec3[] {
  const H = shape.heightM;
  const widen = 0.9 + 0.2 * shape.build;
  const f: V = [Math.cos(pose.heading), Math.sin(pose.heading), 0];
  const l: V = [-Math.sin(pose.heading), Math.cos(pose.heading), 0];
  const up: V = [0, 0, 1];
  const base: V = [pose.x, pose.y, 0];
  const walk = Math.min(1, Math.max(0, pose.walk));
  const crouch = Math.min(1, Math.max(0, pose.crouch));

  // Hips drop with crouching and bob slightly with each step.
  const hipZ = H * (HIP - MAX_CROUCH_DROP * crouch) - walk * HIP_BOB * H * Math.sin(pose.gaitPhase) ** 2;
  const pelvis = add(base, [0, 0, hipZ]);
  // A crouching person sits back: the pelvis moves behind the feet.
  const pelvisShift = scale(f, -0.12 * H * crouch);
  const pelvisAt = add(pelvis, pelvisShift);
  const out: Vec3[] = new Array(17);

  for (const side of [1, -1] as const) {
    const hip = add(pelvisAt, scale(l, side * HIP_HALF_WIDTH * H * widen));
    const phase = pose.gaitPhase + (side === 1 ? 0 : Math.PI);
    const step = footInStride(phase);
    const footAhead = walk * step.ahead * H;
    const lift = walk * step.lift * H;
    const footOut = side * (HIP_HALF_WIDTH * 0.9 + 0.05 * crouch) * H * widen;
    const ankleTarget = add(add(base, scale(f, footAhead)), add(scale(l, footOut), [0, 0, ANKLE * H + lift]));
    const legPole = add(scale(f, 1), scale(l, side * 0.25 * crouch));
    const leg = twoBone(hip, ankleTarget, THIGH * H, SHIN * H, legPole);
    out[side === 1 ? KP.left_hip : KP.right_hip] = hip;
    out[side === 1 ? KP.left_knee : KP.right_knee] = leg.mid;
    out[side === 1 ? KP.left_ankle : KP.right_ankle] = leg.end;
  }

  // The torso bends forward at the hips; everything above rotates about the pelvis.
  const lean = pose.lean + 0.35 * crouch;
  const trunkUp: V = add(scale(up, Math.cos(lean)), scale(f, Math.sin(lean)));
  const trunkForward: V = add(scale(f, Math.cos(lean)), scale(up, -Math.sin(lean)));
  const upperAt = (fraction: number) => add(pelvisAt, scale(trunkUp, (fraction - HIP) * H));
  const shoulderMid = upperAt(SHOULDER);
  const head = upperAt(HEAD_CENTRE);

  out[KP.nose] = add(head, add(scale(trunkForward, NOSE_FORWARD * H), scale(trunkUp, -NOSE_BELOW_EYES * H)));
  for (const side of [1, -1] as const) {
    out[side === 1 ? KP.left_eye : KP.right_eye] = add(
      head,
      add(add(scale(trunkForward, EYE_FORWARD * H), scale(trunkUp, EYE_ABOVE_EARS * H)), scale(l, side * EYE_HALF_SPACING * H)),
    );
    out[side === 1 ? KP.left_ear : KP.right_ear] = add(head, add(scale(l, side * EAR_HALF_SPACING * H), scale(trunkForward, -0.005 * H)));

    const shoulder = add(shoulderMid, scale(l, side * SHOULDER_HALF_WIDTH * H * widen));
    const reach = side === 1 ? pose.leftHand : pose.rightHand;
    const carrying = side === 1 ? pose.leftCarrying : pose.rightCarrying;
    const phase = pose.gaitPhase + (side === 1 ? Math.PI : 0); // arms swing against the legs
    const armLength = (UPPER_ARM + FOREARM) * H;
    const swingAngle = walk * ARM_SWING_RAD * Math.sin(phase) + (carrying ? 0.5 : 0.06);
    // The hanging hand in trunk coordinates: down the side, a little forward when swinging or carrying.
    const restHand = add(
      shoulder,
      add(
        add(scale(trunkUp, -Math.cos(swingAngle) * armLength * (carrying ? 0.88 : 0.97)), scale(trunkForward, Math.sin(swingAngle) * armLength)),
        scale(l, side * 0.04 * H),
      ),
    );
    const target = reach ? lerp(restHand, reach.target, smooth(reach.amount)) : restHand;
    const elbowPole = add(add(scale(trunkUp, -0.6), scale(trunkForward, -0.5)), scale(l, side * 0.6));
    const arm = twoBone(shoulder, target, UPPER_ARM * H, FOREARM * H, elbowPole);
    out[side === 1 ? KP.left_shoulder : KP.right_shoulder] = shoulder;
    out[side === 1 ? KP.left_elbow : KP.right_elbow] = arm.mid;
    out[side === 1 ? KP.left_wrist : KP.right_wrist] = arm.end;
  }
  return out;
}

/**
 * Where a walking foot is at a stride phase (0 = mid-swing, as the foot passes under the hips; pi =
 * mid-stance), ahead of the hips and above its resting height, as fractions of body height.
 */
export function footInStride(phase: number): { ahead: number; lift: number } {
  const c = Math.atan2(Math.sin(phase - Math.PI), Math.cos(phase - Math.PI)); // 0 at mid-stance
  const half = STANCE_SHARE * Math.PI;
  const span = HEEL_STRIKE_AHEAD + TOE_OFF_BEHIND;
  if (Math.abs(c) <= half) {
    const p = (c + half) / (2 * half); // 0 heel strike .. 1 toe-off
    const heel = p > 0.6 ? ((p - 0.6) / 0.4) ** 2 : 0;
    return { ahead: HEEL_STRIKE_AHEAD - span * p, lift: HEEL_RISE * heel };
  }
  const q = (c > 0 ? c - half : c + 2 * Math.PI - half) / (2 * Math.PI - 2 * half); // 0 toe-off .. 1 heel strike
  return { ahead: -TOE_OFF_BEHIND + span * smooth(q), lift: HEEL_RISE * (1 - q) + SWING_LIFT * Math.sin(Math.PI * q) };
}

/** Smoothstep: reaches start and end gently, as human movements do (minimum-jerk-like). */
export function smooth(t: number): number {
  const c = Math.min(1, Math.max(0, t));
  return c * c * (3 - 2 * c);
}
