/**
 * Composites built from primitives (ops.ts): they need no VJP rule. Dimension legend:
 * B batch, T time (query positions), S key positions, H heads, D head dim, C channels,
 * V vocab.
 */
import { Graph, Tensor } from './graph';
import * as o from './ops';
import { ShapeError } from './errors';

/** x @ w (+ b): x [..., C_in], w [C_in, C_out], b [C_out] -> [..., C_out]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const y = o.matmul(x, w);
  return b ? o.add(y, b) : y;
}

/**
 * RMSNorm (Zhang & Sennrich 2019; Qwen3 uses it before attention and MLP):
 * x / sqrt(mean(x^2, last axis) + eps) * weight. x [..., C], weight [C].
 */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-6): Tensor {
  const ms = o.reduceMean(o.mul(x, x), [-1], true);
  const y = o.div(x, o.sqrt(o.add(ms, eps)));
  return weight ? o.mul(y, weight) : y;
}

/** SiLU (swish): x * sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return o.mul(x, o.sigmoid(x));
}

/**
 * SwiGLU MLP (Shazeer 2020, as in Qwen/LLaMA): down(silu(x @ wGate) * (x @ wUp)).
 * x [..., C], wGate/wUp [C, F], wDown [F, C].
 */
export function swiglu(x: Tensor, wGate: Tensor, wUp: Tensor, wDown: Tensor): Tensor {
  return o.matmul(o.mul(silu(o.matmul(x, wGate)), o.matmul(x, wUp)), wDown);
}

/** Softmax from primitives: exp(x - max) / sum (for reference; ops.softmax is the fused op). */
export function softmaxPrimitive(x: Tensor, axis = -1): Tensor {
  const m = o.stopGradient(o.reduceMax(x, [axis], true));
  const e = o.exp(o.sub(x, m));
  return o.div(e, o.reduceSum(e, [axis], true));
}

/** log(sum(exp(x), axis)) computed stably; keepdims false. */
export function logSumExp(x: Tensor, axis = -1): Tensor {
  const m = o.stopGradient(o.reduceMax(x, [axis], true));
  return o.squeeze(o.add(o.log(o.reduceSum(o.exp(o.sub(x, m)), [axis], true)), m), [axis]);
}

/**
 * Log-probability of each target token: logits [..., V], targets [...] int64 -> [...].
 * log_softmax(logits)[..., target] via GatherElements.
 */
export function tokenLogProbs(logits: Tensor, targets: Tensor): Tensor {
  const lp = o.logSoftmax(logits, -1);
  return o.squeeze(o.gatherElements(lp, o.unsqueeze(targets, [-1]), -1), [-1]);
}

/**
 * Mean cross-entropy over the masked tokens: logits [..., V], targets [...] int64,
 * mask [...] (float, 1 = counted) -> scalar. Without a mask: the mean over all tokens.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, mask?: Tensor): Tensor {
  const nll = o.neg(tokenLogProbs(logits, targets));
  if (!mask) return o.reduceMean(nll);
  return o.div(o.reduceSum(o.mul(nll, mask)), o.maximum(o.reduceSum(mask), 1));
}

/** Causal mask [T, T] (bool, true where key j <= query i); T static or named. */
export function causalMask(g: Graph, T: number | string, refs: readonly Tensor[] = []): Tensor {
  const r = o.arange(g, T, 'int64', refs);
  return o.lessEqual(o.unsqueeze(r, [0]), o.unsqueeze(r, [1]));
}

export interface AttentionOptions {
  /** Apply a causal mask (query i sees keys <= i; needs T == S). */
  readonly causal?: boolean;
  /** Key padding mask [B, S] (bool, true = real token). */
  readonly keyMask?: Tensor;
  /** Extra boolean mask broadcastable to [B, H, T, S] (true = attend). */
  readonly mask?: Tensor;
  /** Score scale (default 1/sqrt(D)). */
  readonly scale?: number;
}

/**
 * Scaled dot-product attention (Vaswani et al. 2017): q [B, H, T, D], k/v [B, H, S, D]
 * -> [B, H, T, D]. Masked scores are set to a large negative number (not -inf) so fully
 * masked rows stay finite.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const D = q.shape[q.rank - 1];
  if (typeof D !== 'number') throw new ShapeError('attention', [q.shape, k.shape, v.shape], 'head dim D must be static');
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  let s = o.mul(o.matmul(q, o.transposeLast2(k)), scale);
  let keep: Tensor | null = null;
  if (opts.causal) keep = causalMask(q.graph, q.shape[q.rank - 2], [q]);
  if (opts.keyMask) {
    const km = o.unsqueeze(opts.keyMask, [1, 2]);
    keep = keep ? o.and(keep, km) : km;
  }
  if (opts.mask) keep = keep ? o.and(keep, opts.mask) : opts.mask;
  if (keep) s = o.where(keep, s, q.dtype === 'float64' ? -1e30 : -1e9);
  return o.matmul(o.softmax(s, -1), v);
}

/**
 * Rotary position embedding angles (Su et al. 2021, RoFormer; Qwen3 half-split layout):
 * positions [..., T] (float) -> cos, sin [..., T, D] with inv_freq_i = base^(-2i/D),
 * duplicated over both halves.
 */
export function ropeAngles(positions: Tensor, D: number, base = 10000): { cos: Tensor; sin: Tensor } {
  const half = D / 2;
  const inv = Array.from({ length: D }, (_, i) => Math.pow(base, -(2 * (i % half)) / D));
  const f = positions.graph.constant(inv, positions.dtype, [D]);
  const ang = o.mul(o.unsqueeze(positions, [-1]), f);
  return { cos: o.cos(ang), sin: o.sin(ang) };
}

/** rotate_half: [x1, x2] -> [-x2, x1] on the last axis (static, even size). */
export function rotateHalf(x: Tensor): Tensor {
  const D = x.shape[x.rank - 1];
  if (typeof D !== 'number' || D % 2) throw new ShapeError('rotateHalf', [x.shape], 'last dim must be static and even');
  const x1 = o.slice(x, [0], [D / 2], [-1]);
  const x2 = o.slice(x, [D / 2], [D], [-1]);
  return o.concat([o.neg(x2), x1], -1);
}

/** Applies RoPE: x * cos + rotate_half(x) * sin; x [B, H, T, D], cos/sin broadcastable ([B, 1, T, D] or [T, D]). */
export function applyRope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  return o.add(o.mul(x, cos), o.mul(rotateHalf(x), sin));
}

export interface PolicyLossOptions {
  readonly clipLow: number;
  readonly clipHigh: number;
  /** Dual-clip constant c (applied where A < 0); omit to disable. */
  readonly dualClip?: number;
}

/**
 * Clipped policy-gradient surrogate per token (PPO, Schulman et al. 2017; DAPO clip-higher
 * and dual clip; recipe.md section 4): ratio = exp(clamp(logp - logpOld, -20, 20));
 * L = max(-A*ratio, -A*clip(ratio, 1-eps_low, 1+eps_high)); for A < 0, L = min(L, -A*c).
 * logp, logpOld, adv: [B, T] -> per-token loss [B, T] (aggregate with the mask outside).
 */
export function clippedPolicyLoss(logp: Tensor, logpOld: Tensor, adv: Tensor, opts: PolicyLossOptions): Tensor {
  const ratio = o.exp(o.clip(o.sub(logp, logpOld), -20, 20));
  const l1 = o.neg(o.mul(adv, ratio));
  const l2 = o.neg(o.mul(adv, o.clip(ratio, 1 - opts.clipLow, 1 + opts.clipHigh)));
  let l = o.maximum(l1, l2);
  if (opts.dualClip !== undefined) {
    const l3 = o.minimum(l, o.mul(o.neg(adv), opts.dualClip));
    l = o.where(o.less(adv, 0), l3, l);
  }
  return l;
}
