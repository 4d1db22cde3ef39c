/**
 * Finite-difference gradient check in float64 (test helper). Builds
 * loss = sum(f(inputs) * W) with fixed random weights W, asks grad() for the analytic
 * gradients, and compares them with central differences of the loss.
 */
import { Graph, Tensor, grad, mul, reduceSum, serialize, DType, Dim, Node } from '../../../../engine/graph';
import { Session, HostTensor, hostTensor } from '../../../../engine/exec';

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

/** An input of the checked function: float64 inputs are differentiated unless `fixed`. */
export interface CheckInput {
  readonly name: string;
  readonly shape: readonly Dim[];
  /** Runtime dims (for named dims) – default: shape. */
  readonly dims?: readonly number[];
  readonly dtype?: DType;
  /** Values (default: uniform in [lo, hi)). */
  readonly values?: readonly number[];
  readonly lo?: number;
  readonly hi?: number;
  /** Not differentiated (indices, conditions, or deliberately constant inputs). */
  readonly fixed?: boolean;
}

export interface CheckResult {
  /** Max over inputs of ||analytic - numeric|| / max(||analytic||, ||numeric||, 1e-12). */
  readonly relError: number;
  readonly perInput: Record<string, { rel: number; analytic: number[]; numeric: number[] }>;
  /** Ops in the forward graph (for coverage). */
  readonly forwardOps: string[];
}

/** Forward ops seen by every check in this process (coverage of VJP rules). */
export const coveredOps = new Set<string>();

export async function gradCheck(
  f: (g: Graph, xs: Tensor[]) => Tensor,
  inputs: readonly CheckInput[],
  opts: { seed?: number; h?: number; weights?: boolean } = {},
): Promise<CheckResult> {
  const r = rng(opts.seed ?? 1);
  const h = opts.h ?? 1e-5;
  const g = new Graph('gradcheck');
  const xs = inputs.map((i) => g.input(i.name, i.dtype ?? 'float64', i.shape));
  const nodesBefore = g.nodes.length;
  const y = f(g, xs);
  const forwardOps = (g.nodes.slice(nodesBefore) as Node[]).map((n) => n.op);
  for (const op of forwardOps) coveredOps.add(op);
  const ydims = y.shape.map((d) => {
    if (typeof d === 'number') return d;
    throw new Error(`gradCheck: output dim '${d}' must be static (reduce first)`);
  });
  const n = ydims.reduce((p, q) => p * q, 1);
  const W = opts.weights === false ? g.scalar(1, 'float64') : g.constant(Array.from({ length: n }, () => r() * 2 - 1), 'float64', ydims);
  const loss = reduceSum(mul(y, W));
  const diff = inputs.map((i, k) => ({ i, k })).filter(({ i }) => !i.fixed && (i.dtype ?? 'float64') === 'float64');
  const grads = grad(loss, diff.map(({ k }) => xs[k]));
  g.output('loss', loss);
  diff.forEach(({ i }, j) => g.output(`grad_${i.name}`, grads[j]));
  const full = await Session.create(g, { threads: 1 });
  const fwd = await Session.create(serialize(g, { outputs: ['loss'] }), { threads: 1 });
  const feeds: Record<string, HostTensor> = {};
  for (const i of inputs) {
    const dims = i.dims ?? (i.shape as number[]);
    const count = dims.reduce((p, q) => p * q, 1);
    const lo = i.lo ?? -1;
    const hi = i.hi ?? 1;
    const vals = i.values ?? Array.from({ length: count }, () => lo + (hi - lo) * r());
    feeds[i.name] = hostTensor(i.dtype ?? 'float64', dims, vals);
  }
  const out = await full.run(feeds);
  const perInput: CheckResult['perInput'] = {};
  let worst = 0;
  for (const { i } of diff) {
    const analytic = Array.from(out[`grad_${i.name}`].data as Float64Array);
    const x = feeds[i.name].data as Float64Array;
    const numeric: number[] = [];
    for (let e = 0; e < x.length; e++) {
      const keep = x[e];
      x[e] = keep + h;
      const lp = (await fwd.run(feeds)).loss.data[0] as number;
      x[e] = keep - h;
      const lm = (await fwd.run(feeds)).loss.data[0] as number;
      x[e] = keep;
      numeric.push((lp - lm) / (2 * h));
    }
    const norm = (v: number[]): number => Math.sqrt(v.reduce((p, q) => p + q * q, 0));
    const d = norm(analytic.map((a, e) => a - numeric[e]));
    const rel = d / Math.max(norm(analytic), norm(numeric), 1e-12);
    const err = norm(analytic) < 1e-12 && norm(numeric) < 1e-12 ? 0 : rel;
    perInput[i.name] = { rel: err, analytic, numeric };
    worst = Math.max(worst, err);
  }
  return { relError: worst, perInput, forwardOps };
}
