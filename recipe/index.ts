/**
 * longrl's QwenLong-L1 recipe: data, rewards, advantages, sampling, curriculum.
 * Workflow code must import `recipe/pure` instead (this index pulls in Node built-ins and
 * the openai client through the data loaders and the judge).
 */
export * from './pure';

export type { QuestionKind, RecipeItem, SyntheticItem, SyntheticMeta } from './data/types';
export { countWordTokens, wordTokens, wordTokenSpans, WORD_TOKEN_PATTERN, type TokenCounter } from './data/tokens';
export {
  ANSWER_FORMAT_LINE,
  CHOICE_FORMAT_LINE,
  OPTION_LETTERS,
  buildChatMessages,
  buildPrompt,
  parsePrompt,
  promptOverheadTokens,
  questionWithOptions,
  type ParsedPrompt,
  type PromptInput,
} from './data/prompt';
export { middleTruncate, truncateItemToBudget, type TruncateOptions } from './data/truncate';
export {
  SYNTHETIC_SOURCES,
  THINK_CLOSE,
  THINK_OPEN,
  generateSynthetic,
  generateSyntheticSplits,
  syntheticVocabulary,
  type SyntheticConfig,
} from './data/synthetic';
export {
  describeLoad,
  loadDataset,
  loadJsonl,
  loadParquet,
  type BadLinePolicy,
  type LoadOptions,
  type LoadResult,
  type SkipReason,
  type SkippedLine,
} from './data/loaders';

export {
  afterAnswerPhrase,
  extractFinalSegment,
  normalizeAnswer,
  stripSpecialTokens,
  stripTrailingPeriods,
  DEFAULT_SPECIAL_TOKENS,
} from './rewards/normalize';
export {
  bareGold,
  extractChoiceLetter,
  extractDocmathAnswer,
  extractDocqaAnswer,
  numbersMatch,
  parseChoiceGold,
  parseLeadingNumber,
  parseNumericGold,
  verifyChoice,
  verifyDocmath,
  verifyDocqa,
  type ExtractOptions,
  type NumericOptions,
  type VerifyResult,
} from './rewards/verifiers';
export {
  EXACT_ROUTES,
  SUBSTRING_ROUTES,
  VERIFIER_NAMES,
  VerifierRouter,
  parseVerifierName,
  routeKnown,
  type RouterOptions,
  type VerifierName,
} from './rewards/routing';
export { scoreRule, type RuleConfig, type RuleInput, type RuleResult } from './rewards/rule';
export {
  JUDGE_SYSTEM_PROMPT,
  LlmJudge,
  judgeUserPrompt,
  parseJudgeVerdict,
  type Judge,
  type JudgeConfig,
  type JudgeDeps,
  type JudgeQuery,
  type JudgeStats,
} from './rewards/judge';
export { scoreSample, scoreSamples, type HybridConfig, type ScoreInput, type ScoreResult } from './rewards/hybrid';
