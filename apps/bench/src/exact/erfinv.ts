/**
 * erf and its inverse in double precision. The faces generators take z ~ N(0, I) with renderer
 * parameters θ = erf(z / √2), so the bench needs z = √2 · erfinv(θ) to ask the model for the
 * renderer's exact edit of a drag.
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erfc(x) for x ≥ 2 by its continued fraction (modified Lentz): the series would cancel there. */
function erfcLarge(x: number): number {
  // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 300; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** The error function, |error| < 1e-15 (Maclaurin series below 2, continued fraction above). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const ax = Math.abs(x);
  if (ax >= 2) return Math.sign(x) * (1 - erfcLarge(ax));
  // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1)); terms fall fast enough below 2
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let n = 1; n < 100; n++) {
    term *= -x2 / n;
    const t = term / (2 * n + 1);
    sum += t;
    if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

/**
 * The inverse of erf on (−1, 1); ±Infinity at ±1, NaN outside. Winitzki's closed form (a = 0.147,
 * relative error ~2·10⁻³) as the start, then Halley steps on erf(y) − x, which use erf″ = −2y·erf′
 * and triple the correct digits each.
 */
export function erfinv(x: number): number {
  if (Number.isNaN(x) || x < -1 || x > 1) return Number.NaN;
  if (x === 1 || x === -1) return x * Infinity;
  if (x === 0) return 0;
  const a = 0.147;
  const ln = Math.log(1 - x * x);
  const b = 2 / (Math.PI * a) + ln / 2;
  let y = Math.sign(x) * Math.sqrt(Math.sqrt(b * b - ln / a) - b);
  for (let k = 0; k < 4; k++) {
    const f = erf(y) - x;
    const df = TWO_OVER_SQRT_PI * Math.exp(-y * y);
    const step = f / df;
    y -= step / (1 + y * step);
    if (Math.abs(step) < 1e-15 * Math.max(1, Math.abs(y))) break;
  }
  return y;
}
