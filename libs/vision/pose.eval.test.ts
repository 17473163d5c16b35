import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CameraPosesDetected } from '../contracts/index.ts';
import { openRecording } from '../recording/index.ts';
import { createDetector } from './detector.registry.ts';
import { evaluatePoses } from './pose.eval.ts';
import type { DetectedPose, PoseDetector, ViewGeometry } from './pose.detector.ts';
import { standInDetector } from './pose.fixture.ts';

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

test('eval pose on saved detections scores them as the run that saved them did, without video or model', async () => {
  const recording = await openRecording(DEMO);
  // A stand-in model that finds one person who moves from call to call, so frames differ.
  const fake = standInDetector('fake-model', (_frame, call) => {
    const keypoints = Array.from({ length: 17 }, (_, k): [number, number, number] => [100 + k * 10 + (call % 7) * 20, 80 + k * 15, 0.9]);
    return [{ score: 0.8, box: [90, 70, 200, 300], keypoints }];
  });
  const events: CameraPosesDetected[] = [];
  const live = await evaluatePoses(recording, {
    detector: fake,
    framesPerCamera: 3,
    onScored: (cameraId, truth, detections) =>
      void events.push({ schemaVersion: 1, eventId: `${cameraId}/${truth.frameIndex}`, storeId: 'kiosk', ts: truth.ts, cameraId, frameIndex: truth.frameIndex, model: fake.model, poses: detections }),
  });
  assert.equal(fake.calls, 18);
  assert.equal(events.length, 18);
  // Not an empty comparison: the stand-in's person was seen in every frame (matched to nobody: it
  // stands where no one is, so every wrist in view is a miss the saved run must count the same way).
  assert.equal(live.overall.people.detections, 18);
  assert.ok(live.overall.wristsInView.total > 0 && live.overall.wristMisses['person-not-found'] === live.overall.wristsInView.total);
  const byCamera = new Map<string, CameraPosesDetected[]>();
  for (const e of events) byCamera.set(e.cameraId, [...(byCamera.get(e.cameraId) ?? []), e]);
  const again = await evaluatePoses(recording, { saved: { model: 'fake-model', byCamera }, framesPerCamera: Infinity });
  assert.equal(fake.calls, 18, 'the model is not run again');
  assert.deepEqual(again.overall, live.overall);
  // Asking for the run's own 3 frames a camera picks exactly the saved ones; asking for 1, only the first.
  assert.deepEqual((await evaluatePoses(recording, { saved: { model: 'fake-model', byCamera }, framesPerCamera: 3 })).overall, live.overall);
  const first = await evaluatePoses(recording, { saved: { model: 'fake-model', byCamera }, framesPerCamera: 1 });
  assert.deepEqual(first.cameras.map((c) => c.summary.frames), live.cameras.map(() => 1));
  assert.deepEqual(again.wristsByPerson, live.wristsByPerson);
  assert.deepEqual(again.multiView, live.multiView);
  assert.deepEqual(again.cameras.map((c) => c.summary), live.cameras.map((c) => c.summary));
  assert.equal(again.model, 'fake-model');
  await assert.rejects(evaluatePoses(recording, { framesPerCamera: 1 }), /needs a detector or saved detections/);
});

test('eval pose with every frame (framesPerCamera Infinity) scores each frame of the camera once, in order, at its own rate', async () => {
  const recording = await openRecording(DEMO);
  const nobody: PoseDetector = { key: 'nobody', model: 'nobody', backend: 'none', detect: async () => [], dispose() {} };
  const indices: number[] = [];
  const report = await evaluatePoses(recording, {
    detector: nobody,
    cameraIds: ['cam-2'],
    framesPerCamera: Infinity,
    onFrame: (_cameraId, frame, truth) => {
      assert.equal(truth.frameIndex, frame.index);
      indices.push(frame.index);
    },
  });
  const stream = recording.manifest.streams.cameras.find((c) => c.cameraId === 'cam-2')!;
  assert.deepEqual(indices, Array.from({ length: stream.frameCount }, (_, i) => i));
  assert.equal(report.overall.frames, stream.frameCount);
});
