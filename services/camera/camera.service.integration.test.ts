import assert from 'node:assert/strict';
import test from 'node:test';
import type { CameraPosesDetected } from '../../libs/contracts/index.ts';
import { waitFor } from '../../libs/bus/bus.harness.ts';
import { openRecording } from '../../libs/recording/index.ts';
import { replayRecording } from '../../libs/replay/recording.replay.ts';
import { createDetector } from '../../libs/vision/detector.registry.ts';
import { evaluatePoses } from '../../libs/vision/pose.eval.ts';
import { cameraTestBus, DEMO } from './camera.fixture.ts';
import { createCameraService } from './camera.service.ts';

/** Integration tier: the real MoveNet behind the camera service (about a second a frame on WebAssembly). */
const MOVENET_FRAMES_DEADLINE_MS = 120_000;

test('replayed frames go through the camera service on the bus: MoveNet finds what eval pose finds in the same frames', async () => {
  const recording = await openRecording(DEMO);
  const movenet = await createDetector({ type: 'movenet', inputSize: 640, refine: 'upright' });
  const { bus, poses } = await cameraTestBus();
  // Every 133rd frame of a ceiling and a shelf camera: frames 0, 133, 266 and 399, as eval pose's 4 frames a camera.
  const service = createCameraService({ index: recording.index, bus, detector: movenet, stride: 133 });
  try {
    await service.start();
    const replayed = await replayRecording(recording, bus, { cameras: ['cam-1', 'cam-5'] });
    assert.equal(replayed.frameMessages, 2 * 532, 'every frame of both cameras went on the bus');
    await waitFor(() => poses.length === 8, () => `8 frames of poses (${poses.length} so far)`, MOVENET_FRAMES_DEADLINE_MS);
    await service.stop();
    assert.equal(service.stats().detected, 8);

    const byCamera = new Map<string, CameraPosesDetected[]>();
    const report = await evaluatePoses(recording, {
      detector: movenet,
      cameraIds: ['cam-1', 'cam-5'],
      framesPerCamera: 4,
      onScored: (cameraId, truth, detections) =>
        void byCamera.set(cameraId, [...(byCamera.get(cameraId) ?? []), { frameIndex: truth.frameIndex, poses: detections } as CameraPosesDetected]),
    });
    assert.equal(report.overall.frames, 8);
    for (const [cameraId, expected] of byCamera) {
      const published = poses.filter((p) => p.cameraId === cameraId).sort((a, b) => a.frameIndex - b.frameIndex);
      assert.deepEqual(published.map((p) => p.frameIndex), [0, 133, 266, 399]);
      assert.deepEqual(published.map((p) => p.poses), expected.map((e) => e.poses), `${cameraId}: the service's poses are eval pose's`);
    }
    assert.ok(poses.reduce((n, p) => n + p.poses.length, 0) >= 8, 'people were found, so the comparison is not of empty lists');
    assert.equal(poses[0].model, movenet.model);
  } finally {
    await service.stop();
    movenet.dispose();
    await bus.close();
  }
});
