/**
 * Primitive ops: one builder per ONNX operator (opset 18), each with build-time shape and
 * dtype inference. Gradients of these ops live in one table, VJP_RULES (grad.ts);
 * composites built from them (nn.ts) need no rule.
 *
 * Numbers passed where a tensor is expected become scalar constants of the other operand's
 * dtype (`mul(x, 0.5)`). Axes may be negative (counted from the end) and are normalised at
 * build time.
 */
import { DType, isFloat } from './dtype';
import { Dim, Shape, broadcastShapes, dimDivide, dimProduct, isStatic, numel, sameShape } from './shape';
import { Graph, Tensor, attr, Attrs } from './graph';
import { DTypeError, GraphUsageError, ShapeError } from './errors';

export type TensorLike = Tensor | number;

const FLOATS: readonly DType[] = ['float32', 'float64'];
const NUMERIC: readonly DType[] = ['float32', 'float64', 'int64', 'int32'];
/** Large end index meaning "to the end" for slice(). */
export const END = Number.MAX_SAFE_INTEGER;

function graphOf(op: string, xs: readonly TensorLike[]): Graph {
  let g: Graph | undefined;
  for (const x of xs) {
    if (x instanceof Tensor) {
      if (g && x.graph !== g) throw new GraphUsageError(`${op}: inputs come from different graphs ('${g.name}' and '${x.graph.name}')`);
      g = x.graph;
    }
  }
  if (!g) throw new GraphUsageError(`${op}: at least one input must be a Tensor`);
  return g;
}

function lift(x: TensorLike, dtype: DType, g: Graph): Tensor {
  return x instanceof Tensor ? x : g.scalar(x, dtype);
}

function checkDtype(op: string, ts: readonly Tensor[], allowed: readonly DType[]): void {
  for (const t of ts) {
    if (!allowed.includes(t.dtype)) throw new DTypeError(op, ts.map((u) => u.dtype), `dtype ${t.dtype} not accepted (allowed: ${allowed.join(', ')})`);
  }
}

function sameDtype(op: string, ts: readonly Tensor[]): void {
  if (ts.some((t) => t.dtype !== ts[0].dtype)) throw new DTypeError(op, ts.map((t) => t.dtype), 'inputs must share one dtype; insert cast()');
}

function normAxis(op: string, axis: number, rank: number, shapes: readonly Shape[]): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeError(op, shapes, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

function one(g: Graph, op: string, inputs: readonly (Tensor | null)[], attrs: Attrs, dtype: DType, shape: Shape): Tensor {
  return g.addNode(op, inputs, attrs, [{ dtype, shape }])[0];
}

/** int64 1-D constant. */
export function ints(g: Graph, values: readonly number[]): Tensor {
  return g.constant(values, 'int64', [values.length]);
}

// ---------------------------------------------------------------- elementwise

function binary(op: string, a: TensorLike, b: TensorLike, allowed: readonly DType[], outDtype?: DType): Tensor {
  const g = graphOf(op, [a, b]);
  const dt = a instanceof Tensor ? a.dtype : (b as Tensor).dtype;
  const x = lift(a, dt, g);
  const y = lift(b, dt, g);
  checkDtype(op, [x, y], allowed);
  sameDtype(op, [x, y]);
  const shape = broadcastShapes([x.shape, y.shape]);
  if (!shape) throw new ShapeError(op, [x.shape, y.shape], 'shapes do not broadcast');
  return one(g, op, [x, y], {}, outDtype ?? dt, shape);
}

function unary(op: string, x: Tensor, allowed: readonly DType[], outDtype?: DType, attrs: Attrs = {}): Tensor {
  checkDtype(op, [x], allowed);
  return one(x.graph, op, [x], attrs, outDtype ?? x.dtype, x.shape);
}

/** a + b, broadcasting. */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('Add', a, b, NUMERIC);
/** a - b, broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('Sub', a, b, NUMERIC);
/** a * b, broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('Mul', a, b, NUMERIC);
/** a / b, broadcasting (integer division truncates, as in ONNX). */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('Div', a, b, NUMERIC);
/** a ** b, broadcasting (float only). */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('Pow', a, b, FLOATS);
/** Elementwise maximum of two tensors (ONNX Max). */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('Max', a, b, NUMERIC);
/** Elementwise minimum of two tensors (ONNX Min). */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('Min', a, b, NUMERIC);
/** a == b -> bool. */
export const equal = (a: TensorLike, b: TensorLike): Tensor => binary('Equal', a, b, [...NUMERIC, 'bool'], 'bool');
/** a < b -> bool. */
export const less = (a: TensorLike, b: TensorLike): Tensor => binary('Less', a, b, NUMERIC, 'bool');
/** a <= b -> bool. */
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binary('LessOrEqual', a, b, NUMERIC, 'bool');
/** a > b -> bool. */
export const greater = (a: TensorLike, b: TensorLike): Tensor => binary('Greater', a, b, NUMERIC, 'bool');
/** a >= b -> bool. */
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binary('GreaterOrEqual', a, b, NUMERIC, 'bool');
/** Logical and of bool tensors. */
export const and = (a: Tensor, b: Tensor): Tensor => binary('And', a, b, ['bool']);
/** Logical or of bool tensors. */
export const or = (a: Tensor, b: Tensor): Tensor => binary('Or', a, b, ['bool']);
/** Logical not. */
export const not = (x: Tensor): Tensor => unary('Not', x, ['bool']);

export const neg = (x: Tensor): Tensor => unary('Neg', x, NUMERIC);
export const exp = (x: Tensor): Tensor => unary('Exp', x, FLOATS);
export const log = (x: Tensor): Tensor => unary('Log', x, FLOATS);
export const sqrt = (x: Tensor): Tensor => unary('Sqrt', x, FLOATS);
export const abs = (x: Tensor): Tensor => unary('Abs', x, NUMERIC);
/** -1, 0 or 1 (no gradient). */
export const sign = (x: Tensor): Tensor => unary('Sign', x, NUMERIC);
export const sigmoid = (x: Tensor): Tensor => unary('Sigmoid', x, FLOATS);
export const tanh = (x: Tensor): Tensor => unary('Tanh', x, FLOATS);
export const reciprocal = (x: Tensor): Tensor => unary('Reciprocal', x, FLOATS);
export const relu = (x: Tensor): Tensor => unary('Relu', x, FLOATS);
export const sin = (x: Tensor): Tensor => unary('Sin', x, FLOATS);
export const cos = (x: Tensor): Tensor => unary('Cos', x, FLOATS);
/** Floor (no gradient). */
export const floor = (x: Tensor): Tensor => unary('Floor', x, FLOATS);
/** Identity (a copy; useful to output one tensor under two names). */
export const identity = (x: Tensor): Tensor => unary('Identity', x, [...NUMERIC, 'bool']);
/** Stops gradients: the value of x, treated as a constant by grad(). */
export const stopGradient = (x: Tensor): Tensor => one(x.graph, 'Identity', [x], { longrl_stop_gradient: attr.int(1) }, x.dtype, x.shape);

/** Casts to `dtype` (no node when already of that dtype). */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const to = { float32: 1, float64: 11, int64: 7, int32: 6, bool: 9 }[dtype];
  return one(x.graph, 'Cast', [x], { to: attr.int(to) }, dtype, x.shape);
}

/** cond ? a : b, broadcasting all three; cond is bool. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const g = graphOf('Where', [cond, a, b]);
  const dt = a instanceof Tensor ? a.dtype : b instanceof Tensor ? b.dtype : 'float32';
  const x = lift(a, dt, g);
  const y = lift(b, dt, g);
  checkDtype('Where', [cond], ['bool']);
  sameDtype('Where', [x, y]);
  const shape = broadcastShapes([cond.shape, x.shape, y.shape]);
  if (!shape) throw new ShapeError('Where', [cond.shape, x.shape, y.shape], 'shapes do not broadcast');
  return one(g, 'Where', [cond, x, y], {}, dt, shape);
}

/** Clamps x to [min, max] (either may be omitted); min/max are scalars. */
export function clip(x: Tensor, min?: TensorLike, max?: TensorLike): Tensor {
  checkDtype('Clip', [x], NUMERIC);
  const lo = min === undefined ? null : lift(min, x.dtype, x.graph);
  const hi = max === undefined ? null : lift(max, x.dtype, x.graph);
  for (const b of [lo, hi]) {
    if (b && b.rank !== 0) throw new ShapeError('Clip', [x.shape, b.shape], 'min and max must be scalars');
    if (b) sameDtype('Clip', [x, b]);
  }
  return one(x.graph, 'Clip', [x, lo, hi], {}, x.dtype, x.shape);
}

// ---------------------------------------------------------------- linear algebra

/**
 * Batched matrix product a[..., M, K] @ b[..., K, N] -> [..., M, N]; batch dims broadcast.
 * Both operands need rank >= 2 (unsqueeze vectors first).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  graphOf('MatMul', [a, b]);
  checkDtype('MatMul', [a, b], NUMERIC);
  sameDtype('MatMul', [a, b]);
  if (a.rank < 2 || b.rank < 2) throw new ShapeError('MatMul', [a.shape, b.shape], 'both operands need rank >= 2 (unsqueeze a vector to [1, K] or [K, 1])');
  const k1 = a.shape[a.rank - 1];
  const k2 = b.shape[b.rank - 2];
  if (k1 !== k2 && !(typeof k1 === 'string' || typeof k2 === 'string')) {
    throw new ShapeError('MatMul', [a.shape, b.shape], `inner dims differ (${k1} vs ${k2})`);
  }
  if (typeof k1 === 'string' && typeof k2 === 'string' && k1 !== k2) {
    throw new ShapeError('MatMul', [a.shape, b.shape], `inner dims '${k1}' and '${k2}' are different names`);
  }
  const batch = broadcastShapes([a.shape.slice(0, -2), b.shape.slice(0, -2)]);
  if (!batch) throw new ShapeError('MatMul', [a.shape, b.shape], 'batch dims do not broadcast');
  return one(a.graph, 'MatMul', [a, b], {}, a.dtype, [...batch, a.shape[a.rank - 2], b.shape[b.rank - 1]]);
}

// ---------------------------------------------------------------- reductions

function reduce(op: string, x: Tensor, axes: readonly number[] | undefined, keepdims: boolean): Tensor {
  checkDtype(op, [x], NUMERIC);
  const ax = axes === undefined ? x.shape.map((_, i) => i) : [...new Set(axes.map((a) => normAxis(op, a, x.rank, [x.shape])))].sort((p, q) => p - q);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!ax.includes(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  return one(x.graph, op, [x, ints(x.graph, ax)], { keepdims: attr.int(keepdims ? 1 : 0) }, x.dtype, shape);
}

/** Sum over `axes` (all when omitted). */
export const reduceSum = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor => reduce('ReduceSum', x, axes, keepdims);
/** Mean over `axes` (all when omitted). */
export const reduceMean = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor => reduce('ReduceMean', x, axes, keepdims);
/** Max over `axes` (all when omitted); gradient split evenly among ties. */
export const reduceMax = (x: Tensor, axes?: readonly number[], keepdims = false): Tensor => reduce('ReduceMax', x, axes, keepdims);

/** Index of the max along `axis` (int64, no gradient). */
export function argMax(x: Tensor, axis = -1, keepdims = false): Tensor {
  const a = normAxis('ArgMax', axis, x.rank, [x.shape]);
  const shape = x.shape.flatMap((d, i) => (i === a ? (keepdims ? [1] : []) : [d]));
  return one(x.graph, 'ArgMax', [x], { axis: attr.int(a), keepdims: attr.int(keepdims ? 1 : 0) }, 'int64', shape);
}

/** Fused softmax along `axis` (ONNX Softmax, opset 13+ semantics). */
export function softmax(x: Tensor, axis = -1): Tensor {
  checkDtype('Softmax', [x], FLOATS);
  const a = normAxis('Softmax', axis, x.rank, [x.shape]);
  return one(x.graph, 'Softmax', [x], { axis: attr.int(a) }, x.dtype, x.shape);
}

/** Fused log-softmax along `axis`. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkDtype('LogSoftmax', [x], FLOATS);
  const a = normAxis('LogSoftmax', axis, x.rank, [x.shape]);
  return one(x.graph, 'LogSoftmax', [x], { axis: attr.int(a) }, x.dtype, x.shape);
}

// ---------------------------------------------------------------- indexing

/** Gather along `axis` (embedding lookup with axis 0): out = data.shape[:axis] + indices.shape + data.shape[axis+1:]. */
export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  graphOf('Gather', [data, indices]);
  checkDtype('Gather', [indices], ['int64', 'int32']);
  const a = normAxis('Gather', axis, data.rank, [data.shape, indices.shape]);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return one(data.graph, 'Gather', [data, indices], { axis: attr.int(a) }, data.dtype, shape);
}

/** GatherElements along `axis`: out[i][j] = data[i][indices[i][j]] (axis 1); out has indices' shape. */
export function gatherElements(data: Tensor, indices: Tensor, axis = -1): Tensor {
  graphOf('GatherElements', [data, indices]);
  checkDtype('GatherElements', [indices], ['int64', 'int32']);
  if (data.rank !== indices.rank) throw new ShapeError('GatherElements', [data.shape, indices.shape], 'data and indices need the same rank');
  const a = normAxis('GatherElements', axis, data.rank, [data.shape, indices.shape]);
  data.shape.forEach((d, i) => {
    const e = indices.shape[i];
    if (i !== a && typeof d === 'number' && typeof e === 'number' && e > d) {
      throw new ShapeError('GatherElements', [data.shape, indices.shape], `indices dim ${i} (${e}) exceeds data dim (${d})`);
    }
  });
  return one(data.graph, 'GatherElements', [data, indices], { axis: attr.int(a) }, data.dtype, indices.shape);
}

/** ScatterND with reduction ('none' | 'add'): out = data with updates written/added at indices[..., :k]. */
export function scatterND(data: Tensor, indices: Tensor, updates: Tensor, reduction: 'none' | 'add' = 'none'): Tensor {
  graphOf('ScatterND', [data, indices, updates]);
  sameDtype('ScatterND', [data, updates]);
  return one(data.graph, 'ScatterND', [data, indices, updates], reduction === 'none' ? {} : { reduction: attr.string(reduction) }, data.dtype, data.shape);
}

/** ScatterElements along `axis` with reduction ('none' | 'add'). */
export function scatterElements(data: Tensor, indices: Tensor, updates: Tensor, axis: number, reduction: 'none' | 'add' = 'none'): Tensor {
  graphOf('ScatterElements', [data, indices, updates]);
  sameDtype('ScatterElements', [data, updates]);
  if (!sameShape(indices.shape, updates.shape)) throw new ShapeError('ScatterElements', [data.shape, indices.shape, updates.shape], 'indices and updates need the same shape');
  const a = normAxis('ScatterElements', axis, data.rank, [data.shape]);
  const attrs: Attrs = reduction === 'none' ? { axis: attr.int(a) } : { axis: attr.int(a), reduction: attr.string(reduction) };
  return one(data.graph, 'ScatterElements', [data, indices, updates], attrs, data.dtype, data.shape);
}

// ---------------------------------------------------------------- shapes

/** Runtime shape of x as an int64 1-D tensor (ONNX Shape with optional start/end). */
export function shapeOf(x: Tensor, start = 0, end = x.rank): Tensor {
  const s = start < 0 ? start + x.rank : start;
  const e = end < 0 ? end + x.rank : end;
  if (s === 0 && e === x.rank) return one(x.graph, 'Shape', [x], {}, 'int64', [x.rank]);
  return one(x.graph, 'Shape', [x], { start: attr.int(s), end: attr.int(e) }, 'int64', [Math.max(0, e - s)]);
}

/**
 * Runtime value of named dim `sym` as an int64 [1] tensor, read from a fed tensor that has
 * that dim (or from `refs`). Products ('B*T') multiply their parts.
 */
export function dimTensor(g: Graph, sym: Dim, refs: readonly Tensor[] = []): Tensor {
  if (typeof sym === 'number') return ints(g, [sym]);
  const cached = g.dimCache.get(sym);
  if (cached) return cached;
  let found: [Tensor, number] | null = null;
  for (const r of refs) {
    const i = r.shape.indexOf(sym);
    if (i >= 0) { found = [r, i]; break; }
  }
  found ??= g.findDim(sym);
  let t: Tensor;
  if (found) {
    t = shapeOf(found[0], found[1], found[1] + 1);
  } else if (sym.includes('*')) {
    const parts = sym.split('*');
    t = dimTensor(g, /^\d+$/.test(parts[0]) ? Number(parts[0]) : parts[0], refs);
    for (const p of parts.slice(1)) t = mul(t, dimTensor(g, /^\d+$/.test(p) ? Number(p) : p, refs));
  } else {
    throw new ShapeError('dimTensor', [], `no fed input or reference tensor has the dynamic dim '${sym}'; declare it on an input or use static dims`);
  }
  if (!refs.length) g.dimCache.set(sym, t);
  return t;
}

/** int64 1-D tensor holding `dims` (a constant when static; runtime dims read via dimTensor). */
export function shapeTensor(g: Graph, dims: readonly (Dim)[], refs: readonly Tensor[] = []): Tensor {
  if (dims.every((d) => typeof d === 'number')) return ints(g, dims as number[]);
  const parts: Tensor[] = [];
  let run: number[] = [];
  for (const d of dims) {
    if (typeof d === 'number') { run.push(d); continue; }
    if (run.length) { parts.push(ints(g, run)); run = []; }
    parts.push(dimTensor(g, d, refs));
  }
  if (run.length) parts.push(ints(g, run));
  return parts.length === 1 ? parts[0] : concat(parts, 0);
}

/**
 * Reshape to `shape`: entries are static dims, named dims, or one -1 (inferred, also
 * symbolically: [B, T, C] -> [-1, C] gives ['B*T', C]).
 */
export function reshape(x: Tensor, shape: readonly Dim[]): Tensor {
  const op = 'Reshape';
  if (shape.filter((d) => d === -1).length > 1) throw new ShapeError(op, [x.shape, shape], 'at most one -1 in the target shape');
  const known = shape.filter((d) => d !== -1);
  for (const d of known) if (typeof d === 'number' && (!Number.isInteger(d) || d < 0)) throw new ShapeError(op, [x.shape, shape], `invalid target dim ${d}`);
  const total = dimProduct(x.shape);
  const out: Dim[] = [...shape];
  const minus = shape.indexOf(-1);
  if (minus >= 0) {
    const rest = dimDivide(total, dimProduct(known));
    if (rest === null) throw new ShapeError(op, [x.shape, shape], `cannot infer -1: ${total} is not divisible by ${dimProduct(known)}`);
    out[minus] = rest;
  } else {
    const st = numel(x.shape);
    const so = numel(out);
    const ok = st !== null && so !== null ? st === so : dimProduct(out) === total;
    if (!ok) throw new ShapeError(op, [x.shape, shape], `element count ${total} != ${dimProduct(out)}`);
  }
  if (sameShape(out, x.shape)) return x;
  // Target codes: static numbers; named dims equal to the input's dim at the same index -> 0 (copy).
  const code: Dim[] = shape.map((d, i) => (typeof d === 'string' && x.shape[i] === d ? 0 : d));
  const names = code.filter((d) => typeof d === 'string');
  if (names.length === 1 && minus < 0) code[code.indexOf(names[0])] = -1;
  return one(x.graph, op, [x, shapeTensor(x.graph, code, [x])], {}, x.dtype, out);
}

/** Transpose by `perm` (default: reverse the axes). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ? perm.map((a) => normAxis('Transpose', a, x.rank, [x.shape])) : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || new Set(p).size !== x.rank) throw new ShapeError('Transpose', [x.shape], `perm [${perm?.join(', ')}] is not a permutation of ${x.rank} axes`);
  if (p.every((a, i) => a === i)) return x;
  return one(x.graph, 'Transpose', [x], { perm: attr.ints(p) }, x.dtype, p.map((a) => x.shape[a]));
}

/** Swaps the last two axes (matrix transpose of a batch). */
export function transposeLast2(x: Tensor): Tensor {
  const p = x.shape.map((_, i) => i);
  [p[x.rank - 2], p[x.rank - 1]] = [p[x.rank - 1], p[x.rank - 2]];
  return transpose(x, p);
}

/** Concatenates along `axis`; other dims must agree. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new ShapeError('Concat', [], 'needs at least one input');
  const g = graphOf('Concat', xs);
  sameDtype('Concat', xs);
  const r = xs[0].rank;
  const a = normAxis('Concat', axis, r, xs.map((x) => x.shape));
  for (const x of xs) {
    if (x.rank !== r) throw new ShapeError('Concat', xs.map((t) => t.shape), 'inputs need the same rank');
    x.shape.forEach((d, i) => {
      if (i !== a && d !== xs[0].shape[i]) throw new ShapeError('Concat', xs.map((t) => t.shape), `dim ${i} differs (${d} vs ${xs[0].shape[i]})`);
    });
  }
  const cat = xs.map((x) => x.shape[a]);
  const sum: Dim = cat.every((d) => typeof d === 'number') ? (cat as number[]).reduce((p, q) => p + q, 0) : `(${cat.join('+')})`;
  if (xs.length === 1) return xs[0];
  const shape = [...xs[0].shape];
  shape[a] = sum;
  return one(g, 'Concat', xs, { axis: attr.int(a) }, xs[0].dtype, shape);
}

function sliceLen(d: Dim, start: number, end: number, step: number): Dim {
  if (typeof d === 'number') {
    const clampIdx = (i: number, lo: number, hi: number): number => Math.min(Math.max(i < 0 ? i + d : i, lo), hi);
    if (step > 0) {
      const s = clampIdx(start, 0, d);
      const e = clampIdx(end, 0, d);
      return Math.max(0, Math.ceil((e - s) / step));
    }
    const s = clampIdx(start, -1, d - 1);
    const e = clampIdx(end, -1, d - 1);
    return Math.max(0, Math.ceil((s - e) / -step));
  }
  if (step === 1 && start >= 0 && end >= 0 && end < END) return Math.max(0, end - start);
  if (step === 1 && start === 0 && end >= END) return d;
  return `${d}[${start}:${end >= END ? '' : end}${step === 1 ? '' : `:${step}`}]`;
}

/** Slice along `axes` (default 0..n-1) from `starts` to `ends` (exclusive; END = to the end) by `steps`. */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Tensor {
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis('Slice', a, x.rank, [x.shape]));
  const st = steps ?? starts.map(() => 1);
  if (ends.length !== starts.length || ax.length !== starts.length || st.length !== starts.length) {
    throw new ShapeError('Slice', [x.shape], 'starts, ends, axes and steps need the same length');
  }
  if (st.some((s) => s === 0)) throw new ShapeError('Slice', [x.shape], 'step 0');
  const shape = [...x.shape];
  ax.forEach((a, i) => { shape[a] = sliceLen(x.shape[a], starts[i], ends[i], st[i]); });
  const g = x.graph;
  const inputs = [x, ints(g, starts), ints(g, ends), ints(g, ax), ints(g, st)];
  return one(g, 'Slice', inputs, {}, x.dtype, shape);
}

/** Zero padding: pads = [begin_0, ..., begin_{r-1}, end_0, ..., end_{r-1}] (constant mode). */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (pads.length !== 2 * x.rank) throw new ShapeError('Pad', [x.shape], `pads needs ${2 * x.rank} entries, got ${pads.length}`);
  const shape = x.shape.map((d, i) => {
    const add = pads[i] + pads[i + x.rank];
    return add === 0 ? d : typeof d === 'number' ? d + add : `(${d}+${add})`;
  });
  return one(x.graph, 'Pad', [x, ints(x.graph, pads), x.graph.scalar(value, x.dtype)], {}, x.dtype, shape);
}

/** Inserts size-1 axes at `axes` (positions in the output). */
export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  const r = x.rank + axes.length;
  const ax = axes.map((a) => normAxis('Unsqueeze', a, r, [x.shape])).sort((p, q) => p - q);
  const shape: Dim[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) shape.push(ax.includes(i) ? 1 : x.shape[j++]);
  return one(x.graph, 'Unsqueeze', [x, ints(x.graph, ax)], {}, x.dtype, shape);
}

/** Removes size-1 axes `axes`. */
export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  const ax = axes.map((a) => normAxis('Squeeze', a, x.rank, [x.shape]));
  for (const a of ax) if (x.shape[a] !== 1) throw new ShapeError('Squeeze', [x.shape], `axis ${a} has size ${x.shape[a]}, not 1`);
  return one(x.graph, 'Squeeze', [x, ints(x.graph, ax)], {}, x.dtype, x.shape.filter((_, i) => !ax.includes(i)));
}

/** Broadcasts x to `shape` (numpy rules; named dims allowed). */
export function expand(x: Tensor, shape: readonly Dim[]): Tensor {
  const out = broadcastShapes([x.shape, shape]);
  if (!out || out.length !== shape.length) throw new ShapeError('Expand', [x.shape, shape], 'x does not broadcast to the target shape');
  if (sameShape(out, x.shape)) return x;
  const off = shape.length - x.rank;
  const code = shape.map((d, i) => (i >= off && x.shape[i - off] === d ? 1 : d));
  return one(x.graph, 'Expand', [x, shapeTensor(x.graph, code, [x])], {}, x.dtype, out);
}

/** Broadcasts x to the (runtime) shape of `like` (x must broadcast to it). */
export function expandLike(x: Tensor, like: Tensor): Tensor {
  if (sameShape(x.shape, like.shape)) return x;
  if (isStatic(like.shape)) return expand(x, like.shape);
  const out = broadcastShapes([x.shape, like.shape]);
  if (!out || out.length !== like.rank) throw new ShapeError('Expand', [x.shape, like.shape], 'x does not broadcast to the target shape');
  return one(x.graph, 'Expand', [x, shapeOf(like)], {}, x.dtype, like.shape);
}

/** A tensor of `shape` filled with `value` (ConstantOfShape; no data in the model). */
export function full(g: Graph, shape: readonly Dim[], value: number, dtype: DType, refs: readonly Tensor[] = []): Tensor {
  const st = shapeTensor(g, shape, refs);
  return one(g, 'ConstantOfShape', [st], { value: attr.tensor({ dtype, shape: [1], data: g.constant(value, dtype, [1]).value!.data }) }, dtype, shape);
}

/** Zeros shaped like x (static or from x's runtime shape). */
export function zerosLike(x: Tensor): Tensor {
  if (isStatic(x.shape)) return full(x.graph, x.shape, 0, x.dtype);
  return one(x.graph, 'ConstantOfShape', [shapeOf(x)], { value: attr.tensor({ dtype: x.dtype, shape: [1], data: x.graph.constant(0, x.dtype, [1]).value!.data }) }, x.dtype, x.shape);
}

/** 0, 1, ..., n-1 as a 1-D tensor (n static or a named dim). */
export function arange(g: Graph, n: Dim, dtype: DType = 'int64', refs: readonly Tensor[] = []): Tensor {
  checkDtype('Range', [{ dtype } as Tensor], NUMERIC);
  const limit = typeof n === 'number' ? g.scalar(n, dtype) : cast(reshape(dimTensor(g, n, refs), []), dtype);
  return one(g, 'Range', [g.scalar(0, dtype), limit, g.scalar(1, dtype)], {}, dtype, [n]);
}

/** Reshapes x to the (runtime) shape of `like` (same element count); no shape inference needed. */
export function reshapeLike(x: Tensor, like: Tensor): Tensor {
  if (sameShape(x.shape, like.shape)) return x;
  const st = isStatic(like.shape) ? ints(x.graph, like.shape as number[]) : shapeOf(like);
  return one(x.graph, 'Reshape', [x, st], {}, x.dtype, like.shape);
}

/** Number of elements of x as an int64 scalar (ONNX Size; no gradient). */
export function size(x: Tensor): Tensor {
  return one(x.graph, 'Size', [x], {}, 'int64', []);
}

/** Is this dtype differentiable? */
export function differentiable(d: DType): boolean {
  return isFloat(d);
}
