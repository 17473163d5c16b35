import type { FramePoseTruth, Vec3 } from '../contracts/index.ts';
import type { RgbFrame } from '../video/rgb.frame.ts';

/**
 * What the renderer needs to know about a person: where their 17 COCO keypoints are in the store
 * frame, and how they look. The simulator fills these; the renderer builds a figure from them.
 */
export interface Appearance {
  /** Colours as '#rrggbb'. */
  skin: string;
  hair: string;
  shirt: string;
  trousers: string;
  shoes: string;
  /** Standing height, metres: scales head, limb and torso thickness (the keypoints give lengths). */
  heightM: number;
  /** 0 slim .. 1 broad: thickens torso and limbs. */
  build: number;
  /** Short sleeves show the forearms (the default); long sleeves cover them down to the wrist. */
  sleeves?: 'short' | 'long';
}

export interface RenderPerson {
  personId: string;
  /** COCO keypoints in the store frame, metres (order of COCO_KEYPOINTS). */
  keypoints: Vec3[];
  appearance: Appearance;
}

/** Units on each lane, by lane id. Lanes not listed show the planogram's initial stock. */
export type StockByLane = ReadonlyMap<string, number>;

/** One person's ground truth in one frame: 2D keypoints with COCO visibility and the visible box. */
export type PersonPoseTruth = FramePoseTruth['people'][number];

export interface RenderedFrame extends RgbFrame {
  /** People with at least one visible pixel, in the order they were given. */
  people: PersonPoseTruth[];
}
