import assert from 'node:assert/strict';
import test from 'node:test';
import { indexStore, loadStore, type FramePoseTruth } from '../contracts/index.ts';
import { openRecording } from '../recording/index.ts';
import { createCameraRenderer } from '../render/scene.renderer.ts';
import { readVideoFrames, type DecodedFrame } from '../video/mp4.reader.ts';
import { framePoseTruth, frameTime, peopleAt, stockAt } from './recording.sim.ts';
import { loadScenario } from './scenario.load.ts';
import { simulate } from './store.sim.ts';

const fixture = (p: string) => new URL(`../../fixtures/${p}`, import.meta.url).pathname;

/**
 * H.264 at CRF 20 moves most values of a rendered frame by a level or two, and few by more than
 * FAR_LEVELS (measured on the frames checked here: at most 0.13 % of them); the same frames drawn
 * without their people differ in 1.1 % to 22 % of them.
 */
const FAR_LEVELS = 24;
const MAX_FAR_SHARE = 0.003;

// The other half of "the committed demo is what the simulator makes today" (store.sim.test.ts checks
// the streams and truth that need no renderer): a few frames of every camera, drawn again now.
test('the committed demo frames and their 2D pose truth are what the renderer draws today (re-run `walkout sim` on kiosk-demo after a change)', async () => {
  const demo = await loadScenario(fixture('scenarios/kiosk-demo.json'));
  const index = indexStore(await loadStore(fixture(`stores/${demo.store}.json`)));
  const sim = simulate(demo, index, 1);
  const recording = await openRecording(fixture('recordings/kiosk-demo'));
  let peopleCompared = 0;
  for (const camera of index.store.cameras) {
    const stream = recording.manifest.streams.cameras.find((c) => c.cameraId === camera.id);
    assert.ok(stream, `the recording films ${camera.id}`);
    const picked = [1, 2, 3].map((q) => Math.floor((q * stream.frameCount) / 4));
    const truth = new Map<number, FramePoseTruth>();
    for await (const line of recording.truthPoses(camera.id)) if (picked.includes(line.frameIndex)) truth.set(line.frameIndex, line);
    const decoded = new Map<number, DecodedFrame>();
    for await (const frame of readVideoFrames(recording.videoPath(camera.id))) {
      if (picked.includes(frame.index)) decoded.set(frame.index, frame);
      if (frame.index >= Math.max(...picked)) break;
    }
    const renderer = createCameraRenderer(index.store, camera);
    for (const i of picked) {
      const t = frameTime(sim, camera, i);
      const drawn = renderer.render(peopleAt(sim, t), stockAt(sim, t));
      assert.deepEqual(framePoseTruth(i, t, drawn.people), truth.get(i), `${camera.id} frame ${i}: 2D pose truth`);
      peopleCompared += drawn.people.length;
      const video = decoded.get(i);
      assert.ok(video, `${camera.id} frame ${i} decoded`);
      let far = 0;
      for (let b = 0; b < drawn.data.length; b++) if (Math.abs(drawn.data[b] - video.data[b]) > FAR_LEVELS) far++;
      const share = far / drawn.data.length;
      assert.ok(share < MAX_FAR_SHARE, `${camera.id} frame ${i}: ${(share * 100).toFixed(2)} % of the video's values are off today's drawing by more than ${FAR_LEVELS} levels`);
    }
  }
  assert.ok(peopleCompared >= 20, `people drawn in the frames compared: ${peopleCompared}`);
});
