/**
 * `npm run models`: writes the ONNX models walkout ships, converted in TypeScript from the TF.js
 * graph models in models/ (libs/vision/tfjs-onnx.convert.ts), each with a manifest giving its
 * sha256, size, source and licence. The conversion is deterministic: running it again writes the
 * same bytes (libs/vision/onnx.models.test.ts checks that the committed files are what it writes).
 *
 *   npm run models [-- --check]      # --check: write nothing, fail if a committed file differs
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { onnxModelBuilds, buildOnnxModel } from '../libs/vision/onnx.models.ts';

const { values } = parseArgs({ options: { check: { type: 'boolean' } } });
const MODELS = fileURLToPath(new URL('./', import.meta.url));
let differ = 0;
for (const build of onnxModelBuilds) {
  const { bytes, manifest } = await buildOnnxModel(build);
  const onnxPath = path.join(MODELS, build.file);
  const manifestPath = path.join(MODELS, build.manifest);
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  if (values.check) {
    const committed = await readFile(onnxPath).catch(() => Buffer.alloc(0));
    const committedManifest = await readFile(manifestPath, 'utf8').catch(() => '');
    const same = Buffer.compare(committed, Buffer.from(bytes)) === 0 && committedManifest === manifestText;
    if (!same) differ++;
    console.log(`${build.file}: ${same ? 'same as committed' : 'DIFFERS from what is committed'}`);
    continue;
  }
  await writeFile(onnxPath, bytes);
  await writeFile(manifestPath, manifestText);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  console.log(`${build.file}: ${(bytes.byteLength / 1e6).toFixed(2)} MB, sha256 ${sha256} (from ${build.source})`);
}
if (differ > 0) process.exitCode = 1;
