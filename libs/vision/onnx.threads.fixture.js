// A stand-in detector thread for onnx.threads.test.ts: no model, the messages of onnx.thread.js.
// Its output is [bytes[0], width, height, its thread id], sent with the bytes back. A pass whose first pixel is DIE kills
// the thread that takes it; DIE_ONCE kills only the first thread to take it (a counter shared by
// the threads, workerData.died); REJECT fails as a model error would. workerData.failToOpen: the
// thread cannot open its model.
import { parentPort, threadId, workerData } from 'node:worker_threads';

const DIE = 255;
const REJECT = 254;
const DIE_ONCE = 253;
if (workerData.failToOpen) parentPort.postMessage({ failed: 'no model here' });
else {
  parentPort.on('message', ({ id, bytes, width, height }) => {
    const first = bytes[0];
    if (first === DIE) process.exit(3);
    if (first === DIE_ONCE && Atomics.add(new Int32Array(workerData.died), 0, 1) === 0) process.exit(3);
    if (first === REJECT) return parentPort.postMessage({ id, error: 'the model rejects this input', bytes }, [bytes.buffer]);
    parentPort.postMessage({ id, output: Float32Array.of(first, width, height, threadId), modelMs: 1, bytes }, [bytes.buffer]);
  });
  parentPort.postMessage({ ready: true });
}
