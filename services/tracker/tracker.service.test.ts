import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { topics, type DeviceHealthReported, type PeopleTracked } from '../../libs/contracts/index.ts';
import { createMemoryBus, parseBusConfig, type Bus } from '../../libs/bus/index.ts';
import { recordingLogger, waitFor } from '../../libs/bus/bus.harness.ts';
import { ManualClock } from '../../libs/clock/clock.ts';
import { openRecording } from '../../libs/recording/index.ts';
import { scoreTracks } from '../../libs/tracking/tracks.eval.ts';
import { perfectPoseEvents } from '../../libs/tracking/perfect-detector.sim.ts';
import { createTrackerService } from './tracker.service.ts';

const DEMO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo', import.meta.url));

/** An in-process bus, and every `tracking.people-tracked` message (and camera health report) on it as it comes. */
async function trackedBus() {
  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory', retry: { initialBackoffMs: 1, maxBackoffMs: 1 } }) });
  await bus.start();
  const tracked: PeopleTracked[] = [];
  const health: DeviceHealthReported[] = [];
  await bus.subscribe({
    group: 'test',
    topics: ['tracking.people-tracked', 'device.health-reported'],
    handle: (d) => {
      if (d.topic === 'tracking.people-tracked') tracked.push(d.message as PeopleTracked);
      else health.push(d.message as DeviceHealthReported);
    },
  });
  return { bus, tracked, health };
}

/** Each instant's message once, after dedupe by id, in time order. */
const once = (tracked: PeopleTracked[]) => [...new Map(tracked.map((message) => [message.eventId, message])).values()].sort((a, b) => a.ts - b.ts);

test("the tracker service turns every camera's poses into people in 3D on stable tracks, an instant at a time, a second behind", async () => {
  const recording = await openRecording(DEMO);
  // The first 20 s at 5 frames a second: the demo's first shoppers walk in, pick and pass each other.
  const events = await perfectPoseEvents(recording, 200, 2);
  const { bus, tracked } = await trackedBus();
  const service = createTrackerService({ index: recording.index, bus, clock: new ManualClock(0) });
  await service.start();
  for (const event of events) await bus.publish('camera.poses-detected', event);
  // Redelivered poses change nothing.
  await bus.publish('camera.poses-detected', events[events.length - 1]);
  await waitFor(() => service.stats().poses + service.stats().redelivered >= events.length + 1, () => `every pose event taken: ${JSON.stringify(service.stats())}`, 60_000);
  // A second behind: the last second's instants are held until more poses come, or until the end.
  assert.ok(service.stats().published <= service.stats().instants - 4, JSON.stringify(service.stats()));
  await service.flush();
  await service.stop();
  await waitFor(() => tracked.length >= service.stats().published, 'everything published to come out');
  await bus.close();

  const stats = service.stats();
  assert.equal(stats.redelivered, 1);
  assert.equal(stats.late, 0);
  assert.equal(tracked.length, 100, 'one message an instant');
  assert.equal(stats.tracks, new Set(tracked.flatMap((t) => t.people.map((p) => p.trackId))).size, 'each track id handed out counted once');
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
  const clock = new ManualClock(0);
  const service = createTrackerService({ index: recording.index, bus, clock, idleMs: 300, lagMs: 0 });
  try {
    // cam-6 goes quiet after its first frame; the rest report 6 s.
    const quiet = events.filter((e) => e.cameraId !== 'cam-6' || e.frameIndex === 0);
    for (const event of quiet.slice(0, -1)) await service.ingestPoses(event);
    assert.ok(service.stats().instants <= 1, `cam-6 holds the rest back at first: ${service.stats().instants} fused`);
    await clock.advance(400);
    await service.ingestPoses(quiet[quiet.length - 1]);
    assert.ok(service.stats().instants >= 28, `once cam-6 has been silent 0.3 s, the others' instants go: ${service.stats().instants} fused`);
    // cam-6's poses of an instant already fused come too late to count.
    await service.ingestPoses(events.find((e) => e.cameraId === 'cam-6' && e.frameIndex === 20)!);
    assert.equal(service.stats().late, 1);
    // Poses of a camera the store does not have are refused, saying whose.
    await assert.rejects(service.ingestPoses({ ...quiet[0], eventId: 'stray', cameraId: 'cam-9' }), /poses stray are from camera cam-9 of store kiosk-shelf-cams; this tracker follows the cameras of kiosk-shelf-cams/);
    await service.flush();
    assert.equal(service.stats().published, 30);
    await waitFor(() => tracked.length >= 30, () => `30 instants out, have ${tracked.length}`);
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
  const clock = new ManualClock(0);
  const service = createTrackerService({ index: recording.index, bus, clock, idleMs: Infinity });
  try {
    for (const event of byCamera.slice(0, 30)) await service.ingestPoses(event);
    await clock.advance(60_000);
    await service.ingestPoses(byCamera[29]);
    assert.equal(service.stats().instants, 0, "cam-1's 6 s alone fuse nothing, however long the others take");
    for (const event of byCamera.slice(30)) await service.ingestPoses(event);
    await service.flush();
    assert.deepEqual({ instants: service.stats().instants, late: service.stats().late, published: service.stats().published }, { instants: 30, late: 0, published: 30 });
  } finally {
    await bus.close();
  }
});

test('a publish that fails is tried again, not taken for a redelivery: every instant comes out once', async () => {
  const recording = await openRecording(DEMO);
  const events = await perfectPoseEvents(recording, 40, 2);
  const { bus, tracked } = await trackedBus();
  const logger = recordingLogger();
  let refused = 0;
  let calls = 0;
  // The broker refuses the fifth and the sixth instant once each (calls 5 and 7; 6 and 8 are their retries).
  const flaky: Pick<Bus<typeof topics>, 'publish' | 'subscribe'> = {
    subscribe: (options) => bus.subscribe(options),
    publish: (topic, message) => {
      if (topic === 'tracking.people-tracked' && [5, 7].includes(++calls)) {
        refused++;
        return Promise.reject(new Error('broker unavailable'));
      }
      return bus.publish(topic, message);
    },
  };
  const service = createTrackerService({ index: recording.index, bus: flaky, clock: new ManualClock(0), logger, lagMs: 0 });
  try {
    await service.start();
    for (const event of events) await bus.publish('camera.poses-detected', event);
    await waitFor(() => service.stats().poses >= events.length, () => `every pose taken: ${JSON.stringify(service.stats())}`, 60_000);
    await service.flush();
    await waitFor(() => tracked.length >= 20, () => `20 instants, have ${tracked.length}`);
    assert.equal(refused, 2);
    assert.equal(service.stats().publishFailures, 2);
    assert.equal(logger.lines.filter((line) => line.level === 'error').length, 2);
    assert.equal(tracked.length, 20, 'each instant once');
    assert.equal(once(tracked).length, 20, 'none missing');
  } finally {
    await service.stop();
    await bus.close();
  }
});

test('a camera that never reports, with idleMs Infinity: instants held back are bounded, the camera is reported offline', async () => {
  const recording = await openRecording(DEMO);
  const events = (await perfectPoseEvents(recording, 100, 2)).filter((e) => e.cameraId !== 'cam-6');
  const { bus, tracked, health } = await trackedBus();
  const logger = recordingLogger();
  const service = createTrackerService({ index: recording.index, bus, clock: new ManualClock(0), logger, idleMs: Infinity, lagMs: 0, maxPendingInstants: 10 });
  try {
    let most = 0;
    for (const event of events) {
      await service.ingestPoses(event);
      most = Math.max(most, service.stats().pending);
    }
    assert.ok(most <= 10, `at most 10 instants waited, saw ${most}`);
    assert.ok(service.stats().published >= 35, `the instants went on without cam-6: ${service.stats().published} published`);
    assert.equal(service.stats().silentCameras, 1);
    await waitFor(() => health.length >= 1, 'the report');
    assert.deepEqual(
      health.map((report) => [report.deviceId, report.deviceKind, report.health]),
      [['cam-6', 'camera', 'offline']],
    );
    assert.match(health[0].detail!, /cam-6 sent no poses at all/);
    assert.ok(logger.lines.some((line) => line.level === 'warn' && line.fields.cameraId === 'cam-6'), 'and a log line says so');
    assert.ok(tracked.length > 0);
  } finally {
    await bus.close();
  }
});

test('a tracker stopped midway (as by a crash) leaves the poses of unpublished instants uncommitted: the next one publishes every instant', async () => {
  const recording = await openRecording(DEMO);
  const events = await perfectPoseEvents(recording, 160, 2);
  const { bus, tracked } = await trackedBus();
  const first = createTrackerService({ index: recording.index, bus, clock: new ManualClock(0) });
  await first.start();
  const half = events.findIndex((e) => e.frameIndex >= 80);
  for (const event of events.slice(0, half)) await bus.publish('camera.poses-detected', event);
  await waitFor(() => first.stats().poses >= half, () => `the first half taken: ${JSON.stringify(first.stats())}`, 60_000);
  assert.ok(first.stats().published > 0 && first.stats().held > 0, JSON.stringify(first.stats()));
  await first.stop();

  const second = createTrackerService({ index: recording.index, bus, clock: new ManualClock(0) });
  await second.start();
  for (const event of events.slice(half)) await bus.publish('camera.poses-detected', event);
  await waitFor(() => second.stats().poses >= events.length - half, () => `the rest taken: ${JSON.stringify(second.stats())}`, 60_000);
  await second.flush();
  await second.stop();
  await waitFor(() => once(tracked).length >= 80, () => `80 instants, have ${once(tracked).length}`);
  await bus.close();
  assert.ok(second.stats().poses < events.length, `the second started from what was held, not the beginning: ${second.stats().poses}`);
  assert.deepEqual(
    once(tracked).map((message) => message.ts),
    [...new Set(events.map((e) => e.ts))].sort((a, b) => a - b).filter((ts, i, all) => i === 0 || ts - all[i - 1] > 50),
    'every instant once after dedupe by id',
  );
});

test('a frame passed over (a shelf camera read on demand) adds no view but lets instants go on: the camera has passed them', async () => {
  const recording = await openRecording(DEMO);
  const events = await perfectPoseEvents(recording, 20, 2);
  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory' }) });
  await bus.start();
  const service = createTrackerService({ index: recording.index, bus, clock: new ManualClock(0), idleMs: Infinity });
  /** cam-5's frames from the 6th on are passed over, and one of them is still to come. */
  const passed = (event: (typeof events)[number]) => event.cameraId === 'cam-5' && event.ts >= events[0].ts + 1_000;
  const instantsBefore = new Set(events.map((e) => e.ts)).size;
  try {
    for (const event of events) {
      if (passed(event) && event.ts === events.at(-1)!.ts) continue;
      await service.ingestPoses(passed(event) ? { ...event, poses: [], passedOver: true } : event);
    }
    const held = service.stats();
    // cam-5's last frame (passed over or not) has not come: the last instant waits for it; an instant
    // every camera reported or passed over is fused at once.
    assert.equal(held.instants, instantsBefore - 1, JSON.stringify(held));
    const last = events.findLast((event) => event.cameraId === 'cam-5')!;
    await service.ingestPoses({ ...last, poses: [], passedOver: true });
    await service.flush();
    assert.deepEqual({ instants: service.stats().instants, late: service.stats().late }, { instants: instantsBefore, late: 0 });
  } finally {
    await bus.close();
  }
});
