import assert from 'node:assert/strict';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { VideoFrameCursor } from './frame.cursor.ts';
import { readVideoFrames } from './mp4.reader.ts';

const VIDEO = fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo/cameras/cam-2.mp4', import.meta.url));

test('a frame cursor hands out the frames asked for, decoding forward once and starting again only to go back', async () => {
  const wanted = [0, 1, 5, 5, 40, 41];
  const reference = new Map<number, Uint8Array>();
  for await (const frame of readVideoFrames(VIDEO, { maxFrames: 42 })) if (wanted.includes(frame.index)) reference.set(frame.index, frame.data);
  const cursor = new VideoFrameCursor(VIDEO, { width: 640, height: 480 });
  try {
    for (const index of wanted) {
      const frame = await cursor.frameAt(index);
      assert.equal(frame.index, index);
      assert.deepEqual(frame.data, reference.get(index), `frame ${index}`);
    }
    assert.equal(cursor.opened, 1, 'frames in order (and one asked twice) are one decoding');
    assert.deepEqual((await cursor.frameAt(5)).data, reference.get(5), 'going back');
    assert.equal(cursor.opened, 2);
    await assert.rejects(cursor.frameAt(532), /cam-2\.mp4 has no frame 532: its last frame is 531/);
    // After the end it can still go back.
    assert.deepEqual((await cursor.frameAt(1)).data, reference.get(1));
  } finally {
    await cursor.close();
  }
});

test('a frame cursor told it will be asked every n-th frame, each done with before the next, reading ahead, hands out the same frames as one that decodes them all (in two arrays), and starts again decoding every frame when asked for one between', async () => {
  const reference = new Map<number, Uint8Array>();
  for await (const frame of readVideoFrames(VIDEO, { maxFrames: 12 })) reference.set(frame.index, frame.data);
  const cursor = new VideoFrameCursor(VIDEO, { width: 640, height: 480 }, { every: 2, reuseFrames: true, readAhead: true });
  try {
    const arrays = new Set<Uint8Array>();
    for (const index of [0, 2, 4, 8, 10]) {
      const { data } = await cursor.frameAt(index);
      assert.deepEqual(data, reference.get(index), `frame ${index}`);
      // The frame after it is decoded meanwhile, into the other array: this one holds still.
      await cursor.readAheadSettled();
      assert.deepEqual(data, reference.get(index), `frame ${index} while the next is read ahead`);
      arrays.add(data);
    }
    assert.equal(cursor.opened, 1);
    assert.equal(arrays.size, 2, 'every frame decoded into one of two arrays');
    assert.deepEqual((await cursor.frameAt(11)).data, reference.get(11), 'a frame between');
    assert.equal(cursor.opened, 2);
    assert.deepEqual((await cursor.frameAt(12 - 1)).data, reference.get(11));
    await assert.rejects(cursor.frameAt(532), /cam-2\.mp4 has no frame 532: its last frame is 531/);
  } finally {
    await cursor.close();
  }
});

test('a frame cursor on a missing file says which file', async () => {
  const cursor = new VideoFrameCursor('/nonexistent/cam-9.mp4', { width: 640, height: 480 });
  await assert.rejects(cursor.frameAt(0), (error: Error & { code?: string }) => error.code === 'RECORDING_NOT_FOUND' && /\/nonexistent\/cam-9\.mp4/.test(error.message));
});
