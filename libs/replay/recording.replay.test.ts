import assert from 'node:assert/strict';
import test from 'node:test';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WalkoutError, type CameraFrameCaptured, type PeopleTracked, type ShelfSamplesRecorded } from '../contracts/index.ts';
import { collect, openRecording, summariseRecording } from '../recording/index.ts';
import { evaluateShelfPerception } from '../shelf/shelf.eval.ts';
import { recordingShelfTicks } from '../shelf/shelf.replay.ts';
import { replayRecording } from './recording.replay.ts';

const DEMO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo', import.meta.url));

test('replay publishes the frames of the cameras asked for, by reference, in store-time order among the samples and gates', async () => {
  const recording = await openRecording(DEMO);
  const published: Array<{ topic: string; message: { ts: number } }> = [];
  const publish = async (topic: string, message: unknown) => void published.push({ topic, message: message as { ts: number } });
  const stats = await replayRecording(recording, { publish } as never, { cameras: ['cam-1', 'cam-6'] });

  const frames = published.filter((p) => p.topic === 'camera.frame-captured').map((p) => p.message as CameraFrameCaptured);
  assert.equal(stats.frameMessages, frames.length);
  for (const cameraId of ['cam-1', 'cam-6']) {
    const own = frames.filter((f) => f.cameraId === cameraId);
    assert.deepEqual(own.map((f) => f.frameIndex), Array.from({ length: 532 }, (_, i) => i), `${cameraId}: every frame once, in order`);
    assert.deepEqual(own[7].frame, { recording: recording.dir, file: `cameras/${cameraId}.mp4`, index: 7 });
    assert.equal(own[7].ts, recording.manifest.startMs + 700);
  }
  assert.ok(frames.every((f, i) => i === 0 || frames[i - 1].ts <= f.ts), 'frames of both cameras merged in time order');
  // No sample published before a frame is later than the frame (batches may still carry earlier ones after it).
  let latestSample = -Infinity;
  for (const { topic, message } of published) {
    if (topic === 'shelf.samples-recorded') latestSample = Math.max(latestSample, ...(message as ShelfSamplesRecorded).samples.map(([ts]) => ts));
    if (topic === 'camera.frame-captured') assert.ok(latestSample <= message.ts, `a sample at ${latestSample} went before the frame at ${message.ts}`);
  }
  assert.ok(stats.sampleMessages > 0 && stats.gateMessages > 0);

  await assert.rejects(replayRecording(recording, { publish } as never, { cameras: ['cam-7'] }), /has no video of camera cam-7 \(it has cam-1, cam-2, cam-3, cam-4, cam-5, cam-6\)/);
});

test('replay publishes people given in place of the camera stage, each instant its lag after it happened', async () => {
  const recording = await openRecording(DEMO);
  const t0 = recording.manifest.startMs;
  const instants: PeopleTracked[] = [0, 5_000, 20_000].map((at) => ({ schemaVersion: 1, eventId: `people-${at}`, storeId: recording.manifest.storeId, ts: t0 + at, people: [] }));
  let closed = false;
  async function* source() {
    try {
      yield* instants;
    } finally {
      closed = true;
    }
  }
  const published: Array<{ topic: string; message: { ts: number } }> = [];
  const publish = async (topic: string, message: unknown) => void published.push({ topic, message: message as { ts: number } });
  const lagMs = 1_000;
  const stats = await replayRecording(recording, { publish } as never, { people: { instants: source(), lagMs } });

  assert.equal(stats.peopleMessages, 3);
  assert.ok(closed, 'the people source is closed when the replay ends');
  const people = published.filter((p) => p.topic === 'tracking.people-tracked').map((p) => p.message);
  assert.deepEqual(people, instants, 'every instant once, in order, as given');
  // Each instant goes out once the replay has reached its time plus the lag, and not before.
  for (const instant of instants) {
    const at = published.findIndex((p) => p.message === instant);
    const samplesBefore = published.slice(0, at).filter((p) => p.topic === 'shelf.samples-recorded').map((p) => p.message.ts);
    const samplesAfter = published.slice(at + 1).filter((p) => p.topic === 'shelf.samples-recorded').map((p) => p.message.ts);
    assert.ok(Math.max(...samplesBefore, -Infinity) <= instant.ts + lagMs, `samples after ${instant.ts + lagMs} went before the instant at ${instant.ts}`);
    assert.ok(samplesAfter.every((ts) => ts >= instant.ts + lagMs - 100), `samples of before ${instant.ts + lagMs} came after the instant at ${instant.ts}`);
  }
});

/** A copy of the demo recording without its videos (nothing here decodes them), damaged by `damage`. */
async function damagedDemo(damage: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-damaged-'));
  await cp(DEMO, dir, { recursive: true, filter: (source) => !source.endsWith('.mp4') });
  await damage(dir);
  return dir;
}

const editFile = async (file: string, edit: (text: string) => string) => writeFile(file, edit(await readFile(file, 'utf8')));
const replaceTime = (line: number, bad: string) => (text: string) => {
  const lines = text.split('\n');
  lines[line - 1] = lines[line - 1].replace(/^[^,]*/, bad);
  return lines.join('\n');
};

/** Runs one path to its end and gives the error it stopped with. */
async function failure(run: () => Promise<unknown>): Promise<WalkoutError> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof WalkoutError, `a WalkoutError, not ${String(error)}`);
    return error;
  }
  assert.fail('the damaged recording was accepted');
}

test('a damaged load-cell stream is refused the same way by recording summary, eval shelf and replay, after what came before it', async () => {
  const cases: Array<{ name: string; damage: (dir: string) => Promise<void>; message: RegExp; shelf?: string; goodRows?: number }> = [
    {
      name: 'file cut inside its last number',
      damage: (dir) => editFile(path.join(dir, 'loadcells/g1-s3.csv'), (text) => text.slice(0, -4)),
      message: /loadcells\/g1-s3\.csv:\d+: shelf g1-s3: the last line has no newline: the file was cut short/,
    },
    {
      name: 'header and no rows',
      damage: (dir) => editFile(path.join(dir, 'loadcells/g2-s1.csv'), (text) => text.slice(0, text.indexOf('\n') + 1)),
      message: /loadcells\/g2-s1\.csv:2: shelf g2-s1: a header \(ts_ms,lc-g2-s1-p1,.*\) and no rows under it/,
    },
    {
      name: 'negative time',
      damage: (dir) => editFile(path.join(dir, 'loadcells/g1-s2.csv'), replaceTime(100, '-5')),
      message: /loadcells\/g1-s2\.csv:100: shelf g1-s2: ts_ms -5 is not a store-clock time/,
      shelf: 'g1-s2',
      goodRows: 98,
    },
    {
      name: 'time of 1e20 ms',
      damage: (dir) => editFile(path.join(dir, 'loadcells/g1-s2.csv'), replaceTime(100, '1e20')),
      message: /loadcells\/g1-s2\.csv:100: shelf g1-s2: ts_ms 100000000000000000000 is not a store-clock time/,
      shelf: 'g1-s2',
      goodRows: 98,
    },
    {
      name: 'shelf the store lacks',
      damage: (dir) => editFile(path.join(dir, 'manifest.json'), (text) => text.replace('"shelfId": "g2-s4"', '"shelfId": "g9-s4"')),
      message: /manifest\.json:\d+: streams\.loadCells\[7\]\.shelfId: shelf "g9-s4" is not a shelf of store\.json/,
    },
  ];
  for (const { name, damage, message, shelf, goodRows } of cases) {
    const dir = await damagedDemo(damage);
    try {
      const summary = await failure(() => summariseRecording(dir));
      const evaluation = await failure(async () => {
        const recording = await openRecording(dir);
        await evaluateShelfPerception({ index: recording.index, ticks: recordingShelfTicks(recording), truth: await collect(recording.truthActions()) });
      });
      const published: ShelfSamplesRecorded[] = [];
      const replay = await failure(async () => {
        const publish = async (topic: string, message: unknown) => {
          if (topic === 'shelf.samples-recorded') published.push(message as ShelfSamplesRecorded);
        };
        await replayRecording(await openRecording(dir), { publish } as never);
      });
      for (const error of [summary, evaluation, replay]) {
        assert.equal(error.code, 'RECORDING_INVALID', `${name}: ${error.message}`);
        assert.match(error.message, message, name);
      }
      assert.equal(evaluation.message, summary.message, `${name}: eval says what summary says`);
      assert.equal(replay.message, summary.message, `${name}: replay says what summary says`);
      if (shelf && goodRows) {
        // Every row of the damaged shelf before the bad one went out, on each of its cells.
        const times = new Set(published.filter((m) => m.shelfId === shelf).flatMap((m) => m.samples.map(([ts]) => ts)));
        assert.equal(times.size, goodRows, `${name}: the rows before the bad one were all published`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
});

test('a replay that stops on a damaged load-cell row closes the gate and frame files it was reading', async () => {
  const dir = await damagedDemo((dir) => editFile(path.join(dir, 'loadcells/g1-s2.csv'), replaceTime(100, '-5')));
  try {
    const recording = await openRecording(dir);
    // Each stream the replay reads by hand, wrapped so that its opening and how it ended are seen.
    const seen: string[] = [];
    async function* watched<T>(name: string, lines: AsyncGenerator<T>): AsyncGenerator<T> {
      seen.push(`${name} opened`);
      let readThrough = false;
      try {
        yield* lines;
        readThrough = true;
      } finally {
        seen.push(`${name} ${readThrough ? 'read through' : 'closed early'}`);
      }
    }
    const watchedRecording = {
      ...recording,
      gateLines: () => watched('gates', recording.gateLines()),
      frameTimes: (cameraId: string) => watched(cameraId, recording.frameTimes(cameraId)),
    };
    const publish = async () => {};

    const error = await failure(() => replayRecording(watchedRecording, { publish } as never, { cameras: ['cam-1', 'cam-6'] }));
    assert.equal(error.code, 'RECORDING_INVALID', error.message);
    assert.deepEqual(
      seen.filter((s) => !s.endsWith('opened')).sort(),
      ['cam-1 closed early', 'cam-6 closed early', 'gates closed early'],
      'the refusal at 1.6 s of store time closed every stream it had started, none of them read through',
    );

    seen.length = 0;
    await assert.rejects(replayRecording(watchedRecording, { publish } as never, { cameras: ['cam-1', 'cam-7'] }), /has no video of camera cam-7/);
    assert.deepEqual(seen, [], 'a camera the recording lacks is refused before any file is opened');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
