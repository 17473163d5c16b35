import { indexStore, type Store } from '../contracts/index.ts';
import { skeleton, type BodyPose } from '../sim/body.model.ts';
import { laneAccess } from '../sim/floor.map.ts';
import type { Appearance, RenderPerson } from './render.types.ts';

/**
 * Hand-placed shoppers in the kiosk store for renderer and pose-model tests: standing, walking at
 * several points of the stride, reaching into a shelf at chest height and crouching to a low one.
 * Poses come from the simulator's body model, so the figures move the way simulated people will.
 */

export const SAMPLE_LOOKS: Appearance[] = [
  { skin: '#e0ac8a', hair: '#3b2a1e', shirt: '#c0392b', trousers: '#1f2a44', shoes: '#111111', heightM: 1.78, build: 0.6 },
  { skin: '#8d5524', hair: '#1c1410', shirt: '#f1c40f', trousers: '#3d3d3d', shoes: '#f5f5f5', heightM: 1.66, build: 0.4 },
  { skin: '#f1c7a5', hair: '#b8955f', shirt: '#2e86c1', trousers: '#6b4f3a', shoes: '#3b2f2f', heightM: 1.72, build: 0.3 },
  { skin: '#c68863', hair: '#5a3c25', shirt: '#27ae60', trousers: '#2c3e50', shoes: '#5a5a5a', heightM: 1.84, build: 0.8 },
  { skin: '#6b3e23', hair: '#9c9c9c', shirt: '#ecf0f1', trousers: '#4b5320', shoes: '#111111', heightM: 1.62, build: 0.5, sleeves: 'long' },
  { skin: '#a8714f', hair: '#1c1410', shirt: '#8e44ad', trousers: '#1b1b1b', shoes: '#7b3f00', heightM: 1.75, build: 0.7 },
];

const base: BodyPose = { x: 0, y: 0, heading: 0, gaitPhase: 0, walk: 0, crouch: 0, lean: 0 };

function person(id: string, look: Appearance, pose: Partial<BodyPose>): RenderPerson {
  return { personId: id, appearance: look, keypoints: skeleton(look, { ...base, ...pose }) };
}

/** A shopper in front of a lane, hand `amount` of the way to the front pack. */
function reaching(store: Store, id: string, look: Appearance, laneId: string, amount: number, hand: 'left' | 'right', extra: Partial<BodyPose> = {}) {
  const access = laneAccess(indexStore(store), laneId);
  const reach = { target: access.hand, amount };
  return person(id, look, {
    x: access.stand[0],
    y: access.stand[1],
    heading: access.heading,
    ...(hand === 'left' ? { leftHand: reach } : { rightHand: reach }),
    ...extra,
  });
}

/**
 * Scenes of three or four people for the kiosk store (fixtures/stores/kiosk.json), chosen so each
 * camera sees people at different distances and angles, some partly hidden by others or by shelves.
 */
export function kioskSampleScenes(store: Store): RenderPerson[][] {
  const L = SAMPLE_LOOKS;
  return [
    [
      reaching(store, 'p1', L[0], 'g1-s3-l2', 1, 'right'),
      person('p2', L[1], { x: 3.6, y: 2.4, heading: Math.PI, walk: 1, gaitPhase: 0.6 }),
      person('p3', L[2], { x: 2.2, y: 1.5, heading: -Math.PI / 2 }),
      person('p4', L[3], { x: 4.6, y: 3.6, heading: 0.4, walk: 1, gaitPhase: 2.2 }),
    ],
    [
      reaching(store, 'p5', L[4], 'g2-s2-l3', 1, 'left', { crouch: 0.6 }),
      person('p6', L[5], { x: 2.8, y: 3.2, heading: Math.PI / 2, walk: 1, gaitPhase: 4 }),
      person('p1', L[0], { x: 4.2, y: 1.6, heading: 2.6, walk: 0.7, gaitPhase: 1.3 }),
    ],
    [
      reaching(store, 'p2', L[1], 'g1-s2-l5', 0.8, 'left'),
      reaching(store, 'p3', L[2], 'g2-s4-l2', 1, 'right'),
      person('p4', L[3], { x: 3.2, y: 1.2, heading: 0.8, walk: 1, gaitPhase: 5.4 }),
      person('p6', L[5], { x: 5.0, y: 2.6, heading: -2.4, lean: 0.15 }),
    ],
  ];
}
