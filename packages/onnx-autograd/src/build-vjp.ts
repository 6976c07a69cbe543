import { analyzeGraph, type GraphAnalysis, type TensorInfo } from './analysis';
import { describeNode } from './attributes';
import { GradBuilder } from './grad-builder';
import { onnxOpset, type OnnxGraph, type OnnxModel, type OnnxNode, type ValueInfo } from './model';
import { planRematerialization } from './rematerialize';
import { isFloatType, type Tensor } from './tensor';
import { differentiableInputs, nonDifferentiableOps, refusal, vjpRules, type RuleContext } from './vjp-rules';

export interface VjpOptions {
  /** Graph inputs to differentiate with respect to. */
  wrt: string[];
  /** Tensors (graph outputs or any intermediate tensor) whose cotangents are given. */
  of: string[];
  /**
   * 'recompute': one model computing forward and backward from the inputs and cotangents.
   * 'split': a forward model that also outputs the residuals the backward needs, and a backward
   * model that takes them (a drag step then runs the forward once).
   */
  mode?: 'recompute' | 'split';
  /** Other tensors the forward (or recompute) model should also output, e.g. `['image']`. */
  keepOutputs?: string[];
  /** Fixed shapes for inputs whose declared shape is symbolic. */
  inputShapes?: Record<string, readonly number[]>;
  /** Suffix of cotangent input and gradient output names. Default `'_grad'`. */
  gradSuffix?: string;
  /**
   * Split mode: let the backward recompute residuals made by cheap ops (elementwise, views,
   * Resize) from fewer bytes of other residuals, so the forward hands over less
   * (see `planRematerialization`). Default true.
   */
  rematerialize?: boolean;
}

/** Describes the inputs and outputs of a generated model. Names are exact graph I/O names. */
export interface VjpModelIO {
  model: OnnxModel;
  /** Graph inputs in declaration order. */
  inputs: string[];
  /** Graph outputs in declaration order. */
  outputs: string[];
}

export interface RecomputeVjp extends VjpModelIO {
  mode: 'recompute';
  /** Cotangent input name per `of` tensor, e.g. `{ features: 'features_grad' }`. */
  cotangents: Record<string, string>;
  /** Gradient output name per `wrt` input, e.g. `{ ws: 'ws_grad' }`. */
  gradients: Record<string, string>;
}

export interface SplitVjp {
  mode: 'split';
  /** Inputs: the original graph inputs. Outputs: `of`, then `keepOutputs`, then `residuals`. */
  forward: VjpModelIO & { residuals: string[] };
  /**
   * Inputs: the `wrt`/graph inputs the backward reads directly, then `residuals` (feed the forward's
   * outputs of the same names), then the cotangents. Outputs: the gradients.
   */
  backward: VjpModelIO & {
    residuals: string[];
    graphInputs: string[];
    cotangents: Record<string, string>;
    gradients: Record<string, string>;
  };
}

export type VjpResult = RecomputeVjp | SplitVjp;

export function buildVjp(model: OnnxModel, options: VjpOptions & { mode: 'split' }): SplitVjp;
export function buildVjp(model: OnnxModel, options: VjpOptions & { mode?: 'recompute' }): RecomputeVjp;
export function buildVjp(model: OnnxModel, options: VjpOptions): VjpResult;
export function buildVjp(model: OnnxModel, options: VjpOptions): VjpResult {
  const opset = onnxOpset(model);
  if (opset < 13) throw new Error(`buildVjp needs a default-domain opset >= 13 (model has ${opset})`);
  const graph = model.graph;
  const an = analyzeGraph(graph, opset, options.inputShapes ?? {});
  const suffix = options.gradSuffix ?? '_grad';
  const keep = (options.keepOutputs ?? []).filter((k) => !options.of.includes(k));
  for (const w of options.wrt) {
    if (!graph.inputs.some((v) => v.name === w)) throw new Error(`wrt '${w}' is not a graph input`);
    if (!isFloatType(an.info.get(w)?.dtype ?? 0)) throw new Error(`wrt '${w}' is not a float tensor`);
  }
  for (const o of [...options.of, ...keep]) {
    if (!an.info.has(o)) {
      const p = an.nodes.find((n) => n.outputs.includes(o));
      const failure = p && an.failures.get(p);
      if (p && failure) {
        const root = rootFailure(an, p);
        const refused = root.domain !== '' && root.domain !== 'ai.onnx' ? refusal(root) : undefined;
        throw new Error(refused ?? `buildVjp: ${describeNode(p)} computes '${o}' but its shapes are unknown (${failure})`);
      }
      throw new Error(`tensor '${o}' does not exist in the graph`);
    }
    if (an.constants.has(o)) throw new Error(`tensor '${o}' is a constant`);
  }
  for (const o of options.of) if (!isFloatType(an.info.get(o)?.dtype ?? 0)) throw new Error(`of '${o}' is not a float tensor`);

  // Tensors depending on wrt (forward pass) that `of` depends on (backward pass).
  const producer = new Map<string, OnnxNode>();
  for (const n of an.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const diffInput = (n: OnnxNode, i: number): boolean => differentiableInputs[n.opType]?.(i) ?? true;
  const dep = new Set<string>(options.wrt);
  for (const n of an.nodes) {
    if (nonDifferentiableOps.has(n.opType)) continue;
    if (n.inputs.some((x, i) => x && dep.has(x) && diffInput(n, i))) {
      const failure = an.failures.get(n);
      const refused = n.domain !== '' && n.domain !== 'ai.onnx' ? refusal(n) : undefined;
      if (refused) throw new Error(refused);
      if (failure) throw new Error(`buildVjp: ${describeNode(n)} depends on ${options.wrt.join(', ')} but its shapes are unknown (${failure})`);
      for (const o of n.outputs) if (o && isFloatType(an.info.get(o)?.dtype ?? 0)) dep.add(o);
    }
  }
  const needed = new Set<string>();
  const stack = options.of.filter((o) => dep.has(o));
  while (stack.length) {
    const t = stack.pop() as string;
    if (needed.has(t)) continue;
    needed.add(t);
    const p = producer.get(t);
    if (p) for (const x of p.inputs) if (x && dep.has(x)) stack.push(x);
  }
  const pathNodes = an.nodes.filter((n) => n.outputs.some((o) => needed.has(o)));

  const allNames = new Set<string>([...graph.inputs.map((v) => v.name), ...an.info.keys()]);
  const b = new GradBuilder(allNames);
  const cotangents: Record<string, string> = {};
  const gradients: Record<string, string> = {};
  const grads = new Map<string, string[]>();
  const addGrad = (t: string, g: string): void => {
    const l = grads.get(t);
    if (l) l.push(g);
    else grads.set(t, [g]);
  };
  const takeGrad = (t: string): string | undefined => {
    const l = grads.get(t);
    if (!l || l.length === 0) return undefined;
    let g = l[0] as string;
    for (let i = 1; i < l.length; i++) g = b.add(g, l[i] as string);
    grads.set(t, [g]);
    return g;
  };
  for (const o of options.of) {
    const name = b.reserve(`${o}${suffix}`);
    cotangents[o] = name;
    if (needed.has(o)) addGrad(o, name);
  }

  const info = (t: string): TensorInfo => {
    const i = an.info.get(t);
    if (!i) throw new Error(`no shape for '${t}'`);
    return i;
  };
  for (let k = pathNodes.length - 1; k >= 0; k--) {
    const node = pathNodes[k] as OnnxNode;
    const dY = node.outputs.map((o) => (o && needed.has(o) ? takeGrad(o) : undefined));
    if (dY.every((g) => !g)) continue;
    const rule = vjpRules[node.opType];
    const refused = refusal(node);
    if (!rule || refused) throw new Error(refused);
    const needs = node.inputs.map((x, i) => !!x && needed.has(x) && diffInput(node, i));
    const ctx: RuleContext = {
      node,
      b,
      opset,
      dY,
      needs,
      inInfo: (i) => info(node.inputs[i] as string),
      outInfo: (i) => info(node.outputs[i] as string),
      constIn: (i) => (node.inputs[i] ? an.constants.get(node.inputs[i] as string) : undefined),
    };
    let gin: (string | undefined)[];
    try {
      gin = rule(ctx);
    } catch (e) {
      const msg = (e as Error).message;
      throw new Error(msg.includes(node.opType) ? msg : `${describeNode(node)}: ${msg}`);
    }
    gin.forEach((g, i) => {
      if (g && needs[i]) addGrad(node.inputs[i] as string, g);
    });
  }
  for (const w of options.wrt) {
    const name = b.reserve(`${w}${suffix}`);
    gradients[w] = name;
    const g = takeGrad(w) ?? b.zeros(info(w).shape);
    b.opTo('Identity', [g], name);
  }

  // Forward tensors the backward nodes read.
  const readBy = (nodes: readonly OnnxNode[]): string[] => {
    const produced = new Set<string>([...nodes.flatMap((n) => n.outputs), ...b.constants.keys(), ...Object.values(cotangents)]);
    const out: string[] = [];
    const seen = new Set<string>();
    for (const n of nodes) {
      for (const x of n.inputs) {
        if (x && !produced.has(x) && !seen.has(x)) {
          seen.add(x);
          out.push(x);
        }
      }
    }
    return out;
  };
  const referenced = readBy(b.nodes);
  const graphInputNames = new Set(graph.inputs.map((v) => v.name));
  const vi = (name: string): ValueInfo => ({ name, dtype: info(name).dtype, shape: [...info(name).shape] });
  const cotangentVIs = options.of.map((o) => ({ name: cotangents[o] as string, dtype: info(o).dtype, shape: [...info(o).shape] }));
  const gradientVIs = options.wrt.map((w) => ({ name: gradients[w] as string, dtype: info(w).dtype, shape: [...info(w).shape] }));

  const baseModel = (g: OnnxGraph): OnnxModel => ({
    irVersion: Math.max(model.irVersion, 8),
    opsetImports: [{ domain: '', version: opset }],
    producerName: '@stabledrag/onnx-autograd',
    producerVersion: '0.1.0',
    graph: g,
  });

  if ((options.mode ?? 'recompute') === 'recompute') {
    const outs = [...options.of, ...keep];
    const fwd = forwardSubgraph(an, [...outs, ...referenced.filter((r) => !an.constants.has(r))]);
    const initializers = new Map<string, Tensor>();
    for (const n of [...fwd, ...b.nodes]) for (const x of n.inputs) addConst(an, b, x, initializers);
    const g: OnnxGraph = {
      name: `${graph.name}_vjp`,
      nodes: [...fwd, ...b.nodes],
      inputs: [...graph.inputs.map((v) => vi(v.name)), ...cotangentVIs],
      outputs: [...outs.map(vi), ...gradientVIs],
      initializers,
      valueInfo: [],
    };
    return {
      mode: 'recompute',
      model: baseModel(g),
      inputs: g.inputs.map((v) => v.name),
      outputs: g.outputs.map((v) => v.name),
      cotangents,
      gradients,
    };
  }

  let backNodes = b.nodes;
  let backReads = referenced;
  if (options.rematerialize ?? true) {
    const saved = referenced.filter((r) => !an.constants.has(r) && !graphInputNames.has(r));
    const recomputed = planRematerialization(an, saved, new Set([...graphInputNames, ...options.of, ...keep]));
    if (recomputed.length > 0) {
      backNodes = [...recomputed, ...b.nodes];
      backReads = readBy(backNodes);
    }
  }
  const residuals = backReads.filter((r) => !an.constants.has(r) && !graphInputNames.has(r));
  const backInputs = backReads.filter((r) => graphInputNames.has(r));
  const fwdOuts = [...options.of, ...keep, ...residuals.filter((r) => !options.of.includes(r) && !keep.includes(r))];
  const fwdNodes = forwardSubgraph(an, fwdOuts);
  const fwdInit = new Map<string, Tensor>();
  for (const n of fwdNodes) for (const x of n.inputs) addConst(an, b, x, fwdInit);
  const fg: OnnxGraph = {
    name: `${graph.name}_forward`,
    nodes: fwdNodes,
    inputs: graph.inputs.map((v) => vi(v.name)),
    outputs: fwdOuts.map(vi),
    initializers: fwdInit,
    valueInfo: [],
  };
  const bwdInit = new Map<string, Tensor>();
  for (const n of backNodes) for (const x of n.inputs) addConst(an, b, x, bwdInit);
  const bg: OnnxGraph = {
    name: `${graph.name}_backward`,
    nodes: backNodes,
    inputs: [...backInputs.map(vi), ...residuals.map(vi), ...cotangentVIs],
    outputs: gradientVIs,
    initializers: bwdInit,
    valueInfo: [],
  };
  return {
    mode: 'split',
    forward: {
      model: baseModel(fg),
      inputs: fg.inputs.map((v) => v.name),
      outputs: fg.outputs.map((v) => v.name),
      residuals,
    },
    backward: {
      model: baseModel(bg),
      inputs: bg.inputs.map((v) => v.name),
      outputs: bg.outputs.map((v) => v.name),
      residuals,
      graphInputs: backInputs,
      cotangents,
      gradients,
    },
  };
}

/** The first node upstream of `node` whose shapes could not be inferred (a custom-domain op, say). */
function rootFailure(an: GraphAnalysis, node: OnnxNode): OnnxNode {
  const producer = new Map<string, OnnxNode>();
  for (const n of an.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  let cur = node;
  for (;;) {
    const missing = cur.inputs.find((x) => x && !an.info.has(x));
    const p = missing ? producer.get(missing) : undefined;
    if (!p || !an.failures.has(p)) return cur;
    cur = p;
  }
}

function addConst(an: GraphAnalysis, b: GradBuilder, x: string, into: Map<string, Tensor>): void {
  if (!x || into.has(x)) return;
  const t = an.constants.get(x) ?? b.constants.get(x);
  if (t) into.set(x, t);
}

/** The unfolded nodes needed to compute `outputs`, in topological order. */
export function forwardSubgraph(an: GraphAnalysis, outputs: readonly string[]): OnnxNode[] {
  const producer = new Map<string, OnnxNode>();
  for (const n of an.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const keep = new Set<OnnxNode>();
  const stack = [...outputs];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop() as string;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = producer.get(t);
    if (!p || keep.has(p)) continue;
    keep.add(p);
    for (const x of p.inputs) if (x) stack.push(x);
  }
  return an.nodes.filter((n) => keep.has(n));
}

/**
 * Picks a generated model's inputs by name from the tensors at hand (graph inputs, the forward's
 * outputs, cotangents), so callers never guess residual names. Throws naming what is missing.
 */
export function feedsFor<T>(io: { inputs: readonly string[] }, available: Readonly<Record<string, T>>): Record<string, T> {
  const feeds: Record<string, T> = {};
  const missing: string[] = [];
  for (const n of io.inputs) {
    const v = available[n];
    if (v === undefined) missing.push(n);
    else feeds[n] = v;
  }
  if (missing.length) throw new Error(`feedsFor: missing ${missing.map((m) => `'${m}'`).join(', ')}`);
  return feeds;
}
