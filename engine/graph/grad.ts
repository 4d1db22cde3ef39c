/**
 * Reverse-mode autodiff: `grad(loss, wrt)` appends backward nodes to the loss's graph.
 * Gradients are ONE table, VJP_RULES, mapping each primitive op to a function that returns
 * one gradient per input (null where the input needs none), in the style of tinygrad's
 * gradient.py. Composites (nn.ts) are built from primitives and need no rule. Ops whose
 * outputs carry no gradient (comparisons, integer ops, shapes) are marked NO_GRADIENT.
 * Broadcast gradients are summed back to the input's shape (`unbroadcast`).
 */
import { isFloat } from './dtype';
import { Dim, isStatic, numel, sameShape } from './shape';
import { Node, Tensor } from './graph';
import { neededNodes } from './onnx';
import * as o from './ops';
import { GradientError, MissingGradientRuleError, NonScalarLossError, GraphUsageError } from './errors';

/** What a VJP rule sees: the forward node, its tensors, the output gradients, and which inputs need a gradient. */
export interface VjpContext {
  readonly node: Node;
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  /** Gradient of the loss w.r.t. each output (null where none flows). */
  readonly gradOutputs: readonly (Tensor | null)[];
  /** needs[i]: input i is on a path from a `wrt` tensor; rules may skip the others. */
  readonly needs: readonly boolean[];
}

/** A VJP rule: one gradient per input, null/undefined where not needed. */
export type VjpRule = (ctx: VjpContext) => readonly (Tensor | null | undefined)[];

/** Marks an op whose outputs carry no gradient (comparisons, integer ops, shapes). */
export const NO_GRADIENT = 'no-gradient' as const;

/**
 * Sums a broadcast gradient `g` back to the shape of `x` (leading axes summed away, axes
 * where x has size 1 summed with keepdims).
 */
export function unbroadcast(g: Tensor, x: Tensor): Tensor {
  if (sameShape(g.shape, x.shape)) return g;
  const off = g.rank - x.rank;
  const keepAxes: number[] = [];
  for (let i = off; i < g.rank; i++) if (x.shape[i - off] === 1 && g.shape[i] !== 1) keepAxes.push(i);
  const lead = Array.from({ length: off }, (_, i) => i);
  let r = g;
  if (lead.length || keepAxes.length) r = o.reduceSum(r, [...lead, ...keepAxes], true);
  if (lead.length) r = o.squeeze(r, lead);
  return r;
}

function constInts(t: Tensor | null, op: string): number[] {
  if (!t || !t.value) throw new GradientError(op, 'needs constant axes / starts / ends');
  return Array.from(t.value.data as BigInt64Array, (v) => Number(v));
}

function mask(b: Tensor, like: Tensor): Tensor {
  return o.cast(b, like.dtype);
}

/** Output gradient, unsqueezed to keepdims form for a reduction node. */
function keepdimsGrad(ctx: VjpContext, t: Tensor): Tensor {
  const keep = ctx.node.attrs.keepdims;
  if (keep && keep.kind === 'int' && keep.value === 1) return t;
  const axes = constInts(ctx.inputs[1], ctx.node.op);
  return o.unsqueeze(t, axes);
}

function reduceCount(x: Tensor, y: Tensor): Tensor {
  const nx = numel(x.shape);
  const ny = numel(y.shape);
  if (nx !== null && ny !== null) return x.graph.scalar(nx / ny, x.dtype);
  return o.cast(o.div(o.size(x), o.size(y)), x.dtype);
}

const matmulRule: VjpRule = ({ inputs: [a, b], outputs: [y], gradOutputs: [g], needs }) => {
  const A = a!;
  const B = b!;
  const G = g!;
  let da: Tensor | null = null;
  let db: Tensor | null = null;
  if (needs[0]) da = unbroadcast(o.matmul(G, o.transposeLast2(B)), A);
  if (needs[1]) {
    if (B.rank === 2 && A.rank > 2) {
      // [.., M, K] x [K, N]: fold batch into M so dB is one large GEMM instead of a batched one + ReduceSum.
      const K = A.shape[A.rank - 1];
      const N = y.shape[y.rank - 1];
      db = o.matmul(o.transpose(o.reshape(A, [-1, K])), o.reshape(G, [-1, N]));
    } else {
      db = unbroadcast(o.matmul(o.transposeLast2(A), G), B);
    }
  }
  return [da, db];
};

/** The gradient table: op type -> VJP rule (or NO_GRADIENT). */
export const VJP_RULES: Record<string, VjpRule | typeof NO_GRADIENT> = {
  Add: ({ inputs: [a, b], gradOutputs: [g], needs }) => [needs[0] ? unbroadcast(g!, a!) : null, needs[1] ? unbroadcast(g!, b!) : null],
  Sub: ({ inputs: [a, b], gradOutputs: [g], needs }) => [needs[0] ? unbroadcast(g!, a!) : null, needs[1] ? unbroadcast(o.neg(g!), b!) : null],
  Mul: ({ inputs: [a, b], gradOutputs: [g], needs }) => [
    needs[0] ? unbroadcast(o.mul(g!, b!), a!) : null,
    needs[1] ? unbroadcast(o.mul(g!, a!), b!) : null,
  ],
  Div: ({ inputs: [a, b], outputs: [y], gradOutputs: [g], needs }) => [
    needs[0] ? unbroadcast(o.div(g!, b!), a!) : null,
    needs[1] ? unbroadcast(o.neg(o.div(o.mul(g!, y), b!)), b!) : null,
  ],
  Pow: ({ inputs: [a, b], outputs: [y], gradOutputs: [g], needs }) => [
    needs[0] ? unbroadcast(o.mul(g!, o.mul(b!, o.pow(a!, o.sub(b!, 1)))), a!) : null,
    needs[1] ? unbroadcast(o.mul(g!, o.mul(y, o.log(a!))), b!) : null,
  ],
  Max: ({ inputs: [a, b], gradOutputs: [g], needs }) => [
    needs[0] ? unbroadcast(o.mul(g!, mask(o.greaterEqual(a!, b!), g!)), a!) : null,
    needs[1] ? unbroadcast(o.mul(g!, mask(o.less(a!, b!), g!)), b!) : null,
  ],
  Min: ({ inputs: [a, b], gradOutputs: [g], needs }) => [
    needs[0] ? unbroadcast(o.mul(g!, mask(o.lessEqual(a!, b!), g!)), a!) : null,
    needs[1] ? unbroadcast(o.mul(g!, mask(o.greater(a!, b!), g!)), b!) : null,
  ],
  Neg: ({ gradOutputs: [g] }) => [o.neg(g!)],
  Exp: ({ outputs: [y], gradOutputs: [g] }) => [o.mul(g!, y)],
  Log: ({ inputs: [a], gradOutputs: [g] }) => [o.div(g!, a!)],
  Sqrt: ({ outputs: [y], gradOutputs: [g] }) => [o.div(o.mul(g!, 0.5), y)],
  Abs: ({ inputs: [a], gradOutputs: [g] }) => [o.mul(g!, o.sign(a!))],
  Sigmoid: ({ outputs: [y], gradOutputs: [g] }) => [o.mul(g!, o.mul(y, o.sub(1, y)))],
  Tanh: ({ outputs: [y], gradOutputs: [g] }) => [o.mul(g!, o.sub(1, o.mul(y, y)))],
  Reciprocal: ({ outputs: [y], gradOutputs: [g] }) => [o.neg(o.mul(g!, o.mul(y, y)))],
  Relu: ({ inputs: [a], gradOutputs: [g] }) => [o.mul(g!, mask(o.greater(a!, 0), g!))],
  Sin: ({ inputs: [a], gradOutputs: [g] }) => [o.mul(g!, o.cos(a!))],
  Cos: ({ inputs: [a], gradOutputs: [g] }) => [o.neg(o.mul(g!, o.sin(a!)))],
  Identity: ({ gradOutputs: [g] }) => [g],
  Cast: ({ inputs: [a], gradOutputs: [g] }) => [isFloat(a!.dtype) ? o.cast(g!, a!.dtype) : null],
  Where: ({ inputs: [c, a, b], gradOutputs: [g], needs }) => [
    null,
    needs[1] ? unbroadcast(o.where(c!, g!, 0), a!) : null,
    needs[2] ? unbroadcast(o.where(c!, 0, g!), b!) : null,
  ],
  Clip: ({ inputs: [x, lo, hi], gradOutputs: [g], needs }) => {
    let inside: Tensor | null = null;
    if (lo) inside = o.greaterEqual(x!, lo);
    if (hi) inside = inside ? o.and(inside, o.lessEqual(x!, hi)) : o.lessEqual(x!, hi);
    return [
      needs[0] ? (inside ? o.mul(g!, mask(inside, g!)) : g) : null,
      needs[1] && lo ? o.reduceSum(o.mul(g!, mask(o.less(x!, lo), g!))) : null,
      needs[2] && hi ? o.reduceSum(o.mul(g!, mask(o.greater(x!, hi), g!))) : null,
    ];
  },
  MatMul: matmulRule,
  ReduceSum: (ctx) => {
    const x = ctx.inputs[0]!;
    return [o.expandLike(keepdimsGrad(ctx, ctx.gradOutputs[0]!), x), null];
  },
  ReduceMean: (ctx) => {
    const x = ctx.inputs[0]!;
    const g = keepdimsGrad(ctx, ctx.gradOutputs[0]!);
    return [o.expandLike(o.div(g, reduceCount(x, ctx.outputs[0])), x), null];
  },
  ReduceMax: (ctx) => {
    const x = ctx.inputs[0]!;
    const y = keepdimsGrad(ctx, ctx.outputs[0]);
    const g = keepdimsGrad(ctx, ctx.gradOutputs[0]!);
    const m = mask(o.equal(x, y), x);
    const axes = constInts(ctx.inputs[1], 'ReduceMax');
    const count = o.reduceSum(m, axes, true);
    return [o.mul(m, o.div(g, count)), null];
  },
  Softmax: ({ node, outputs: [y], gradOutputs: [g] }) => {
    const axis = (node.attrs.axis as { value: number }).value;
    return [o.mul(y, o.sub(g!, o.reduceSum(o.mul(g!, y), [axis], true)))];
  },
  LogSoftmax: ({ node, outputs: [y], gradOutputs: [g] }) => {
    const axis = (node.attrs.axis as { value: number }).value;
    return [o.sub(g!, o.mul(o.exp(y), o.reduceSum(g!, [axis], true)))];
  },
  Gather: ({ node, inputs: [data, idx], gradOutputs: [g] }) => {
    const axis = (node.attrs.axis as { value: number }).value;
    if (axis !== 0) throw new GradientError('Gather', `only axis 0 is supported (got ${axis}); transpose the data first`);
    return [o.scatterND(o.zerosLike(data!), o.unsqueeze(o.cast(idx!, 'int64'), [-1]), g!, 'add'), null];
  },
  GatherElements: ({ node, inputs: [data, idx], gradOutputs: [g] }) => {
    const axis = (node.attrs.axis as { value: number }).value;
    return [o.scatterElements(o.zerosLike(data!), o.cast(idx!, 'int64'), g!, axis, 'add'), null];
  },
  Reshape: ({ inputs: [x], gradOutputs: [g] }) => [o.reshapeLike(g!, x!), null],
  Squeeze: ({ inputs: [x], gradOutputs: [g] }) => [o.reshapeLike(g!, x!), null],
  Unsqueeze: ({ inputs: [x], gradOutputs: [g] }) => [o.reshapeLike(g!, x!), null],
  Transpose: ({ node, gradOutputs: [g] }) => {
    const perm = (node.attrs.perm as { value: readonly number[] }).value;
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => { inv[p] = i; });
    return [o.transpose(g!, inv)];
  },
  Expand: ({ inputs: [x], gradOutputs: [g] }) => [unbroadcast(g!, x!), null],
  Concat: ({ node, inputs, gradOutputs: [g], needs }) => {
    const axis = (node.attrs.axis as { value: number }).value;
    let off = 0;
    return inputs.map((x, i) => {
      const d = x!.shape[axis];
      if (typeof d !== 'number') throw new GradientError('Concat', `input ${i} has dynamic size '${d}' on the concat axis; gradients need static sizes there`);
      const piece = needs[i] ? o.slice(g!, [off], [off + d], [axis]) : null;
      off += d;
      return piece;
    });
  },
  Slice: ({ inputs: [x, starts, ends, axesT, stepsT], outputs: [y], gradOutputs: [g] }) => {
    const X = x!;
    const st = constInts(starts, 'Slice');
    const en = constInts(ends, 'Slice');
    const ax = constInts(axesT, 'Slice');
    const sp = constInts(stepsT, 'Slice');
    const pads = new Array<number>(2 * X.rank).fill(0);
    ax.forEach((a, i) => {
      if (sp[i] !== 1) throw new GradientError('Slice', `step ${sp[i]} on axis ${a}; only step 1 is differentiable here`);
      const d: Dim = X.shape[a];
      const L: Dim = y.shape[a];
      let before: number;
      let after: number;
      if (typeof d === 'number' && typeof L === 'number') {
        before = Math.min(Math.max(st[i] < 0 ? st[i] + d : st[i], 0), d);
        after = d - before - L;
      } else {
        if (st[i] < 0) throw new GradientError('Slice', `negative start on dynamic axis ${a} ('${d}')`);
        before = st[i];
        if (en[i] >= o.END) after = 0;
        else if (en[i] < 0) after = -en[i];
        else throw new GradientError('Slice', `non-negative end on dynamic axis ${a} ('${d}'): use a negative end or END`);
      }
      pads[a] = before;
      pads[a + X.rank] = after;
    });
    const padded = X.graph.addNode('Pad', [g!, o.ints(X.graph, pads), X.graph.scalar(0, X.dtype)], {}, [{ dtype: X.dtype, shape: X.shape }])[0];
    return [padded, null, null, null, null];
  },
  Pad: ({ inputs: [x, padsT], gradOutputs: [g] }) => {
    const X = x!;
    const pads = constInts(padsT, 'Pad');
    const r = X.rank;
    const axes = X.shape.map((_, i) => i);
    return [o.slice(g!, pads.slice(0, r), pads.slice(r).map((p) => (p === 0 ? o.END : -p)), axes), null, null];
  },
  Equal: NO_GRADIENT,
  Less: NO_GRADIENT,
  LessOrEqual: NO_GRADIENT,
  Greater: NO_GRADIENT,
  GreaterOrEqual: NO_GRADIENT,
  And: NO_GRADIENT,
  Or: NO_GRADIENT,
  Not: NO_GRADIENT,
  Sign: NO_GRADIENT,
  Floor: NO_GRADIENT,
  ArgMax: NO_GRADIENT,
  Shape: NO_GRADIENT,
  Size: NO_GRADIENT,
  Range: NO_GRADIENT,
  ConstantOfShape: NO_GRADIENT,
};

export interface GradOptions {
  /** Gradient of the final output (required when `loss` is not a scalar); same shape and dtype as loss. */
  readonly seed?: Tensor;
}

function isStop(n: Node): boolean {
  return n.op === 'Identity' && n.attrs.longrl_stop_gradient !== undefined;
}

/**
 * Appends the backward pass of `loss` to its graph and returns d loss / d w for each
 * `wrt` tensor (zeros for one that `loss` does not depend on). `loss` must be a float
 * scalar (shape [] or all ones) unless `seed` is given.
 */
export function grad(loss: Tensor, wrt: readonly Tensor[], opts: GradOptions = {}): Tensor[] {
  const g = loss.graph;
  for (const w of wrt) {
    g.own(w, 'grad');
    if (!isFloat(w.dtype)) throw new GraphUsageError(`grad: cannot differentiate by ${w.toString()} of dtype ${w.dtype} (float only)`);
  }
  if (!isFloat(loss.dtype)) throw new GraphUsageError(`grad: loss ${loss.toString()} is ${loss.dtype}; it must be float`);
  let seed: Tensor;
  if (opts.seed) {
    g.own(opts.seed, 'grad seed');
    if (!sameShape(opts.seed.shape, loss.shape) || opts.seed.dtype !== loss.dtype) {
      throw new GraphUsageError(`grad: seed ${opts.seed.toString()} must match loss ${loss.toString()} in shape and dtype`);
    }
    seed = opts.seed;
  } else {
    if (!(isStatic(loss.shape) && numel(loss.shape) === 1)) throw new NonScalarLossError(loss.shape);
    seed = g.constant(1, loss.dtype, loss.shape as number[]);
  }
  const topo = neededNodes([loss]);
  const reach = new Set<Tensor>(wrt);
  for (const n of topo) {
    if (isStop(n)) continue;
    if (n.inputs.some((i) => i && reach.has(i))) for (const out of n.outputs) if (isFloat(out.dtype)) reach.add(out);
  }
  const grads = new Map<Tensor, Tensor>();
  if (reach.has(loss)) grads.set(loss, seed);
  for (let k = topo.length - 1; k >= 0; k--) {
    const n = topo[k];
    const gouts = n.outputs.map((t) => grads.get(t) ?? null);
    if (gouts.every((x) => x === null) || isStop(n)) continue;
    const needs = n.inputs.map((i) => i !== null && reach.has(i) && isFloat(i.dtype));
    if (!needs.some(Boolean)) continue;
    const rule = VJP_RULES[n.op];
    if (rule === undefined) throw new MissingGradientRuleError(n.op);
    if (rule === NO_GRADIENT) continue;
    const gins = rule({ node: n, inputs: n.inputs, outputs: n.outputs, gradOutputs: gouts, needs });
    n.inputs.forEach((inp, i) => {
      const gi = gins[i];
      if (!needs[i] || !inp || !gi) return;
      const badRank = gi.rank !== inp.rank;
      const badDim = gi.shape.some((d, j) => typeof d === 'number' && typeof inp.shape[j] === 'number' && d !== inp.shape[j]);
      if (badRank || badDim || gi.dtype !== inp.dtype) {
        throw new GradientError(n.op, `rule returned ${gi.toString()} for input ${i} ${inp.toString()} (shape or dtype mismatch: a bug in the rule)`);
      }
      const prev = grads.get(inp);
      grads.set(inp, prev ? o.add(prev, gi) : gi);
    });
  }
  return wrt.map((w) => grads.get(w) ?? o.zerosLike(w));
}
