import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { runWalkout } from './cli.run.ts';

/** `walkout detect` refuses what it cannot read before loading any model, naming the file or option. */

test('detect: a missing or undecodable image is IMAGE_INVALID, naming the file', async () => {
  const missing = await runWalkout(['detect', '/nonexistent/photo.jpg']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /IMAGE_INVALID/);
  assert.match(missing.stderr, /\/nonexistent\/photo\.jpg does not exist/);
  const notImage = path.join(await mkdtemp(path.join(tmpdir(), 'walkout-detect-')), 'notes.png');
  await writeFile(notImage, 'not a picture');
  const broken = await runWalkout(['detect', notImage]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /IMAGE_INVALID/);
  assert.match(broken.stderr, /notes\.png is not an image walkout can decode/);
});

test('detect: --at needs a video and a time inside it; --out a PNG; --model a known detector', async () => {
  const atOnImage = await runWalkout(['detect', 'fixtures/pose/coco-000000000785.jpg', '--at', '1']);
  assert.equal(atOnImage.code, 2);
  assert.match(atOnImage.stderr, /--at picks a time in a video/);
  const pastEnd = await runWalkout(['detect', 'fixtures/video/people-walking.mp4', '--at', '5']);
  assert.equal(pastEnd.code, 2);
  assert.match(pastEnd.stderr, /--at 5 is past the end of fixtures\/video\/people-walking\.mp4, which lasts 1\.00 s/);
  const negative = await runWalkout(['detect', 'fixtures/video/people-walking.mp4', '--at=-1']);
  assert.equal(negative.code, 2);
  assert.match(negative.stderr, /--at takes seconds/);
  const jpegOut = await runWalkout(['detect', 'fixtures/pose/coco-000000000785.jpg', '--out', '/tmp/x.jpg']);
  assert.equal(jpegOut.code, 2);
  assert.match(jpegOut.stderr, /--out writes a PNG/);
  const unknown = await runWalkout(['detect', 'fixtures/pose/coco-000000000785.jpg', '--model', 'yolo']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--model is one of .*onnx.*, not "yolo"/);
});
