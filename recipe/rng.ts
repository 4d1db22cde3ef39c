/**
 * Seeded, deterministic pseudo-random numbers for the recipe (data generation, curriculum
 * batches, retrospective draws).
 *
 * Pure: no Node built-ins, no Math.random, no Date. Workflow code imports this module, so a
 * replay must draw exactly the same numbers. Generator: xoshiro128** (Blackman & Vigna,
 * "Scrambled linear pseudorandom number generators", 2018) seeded through splitmix32; seeds
 * for a (run seed, phase, step, stream) tuple are derived with a murmur3-style mix, so that
 * neighbouring steps get unrelated streams (architecture.md, durability invariant 3).
 */

/** Murmur3 32-bit finaliser: a bijective avalanche mix of a uint32. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Folds one part (integer or string) into a running uint32 hash. */
function foldPart(h: number, part: number | string): number {
  if (typeof part === 'string') {
    // FNV-1a over UTF-16 code units, then mixed in; the length separates "ab","c" from "a","bc".
    let s = 0x811c9dc5;
    for (let i = 0; i < part.length; i++) s = Math.imul(s ^ part.charCodeAt(i), 0x01000193);
    h = fmix32(h ^ fmix32(s ^ part.length) ^ 0x5bd1e995);
    return h;
  }
  if (!Number.isSafeInteger(part)) throw new RangeError(`deriveSeed: parts must be safe integers or strings, got ${part}`);
  const lo = part >>> 0;
  const hi = Math.floor(part / 0x100000000) >>> 0; // two's complement high word for negatives
  h = fmix32(h ^ fmix32(lo + 0x9e3779b9));
  h = fmix32(h ^ fmix32(hi + 0x7f4a7c15));
  return h;
}

/**
 * Derives a uint32 seed from a run seed and any number of parts (phase, step, stream name).
 * Same inputs, same seed; any change of a part gives an unrelated seed.
 */
export function deriveSeed(runSeed: number, ...parts: Array<number | string>): number {
  let h = foldPart(0x2545f491, runSeed);
  for (const p of parts) h = foldPart(h, p);
  return h;
}

/** The seed of one sampling stream of one step: (run seed, phase, step, stream). */
export function stepSeed(runSeed: number, phase: number, step: number, stream = 'batch'): number {
  return deriveSeed(runSeed, 'step', phase, step, stream);
}

/** Deterministic random stream (xoshiro128**). Its state is four uint32s and serialisable. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    // splitmix32 expands one 32-bit seed into the four state words (never all zero).
    let x = deriveSeed(seed);
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return fmix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n); n a positive safe integer. Unbiased (rejection sampling). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`Rng.int: n must be a positive integer, got ${n}`);
    if (n <= 0x100000000) {
      const limit = 0x100000000 - (0x100000000 % n);
      for (;;) {
        const r = this.nextUint32();
        if (r < limit) return r % n;
      }
    }
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  intBetween(lo: number, hi: number): number {
    if (hi < lo) throw new RangeError(`Rng.intBetween: empty range [${lo}, ${hi}]`);
    return lo + this.int(hi - lo + 1);
  }

  /** One element chosen uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: empty array');
    return items[this.int(items.length)];
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }

  /** `k` distinct elements chosen uniformly, in draw order. */
  sample<T>(items: readonly T[], k: number): T[] {
    if (k > items.length) throw new RangeError(`Rng.sample: k ${k} > ${items.length} items`);
    const pool = items.slice();
    const out: T[] = [];
    for (let i = 0; i < k; i++) {
      const j = i + this.int(pool.length - i);
      const t = pool[i];
      pool[i] = pool[j];
      pool[j] = t;
      out.push(pool[i]);
    }
    return out;
  }

  /** Index drawn with probability proportional to `weights` (non-negative, finite, sum > 0). */
  weightedIndex(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i];
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`Rng.weightedIndex: weight ${i} is ${w}`);
      total += w;
    }
    if (!(total > 0)) throw new RangeError('Rng.weightedIndex: weights sum to 0');
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i];
      if (r < 0) return i;
    }
    // Floating-point round-off: return the last index with positive weight.
    for (let i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
    return weights.length - 1;
  }

  /**
   * `k` distinct indices drawn without replacement, each draw proportional to the remaining
   * weights (successive sampling). Zero-weight indices are never drawn; k is capped at the
   * number of positive weights.
   */
  weightedSampleWithoutReplacement(weights: ArrayLike<number>, k: number): number[] {
    const w = Array.from(weights);
    const out: number[] = [];
    const positive = w.filter((x) => x > 0).length;
    for (let n = Math.min(k, positive); out.length < n; ) {
      const i = this.weightedIndex(w);
      out.push(i);
      w[i] = 0;
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
