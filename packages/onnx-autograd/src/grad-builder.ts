import type { Attribute, OnnxNode } from './model';
import { DataType, f32, i64, numel, type Tensor } from './tensor';

/** Attribute shorthand for emitted nodes. */
export type AttrInit = number | number[] | string | { floats: number[] } | { float: number };

function toAttribute(v: AttrInit): Attribute {
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'number') return { type: 'int', value: v };
  if (Array.isArray(v)) return { type: 'ints', value: v };
  if ('floats' in v) return { type: 'floats', value: v.floats };
  return { type: 'float', value: v.float };
}

/**
 * Emits the nodes and constants of a backward graph. Every emitted tensor name is fresh; shapes are
 * tracked by the rules themselves (all static), so the builder only does naming and bookkeeping.
 */
export class GradBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly constants = new Map<string, Tensor>();
  private readonly used: Set<string>;
  private readonly constCache = new Map<string, string>();
  private counter = 0;

  constructor(usedNames: Iterable<string>, private readonly prefix = 'vjp') {
    this.used = new Set(usedNames);
  }

  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}/${hint}_${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  /** Reserves an exact name (graph inputs/outputs), adding a suffix on collision. */
  reserve(name: string): string {
    let n = name;
    let k = 1;
    while (this.used.has(n)) n = `${name}_${k++}`;
    this.used.add(n);
    return n;
  }

  constant(t: Tensor, hint = 'const'): string {
    const small = numel(t.dims) <= 64 && !t.raw;
    const key = small ? `${t.dtype}|${t.dims.join(',')}|${Array.from(t.data).join(',')}` : '';
    if (small) {
      const hit = this.constCache.get(key);
      if (hit) return hit;
    }
    const name = this.fresh(hint);
    this.constants.set(name, t);
    if (small) this.constCache.set(key, name);
    return name;
  }

  ints(values: readonly number[]): string {
    return this.constant(i64(values), 'ints');
  }

  scalar(v: number): string {
    return this.constant(f32([], [v]), 'scalar');
  }

  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrInit> = {}, hint?: string): string {
    return this.opN(opType, inputs, 1, attrs, hint)[0] as string;
  }

  opN(opType: string, inputs: readonly string[], nOut: number, attrs: Record<string, AttrInit> = {}, hint?: string): string[] {
    const outputs = Array.from({ length: nOut }, () => this.fresh(hint ?? opType.toLowerCase()));
    const attributes: Record<string, Attribute> = {};
    for (const [k, v] of Object.entries(attrs)) attributes[k] = toAttribute(v);
    this.nodes.push({ name: this.fresh(`${opType}_node`), opType, domain: '', inputs: [...inputs], outputs, attributes });
    return outputs;
  }

  /** Output-naming variant: writes to an exact, already reserved name. */
  opTo(opType: string, inputs: readonly string[], output: string, attrs: Record<string, AttrInit> = {}): void {
    const attributes: Record<string, Attribute> = {};
    for (const [k, v] of Object.entries(attrs)) attributes[k] = toAttribute(v);
    this.nodes.push({ name: this.fresh(`${opType}_node`), opType, domain: '', inputs: [...inputs], outputs: [output], attributes });
  }

  reshape(x: string, shape: readonly number[]): string {
    return this.op('Reshape', [x, this.ints(shape)]);
  }

  mul(a: string, b: string): string { return this.op('Mul', [a, b]); }
  add(a: string, b: string): string { return this.op('Add', [a, b]); }
  sub(a: string, b: string): string { return this.op('Sub', [a, b]); }
  div(a: string, b: string): string { return this.op('Div', [a, b]); }
  neg(a: string): string { return this.op('Neg', [a]); }

  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.op('ReduceSum', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }

  /** Sums a broadcast gradient of shape `from` back to shape `to` (numpy broadcasting rules). */
  unbroadcast(g: string, from: readonly number[], to: readonly number[]): string {
    if (from.length === to.length && from.every((d, i) => d === to[i])) return g;
    const off = from.length - to.length;
    const axes: number[] = [];
    for (let i = 0; i < from.length; i++) {
      if (i < off) axes.push(i);
      else if (to[i - off] === 1 && from[i] !== 1) axes.push(i);
    }
    const summed = axes.length ? this.reduceSum(g, axes, true) : g;
    return off > 0 || axes.length ? this.reshape(summed, to) : summed;
  }

  /** A float32 tensor of zeros, as Expand of a scalar (no large constants, no ConstantOfShape). */
  zeros(shape: readonly number[]): string {
    return this.op('Expand', [this.scalar(0), this.ints(shape)]);
  }

  transpose(x: string, perm: readonly number[]): string {
    return this.op('Transpose', [x], { perm: [...perm] });
  }

  slice(x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[]): string {
    const ins = [x, this.ints(starts), this.ints(ends), this.ints(axes)];
    if (steps) ins.push(this.ints(steps));
    return this.op('Slice', ins);
  }

  pad(x: string, pads: readonly number[]): string {
    if (pads.every((p) => p === 0)) return x;
    return this.op('Pad', [x, this.ints(pads), this.scalar(0)], { mode: 'constant' });
  }
}

export { DataType };
