import { bilinearTaps, type FeatureMap, type Point } from '@stabledrag/core';
import {
  DEFAULT_ITERATIONS,
  DEFAULT_LABEL_SIGMA,
  DEFAULT_RIDGE,
  DEFAULT_TRACK_RADIUS,
} from './defaults.js';
import { choleskySolve, luSolve, upperProducts } from './linalg.js';
import { checkFeatureMap, checkPoints, createWindow, fail, sampleWindow, type WindowSamples } from './window.js';

/**
 * A dense least-squares problem for the tracking filter z (StableDrag Eq. 3 plus a ridge):
 *   minimise ‖A z − y‖² + ρ ‖z − prior‖²,
 * A = `samples` (count × channels, point-major), y = `labels`, prior = f_i (also the start point
 * of the iterative solver, as in the paper), ρ = `ridge` (absolute).
 */
export interface FilterProblem {
  readonly samples: ArrayLike<number>;
  readonly count: number;
  readonly channels: number;
  readonly labels: ArrayLike<number>;
  readonly prior: ArrayLike<number>;
  readonly ridge: number;
}

/** How the filter is learned: 'closed-form' = normal equations + Cholesky; 'iterative' = Eq. 3 by gradient iterations. */
export type FilterSolver = 'closed-form' | 'iterative';

/**
 * The iterative optimiser. 'cg': conjugate gradient on the (ridged) Eq. 3 loss, started at f_i —
 * it uses only the loss gradient, like the paper's training, and reaches the minimiser within
 * C iterations in exact arithmetic. 'gd': plain gradient descent with the safe step 1/L
 * (L ≥ λ_max(AᵀA) + ρ from a power iteration); after 1000 steps it is an early-stopped,
 * implicitly regularised solution, closer to what a PyTorch loop with a fixed budget returns.
 */
export type IterativeMethod = 'cg' | 'gd';

export interface IterativeOptions {
  /** Iteration budget; default {@link DEFAULT_ITERATIONS}. */
  readonly iterations?: number;
  /** Default 'cg'. */
  readonly method?: IterativeMethod;
  /** CG stops early when ‖residual‖ ≤ tolerance · ‖rhs‖; default 1e-12. */
  readonly tolerance?: number;
}

function checkProblem(p: FilterProblem): void {
  const { count, channels } = p;
  if (!Number.isInteger(count) || count < 1) fail(`FilterProblem: count must be a positive integer, got ${count}.`);
  if (!Number.isInteger(channels) || channels < 1) fail(`FilterProblem: channels must be a positive integer, got ${channels}.`);
  if (p.samples.length < count * channels) fail(`FilterProblem: samples has ${p.samples.length} values, needs ${count}×${channels}.`);
  if (p.labels.length < count) fail(`FilterProblem: labels has ${p.labels.length} values, needs ${count}.`);
  if (p.prior.length !== channels) fail(`FilterProblem: prior has ${p.prior.length} channels, samples have ${channels}.`);
  if (!(Number.isFinite(p.ridge) && p.ridge > 0)) fail(`FilterProblem: ridge must be a positive number, got ${p.ridge}.`);
}

/** The ridged Eq. 3 loss ‖A z − y‖² + ρ ‖z − prior‖². */
export function filterObjective(p: FilterProblem, z: ArrayLike<number>): number {
  const { samples: A, count: N, channels: C, labels: y, prior: f, ridge } = p;
  let loss = 0;
  for (let n = 0; n < N; n++) {
    let g = 0;
    const b = n * C;
    for (let c = 0; c < C; c++) g += A[b + c]! * z[c]!;
    const e = g - y[n]!;
    loss += e * e;
  }
  let reg = 0;
  for (let c = 0; c < C; c++) {
    const d = z[c]! - f[c]!;
    reg += d * d;
  }
  return loss + ridge * reg;
}

/**
 * Closed form of the ridged Eq. 3: (AᵀA + ρI) z = Aᵀy + ρ·prior, solved by Cholesky. Dense:
 * forms AᵀA in count·C²/2 multiply-adds. The tracker itself uses the cheaper factorised Gram of
 * {@link learnFilter}; this is the reusable building block for arbitrary samples.
 */
export function solveFilterClosedForm(p: FilterProblem): Float64Array {
  checkProblem(p);
  const { samples: A, count: N, channels: C, labels: y, prior: f, ridge } = p;
  const S = new Float64Array(C * C);
  const rhs = new Float64Array(C);
  const row = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const b = n * C;
    for (let c = 0; c < C; c++) row[c] = A[b + c]!;
    const yn = y[n]!;
    for (let i = 0; i < C; i++) {
      const a = row[i]!;
      rhs[i] = rhs[i]! + a * yn;
      if (a === 0) continue;
      const r = i * C;
      for (let j = i; j < C; j++) S[r + j] = S[r + j]! + a * row[j]!;
    }
  }
  for (let i = 0; i < C; i++) {
    S[i * C + i] = S[i * C + i]! + ridge;
    rhs[i] = rhs[i]! + ridge * f[i]!;
  }
  return choleskySolve(S, rhs, C);
}

/** Applies v ↦ Aᵀ(A v) + ρ v; `tmp` has `count` entries. */
function normalOp(p: FilterProblem, v: Float64Array, out: Float64Array, tmp: Float64Array): void {
  const { samples: A, count: N, channels: C, ridge } = p;
  for (let n = 0; n < N; n++) {
    let g = 0;
    const b = n * C;
    for (let c = 0; c < C; c++) g += A[b + c]! * v[c]!;
    tmp[n] = g;
  }
  for (let c = 0; c < C; c++) out[c] = ridge * v[c]!;
  for (let n = 0; n < N; n++) {
    const g = tmp[n]!;
    if (g === 0) continue;
    const b = n * C;
    for (let c = 0; c < C; c++) out[c] = out[c]! + A[b + c]! * g;
  }
}

/**
 * The paper's iterative learning of z_i (Eq. 3, plus the same ridge as the closed form so both
 * have one minimiser): starts at z = prior = f_i and follows the loss gradient for at most
 * `iterations` steps. See {@link IterativeMethod} for the optimiser.
 */
export function solveFilterIterative(
  p: FilterProblem,
  options: IterativeOptions = {},
): { filter: Float64Array; iterations: number } {
  checkProblem(p);
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  const method = options.method ?? 'cg';
  const tolerance = options.tolerance ?? 1e-12;
  if (!Number.isInteger(iterations) || iterations < 0) fail(`iterations must be a non-negative integer, got ${iterations}.`);
  const { samples: A, count: N, channels: C, labels: y, prior: f, ridge } = p;
  const x = Float64Array.from(f as ArrayLike<number>);
  // b = Aᵀy + ρ·prior: the gradient of the loss is 2((AᵀA + ρI) z − b).
  const b = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const yn = y[n]!;
    const o = n * C;
    for (let c = 0; c < C; c++) b[c] = b[c]! + A[o + c]! * yn;
  }
  for (let c = 0; c < C; c++) b[c] = b[c]! + ridge * f[c]!;
  const tmp = new Float64Array(N);
  const Ax = new Float64Array(C);
  let done = 0;
  if (method === 'gd') {
    // Safe step 1/L with L an upper estimate of λ_max(AᵀA + ρI) (power iteration, 5 % margin).
    const v = new Float64Array(C).fill(1 / Math.sqrt(C));
    let lambda = ridge;
    for (let it = 0; it < 50; it++) {
      normalOp(p, v, Ax, tmp);
      let norm = 0;
      for (let c = 0; c < C; c++) norm += Ax[c]! * Ax[c]!;
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      lambda = norm;
      for (let c = 0; c < C; c++) v[c] = Ax[c]! / norm;
    }
    const step = 1 / (1.05 * lambda);
    for (; done < iterations; done++) {
      normalOp(p, x, Ax, tmp);
      for (let c = 0; c < C; c++) x[c] = x[c]! - step * (Ax[c]! - b[c]!);
    }
    return { filter: x, iterations: done };
  }
  if (method !== 'cg') fail(`method must be 'cg' or 'gd', got '${String(method)}'.`);
  normalOp(p, x, Ax, tmp);
  const r = new Float64Array(C);
  const d = new Float64Array(C);
  let bNorm = 0;
  let rr = 0;
  for (let c = 0; c < C; c++) {
    r[c] = b[c]! - Ax[c]!;
    d[c] = r[c]!;
    rr += r[c]! * r[c]!;
    bNorm += b[c]! * b[c]!;
  }
  const stop = tolerance * tolerance * bNorm;
  const Ad = Ax;
  for (; done < iterations && rr > stop; done++) {
    normalOp(p, d, Ad, tmp);
    let dAd = 0;
    for (let c = 0; c < C; c++) dAd += d[c]! * Ad[c]!;
    if (!(dAd > 0)) break;
    const alpha = rr / dAd;
    let rrNew = 0;
    for (let c = 0; c < C; c++) {
      x[c] = x[c]! + alpha * d[c]!;
      r[c] = r[c]! - alpha * Ad[c]!;
      rrNew += r[c]! * r[c]!;
    }
    const beta = rrNew / rr;
    rr = rrNew;
    for (let c = 0; c < C; c++) d[c] = r[c]! + beta * d[c]!;
  }
  return { filter: x, iterations: done };
}

/** What the discriminative tracker keeps per handle after learning (all fixed during the drag). */
export interface DiscriminativeModel {
  /** f_i = F0(p_i⁰), the step-0 handle feature (C). */
  readonly template: Float32Array;
  /** z_i, the learned 1×C×1×1 filter (C). */
  readonly filter: Float64Array;
  /**
   * ν_i: mean L1 distance between f_i and the other step-0 window features. The fused score
   * uses exp(−‖F(q) − f_i‖₁ / ν_i): e^{-1} at a typical background point, 1 at a perfect match
   * (the raw exp(−‖·‖₁) of Eq. 2 underflows to 0 over hundreds of channels).
   */
  readonly normaliser: number;
  /** Absolute ridge ρ used. */
  readonly ridge: number;
  /** Label σ in image pixels. */
  readonly labelSigma: number;
  /** Window radius r2 in image pixels the model was learned on. */
  readonly radius: number;
  /** Solver iterations (0 for the closed form). */
  readonly iterations: number;
}

export interface LearnFilterOptions {
  /** r2, image pixels (integer); default {@link DEFAULT_TRACK_RADIUS}. */
  readonly radius?: number;
  /** Label σ in image pixels; default max(1, {@link DEFAULT_LABEL_SIGMA} · scale). */
  readonly labelSigma?: number;
  /** Ridge relative to trace(AᵀA)/C; default {@link DEFAULT_RIDGE}. */
  readonly ridge?: number;
  /** Default 'closed-form'. */
  readonly solver?: FilterSolver;
  /** Options of the iterative solver. */
  readonly iterative?: IterativeOptions;
}

/** The label σ (image pixels) used for a map of this scale when none is given. */
export function defaultLabelSigma(scale: number): number {
  return Math.max(1, DEFAULT_LABEL_SIGMA * scale);
}

/** Eq. 3's label: y(q) = exp(−‖q − p‖² / 2σ²) over the window's integer offsets (count = side²). */
export function gaussianLabels(radius: number, sigma: number, out?: Float64Array): Float64Array {
  if (!(Number.isFinite(sigma) && sigma > 0)) fail(`labelSigma must be a positive number, got ${sigma}.`);
  const side = 2 * radius + 1;
  const y = out ?? new Float64Array(side * side);
  const k = 1 / (2 * sigma * sigma);
  for (let n = 0; n < side * side; n++) {
    const dx = (n % side) - radius;
    const dy = Math.floor(n / side) - radius;
    y[n] = Math.exp(-(dx * dx + dy * dy) * k);
  }
  return y;
}

/** Mean L1 distance from the centre feature to the other valid window features (≥ tiny). */
function windowNormaliser(win: WindowSamples, template: Float32Array): number {
  const { count, channels: C, samples } = win;
  const centre = win.radius * win.side + win.radius;
  let sum = 0;
  let m = 0;
  for (let n = 0; n < count; n++) {
    if (n === centre || win.valid[n] === 0) continue;
    let d = 0;
    const o = n * C;
    for (let c = 0; c < C; c++) d += Math.abs(samples[o + c]! - template[c]!);
    sum += d;
    m++;
  }
  const nu = m > 0 ? sum / m : 0;
  // A constant window has ν = 0; any positive ν then gives the same (flat) score.
  return nu > 1e-30 ? nu : 1;
}

/**
 * Learns z_i for one handle on the step-0 window (StableDrag Eq. 3 with a ridge towards f_i).
 *
 * The closed form never forms the 625 × C patch matrix product: each window feature is a bilinear
 * mix of K native feature pixels (A = B·G, B = count × K interpolation weights, G = K × C native
 * features, K ≈ (2·r2/scale + 2)²), so AᵀA = Gᵀ(BᵀB G) costs K·C²/2 instead of count·C²/2
 * (K = 81 instead of 625 for r2 = 12 at scale 4). The solve is then a C × C Cholesky, or, when K
 * is small next to C, an equivalent K × K system (see solveInBoxSpace), whichever costs less.
 */
export function learnFilter(features0: FeatureMap, handle: Point, options: LearnFilterOptions = {}, handleIndex = 0): DiscriminativeModel {
  checkFeatureMap(features0, 'learnFilter(features0)');
  checkPoints(features0, [handle], null, 'learnFilter', handleIndex);
  const radius = options.radius ?? DEFAULT_TRACK_RADIUS;
  const sigma = options.labelSigma ?? defaultLabelSigma(features0.scale);
  const ridgeRel = options.ridge ?? DEFAULT_RIDGE;
  if (!(Number.isFinite(ridgeRel) && ridgeRel > 0)) fail(`ridge must be a positive number, got ${ridgeRel}.`);
  const solver = options.solver ?? 'closed-form';
  const C = features0.channels;
  const win = sampleWindow(features0, handle, createWindow(radius, C), handleIndex, 'learnFilter');
  const centre = radius * win.side + radius;
  const template = win.samples.slice(centre * C, centre * C + C);
  const normaliser = windowNormaliser(win, template);
  const labels = gaussianLabels(radius, sigma);

  if (solver === 'iterative') {
    // Dense problem over the valid candidates.
    let N = 0;
    for (let n = 0; n < win.count; n++) N += win.valid[n]!;
    const A = new Float64Array(N * C);
    const y = new Float64Array(N);
    let trace = 0;
    for (let n = 0, m = 0; n < win.count; n++) {
      if (win.valid[n] === 0) continue;
      for (let c = 0; c < C; c++) {
        const a = win.samples[n * C + c]!;
        A[m * C + c] = a;
        trace += a * a;
      }
      y[m] = labels[n]!;
      m++;
    }
    const ridge = (ridgeRel * trace) / C || ridgeRel;
    const { filter, iterations } = solveFilterIterative(
      { samples: A, count: N, channels: C, labels: y, prior: template, ridge },
      options.iterative,
    );
    return { template, filter, normaliser, ridge, labelSigma: sigma, radius, iterations };
  }
  if (solver !== 'closed-form') fail(`solver must be 'closed-form' or 'iterative', got '${String(solver)}'.`);
  const { filter, ridge } = solveFactorised(features0, win, labels, template, ridgeRel);
  return { template, filter, normaliser, ridge, labelSigma: sigma, radius, iterations: 0 };
}

function solveFactorised(
  map: FeatureMap,
  win: WindowSamples,
  labels: Float64Array,
  template: Float32Array,
  ridgeRel: number,
): { filter: Float64Array; ridge: number } {
  const C = map.channels;
  const W = map.width;
  const plane = map.width * map.height;
  const idx = new Int32Array(win.count * 4);
  const wt = new Float64Array(win.count * 4);
  let umin = Infinity;
  let umax = -Infinity;
  let vmin = Infinity;
  let vmax = -Infinity;
  for (let n = 0; n < win.count; n++) {
    if (win.valid[n] === 0) continue;
    const q = win.points[n]!;
    bilinearTaps(map, q.x, q.y, idx, wt, 4 * n);
    for (let t = 0; t < 4; t++) {
      const k = idx[4 * n + t]!;
      const u = k % W;
      const v = (k - u) / W;
      if (u < umin) umin = u;
      if (u > umax) umax = u;
      if (v < vmin) vmin = v;
      if (v > vmax) vmax = v;
    }
  }
  const bw = umax - umin + 1;
  const K = bw * (vmax - vmin + 1);
  // G: the K native pixels of the bounding box, point-major, and its channel-major copy.
  const G = new Float64Array(K * C);
  for (let k = 0; k < K; k++) {
    const u = umin + (k % bw);
    const v = vmin + Math.floor(k / bw);
    const src = v * W + u;
    for (let c = 0; c < C; c++) G[k * C + c] = map.data[c * plane + src]!;
  }
  // Local tap indices into the K box pixels.
  const local = new Int32Array(win.count * 4);
  for (let n = 0; n < win.count; n++) {
    if (win.valid[n] === 0) continue;
    for (let t = 0; t < 4; t++) {
      const k = idx[4 * n + t]!;
      const u = k % W;
      const v = (k - u) / W;
      local[4 * n + t] = (v - vmin) * bw + (u - umin);
    }
  }
  // Solve in whichever space is cheaper: K-space costs K²C/2 + 2K³/3, C-space K·C²/2 + C³/6.
  if (K * K * (C / 2 + (2 * K) / 3) < C * C * (K / 2 + C / 6)) return solveInBoxSpace(win, labels, template, ridgeRel, G, K, C, local, wt);

  // Primal: H = Bᵀ B G = Bᵀ A, accumulated per candidate; also Aᵀy and trace(AᵀA).
  const H = new Float64Array(K * C);
  const rhs = new Float64Array(C);
  const a = new Float64Array(C);
  let trace = 0;
  for (let n = 0; n < win.count; n++) {
    if (win.valid[n] === 0) continue;
    a.fill(0);
    for (let t = 0; t < 4; t++) {
      const w = wt[4 * n + t]!;
      if (w === 0) continue;
      const o = local[4 * n + t]! * C;
      for (let c = 0; c < C; c++) a[c] = a[c]! + w * G[o + c]!;
    }
    const yn = labels[n]!;
    for (let c = 0; c < C; c++) {
      const ac = a[c]!;
      trace += ac * ac;
      rhs[c] = rhs[c]! + yn * ac;
    }
    for (let t = 0; t < 4; t++) {
      const w = wt[4 * n + t]!;
      if (w === 0) continue;
      const o = local[4 * n + t]! * C;
      for (let c = 0; c < C; c++) H[o + c] = H[o + c]! + w * a[c]!;
    }
  }
  // Upper triangle of AᵀA = Gᵀ H (symmetric as a whole), as dot products over k in
  // channel-major copies (contiguous inner loop).
  const GT = new Float64Array(C * K);
  const HT = new Float64Array(C * K);
  for (let k = 0; k < K; k++) {
    for (let c = 0; c < C; c++) {
      GT[c * K + k] = G[k * C + c]!;
      HT[c * K + k] = H[k * C + c]!;
    }
  }
  const S = upperProducts(GT, HT, C, K, new Float64Array(C * C));
  const ridge = (ridgeRel * trace) / C || ridgeRel;
  for (let i = 0; i < C; i++) {
    S[i * C + i] = S[i * C + i]! + ridge;
    rhs[i] = rhs[i]! + ridge * template[i]!;
  }
  return { filter: choleskySolve(S, rhs, C), ridge };
}

/**
 * The same minimiser solved in the K-dimensional space of the box pixels (when K is small next to C): with
 * A = B·G, M = BᵀB, Q = G·Gᵀ and r = y − A f_i, the push-through identity
 * (GᵀMG + ρI_C)⁻¹Gᵀ = Gᵀ(MQ + ρI_K)⁻¹ gives z = f_i + Gᵀ (MQ + ρI_K)⁻¹ Bᵀr.
 * MQ + ρI is not symmetric (but has eigenvalues ≥ ρ), hence LU. Cost K²·C/2 + K³ instead of
 * K·C²/2 + C³/6.
 */
function solveInBoxSpace(
  win: WindowSamples,
  labels: Float64Array,
  template: Float32Array,
  ridgeRel: number,
  G: Float64Array,
  K: number,
  C: number,
  local: Int32Array,
  wt: Float64Array,
): { filter: Float64Array; ridge: number } {
  const M = new Float64Array(K * K);
  const Gf = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let s = 0;
    const o = k * C;
    for (let c = 0; c < C; c++) s += G[o + c]! * template[c]!;
    Gf[k] = s;
  }
  const Btr = new Float64Array(K);
  for (let n = 0; n < win.count; n++) {
    if (win.valid[n] === 0) continue;
    const b = 4 * n;
    let af = 0;
    for (let t = 0; t < 4; t++) af += wt[b + t]! * Gf[local[b + t]!]!;
    const rn = labels[n]! - af;
    for (let t = 0; t < 4; t++) {
      const kt = local[b + t]!;
      const w = wt[b + t]!;
      Btr[kt] = Btr[kt]! + w * rn;
      for (let s = 0; s < 4; s++) {
        const i = kt * K + local[b + s]!;
        M[i] = M[i]! + w * wt[b + s]!;
      }
    }
  }
  // Q = G Gᵀ (symmetric; rows of G are contiguous).
  const Q = upperProducts(G, G, K, C, new Float64Array(K * K));
  for (let k = 0; k < K; k++) for (let l = k + 1; l < K; l++) Q[l * K + k] = Q[k * K + l]!;
  // S = M Q + ρ I, using M's sparsity (≤ 9 neighbours per box pixel); trace(AᵀA) = trace(MQ).
  const S = new Float64Array(K * K);
  let trace = 0;
  for (let i = 0; i < K; i++) {
    const ri = i * K;
    for (let l = 0; l < K; l++) {
      const m = M[ri + l]!;
      if (m === 0) continue;
      const rl = l * K;
      for (let j = 0; j < K; j++) S[ri + j] = S[ri + j]! + m * Q[rl + j]!;
    }
    trace += S[ri + i]!;
  }
  const ridge = (ridgeRel * trace) / C || ridgeRel;
  for (let i = 0; i < K; i++) S[i * K + i] = S[i * K + i]! + ridge;
  const beta = luSolve(S, Btr, K);
  const z = Float64Array.from(template);
  for (let k = 0; k < K; k++) {
    const bk = beta[k]!;
    if (bk === 0) continue;
    const o = k * C;
    for (let c = 0; c < C; c++) z[c] = z[c]! + bk * G[o + c]!;
  }
  return { filter: z, ridge };
}
