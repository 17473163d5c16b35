import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { indexStore, loadStore, topics, type CameraPosesDetected, type ShelfEventDetected } from '../../libs/contracts/index.ts';
import { createMemoryBus, parseBusConfig } from '../../libs/bus/index.ts';
import { collect, openRecording } from '../../libs/recording/index.ts';
import { replayRecording, type ReplayStats } from '../../libs/replay/recording.replay.ts';
import { scoreShelfEvents } from '../../libs/shelf/shelf.eval.ts';
import { loadScenario } from '../../libs/sim/scenario.load.ts';
import { writeSimulation } from '../../libs/sim/recording.sim.ts';
import { simulate } from '../../libs/sim/store.sim.ts';
import { waitFor } from '../../libs/bus/bus.harness.ts';
import { fannedPose, standInDetector } from '../../libs/vision/pose.fixture.ts';
import { shelfCameraShelves } from '../../libs/vision/shelf.demand.ts';
import { EVIDENCE_AFTER_MS, EVIDENCE_BEFORE_MS } from '../../libs/fusion/hand.evidence.ts';
import { createStore } from './store.service.ts';

const fixture = (p: string) => new URL(`../../fixtures/${p}`, import.meta.url).pathname;

test('a recording replayed onto the bus comes out of the store as the right shelf events', async () => {
  const index = indexStore(await loadStore(fixture('stores/kiosk.json')));
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'walkout-store-')), 'rec');
  await writeSimulation(simulate(await loadScenario(fixture('scenarios/wrong-lane-put-back.json')), index, 4), dir, { seed: 4, quiet: true });
  const recording = await openRecording(dir);

  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory' }) });
  await bus.start();
  const events: ShelfEventDetected[] = [];
  const keys: Array<string | null> = [];
  let gateScans = 0;
  await bus.subscribe({
    group: 'test',
    topics: ['shelf.event-detected', 'gate.qr-scanned'],
    handle: (d) => {
      if (d.topic === 'shelf.event-detected') {
        events.push(d.message as ShelfEventDetected);
        keys.push(d.key);
      } else gateScans++;
    },
  });
  const store = createStore({ index: recording.index, bus });
  await store.start();
  const stats = await replayRecording(recording, bus);
  await store.stop();
  await bus.close();

  assert.equal(gateScans, 2);
  assert.equal(stats.samples, (await collect(recording.loadCellRows(recording.manifest.streams.loadCells[0]))).length * 4 * 8);
  const score = scoreShelfEvents(recording.index, events, await collect(recording.truthActions()));
  assert.equal(score.actions, 4);
  assert.equal(score.f1, 1, JSON.stringify({ missed: score.missed, spurious: score.spurious }));
  // The misplaced energy drink Bob takes from the milk lane is named as what it is.
  const bobsPick = events.find((e) => e.kind === 'pick' && e.laneIds.includes('g1-s3-l2'))!;
  assert.equal(bobsPick.hypotheses[0].productId, 'p-0017');
  assert.deepEqual(keys, events.map((e) => e.shelfId), 'shelf events are keyed by shelf');
  // The store's inventory saw the misplaced item come and go: the milk lane kept all its milk, the
  // energy-drink lane is one short, and nothing is left misplaced.
  const lanes = new Map(store.shelf.inventory().lanes.map((l) => [l.laneId, l]));
  assert.equal(lanes.get('g1-s3-l2')!.stock, index.placementByLane.get('g1-s3-l2')!.initialStock);
  assert.equal(lanes.get('g1-s3-l5')!.stock, index.placementByLane.get('g1-s3-l5')!.initialStock - 1);
  assert.deepEqual(store.shelf.inventory().misplaced, []);
});

test('failing load cells are reported, the store keeps running, and events it cannot trust say so', async () => {
  const index = indexStore(await loadStore(fixture('stores/kiosk.json')));
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'walkout-faulty-')), 'rec');
  await writeSimulation(simulate(await loadScenario(fixture('scenarios/faulty-load-cells.json')), index, 1), dir, { seed: 1, quiet: true });
  const recording = await openRecording(dir);
  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory' }) });
  await bus.start();
  const events: ShelfEventDetected[] = [];
  const health = new Map<string, string>();
  await bus.subscribe({
    group: 'test',
    topics: ['shelf.event-detected', 'device.health-reported'],
    handle: (d) => {
      if (d.topic === 'shelf.event-detected') events.push(d.message as ShelfEventDetected);
      else if (d.topic === 'device.health-reported') health.set(d.message.deviceId, d.message.health);
    },
  });
  const store = createStore({ index: recording.index, bus });
  await store.start();
  await replayRecording(recording, bus);
  await store.stop();
  await bus.close();

  assert.equal(health.get('lc-g1-s2-p2'), 'stuck');
  assert.equal(health.get('lc-g1-s4-p3'), 'dead');
  assert.equal(health.get('lc-g2-s3-p1'), 'noisy');
  const onNoisy = events.find((e) => e.plateIds.includes('g2-s3-p1'));
  assert.ok(onNoisy, 'the pick on the noisy cell is still seen');
  assert.equal(onNoisy.health, 'noisy');
  const healthy = events.filter((e) => e.health === 'ok');
  assert.ok(healthy.length >= 2);
  assert.ok(onNoisy.confidence < Math.min(...healthy.map((e) => e.confidence)), 'an untrusted event is less confident than healthy ones');
  // Picks on a stuck or dead cell cannot be weighed; they must not be invented either.
  assert.ok(!events.some((e) => e.plateIds.includes('g1-s2-p2') && e.kind === 'pick' && e.health === 'ok'));
});

/** The committed demo, and an in-process bus with the shelf events and poses on it collected as they come. */
async function demoWithCameraOutput() {
  const recording = await openRecording(fixture('recordings/kiosk-demo'));
  const bus = createMemoryBus({ topics, config: parseBusConfig({ kind: 'memory' }) });
  await bus.start();
  const events: ShelfEventDetected[] = [];
  const poses: CameraPosesDetected[] = [];
  await bus.subscribe({
    group: 'test',
    topics: ['shelf.event-detected', 'camera.poses-detected'],
    handle: (d) => {
      if (d.topic === 'shelf.event-detected') events.push(d.message as ShelfEventDetected);
      else poses.push(d.message as CameraPosesDetected);
    },
  });
  return { recording, bus, events, poses };
}

test('with a pose detector the store also runs camera perception: the demo replayed with frames comes out as shelf events and poses', async () => {
  const { recording, bus, events, poses } = await demoWithCameraOutput();
  // The wiring is under test, not the model: a stand-in that "sees" one person where the frame's first pixel says.
  const detector = standInDetector('stand-in', (frame) => [fannedPose(100 + frame.data[0], 200)]);
  // Frames 0 and 266 of two cameras: four frames through the detector.
  const store = createStore({ index: recording.index, bus, camera: { detector, stride: 266 } });
  let stats: ReplayStats;
  try {
    await store.start();
    stats = await replayRecording(recording, bus, { cameras: ['cam-3', 'cam-6'] });
    await waitFor(() => poses.length === 4, () => `poses of four frames (${poses.length} so far)`);
  } finally {
    // Stopped once, however the run went: what the shelf stage held is published by the stop.
    await store.stop();
    await bus.close();
  }
  assert.equal(stats.frameMessages, 2 * 532);
  assert.deepEqual(poses.map((p) => `${p.cameraId}/${p.frameIndex}`).sort(), ['cam-3/0', 'cam-3/266', 'cam-6/0', 'cam-6/266']);
  assert.ok(poses.every((p) => p.model === 'stand-in' && p.poses.length === 1), 'what the detector saw is what went out');
  assert.deepEqual(store.camera?.stats().detected, 4);
  assert.equal(detector.calls, 4);
  const score = scoreShelfEvents(recording.index, events, await collect(recording.truthActions()));
  assert.equal(score.f1, 1, 'the shelf stage is as good with the camera stage beside it');
});

test('shelf cameras read on demand through the store: the shelf stage reports activity, and every frame in fusion\'s evidence window round each shelf event a shelf camera looks at is read', async () => {
  const { recording, bus, events, poses } = await demoWithCameraOutput();
  const detector = standInDetector('stand-in', () => [fannedPose(300, 200)]);
  const store = createStore({ index: recording.index, bus, camera: { detector, stride: 2, wholeFrameEvery: 10, shelfOnDemand: {} }, tracking: false });
  const shelfCameras = ['cam-5', 'cam-6'];
  try {
    await store.start();
    await replayRecording(recording, bus, { cameras: shelfCameras });
    await waitFor(() => poses.length === 2 * 266, () => `every frame of the shelf cameras decided (${poses.length} so far)`, 60_000);
  } finally {
    await store.stop();
    await bus.close();
  }
  const watching = shelfCameraShelves(recording.index);
  for (const cameraId of shelfCameras) {
    const ofCamera = poses.filter((p) => p.cameraId === cameraId);
    assert.deepEqual(ofCamera.map((p) => p.frameIndex), Array.from({ length: 266 }, (_, k) => 2 * k), `${cameraId}: every frame the stride keeps, in order`);
    for (const event of events.filter((e) => watching.get(cameraId)!.includes(e.shelfId))) {
      const inWindow = ofCamera.filter((p) => p.ts >= event.startMs - EVIDENCE_BEFORE_MS && p.ts <= event.endMs + EVIDENCE_AFTER_MS);
      assert.ok(inWindow.length > 0 && inWindow.every((p) => !p.passedOver), `${cameraId}: the frames round ${event.shelfEventId} are read`);
    }
  }
  const onDemand = store.camera!.stats().onDemand!;
  assert.equal(onDemand.read + onDemand.passedOver, 2 * 266);
  assert.equal(onDemand.read, detector.calls);
  assert.equal(onDemand.readUnheard, 0, 'every frame was decided by its shelves\' word');
  assert.ok(onDemand.passedOver > 0.25 * 2 * 266, `frames passed over while the shelves rested: ${JSON.stringify(onDemand)}`);
});
