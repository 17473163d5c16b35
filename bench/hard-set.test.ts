import test from 'node:test';
import assert from 'node:assert/strict';
import { calibrationTable } from '../libs/fusion/calibration.eval.ts';
import { compareFigures, figuresRow, parseSeedGroups, seedFigures, sumFigures, type SeedFigures } from './hard-set.ts';

test('hard set: seed lists become groups; bad lists are refused by what is wrong', () => {
  assert.deepEqual(parseSeedGroups('1-3,11, 16-17'), [
    { label: '1-3', seeds: [1, 2, 3] },
    { label: '11', seeds: [11] },
    { label: '16-17', seeds: [16, 17] },
  ]);
  assert.throws(() => parseSeedGroups('1-5,x'), /"x" is not a seed or a range/);
  assert.throws(() => parseSeedGroups('5-1'), /"5-1" runs backwards/);
  assert.throws(() => parseSeedGroups('1-5,3'), /seed 3 is listed twice/);
});

test('hard set: a report becomes counts (shares times visits); a report missing a figure is refused, naming it and the run', () => {
  const report = { visits: 43, exactMatch: 42 / 43, exactMatchBeforeReview: 40 / 43, reviews: 2, calibrationError: 0.012, latency: { count: 150, p50Ms: 1600, p99Ms: 9100 } };
  assert.deepEqual(seedFigures(report, '/tmp/s/h1'), { visits: 43, exact: 42, exactBeforeReview: 40, reviews: 2, calibrationError: 0.012, latencyP99Ms: 9100 });
  assert.equal(seedFigures({ ...report, latency: { count: 0 } }, 'r').latencyP99Ms, 0);
  assert.throws(() => seedFigures({ ...report, reviews: undefined }, '/tmp/s/h2'), /\/tmp\/s\/h2: "reviews" is not a number/);
});

test('hard set: groups add counts and keep the worst calibration error and latency; a comparison names the seeds that moved', () => {
  const a: SeedFigures = { visits: 40, exact: 39, exactBeforeReview: 37, reviews: 2, calibrationError: 0.01, latencyP99Ms: 9000 };
  const b: SeedFigures = { visits: 45, exact: 45, exactBeforeReview: 44, reviews: 1, calibrationError: 0.018, latencyP99Ms: 8000 };
  const sum = sumFigures([a, b]);
  assert.deepEqual(sum, { visits: 85, exact: 84, exactBeforeReview: 81, reviews: 3, calibrationError: 0.018, latencyP99Ms: 9000 });
  assert.equal(figuresRow('all', sum), '| all | 85 | 84/81/3 | 98.8 % | 35.3 | 0.0180 | - | 9000 |');
  const better = { ...a, exactBeforeReview: 38, reviews: 1 };
  assert.deepEqual(compareFigures({ 1: a, 2: b }, { 1: better, 2: b, 3: a }), [
    'seed 1: 39/37/2 of 40 -> 39/38/1 of 40',
    'seed 3: only in the new figures',
    '2 seeds in both: exact 84 -> 84, before review 81 -> 82, review items 3 -> 2',
  ]);
});

test('hard set: a group\'s calibration is its runs\' decisions pooled, beside the worst run\'s; a seed written without its table leaves the pooled figure out', () => {
  // One run with a few doubtful decisions (its ECE high), one with many sure and right ones.
  const shaky = calibrationTable([0.85, 0.86, 0.84, 0.99].map((confidence, i) => ({ confidence, right: i !== 0 && i !== 1 })));
  const steady = calibrationTable(Array.from({ length: 96 }, (_, i) => ({ confidence: 0.99, right: i !== 0 })));
  const run = (table: typeof shaky): SeedFigures => ({ visits: 40, exact: 40, exactBeforeReview: 40, reviews: 0, calibrationError: table.calibrationError, calibration: table.calibration, latencyP99Ms: 0 });
  const report = { visits: 40, exactMatch: 1, exactMatchBeforeReview: 1, reviews: 0, calibrationError: shaky.calibrationError, calibration: shaky.calibration, latency: { count: 0 } };
  assert.deepEqual(seedFigures(report, 'r').calibration, shaky.calibration, 'a report\'s table is kept');
  const sum = sumFigures([run(shaky), run(steady)]);
  const together = calibrationTable([
    ...[0.85, 0.86, 0.84, 0.99].map((confidence, i) => ({ confidence, right: i !== 0 && i !== 1 })),
    ...Array.from({ length: 96 }, (_, i) => ({ confidence: 0.99, right: i !== 0 })),
  ]);
  assert.equal(sum.calibrationError, shaky.calibrationError, 'the worst run');
  assert.equal(figuresRow('all', sum), `| all | 80 | 80/80/0 | 100.0 % | 0.0 | ${shaky.calibrationError.toFixed(4)} | ${together.calibrationError.toFixed(4)} | 0 |`);
  assert.ok(together.calibrationError < shaky.calibrationError / 4);
  const { calibration: _, ...older } = run(steady);
  assert.equal(sumFigures([run(shaky), older]).calibration, undefined);
});
