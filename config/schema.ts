/**
 * The run configuration of longrl: one strict zod schema for a whole training run.
 *
 * Names follow `shared/docs/recipe.md` (QwenLong-L1, arXiv 2505.17667; DAPO, arXiv 2503.14476;
 * veRL `core_algos.py`). Every object is strict: an unknown key is an error that names its
 * path and lists the valid keys (see `validate.ts`). Every field but `rl.phases` has a
 * default, so a YAML file only needs to say what differs. Cross-field checks (phases strictly
 * increasing, heads dividing evenly, batch sizes dividing, ...) are in `crossCheck` and report
 * the path of the field to change, e.g.
 * `rl.phases[1].maxInputTokens: must be > rl.phases[0].maxInputTokens (2000)`.
 *
 * This file is pure (zod only, no Node built-ins) so that workflow code may import it.
 *
 * Units: token counts are tokens of the run's tokenizer; `rl.trainBatchSize` and
 * `rl.miniBatchSize` count PROMPTS (each prompt has G = `rl.groupSize` responses, as in veRL's
 * `ppo_mini_batch_size`); `rl.microBatchSize` and `sft.microBatchSize` count SEQUENCES per
 * forward/backward pass (gradient accumulation); durations are strings like `30s`, `10m`.
 */
import { DURATION_RE, durationMs } from './duration';
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Small builders: numeric ranges and names, with messages in the config's own style.
// ---------------------------------------------------------------------------------------------

/** An integer >= min (default 0). */
const int = (min = 0) => z.number().int().min(min);
/** A finite number > 0. */
const positive = () => z.number().positive();
/** A finite number >= 0. */
const nonNegative = () => z.number().min(0);
/** A probability-like number in [0, 1]. */
const unit = () => z.number().min(0).max(1);

/** Durations accepted by Temporal (`ms`-style strings): 500ms, 30s, 10m, 2h, 1d. */
export { DURATION_RE, durationMs };
const duration = () => z.string().regex(DURATION_RE, { error: "must be a duration such as '500ms', '30s', '10m', '2h' or '1d'" });


/** Names that end up in workflow ids and file names. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const name = () => z.string().regex(NAME_RE, { error: 'must be 1-64 characters of letters, digits, . _ - (starting with a letter or digit)' });

/** Environment variable NAMES (never the secret itself: architecture.md, invariant 6). */
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The rule verifiers of recipe.md section 3. */
export const VERIFIERS = ['docqa', 'docmath', 'choice'] as const;
export type VerifierName = (typeof VERIFIERS)[number];

/** Loss aggregation modes of recipe.md section 4 (veRL `agg_loss`). */
export const LOSS_AGGREGATIONS = ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum', 'seq-mean-token-sum-norm'] as const;
export type LossAggregation = (typeof LOSS_AGGREGATIONS)[number];

/** Evaluation stage names reserved by the pipeline (phase names may not use them). */
export const RESERVED_STAGE_NAMES = ['sft', 'final'] as const;

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

/** `run`: identity of the run and where its folder goes. */
export const RunSectionSchema = z.strictObject({
  /** Human name; the run id is `<name>-<time>-<hash>`. */
  name: name().default('longrl'),
  /** Root seed: batches, sampling and data derive their seeds from (seed, phase, step). */
  seed: int(0).default(1),
  /** Runs are written to `<outputDir>/<runId>/` (relative to the working directory). */
  outputDir: z.string().min(1).default('.longrl/runs'),
});

/**
 * `model`: a Qwen3-family decoder, fields as in Hugging Face's `config.json` (camelCase).
 * `vocabSize` is optional for the word-level tokenizer (it is the trained vocabulary size).
 * Defaults: the tiny from-scratch model (about 1M parameters with a ~2K-word vocabulary).
 */
export const ModelSectionSchema = z.strictObject({
  vocabSize: int(1).optional(),
  hiddenSize: int(1).default(128),
  intermediateSize: int(1).default(384),
  numHiddenLayers: int(1).default(3),
  numAttentionHeads: int(1).default(4),
  numKeyValueHeads: int(1).default(2),
  headDim: int(1).default(32),
  ropeTheta: positive().default(10000),
  rmsNormEps: positive().default(1e-6),
  tieWordEmbeddings: z.boolean().default(true),
  /** QKV bias (Qwen2 and R1-Distill-Qwen: true; Qwen3: false). */
  attentionBias: z.boolean().default(false),
  /** RMSNorm on q and k per head (Qwen3: true; Qwen2: false). */
  qkNorm: z.boolean().default(true),
  maxPositionEmbeddings: int(1).default(1024),
});

/** `tokenizer`: a word-level tokenizer trained on the synthetic corpus, or a HF `tokenizer.json`. */
export const TokenizerSectionSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('word-level'),
    /** Most frequent words kept; the rest map to `[UNK]`. */
    maxVocabSize: int(16).default(4096),
    /** Words seen fewer times than this map to `[UNK]`. */
    minFrequency: int(1).default(1),
  }),
  z.strictObject({
    kind: z.literal('hf'),
    /** Path of a Hugging Face `tokenizer.json` (e.g. Qwen's). */
    path: z.string().min(1),
  }),
]);

/** Mix of synthetic question kinds (relative weights; names of `recipe/data/types.ts` QuestionKind). */
export const SyntheticKindsSchema = z.strictObject({
  /** Single-fact retrieval (docqa verifier). */
  single: nonNegative().default(1),
  /** 2- and 3-hop questions across facts far apart (docqa). */
  multihop: nonNegative().default(1),
  /** Numeric reasoning over stated figures (docmath). */
  numeric: nonNegative().default(1),
  /** Multiple choice (choice verifier). */
  choice: nonNegative().default(1),
});

/** `data`: the synthetic long-context QA generator, or JSONL / Parquet files in veRL's schema. */
export const DataSectionSchema = z.discriminatedUnion('source', [
  z.strictObject({
    source: z.literal('synthetic'),
    /** RL prompts, spread over the curriculum phases' length buckets. */
    trainItems: int(1).default(400),
    /** Held-out items for evaluation (never sharing documents with training items). */
    heldoutItems: int(1).default(64),
    /** SFT triplets with worked answers, inside the first phase's budget (recipe.md 1). */
    sftItems: int(0).default(1200),
    kinds: SyntheticKindsSchema.prefault({}),
    /** Shortest prompt generated (tokens): the first phase's items and SFT prompts start here. */
    minPromptTokens: int(1).default(128),
    /** Hop counts of multi-hop questions, drawn uniformly (generator default [2, 3]). */
    hops: z.array(int(2)).min(1).optional(),
    /** Distractor facts per 100 prompt tokens (generator default 2). */
    distractorsPer100Tokens: nonNegative().optional(),
    /** Generator seed; defaults to `run.seed`. */
    seed: int(0).optional(),
  }),
  ...(['jsonl', 'parquet'] as const).map((source) =>
    z.strictObject({
      source: z.literal(source),
      trainPath: z.string().min(1),
      heldoutPath: z.string().min(1),
      /** A malformed line/row: stop with an error naming file, line and field, or count and skip it. */
      onBadLine: z.enum(['error', 'skip']).default('error'),
      /** Verifier for unknown `data_source` values; defaults to `reward.defaultVerifier`. */
      defaultVerifier: z.enum(VERIFIERS).optional(),
    }),
  ),
] as const);

/** `sft`: warm-up supervised fine-tuning (recipe.md section 1, stage 1). */
export const SftSectionSchema = z.strictObject({
  enabled: z.boolean().default(true),
  epochs: int(1).default(2),
  /** Sequences per optimizer step. */
  batchSize: int(1).default(8),
  /** Sequences per forward/backward pass; must divide `batchSize`. */
  microBatchSize: int(1).default(8),
  lr: positive().default(1e-3),
  weightDecay: nonNegative().default(0.01),
  gradClip: positive().default(1.0),
  /** Input budget of SFT prompts; must fit the first RL phase's budget (recipe.md 1). */
  maxInputTokens: int(1).default(256),
  maxResponseTokens: int(1).default(64),
  /** JSONL of SFT triplets; required unless `data.source` is 'synthetic'. */
  dataPath: z.string().min(1).optional(),
});

/** One curriculum phase: inputs with L_{k-1} < |prompt| <= maxInputTokens (recipe.md 1.2). */
export const PhaseSchema = z.strictObject({
  /** Defaults to `phase-<k>` (1-based). Used in workflow ids, reports and eval stages. */
  name: name().optional(),
  maxInputTokens: int(1),
  /** RL steps (one step = one policy update round on `trainBatchSize` prompts). */
  steps: int(1),
});

/** `rl.advantage` (recipe.md 4). */
export const AdvantageSchema = z.strictObject({
  estimator: z.enum(['grpo']).default('grpo'),
  /** false gives Dr. GRPO's A_i = s_i - mean. */
  normalizeByStd: z.boolean().default(true),
});

/** `rl.loss.kl` (recipe.md 4; off in QwenLong-L1). */
export const KlSchema = z.strictObject({
  enabled: z.boolean().default(false),
  type: z.enum(['k1', 'k2', 'k3']).default('k3'),
  coef: nonNegative().default(0.001),
});

/** `rl.loss`: clipped surrogate with clip-higher and dual clip (recipe.md 4). */
export const LossSchema = z.strictObject({
  clipLow: z.number().gt(0).lt(1).default(0.2),
  /** DAPO clip-higher 0.28; the QwenLong-L1 script used 0.2. */
  clipHigh: positive().default(0.28),
  /** Dual-clip constant c for A < 0 (3 by default, 10 in DAPO's 32B script); must be > 1. */
  dualClipC: positive().default(3),
  aggregation: z.enum(LOSS_AGGREGATIONS).default('token-mean'),
  /** |logp - logp_old| is clamped to this before exp (recipe.md 4: 20). */
  ratioClamp: positive().default(20),
  entropyCoeff: nonNegative().default(0),
  kl: KlSchema.prefault({}),
});

/** `rl.dynamicSampling`: DAPO's group filter (recipe.md 5). */
export const DynamicSamplingSchema = z.strictObject({
  enabled: z.boolean().default(true),
  metric: z.enum(['accuracy']).default('accuracy'),
  maxNumGenBatches: int(1).default(10),
  /** When the limit is reached: fail the step with a typed error, or train on the kept groups. */
  onExhausted: z.enum(['fail', 'train-on-available']).default('fail'),
});

/** `rl.overlong`: DAPO's soft overlong punishment (recipe.md 3). */
export const OverlongSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** L_c, in response tokens; must be < `sampling.maxResponseTokens`. */
  bufferLength: int(1).default(16),
  factor: nonNegative().default(1.0),
});

/** `rl`: curriculum-guided phased RL (recipe.md 1.2, 4, 5). */
export const RlSectionSchema = z.strictObject({
  phases: z.array(PhaseSchema).min(1, { error: 'needs at least one phase' }),
  /** Prompts per RL step (veRL `train_batch_size`). */
  trainBatchSize: int(1).default(4),
  /** G responses per prompt. */
  groupSize: int(1).default(8),
  /** Prompts per optimizer step; must divide `trainBatchSize`. */
  miniBatchSize: int(1).default(2),
  /** Responses per forward/backward pass; must divide miniBatchSize x groupSize. */
  microBatchSize: int(1).default(8),
  ppoEpochs: int(1).default(1),
  lr: positive().default(1e-4),
  lrSchedule: z.enum(['constant']).default('constant'),
  weightDecay: nonNegative().default(0.01),
  gradClip: positive().default(1.0),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
  eps: positive().default(1e-8),
  advantage: AdvantageSchema.prefault({}),
  loss: LossSchema.prefault({}),
  dynamicSampling: DynamicSamplingSchema.prefault({}),
  overlong: OverlongSchema.prefault({}),
  /** A phase workflow continues as new after this many steps (or when Temporal suggests it). */
  continueAsNewEvery: int(1).default(8),
  /** Durable checkpoint every N steps (and at the end of each phase). */
  checkpointEvery: int(1).default(4),
});

/** `sampling`: rollout sampling (recipe.md 7: temperature 0.7, top-p 0.95, 10K tokens). */
export const SamplingSectionSchema = z.strictObject({
  temperature: positive().default(0.7),
  topP: z.number().gt(0).max(1).default(0.95),
  /** 0 disables top-k. */
  topK: int(0).default(0),
  maxResponseTokens: int(1).default(64),
});

/** `reward.judge`: the LLM equivalence judge (recipe.md 3), any OpenAI-compatible endpoint. */
export const JudgeSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** e.g. `http://localhost:8000/v1` for a vLLM server; required when enabled. */
  baseUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as 'http://localhost:8000/v1'" }).optional(),
  /** Served model name; required when enabled. */
  model: z.string().min(1).optional(),
  /** The NAME of the environment variable that holds the API key; never the key itself. */
  apiKeyEnv: z.string().regex(ENV_NAME_RE, { error: 'must be the NAME of an environment variable (letters, digits, _), never the key itself' }).optional(),
  timeoutMs: int(1).default(60_000),
  maxRetries: int(0).default(5),
  /** Requests in flight per judge activity. */
  concurrency: int(1).default(8),
});

/** `reward`: max(rule, judge), no format reward (recipe.md 3). */
export const RewardSectionSchema = z.strictObject({
  /** Score only the text after the last `</think>` (0 when missing). */
  requireThinkClose: z.boolean().default(false),
  /** Strict EM instead of sub-EM for docqa. */
  strictEm: z.boolean().default(false),
  defaultVerifier: z.enum(VERIFIERS).default('docqa'),
  judge: JudgeSchema.prefault({}),
});

/** `retrospective`: difficulty-aware retrospective sampling (recipe.md 1.3). */
export const RetrospectiveSectionSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Fraction of each later phase's batch drawn from the buffer (paper: not given). */
  fraction: z.number().min(0).lt(1).default(0.25),
  /** Items whose mean accuracy is <= this enter the buffer (paper, in practice: 0). */
  accuracyThreshold: unit().default(0),
  /** Difficulty = 1 / (mean reward + eps). */
  eps: positive().default(0.01),
  /** Buffer capacity (hardest items kept). */
  maxItems: int(1).default(256),
});

/** `eval`: held-out evaluation, pass@1 and pass@k (recipe.md 6). */
export const EvalSectionSchema = z.strictObject({
  k: int(1).default(2),
  /** n samples per item for the unbiased pass@k; must be >= k. */
  samplesPerItem: int(1).default(4),
  temperature: positive().default(0.7),
  topP: z.number().gt(0).max(1).default(0.95),
  /** Upper bounds of the length buckets reported; default: the phases' maxInputTokens. */
  lengthBuckets: z.array(int(1)).min(1).optional(),
});

/** One named activity timeout preset (style.md: named presets, not numbers at call sites). */
export const TimeoutPresetSchema = z.strictObject({
  startToClose: duration(),
  heartbeat: duration().optional(),
  scheduleToStart: duration().optional(),
  /** 0 = unlimited attempts. */
  maxAttempts: int(0),
  initialInterval: duration().default('1s'),
  backoffCoefficient: z.number().min(1).default(2),
});

/** `workers`: process-level knobs. */
export const WorkersSectionSchema = z.strictObject({
  /** Intra-op threads of the compute engine; 0 = all cores. */
  computeThreads: int(0).default(0),
  /** Judge activities run at once per judge worker (each with `reward.judge.concurrency` requests). */
  judgeConcurrency: int(1).default(8),
  /**
   * Where a step's generation batches are scored when the reward is rule-only
   * (`reward.judge.enabled: false`). `auto`: one compute activity generates, scores with the
   * rule verifiers and stops as soon as dynamic sampling has enough groups, so a step costs
   * one activity round trip for generation instead of two per batch (the workflow still
   * replays the DAPO decision over the returned scores). `off`: one `rollout` (compute queue)
   * and one `scoreRollout` (judge queue) per generation batch. With a judge it is always `off`.
   */
  fuseGeneration: z.enum(['auto', 'off']).default('auto'),
  /**
   * Worker affinity (architecture.md, task queues): compute activities of a run go to the
   * worker-specific queue of the compute worker that holds its weights, and fall back to the
   * shared `longrl-compute` queue when no worker there picks them up within this time
   * (that worker died or is gone). `0s` turns affinity off.
   */
  affinityFallbackAfter: duration().default('10s'),
  timeouts: z.strictObject({
    /** Rollout, policy update, SFT epoch chunk, evaluation (compute queue). */
    longTrainStep: TimeoutPresetSchema.prefault({ startToClose: '30m', heartbeat: '2m', maxAttempts: 5 }),
    /** Checkpoint, data preparation, ledger and report writes. */
    bookkeeping: TimeoutPresetSchema.prefault({ startToClose: '5m', heartbeat: '1m', maxAttempts: 10 }),
    /** Judge reward calls (judge queue). */
    judgeCall: TimeoutPresetSchema.prefault({ startToClose: '10m', heartbeat: '1m', maxAttempts: 3 }),
  }).prefault({}),
});

/** `checkpoint`: retention. */
export const CheckpointSectionSchema = z.strictObject({
  /** Durable checkpoints kept per run (older ones are deleted; phase ends are always kept). */
  keepLast: int(1).default(3),
});

/** The object shape of a run config, before cross-field checks. */
export const RunConfigShape = {
  run: RunSectionSchema.prefault({}),
  model: ModelSectionSchema.prefault({}),
  tokenizer: TokenizerSectionSchema.prefault({ kind: 'word-level' }),
  data: DataSectionSchema.prefault({ source: 'synthetic' }),
  sft: SftSectionSchema.prefault({}),
  rl: RlSectionSchema,
  sampling: SamplingSectionSchema.prefault({}),
  reward: RewardSectionSchema.prefault({}),
  retrospective: RetrospectiveSectionSchema.prefault({}),
  eval: EvalSectionSchema.prefault({}),
  workers: WorkersSectionSchema.prefault({}),
  checkpoint: CheckpointSectionSchema.prefault({}),
};

const RunConfigObject = z.strictObject(RunConfigShape);
type Checked = z.output<typeof RunConfigObject>;

// ---------------------------------------------------------------------------------------------
// Cross-field checks
// ---------------------------------------------------------------------------------------------

type AddIssue = (path: (string | number)[], message: string) => void;

/** Cross-field rules; each issue names the field to change and the value it was compared to. */
export function crossCheck(c: Checked, add: AddIssue): void {
  const m = c.model;
  if (m.hiddenSize % m.numAttentionHeads !== 0) {
    add(['model', 'hiddenSize'], `must be divisible by model.numAttentionHeads (${m.numAttentionHeads}); got ${m.hiddenSize}`);
  }
  if (m.numAttentionHeads % m.numKeyValueHeads !== 0) {
    add(['model', 'numKeyValueHeads'], `must divide model.numAttentionHeads (${m.numAttentionHeads}); got ${m.numKeyValueHeads}`);
  }
  if (m.headDim % 2 !== 0) add(['model', 'headDim'], `must be even (RoPE rotates pairs); got ${m.headDim}`);
  if (c.tokenizer.kind === 'hf' && m.vocabSize === undefined) {
    add(['model', 'vocabSize'], "required when tokenizer.kind is 'hf' (the word-level tokenizer sets it from its vocabulary)");
  }

  const phases = c.rl.phases;
  for (let i = 1; i < phases.length; i++) {
    if (phases[i].maxInputTokens <= phases[i - 1].maxInputTokens) {
      add(['rl', 'phases', i, 'maxInputTokens'], `must be > rl.phases[${i - 1}].maxInputTokens (${phases[i - 1].maxInputTokens})`);
    }
  }
  const seen = new Map<string, number>();
  phases.forEach((p, i) => {
    if (p.name === undefined) return;
    if ((RESERVED_STAGE_NAMES as readonly string[]).includes(p.name)) {
      add(['rl', 'phases', i, 'name'], `'${p.name}' is reserved for an evaluation stage; choose another name`);
    }
    const prev = seen.get(p.name);
    if (prev !== undefined) add(['rl', 'phases', i, 'name'], `duplicate phase name '${p.name}' (also rl.phases[${prev}].name)`);
    else seen.set(p.name, i);
  });
  const last = phases.length - 1;
  const longest = phases[last].maxInputTokens + c.sampling.maxResponseTokens;
  if (longest > m.maxPositionEmbeddings) {
    add(['model', 'maxPositionEmbeddings'], `must be >= rl.phases[${last}].maxInputTokens + sampling.maxResponseTokens (${longest}); got ${m.maxPositionEmbeddings}`);
  }

  const rl = c.rl;
  if (rl.trainBatchSize % rl.miniBatchSize !== 0) {
    add(['rl', 'miniBatchSize'], `must divide rl.trainBatchSize (${rl.trainBatchSize}); got ${rl.miniBatchSize}`);
  }
  const miniResponses = rl.miniBatchSize * rl.groupSize;
  if (miniResponses % rl.microBatchSize !== 0) {
    add(['rl', 'microBatchSize'], `must divide rl.miniBatchSize x rl.groupSize (${miniResponses} responses); got ${rl.microBatchSize}`);
  }
  if (rl.loss.dualClipC <= 1) add(['rl', 'loss', 'dualClipC'], `must be > 1 (dual clip bounds -A*ratio by -A*c for A < 0); got ${rl.loss.dualClipC}`);
  if (rl.overlong.enabled && rl.overlong.bufferLength >= c.sampling.maxResponseTokens) {
    add(['rl', 'overlong', 'bufferLength'], `must be < sampling.maxResponseTokens (${c.sampling.maxResponseTokens}); got ${rl.overlong.bufferLength}`);
  }

  const sft = c.sft;
  if (sft.batchSize % sft.microBatchSize !== 0) {
    add(['sft', 'microBatchSize'], `must divide sft.batchSize (${sft.batchSize}); got ${sft.microBatchSize}`);
  }
  if (sft.enabled) {
    if (sft.maxInputTokens > phases[0].maxInputTokens) {
      add(['sft', 'maxInputTokens'], `must be <= rl.phases[0].maxInputTokens (${phases[0].maxInputTokens}); SFT triplets are built inside the first phase's budget`);
    }
    const sftLongest = sft.maxInputTokens + sft.maxResponseTokens;
    if (sftLongest > m.maxPositionEmbeddings) {
      add(['sft', 'maxResponseTokens'], `sft.maxInputTokens + sft.maxResponseTokens (${sftLongest}) must be <= model.maxPositionEmbeddings (${m.maxPositionEmbeddings})`);
    }
    if (c.data.source !== 'synthetic' && sft.dataPath === undefined) {
      add(['sft', 'dataPath'], `required when sft.enabled is true and data.source is '${c.data.source}' (only the synthetic generator writes worked answers)`);
    }
    if (c.data.source === 'synthetic' && c.data.sftItems === 0 && sft.dataPath === undefined) {
      add(['data', 'sftItems'], 'must be > 0 when sft.enabled is true (or set sft.dataPath)');
    }
  }

  if (c.data.source === 'synthetic') {
    const k = c.data.kinds;
    if (k.single + k.multihop + k.numeric + k.choice <= 0) add(['data', 'kinds'], 'weights must not all be 0');
    if (c.data.minPromptTokens >= phases[0].maxInputTokens) {
      add(['data', 'minPromptTokens'], `must be < rl.phases[0].maxInputTokens (${phases[0].maxInputTokens}); got ${c.data.minPromptTokens}`);
    }
    if (sft.enabled && c.data.minPromptTokens > sft.maxInputTokens) {
      add(['data', 'minPromptTokens'], `must be <= sft.maxInputTokens (${sft.maxInputTokens}); got ${c.data.minPromptTokens}`);
    }
  }

  const j = c.reward.judge;
  if (j.enabled) {
    if (j.baseUrl === undefined) add(['reward', 'judge', 'baseUrl'], 'required when reward.judge.enabled is true');
    if (j.model === undefined) add(['reward', 'judge', 'model'], 'required when reward.judge.enabled is true');
  }

  if (c.eval.k > c.eval.samplesPerItem) {
    add(['eval', 'k'], `must be <= eval.samplesPerItem (${c.eval.samplesPerItem}); got ${c.eval.k}`);
  }
  const buckets = c.eval.lengthBuckets;
  if (buckets) {
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i] <= buckets[i - 1]) add(['eval', 'lengthBuckets', i], `must be > eval.lengthBuckets[${i - 1}] (${buckets[i - 1]})`);
    }
  }

  for (const [preset, t] of Object.entries(c.workers.timeouts)) {
    if (t.heartbeat !== undefined && durationMs(t.heartbeat) >= durationMs(t.startToClose)) {
      add(['workers', 'timeouts', preset, 'heartbeat'], `must be shorter than workers.timeouts.${preset}.startToClose (${t.startToClose}); got ${t.heartbeat}`);
    }
  }
}

/** Fill defaults that depend on other fields (phase names, data seed, data verifier). */
function resolveDependentDefaults(c: Checked) {
  const data = c.data.source === 'synthetic'
    ? { ...c.data, seed: c.data.seed ?? c.run.seed }
    : { ...c.data, defaultVerifier: c.data.defaultVerifier ?? c.reward.defaultVerifier };
  const phases = c.rl.phases.map((p, i) => ({ ...p, name: p.name ?? `phase-${i + 1}` }));
  return { ...c, data, rl: { ...c.rl, phases } };
}

/**
 * The whole run config: strict sections, defaults, cross-field checks, dependent defaults.
 * Cross-field checks run once every field is valid. Parse with `validateConfig` (validate.ts)
 * to get a `ConfigError` with readable paths.
 */
export const RunConfigSchema = RunConfigObject
  .check((ctx) => {
    // Cross-field rules only run on a config whose fields are all valid, so that one wrong
    // value is reported once, at its own path.
    if (ctx.issues.length > 0) return;
    crossCheck(ctx.value, (path, message) => ctx.issues.push({ code: 'custom', path, message, input: ctx.value }));
  })
  .transform(resolveDependentDefaults);

/** A validated, fully resolved run config (every default filled in). */
export type RunConfig = z.output<typeof RunConfigSchema>;
/** What a YAML/JSON config may contain (most fields optional). */
export type RunConfigInput = z.input<typeof RunConfigSchema>;
export type PhaseConfig = RunConfig['rl']['phases'][number];
export type DataConfig = RunConfig['data'];
export type TimeoutPreset = z.output<typeof TimeoutPresetSchema>;
export type TimeoutPresetName = keyof RunConfig['workers']['timeouts'];

/** A held-out length bucket: inputs with lo < length <= hi tokens. */
export interface LengthBucket {
  readonly name: string;
  readonly lo: number;
  readonly hi: number;
}

/** Bucket name used as the key of `perBucket` in evaluation results: `'<lo>-<hi>'`. */
export function bucketName(lo: number, hi: number): string {
  return `${lo}-${hi}`;
}

/**
 * The length buckets evaluation reports: `eval.lengthBuckets` when set, else one bucket per
 * curriculum phase (L_{k-1}, L_k] (recipe.md 1.2), starting at 0.
 */
export function evalLengthBuckets(config: Pick<RunConfig, 'eval' | 'rl'>): LengthBucket[] {
  const bounds = config.eval.lengthBuckets ?? config.rl.phases.map((p) => p.maxInputTokens);
  return bounds.map((hi, i) => {
    const lo = i === 0 ? 0 : bounds[i - 1];
    return { name: bucketName(lo, hi), lo, hi };
  });
}
