import type { Scenario } from '../contracts/index.ts';
import type { Random } from './random.ts';
import type { Appearance } from '../render/render.types.ts';

export type { Appearance } from '../render/render.types.ts';

// Skin tones across the Fitzpatrick range; hair from blond to black and grey.
const SKIN = ['#f1c7a5', '#e0ac8a', '#c68863', '#a8714f', '#8d5524', '#6b3e23', '#4a2c1d'];
const HAIR = ['#1c1410', '#3b2a1e', '#5a3c25', '#8a6642', '#b8955f', '#d9c29a', '#9c9c9c'];
const SHIRTS = ['#c0392b', '#2e86c1', '#27ae60', '#f1c40f', '#8e44ad', '#e67e22', '#ecf0f1', '#34495e', '#16a085', '#d35400', '#7f8c8d', '#ff6f91'];
const TROUSERS = ['#1f2a44', '#2c3e50', '#3d3d3d', '#6b4f3a', '#4b5320', '#1b1b1b', '#5d6d7e', '#8b7d6b'];
const SHOES = ['#111111', '#3b2f2f', '#f5f5f5', '#5a5a5a', '#7b3f00'];
const STAFF_SHIRT = '#0b6e4f'; // staff wear the store's green

export function drawAppearance(random: Random, role: Scenario['people'][number]['role'], override: Partial<Appearance> = {}): Appearance {
  return {
    skin: random.pick(SKIN),
    hair: random.pick(HAIR),
    shirt: role === 'staff' ? STAFF_SHIRT : random.pick(SHIRTS),
    trousers: random.pick(TROUSERS),
    shoes: random.pick(SHOES),
    heightM: Math.min(1.98, Math.max(1.5, random.normal(1.71, 0.08))),
    build: random.uniform(0.1, 0.9),
    ...override,
  };
}
