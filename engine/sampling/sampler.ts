/**
 * Token sampling from logits in TypeScript with a seeded RNG: temperature, top-k, top-p
 * (nucleus, Holtzman et al. 2019), greedy at temperature 0. The order follows Hugging
 * Face's logits warpers: temperature, then top-k, then top-p on the renormalised rest.
 */
import { Rng } from './rng';

export interface SamplingOptions {
  /** 0 = greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches topP (0 < p <= 1). Default 1 (off). */
  topP?: number;
  /** Keep only the k most likely tokens; 0 = off. Default 0. */
  topK?: number;
}

/** A sampling option is out of range. */
export class SamplingOptionError extends Error {
  override readonly name = 'SamplingOptionError';
  constructor(readonly field: string, readonly value: unknown, detail: string) {
    super(`sampling option "${field}" = ${JSON.stringify(value)}: ${detail}`);
  }
}

export function validateSampling(o: SamplingOptions): Required<SamplingOptions> {
  const temperature = o.temperature ?? 1;
  const topP = o.topP ?? 1;
  const topK = o.topK ?? 0;
  if (!(Number.isFinite(temperature) && temperature >= 0)) throw new SamplingOptionError('temperature', temperature, 'must be a finite number >= 0');
  if (!(topP > 0 && topP <= 1)) throw new SamplingOptionError('topP', topP, 'must be in (0, 1]');
  if (!(Number.isInteger(topK) && topK >= 0)) throw new SamplingOptionError('topK', topK, 'must be an integer >= 0');
  return { temperature, topP, topK };
}

export interface Sampled {
  token: number;
  /**
   * log-prob of the token under softmax(logits / T) over the whole vocabulary (T = 1 when
   * greedy), i.e. what the score graph computes at the same temperature; top-k/top-p
   * truncation is not reflected (as in veRL, which recomputes old log-probs by scoring).
   */
  logprob: number;
}

/**
 * Sample one token from a logits row (`logits[offset .. offset + V)`, shape [V]).
 * Same rng state and inputs -> same token.
 */
export function sampleToken(logits: ArrayLike<number>, offset: number, V: number, opts: Required<SamplingOptions>, rng: Rng): Sampled {
  const T = opts.temperature > 0 ? opts.temperature : 1;
  let max = -Infinity;
  let arg = 0;
  for (let i = 0; i < V; i++) {
    const x = logits[offset + i];
    if (x > max) { max = x; arg = i; }
  }
  let z = 0;
  const p = new Float64Array(V);
  for (let i = 0; i < V; i++) {
    const e = Math.exp((logits[offset + i] - max) / T);
    p[i] = e;
    z += e;
  }
  const logZ = Math.log(z);
  const lp = (t: number): number => (logits[offset + t] - max) / T - logZ;
  if (opts.temperature === 0) return { token: arg, logprob: lp(arg) };
  let candidates: number[] | null = null;
  if (opts.topK > 0 && opts.topK < V || opts.topP < 1) {
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
    let keep = opts.topK > 0 ? Math.min(opts.topK, V) : V;
    if (opts.topP < 1) {
      let mass = 0;
      for (let i = 0; i < keep; i++) mass += p[order[i]];
      let cum = 0;
      let n = 0;
      while (n < keep) {
        cum += p[order[n]];
        n++;
        if (cum >= opts.topP * mass) break;
      }
      keep = Math.max(1, n);
    }
    candidates = order.slice(0, keep);
  }
  const idx = candidates ?? null;
  let total = 0;
  if (idx) for (const i of idx) total += p[i];
  else total = z;
  const u = rng.next() * total;
  let acc = 0;
  if (idx) {
    for (const i of idx) {
      acc += p[i];
      if (u < acc) return { token: i, logprob: lp(i) };
    }
    const last = idx[idx.length - 1];
    return { token: last, logprob: lp(last) };
  }
  for (let i = 0; i < V; i++) {
    acc += p[i];
    if (u < acc) return { token: i, logprob: lp(i) };
  }
  return { token: arg, logprob: lp(arg) };
}
