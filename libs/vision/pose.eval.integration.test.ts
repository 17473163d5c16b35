import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { openRecording } from '../recording/index.ts';
import { createDetector } from './detector.registry.ts';
import { evaluatePoses } from './pose.eval.ts';
import type { DetectedPose, PoseDetector, ViewGeometry } from './pose.detector.ts';

/** Integration tier: eval pose with the real MoveNet on the committed recording. */

const DEMO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo', import.meta.url));

test('eval pose on the committed recording: video frames meet their truth, each camera its own view, figures add up', async () => {
  const recording = await openRecording(DEMO);
  const movenet = await createDetector({ type: 'movenet', inputSize: 640, refine: 'upright' });
  // Watch what the detector is given: the frame size, and a view that knows this camera.
  const calls: Array<{ width: number; height: number; up: [number, number] | null }> = [];
  const watched: PoseDetector = {
    key: movenet.key,
    model: movenet.model,
    backend: movenet.backend,
    async detect(frame, view?: ViewGeometry): Promise<DetectedPose[]> {
      calls.push({ width: frame.width, height: frame.height, up: view?.upAt(frame.width - 1, frame.height / 2) ?? null });
      return movenet.detect(frame, view);
    },
    dispose: () => movenet.dispose(),
  };
  const seen: string[] = [];
  try {
    const report = await evaluatePoses(recording, {
      detector: watched,
      framesPerCamera: 2,
      onFrame: (cameraId, frame, truth) => {
        // The truth line scored with a frame is that frame's.
        assert.equal(truth.frameIndex, frame.index);
        seen.push(`${cameraId}/${frame.index}`);
      },
    });
    assert.equal(report.cameras.length, 6);
    assert.equal(report.overall.frames, 12);
    assert.equal(new Set(seen).size, 12);
    assert.equal(report.model, 'movenet-multipose-lightning@640+upright');
    // Every frame came with its camera's view: at the right edge of a wide view (ceiling or shelf) people lean outwards.
    assert.equal(calls.length, 12);
    for (const call of calls) {
      assert.deepEqual([call.width, call.height], [640, 480]);
      assert.ok(call.up && Math.abs(call.up[0]) > 0.2, `up at the right edge: ${call.up}`);
    }
    // The per-camera, per-person and cross-camera figures are counts of the same wrists.
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    assert.equal(sum(report.cameras.map((c) => c.summary.wristsInView.total)), report.overall.wristsInView.total);
    assert.equal(sum(report.wristsByPerson.map((p) => p.total)), report.overall.wristsInView.total);
    assert.equal(sum(report.wristsByPerson.map((p) => p.found)), report.overall.wristsInView.found);
    assert.ok(report.overall.wristsInView.total >= 10, `${report.overall.wristsInView.total} wrists in view`);
    assert.ok(report.multiView && report.multiView.inView <= report.overall.wristsInView.total);
    // MoveNet finds most of the people in the demo's frames (measured: most frames hold 2-5 people).
    assert.ok(report.overall.people.matched >= 0.6 * report.overall.people.truth, `${report.overall.people.matched} of ${report.overall.people.truth} people matched`);
  } finally {
    watched.dispose();
  }
});
