import assert from 'node:assert/strict';
import test from 'node:test';
import { openRecording } from '../../libs/recording/index.ts';
import { createDetector } from '../../libs/vision/detector.registry.ts';
import { assertServiceDetectsAsEvalPose, DEMO } from './camera.fixture.ts';

/** Integration tier: the real MoveNet behind the camera service (about a second a frame on WebAssembly). */
const MOVENET_FRAMES_DEADLINE_MS = 120_000;

test('replayed frames go through the camera service on the bus: MoveNet finds what eval pose finds in the same frames', async () => {
  const recording = await openRecording(DEMO);
  const movenet = await createDetector({ type: 'movenet', inputSize: 640, refine: 'upright' });
  try {
    const { poses, stats } = await assertServiceDetectsAsEvalPose(recording, { onBus: movenet, inEval: movenet }, MOVENET_FRAMES_DEADLINE_MS);
    assert.equal(stats.detected, 8);
    assert.ok(poses.reduce((n, p) => n + p.poses.length, 0) >= 8, 'people were found, so the comparison is not of empty lists');
    assert.equal(poses[0].model, movenet.model);
  } finally {
    movenet.dispose();
  }
});
