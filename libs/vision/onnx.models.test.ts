import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
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
