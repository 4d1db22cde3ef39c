/**
 * longrl's engine, as the rest of the project uses it (the Temporal compute activities
 * import ONLY this file). The graph layer (engine/graph, engine/exec) stays internal.
 *
 *   const policy = await PolicyHost.start({ threads });       // worker thread
 *   await policy.init(tinyConfig(), seed) | await policy.load(dir);
 *   const gen = await policy.generate({ prompts, samplesPerPrompt: G, maxNewTokens, sampling, seed, stopTokens });
 *   const sc  = await policy.score({ sequences, temperature });
 *   const m   = await policy.trainStep({ objective: 'pg', microBatches, loss, optimizer }, { signal, onProgress });
 *   await policy.save(dir, { tokenizer, meta });
 */
export { PolicyHost } from './model/policy-host';
export type { PolicyHostOptions, CallControl, TrainControl, ModelVersion } from './model/policy-host';
export { PolicyModel, PolicyRequestError } from './model/policy';
export type {
  SequenceInput, ScoreRequest, ScoreResult, PgSequence, PgLossConfig, OptimizerConfig, TrainStepRequest, TrainProgress,
  TrainStepMetrics, GenerateRequest, GenerateResult, GeneratedSample, PolicyModelOptions,
} from './model/policy';
export {
  tinyConfig, validateConfig, paramSpecs, countParams, initParams, features, toHfConfigJson, ModelConfigError,
} from './model/config';
export type { ModelConfig, Architecture, ParamSpec, ParamMap, OptimizerStateLike } from './model/config';
export { AGGREGATION_MODES, aggregationWeights, AggregationError } from './model/loss';
export type { AggregationMode, GlobalCounts } from './model/loss';
export {
  WordLevelTokenizer, HfTokenizer, loadTokenizer, preTokenize, formatChat, checkTokenIds,
  PRE_TOKENIZER_REGEX, SPECIAL_TOKENS, CHAT_ROLES, CHAT_TEMPLATE_JINJA, TokenizerFormatError, TokenOutOfVocabError,
} from './tokenizer';
export type { TextTokenizer, WordLevelTrainOptions, ChatMessage, HfTokenizerJson } from './tokenizer';
export {
  saveCheckpoint, loadCheckpoint, verifyCheckpoint, readManifest, MANIFEST_FORMAT,
  CheckpointMissingError, CheckpointShapeError, CheckpointArchitectureError, CorruptArtifactError, SafetensorsFormatError,
} from './checkpoint';
export type { CheckpointManifest, CheckpointContents, OptimizerState, LoadOptions } from './checkpoint';
export { Rng, deriveSeed, sampleToken, validateSampling, SamplingOptionError } from './sampling';
export type { SamplingOptions, Sampled } from './sampling';
export { CancelledError, HostError } from './exec';
