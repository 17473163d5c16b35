/**
 * How far fusion's stated confidence can be taken at its word: the reliability table (decisions
 * binned by confidence, CALIBRATION_BINS bins of equal width over [0, 1]; per bin, how sure fusion
 * said it was and how often it was right) and the expected calibration error (the sum over bins of
 * |accuracy - mean confidence|, weighted by the bin's share of decisions). One scorer for every
 * place that reports it: the attribution bench (libs/fusion/fusion.eval.ts) and the receipt scorer
 * (libs/cart/receipts.eval.ts).
 */

export const CALIBRATION_BINS = 10;

export interface CalibrationBin {
  /** Confidences in [lo, hi); the last bin includes 1. */
  lo: number;
  hi: number;
  count: number;
  meanConfidence: number;
  /** Share of the bin's decisions that were right. */
  accuracy: number;
}

export interface CalibrationSample {
  confidence: number;
  right: boolean;
}

export function calibrationTable(samples: ReadonlyArray<CalibrationSample>, bins = CALIBRATION_BINS): { calibration: CalibrationBin[]; calibrationError: number } {
  const sums = Array.from({ length: bins }, () => ({ count: 0, confidence: 0, right: 0 }));
  for (const { confidence, right } of samples) {
    const bin = sums[Math.min(bins - 1, Math.max(0, Math.floor(confidence * bins)))];
    bin.count++;
    bin.confidence += confidence;
    if (right) bin.right++;
  }
  return tableOf(sums);
}

/**
 * The reliability tables of several runs as one, as though their decisions had been scored together:
 * per bin, the counts added and the confidences and rights averaged over all of them. The tables
 * must have the same bins; one with other bins is refused, saying which.
 */
export function pooledCalibration(tables: ReadonlyArray<ReadonlyArray<CalibrationBin>>): { calibration: CalibrationBin[]; calibrationError: number } {
  const [first = []] = tables;
  const sums = first.map(() => ({ count: 0, confidence: 0, right: 0 }));
  tables.forEach((table, k) => {
    if (table.length !== first.length || table.some((bin, i) => bin.lo !== first[i].lo || bin.hi !== first[i].hi))
      throw new Error(`calibration table ${k + 1} has other bins than the first (${table.length} against ${first.length}): they cannot be pooled`);
    table.forEach((bin, i) => {
      sums[i].count += bin.count;
      sums[i].confidence += bin.meanConfidence * bin.count;
      sums[i].right += bin.accuracy * bin.count;
    });
  });
  return tableOf(sums);
}

/** Bins of equal width from the sums of their decisions' confidences and rights, with the expected calibration error. */
function tableOf(sums: ReadonlyArray<{ count: number; confidence: number; right: number }>): { calibration: CalibrationBin[]; calibrationError: number } {
  const total = sums.reduce((n, bin) => n + bin.count, 0);
  const calibration = sums.map((bin, i) => ({
    lo: i / sums.length,
    hi: (i + 1) / sums.length,
    count: bin.count,
    meanConfidence: ratio(bin.confidence, bin.count),
    accuracy: ratio(bin.right, bin.count),
  }));
  const calibrationError = calibration.reduce((sum, bin) => sum + ratio(bin.count, total) * Math.abs(bin.accuracy - bin.meanConfidence), 0);
  return { calibration, calibrationError };
}

/** a / b, and 0 for an empty bin or no samples. */
const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
