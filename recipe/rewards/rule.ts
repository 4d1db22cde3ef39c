/**
 * Rule reward of one response (recipe.md section 3): route by data_source, take the part
 * after the last `</think>` when required, run the verifier against answer and aliases.
 * No format reward.
 */
import { extractFinalSegment } from './normalize';
import { type VerifierName, VerifierRouter } from './routing';
import { bareGold, type ExtractOptions, parseChoiceGold, verifyChoice, verifyDocmath, verifyDocqa } from './verifiers';

/** Rule reward configuration (`reward.*` of the run config). */
export interface RuleConfig extends ExtractOptions {
  /** Score only the text after the last `</think>` (0 when missing), as reasoning models need. Default false. */
  requireThinkClose?: boolean;
  /** docqa matching: sub-EM (default, QwenLong-L1) or strict EM. */
  docqaMatch?: 'sub_em' | 'em';
  /** docmath relative tolerance; default 0.0015. */
  docmathTolerance?: number;
  /** docmath: compare magnitudes only, as QwenLong-L1's code does; default false. */
  docmathIgnoreSign?: boolean;
}

/** What the rule reward needs of a sample. */
export interface RuleInput {
  response: string;
  answer: string;
  aliases?: readonly string[];
  data_source: string;
}

/** Rule reward of one sample. */
export interface RuleResult {
  verifier: VerifierName;
  rule: 0 | 1;
  /** The answer extracted from the response (null: none found, scored 0). */
  extracted: string | null;
  /** The gold answer in the form the judge should see. */
  gold: string;
  /** false when data_source was unknown and routed to the default verifier. */
  knownSource: boolean;
}

/** Scores one response with the rule verifiers. Throws GoldAnswerError for unusable gold answers. */
export function scoreRule(input: RuleInput, cfg: RuleConfig = {}, router: VerifierRouter = new VerifierRouter()): RuleResult {
  const { verifier, known } = router.route(input.data_source);
  const golds = [input.answer, ...(input.aliases ?? [])];
  const gold = verifier === 'choice' ? safeChoiceGold(input.answer) : bareGold(input.answer);
  const segment = extractFinalSegment(input.response, cfg.requireThinkClose ?? false);
  const opts: ExtractOptions = { answerPhrase: cfg.answerPhrase, specialTokens: cfg.specialTokens };
  let res;
  if (verifier === 'docqa') res = verifyDocqa(segment ?? '', golds, { ...opts, match: cfg.docqaMatch });
  else if (verifier === 'docmath') res = verifyDocmath(segment ?? '', golds, { ...opts, tolerance: cfg.docmathTolerance, ignoreSign: cfg.docmathIgnoreSign });
  else res = verifyChoice(segment ?? '', golds, opts);
  if (segment === null) return { verifier, rule: 0, extracted: null, gold, knownSource: known };
  return { verifier, rule: res.score, extracted: res.extracted, gold, knownSource: known };
}

function safeChoiceGold(answer: string): string {
  try {
    return parseChoiceGold(answer);
  } catch {
    return answer;
  }
}
