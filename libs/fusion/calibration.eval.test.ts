import test from 'node:test';
import assert from 'node:assert/strict';
import { calibrationTable, pooledCalibration } from './calibration.eval.ts';

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);

test('expected calibration error of a known table', () => {
  const samples = [
    ...Array.from({ length: 8 }, (_, i) => ({ confidence: 0.9, right: i < 6 })),
    ...Array.from({ length: 2 }, (_, i) => ({ confidence: 0.3, right: i < 1 })),
  ];
  const { calibration, calibrationError } = calibrationTable(samples);
  // 0.8 x |0.75 - 0.9| + 0.2 x |0.5 - 0.3|
  close(calibrationError, 0.16, 'ECE');
  assert.equal(calibration.length, 10);
  assert.deepEqual(
    calibration.filter((bin) => bin.count > 0).map((bin) => [bin.lo, bin.count, bin.accuracy]),
    [
      [0.3, 2, 0.5],
      [0.9, 8, 0.75],
    ],
  );
  assert.equal(calibrationTable([{ confidence: 1, right: true }]).calibration[9].count, 1, 'a confidence of 1 is in the last bin');
});

test('no decisions: empty bins and no error', () => {
  const { calibration, calibrationError } = calibrationTable([]);
  assert.equal(calibrationError, 0);
  assert.ok(calibration.every((bin) => bin.count === 0 && bin.meanConfidence === 0 && bin.accuracy === 0));
});

test('tables of several runs pooled are the table of all their decisions scored together; tables with other bins are refused', () => {
  const first = [0.95, 0.97, 0.85, 0.82, 0.99].map((confidence, i) => ({ confidence, right: i !== 2 }));
  const second = [0.88, 0.91, 0.999, 0.84].map((confidence, i) => ({ confidence, right: i !== 3 }));
  const pooled = pooledCalibration([calibrationTable(first).calibration, calibrationTable(second).calibration]);
  const together = calibrationTable([...first, ...second]);
  close(pooled.calibrationError, together.calibrationError, 'pooled ECE');
  assert.ok(pooled.calibrationError < Math.max(calibrationTable(first).calibrationError, calibrationTable(second).calibrationError), 'pooling is not the worst run');
  pooled.calibration.forEach((bin, i) => {
    assert.equal(bin.count, together.calibration[i].count);
    close(bin.meanConfidence, together.calibration[i].meanConfidence, `bin ${i} confidence`);
    close(bin.accuracy, together.calibration[i].accuracy, `bin ${i} accuracy`);
  });
  assert.throws(() => pooledCalibration([calibrationTable(first).calibration, calibrationTable(second, 5).calibration]), /table 2 has other bins than the first/);
});
