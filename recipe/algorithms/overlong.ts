/**
 * DAPO overlong reward shaping (Yu et al. 2025, arXiv 2503.14476, Eq. 13; recipe.md
 * section 3). With L_max the maximum response length, L_c the buffer and f the factor:
 *   r_len(l) = 0                               if l <= L_max - L_c
 *            = -f * (l - (L_max - L_c)) / L_c   if L_max - L_c < l <= L_max
 *            = -f                              if l > L_max.
 * Added to the score. Example (L_max 10, L_c 4, f 0.5): 6 -> 0, 7 -> -0.125, 8 -> -0.25, 10 -> -0.5.
 * Pure: no Node built-ins.
 */
import { RecipeConfigError } from '../errors';

/** Overlong shaping parameters (`algorithm.overlong.*`). */
export interface OverlongConfig {
  /** L_max: maximum response tokens. */
  maxResponseLength: number;
  /** L_c: buffer length, 0 < L_c <= L_max. */
  bufferLength: number;
  /** f: penalty factor (the penalty bottoms at -f). */
  factor: number;
}

function check(cfg: OverlongConfig): void {
  if (!(cfg.maxResponseLength > 0)) throw new RecipeConfigError('algorithm.overlong.maxResponseLength', `must be > 0, got ${cfg.maxResponseLength}`);
  if (!(cfg.bufferLength > 0 && cfg.bufferLength <= cfg.maxResponseLength)) {
    throw new RecipeConfigError('algorithm.overlong.bufferLength', `must be in (0, maxResponseLength=${cfg.maxResponseLength}], got ${cfg.bufferLength}`);
  }
  if (!(cfg.factor >= 0 && Number.isFinite(cfg.factor))) throw new RecipeConfigError('algorithm.overlong.factor', `must be a finite number >= 0, got ${cfg.factor}`);
}

/** r_len of one response of `length` tokens (<= 0). */
export function overlongPenalty(length: number, cfg: OverlongConfig): number {
  check(cfg);
  const start = cfg.maxResponseLength - cfg.bufferLength;
  if (length <= start) return 0;
  return Math.max(-cfg.factor, (-cfg.factor * (length - start)) / cfg.bufferLength);
}

/** Shaped scores: scores[i] + r_len(lengths[i]). Shapes: [N], [N] -> [N]. */
export function applyOverlongShaping(scores: ArrayLike<number>, lengths: ArrayLike<number>, cfg: OverlongConfig): Float64Array {
  if (scores.length !== lengths.length) throw new RangeError(`applyOverlongShaping: ${scores.length} scores but ${lengths.length} lengths`);
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i] + overlongPenalty(lengths[i], cfg);
  return out;
}
