import { broadcastShapes } from './shape-utils';
import { numel, type Tensor } from './tensor';

/**
 * MatMul and Gemm on constant tensors, for constant folding: pinning a UNet's timestep and text
 * embedding makes its time-embedding MLP and the cross-attention keys/values constant.
 * Accumulates in float64; returns float32 for float32 operands.
 */
export function matmulEval(a: Tensor, b: Tensor): Tensor {
  const a2 = a.dims.length === 1 ? [1, a.dims[0] as number] : [...a.dims];
  const b2 = b.dims.length === 1 ? [b.dims[0] as number, 1] : [...b.dims];
  const [m, k] = a2.slice(-2) as [number, number];
  const [k2, n] = b2.slice(-2) as [number, number];
  if (k !== k2) throw new Error(`MatMul: inner dims ${k} and ${k2} differ`);
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  const nb = numel(batch);
  // Folding is for small products (embeddings, projections of a pinned input), not whole layers.
  if (nb * m * k * n > 5e8) throw new Error('MatMul: too large to fold');
  const out = a.data instanceof Float32Array ? new Float32Array(nb * m * n) : new Float64Array(nb * m * n);
  const offset = (dims: number[], bi: number): number => {
    // Index of batch element bi of a (broadcast) operand with leading dims `dims`.
    let rem = bi;
    let off = 0;
    let stride = 1;
    for (let i = batch.length - 1; i >= 0; i--) {
      const d = batch[i] as number;
      const c = rem % d;
      rem = Math.floor(rem / d);
      const j = i - (batch.length - dims.length);
      if (j >= 0) {
        const dd = dims[j] as number;
        off += (dd === 1 ? 0 : c) * stride;
        stride *= dd;
      }
    }
    return off;
  };
  const row = new Float64Array(n);
  for (let bi = 0; bi < nb; bi++) {
    const ao = offset(a2.slice(0, -2), bi) * m * k;
    const bo = offset(b2.slice(0, -2), bi) * k * n;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const av = a.data[ao + i * k + p] as number;
        if (av === 0) continue;
        const base = bo + p * n;
        for (let j = 0; j < n; j++) row[j] = (row[j] as number) + av * (b.data[base + j] as number);
      }
      out.set(row, (bi * m + i) * n);
    }
  }
  const dims = [...batch, m, n];
  if (a.dims.length === 1) dims.splice(dims.length - 2, 1);
  if (b.dims.length === 1) dims.pop();
  return { dtype: a.dtype, dims, data: out };
}

function transpose2(t: Tensor): Tensor {
  const [r, c] = t.dims as [number, number];
  const out = t.data instanceof Float32Array ? new Float32Array(r * c) : new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j] as number;
  return { dtype: t.dtype, dims: [c, r], data: out };
}

/** Y = alpha·op(A)·op(B) + beta·C (C broadcast to [M, N]). */
export function gemmEval(a: Tensor, b: Tensor, c: Tensor | undefined, transA: boolean, transB: boolean, alpha: number, beta: number): Tensor {
  const y = matmulEval(transA ? transpose2(a) : a, transB ? transpose2(b) : b);
  const [m, n] = y.dims as [number, number];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let v = alpha * (y.data[i * n + j] as number);
      if (c) {
        const ci = c.dims.length === 0 ? 0 : c.dims.length === 1 ? (c.dims[0] === 1 ? 0 : j) : (c.dims[0] === 1 ? 0 : i) * (c.dims[1] as number) + (c.dims[1] === 1 ? 0 : j);
        v += beta * (c.data[ci] as number);
      }
      y.data[i * n + j] = v;
    }
  }
  return y;
}
