/**
 * Solves S x = b for a symmetric positive-definite S (n×n, row-major; only the upper triangle is
 * read, S is left unchanged) and writes x into b. Throws when S is not positive definite (which the
 * ridge term rules out for finite input).
 */
export function choleskySolve(S: Float64Array, b: Float64Array, n: number): Float64Array {
  // Cholesky–Banachiewicz, row by row: S = L Lᵀ with L lower, row-major. Each entry is a dot
  // product of two contiguous row prefixes of L (no stores in the inner loop).
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s0 = 0;
      let s1 = 0;
      let k = 0;
      for (; k + 1 < j; k += 2) {
        s0 += L[ri + k]! * L[rj + k]!;
        s1 += L[ri + k + 1]! * L[rj + k + 1]!;
      }
      if (k < j) s0 += L[ri + k]! * L[rj + k]!;
      const v = S[j * n + i]! - s0 - s1; // S[j][i], j ≤ i: the upper triangle
      if (j < i) {
        L[ri + j] = v / L[rj + j]!;
      } else {
        if (!(v > 0)) throw new Error(`choleskySolve: matrix is not positive definite (pivot ${i} = ${v}).`);
        L[ri + i] = Math.sqrt(v);
      }
    }
  }
  // L y = b (forward), then Lᵀ x = y (backward).
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[ri + k]! * b[k]!;
    b[i] = s / L[ri + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let j = i + 1; j < n; j++) s -= L[j * n + i]! * b[j]!;
    b[i] = s / L[i * n + i]!;
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

/**
 * out[i·n + j] = Σ_k X[i·len + k] · Y[j·len + k] for j ≥ i (the upper triangle; a few entries
 * just below the diagonal are written too). 2 × 2 register blocks: four loads feed four
 * multiply-adds, about 1.7× faster in V8 than one dot product at a time.
 */
export function upperProducts(X: Float64Array, Y: Float64Array, n: number, len: number, out: Float64Array): Float64Array {
  const even = n - (n % 2);
  for (let i = 0; i < even; i += 2) {
    const xi = i * len;
    const xi1 = xi + len;
    let j = i;
    for (; j < even; j += 2) {
      const yj = j * len;
      const yj1 = yj + len;
      let a = 0;
      let b = 0;
      let c = 0;
      let d = 0;
      for (let k = 0; k < len; k++) {
        const x0 = X[xi + k]!;
        const x1 = X[xi1 + k]!;
        const y0 = Y[yj + k]!;
        const y1 = Y[yj1 + k]!;
        a += x0 * y0;
        b += x0 * y1;
        c += x1 * y0;
        d += x1 * y1;
      }
      const r = i * n + j;
      out[r] = a;
      out[r + 1] = b;
      out[r + n] = c;
      out[r + n + 1] = d;
    }
  }
  // Odd n: the last column (and the last diagonal entry).
  if (even < n) {
    const j = n - 1;
    const yj = j * len;
    for (let i = 0; i < n; i++) {
      const xi = i * len;
      let s = 0;
      for (let k = 0; k < len; k++) s += X[xi + k]! * Y[yj + k]!;
      out[i * n + j] = s;
    }
  }
  return out;
}
