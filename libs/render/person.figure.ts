import { KP, type Vec3 } from '../contracts/index.ts';
import { mixColour, parseHexColour, type Rgb } from './colour.ts';
import { Material, type ShapeSpec } from './round-cone.primitive.ts';
import type { RenderPerson } from './render.types.ts';

/**
 * A human figure from 17 keypoints: bone lengths come from the keypoints, thicknesses from the
 * person's height and build (adult anthropometry scaled from a 1.75 m reference), colours from
 * their clothes. Pose models learnt people from photos, so the figure keeps what they look for:
 * a head with hair, eyes, nose and ears; a torso wider than the neck; sleeves ending on bare
 * forearms; hands past the wrists; trousers; shoes. Lambert shading (scene.renderer) gives depth.
 */

/** Thicknesses below are for a person this tall; everything scales linearly with height. */
const REFERENCE_HEIGHT_M = 1.75;

// Half-widths (radii) in metres at the reference height and a medium build.
const HEAD_HALF_WIDTH_M = 0.078;
const HEAD_HALF_DEPTH_M = 0.1;
const HEAD_HALF_HEIGHT_M = 0.118;
const NECK_RADIUS_M = 0.055;
const TRAPEZIUS_RADII_M = [0.068, 0.056] as const;
const CHEST_RADIUS_M = 0.165;
const PELVIS_RADIUS_M = 0.155;
/** Front-to-back thickness of the torso over its width. */
const TORSO_DEPTH_RATIO = 0.62;
/** The chest sphere sits this far below the shoulder line, so its dome rounds off the shoulders. */
const CHEST_BELOW_SHOULDERS_M = 0.12;
const PELVIS_ABOVE_HIPS_M = 0.03;
/** The shirt ends this far above the pelvis centre (a little below the navel). */
const WAIST_ABOVE_PELVIS_M = 0.1;
const UPPER_ARM_RADII_M = [0.046, 0.038] as const;
const SLEEVE_RADII_M = [0.054, 0.047] as const;
/** A short sleeve covers this share of the upper arm. */
const SHORT_SLEEVE_SHARE = 0.55;
const FOREARM_RADII_M = [0.037, 0.027] as const;
const HAND_RADII_M = [0.034, 0.028] as const;
const HAND_LENGTH_M = 0.12;
const THIGH_RADII_M = [0.08, 0.055] as const;
const SHIN_RADII_M = [0.052, 0.04] as const;
const SHOE_RADII_M = [0.042, 0.037] as const;
const SHOE_BACK_M = 0.035;
const SHOE_FRONT_M = 0.14;
const EYE_RADIUS_M = 0.008;
const EYE_WHITE_RADIUS_M = 0.013;
const EYE_WHITE_COLOUR: Rgb = [236, 230, 222];
const BROW_ABOVE_EYE_M = 0.022;
const BROW_RADIUS_M = 0.006;
const MOUTH_HALF_WIDTH_M = 0.018;
const NOSE_RADIUS_M = 0.016;
const EAR_RADIUS_M = 0.022;
/** Ears stand out from the head by at most this much, metres. */
const MAX_EAR_REACH_M = 0.07;
/** Angle of the eyes above the line straight forward from the ear canals, seen from the side. */
const EYES_ABOVE_EAR_LINE_RAD = Math.atan2(0.011, 0.088);
const EYE_COLOUR: Rgb = [38, 30, 28];
const MOUTH_COLOUR: Rgb = [150, 72, 70];
const MOUTH_RADIUS_M = 0.008;

type V = Vec3;
const add = (a: V, b: V): V => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const sub = (a: V, b: V): V => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const scale = (a: V, s: number): V => [a[0] * s, a[1] * s, a[2] * s];
const dot = (a: V, b: V) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: V, b: V): V => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const len = (a: V) => Math.sqrt(dot(a, a));
const mid = (a: V, b: V): V => scale(add(a, b), 0.5);
const lerp = (a: V, b: V, t: number): V => add(a, scale(sub(b, a), t));
function norm(a: V, fallback: V = [0, 0, 1]): V {
  const l = len(a);
  return l > 1e-9 ? scale(a, 1 / l) : fallback;
}
/** a with its component along unit w removed, normalised. */
function orthogonal(a: V, w: V, fallback: V): V {
  return norm(sub(a, scale(w, dot(a, w))), fallback);
}
/** Any unit vector perpendicular to unit w. */
function perpendicular(w: V): V {
  return norm(Math.abs(w[0]) < 0.9 ? cross(w, [1, 0, 0]) : cross(w, [0, 1, 0]));
}

function roundCone(a: V, b: V, r1: number, r2: number, colour: Rgb): ShapeSpec {
  const axis = sub(b, a);
  const length = len(axis);
  const w = norm(axis);
  const e1 = perpendicular(w);
  const e2 = cross(w, e1);
  return {
    origin: a,
    axes: [e1, e2, w],
    r1,
    r2,
    length,
    boundsCentre: mid(a, b),
    boundsRadius: length / 2 + Math.max(r1, r2),
    material: Material.Solid,
    colour,
    colour2: colour,
    split: 0,
  };
}

function sphere(centre: V, r: number, colour: Rgb): ShapeSpec {
  return roundCone(centre, centre, r, r, colour);
}

/** An ellipsoid with half-axes along unit vectors ex, ey, ez. */
function ellipsoid(centre: V, ex: V, ey: V, ez: V, rx: number, ry: number, rz: number, material: Material, colour: Rgb, colour2: Rgb): ShapeSpec {
  return {
    origin: centre,
    axes: [scale(ex, 1 / rx), scale(ey, 1 / ry), scale(ez, 1 / rz)],
    r1: 1,
    r2: 1,
    length: 0,
    boundsCentre: centre,
    boundsRadius: Math.max(rx, ry, rz),
    material,
    colour,
    colour2,
    split: 0,
  };
}

/** Where the ray from the centre of an ellipsoid towards `towards` leaves its surface. */
function onEllipsoid(centre: V, ex: V, ey: V, ez: V, rx: number, ry: number, rz: number, towards: V): V {
  const d = norm(sub(towards, centre), ez);
  const lx = dot(d, ex) / rx;
  const ly = dot(d, ey) / ry;
  const lz = dot(d, ez) / rz;
  return add(centre, scale(d, 1 / Math.sqrt(lx * lx + ly * ly + lz * lz)));
}

export function buildFigure(person: RenderPerson): ShapeSpec[] {
  const k = person.keypoints;
  const look = person.appearance;
  const s = look.heightM / REFERENCE_HEIGHT_M;
  const wide = s * (0.85 + 0.3 * Math.min(1, Math.max(0, look.build)));
  const skin = parseHexColour(look.skin);
  const hair = parseHexColour(look.hair);
  const shirt = parseHexColour(look.shirt);
  const trousers = parseHexColour(look.trousers);
  const shoes = parseHexColour(look.shoes);
  const shapes: ShapeSpec[] = [];

  // The body frame: up along the spine, left from the right shoulder and hip to the left ones.
  const shoulderMid = mid(k[KP.left_shoulder], k[KP.right_shoulder]);
  const hipMid = mid(k[KP.left_hip], k[KP.right_hip]);
  const up = norm(sub(shoulderMid, hipMid));
  const leftRaw = add(sub(k[KP.left_shoulder], k[KP.right_shoulder]), sub(k[KP.left_hip], k[KP.right_hip]));
  const left = orthogonal(leftRaw, up, perpendicular(up));
  const front = cross(left, up);

  // Torso: a round cone from pelvis to chest, flattened front to back.
  const pelvis = add(hipMid, scale(up, PELVIS_ABOVE_HIPS_M * s));
  let chest = sub(shoulderMid, scale(up, CHEST_BELOW_SHOULDERS_M * s));
  if (dot(sub(chest, pelvis), up) < 0.1 * s) chest = add(pelvis, scale(up, 0.1 * s));
  const torsoAxis = norm(sub(chest, pelvis), up);
  const torsoLeft = orthogonal(left, torsoAxis, left);
  const torsoFront = cross(torsoLeft, torsoAxis);
  const chestR = CHEST_RADIUS_M * wide;
  const pelvisR = PELVIS_RADIUS_M * wide;
  const torsoLength = len(sub(chest, pelvis));
  shapes.push({
    origin: pelvis,
    axes: [torsoLeft, scale(torsoFront, 1 / TORSO_DEPTH_RATIO), torsoAxis],
    r1: pelvisR,
    r2: chestR,
    length: torsoLength,
    boundsCentre: mid(pelvis, chest),
    boundsRadius: torsoLength / 2 + Math.max(chestR, pelvisR),
    material: Material.Torso,
    colour: shirt,
    colour2: trousers,
    split: WAIST_ABOVE_PELVIS_M * s,
  });

  // Head: an ellipsoid around the ears, facing where the eyes look.
  const earMid = mid(k[KP.left_ear], k[KP.right_ear]);
  const eyeMid = mid(k[KP.left_eye], k[KP.right_eye]);
  const headLeft = norm(sub(k[KP.left_ear], k[KP.right_ear]), left);
  // The eyes sit above the line forward from the ear canals (the Frankfurt plane runs from the ear
  // canal to the bottom of the eye socket), so the ear-to-eye direction points up by that much: turn
  // it back down, or the face looks at the ceiling.
  const eyeLine = orthogonal(sub(eyeMid, earMid), headLeft, front);
  const eyeLineUp = cross(eyeLine, headLeft);
  const headFront = norm(add(scale(eyeLine, Math.cos(EYES_ABOVE_EAR_LINE_RAD)), scale(eyeLineUp, -Math.sin(EYES_ABOVE_EAR_LINE_RAD))));
  const headUp = cross(headFront, headLeft);
  const rx = HEAD_HALF_WIDTH_M * s;
  const ry = HEAD_HALF_DEPTH_M * s;
  const rz = HEAD_HALF_HEIGHT_M * s;
  const head = add(earMid, scale(headFront, 0.01 * s));
  shapes.push(ellipsoid(head, headLeft, headFront, headUp, rx, ry, rz, Material.Head, skin, hair));
  const surface = (towards: V) => onEllipsoid(head, headLeft, headFront, headUp, rx, ry, rz, towards);
  // Eyes as white with a dark iris, brows above them, a nose and a mouth: a face, so the model can
  // tell a person facing the camera from one walking away (or it swaps their left and right).
  for (const eye of [k[KP.left_eye], k[KP.right_eye]]) {
    const at = surface(eye);
    shapes.push(sphere(at, EYE_WHITE_RADIUS_M * s, EYE_WHITE_COLOUR));
    shapes.push(sphere(add(at, scale(headFront, 0.005 * s)), EYE_RADIUS_M * s, EYE_COLOUR));
    const brow = surface(add(eye, scale(headUp, BROW_ABOVE_EYE_M * s)));
    shapes.push(roundCone(add(brow, scale(headLeft, -0.014 * s)), add(brow, scale(headLeft, 0.014 * s)), BROW_RADIUS_M * s, BROW_RADIUS_M * s, hair));
  }
  const noseTip = add(surface(k[KP.nose]), scale(headFront, 0.006 * s));
  shapes.push(sphere(noseTip, NOSE_RADIUS_M * s, mixColour(skin, [200, 90, 80], 0.12)));
  const mouthAt = surface(add(head, add(scale(headFront, 1), scale(headUp, -0.62))));
  const mouthHalf = scale(headLeft, MOUTH_HALF_WIDTH_M * s);
  shapes.push(roundCone(sub(mouthAt, mouthHalf), add(mouthAt, mouthHalf), MOUTH_RADIUS_M * s, MOUTH_RADIUS_M * s, mixColour(skin, MOUTH_COLOUR, 0.6)));
  // Ears reach from the side of the head to where the ear keypoints are, so the truth lies on the
  // figure even when a body model puts the ears wider than this head.
  for (const ear of [k[KP.left_ear], k[KP.right_ear]]) {
    const base = surface(ear);
    const reach = len(sub(ear, base)) > MAX_EAR_REACH_M * s ? add(base, scale(norm(sub(ear, base)), MAX_EAR_REACH_M * s)) : ear;
    shapes.push(roundCone(base, reach, EAR_RADIUS_M * s, EAR_RADIUS_M * 0.8 * s, skin));
  }

  // Neck, from inside the shoulders to inside the head.
  const neckBase = sub(shoulderMid, scale(up, 0.02 * s));
  const neckTop = sub(head, scale(headUp, 0.05 * s));
  shapes.push(roundCone(neckBase, neckTop, NECK_RADIUS_M * wide, NECK_RADIUS_M * 0.92 * wide, skin));
  // The slope from neck to shoulder (trapezius), so the shoulders join the torso instead of the
  // arms hanging from a narrow chest.
  for (const shoulder of [k[KP.left_shoulder], k[KP.right_shoulder]])
    shapes.push(roundCone(add(neckBase, scale(up, -0.01 * s)), shoulder, TRAPEZIUS_RADII_M[0] * wide, TRAPEZIUS_RADII_M[1] * wide, shirt));

  const longSleeves = look.sleeves === 'long';
  for (const [shoulderKp, elbowKp, wristKp] of [
    [KP.left_shoulder, KP.left_elbow, KP.left_wrist],
    [KP.right_shoulder, KP.right_elbow, KP.right_wrist],
  ]) {
    const shoulder = k[shoulderKp];
    const elbow = k[elbowKp];
    const wrist = k[wristKp];
    shapes.push(roundCone(shoulder, elbow, UPPER_ARM_RADII_M[0] * wide, UPPER_ARM_RADII_M[1] * wide, longSleeves ? shirt : skin));
    // The sleeve is a slightly thicker cone over the top of the arm, so it ends in a visible hem.
    const sleeveEnd = longSleeves ? elbow : lerp(shoulder, elbow, SHORT_SLEEVE_SHARE);
    shapes.push(roundCone(shoulder, sleeveEnd, SLEEVE_RADII_M[0] * wide, SLEEVE_RADII_M[1] * wide, shirt));
    shapes.push(roundCone(elbow, wrist, FOREARM_RADII_M[0] * wide, FOREARM_RADII_M[1] * wide, longSleeves ? shirt : skin));
    const hand = add(wrist, scale(norm(sub(wrist, elbow), scale(up, -1)), HAND_LENGTH_M * s));
    shapes.push(roundCone(wrist, hand, HAND_RADII_M[0] * s, HAND_RADII_M[1] * s, skin));
  }

  // Legs and shoes; feet point where the hips face, flat on the floor.
  const floorFront = norm([front[0], front[1], 0], [1, 0, 0]);
  for (const [hipKp, kneeKp, ankleKp] of [
    [KP.left_hip, KP.left_knee, KP.left_ankle],
    [KP.right_hip, KP.right_knee, KP.right_ankle],
  ]) {
    const hip = k[hipKp];
    const knee = k[kneeKp];
    const ankle = k[ankleKp];
    shapes.push(roundCone(hip, knee, THIGH_RADII_M[0] * wide, THIGH_RADII_M[1] * wide, trousers));
    shapes.push(roundCone(knee, ankle, SHIN_RADII_M[0] * wide, SHIN_RADII_M[1] * wide, trousers));
    const heelR = SHOE_RADII_M[0] * s;
    const toeR = SHOE_RADII_M[1] * s;
    const heel = add(ankle, add(scale(floorFront, -SHOE_BACK_M * s), [0, 0, -0.035 * s]));
    const toe = add(ankle, add(scale(floorFront, SHOE_FRONT_M * s), [0, 0, -0.045 * s]));
    // Shoes never sink into the floor, whatever the ankle height.
    heel[2] = Math.max(heel[2], heelR);
    toe[2] = Math.max(toe[2], toeR);
    shapes.push(roundCone(heel, toe, heelR, toeR, shoes));
  }
  return shapes;
}
