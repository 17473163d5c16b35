/**
 * The chi-square distribution's upper tail: how likely a sum of `dof` squared standard normal
 * residuals is to reach `chi2` by chance. Shelf perception asks it whether an explanation of a weight
 * change fits within the plates' noise and the products' weight spread.
 *
 * It is the regularized upper incomplete gamma function Q(dof / 2, chi2 / 2), by its power series
 * below the mean and by its continued fraction above it (where the series would cancel to nothing).
 */

/** Terms or steps before giving up; both converge in far fewer for the degrees of freedom of a shelf. */
const MAX_ITERATIONS = 500;
const RELATIVE_PRECISION = 1e-14;
/** Keeps the continued fraction's denominators away from zero. */
const TINY = 1e-300;

/** ln Γ(shape) for a whole or half-whole shape > 0 (half the degrees of freedom), exactly by Γ(s + 1) = s Γ(s). */
function logGammaOfHalfInteger(shape: number): number {
  const whole = Number.isInteger(shape);
  let value = whole ? 0 : 0.5 * Math.log(Math.PI);
  for (let factor = whole ? 1 : 0.5; factor < shape; factor++) value += Math.log(factor);
  return value;
}

/** The lower tail P(shape, at) by its power series, Σ at^n / (shape (shape+1) ... (shape+n)); good below shape + 1. */
function lowerBySeries(shape: number, at: number, logPrefactor: number): number {
  let term = 1 / shape;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= at / (shape + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * RELATIVE_PRECISION) break;
  }
  return sum * Math.exp(logPrefactor);
}

/** The upper tail Q(shape, at) by its continued fraction, evaluated with the modified Lentz method; good from shape + 1. */
function upperByContinuedFraction(shape: number, at: number, logPrefactor: number): number {
  let partialDenominator = at + 1 - shape;
  let lentzC = 1 / TINY;
  let lentzD = 1 / partialDenominator;
  let fraction = lentzD;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    const partialNumerator = -n * (n - shape);
    partialDenominator += 2;
    lentzD = partialNumerator * lentzD + partialDenominator;
    if (Math.abs(lentzD) < TINY) lentzD = TINY;
    lentzC = partialDenominator + partialNumerator / lentzC;
    if (Math.abs(lentzC) < TINY) lentzC = TINY;
    lentzD = 1 / lentzD;
    const step = lentzD * lentzC;
    fraction *= step;
    if (Math.abs(step - 1) < RELATIVE_PRECISION) break;
  }
  return fraction * Math.exp(logPrefactor);
}

/** P(chi-square with dof degrees of freedom >= chi2). */
export function chiSquareUpperTail(chi2: number, dof: number): number {
  if (!Number.isInteger(dof) || dof < 1) throw new RangeError(`chi-square: degrees of freedom must be a whole number from 1, got ${dof}`);
  if (!(chi2 > 0)) return 1;
  if (chi2 === Infinity) return 0;
  const shape = dof / 2;
  const at = chi2 / 2;
  // at^shape e^-at / Γ(shape), in logs: both tails carry it.
  const logPrefactor = shape * Math.log(at) - at - logGammaOfHalfInteger(shape);
  return at < shape + 1 ? Math.max(0, 1 - lowerBySeries(shape, at, logPrefactor)) : upperByContinuedFraction(shape, at, logPrefactor);
}
