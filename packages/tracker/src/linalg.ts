/**
 * Solves S x = b in place for a symmetric positive-definite S (n×n, row-major, only the upper
 * triangle is read; S is overwritten by its Cholesky factor, b by x). Throws when S is not
 * positive definite (which the ridge term rules out for finite input).
 */
export function choleskySolve(S: Float64Array, b: Float64Array, n: number): Float64Array {
  // Row-oriented Cholesky on the upper triangle: S = Uᵀ U, U stored in S's upper triangle.
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let d = S[ri + i]!;
    for (let k = 0; k < i; k++) {
      const u = S[k * n + i]!;
      d -= u * u;
    }
    if (!(d > 0)) throw new Error(`choleskySolve: matrix is not positive definite (pivot ${i} = ${d}).`);
    d = Math.sqrt(d);
    S[ri + i] = d;
    const inv = 1 / d;
    // U[i][j] = (S[i][j] − Σ_k U[k][i] U[k][j]) / U[i][i], accumulated row by row of U (contiguous).
    for (let k = 0; k < i; k++) {
      const rk = k * n;
      const uki = S[rk + i]!;
      if (uki === 0) continue;
      for (let j = i + 1; j < n; j++) S[ri + j] = S[ri + j]! - uki * S[rk + j]!;
    }
    for (let j = i + 1; j < n; j++) S[ri + j] = S[ri + j]! * inv;
  }
  // Uᵀ y = b (forward), then U x = y (backward).
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= S[k * n + i]! * b[k]!;
    b[i] = s / S[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    let s = b[i]!;
    for (let j = i + 1; j < n; j++) s -= S[ri + j]! * b[j]!;
    b[i] = s / S[ri + i]!;
  }
  return b;
}

/**
 * Solves A x = b in place by LU with partial pivoting (A: n×n row-major, overwritten; b becomes x).
 * Throws when A is singular to working precision.
 */
export function luSolve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  for (let k = 0; k < n; k++) {
    let piv = k;
    let best = Math.abs(A[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(A[i * n + k]!);
      if (v > best) {
        best = v;
        piv = i;
      }
    }
    if (!(best > 0)) throw new Error(`luSolve: matrix is singular (column ${k}).`);
    if (piv !== k) {
      const rk = k * n;
      const rp = piv * n;
      for (let j = 0; j < n; j++) {
        const t = A[rk + j]!;
        A[rk + j] = A[rp + j]!;
        A[rp + j] = t;
      }
      const t = b[k]!;
      b[k] = b[piv]!;
      b[piv] = t;
    }
    const rk = k * n;
    const inv = 1 / A[rk + k]!;
    for (let i = k + 1; i < n; i++) {
      const ri = i * n;
      const m = A[ri + k]! * inv;
      if (m === 0) continue;
      A[ri + k] = m;
      for (let j = k + 1; j < n; j++) A[ri + j] = A[ri + j]! - m * A[rk + j]!;
      b[i] = b[i]! - m * b[k]!;
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    let s = b[i]!;
    for (let j = i + 1; j < n; j++) s -= A[ri + j]! * b[j]!;
    b[i] = s / A[ri + i]!;
  }
  return b;
}
