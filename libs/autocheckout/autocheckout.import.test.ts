import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cameraCentre, projectPoint } from '../geometry/index.ts';
import { openRecording, collect } from '../recording/index.ts';
import { locateFfmpeg } from '../video/ffmpeg.locate.ts';
import { importAutocheckout, readAutocheckoutStore } from './autocheckout.import.ts';
import { MINI_CAMERA_IP, writeMiniStoreMeta } from './autocheckout.fixture.ts';
import { segmentStartMs } from './camera-video.import.ts';

const near = (actual: readonly number[], expected: readonly number[], tolerance: number, what: string) =>
  actual.forEach((value, i) => assert.ok(Math.abs(value - expected[i]) <= tolerance, `${what}: ${JSON.stringify(actual)} is not ${JSON.stringify(expected)}`));

async function withFolder(work: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(path.join(tmpdir(), 'walkout-autocheckout-'));
  try {
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const PRODUCTS = 'name,gondola,shelf,plate,weight,price\nCrisps,1,1,1,150,1.20\nCrisps,1,1,2,150,1.20\n';

test('the mini store: a plate at a known world place comes out there, one lane over the two plates of one product, the depth sensor skipped', () =>
  withFolder(async (dir) => {
    await writeMiniStoreMeta(dir);
    await writeFile(path.join(dir, 'products.csv'), PRODUCTS);
    const { store, units, notes } = await readAutocheckoutStore({ folder: dir, productsCsv: path.join(dir, 'products.csv') });
    assert.equal(units.calibration.unit, 'inch');
    assert.equal(units.layout.unit, 'metre');
    const [gondola] = store.layout.gondolas;
    assert.equal(gondola.facing, '+x', 'the quarter turn takes the shelves from local -y to world +x');
    const plate = gondola.shelves[0].plates.find((p) => p.id === 'g1-s1-p2')!;
    near(plate.box.min, [1.0, 2.3, 0.49], 1e-9, 'plate 2 min');
    near(plate.box.max, [1.4, 2.6, 0.5], 1e-9, 'plate 2 max');
    assert.equal(gondola.shelves[0].surfaceHeightM, 0.5);
    assert.deepEqual(gondola.shelves[0].lanes.map((lane) => lane.plateIds), [['g1-s1-p1', 'g1-s1-p2']]);
    assert.deepEqual(store.cameras.map((c) => c.id), ['cam-1']);
    assert.ok(notes.some((note) => /1-depth left out: a depth sensor/.test(note)));
  }));

test('the mini camera projects known points to known pixels: inches to metres, Tw inverted, K times the image size', () =>
  withFolder(async (dir) => {
    await writeMiniStoreMeta(dir);
    await writeFile(path.join(dir, 'products.csv'), PRODUCTS);
    const { store } = await readAutocheckoutStore({ folder: dir, productsCsv: path.join(dir, 'products.csv') });
    const [camera] = store.cameras;
    assert.deepEqual([camera.width, camera.height], [640, 360]);
    near(projectPoint(camera, [1.2, 2.45, 0.5])!, [320, 180], 1e-9, 'below the camera');
    // 2 m below the camera, 0.2 m along +x: 320 px x 0.2 / 2 to the right.
    near(projectPoint(camera, [1.4, 2.45, 0.5])!, [352, 180], 1e-9, '+x');
    // Tw's second column is world -y: +y goes up the image.
    near(projectPoint(camera, [1.2, 2.6, 0.5])!, [320, 156], 1e-9, '+y');
    near(projectPoint(camera, [1.2, 2.45, 0])!, [320, 180], 1e-9, 'look_at');
  }));

test('a camera height no unit makes plausible is refused, naming what each unit would mean and the option to give it', () =>
  withFolder(async (dir) => {
    await writeMiniStoreMeta(dir, { cameraHeightInches: 30 });
    await writeFile(path.join(dir, 'products.csv'), PRODUCTS);
    await assert.rejects(readAutocheckoutStore({ folder: dir, productsCsv: path.join(dir, 'products.csv') }), (error: Error) => {
      assert.match(error.message, /calibration\.json: cannot tell its unit: the median camera height \(Tw z\) is 30, which is 30 m in metres, 0\.3 m in centimetres.*0\.76 m in inches.*--calibration-unit/);
      return true;
    });
    // Given, the unit is used as given, and the report says so.
    const given = await readAutocheckoutStore({ folder: dir, productsCsv: path.join(dir, 'products.csv'), units: { calibration: 'foot' } });
    assert.equal(given.units.calibration.reason, 'given');
    assert.ok(Math.abs(cameraCentre(given.store.cameras[0])[2] - 30 * 0.3048) < 1e-9);
  }));

test('weights: the plate files of the layout become one shelf stream on the first plate\'s clock; a file of a plate the layout lacks is an error', () =>
  withFolder(async (dir) => {
    await writeMiniStoreMeta(dir);
    await writeFile(path.join(dir, 'products.csv'), PRODUCTS);
    await mkdir(path.join(dir, 'plates'));
    const start = 1_590_000_000;
    for (const plate of [1, 2, 9]) {
      // 120 readings at 60 Hz, the second batch starting 20 ms back in time as the published files do.
      const rows = Array.from({ length: 120 }, (_, i) => `${(start + i / 60 - (i === 60 ? 0.02 : 0)).toFixed(3)},${1000 * plate + (i % 3) * 0.2}`);
      await writeFile(path.join(dir, 'plates', `gondola_1_shelf_1_plate_${plate}.csv`), `${rows.join('\n')}\n`);
    }
    const out = path.join(dir, 'recording');
    const report = await importAutocheckout({ folder: dir, productsCsv: path.join(dir, 'products.csv'), out });
    assert.equal(report.errors, 1);
    assert.match(report.issues.find((i) => i.severity === 'error')!.message, /Plates\.json has no plate 9 on gondola 1 shelf 1/);
    assert.ok(report.rowsReordered > 0, 'the step back is put in order, as import plates does');
    const recording = await openRecording(out);
    const [stream] = recording.manifest.streams.loadCells;
    assert.deepEqual(stream.loadCellIds, ['lc-g1-s1-p1', 'lc-g1-s1-p2']);
    assert.equal(stream.sampleRateHz, 60);
    assert.equal(report.startMs, start * 1000);
  }));

test('video: named by IP and UTC start, re-encoded as H.264 with every frame stamped from the start', { skip: spawnSync(locateFfmpeg().path, ['-version']).status === 0 ? false : 'no ffmpeg' }, () =>
  withFolder(async (dir) => {
    await writeMiniStoreMeta(dir);
    await writeFile(path.join(dir, 'products.csv'), PRODUCTS);
    await mkdir(path.join(dir, 'videos'));
    const source = path.join(dir, 'videos', `${MINI_CAMERA_IP}_2020-02-05T18-11-03.avi`);
    const made = spawnSync(locateFfmpeg().path, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=10', '-t', '1', '-c:v', 'mpeg4', source]);
    assert.equal(made.status, 0, String(made.stderr));
    const out = path.join(dir, 'recording');
    const report = await importAutocheckout({ folder: dir, productsCsv: path.join(dir, 'products.csv'), out });
    assert.equal(report.errors, 0);
    const recording = await openRecording(out);
    const [camera] = recording.manifest.streams.cameras;
    assert.equal(camera.cameraId, 'cam-1');
    assert.equal(camera.frameCount, 10);
    const cam = recording.index.store.cameras[0];
    assert.deepEqual([cam.width, cam.height, cam.intrinsics.fx], [320, 180, 160], 'the normalised K scaled to the video size');
    const t0 = Date.UTC(2020, 1, 5, 18, 11, 3);
    assert.deepEqual([report.startMs, report.endMs], [t0, t0 + 900]);
  }));

test('segment start: any separators, digits in year-to-second order, a fraction kept; a name without a time says so', () => {
  assert.equal(segmentStartMs('192.168.1.100_2020-02-05T18:11:03.5.mp4', '192.168.1.100'), Date.UTC(2020, 1, 5, 18, 11, 3, 500));
  assert.equal(segmentStartMs('192.168.1.100 20200205181103.mp4', '192.168.1.100'), Date.UTC(2020, 1, 5, 18, 11, 3));
  assert.match(String(segmentStartMs('192.168.1.100.mp4', '192.168.1.100')), /should carry the UTC start/);
  assert.match(String(segmentStartMs('192.168.1.100_2020-02-30T18-11-03.mp4', '192.168.1.100')), /not a real UTC time/);
});
