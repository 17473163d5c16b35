import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { readVideoFrames } from '../video/mp4.reader.ts';
import { cropRotatedInt32, resizeAreaInt32 } from './image.resize.ts';
import { onnxSessionOptions } from './onnx.detector.ts';
import { buildOnnxModel, MODELS_DIR, onnxModelBuilds } from './onnx.models.ts';

test('each committed .onnx file is byte for byte what `npm run models` writes from the TF.js model, and its manifest says so', async () => {
  for (const build of onnxModelBuilds) {
    const { bytes, manifest } = await buildOnnxModel(build);
    const committed = readFileSync(path.join(MODELS_DIR, build.file));
    assert.equal(createHash('sha256').update(committed).digest('hex'), createHash('sha256').update(bytes).digest('hex'), `${build.file}: run npm run models`);
    const committedManifest = JSON.parse(readFileSync(path.join(MODELS_DIR, build.manifest), 'utf8')) as { files: Array<{ sha256: string }>; licence: string; source: { from: unknown } };
    assert.deepEqual(committedManifest, manifest, `${build.manifest}: run npm run models`);
    assert.equal(committedManifest.files[0].sha256, createHash('sha256').update(committed).digest('hex'));
    // The licence and origin are the TF.js model's: the conversion is of that model, nothing else.
    const source = JSON.parse(readFileSync(path.join(MODELS_DIR, build.source), 'utf8'));
    assert.equal(committedManifest.licence, source.licence);
    assert.deepEqual(committedManifest.source.from, source.files);
  }
});

test('converting twice in one process gives the same bytes (nothing depends on time or order of maps)', async () => {
  const [first, second] = [await buildOnnxModel(onnxModelBuilds[0]), await buildOnnxModel(onnxModelBuilds[0])];
  assert.equal(Buffer.compare(Buffer.from(first.bytes), Buffer.from(second.bytes)), 0);
});

test('the int8 build reads the input pixels as the levels its normalisation quantises them to: its outputs are, to the bit, those of the build that quantises the normalisation, on demo frames and every pixel value', async () => {
  const ort = await import('onnxruntime-node');
  const int8 = onnxModelBuilds.find((build) => build.file === 'movenet-multipose-int8.onnx')!;
  assert.equal(int8.int8Options?.pixelsAsLevels, 'exact');
  const normalised = await buildOnnxModel({ ...int8, int8Options: { ...int8.int8Options, pixelsAsLevels: undefined } });
  const options = onnxSessionOptions(1);
  const [shipped, before] = await Promise.all([ort.InferenceSession.create(path.join(MODELS_DIR, int8.file), options), ort.InferenceSession.create(normalised.bytes, options)]);
  const inputs: Array<{ pixels: Int32Array; width: number; height: number }> = [];
  for await (const frame of readVideoFrames(fileURLToPath(new URL('../../fixtures/recordings/kiosk-demo/cameras/cam-5.mp4', import.meta.url)), { every: 100, maxFrames: 2 })) {
    inputs.push({ pixels: resizeAreaInt32(frame, 640, 480, 640, 480), width: 640, height: 480 });
    inputs.push({ pixels: cropRotatedInt32(frame, 300, 260, 180, 0.6, 160), width: 160, height: 160 });
  }
  // Every value in every channel, black (the one pixel value not its own level) among them.
  inputs.push({ pixels: new Int32Array(64 * 64 * 3).map((_, k) => (Math.floor(k / 3) + 85 * (k % 3)) % 256), width: 64, height: 64 });
  try {
    for (const { pixels, width, height } of inputs) {
      const feeds = { input: new ort.Tensor('int32', pixels, [1, height, width, 3]) };
      const [got, expected] = [(await shipped.run(feeds)).output_0.data as Float32Array, (await before.run(feeds)).output_0.data as Float32Array];
      assert.deepEqual(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength), `${width}x${height}`);
    }
  } finally {
    await Promise.all([shipped.release(), before.release()]);
  }
});
