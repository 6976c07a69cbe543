import { cloneModel, type OnnxModel, type OnnxNode } from './model';
import { DataType, f32, type Tensor } from './tensor';

/**
 * Low-rank adapters on linear projections, as diffusers' LoRALinearLayer (the LoRA DragDiffusion
 * trains before a drag): y = x·W + (x·Aᵀ·Bᵀ)·α/r with A = down [r, in], B = up [out, r].
 * torch exports a Linear on [B, tokens, in] as MatMul(x, W) with W [in, out] a constant.
 */
export interface LoraAdapter {
  /** The MatMul node adapted. */
  node: string;
  /** Its weight initializer, W [in, out]. */
  weight: string;
  /** Graph input names of A (down, [rank, in]) and B (up, [out, rank]). */
  down: string;
  up: string;
  inFeatures: number;
  outFeatures: number;
  rank: number;
  /** α / rank. */
  scale: number;
}

export interface LoraOptions {
  rank: number;
  /** α; the update is scaled by α / rank. Default: rank (scale 1, diffusers without network_alpha). */
  alpha?: number;
  /** Names of A and B for an adapted node; default `loraInputNames`. */
  names?: (node: string) => { down: string; up: string };
}

/**
 * Input names for a node of a torch export: the module path of `/…/attn1/to_k/MatMul` is
 * `….attn1.to_k`. Attention projections get the keys of diffusers' attention-processor LoRA
 * state dicts (`….attn1.processor.to_k_lora.down.weight`), which DragDiffusion saves; other
 * modules `<module>.lora.down.weight`.
 */
export function loraInputNames(node: string): { down: string; up: string } {
  const parts = node.replace(/^\//, '').split('/');
  if (parts.length > 1) parts.pop();
  const module = parts.join('.');
  const m = /^(.*\.attn\d+)\.(to_q|to_k|to_v|to_out\.0)$/.exec(module);
  const base = m ? `${m[1]}.processor.${(m[2] as string).replace('.0', '')}_lora` : `${module}.lora`;
  return { down: `${base}.down.weight`, up: `${base}.up.weight` };
}

function findMatMul(model: OnnxModel, name: string): { node: OnnxNode; index: number; w: Tensor; wName: string } {
  const index = model.graph.nodes.findIndex((n) => n.name === name);
  const node = model.graph.nodes[index];
  if (!node) throw new Error(`LoRA: no node named '${name}' (findProjections lists a UNet's attention projections)`);
  if (node.opType !== 'MatMul') throw new Error(`LoRA: node '${name}' is a ${node.opType}; adapters go on MatMul nodes with a constant weight`);
  const wName = node.inputs[1] as string;
  const w = model.graph.initializers.get(wName);
  if (!w || w.dims.length !== 2 || w.dtype !== DataType.FLOAT) throw new Error(`LoRA: MatMul node '${name}' does not multiply by a float32 2-D initializer (its input 1 is '${wName}')`);
  return { node, index, w, wName };
}

/**
 * Inserts a LoRA adapter on each named MatMul node. A and B become graph inputs; the adapted
 * output keeps the node's original output name (so exposed or replaced tensors found by name
 * see the adapted projection) and the plain product is renamed `<output>/base`.
 */
export function insertLora(model: OnnxModel, nodes: readonly string[], options: LoraOptions): { model: OnnxModel; adapters: LoraAdapter[] } {
  const { rank } = options;
  if (!Number.isInteger(rank) || rank < 1) throw new Error(`insertLora: rank must be a positive integer (got ${rank})`);
  const scale = (options.alpha ?? rank) / rank;
  const names = options.names ?? loraInputNames;
  const m = cloneModel(model);
  const adapters: LoraAdapter[] = [];
  const taken = new Set([...m.graph.inputs.map((v) => v.name), ...m.graph.initializers.keys(), ...m.graph.nodes.flatMap((n) => n.outputs)]);
  for (const name of nodes) {
    if (adapters.some((a) => a.node === name)) throw new Error(`insertLora: node '${name}' is listed twice`);
    const { node, index, w, wName } = findMatMul(m, name);
    const [inF, outF] = w.dims as [number, number];
    const { down, up } = names(name);
    for (const n of [down, up]) {
      if (taken.has(n)) throw new Error(`insertLora: tensor name '${n}' for node '${name}' is already used; pass options.names`);
      taken.add(n);
    }
    const out = node.outputs[0] as string;
    const base = `${out}/base`;
    node.outputs = [base];
    const t = (s: string): string => `${name}/lora/${s}`;
    const mk = (op: string, inputs: string[], output: string, attributes: OnnxNode['attributes'] = {}): OnnxNode => ({ name: t(op + '_' + output.split('/').pop()), opType: op, domain: '', inputs, outputs: [output], attributes });
    const added: OnnxNode[] = [
      mk('Transpose', [down], t('down_t'), { perm: { type: 'ints', value: [1, 0] } }),
      mk('MatMul', [node.inputs[0] as string, t('down_t')], t('hidden')),
      mk('Transpose', [up], t('up_t'), { perm: { type: 'ints', value: [1, 0] } }),
      mk('MatMul', [t('hidden'), t('up_t')], t('delta')),
    ];
    let delta = t('delta');
    if (scale !== 1) {
      m.graph.initializers.set(t('scale'), f32([], [scale]));
      added.push(mk('Mul', [delta, t('scale')], t('scaled')));
      delta = t('scaled');
    }
    added.push(mk('Add', [base, delta], out));
    m.graph.nodes.splice(index + 1, 0, ...added);
    m.graph.inputs.push({ name: down, dtype: DataType.FLOAT, shape: [rank, inF] }, { name: up, dtype: DataType.FLOAT, shape: [outF, rank] });
    adapters.push({ node: name, weight: wName, down, up, inFeatures: inF, outFeatures: outF, rank, scale });
  }
  return { model: m, adapters };
}

/**
 * diffusers' initialisation: A ~ N(0, (1/r)²), B = 0 (the adapted model starts equal to the
 * original). `rand` returns uniform numbers in [0, 1).
 */
export function initialLoraWeights(adapter: LoraAdapter, rand: () => number): { down: Float32Array; up: Float32Array } {
  const down = new Float32Array(adapter.rank * adapter.inFeatures);
  for (let i = 0; i < down.length; i++) {
    const u = Math.max(rand(), 1e-12);
    down[i] = (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand())) / adapter.rank;
  }
  return { down, up: new Float32Array(adapter.outFeatures * adapter.rank) };
}

/**
 * Folds trained adapters into the weights of the model they were inserted in (the model before
 * `insertLora`): W' = W + (α/r)·Aᵀ·Bᵀ, i.e. W'[i, o] = W[i, o] + (α/r)·Σ_k A[k, i]·B[o, k].
 * New weight tensors are written; the given model's initializers are left untouched.
 */
export function mergeLora(model: OnnxModel, adapters: readonly LoraAdapter[], values: Readonly<Record<string, Float32Array>>): OnnxModel {
  const m = cloneModel(model);
  for (const a of adapters) {
    const { node, w, wName } = findMatMul(m, a.node);
    const A = values[a.down];
    const B = values[a.up];
    if (!A || A.length !== a.rank * a.inFeatures) throw new Error(`mergeLora: '${a.down}' needs ${a.rank * a.inFeatures} values (got ${A?.length ?? 'none'})`);
    if (!B || B.length !== a.outFeatures * a.rank) throw new Error(`mergeLora: '${a.up}' needs ${a.outFeatures * a.rank} values (got ${B?.length ?? 'none'})`);
    if (w.dims[0] !== a.inFeatures || w.dims[1] !== a.outFeatures) throw new Error(`mergeLora: weight '${wName}' of '${a.node}' is [${w.dims.join(', ')}], the adapter expects [${a.inFeatures}, ${a.outFeatures}]`);
    const merged = new Float32Array(w.data.length);
    const row = new Float64Array(a.outFeatures);
    for (let i = 0; i < a.inFeatures; i++) {
      row.fill(0);
      for (let k = 0; k < a.rank; k++) {
        const aki = A[k * a.inFeatures + i] as number;
        for (let o = 0; o < a.outFeatures; o++) row[o] = (row[o] as number) + aki * (B[o * a.rank + k] as number);
      }
      for (let o = 0; o < a.outFeatures; o++) merged[i * a.outFeatures + o] = (w.data[i * a.outFeatures + o] as number) + a.scale * (row[o] as number);
    }
    // A weight shared with other nodes gets a private copy so only this projection changes.
    const shared = m.graph.nodes.some((n) => n !== node && n.inputs.includes(wName));
    const target = shared ? `${wName}/lora_merged/${a.node}` : wName;
    m.graph.initializers.set(target, { dtype: DataType.FLOAT, dims: [...w.dims], data: merged });
    if (shared) node.inputs[1] = target;
  }
  return m;
}
