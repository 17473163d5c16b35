import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { WalkoutError } from '../contracts/index.ts';
import { locateFfmpeg } from './ffmpeg.locate.ts';
import { probeVideo, readVideoFrames } from './mp4.reader.ts';
import { Mp4Writer } from './mp4.writer.ts';

const PEOPLE_WALKING = fileURLToPath(new URL('../../fixtures/video/people-walking.mp4', import.meta.url));

/** A test pattern that changes every frame: a gradient with a bright square moving across it. */
function pattern(width: number, height: number, n: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inSquare = x >= 10 + n * 4 && x < 42 + n * 4 && y >= 20 && y < 52;
      data[i] = inSquare ? 240 : (x * 255) / width;
      data[i + 1] = inSquare ? 240 : (y * 255) / height;
      data[i + 2] = inSquare ? 40 : 128;
    }
  return data;
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

test('ffmpeg is found on PATH or in the installer package, and a bad override is a TOOL_MISSING error', () => {
  const tool = locateFfmpeg();
  assert.ok(['path', 'package', 'env'].includes(tool.source));
  const fromPackage = locateFfmpeg({ PATH: '' });
  assert.equal(fromPackage.source, 'package');
  assert.throws(
    () => locateFfmpeg({ WALKOUT_FFMPEG: '/nonexistent/ffmpeg' }),
    (e: unknown) => e instanceof WalkoutError && e.code === 'TOOL_MISSING',
  );
});

test('frames written as H.264 mp4 read back in order, close to the originals, every n-th and up to a limit', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'walkout-video-'));
  try {
    const file = path.join(dir, 'clip.mp4');
    const width = 128;
    const height = 96;
    const frames = 24;
    // CRF 18: this test checks the pipeline, not the compression defaults.
    const writer = await Mp4Writer.open(file, { width, height, fps: 10, crf: 18 });
    for (let n = 0; n < frames; n++) await writer.write(pattern(width, height, n));
    const done = await writer.close();
    assert.equal(done.frames, frames);
    assert.ok(done.bytes > 1000 && done.bytes === (await stat(file)).size);

    const info = await probeVideo(file);
    assert.deepEqual([info.codec, info.width, info.height, info.fps], ['h264', width, height, 10]);
    let count = 0;
    for await (const frame of readVideoFrames(file)) {
      assert.equal(frame.index, count);
      assert.equal(frame.data.length, width * height * 3);
      const error = meanAbsDiff(frame.data, pattern(width, height, count));
      // yuv420p halves colour resolution; a few levels of error on average is the codec, more is a bug.
      assert.ok(error < 4, `frame ${count} differs by ${error.toFixed(2)} levels on average`);
      // Each frame is closer to its own pattern than to the next one (order is kept).
      assert.ok(error < meanAbsDiff(frame.data, pattern(width, height, count + 3)));
      count++;
    }
    assert.equal(count, frames);

    const every3 = [];
    for await (const frame of readVideoFrames(file, { every: 3 })) every3.push(frame.index);
    assert.deepEqual(every3, [0, 3, 6, 9, 12, 15, 18, 21]);
    const firstFive = [];
    for await (const frame of readVideoFrames(file, { maxFrames: 5 })) firstFive.push(frame.index);
    assert.deepEqual(firstFive, [0, 1, 2, 3, 4]);
    // Breaking out early ends the decoder instead of hanging on a full pipe.
    for await (const frame of readVideoFrames(file)) if (frame.index === 1) break;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the writer rejects frames of the wrong size and odd image sizes', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'walkout-video-'));
  try {
    await assert.rejects(Mp4Writer.open(path.join(dir, 'odd.mp4'), { width: 31, height: 20, fps: 10 }), /even sizes/);
    const writer = await Mp4Writer.open(path.join(dir, 'a.mp4'), { width: 32, height: 32, fps: 10 });
    await assert.rejects(writer.write(new Uint8Array(10)), /expected 3072/);
    await writer.abort();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the real people-walking.mp4 decodes to five 960x540 frames with picture in them', async () => {
  const info = await probeVideo(PEOPLE_WALKING);
  assert.deepEqual([info.codec, info.width, info.height, info.fps], ['h264', 960, 540, 5]);
  assert.ok(info.durationS !== null && Math.abs(info.durationS - 1) < 0.05);
  const means: number[] = [];
  for await (const frame of readVideoFrames(PEOPLE_WALKING)) {
    let sum = 0;
    let sumSq = 0;
    for (const v of frame.data) {
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / frame.data.length;
    const sd = Math.sqrt(sumSq / frame.data.length - mean * mean);
    assert.ok(sd > 20, `frame ${frame.index} is nearly flat (sd ${sd.toFixed(1)})`);
    means.push(mean);
  }
  assert.equal(means.length, 5);
});

test('a missing video is RECORDING_NOT_FOUND', async () => {
  await assert.rejects(probeVideo('/nonexistent/video.mp4'), (e: unknown) => e instanceof WalkoutError && e.code === 'RECORDING_NOT_FOUND');
  await assert.rejects(
    (async () => {
      for await (const _ of readVideoFrames('/nonexistent/video.mp4', { info: { width: 2, height: 2 } })) break;
    })(),
    (e: unknown) => e instanceof WalkoutError && e.code === 'RECORDING_NOT_FOUND',
  );
});
