/**
 * Outcome advantages of group-relative policy optimisation (recipe.md section 4).
 *
 * GRPO (Shao et al. 2024, DeepSeekMath, arXiv 2402.03300), as veRL's core_algos computes
 * it: for each prompt group of G responses with scores s_i,
 *   A_i = (s_i - mean) / (std + eps),  std the unbiased (N-1) standard deviation, eps 1e-6;
 * a group of one uses mean 0 and std 1 (A = s). With `normalizeByStd: false`,
 * A_i = s_i - mean (Dr. GRPO, Liu et al. 2025, arXiv 2503.20783).
 * A_i is then broadcast over the response's tokens.
 *
 * Pure: no Node built-ins (imported by workflow code).
 */
import { UnknownAdvantageEstimatorError } from '../errors';

/** Input of an outcome advantage estimator. Shapes: scores [N] (N = B*G samples), groupIds [N]. */
export interface AdvantageInput {
  /** One scalar score per response. */
  scores: ArrayLike<number>;
  /** Group (prompt uid) of each response; any ordering. */
  groupIds: ArrayLike<string | number>;
}

/** Options of GRPO-family estimators. */
export interface GrpoOptions {
  /** Divide by the group std (GRPO) or not (Dr. GRPO). Default true. */
  normalizeByStd?: boolean;
  /** Added to the std; default 1e-6. */
  eps?: number;
}

/** An outcome advantage estimator: [N] scores -> [N] advantages. */
export type AdvantageEstimator = (input: AdvantageInput, opts?: GrpoOptions) => Float64Array;

/**
 * GRPO advantages. Shapes: scores [N], groupIds [N] -> advantages [N].
 * Example: one group [1, 0, 0, 1] -> [+0.866025, -0.866025, -0.866025, +0.866025].
 */
export function grpoAdvantages(input: AdvantageInput, opts: GrpoOptions = {}): Float64Array {
  const { scores, groupIds } = input;
  if (scores.length !== groupIds.length) throw new RangeError(`grpoAdvantages: ${scores.length} scores but ${groupIds.length} group ids`);
  const normalize = opts.normalizeByStd ?? true;
  const eps = opts.eps ?? 1e-6;
  const members = new Map<string | number, number[]>();
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new RangeError(`grpoAdvantages: score ${i} is ${scores[i]}`);
    const g = groupIds[i];
    const list = members.get(g);
    if (list) list.push(i);
    else members.set(g, [i]);
  }
  const out = new Float64Array(scores.length);
  for (const idx of members.values()) {
    const n = idx.length;
    let mean = 0;
    let std = 1;
    if (n > 1) {
      for (const i of idx) mean += scores[i];
      mean /= n;
      let ss = 0;
      for (const i of idx) ss += (scores[i] - mean) ** 2;
      std = Math.sqrt(ss / (n - 1));
    }
    for (const i of idx) out[i] = normalize ? (scores[i] - mean) / (std + eps) : scores[i] - mean;
  }
  return out;
}

/** Dr. GRPO: GRPO without the std division. */
export function drGrpoAdvantages(input: AdvantageInput, opts: GrpoOptions = {}): Float64Array {
  return grpoAdvantages(input, { ...opts, normalizeByStd: false });
}

const ESTIMATORS: Readonly<Record<string, AdvantageEstimator>> = {
  grpo: grpoAdvantages,
  dr_grpo: drGrpoAdvantages,
};

/** Names of the registered advantage estimators. */
export function advantageEstimatorNames(): string[] {
  return Object.keys(ESTIMATORS);
}

/** The estimator registered under `name`; UnknownAdvantageEstimatorError lists the valid names. */
export function getAdvantageEstimator(name: string): AdvantageEstimator {
  const est = Object.prototype.hasOwnProperty.call(ESTIMATORS, name) ? ESTIMATORS[name] : undefined;
  if (!est) throw new UnknownAdvantageEstimatorError(name, advantageEstimatorNames());
  return est;
}

/**
 * Broadcasts per-response advantages over response tokens. Shapes: advantages [N],
 * responseMask [N*T] (1 on response tokens, 0 on padding) -> [N*T] (0 where masked).
 */
export function broadcastOverTokens(advantages: ArrayLike<number>, responseMask: ArrayLike<number>, T: number): Float32Array {
  if (responseMask.length !== advantages.length * T) {
    throw new RangeError(`broadcastOverTokens: mask has ${responseMask.length} entries, expected N*T = ${advantages.length}*${T}`);
  }
  const out = new Float32Array(responseMask.length);
  for (let n = 0; n < advantages.length; n++) {
    for (let t = 0; t < T; t++) {
      const k = n * T + t;
      out[k] = responseMask[k] ? advantages[n] : 0;
    }
  }
  return out;
}
