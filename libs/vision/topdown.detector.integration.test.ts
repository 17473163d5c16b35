import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { readImageFile } from '../video/still.read.ts';
import { createDetector } from './detector.registry.ts';
import { objectKeypointSimilarity } from './oks.metric.ts';
import { boxIou } from './pose.detector.ts';

/**
 * The top-down detector with its real models (NanoDet, SinglePose Thunder, converted to ONNX): the
 * COCO skier is one person, boxed where COCO boxes them and posed where COCO's annotators put the
 * keypoints. A wrong box decoding (cell centres, strides, bins) or crop mapping fails both.
 */

const fixture = (p: string) => fileURLToPath(new URL(`../../fixtures/${p}`, import.meta.url));

test('topdown on the COCO photo: one skier, box IoU 0.8 or more with COCO\'s, OKS 0.9 or more', async () => {
  const detector = await createDetector({ type: 'topdown' });
  try {
    const truth = JSON.parse(await readFile(fixture('pose/coco-000000000785.keypoints.json'), 'utf8')).annotations[0];
    const poses = await detector.detect(await readImageFile(fixture('pose/coco-000000000785.jpg')));
    assert.equal(poses.length, 1, `people found: ${poses.map((p) => p.score.toFixed(2))}`);
    const iou = boxIou(poses[0].box, truth.bbox);
    assert.ok(iou >= 0.8, `box IoU ${iou.toFixed(3)}`);
    const keypoints = Array.from({ length: 17 }, (_, k) => truth.keypoints.slice(k * 3, k * 3 + 3) as [number, number, number]);
    const oks = objectKeypointSimilarity(poses[0].keypoints, keypoints, truth.area);
    assert.ok(oks >= 0.9, `OKS ${oks.toFixed(3)}`);
  } finally {
    detector.dispose();
  }
});
