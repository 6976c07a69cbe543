/* Test and bench helper: a Stable-Diffusion-layout UNet written directly as an ONNX graph, with
 * the node, tensor and initializer names torch 1.13 gives an export of diffusers' modules
 * (`/up_blocks.2/attentions.0/transformer_blocks.0/attn1/to_k/MatMul`, `…_output_0`,
 * `down_blocks.1.resnets.0.conv1.weight`, `onnx::MatMul_N`) and the ops it writes at opset 17
 * (GroupNorm as Reshape/InstanceNormalization/Reshape/Mul/Add, SiLU as Sigmoid·x, GEGLU with an
 * Erf GELU, nearest Resize, attention as MatMul/Mul/Softmax). Random weights. Not exported. */
import type { OnnxModel, OnnxNode, Attribute } from '../model';
import { DataType, f32, i64, type Tensor } from '../tensor';
import { rng } from './harness';

export interface TinyUnetConfig {
  /** Channels of down_blocks.0..3 (SD 1.5: 320, 640, 1280, 1280). */
  channels: [number, number, number, number];
  /** Which down/up levels have cross-attention transformers (SD 1.5: the first three). */
  attention: [boolean, boolean, boolean, boolean];
  layersPerBlock: number;
  groups: number;
  headDim: number;
  crossAttentionDim: number;
  tokens: number;
  latent: number;
  seed?: number;
  /** Emit GroupNormalization (opset 21: scale per channel) instead of torch 1.13's InstanceNormalization form. */
  groupNormOp?: boolean;
}

type Attrs = Record<string, number | number[] | string | { f: number }>;

class Graph {
  nodes: OnnxNode[] = [];
  inits = new Map<string, Tensor>();
  macs = 0;
  private counts = new Map<string, number>();
  private anon = 0;
  private rand: () => number;
  constructor(seed: number) { this.rand = rng(seed); }

  op(scope: string, opType: string, inputs: string[], attrs: Attrs = {}): string {
    const base = `${scope}/${opType}`;
    const k = this.counts.get(base) ?? 0;
    this.counts.set(base, k + 1);
    const name = k ? `${base}_${k}` : base;
    const attributes: Record<string, Attribute> = {};
    for (const [a, v] of Object.entries(attrs)) {
      attributes[a] = typeof v === 'string' ? { type: 'string', value: v } : typeof v === 'number' ? { type: 'int', value: v } : Array.isArray(v) ? { type: 'ints', value: v } : { type: 'float', value: v.f };
    }
    const out = `${name}_output_0`;
    this.nodes.push({ name, opType, domain: '', inputs, outputs: [out], attributes });
    return out;
  }
  init(name: string, t: Tensor): string { this.inits.set(name, t); return name; }
  randn(dims: number[], std: number): Tensor {
    const n = dims.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = std * Math.sqrt(-2 * Math.log(Math.max(this.rand(), 1e-12))) * Math.cos(2 * Math.PI * this.rand());
    return f32(dims, d);
  }
  constInt(values: number[]): string { return this.init(`onnx::Const_${this.anon++}`, i64(values)); }
  constF(v: number): string { return this.init(`onnx::Scalar_${this.anon++}`, f32([], [v])); }
  matmulWeight(inF: number, outF: number): string { return this.init(`onnx::MatMul_${this.anon++}`, this.randn([inF, outF], 1 / Math.sqrt(inF))); }
}

const dot = (scope: string): string => scope.replace(/^\//, '').split('/').join('.');

interface Cfg extends TinyUnetConfig { g: Graph }

function conv(c: Cfg, scope: string, x: string, cin: number, cout: number, hw: number, k = 3, stride = 1): string {
  const w = c.g.init(`${dot(scope)}.weight`, c.g.randn([cout, cin, k, k], 1 / Math.sqrt(cin * k * k)));
  const b = c.g.init(`${dot(scope)}.bias`, c.g.randn([cout], 0.02));
  const p = Math.floor(k / 2);
  const ho = Math.floor((hw + 2 * p - k) / stride) + 1;
  c.g.macs += cout * cin * k * k * ho * ho;
  return c.g.op(scope, 'Conv', [x, w, b], { kernel_shape: [k, k], pads: [p, p, p, p], strides: [stride, stride], dilations: [1, 1], group: 1 });
}

function groupNorm(c: Cfg, scope: string, x: string, ch: number, hw: number, eps: number): string {
  const gamma = c.g.randn([ch], 0.1).data.map((v) => 1 + v);
  const beta = c.g.randn([ch], 0.1);
  if (c.groupNormOp) {
    return c.g.op(scope, 'GroupNormalization', [x, c.g.init(`${dot(scope)}.weight`, f32([ch], gamma)), c.g.init(`${dot(scope)}.bias`, beta)], { num_groups: c.groups, epsilon: { f: eps } });
  }
  const r = c.g.op(scope, 'Reshape', [x, c.g.constInt([1, c.groups, -1])]);
  const ones = c.g.init(`onnx::InstanceNormalization_${dot(scope)}_s`, f32([c.groups], new Float32Array(c.groups).fill(1)));
  const zeros = c.g.init(`onnx::InstanceNormalization_${dot(scope)}_b`, f32([c.groups], new Float32Array(c.groups)));
  const n = c.g.op(scope, 'InstanceNormalization', [r, ones, zeros], { epsilon: { f: eps } });
  const back = c.g.op(scope, 'Reshape', [n, c.g.constInt([1, ch, hw, hw])]);
  const m = c.g.op(scope, 'Mul', [back, c.g.init(`${dot(scope)}.weight`, f32([ch, 1, 1], gamma))]);
  return c.g.op(scope, 'Add', [m, c.g.init(`${dot(scope)}.bias`, f32([ch, 1, 1], beta.data))]);
}

function silu(c: Cfg, scope: string, x: string): string {
  return c.g.op(scope, 'Mul', [x, c.g.op(scope, 'Sigmoid', [x])]);
}

function linear(c: Cfg, scope: string, x: string, inF: number, outF: number, rows: number, bias = true): string {
  c.g.macs += rows * inF * outF;
  const y = c.g.op(scope, 'MatMul', [x, c.g.matmulWeight(inF, outF)]);
  return bias ? c.g.op(scope, 'Add', [c.g.init(`${dot(scope)}.bias`, c.g.randn([outF], 0.02)), y]) : y;
}

function resnet(c: Cfg, scope: string, x: string, temb: string, cin: number, cout: number, hw: number): string {
  let h = silu(c, scope + '/nonlinearity', groupNorm(c, scope + '/norm1', x, cin, hw, 1e-5));
  h = conv(c, scope + '/conv1', h, cin, cout, hw);
  const t = linear(c, scope + '/time_emb_proj', silu(c, scope + '/nonlinearity', temb), 4 * c.channels[0], cout, 1);
  h = c.g.op(scope, 'Add', [h, c.g.op(scope, 'Unsqueeze', [c.g.op(scope, 'Unsqueeze', [t, c.g.constInt([2])]), c.g.constInt([3])])]);
  h = silu(c, scope + '/nonlinearity', groupNorm(c, scope + '/norm2', h, cout, hw, 1e-5));
  h = conv(c, scope + '/conv2', h, cout, cout, hw);
  const skip = cin === cout ? x : conv(c, scope + '/conv_shortcut', x, cin, cout, hw, 1);
  return c.g.op(scope, 'Div', [c.g.op(scope, 'Add', [skip, h]), c.g.constF(1)]);
}

function attention(c: Cfg, scope: string, x: string, ctx: string | undefined, dim: number, tokens: number): string {
  const heads = dim / c.headDim;
  const kvTokens = ctx ? c.tokens : tokens;
  const kvDim = ctx ? c.crossAttentionDim : dim;
  const q = linear(c, scope + '/to_q', x, dim, dim, tokens, false);
  const k = linear(c, scope + '/to_k', ctx ?? x, kvDim, dim, kvTokens, false);
  const v = linear(c, scope + '/to_v', ctx ?? x, kvDim, dim, kvTokens, false);
  const split = (t: string, n: number): string => c.g.op(scope, 'Reshape', [c.g.op(scope, 'Transpose', [c.g.op(scope, 'Reshape', [t, c.g.constInt([1, n, heads, c.headDim])])], { perm: [0, 2, 1, 3] }), c.g.constInt([heads, n, c.headDim])]);
  const kt = c.g.op(scope, 'Transpose', [split(k, kvTokens)], { perm: [0, 2, 1] });
  const s = c.g.op(scope, 'Mul', [c.g.op(scope, 'MatMul', [split(q, tokens), kt]), c.g.constF(1 / Math.sqrt(c.headDim))]);
  const p = c.g.op(scope, 'Softmax', [s], { axis: -1 });
  const o = c.g.op(scope, 'MatMul', [p, split(v, kvTokens)]);
  c.g.macs += 2 * heads * tokens * kvTokens * c.headDim;
  const merged = c.g.op(scope, 'Reshape', [c.g.op(scope, 'Transpose', [c.g.op(scope, 'Reshape', [o, c.g.constInt([1, heads, tokens, c.headDim])])], { perm: [0, 2, 1, 3] }), c.g.constInt([1, tokens, dim])]);
  return linear(c, scope + '/to_out.0', merged, dim, dim, tokens);
}

function layerNorm(c: Cfg, scope: string, x: string, dim: number): string {
  const s = c.g.init(`${dot(scope)}.weight`, f32([dim], c.g.randn([dim], 0.1).data.map((v) => 1 + v)));
  return c.g.op(scope, 'LayerNormalization', [x, s, c.g.init(`${dot(scope)}.bias`, c.g.randn([dim], 0.1))], { axis: -1, epsilon: { f: 1e-5 } });
}

function transformer(c: Cfg, scope: string, x: string, ehs: string, ch: number, hw: number): string {
  const t = hw * hw;
  let h = groupNorm(c, scope + '/norm', x, ch, hw, 1e-6);
  h = conv(c, scope + '/proj_in', h, ch, ch, hw, 1);
  h = c.g.op(scope, 'Reshape', [c.g.op(scope, 'Transpose', [h], { perm: [0, 2, 3, 1] }), c.g.constInt([1, t, ch])]);
  const b = scope + '/transformer_blocks.0';
  h = c.g.op(b, 'Add', [attention(c, b + '/attn1', layerNorm(c, b + '/norm1', h, ch), undefined, ch, t), h]);
  h = c.g.op(b, 'Add', [attention(c, b + '/attn2', layerNorm(c, b + '/norm2', h, ch), ehs, ch, t), h]);
  const inner = 4 * ch;
  const proj = linear(c, b + '/ff/net.0/proj', layerNorm(c, b + '/norm3', h, ch), ch, 2 * inner, t);
  const g = b + '/ff/net.0';
  const x1 = c.g.op(g, 'Slice', [proj, c.g.constInt([0]), c.g.constInt([inner]), c.g.constInt([-1])]);
  const gate = c.g.op(g, 'Slice', [proj, c.g.constInt([inner]), c.g.constInt([2 * inner]), c.g.constInt([-1])]);
  const erf = c.g.op(g, 'Erf', [c.g.op(g, 'Div', [gate, c.g.constF(Math.SQRT2)])]);
  const gelu = c.g.op(g, 'Mul', [c.g.op(g, 'Mul', [gate, c.g.op(g, 'Add', [erf, c.g.constF(1)])]), c.g.constF(0.5)]);
  const ff = linear(c, b + '/ff/net.2', c.g.op(g, 'Mul', [x1, gelu]), inner, ch, t);
  h = c.g.op(b, 'Add', [ff, h]);
  h = c.g.op(scope, 'Transpose', [c.g.op(scope, 'Reshape', [h, c.g.constInt([1, hw, hw, ch])])], { perm: [0, 3, 1, 2] });
  return c.g.op(scope, 'Add', [conv(c, scope + '/proj_out', h, ch, ch, hw, 1), x]);
}

function timeEmbedding(c: Cfg, t: string): string {
  const half = c.channels[0] / 2;
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const arg = c.g.op('/time_proj', 'Mul', [c.g.op('/time_proj', 'Unsqueeze', [t, c.g.constInt([1])]), c.g.init('onnx::Mul_freqs', f32([1, half], freqs))]);
  const emb = c.g.op('/time_proj', 'Concat', [c.g.op('/time_proj', 'Cos', [arg]), c.g.op('/time_proj', 'Sin', [arg])], { axis: -1 });
  const l1 = linear(c, '/time_embedding/linear_1', emb, c.channels[0], 4 * c.channels[0], 1);
  return linear(c, '/time_embedding/linear_2', silu(c, '/time_embedding/act', l1), 4 * c.channels[0], 4 * c.channels[0], 1);
}

/** Builds the UNet: inputs `sample` [1,4,L,L], `timestep` [1], `encoder_hidden_states` [1,T,D] → `out_sample`. */
export function tinyUnet(config: TinyUnetConfig): { model: OnnxModel; macs: number } {
  const c: Cfg = { ...config, g: new Graph(config.seed ?? 1) };
  const ch = c.channels;
  const temb = timeEmbedding(c, 'timestep');
  let hw = c.latent;
  let h = conv(c, '/conv_in', 'sample', 4, ch[0], hw);
  const skips: [string, number][] = [[h, ch[0]]];
  let cin = ch[0];
  for (let i = 0; i < 4; i++) {
    const s = `/down_blocks.${i}`;
    const co = ch[i] as number;
    for (let j = 0; j < c.layersPerBlock; j++) {
      h = resnet(c, `${s}/resnets.${j}`, h, temb, j === 0 ? cin : co, co, hw);
      if (c.attention[i]) h = transformer(c, `${s}/attentions.${j}`, h, 'encoder_hidden_states', co, hw);
      skips.push([h, co]);
    }
    cin = co;
    if (i < 3) {
      h = conv(c, `${s}/downsamplers.0/conv`, h, co, co, hw, 3, 2);
      hw /= 2;
      skips.push([h, co]);
    }
  }
  h = resnet(c, '/mid_block/resnets.0', h, temb, ch[3], ch[3], hw);
  h = transformer(c, '/mid_block/attentions.0', h, 'encoder_hidden_states', ch[3], hw);
  h = resnet(c, '/mid_block/resnets.1', h, temb, ch[3], ch[3], hw);
  let prev = ch[3];
  for (let i = 0; i < 4; i++) {
    const s = `/up_blocks.${i}`;
    const out = ch[3 - i] as number;
    const attn = c.attention[3 - i] as boolean;
    for (let j = 0; j <= c.layersPerBlock; j++) {
      const [skip, sc] = skips.pop() as [string, number];
      const cat = c.g.op(s, 'Concat', [h, skip], { axis: 1 });
      h = resnet(c, `${s}/resnets.${j}`, cat, temb, (j === 0 ? prev : out) + sc, out, hw);
      if (attn) h = transformer(c, `${s}/attentions.${j}`, h, 'encoder_hidden_states', out, hw);
    }
    prev = out;
    if (i < 3) {
      const up = c.g.op(`${s}/upsamplers.0`, 'Resize', [h, '', c.g.init(`onnx::Resize_scales_${i}`, f32([4], [1, 1, 2, 2]))], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
      hw *= 2;
      h = conv(c, `${s}/upsamplers.0/conv`, up, out, out, hw);
    }
  }
  h = silu(c, '/conv_act', groupNorm(c, '/conv_norm_out', h, ch[0], hw, 1e-5));
  h = conv(c, '/conv_out', h, ch[0], 4, hw);
  c.g.nodes.push({ name: '/Identity', opType: 'Identity', domain: '', inputs: [h], outputs: ['out_sample'], attributes: {} });
  const model: OnnxModel = {
    irVersion: 8,
    opsetImports: [{ domain: '', version: c.groupNormOp ? 21 : 17 }],
    producerName: 'tiny-unet (test)',
    producerVersion: '0',
    graph: {
      name: 'unet',
      nodes: c.g.nodes,
      inputs: [
        { name: 'sample', dtype: DataType.FLOAT, shape: [1, 4, c.latent, c.latent] },
        { name: 'timestep', dtype: DataType.FLOAT, shape: [1] },
        { name: 'encoder_hidden_states', dtype: DataType.FLOAT, shape: [1, c.tokens, c.crossAttentionDim] },
      ],
      outputs: [{ name: 'out_sample', dtype: DataType.FLOAT, shape: [1, 4, c.latent, c.latent] }],
      initializers: c.g.inits,
      valueInfo: [],
    },
  };
  return { model, macs: c.g.macs };
}

/** A test-sized UNet (8–16 channels, 8×8 latent): every layer type, runs in milliseconds. */
export const TINY: TinyUnetConfig = {
  channels: [8, 16, 16, 16], attention: [false, true, true, false], layersPerBlock: 1, groups: 4, headDim: 8,
  crossAttentionDim: 12, tokens: 5, latent: 16,
};
