import { compareClose } from './all-close.js';
import type { Tolerance } from './all-close.js';
import type { DragBackend, DragLatent } from './backend.js';
import { createNormalRng } from './prng.js';

export interface ConformanceOptions {
  /** Seeds to start latents from. Default [0, 1]. */
  readonly seeds?: readonly number[];
  /** Central finite-difference step along a unit direction of the optimised latent. Default 1e-3. */
  readonly epsilon?: number;
  /** Tolerance of ⟨vjp(u), v⟩ against the finite difference of ⟨u, F⟩ along v. Default atol 1e-3, rtol 2e-2. */
  readonly vjpTolerance?: Tolerance;
  /** Random (cotangent, direction) pairs per seed. Default 3. */
  readonly directions?: number;
  /** Tolerance between two forward passes of the same latent. Default exact (0, 0). */
  readonly determinismTolerance?: Tolerance;
  /** Tolerance between forward passes with and without `withVjp`. Default atol 1e-5, rtol 1e-5. */
  readonly modeTolerance?: Tolerance;
  /**
   * Finite-difference step for a native fixed-region term (`info.fixedRegionTerm`). Default 1e-3:
   * such terms are L1 sums, and a larger step crosses more of their kinks, where central
   * differences stop measuring the gradient.
   */
  readonly fixedRegionEpsilon?: number;
}

export interface ConformanceCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

export interface ConformanceReport {
  readonly passed: boolean;
  readonly checks: readonly ConformanceCheck[];
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function withOptimized(latent: DragLatent, optimized: Float32Array): DragLatent {
  return { optimized, frozen: latent.frozen, meta: latent.meta };
}

/**
 * The checks every DragBackend must pass: contract shape, deterministic latents and features,
 * the VJP against central finite differences, image size, no aliasing, and dispose. Framework-free:
 * returns a report that tests turn into assertions (see {@link assertConformance}).
 */
export async function runConformance(
  create: () => DragBackend | Promise<DragBackend>,
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const checks: ConformanceCheck[] = [];
  const check = (name: string, passed: boolean, detail = ''): void => {
    checks.push({ name, passed, detail });
  };
  const seeds = options.seeds ?? [0, 1];
  const eps = options.epsilon ?? 1e-3;
  const vjpTol = options.vjpTolerance ?? { atol: 1e-3, rtol: 2e-2 };
  const detTol = options.determinismTolerance ?? { atol: 0, rtol: 0 };
  const backend = await create();
  const info = backend.info;

  check('specificationVersion is v1', backend.specificationVersion === 'v1', String(backend.specificationVersion));
  const ints = ['imageWidth', 'imageHeight', 'featureChannels', 'featureHeight', 'featureWidth', 'optimizedSize'] as const;
  const badInts = ints.filter((k) => !Number.isInteger(info[k]) || info[k] <= 0);
  check('info sizes are positive integers', badInts.length === 0, badInts.join(', '));
  check('info.featureScale and defaultLearningRate are positive', info.featureScale > 0 && info.defaultLearningRate > 0);
  check('info.defaultStopDistance is absent or positive', info.defaultStopDistance === undefined || info.defaultStopDistance > 0);

  for (const seed of seeds) {
    const a = await backend.createLatent({ type: 'seed', seed });
    const b = await backend.createLatent({ type: 'seed', seed });
    check(`seed ${seed}: optimised latent has optimizedSize floats`, a.optimized.length === info.optimizedSize, `${a.optimized.length} vs ${info.optimizedSize}`);
    const same = compareClose(a.optimized, b.optimized, { atol: 0, rtol: 0 }).ok && compareClose(a.frozen, b.frozen, { atol: 0, rtol: 0 }).ok;
    check(`seed ${seed}: createLatent is deterministic`, same);
    a.optimized[0] = a.optimized[0]! + 1;
    const c = await backend.createLatent({ type: 'seed', seed });
    check(`seed ${seed}: latents do not alias backend state`, c.optimized[0] === b.optimized[0]);
    const roundTrip = await backend.createLatent({
      type: 'latent',
      latent: JSON.parse(JSON.stringify({ ...b, optimized: [...b.optimized], frozen: [...b.frozen] }), (k, v) =>
        k === 'optimized' || k === 'frozen' ? Float32Array.from(v as number[]) : v,
      ) as DragLatent,
    });

    const p1 = await backend.forward(b, { withVjp: true });
    const f = p1.features;
    const shapeOk = f.channels === info.featureChannels && f.height === info.featureHeight && f.width === info.featureWidth
      && f.scale === info.featureScale && f.data.length === f.channels * f.height * f.width;
    check(`seed ${seed}: feature shape matches info`, shapeOk, `${f.channels}×${f.height}×${f.width} scale ${f.scale}`);
    check(`seed ${seed}: features are finite`, f.data.every(Number.isFinite));
    const p2 = await backend.forward(roundTrip, { withVjp: true });
    const det = compareClose(p2.features.data, f.data, detTol);
    check(`seed ${seed}: forward is deterministic (and a JSON round-tripped latent gives the same features)`, det.ok, det.message);
    p2.release();
    // A backend may run a different graph without the VJP residuals: same values up to rounding.
    const p3 = await backend.forward(b, { withVjp: false });
    const modes = compareClose(p3.features.data, f.data, options.modeTolerance ?? { atol: 1e-5, rtol: 1e-5 });
    check(`seed ${seed}: withVjp false and true give the same features`, modes.ok, modes.message);
    p3.release();

    const normal = createNormalRng(1000 + seed);
    const directions = options.directions ?? 3;
    for (let k = 0; k < directions; k++) {
      const u = Float32Array.from({ length: f.data.length }, () => normal());
      const uCopy = new Float32Array(u);
      const v = Float32Array.from({ length: info.optimizedSize }, () => normal());
      const norm = Math.sqrt(dot(v, v));
      for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
      const g = await p1.vjp(u);
      check(`seed ${seed}/${k}: vjp returns optimizedSize floats`, g.length === info.optimizedSize, `${g.length}`);
      check(`seed ${seed}/${k}: vjp leaves the cotangent unchanged`, compareClose(u, uCopy, { atol: 0, rtol: 0 }).ok);
      const plus = withOptimized(b, Float32Array.from(b.optimized, (x, i) => x + eps * v[i]!));
      const minus = withOptimized(b, Float32Array.from(b.optimized, (x, i) => x - eps * v[i]!));
      const fp = await backend.forward(plus, { withVjp: false });
      const fm = await backend.forward(minus, { withVjp: false });
      const fd = (dot(u, fp.features.data) - dot(u, fm.features.data)) / (2 * eps);
      fp.release();
      fm.release();
      const analytic = dot(g, v);
      const r = compareClose([analytic], [fd], vjpTol);
      check(`seed ${seed}/${k}: vjp matches central finite differences`, r.ok, `⟨vjp(u), v⟩ = ${analytic}, FD = ${fd}`);
    }
    p1.release();
    if (info.fixedRegionTerm) await checkFixedRegionTerm(backend, b, seed, options.fixedRegionEpsilon ?? 1e-3, vjpTol, options.modeTolerance ?? { atol: 1e-5, rtol: 1e-5 }, check);
    let threw = false;
    try {
      await p1.vjp(new Float32Array(f.data.length));
    } catch {
      threw = true;
    }
    check(`seed ${seed}: vjp after release() throws`, threw);

    const img = await backend.render(b);
    check(
      `seed ${seed}: render gives an RGBA image of the info size`,
      img.width === info.imageWidth && img.height === info.imageHeight && img.data.length === img.width * img.height * 4,
      `${img.width}×${img.height}, ${img.data.length} bytes`,
    );
  }

  const l0 = await backend.createLatent({ type: 'seed', seed: seeds[0] ?? 0 });
  await backend.dispose();
  await backend.dispose();
  let rejected = false;
  try {
    await backend.forward(l0);
  } catch {
    rejected = true;
  }
  check('forward after dispose rejects; dispose is idempotent', rejected);

  return { passed: checks.every((c) => c.passed), checks };
}

/**
 * For a backend declaring `info.fixedRegionTerm`: with a left-half editable mask, on a latent moved
 * off its start (the term is often 0 there), the pass reports a finite non-negative term, keeps
 * the features, and `vjp(0)` is the term's gradient (central differences along one direction).
 */
async function checkFixedRegionTerm(
  backend: DragBackend,
  start: DragLatent,
  seed: number,
  eps: number,
  vjpTol: Tolerance,
  modeTol: Tolerance,
  check: (name: string, passed: boolean, detail?: string) => void,
): Promise<void> {
  const info = backend.info;
  const term = info.fixedRegionTerm!;
  check('info.fixedRegionTerm is native with a non-negative default weight', term.kind === 'native' && term.defaultWeight >= 0 && Number.isFinite(term.defaultWeight) && typeof term.description === 'string');
  const { imageWidth: w, imageHeight: h } = info;
  const mask = { width: w, height: h, data: Uint8Array.from({ length: w * h }, (_, i) => (i % w < w / 2 ? 1 : 0)) };
  const region = { mask, weight: term.defaultWeight > 0 ? term.defaultWeight : 1 };
  const normal = createNormalRng(2000 + seed);
  const moved = withOptimized(start, Float32Array.from(start.optimized, (x) => x + 0.1 * normal()));
  const pass = await backend.forward(moved, { withVjp: true, fixedRegion: region });
  const plain = await backend.forward(moved, { withVjp: false });
  const value = pass.fixedRegionLoss;
  check(`seed ${seed}: fixedRegion gives a finite, non-negative fixedRegionLoss`, typeof value === 'number' && Number.isFinite(value) && value >= 0, String(value));
  check(`seed ${seed}: no fixedRegion, no fixedRegionLoss`, plain.fixedRegionLoss === undefined, String(plain.fixedRegionLoss));
  const same = compareClose(pass.features.data, plain.features.data, modeTol);
  check(`seed ${seed}: fixedRegion keeps the features`, same.ok, same.message);
  plain.release();
  const v = Float32Array.from({ length: info.optimizedSize }, () => normal());
  const norm = Math.sqrt(dot(v, v));
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm;
  const at = async (sign: number): Promise<number> => {
    const p = await backend.forward(withOptimized(moved, Float32Array.from(moved.optimized, (x, i) => x + sign * eps * v[i]!)), { withVjp: false, fixedRegion: region });
    p.release();
    return p.fixedRegionLoss ?? Number.NaN;
  };
  const fd = ((await at(1)) - (await at(-1))) / (2 * eps);
  const analytic = dot(await pass.vjp(new Float32Array(pass.features.data.length)), v);
  pass.release();
  const r = compareClose([analytic], [fd], vjpTol);
  check(`seed ${seed}: vjp(0) of a fixedRegion pass matches central differences of fixedRegionLoss`, r.ok, `⟨vjp(0), v⟩ = ${analytic}, FD = ${fd}`);
}

/** Runs {@link runConformance} and throws one error listing every failed check. */
export async function assertConformance(
  create: () => DragBackend | Promise<DragBackend>,
  options?: ConformanceOptions,
): Promise<ConformanceReport> {
  const report = await runConformance(create, options);
  if (!report.passed) {
    const failed = report.checks.filter((c) => !c.passed).map((c) => `- ${c.name}${c.detail ? `: ${c.detail}` : ''}`);
    throw new Error(`DragBackend conformance failed:\n${failed.join('\n')}`);
  }
  return report;
}
