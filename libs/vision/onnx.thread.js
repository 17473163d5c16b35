// One detector thread (onnx.threads.ts): an ONNX Runtime session of its own, one model pass a
// message. Plain JavaScript because a worker thread does not inherit the TypeScript loader the
// `walkout` command registers on its main thread.
//
// In (workerData): { modelPath, sessionOptions }. Then messages { id, bytes: Uint8Array (RGB,
// `height` rows of `width` pixels), width, height } in; { id, output: Float32Array, modelMs, bytes } or { id, error, bytes } out
// (the bytes sent back for the next pass). Once the session is open it posts { ready: true }, or { failed: message } if it cannot
// be opened.
import { parentPort, workerData } from 'node:worker_threads';

const { modelPath, sessionOptions } = workerData;
let ort;
let session;
try {
  ort = await import('onnxruntime-node');
  session = await ort.InferenceSession.create(modelPath, sessionOptions);
} catch (error) {
  parentPort.postMessage({ failed: error instanceof Error ? error.message : String(error) });
}
if (session) {
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;
  // The model's int32 input of each length, reused: a pass is done with it once run returns.
  const inputs = new Map();
  parentPort.on('message', async ({ id, bytes, width, height }) => {
    try {
      // RGB bytes (a quarter of the int32 input to copy between threads), widened to the model's int32.
      let pixels = inputs.get(bytes.length);
      if (!pixels) inputs.set(bytes.length, (pixels = new Int32Array(bytes.length)));
      pixels.set(bytes);
      const started = performance.now();
      const result = await session.run({ [inputName]: new ort.Tensor('int32', pixels, [1, height, width, 3]) });
      const modelMs = performance.now() - started;
      // A copy the main thread owns: the runtime's output buffer cannot always be handed over.
      const output = Float32Array.from(result[outputName].data);
      parentPort.postMessage({ id, output, modelMs, bytes }, [output.buffer, bytes.buffer]);
    } catch (error) {
      parentPort.postMessage({ id, error: error instanceof Error ? error.message : String(error), bytes }, [bytes.buffer]);
    }
  });
  parentPort.postMessage({ ready: true });
}
