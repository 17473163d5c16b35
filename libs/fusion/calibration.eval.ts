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
  const calibration = sums.map((bin, i) => ({
    lo: i / bins,
    hi: (i + 1) / bins,
    count: bin.count,
    meanConfidence: ratio(bin.confidence, bin.count),
    accuracy: ratio(bin.right, bin.count),
  }));
  const calibrationError = calibration.reduce((sum, bin) => sum + ratio(bin.count, samples.length) * Math.abs(bin.accuracy - bin.meanConfidence), 0);
  return { calibration, calibrationError };
}

/** a / b, and 0 for an empty bin or no samples. */
const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
