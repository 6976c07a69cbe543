import { attrFloat, attrString, describeNode } from '../attributes';
import { DataType, f32 } from '../tensor';
import { constScalar, out0, shapeOf, unary, X, Y, yShape, type RuleContext, type VjpRule } from './context';

export const add: VjpRule = (c) => {
  const gy = out0(c);
  return [0, 1].map((i) => (c.needs[i] ? c.b.unbroadcast(gy, yShape(c), shapeOf(c, i)) : undefined));
};

export const sub: VjpRule = (c) => {
  const gy = out0(c);
  return [
    c.needs[0] ? c.b.unbroadcast(gy, yShape(c), shapeOf(c, 0)) : undefined,
    c.needs[1] ? c.b.unbroadcast(c.b.neg(gy), yShape(c), shapeOf(c, 1)) : undefined,
  ];
};

export const mul: VjpRule = (c) => {
  const gy = out0(c);
  const [A, B] = [c.node.inputs[0] as string, c.node.inputs[1] as string];
  return [
    c.needs[0] ? c.b.unbroadcast(c.b.mul(gy, B), yShape(c), shapeOf(c, 0)) : undefined,
    c.needs[1] ? c.b.unbroadcast(c.b.mul(gy, A), yShape(c), shapeOf(c, 1)) : undefined,
  ];
};

/** dY / B for a constant scalar B: passed through when B is 1 (diffusers' output_scale_factor), else one Mul. */
function divByConstant(c: RuleContext, gy: string): string | undefined {
  const b = constScalar(c.constIn(1));
  if (b === undefined) return undefined;
  return b === 1 ? gy : c.b.mul(gy, c.b.scalar(1 / b));
}

export const div: VjpRule = (c) => {
  const gy = out0(c);
  const B = c.node.inputs[1] as string;
  return [
    c.needs[0] ? c.b.unbroadcast(divByConstant(c, gy) ?? c.b.div(gy, B), yShape(c), shapeOf(c, 0)) : undefined,
    // d(A/B)/dB = -Y/B
    c.needs[1] ? c.b.unbroadcast(c.b.neg(c.b.div(c.b.mul(gy, Y(c)), B)), yShape(c), shapeOf(c, 1)) : undefined,
  ];
};

export const pow: VjpRule = (c) => {
  const gy = out0(c);
  const [A, P] = [c.node.inputs[0] as string, c.node.inputs[1] as string];
  const grads: (string | undefined)[] = [undefined, undefined];
  if (c.needs[0]) {
    const pc = c.constIn(1);
    const p = constScalar(pc);
    let d: string;
    if (p === 2) d = c.b.mul(A, c.b.scalar(2));
    else if (p === 1) d = c.b.op('Identity', [gy]);
    else if (p !== undefined) d = c.b.mul(c.b.op('Pow', [A, c.b.scalar(p - 1)]), c.b.scalar(p));
    else if (pc) {
      const pm1 = f32(pc.dims, Array.from(pc.data, (v) => v - 1));
      d = c.b.mul(c.b.op('Pow', [A, c.b.constant(pm1)]), c.b.constant(f32(pc.dims, pc.data)));
    } else {
      const pf = c.inInfo(1).dtype === DataType.FLOAT ? P : c.b.op('Cast', [P], { to: DataType.FLOAT });
      d = c.b.mul(c.b.op('Pow', [A, c.b.sub(pf, c.b.scalar(1))]), pf);
    }
    grads[0] = c.b.unbroadcast(p === 1 ? d : c.b.mul(gy, d), yShape(c), shapeOf(c, 0));
  }
  if (c.needs[1]) grads[1] = c.b.unbroadcast(c.b.mul(c.b.mul(gy, Y(c)), c.b.op('Log', [A])), yShape(c), shapeOf(c, 1));
  return grads;
};

export const where: VjpRule = (c) => {
  const gy = out0(c);
  const cond = c.node.inputs[0] as string;
  const zero = c.b.scalar(0);
  return [
    undefined,
    c.needs[1] ? c.b.unbroadcast(c.b.op('Where', [cond, gy, zero]), yShape(c), shapeOf(c, 1)) : undefined,
    c.needs[2] ? c.b.unbroadcast(c.b.op('Where', [cond, zero, gy]), yShape(c), shapeOf(c, 2)) : undefined,
  ];
};

export const clip: VjpRule = (c) => {
  if (!c.needs[0]) return [];
  let g = out0(c);
  const zero = c.b.scalar(0);
  let lo: string | undefined;
  let hi: string | undefined;
  if (c.opset >= 11) {
    lo = c.node.inputs[1] || undefined;
    hi = c.node.inputs[2] || undefined;
  } else {
    if (c.node.attributes.min) lo = c.b.scalar(attrFloat(c.node, 'min', 0));
    if (c.node.attributes.max) hi = c.b.scalar(attrFloat(c.node, 'max', 0));
  }
  // Gradient passes where lo <= x <= hi (PyTorch's clamp convention), without And.
  if (lo) g = c.b.op('Where', [c.b.op('Less', [X(c), lo]), zero, g]);
  if (hi) g = c.b.op('Where', [c.b.op('Greater', [X(c), hi]), zero, g]);
  return [g];
};

export const unaryRules: Record<string, VjpRule> = {
  Identity: unary((_c, g) => g),
  Dropout: unary((_c, g) => g),
  Neg: unary((c, g) => c.b.neg(g)),
  Sqrt: unary((c, g) => c.b.div(c.b.mul(g, c.b.scalar(0.5)), Y(c))),
  Reciprocal: unary((c, g) => c.b.neg(c.b.mul(g, c.b.mul(Y(c), Y(c))))),
  Exp: unary((c, g) => c.b.mul(g, Y(c))),
  Log: unary((c, g) => c.b.div(g, X(c))),
  Relu: unary((c, g) => c.b.op('Where', [c.b.op('Greater', [X(c), c.b.scalar(0)]), g, c.b.scalar(0)])),
  LeakyRelu: unary((c, g) => {
    const alpha = attrFloat(c.node, 'alpha', 0.01);
    return c.b.op('Where', [c.b.op('Greater', [X(c), c.b.scalar(0)]), g, c.b.mul(g, c.b.scalar(alpha))]);
  }),
  Sigmoid: unary((c, g) => c.b.mul(g, c.b.mul(Y(c), c.b.sub(c.b.scalar(1), Y(c))))),
  Tanh: unary((c, g) => c.b.mul(g, c.b.sub(c.b.scalar(1), c.b.mul(Y(c), Y(c))))),
  Erf: unary((c, g) => {
    const e = c.b.op('Exp', [c.b.neg(c.b.mul(X(c), X(c)))]);
    return c.b.mul(g, c.b.mul(e, c.b.scalar(2 / Math.sqrt(Math.PI))));
  }),
  Cast: unary((c, g) => {
    const from = c.inInfo(0).dtype;
    return from === c.outInfo(0).dtype ? g : c.b.op('Cast', [g], { to: from });
  }),
  Sin: unary((c, g) => c.b.mul(g, c.b.op('Cos', [X(c)]))),
  Cos: unary((c, g) => c.b.neg(c.b.mul(g, c.b.op('Sin', [X(c)])))),
  Abs: unary((c, g) => {
    const pos = c.b.op('Greater', [X(c), c.b.scalar(0)]);
    const negm = c.b.op('Less', [X(c), c.b.scalar(0)]);
    return c.b.op('Where', [pos, g, c.b.op('Where', [negm, c.b.neg(g), c.b.scalar(0)])]);
  }),
};

/**
 * Gelu (opset 20). Exact: y = x·Φ(x), dy/dx = Φ(x) + x·φ(x). Tanh approximation:
 * y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³), dy/dx = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²).
 */
export const gelu: VjpRule = unary((c, g) => {
  const b = c.b;
  const x = X(c);
  const approx = attrString(c.node, 'approximate', 'none');
  if (approx === 'none') {
    const cdf = b.mul(b.add(b.op('Erf', [b.mul(x, b.scalar(Math.SQRT1_2))]), b.scalar(1)), b.scalar(0.5));
    const pdf = b.mul(b.op('Exp', [b.mul(b.mul(x, x), b.scalar(-0.5))]), b.scalar(1 / Math.sqrt(2 * Math.PI)));
    return b.mul(g, b.add(cdf, b.mul(x, pdf)));
  }
  if (approx !== 'tanh') throw new Error(`${describeNode(c.node)}: approximate '${approx}' is not 'none' or 'tanh'`);
  const k = Math.sqrt(2 / Math.PI);
  const x2 = b.mul(x, x);
  const u = b.mul(b.mul(x, b.add(b.mul(x2, b.scalar(0.044715)), b.scalar(1))), b.scalar(k));
  const t = b.op('Tanh', [u]);
  const du = b.mul(b.add(b.mul(x2, b.scalar(3 * 0.044715)), b.scalar(1)), b.scalar(k));
  const left = b.mul(b.add(t, b.scalar(1)), b.scalar(0.5));
  const right = b.mul(b.mul(b.mul(x, b.sub(b.scalar(1), b.mul(t, t))), du), b.scalar(0.5));
  return b.mul(g, b.add(left, right));
});

export function variadic(mean: boolean): VjpRule {
  return (c) => {
    const gy = out0(c);
    const g = mean ? c.b.mul(gy, c.b.scalar(1 / c.node.inputs.length)) : gy;
    return c.node.inputs.map((_, i) => (c.needs[i] ? c.b.unbroadcast(g, yShape(c), shapeOf(c, i)) : undefined));
  };
}
