/**
 * Policy-gradient loss pieces of recipe.md section 4 (DAPO clip-higher, dual clip from
 * veRL's core_algos.py `compute_policy_loss`, KL estimators k1/k2/k3 from `kl_penalty`),
 * as graph builders over per-token tensors, plus the aggregation weights computed in
 * TypeScript so that every aggregation mode stays exact across micro-batches.
 */
import { Tensor, ops as o } from '../graph';

export interface PolicyLossOptions {
  /** eps_low: ratio is clipped below at 1 - clipLow. Scalar tensor. */
  clipLow: Tensor;
  /** eps_high: ratio is clipped above at 1 + clipHigh. Scalar tensor. */
  clipHigh: Tensor;
  /** Dual-clip constant c (> 1) bounding the loss of negative advantages at -A * c. */
  clipRatioC: Tensor;
}

export interface PolicyLossTerms {
  /** Per-token loss [N]. */
  loss: Tensor;
  /** 1 where the clipped surrogate was the larger (veRL pg_clipfrac), else 0 [N]. */
  clipped: Tensor;
  /** 1 where A > 0 and ratio > 1 + eps_high (clip-higher bound active) [N]. */
  clippedUpper: Tensor;
  /** 1 where A < 0 and the dual clip bound -A*c was taken (veRL pg_clipfrac_lower) [N]. */
  dualClipped: Tensor;
}

/**
 * Clipped surrogate with dual clip, per token (recipe.md section 4):
 *   ratio = exp(clamp(logp - logp_old, -20, 20))
 *   L = max(-A ratio, -A clip(ratio, 1 - eps_low, 1 + eps_high)); for A < 0: L = min(L, -A c).
 * logp, logpOld, adv: [N] (same shape) -> PolicyLossTerms.
 */
export function policyLossTerms(logp: Tensor, logpOld: Tensor, adv: Tensor, opts: PolicyLossOptions): PolicyLossTerms {
  const g = logp.graph;
  const dt = logp.dtype;
  const ratio = o.exp(o.clip(o.sub(logp, logpOld), -20, 20));
  const negA = o.neg(adv);
  const l1 = o.mul(negA, ratio);
  const lo = o.sub(1, opts.clipLow);
  const hi = o.add(1, opts.clipHigh);
  const clippedRatio = o.minimum(o.maximum(ratio, lo), hi);
  const l2 = o.mul(negA, clippedRatio);
  const lmax = o.maximum(l1, l2);
  const l3 = o.mul(negA, opts.clipRatioC);
  const negAdv = o.less(adv, g.scalar(0, dt));
  const loss = o.where(negAdv, o.minimum(lmax, l3), lmax);
  const f = (b: Tensor): Tensor => o.cast(b, dt);
  return {
    loss,
    clipped: f(o.greater(o.stopGradient(l2), o.stopGradient(l1))),
    clippedUpper: f(o.and(o.greater(adv, g.scalar(0, dt)), o.greater(o.stopGradient(ratio), hi))),
    dualClipped: f(o.and(negAdv, o.greater(o.stopGradient(lmax), o.stopGradient(l3)))),
  };
}

/**
 * KL penalty per token to reference log-probs (recipe.md section 4; veRL kl_penalty):
 * d = clamp(logp - logp_ref, -20, 20); k1 = d; k2 = d^2 / 2; k3 = clamp(exp(-d) + d - 1, -10, 10).
 */
export function klTerm(logp: Tensor, logpRef: Tensor, kind: 'k1' | 'k2' | 'k3'): Tensor {
  const d = o.clip(o.sub(logp, logpRef), -20, 20);
  if (kind === 'k1') return d;
  if (kind === 'k2') return o.mul(o.mul(d, d), 0.5);
  return o.clip(o.sub(o.add(o.exp(o.neg(d)), d), 1), -10, 10);
}

/** Loss aggregation modes (veRL `agg_loss`, recipe.md section 4). */
export const AGGREGATION_MODES = ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum', 'seq-mean-token-sum-norm'] as const;
export type AggregationMode = typeof AGGREGATION_MODES[number];

/** An unknown aggregation mode or inconsistent global counts. */
export class AggregationError extends Error {
  override readonly name = 'AggregationError';
  constructor(readonly field: string, detail: string) {
    super(`loss aggregation: ${field}: ${detail}`);
  }
}

export interface GlobalCounts {
  /** Response tokens (mask = 1) in the whole mini-batch, over all its micro-batches. */
  tokens: number;
  /** Sequences in the whole mini-batch. */
  sequences: number;
  /** seq-mean-token-sum-norm divisor: a constant horizon such as the max response length. */
  normLength?: number;
}

/**
 * Per-token weights w[b, t] of one micro-batch such that sum_{micro-batches} sum w * l
 * equals the mode's loss over the whole mini-batch. mask [B, T] row-major (1 = response
 * token counted in the loss), B sequences of T slots:
 *   token-mean               w = mask / tokens
 *   seq-mean-token-mean      w = mask / (len_b * sequences)       (len_b = sum_t mask[b])
 *   seq-mean-token-sum       w = mask / sequences
 *   seq-mean-token-sum-norm  w = mask / (normLength * sequences)  (Dr. GRPO constant horizon)
 * veRL's seq-mean-token-sum-norm divides each micro-batch's sum by the horizon only and
 * then by the number of micro-batches; dividing by the global sequence count instead makes
 * it independent of the micro-batch size (same value when every micro-batch has one sequence).
 */
export function aggregationWeights(mask: ArrayLike<number>, B: number, T: number, mode: AggregationMode, counts: GlobalCounts): Float64Array {
  if (!AGGREGATION_MODES.includes(mode)) throw new AggregationError('mode', `unknown mode ${JSON.stringify(mode)}; valid: ${AGGREGATION_MODES.join(', ')}`);
  if (mask.length !== B * T) throw new AggregationError('mask', `has ${mask.length} entries, expected B*T = ${B * T}`);
  if (!(counts.tokens > 0)) throw new AggregationError('tokens', `global token count must be > 0, got ${counts.tokens}`);
  if (!(counts.sequences > 0)) throw new AggregationError('sequences', `global sequence count must be > 0, got ${counts.sequences}`);
  const w = new Float64Array(B * T);
  for (let b = 0; b < B; b++) {
    let len = 0;
    for (let t = 0; t < T; t++) len += mask[b * T + t];
    let scale: number;
    switch (mode) {
      case 'token-mean': scale = 1 / counts.tokens; break;
      case 'seq-mean-token-mean': scale = len > 0 ? 1 / (len * counts.sequences) : 0; break;
      case 'seq-mean-token-sum': scale = 1 / counts.sequences; break;
      case 'seq-mean-token-sum-norm': {
        const n = counts.normLength;
        if (!(n !== undefined && n > 0)) throw new AggregationError('normLength', 'seq-mean-token-sum-norm needs a positive normLength (e.g. the max response length)');
        scale = 1 / (n * counts.sequences);
        break;
      }
    }
    for (let t = 0; t < T; t++) w[b * T + t] = mask[b * T + t] * scale;
  }
  return w;
}
