import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { SCHEMA_VERSION, topics, type CameraPosesDetected, type PeopleTracked } from '../../libs/contracts/index.ts';
import { createMemoryBus, parseBusConfig } from '../../libs/bus/index.ts';
import { openRecording, type Recording } from '../../libs/recording/index.ts';
import { scoreTracks } from '../../libs/tracking/tracks.eval.ts';
import { keypointBox } from '../../libs/vision/pose.detector.ts';
import { createTrackerService } from './tracker.service.ts';

const DEMO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo', import.meta.url));

/** What a perfect detector would publish for the first `frames` frames (every `every`-th) of every camera, in time order. */
async function perfectPoseEvents(recording: Recording, frames: number, every: number): Promise<CameraPosesDetected[]> {
  const events: CameraPosesDetected[] = [];
  for (const stream of recording.manifest.streams.cameras)
    for await (const line of recording.truthPoses(stream.cameraId)) {
      if (line.frameIndex >= frames) break;
      if (line.frameIndex % every) continue;
      // People with no keypoint in the image are nobody a detector could report.
      const poses = line.people
        .map((p) => p.keypoints.map(([x, y, v]): [number, number, number] => [x, y, v > 0 ? 0.9 : 0]))
        .filter((keypoints) => keypoints.some((k) => k[2] > 0))
        .map((keypoints) => ({ score: 0.8, box: keypointBox(keypoints.filter((k) => k[2] > 0)), keypoints }));
      events.push({ schemaVersion: SCHEMA_VERSION, eventId: `p-${stream.cameraId}-${line.frameIndex}`, storeId: recording.manifest.storeId, ts: line.ts, cameraId: stream.cameraId, frameIndex: line.frameIndex, model: 'truth', poses });
    }
  return events.sort((a, b) => a.ts - b.ts || a.cameraId.localeCompare(b.cameraId));
}

/** An in-process bus, and every `tracking.people-tracked` message on it as it comes. */
async function trackedBus() {
  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory' }) });
  await bus.start();
  const tracked: PeopleTracked[] = [];
  await bus.subscribe({ group: 'test', topics: ['tracking.people-tracked'], handle: (d) => void tracked.push(d.message as PeopleTracked) });
  return { bus, tracked };
}

test("the tracker service turns every camera's poses into people in 3D on stable tracks, an instant at a time, a second behind", async () => {
  const recording = await openRecording(DEMO);
  // The first 20 s at 5 frames a second: the demo's first shoppers walk in, pick and pass each other.
  const events = await perfectPoseEvents(recording, 200, 2);
  const { bus, tracked } = await trackedBus();
  const service = createTrackerService({ index: recording.index, bus });
  await service.start();
  for (const event of events) await bus.publish('camera.poses-detected', event);
  // Redelivered poses change nothing.
  await bus.publish('camera.poses-detected', events[events.length - 1]);
  const deadline = Date.now() + 30_000;
  while (service.stats().instants < 99 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  // A second behind: the last second's instants are held until more poses come, or until the end.
  assert.ok(service.stats().published <= service.stats().instants - 4, JSON.stringify(service.stats()));
  await service.stop();
  for (const until = Date.now() + 10_000; tracked.length < service.stats().published && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 20));
  await bus.close();

  const stats = service.stats();
  assert.equal(stats.redelivered, 1);
  assert.equal(stats.late, 0);
  assert.equal(tracked.length, 100, 'one message an instant');
  assert.ok(tracked.every((t, i) => i === 0 || tracked[i - 1].ts < t.ts), 'in time order');

  // Against the 3D truth: everyone found, wrists where they are (on the right side), one person a track.
  const score = await scoreTracks(recording, tracked);
  assert.ok(score.people.found >= 0.9 * score.people.total, JSON.stringify(score.people));
  assert.ok(score.people.found > 150, `${score.people.found} people tracked`);
  assert.ok(score.wrists.found >= 0.95 * score.wrists.total, `wrists within 11 cm: ${JSON.stringify(score.wrists)}`);
  assert.ok(score.purity! >= 0.99, `a track is one person: ${score.purity}`);
  assert.ok(score.continuity! >= 0.9, `a person is one track: ${score.continuity}`);
  assert.ok(score.tracks >= 3 && score.tracks <= 12, `${score.tracks} tracks`);
});

test('a camera that stops reporting holds instants back only until it has been silent for idleMs; its late poses are left out', async () => {
  const recording = await openRecording(DEMO);
  const events = await perfectPoseEvents(recording, 60, 2);
  const { bus, tracked } = await trackedBus();
  const service = createTrackerService({ index: recording.index, bus, idleMs: 300, lagMs: 0 });
  try {
    // cam-6 goes quiet after its first frame; the rest report 6 s.
    const quiet = events.filter((e) => e.cameraId !== 'cam-6' || e.frameIndex === 0);
    for (const event of quiet.slice(0, -1)) await service.ingestPoses(event);
    assert.ok(service.stats().instants <= 1, `cam-6 holds the rest back at first: ${service.stats().instants} fused`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await service.ingestPoses(quiet[quiet.length - 1]);
    assert.ok(service.stats().instants >= 28, `once cam-6 has been silent 0.3 s, the others' instants go: ${service.stats().instants} fused`);
    // cam-6's poses of an instant already fused come too late to count.
    await service.ingestPoses(events.find((e) => e.cameraId === 'cam-6' && e.frameIndex === 20)!);
    assert.equal(service.stats().late, 1);
    // Poses of a camera the store does not have are refused, saying whose.
    await assert.rejects(service.ingestPoses({ ...quiet[0], eventId: 'stray', cameraId: 'cam-9' }), /poses stray are from camera cam-9 of store kiosk-shelf-cams; this tracker follows the cameras of kiosk-shelf-cams/);
    await service.flush();
    assert.equal(service.stats().published, 30);
    for (const deadline = Date.now() + 10_000; tracked.length < 30 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(tracked.length, 30);
    assert.ok(tracked.slice(1).every((t) => t.people.every((p) => !p.cameras.includes('cam-6'))), 'no one seen by the silent camera');
  } finally {
    await bus.close();
  }
});

test("replayed through a slow camera stage, one camera's whole backlog may come before the next: with idleMs Infinity every instant waits for every camera", async () => {
  const recording = await openRecording(DEMO);
  const events = await perfectPoseEvents(recording, 60, 2);
  const byCamera = [...events].sort((a, b) => a.cameraId.localeCompare(b.cameraId) || a.ts - b.ts);
  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory' }) });
  await bus.start();
  const service = createTrackerService({ index: recording.index, bus, idleMs: Infinity });
  try {
    for (const event of byCamera.slice(0, 30)) await service.ingestPoses(event);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await service.ingestPoses(byCamera[29]);
    assert.equal(service.stats().instants, 0, "cam-1's 6 s alone fuse nothing, however long the others take");
    for (const event of byCamera.slice(30)) await service.ingestPoses(event);
    await service.flush();
    assert.deepEqual({ instants: service.stats().instants, late: service.stats().late, published: service.stats().published }, { instants: 30, late: 0, published: 30 });
  } finally {
    await bus.close();
  }
});
