import type { TensorInfo } from '../analysis';
import { describeNode } from '../attributes';
import type { GradBuilder } from '../grad-builder';
import type { OnnxNode } from '../model';
import type { Tensor } from '../tensor';

/** What a VJP rule sees of one forward node: its static types, constant inputs and incoming gradients. */
export interface RuleContext {
  node: OnnxNode;
  b: GradBuilder;
  opset: number;
  /** Incoming gradient per output (undefined: that output does not reach the differentiated outputs). */
  dY: (string | undefined)[];
  /** Whether input i needs a gradient. */
  needs: boolean[];
  /** Static type of the i-th input / output. */
  inInfo(i: number): TensorInfo;
  outInfo(i: number): TensorInfo;
  /** Value of input i when it is constant. */
  constIn(i: number): Tensor | undefined;
}

/** Returns one gradient name per input (undefined where none). */
export type VjpRule = (c: RuleContext) => (string | undefined)[];

export const out0 = (c: RuleContext): string => {
  const g = c.dY[0];
  if (!g) throw new Error(`${describeNode(c.node)}: no gradient for output 0`);
  return g;
};

export const shapeOf = (c: RuleContext, i: number): number[] => c.inInfo(i).shape;
export const yShape = (c: RuleContext): number[] => c.outInfo(0).shape;

export function unary(f: (c: RuleContext, g: string) => string): VjpRule {
  return (c) => [c.needs[0] ? f(c, out0(c)) : undefined];
}

export const X = (c: RuleContext): string => c.node.inputs[0] as string;
export const Y = (c: RuleContext): string => c.node.outputs[0] as string;

export function constScalar(t: Tensor | undefined): number | undefined {
  return t && !t.raw && t.data.length === 1 ? (t.data[0] as number) : undefined;
}

export function intsConst(c: RuleContext, i: number): number[] | undefined {
  const t = c.constIn(i);
  return t ? Array.from(t.data) : undefined;
}

