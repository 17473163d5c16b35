import assert from 'node:assert/strict';
import test from 'node:test';
import { waitFor } from '../bus/bus.harness.ts';
import { DetectorThreads } from './onnx.threads.ts';

/** The detector thread pool on a stand-in thread (onnx.threads.fixture.js): no model, same messages. */
const script = new URL('./onnx.threads.fixture.js', import.meta.url);
const DIE = 255;
const REJECT = 254;
const DIE_ONCE = 253;
const open = (threads: number, workerData: object = {}) => DetectorThreads.open({ threads, script, workerData: { died: new SharedArrayBuffer(4), ...workerData } });
const pixels = (first: number) => Int32Array.of(first, 0, 0);

test('passes started together run on different threads, each answer to its own pass', async () => {
  const pool = await open(2);
  try {
    const outputs = await Promise.all([1, 2, 3, 4].map((n) => pool.run(pixels(n), 10 * n, n)));
    assert.deepEqual(
      outputs.map(({ output }) => [...output.slice(0, 3)]),
      [1, 2, 3, 4].map((n) => [n, 10 * n, n]),
    );
    assert.equal(new Set(outputs.slice(0, 2).map(({ output }) => output[3])).size, 2, 'the first two passes went to two threads');
    assert.equal(outputs[0].modelMs, 1);
  } finally {
    await pool.close();
  }
});

test('the caller keeps its pixels: a pass copies them to the thread', async () => {
  const pool = await open(1);
  try {
    const input = pixels(7);
    await pool.run(input, 1, 1);
    assert.equal(input[0], 7, 'still readable after the pass');
  } finally {
    await pool.close();
  }
});

test('the bytes a pass went to its thread in come back with its output and carry the next pass of that size', async () => {
  const pool = await open(1);
  try {
    assert.equal(pool.bytesKept, 0);
    for (const first of [5, 6, 7]) {
      const { output } = await pool.run(pixels(first), 1, 1);
      assert.equal(output[0], first, 'each pass reads its own pixels');
      assert.equal(pool.bytesKept, 1, 'one array of bytes, taken and given back');
    }
    await pool.run(Int32Array.of(8, 0, 0, 0, 0, 0), 2, 1);
    assert.equal(pool.bytesKept, 2, 'another size, another array');
  } finally {
    await pool.close();
  }
});

test('a thread that dies is replaced, and the pass it ran and those waiting are not lost', async () => {
  const pool = await open(2);
  try {
    const runs = [pool.run(pixels(1), 1, 1), pool.run(pixels(DIE_ONCE), 2, 2), pool.run(pixels(3), 3, 3), pool.run(pixels(4), 4, 4)];
    const outputs = await Promise.all(runs);
    assert.deepEqual(
      outputs.map(({ output }) => output[0]),
      [1, DIE_ONCE, 3, 4],
    );
    // The other thread may finish every pass before the new one has started (a loaded machine
    // starts threads slowly): the replacement is waited for, not assumed.
    await waitFor(() => pool.threads === 2, () => `the pool back to two threads (has ${pool.threads})`);
    assert.equal(pool.replaced, 1);
  } finally {
    await pool.close();
  }
});

test('a pass that kills two threads is given up as DETECTOR_FAILED; the pool still runs the others', async () => {
  const pool = await open(2);
  try {
    const [killer, other] = [pool.run(pixels(DIE), 64, 48), pool.run(pixels(5), 1, 1)];
    await assert.rejects(killer, (error: Error & { code?: string }) => {
      assert.equal(error.code, 'DETECTOR_FAILED');
      assert.match(error.message, /64x48 input killed 2 detector threads; the last: it exited with code 3/);
      return true;
    });
    assert.equal((await other).output[0], 5);
    assert.equal((await pool.run(pixels(6), 1, 1)).output[0], 6, 'a pass after the deaths runs');
  } finally {
    await pool.close();
  }
});

test('a pass the model rejects fails at once with DETECTOR_FAILED, the thread stays', async () => {
  const pool = await open(1);
  try {
    await assert.rejects(pool.run(pixels(REJECT), 32, 32), { code: 'DETECTOR_FAILED', message: /32x32 input failed: the model rejects this input/ });
    assert.equal(pool.replaced, 0);
    assert.equal((await pool.run(pixels(8), 1, 1)).output[0], 8);
  } finally {
    await pool.close();
  }
});

test('a thread that cannot open its model: MODEL_UNAVAILABLE from open', async () => {
  await assert.rejects(open(2, { failToOpen: true }), { code: 'MODEL_UNAVAILABLE', message: /a detector thread cannot open its model: no model here/ });
});

test('closed: passes waiting and new ones are rejected', async () => {
  const pool = await open(1);
  const waiting = Promise.allSettled([pool.run(pixels(1), 1, 1), pool.run(pixels(2), 1, 1)]);
  await pool.close();
  const settled = await waiting;
  assert.ok(settled.every((s) => s.status === 'rejected'));
  await assert.rejects(pool.run(pixels(3), 1, 1), { code: 'DETECTOR_FAILED', message: /closed/ });
});

test('threads: a whole number from 1', async () => {
  await assert.rejects(open(0), RangeError);
});
