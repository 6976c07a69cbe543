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
