/**
 * Hybrid reward (QwenLong-L1 paper Eq. 14; recipe.md section 3): reward = max(rule, judge),
 * the judge called only when the rule gives less than 1, an answer was extracted, and the
 * verifier is one the judge applies to (docqa and docmath by default: comparing option
 * letters needs no judge, and QwenLong-L1 uses none for them).
 */
import type { Judge } from './judge';
import { scoreRule, type RuleConfig, type RuleInput } from './rule';
import type { VerifierName } from './routing';
import { VerifierRouter } from './routing';

/** A sample to score. */
export interface ScoreInput extends RuleInput {
  id?: string;
  question: string;
}

/** Reward of one sample. */
export interface ScoreResult {
  id?: string;
  verifier: VerifierName;
  rule: number;
  /** Judge score, or null when the judge was not called. */
  judge: number | null;
  reward: number;
  extracted: string | null;
  knownSource: boolean;
}

/** Hybrid reward options. */
export interface HybridConfig extends RuleConfig {
  /** Verifiers whose misses the judge re-checks; default ['docqa', 'docmath']. */
  judgeVerifiers?: readonly VerifierName[];
}

/** Scores one sample: rule first, the judge only when the rule gives < 1. Judge errors propagate. */
export async function scoreSample(input: ScoreInput, cfg: HybridConfig = {}, judge?: Judge, router = new VerifierRouter()): Promise<ScoreResult> {
  const r = scoreRule(input, cfg, router);
  const base = { id: input.id, verifier: r.verifier, rule: r.rule, extracted: r.extracted, knownSource: r.knownSource };
  const judged = cfg.judgeVerifiers ?? ['docqa', 'docmath'];
  if (r.rule >= 1 || !judge || r.extracted === null || !judged.includes(r.verifier)) {
    return { ...base, judge: null, reward: r.rule };
  }
  const j = await judge.judge({ question: input.question, prediction: r.extracted, answer: r.gold });
  return { ...base, judge: j, reward: Math.max(r.rule, j) };
}

/** Scores many samples; the judge bounds its own concurrency. Rejects on the first judge error. */
export function scoreSamples(inputs: readonly ScoreInput[], cfg: HybridConfig = {}, judge?: Judge, router = new VerifierRouter()): Promise<ScoreResult[]> {
  return Promise.all(inputs.map((x) => scoreSample(x, cfg, judge, router)));
}
