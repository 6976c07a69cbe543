/* Test-only helpers: build small ONNX graphs in TypeScript, run them with onnxruntime, and check
 * generated VJPs against central finite differences. Not exported from the package entry. */
import * as ortNode from 'onnxruntime-node';
import { buildVjp, type VjpOptions } from '../build-vjp';
import type { Attribute, OnnxModel, OnnxNode } from '../model';
import { serializeModel } from '../model';
import { DataType, type Tensor } from '../tensor';

/** The parts of an onnxruntime package the tests use (onnxruntime-node or onnxruntime-web). */
export interface Ort {
  InferenceSession: { create(bytes: Uint8Array, options?: { graphOptimizationLevel?: 'all' }): Promise<ortNode.InferenceSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => ortNode.Tensor;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, number | number[] | string | { f: number } | { fs: number[] } | { t: Tensor }>;
}

export interface ModelSpec {
  inputs: Record<string, number[]>;
  outputs: string[];
  nodes: NodeSpec[];
  initializers?: Record<string, Tensor>;
  opset?: number;
}

function toAttr(v: NonNullable<NodeSpec['attrs']>[string]): Attribute {
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'number') return { type: 'int', value: v };
  if (Array.isArray(v)) return { type: 'ints', value: v };
  if ('f' in v) return { type: 'float', value: v.f };
  if ('fs' in v) return { type: 'floats', value: v.fs };
  return { type: 'tensor', value: v.t };
}

/** Builds a float32 model; output shapes are left to onnxruntime. */
export function makeModel(spec: ModelSpec): OnnxModel {
  const nodes: OnnxNode[] = spec.nodes.map((n, i) => ({
    name: `n${i}_${n.op}`,
    opType: n.op,
    domain: '',
    inputs: n.inputs,
    outputs: n.outputs,
    attributes: Object.fromEntries(Object.entries(n.attrs ?? {}).map(([k, v]) => [k, toAttr(v)])),
  }));
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: spec.opset ?? 17 }],
    producerName: 'test',
    producerVersion: '0',
    graph: {
      name: 'test',
      nodes,
      inputs: Object.entries(spec.inputs).map(([name, shape]) => ({ name, dtype: DataType.FLOAT, shape })),
      outputs: spec.outputs.map((name) => ({ name, dtype: DataType.FLOAT })),
      initializers: new Map(Object.entries(spec.initializers ?? {})),
      valueInfo: [],
    },
  };
}

export interface Value { data: Float32Array; dims: number[]; tensor?: ortNode.Tensor }

export class Runner {
  private constructor(private readonly ort: Ort, private readonly session: ortNode.InferenceSession) {}

  static async create(model: OnnxModel | Uint8Array, ort: Ort = ortNode as unknown as Ort): Promise<Runner> {
    const bytes = model instanceof Uint8Array ? model : serializeModel(model);
    const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
    return new Runner(ort, session);
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Feeds are float32 unless they carry the onnxruntime tensor they came from (`tensor`). */
  async run(feeds: Record<string, Value>): Promise<Record<string, Value>> {
    const f: Record<string, ortNode.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = v.tensor ?? new this.ort.Tensor('float32', v.data, v.dims);
    const out = await this.session.run(f);
    const res: Record<string, Value> = {};
    for (const [k, v] of Object.entries(out)) res[k] = { data: v.data as Float32Array, dims: [...v.dims], tensor: v };
    return res;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(n: number, rand: () => number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

export interface CloseOptions { atol: number; rtol: number }

/** Elementwise |a - e| <= atol + rtol |e|; NaN/Infinity must match exactly. Returns a failure message or undefined. */
export function allCloseMessage(actual: ArrayLike<number>, expected: ArrayLike<number>, { atol, rtol }: CloseOptions): string | undefined {
  if (actual.length !== expected.length) return `length ${actual.length} != ${expected.length}`;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (Number.isNaN(a) || Number.isNaN(e)) {
      if (Number.isNaN(a) && Number.isNaN(e)) continue;
      return `index ${i}: ${a} vs ${e} (NaN mismatch)`;
    }
    if (!Number.isFinite(a) || !Number.isFinite(e)) {
      if (a === e) continue;
      return `index ${i}: ${a} vs ${e} (infinity mismatch)`;
    }
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) return `index ${worst}: ${actual[worst]} vs ${expected[worst]} exceeds atol ${atol} + rtol ${rtol} by ${worstExcess.toExponential(2)}`;
  return undefined;
}

export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions): void {
  const msg = allCloseMessage(actual, expected, opts);
  if (msg) throw new Error(`not close: ${msg}`);
}

export interface GradCheckOptions {
  wrt: string[];
  of: string[];
  seed?: number;
  /** Input generator per input; default uniform in [-1, 1]. */
  inputs?: Record<string, Float32Array>;
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Above this many elements per wrt input, check random directions instead of every element. */
  maxElements?: number;
  modes?: ('recompute' | 'split')[];
  ort?: Ort;
  inputShapes?: VjpOptions['inputShapes'];
  /**
   * 'elementwise' (default): every directional derivative within atol + rtol·|fd|.
   * 'relative-norm': ‖g − fd‖ / ‖fd‖ <= rtol over all directions, for graphs with many kinks
   * (LeakyReLU) where a perturbation occasionally crosses one.
   */
  metric?: 'elementwise' | 'relative-norm';
  /** Coordinates to perturb when the input is larger than maxElements (default: random ±1 directions). */
  coordinates?: number[];
}

export interface GradCheckResult {
  gradients: Record<string, Float32Array>;
  fd: Record<string, Float64Array>;
}

/**
 * Central finite differences of L(x) = Σ_o <cot_o, f_o(x)> (accumulated in float64) against the
 * gradients of the generated VJP model(s). Every wrt element is perturbed when small, otherwise
 * random ±1 directions are compared as directional derivatives.
 */
export async function gradCheck(model: OnnxModel, opts: GradCheckOptions): Promise<GradCheckResult> {
  const rand = rng(opts.seed ?? 1);
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 2e-3;
  const rtol = opts.rtol ?? 1e-2;
  const ort = opts.ort ?? (ortNode as unknown as Ort);
  const shapes: Record<string, number[]> = {};
  for (const v of model.graph.inputs) shapes[v.name] = (opts.inputShapes?.[v.name] ?? v.shape ?? []) as number[];
  const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
  for (const [name, dims] of Object.entries(shapes)) {
    const n = dims.reduce((a, b) => a * b, 1);
    feeds[name] = { data: opts.inputs?.[name] ?? randomArray(n, rand), dims };
  }
  const fwdModel = { ...model, graph: { ...model.graph, outputs: opts.of.map((name) => ({ name, dtype: DataType.FLOAT })) } };
  const fwd = await Runner.create(fwdModel, ort);
  const base = await fwd.run(feeds);
  const cots: Record<string, Float32Array> = {};
  for (const o of opts.of) cots[o] = randomArray((base[o] as { data: Float32Array }).data.length, rand);
  const loss = async (f: typeof feeds): Promise<number> => {
    const out = await fwd.run(f);
    let s = 0;
    for (const o of opts.of) {
      const y = (out[o] as { data: Float32Array }).data;
      const c = cots[o] as Float32Array;
      for (let i = 0; i < y.length; i++) s += (y[i] as number) * (c[i] as number);
    }
    return s;
  };
  const result: GradCheckResult = { gradients: {}, fd: {} };
  const modes = opts.modes ?? ['recompute', 'split'];
  const fdCache = new Map<string, { dirs: Float32Array[]; fdv: Float64Array }>();
  for (const mode of modes) {
    const grads: Record<string, Float32Array> = {};
    const vjp = buildVjp(model, { wrt: opts.wrt, of: opts.of, mode, inputShapes: opts.inputShapes });
    if (vjp.mode === 'recompute') {
      const r = await Runner.create(vjp.model, ort);
      const f = { ...feeds };
      for (const o of opts.of) f[vjp.cotangents[o] as string] = { data: cots[o] as Float32Array, dims: (base[o] as { dims: number[] }).dims };
      const out = await r.run(f);
      for (const o of opts.of) expectAllClose((out[o] as { data: Float32Array }).data, (base[o] as { data: Float32Array }).data, { atol: 1e-5, rtol: 1e-5 });
      for (const w of opts.wrt) grads[w] = (out[vjp.gradients[w] as string] as { data: Float32Array }).data;
      await r.release();
    } else {
      const fr = await Runner.create(vjp.forward.model, ort);
      const fo = await fr.run(feeds);
      const br = await Runner.create(vjp.backward.model, ort);
      const bf: typeof feeds = {};
      for (const n of vjp.backward.graphInputs) bf[n] = feeds[n] as { data: Float32Array; dims: number[] };
      for (const n of vjp.backward.residuals) bf[n] = fo[n] as { data: Float32Array; dims: number[] };
      for (const o of opts.of) bf[vjp.backward.cotangents[o] as string] = { data: cots[o] as Float32Array, dims: (base[o] as { dims: number[] }).dims };
      const out = await br.run(bf);
      for (const w of opts.wrt) grads[w] = (out[vjp.backward.gradients[w] as string] as { data: Float32Array }).data;
      await fr.release();
      await br.release();
    }
    for (const w of opts.wrt) {
      const x = (feeds[w] as { data: Float32Array }).data;
      const g = grads[w] as Float32Array;
      const n = x.length;
      let cached = fdCache.get(w);
      if (!cached) {
        const maxEl = opts.maxElements ?? 64;
        const dirs: Float32Array[] = [];
        if (n <= maxEl) {
          for (let j = 0; j < n; j++) {
            const v = new Float32Array(n);
            v[j] = 1;
            dirs.push(v);
          }
        } else if (opts.coordinates) {
          for (const j of opts.coordinates) {
            const v = new Float32Array(n);
            v[j] = 1;
            dirs.push(v);
          }
        } else {
          for (let k = 0; k < 8; k++) dirs.push(Float32Array.from({ length: n }, () => (rand() < 0.5 ? -1 : 1)));
        }
        const fdv = new Float64Array(dirs.length);
        for (let k = 0; k < dirs.length; k++) {
          const v = dirs[k] as Float32Array;
          const plus = Float32Array.from(x, (xi, i) => xi + eps * (v[i] as number));
          const minus = Float32Array.from(x, (xi, i) => xi - eps * (v[i] as number));
          const lp = await loss({ ...feeds, [w]: { data: plus, dims: (feeds[w] as { dims: number[] }).dims } });
          const lm = await loss({ ...feeds, [w]: { data: minus, dims: (feeds[w] as { dims: number[] }).dims } });
          fdv[k] = (lp - lm) / (2 * eps);
        }
        cached = { dirs, fdv };
        fdCache.set(w, cached);
      }
      const { dirs, fdv } = cached;
      const gv = new Float64Array(dirs.length);
      for (let k = 0; k < dirs.length; k++) {
        const v = dirs[k] as Float32Array;
        let s = 0;
        for (let i = 0; i < n; i++) s += (g[i] as number) * (v[i] as number);
        gv[k] = s;
      }
      let msg: string | undefined;
      if (opts.metric === 'relative-norm') {
        let num = 0;
        let den = 0;
        for (let k = 0; k < dirs.length; k++) {
          num += ((gv[k] as number) - (fdv[k] as number)) ** 2;
          den += (fdv[k] as number) ** 2;
        }
        const rel = Math.sqrt(num / den);
        if (!(rel <= rtol)) msg = `relative error ${rel.toExponential(3)} > ${rtol}`;
      } else msg = allCloseMessage(gv, fdv, { atol, rtol });
      if (msg) throw new Error(`${mode} gradient of '${w}' vs finite differences: ${msg}`);
      result.gradients[w] = g;
      result.fd[w] = fdv;
    }
  }
  await fwd.release();
  return result;
}
