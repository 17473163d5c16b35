import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import sharp from 'sharp';
import { objectKeypointSimilarity } from '../../libs/vision/oks.metric.ts';
import { repositoryRoot, runWalkout } from './cli.run.ts';

/**
 * `walkout detect` with the real model, as a user runs it: the COCO photo's skier is found where
 * COCO's annotators put them, a frame of the real street video holds its walkers, and the JSON is
 * exactly {"poses": [{score, box, keypoints}]} in the input's pixels.
 */

const COCO_PHOTO = 'fixtures/pose/coco-000000000785.jpg';
const STREET_VIDEO = 'fixtures/video/people-walking.mp4';

function assertPoseShape(pose: Record<string, unknown>, width: number, height: number) {
  assert.deepEqual(Object.keys(pose).sort(), ['box', 'keypoints', 'score']);
  const { score, box, keypoints } = pose as { score: number; box: number[]; keypoints: number[][] };
  assert.ok(score > 0 && score <= 1);
  assert.equal(box.length, 4);
  assert.ok(box[0] >= 0 && box[1] >= 0 && box[0] + box[2] <= width + 1e-6 && box[1] + box[3] <= height + 1e-6, `box ${box} inside ${width}x${height}`);
  assert.equal(keypoints.length, 17);
  for (const keypoint of keypoints) assert.equal(keypoint.length, 3);
}

test('detect on the COCO photo: the skier where COCO puts them (OKS), JSON in image pixels, an overlay of the same size', async () => {
  const truth = JSON.parse(await readFile(path.join(repositoryRoot, 'fixtures/pose/coco-000000000785.keypoints.json'), 'utf8')).annotations[0];
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'walkout-detect-')), 'skier.png');
  const run = await runWalkout(['detect', COCO_PHOTO, '--json', '--out', out]);
  assert.equal(run.code, 0, run.stderr);
  const printed = JSON.parse(run.stdout);
  assert.deepEqual(Object.keys(printed), ['poses']);
  assert.ok(printed.poses.length >= 1, 'the skier is found');
  for (const pose of printed.poses) assertPoseShape(pose, 640, 425);
  const truthKeypoints = Array.from({ length: 17 }, (_, k) => truth.keypoints.slice(k * 3, k * 3 + 3) as [number, number, number]);
  const best = Math.max(...printed.poses.map((p: { keypoints: [number, number, number][] }) => objectKeypointSimilarity(p.keypoints, truthKeypoints, truth.area)));
  // COCO's strict match is 0.75: a pose in the wrong coordinates (normalised, letterboxed) scores near 0.
  assert.ok(best >= 0.75, `best OKS against COCO's annotation ${best.toFixed(3)}`);
  const overlay = await sharp(out).metadata();
  assert.deepEqual([overlay.format, overlay.width, overlay.height], ['png', 640, 425]);
  const original = await sharp(path.join(repositoryRoot, COCO_PHOTO)).raw().toBuffer();
  const drawn = await sharp(out).removeAlpha().raw().toBuffer();
  let changed = 0;
  for (let i = 0; i < drawn.length; i += 3) if (Math.abs(drawn[i] - original[i]) + Math.abs(drawn[i + 1] - original[i + 1]) + Math.abs(drawn[i + 2] - original[i + 2]) > 120) changed++;
  assert.ok(changed > 500, `the overlay draws over the photo (${changed} pixels changed)`);
});

test('detect on a frame of the street video: the four walkers near the camera, each box round a person', async () => {
  const run = await runWalkout(['detect', STREET_VIDEO, '--at', '0.4', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const { poses } = JSON.parse(run.stdout) as { poses: Array<{ score: number; box: number[]; keypoints: number[][] }> };
  for (const pose of poses) assertPoseShape(pose, 960, 540);
  // Walkers seen from behind in the frame at 0.4 s (judged by eye), centres x in pixels of 960.
  for (const centreX of [480, 541, 633, 870]) {
    const found = poses.some(({ box: [x, , w, h] }) => Math.abs(x + w / 2 - centreX) < 40 && h > 100);
    assert.ok(found, `a person about x = ${centreX}`);
  }
  const text = await runWalkout(['detect', STREET_VIDEO, '--at', '0.4']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /people-walking\.mp4 at 0\.400 s \(frame 2\), 960x540: \d+ people/);
});
