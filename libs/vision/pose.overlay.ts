import type { RgbFrame } from '../video/rgb.frame.ts';

/**
 * Draws poses over a frame so a person can check a model against the truth at a glance: truth in
 * one colour, detections in another, keypoints as dots joined by the COCO skeleton.
 */

/** COCO limbs as keypoint index pairs (0-based). */
export const COCO_SKELETON: ReadonlyArray<readonly [number, number]> = [
  [15, 13], [13, 11], [16, 14], [14, 12], [11, 12], [5, 11], [6, 12], [5, 6], [5, 7], [6, 8], [7, 9], [8, 10],
  [1, 2], [0, 1], [0, 2], [1, 3], [2, 4], [3, 5], [4, 6],
];

export interface OverlayPose {
  /** [x, y, c]: c is a score (drawn when >= minScore) or a COCO visibility (drawn when > 0). */
  keypoints: ReadonlyArray<readonly [number, number, number]>;
  colour: [number, number, number];
  /** Keypoints below this are not drawn. */
  minScore?: number;
  /** Hidden keypoints (c == 1 for truth) are drawn hollow. */
  hollowBelow?: number;
}

export function drawPoses(frame: RgbFrame, poses: OverlayPose[]): RgbFrame {
  const out = { width: frame.width, height: frame.height, data: frame.data.slice() };
  for (const pose of poses) {
    const min = pose.minScore ?? 0.5;
    const shown = (k: number) => pose.keypoints[k][2] >= min;
    for (const [a, b] of COCO_SKELETON)
      if (shown(a) && shown(b)) line(out, pose.keypoints[a][0], pose.keypoints[a][1], pose.keypoints[b][0], pose.keypoints[b][1], pose.colour);
    pose.keypoints.forEach(([x, y, c], k) => {
      if (!shown(k)) return;
      dot(out, x, y, 2, pose.colour, pose.hollowBelow !== undefined && c < pose.hollowBelow);
    });
  }
  return out;
}

function put(f: RgbFrame, x: number, y: number, c: [number, number, number]) {
  const xi = Math.round(x);
  const yi = Math.round(y);
  if (xi < 0 || yi < 0 || xi >= f.width || yi >= f.height) return;
  const i = (yi * f.width + xi) * 3;
  f.data[i] = c[0];
  f.data[i + 1] = c[1];
  f.data[i + 2] = c[2];
}

function line(f: RgbFrame, x0: number, y0: number, x1: number, y1: number, c: [number, number, number]) {
  const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
  for (let s = 0; s <= steps; s++) put(f, x0 + ((x1 - x0) * s) / steps, y0 + ((y1 - y0) * s) / steps, c);
}

function dot(f: RgbFrame, x: number, y: number, r: number, c: [number, number, number], hollow: boolean) {
  for (let dy = -r; dy <= r; dy++)
    for (let dx = -r; dx <= r; dx++) {
      const d2 = dx * dx + dy * dy;
      if (d2 <= r * r && (!hollow || d2 >= (r - 1) * (r - 1))) put(f, x + dx, y + dy, c);
    }
}

/** Outlines [x, y, width, height] boxes, two pixels wide, over a copy of the frame. */
export function drawBoxes(frame: RgbFrame, boxes: ReadonlyArray<readonly number[]>, colour: [number, number, number]): RgbFrame {
  const out = { width: frame.width, height: frame.height, data: frame.data.slice() };
  for (const [x, y, w, h] of boxes)
    for (const inset of [0, 1]) {
      const [x0, y0, x1, y1] = [x + inset, y + inset, x + w - inset, y + h - inset];
      line(out, x0, y0, x1, y0, colour);
      line(out, x1, y0, x1, y1, colour);
      line(out, x1, y1, x0, y1, colour);
      line(out, x0, y1, x0, y0, colour);
    }
  return out;
}
