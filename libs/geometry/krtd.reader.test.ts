import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalkoutError } from '../contracts/index.ts';
import { MEVA_CALIBRATION_DIR } from './camera.fixture.ts';
import { KRTD_DEFAULT_FPS, parseKrtd, readKrtdFile } from './krtd.reader.ts';

const G328 = join(MEVA_CALIBRATION_DIR, 'cameras', 'G328.krtd');

const GOOD = `1000 0 959.5
0 1000 539.5
0 0 1

1 0 0
0 1 0
0 0 1

0.5 -1 3

-0.2 0.05 0.001 -0.002 0.01
`;

test('reads a real MEVA KRTD file (CRLF, two distortion coefficients) into a Camera', async () => {
  const camera = await readKrtdFile(G328);
  assert.equal(camera.id, 'g328');
  assert.equal(camera.kind, 'ceiling');
  assert.equal(camera.fps, KRTD_DEFAULT_FPS);
  // The sample frame frames/G328.png is 1920 x 1072, which the principal point (959.5, 535.5) implies.
  assert.equal(camera.width, 1920);
  assert.equal(camera.height, 1072);
  assert.deepEqual(camera.intrinsics, { fx: 1460.19079702, fy: 1460.19079702, cx: 959.5, cy: 535.5 });
  assert.deepEqual(camera.distortion, { k1: -0.353997555311, k2: 0.122164890204, p1: 0, p2: 0, k3: 0 });
  assert.deepEqual(camera.pose.rotation[1], [-0.020547611134, -0.0164750029126, -0.999653124816]);
  assert.deepEqual(camera.pose.translation, [127.469270361, 12.7661662918, 98.4895022221]);
});

test('options override what KRTD does not record; five coefficients map to k1 k2 p1 p2 k3', () => {
  const camera = parseKrtd(GOOD, 'good.krtd', { id: 'cam-7', kind: 'shelf', width: 1280, height: 720, fps: 15 });
  assert.equal(camera.id, 'cam-7');
  assert.equal(camera.kind, 'shelf');
  assert.equal(camera.width, 1280);
  assert.equal(camera.fps, 15);
  assert.deepEqual(camera.distortion, { k1: -0.2, k2: 0.05, p1: 0.001, p2: -0.002, k3: 0.01 });
  // No blank lines, no distortion line, and OpenCV's 8-coefficient form with zero rational terms are all fine.
  const compact = parseKrtd('1000 0 960\n0 1000 540\n0 0 1\n1 0 0\n0 1 0\n0 0 1\n0 0 0', 'compact.krtd');
  assert.deepEqual(compact.distortion, { k1: 0, k2: 0, p1: 0, p2: 0, k3: 0 });
  assert.deepEqual([compact.width, compact.height], [1920, 1080]);
  const eight = parseKrtd(GOOD.replace('0.01\n', '0.01 0 0 0\n'), 'eight.krtd');
  assert.equal(eight.distortion.k3, 0.01);
});

/** Asserts that parsing fails with a WalkoutError whose message names the file and the line. */
function assertMalformed(text: string, line: number, reason: RegExp) {
  assert.throws(
    () => parseKrtd(text, 'cams/bad.krtd'),
    (error: unknown) => {
      assert.ok(error instanceof WalkoutError);
      assert.equal(error.code, 'CALIBRATION_INVALID');
      assert.match(error.message, new RegExp(`^cams/bad\\.krtd line ${line}: `));
      assert.match(error.message, reason);
      assert.deepEqual(error.details, { file: 'cams/bad.krtd', line });
      return true;
    },
  );
}

const withLine = (lineNumber: number, replacement: string) =>
  GOOD.split('\n')
    .map((line, i) => (i + 1 === lineNumber ? replacement : line))
    .join('\n');

test('malformed KRTD files are refused with the file and line named', () => {
  assertMalformed(withLine(2, '0 1000 abc'), 2, /"abc" is not a finite number/);
  assertMalformed(withLine(2, '0 1000'), 2, /K row 2 needs 3 numbers, found 2/);
  assertMalformed(withLine(9, '0.5 -1'), 9, /T needs 3 numbers, found 2/);
  assertMalformed(GOOD.split('\n').slice(0, 6).join('\n'), 6, /file ends before R row 3/);
  assertMalformed(withLine(3, '0 0 2'), 3, /K row 3 must be "0 0 1"/);
  assertMalformed(withLine(1, '1000 0.5 959.5'), 1, /skew 0.5 is not supported/);
  assertMalformed(withLine(1, '-1000 0 959.5'), 1, /focal lengths must be positive/);
  assertMalformed(withLine(6, '0 1.1 0'), 6, /R is not orthonormal: rows 2 and 2/);
  assertMalformed(withLine(7, '0 0 -1'), 5, /R is a reflection/);
  assertMalformed(withLine(11, '-0.2 0.05 0 0 0 0.3'), 11, /coefficient 6 is 0.3; only k1 k2 p1 p2 k3/);
  assertMalformed(`${GOOD}\n1 2 3\n`, 13, /unexpected data after the distortion line/);
});

test('a malformed file on disk is reported with its path; an unreadable one says so', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'walkout-krtd-'));
  try {
    const bad = join(folder, 'G999.krtd');
    const real = await readFile(G328, 'utf8');
    await writeFile(bad, real.replace('-0.882490551821', 'O.88'));
    await assert.rejects(readKrtdFile(bad), (error: Error) => {
      assert.equal(error.message, `${bad} line 7: "O.88" is not a finite number`);
      return true;
    });
    await assert.rejects(readKrtdFile(join(folder, 'missing.krtd')), /cannot read camera file .*missing\.krtd/);
  } finally {
    await rm(folder, { recursive: true });
  }
});

test('an id the store schema would refuse is reported against the file', () => {
  assert.throws(() => parseKrtd(GOOD, 'cams/Bad Name!.krtd'), /cams\/Bad Name!\.krtd: not a valid camera[\s\S]*at id/);
});
