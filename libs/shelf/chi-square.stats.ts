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

/** ln Γ(a) for a whole or half-whole a > 0 (half the degrees of freedom), exactly by Γ(a + 1) = a Γ(a). */
function logGammaOfHalfInteger(a: number): number {
  let value = Number.isInteger(a) ? 0 : 0.5 * Math.log(Math.PI);
  for (let x = Number.isInteger(a) ? 1 : 0.5; x < a; x++) value += Math.log(x);
  return value;
}

/** P(a, x) by the series x^a e^-x / Γ(a) · Σ x^n / (a (a+1) ... (a+n)); good for x < a + 1. */
function lowerBySeries(a: number, x: number, logPrefactor: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * RELATIVE_PRECISION) break;
  }
  return sum * Math.exp(logPrefactor);
}

/** Q(a, x) by its continued fraction, evaluated with the modified Lentz method; good for x >= a + 1. */
function upperByContinuedFraction(a: number, x: number, logPrefactor: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let fraction = d;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    const an = -n * (n - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const step = d * c;
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
  const a = dof / 2;
  const x = chi2 / 2;
  const logPrefactor = a * Math.log(x) - x - logGammaOfHalfInteger(a);
  return x < a + 1 ? Math.max(0, 1 - lowerBySeries(a, x, logPrefactor)) : upperByContinuedFraction(a, x, logPrefactor);
}
