/** Tolerances for {@link allClose}: |a − e| ≤ atol + rtol·|e| element-wise. */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

/** Where two arrays disagree worst; `ok` says whether every element is within tolerance. */
export interface CloseReport {
  readonly ok: boolean;
  readonly worstIndex: number;
  readonly worstActual: number;
  readonly worstExpected: number;
  /** Largest (|a − e| − atol − rtol·|e|); ≤ 0 when ok. Infinity for NaN/length mismatches. */
  readonly worstExcess: number;
  readonly message: string;
}

type Numbers = ArrayLike<number>;

/**
 * Compares element-wise. NaN matches only NaN and ±Infinity only the same infinity — a NaN
 * never slips through as "close" because every comparison with it is false.
 */
export function compareClose(actual: Numbers, expected: Numbers, tol: Tolerance): CloseReport {
  if (actual.length !== expected.length) {
    return {
      ok: false, worstIndex: -1, worstActual: NaN, worstExpected: NaN, worstExcess: Infinity,
      message: `length mismatch: actual ${actual.length}, expected ${expected.length}`,
    };
  }
  let worst = -Infinity;
  let wi = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    let excess: number;
    if (Number.isNaN(a) || Number.isNaN(e)) excess = Number.isNaN(a) && Number.isNaN(e) ? -Infinity : Infinity;
    else if (!Number.isFinite(a) || !Number.isFinite(e)) excess = a === e ? -Infinity : Infinity;
    else excess = Math.abs(a - e) - tol.atol - tol.rtol * Math.abs(e);
    if (excess > worst) {
      worst = excess;
      wi = i;
    }
  }
  const ok = actual.length === 0 || worst <= 0;
  const wa = wi >= 0 ? actual[wi]! : NaN;
  const we = wi >= 0 ? expected[wi]! : NaN;
  return {
    ok, worstIndex: wi, worstActual: wa, worstExpected: we, worstExcess: worst,
    message: ok
      ? 'all close'
      : `element ${wi}: actual ${wa}, expected ${we} (atol ${tol.atol}, rtol ${tol.rtol}, over by ${worst})`,
  };
}

/** Throws an Error with the worst element when the arrays are not close; for tests. */
export function expectAllClose(actual: Numbers, expected: Numbers, tol: Tolerance): void {
  const r = compareClose(actual, expected, tol);
  if (!r.ok) throw new Error(`expectAllClose failed: ${r.message}`);
}
