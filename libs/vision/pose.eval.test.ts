import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CameraPosesDetected } from '../contracts/index.ts';
import { openRecording } from '../recording/index.ts';
import { evaluatePoses } from './pose.eval.ts';
import type { PoseDetector } from './pose.detector.ts';
import { standInDetector } from './pose.fixture.ts';

const DEMO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo', import.meta.url));

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

test('eval pose says what the reading cost a frame detected: the model passes by kind and their input in kilopixels', async () => {
  const recording = await openRecording(DEMO);
  let frames = 0;
  // A stand-in that reads each frame in one 640x480 pass and every other frame once more at 256x192.
  const counting: PoseDetector = {
    key: 'counting',
    model: 'counting',
    backend: 'none',
    detect: async () => {
      frames++;
      return [];
    },
    passes: () => ({ first: { count: frames, ms: 0, pixels: frames * 640 * 480 }, scout: { count: Math.floor(frames / 2), ms: 0, pixels: Math.floor(frames / 2) * 256 * 192 } }),
    dispose() {},
  };
  const report = await evaluatePoses(recording, { detector: counting, cameraIds: ['cam-1', 'cam-2'], framesPerCamera: 4 });
  assert.equal(frames, 8);
  assert.deepEqual(report.modelInput, { frames: 8, passesAFrame: { first: 1, scout: 0.5 }, kilopixelsAFrame: 307.2 + (4 * 256 * 192) / 8 / 1000 });
  const nobody: PoseDetector = { key: 'nobody', model: 'nobody', backend: 'none', detect: async () => [], dispose() {} };
  assert.equal((await evaluatePoses(recording, { detector: nobody, cameraIds: ['cam-1'], framesPerCamera: 2 })).modelInput, undefined, 'a detector that does not count its passes');
});
