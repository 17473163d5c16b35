import assert from 'node:assert/strict';
import test from 'node:test';
import { waitFor } from '../../libs/bus/bus.harness.ts';
import { ManualClock } from '../../libs/clock/clock.ts';
import { openRecording, type Recording } from '../../libs/recording/index.ts';
import type { DetectedPose } from '../../libs/vision/pose.detector.ts';
import { fannedPose, standInDetector } from '../../libs/vision/pose.fixture.ts';
import { assertServiceDetectsAsEvalPose, cameraTestBus, DEMO, demoFrame } from './camera.fixture.ts';
import { createCameraService } from './camera.service.ts';

/**
 * The camera service around its detector: which frames reach it, with which view, what goes out on
 * the bus, what is refused. The detector is a stand-in; real MoveNet through the service is in
 * camera.service.integration.test.ts.
 */

/**
 * One "person" made of what the detector was given: keypoint x from pixels spread over the frame,
 * y from the camera's up direction at the frame's right edge, so another frame, another camera or
 * a missing view gives other poses.
 */
function readsFrameAndView(model: string) {
  return standInDetector(model, (frame, _call, view): DetectedPose[] => {
    const up = view?.upAt(frame.width - 1, frame.height / 2) ?? [0, 0];
    const keypoints = Array.from({ length: 17 }, (_, k): [number, number, number] => [frame.data[(k * 7919 * 3) % frame.data.length], 100 + 50 * up[0] + k, 0.9]);
    return [{ score: 0.9, box: [0, 0, 10, 10], keypoints }];
  });
}

test('replayed frames go through the camera service on the bus: the detector gets the frames and views eval pose gives it, and its poses go out', async () => {
  const recording = await openRecording(DEMO);
  const { poses, stats, evaluated, report } = await assertServiceDetectsAsEvalPose(recording, {
    onBus: readsFrameAndView('frames-and-views'),
    inEval: readsFrameAndView('frames-and-views'),
  });
  assert.equal(stats.detected, 8);
  assert.equal(stats.skipped, 2 * 532 - 8);
  assert.equal(report.overall.frames, 8);
  // The comparison is of frames and views that differ: a view leans people at the edge, frames differ by camera.
  assert.ok(poses.every((p) => p.poses[0].keypoints[0][1] !== 100), 'every frame came with its camera view');
  assert.notDeepEqual(evaluated.get('cam-1')![0], evaluated.get('cam-5')![0]);
  const first = poses.find((p) => p.cameraId === 'cam-5' && p.frameIndex === 133)!;
  assert.equal(first.model, 'frames-and-views');
  assert.equal(first.storeId, 'kiosk-shelf-cams');
  assert.equal(first.ts, recording.manifest.startMs + 13_300);
});

test('a redelivered frame is not detected twice; frames that cannot be used are dead-lettered with what and where, and later frames still go through', async () => {
  const recording = await openRecording(DEMO);
  // One "person" whose keypoints sit at the frame's first pixel value: different frames, different poses.
  const counting = standInDetector('counting-model', (frame) => [
    { score: 0.9, box: [0, 0, 10, 10], keypoints: Array.from({ length: 17 }, (): [number, number, number] => [frame.data[0], 10, 0.9]) },
  ]);
  const { bus, poses, dead, health } = await cameraTestBus();
  const service = createCameraService({ index: recording.index, bus, detector: counting });
  await service.start();
  const frame = (eventId: string, cameraId: string, index: number, file?: string) => demoFrame(recording, eventId, cameraId, index, file);
  try {
    await bus.publish('camera.frame-captured', frame('f-1', 'cam-2', 10));
    await bus.publish('camera.frame-captured', frame('f-1', 'cam-2', 10));
    await bus.publish('camera.frame-captured', frame('f-2', 'cam-9', 11));
    // A frame naming a file outside its recording is refused by the topic's schema, at the publisher.
    await assert.rejects(
      bus.publish('camera.frame-captured', frame('f-3', 'cam-2', 12, '../../package.json')),
      /does not match its topic schema:\ncamera\.frame-captured at frame\.file: paths stay inside the recording folder/,
    );
    await bus.publish('camera.frame-captured', frame('f-4', 'cam-2', 600));
    await bus.publish('camera.frame-captured', { ...frame('f-6', 'cam-2', 13), storeId: 'convenience' });
    await bus.publish('camera.frame-captured', frame('f-5', 'cam-2', 12));
    await waitFor(() => poses.length === 2 && dead.length === 3, () => `two frames of poses and three dead letters (${poses.length} and ${dead.length})`);
    await service.stop();
    assert.equal(counting.calls, 2);
    assert.deepEqual(poses.map((p) => [p.eventId, p.frameIndex]), [['poses-f-1', 10], ['poses-f-5', 12]]);
    assert.equal(service.stats().redelivered, 1);
    // Dead letters of different cameras (partition keys) need not come in publishing order.
    const reasons = dead.map((d) => `${d.error.code}: ${d.error.message}`).sort();
    assert.match(reasons[0], /^MESSAGE_INVALID: frame f-2 is from camera cam-9, which store kiosk-shelf-cams does not have/);
    assert.match(reasons[1], /^MESSAGE_INVALID: frame f-6 is from store convenience; this camera service serves kiosk-shelf-cams/);
    assert.match(reasons[2], /^RECORDING_INVALID: .*cameras\/cam-2\.mp4 has no frame 600: its last frame is 531/);
    // The unreadable frame made cam-2 dead for the operator; the next frame that read made it ok again.
    await waitFor(() => health.length === 2, () => `two health reports (${health.length})`);
    assert.deepEqual(health.map((h) => [h.deviceId, h.deviceKind, h.health]), [['cam-2', 'camera', 'dead'], ['cam-2', 'camera', 'ok']]);
    assert.match(health[0].detail, /cam-2: frame 600 cannot be read: .*has no frame 600/);
  } finally {
    await service.stop();
    await bus.close();
  }
});

test('live, a camera stage that cannot keep up passes over frames that waited too long and goes on from the present', async () => {
  const recording = await openRecording(DEMO);
  const clock = new ManualClock(recording.manifest.startMs);
  /** How long the detector takes over the first frame, by the clock. */
  const SLOW_DETECT_MS = 600;
  const MAX_LAG_MS = 300;
  // The first frame keeps the detector busy until the test has moved the clock past the limit.
  let finishFirst!: () => void;
  const firstDone = new Promise<void>((resolve) => (finishFirst = resolve));
  const slow = standInDetector('slow-model', async (_frame, call) => {
    if (call === 1) await firstDone;
    return [];
  });
  const { bus, poses } = await cameraTestBus(() => clock.now());
  const service = createCameraService({ index: recording.index, bus, detector: slow, maxLagMs: MAX_LAG_MS, clock });
  await service.start();
  try {
    // Four frames at once: the first is detected; the other three wait behind it, past the limit.
    for (const index of [0, 1, 2, 3]) await bus.publish('camera.frame-captured', demoFrame(recording, `live-${index}`, 'cam-4', index));
    await waitFor(() => slow.calls === 1, 'the detector at work on the first frame');
    await clock.advance(SLOW_DETECT_MS);
    finishFirst();
    await waitFor(() => service.stats().detected + service.stats().late === 4, () => `four frames taken or passed over (${JSON.stringify(service.stats())})`);
    assert.deepEqual({ detected: service.stats().detected, late: service.stats().late }, { detected: 1, late: 3 });
    // A frame that comes once the stage is free again is detected: its wait is within the limit.
    await bus.publish('camera.frame-captured', demoFrame(recording, 'live-4', 'cam-4', 4));
    await waitFor(() => poses.length === 2, 'the next fresh frame');
    await service.stop();
    assert.deepEqual(poses.map((p) => p.frameIndex), [0, 4]);
    assert.deepEqual({ detected: service.stats().detected, late: service.stats().late }, { detected: 2, late: 3 });
  } finally {
    finishFirst();
    await service.stop();
    await bus.close();
  }
});

test('the camera service keeps only so many videos open, closing the one used longest ago', async () => {
  const recording = await openRecording(DEMO);
  const seeing = standInDetector('seeing-model', () => []);
  const { bus, poses } = await cameraTestBus();
  const service = createCameraService({ index: recording.index, bus, detector: seeing, openVideos: 2 });
  const frame = (cameraId: string, index: number) => demoFrame(recording, `open-${cameraId}-${index}`, cameraId, index);
  try {
    for (const cameraId of ['cam-1', 'cam-2', 'cam-3', 'cam-1']) await service.ingestFrame(frame(cameraId, 3));
    assert.equal(service.stats().openVideos, 2);
    assert.equal(service.stats().detected, 3, 'cam-1 frame 3 the second time is a redelivery');
    // cam-1's decoder was closed for cam-3's; its next frame opens it again (and closes cam-2's).
    const again = await service.ingestFrame(frame('cam-1', 4));
    assert.equal(again?.frameIndex, 4);
    assert.deepEqual([service.stats().detected, service.stats().openVideos], [4, 2]);
    await waitFor(() => poses.length === 4, 'the four frames published');
  } finally {
    await service.stop();
    await bus.close();
  }
});

test('with wholeFrameEvery n, each camera\'s frames are read whole once in n, the others round the people of its previous frame', async () => {
  const recording = await openRecording(DEMO);
  const reads: string[] = [];
  // Frame n of a camera shows n people: the hints say how many the previous frame had.
  const following = standInDetector('following-model', (frame, _call, _view, hints) => {
    // People of the previous frame are read in windows (around) or kept as they stood (unchanged).
    reads.push(hints?.around ? `around ${hints.around.length + (hints.unchanged?.length ?? 0)}` : 'whole');
    if (hints?.around) assert.ok(hints.changes, 'the service gives the detector the frame\'s changes outside the windows');
    return Array.from({ length: reads.length }, (_, k) => fannedPose(50 + 60 * k, 100));
  });
  const { bus } = await cameraTestBus();
  const service = createCameraService({ index: recording.index, bus, detector: following, wholeFrameEvery: 3 });
  try {
    for (const index of [0, 1, 2, 3]) await service.ingestFrame(demoFrame(recording, `w-cam-1-${index}`, 'cam-1', index));
    await service.ingestFrame(demoFrame(recording, 'w-cam-2-0', 'cam-2', 0));
    assert.deepEqual(reads, ['whole', 'around 1', 'around 2', 'whole', 'whole']);
  } finally {
    await service.stop();
    await bus.close();
  }
});

test('byKind: shelf cameras read at a stride and whole reads of their own, the ceiling cameras at the service\'s', async () => {
  const recording = await openRecording(DEMO);
  const reads: string[] = [];
  const following = standInDetector('kind-model', (frame, _call, _view, hints) => {
    reads.push(hints?.around ? 'around' : 'whole');
    return [fannedPose(50, 100)];
  });
  const { bus } = await cameraTestBus();
  const service = createCameraService({ index: recording.index, bus, detector: following, stride: 2, wholeFrameEvery: 3, byKind: { shelf: { stride: 4, wholeFrameEvery: 2 } } });
  try {
    const read = async (cameraId: string) => {
      reads.length = 0;
      const published: number[] = [];
      for (let index = 0; index < 12; index++) {
        const detected = await service.ingestFrame(demoFrame(recording, `k-${cameraId}-${index}`, cameraId, index));
        if (detected) published.push(detected.frameIndex);
      }
      return { published, reads: [...reads] };
    };
    // cam-1 is a ceiling camera, cam-5 a shelf camera.
    assert.deepEqual(await read('cam-1'), { published: [0, 2, 4, 6, 8, 10], reads: ['whole', 'around', 'around', 'whole', 'around', 'around'] });
    assert.deepEqual(await read('cam-5'), { published: [0, 4, 8], reads: ['whole', 'around', 'whole'] });
    assert.deepEqual(service.stats().detectedByKind, { ceiling: 6, shelf: 3 });
    assert.equal(service.stats().skipped, 6 + 9);
  } finally {
    await service.stop();
    await bus.close();
  }
});

test('with framesAtOnce n, frames of n cameras are detected at once, each camera\'s in order, tallied by the camera\'s kind', async () => {
  const recording = await openRecording(DEMO);
  for (const framesAtOnce of [1, 2]) {
    /** Detections in flight, each released by the test; the pose's x says which call it was. */
    const inFlight: Array<() => void> = [];
    const tallies: Array<string | undefined> = [];
    let most = 0;
    const held = standInDetector('held-model', async (_frame, call, _view, hints) => {
      tallies.push(hints?.tally);
      await new Promise<void>((release) => {
        inFlight.push(release);
        most = Math.max(most, inFlight.length);
      });
      return [fannedPose(call, 100)];
    });
    const { bus, poses } = await cameraTestBus();
    const service = createCameraService({ index: recording.index, bus, detector: held, framesAtOnce });
    await service.start();
    try {
      // cam-1 and cam-4 are on different partitions of the frame topic; cam-5 is a shelf camera.
      const cameras = ['cam-1', 'cam-4', 'cam-5'];
      for (const index of [0, 1, 2]) for (const cameraId of cameras) await bus.publish('camera.frame-captured', demoFrame(recording, `a-${cameraId}-${index}`, cameraId, index));
      while (poses.length < 9) {
        const waiting = cameras.filter((cameraId) => poses.filter((p) => p.cameraId === cameraId).length < 3).length;
        const expected = Math.min(framesAtOnce, waiting);
        await waitFor(() => inFlight.length === expected, () => `${expected} frames in flight (${inFlight.length})`);
        // The last in first: the other cameras' frames must not wait for it, nor overtake their own.
        inFlight.pop()!();
        const before = poses.length;
        await waitFor(() => poses.length > before, 'the released frame published');
      }
      assert.equal(most, framesAtOnce, 'frames at once at most');
      for (const cameraId of ['cam-1', 'cam-4', 'cam-5']) {
        const ofCamera = poses.filter((p) => p.cameraId === cameraId);
        assert.deepEqual(ofCamera.map((p) => p.frameIndex), [0, 1, 2], `${cameraId}'s poses in frame order`);
        const calls = ofCamera.map((p) => p.poses[0].keypoints[0][0]);
        assert.deepEqual([...calls].sort((a, b) => a - b), calls, `${cameraId}'s frames detected in order`);
      }
      assert.deepEqual(service.stats().detectedByKind, { ceiling: 6, shelf: 3 });
      assert.deepEqual([...new Set(tallies)].sort(), ['ceiling', 'shelf']);
    } finally {
      await service.stop();
      await bus.close();
    }
  }
});

/** The shelves cam-5 looks at (libs/vision/shelf.demand.test.ts); g2-s1 is the one picked from below. */
const CAM5_SHELVES = ['g1-s2', 'g1-s3', 'g1-s4', 'g2-s1', 'g2-s2', 'g2-s3', 'g2-s4'];

/** A shelf's activity as the shelf stage reports it, `atMs` and `sinceMs` from the recording's start. */
function publishActivity(bus: Awaited<ReturnType<typeof cameraTestBus>>['bus'], recording: Recording, shelfId: string, atMs: number, state: 'active' | 'at-rest', sinceMs: number) {
  const t0 = recording.manifest.startMs;
  return bus.publish('shelf.activity-reported', { schemaVersion: 1, eventId: `a-${shelfId}-${atMs}`, storeId: recording.manifest.storeId, ts: t0 + atMs, shelfId, state, since: t0 + sinceMs });
}

test('shelfOnDemand: a shelf camera\'s frames wait for their shelves\' word, are read from the pre-roll before a shelf is active to the tail after, passed over otherwise, in order', async () => {
  const recording = await openRecording(DEMO);
  const t0 = recording.manifest.startMs;
  const clock = new ManualClock(t0);
  /** Whether each detection was a whole read (no windows round people before). */
  const whole: boolean[] = [];
  const oneDetector = standInDetector('one-person', (_frame, _call, _view, hints) => {
    whole.push(!hints?.around);
    return [fannedPose(300, 200)];
  });
  const { bus, poses } = await cameraTestBus(() => clock.now());
  const WAIT_MS = 5_000;
  const service = createCameraService({
    index: recording.index,
    bus,
    detector: oneDetector,
    stride: 2,
    wholeFrameEvery: 10,
    clock,
    shelfOnDemand: { preRollMs: 1_000, tailMs: 400, waitMs: WAIT_MS },
  });
  const reportAll = async (atMs: number, active?: { shelfId: string; state: 'active' | 'at-rest'; sinceMs: number }) => {
    for (const shelfId of CAM5_SHELVES)
      if (shelfId === active?.shelfId) await publishActivity(bus, recording, shelfId, atMs, active.state, active.sinceMs);
      else await publishActivity(bus, recording, shelfId, atMs, 'at-rest', 0);
  };
  const frames = async (from: number, to: number) => {
    for (let index = from; index <= to; index += 2) await bus.publish('camera.frame-captured', demoFrame(recording, `od-${index}`, 'cam-5', index));
  };
  const onDemand = () => service.stats().onDemand!;
  await service.start();
  try {
    await reportAll(0);
    await frames(0, 20);
    // Judged up to 0 s only: every frame (0 to 2 s) waits, decoded, for the shelves' word.
    await waitFor(() => onDemand().waiting === 11, () => `11 frames waiting (${JSON.stringify(onDemand())})`);
    assert.equal(poses.length, 0);
    await reportAll(1_500);
    await waitFor(() => poses.length === 3, () => `the frames up to 0.5 s passed over (${poses.length})`);
    // g2-s1 becomes active at 2.5 s: the waiting frames from 1.5 s on are its pre-roll, and are read.
    await reportAll(2_500, { shelfId: 'g2-s1', state: 'active', sinceMs: 2_500 });
    await waitFor(() => poses.length === 11, () => `every waiting frame decided (${poses.length})`);
    assert.deepEqual(poses.filter((p) => p.passedOver).map((p) => p.frameIndex), [0, 2, 4, 6, 8, 10, 12, 14]);
    assert.deepEqual(poses.filter((p) => !p.passedOver).map((p) => p.frameIndex), [16, 18, 20]);
    assert.ok(poses.every((p) => (p.passedOver ? p.poses.length === 0 : p.poses.length === 1)));
    // While it is active, frames are read as they come; it comes to rest at 3.2 s, and the tail reads 0.4 s more.
    await frames(22, 30);
    await reportAll(3_200, { shelfId: 'g2-s1', state: 'at-rest', sinceMs: 3_200 });
    await frames(32, 40);
    await waitFor(() => poses.length === 19 && onDemand().waiting === 2, () => `frames to 3.6 s read, 3.8 and 4.0 s waiting (${poses.length}, ${JSON.stringify(onDemand())})`);
    // The shelves' word on 3.8 s and 4.0 s does not come: past waitMs those frames are read anyway.
    await clock.advance(WAIT_MS);
    await waitFor(() => poses.length === 21, () => `the frames that waited too long read (${poses.length})`);
    assert.deepEqual(poses.map((p) => p.frameIndex), Array.from({ length: 21 }, (_, k) => 2 * k), 'published in frame order');
    assert.deepEqual(onDemand(), { read: 13, passedOver: 8, readUnheard: 2, waiting: 0 });
    assert.equal(oneDetector.calls, 13);
    // The first frame read after frames passed over is read whole; the next ones in windows round the person.
    assert.deepEqual(whole.slice(0, 3), [true, false, false]);
    assert.deepEqual(service.stats().detectedByKind, { shelf: 13 });
  } finally {
    await service.stop();
    await bus.close();
  }
});

test('shelfOnDemand leaves ceiling cameras as they are: every frame the stride keeps is read at once', async () => {
  const recording = await openRecording(DEMO);
  const { bus, poses } = await cameraTestBus();
  const service = createCameraService({ index: recording.index, bus, detector: standInDetector('none', () => []), stride: 2, shelfOnDemand: {} });
  await service.start();
  try {
    for (let index = 0; index <= 8; index++) await bus.publish('camera.frame-captured', demoFrame(recording, `c-${index}`, 'cam-1', index));
    await waitFor(() => poses.length === 5, () => `five frames of cam-1 (${poses.length})`);
    assert.ok(poses.every((p) => !p.passedOver));
    assert.deepEqual(service.stats().onDemand, { read: 0, passedOver: 0, readUnheard: 0, waiting: 0 });
  } finally {
    await service.stop();
    await bus.close();
  }
});

test('shelfOnDemand, commit after output: a service stopped while frames wait for their shelves leaves them and the shelf reports they need uncommitted; the next one decides them the same way', async () => {
  const recording = await openRecording(DEMO);
  const t0 = recording.manifest.startMs;
  const { bus, poses } = await cameraTestBus();
  const detector = standInDetector('one-person', () => [fannedPose(300, 200)]);
  const service = () => createCameraService({ index: recording.index, bus, detector, stride: 2, wholeFrameEvery: 10, clock: new ManualClock(t0), shelfOnDemand: { preRollMs: 1_000, tailMs: 400 } });
  const report = (shelfId: string, atMs: number, state: 'active' | 'at-rest', sinceMs: number) => publishActivity(bus, recording, shelfId, atMs, state, sinceMs);
  const first = service();
  await first.start();
  try {
    for (const shelfId of CAM5_SHELVES) await report(shelfId, 0, 'at-rest', 0);
    // g2-s1 becomes active at 2 s: the frames from 1 s on are to be read, but wait behind the earlier ones.
    await report('g2-s1', 2_000, 'active', 2_000);
    for (let index = 0; index <= 20; index += 2) await bus.publish('camera.frame-captured', demoFrame(recording, `cr-${index}`, 'cam-5', index));
    await waitFor(() => first.stats().onDemand!.waiting === 11, () => `11 frames waiting (${JSON.stringify(first.stats().onDemand)})`);
    await first.stop();
    assert.equal(poses.length, 0);
    const next = service();
    await next.start();
    try {
      // The next service gets the waiting frames and the shelves' reports again, g2-s1's activity
      // included: the later word (at rest since 2.6 s) decides the frames as the first would have.
      await waitFor(() => next.stats().onDemand!.waiting === 11, () => `the 11 frames waiting again (${JSON.stringify(next.stats().onDemand)})`);
      for (const shelfId of CAM5_SHELVES) await report(shelfId, 3_000, 'at-rest', shelfId === 'g2-s1' ? 2_600 : 0);
      await waitFor(() => poses.length === 11, () => `every frame decided (${poses.length})`);
      assert.deepEqual(poses.filter((p) => p.passedOver).map((p) => p.frameIndex), [0, 2, 4, 6, 8]);
      assert.deepEqual(poses.filter((p) => !p.passedOver).map((p) => p.frameIndex), [10, 12, 14, 16, 18, 20]);
      assert.equal(detector.calls, 6);
    } finally {
      await next.stop();
    }
  } finally {
    await first.stop();
    await bus.close();
  }
});
