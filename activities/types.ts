/**
 * The workflow <-> activity boundary: every value here travels through Temporal history, so
 * it is small (ids, scalars, artifact references with checksums; never tensors or texts).
 * Workflows import this file with `import type` only.
 */
import type { ArtifactRef } from '../infra/store/artifacts';
import type { RunConfig } from '../config/schema';

export type { ArtifactRef };

/** A durable checkpoint of the policy (weights + optimizer state), by model version. */
export interface CheckpointRef {
  /** Store key of the checkpoint folder. */
  readonly key: string;
  readonly version: number;
  /** RL steps applied to these weights (a step whose groups were all filtered applies no optimizer step). */
  readonly stepCount: number;
  /** sha256 of the checkpoint manifest (which holds the sha256 of every file). */
  readonly manifestSha256: string;
}

/**
 * The model-version protocol (architecture.md, invariant 3): the version a compute activity
 * expects the worker's in-memory policy to be at, and the last durable checkpoint to load
 * when it is not. Version 0 with no checkpoint is the seeded initialisation.
 */
export interface ModelExpectation {
  readonly runId: string;
  /** Optimizer steps applied since initialisation (the engine's own count). */
  readonly version: number;
  /** RL steps applied (each exactly once, recorded by id in the weights' history). */
  readonly stepCount: number;
  readonly checkpoint: CheckpointRef | null;
}

/** What a compute activity resolves to; `prepareData` carries everything a run needs later. */
export interface DataManifest {
  readonly tokenizer: ArtifactRef;
  readonly vocabSize: number;
  readonly sft: { readonly ref: ArtifactRef; readonly count: number } | null;
  readonly heldout: { readonly ref: ArtifactRef; readonly count: number };
  /** Every RL item (all phases), looked up by id by rollouts. */
  readonly rlItems: ArtifactRef;
  /** One pool of item ids per curriculum phase: items with L_{k-1} < len <= L_k. */
  readonly phases: ReadonlyArray<{ readonly name: string; readonly count: number; readonly ids: readonly string[] }>;
  /** Items longer than the last phase's budget (middle-truncated into the last phase). */
  readonly overBudget: number;
  readonly skipped: number;
  readonly warnings: readonly string[];
}

export interface ResolvedConfig {
  readonly config: RunConfig;
  /** The same config written to the store, for activities. */
  readonly ref: ArtifactRef;
  readonly hash: string;
  /** One line for the memo and the UI. */
  readonly summary: string;
}

export interface SftChunkInput {
  readonly expect: ModelExpectation;
  readonly data: ArtifactRef;
  readonly fromStep: number;
  readonly toStep: number;
  readonly totalSteps: number;
  readonly learningRate: number;
  /** The resolved run config in the store (kept out of every activity's history). */
  readonly config: ArtifactRef;
}

export interface SftChunkResult {
  readonly version: number;
  readonly lossFirst: number;
  readonly lossLast: number;
  readonly tokens: number;
  readonly wallMs: number;
}

/** How a step samples: G responses per prompt, the sampling knobs and the budgets. */
export interface RolloutSampling {
  readonly groupSize: number;
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly maxResponseTokens: number;
  readonly maxInputTokens: number;
}

export interface RolloutInput extends RolloutSampling {
  readonly expect: ModelExpectation;
  /** Items to roll out: the RL items artifact and ids inside it. */
  readonly items: ArtifactRef;
  readonly itemIds: readonly string[];
  /** Which of them came from the retrospective buffer. */
  readonly retroIds: readonly string[];
  readonly seed: number;
  /** Store key for the rollout artifact (unique per run/phase/step/genBatch). */
  readonly key: string;
  readonly config: ArtifactRef;
}

/** One planned generation batch of a step (the workflow draws its items and seed). */
export interface GenerationBatchPlan {
  readonly itemIds: readonly string[];
  readonly retroIds: readonly string[];
  readonly seed: number;
  /** Store folder of the batch: `<key>/rollout.json` and `<key>/scores.json`. */
  readonly key: string;
}

/**
 * Fused generation (rule-only rewards, `workers.fuseGeneration: auto`): generate and score
 * the planned batches in order on the compute worker, stopping after the batch that brings
 * the kept groups to `stopWhenKept` (kept: accuracy not constant in the group when
 * `filter`, DAPO; every group otherwise). The workflow replays the DAPO decision itself.
 */
export interface GenerateScoredInput extends RolloutSampling {
  readonly expect: ModelExpectation;
  readonly items: ArtifactRef;
  readonly batches: readonly GenerationBatchPlan[];
  readonly shaping: boolean;
  readonly stopWhenKept: number;
  readonly filter: boolean;
  readonly config: ArtifactRef;
}

export interface GenerateScoredResult {
  /** The batches generated, in plan order (a prefix of the plan). */
  readonly batches: ReadonlyArray<{ readonly rollout: RolloutResult; readonly scores: ScoreResult }>;
}

export interface RolloutResult {
  readonly ref: ArtifactRef;
  readonly responses: number;
  readonly meanResponseLength: number;
  readonly truncated: number;
  readonly wallMs: number;
}

/** Per prompt group: what dynamic sampling, the retrospective buffer and pass@k need. */
export interface GroupScore {
  readonly itemId: string;
  readonly n: number;
  /** Correct responses (reward max(rule, judge) == 1). */
  readonly correct: number;
  readonly meanAccuracy: number;
  /** Population std of accuracy in the group (DAPO's filter metric). */
  readonly accuracyStd: number;
  readonly meanReward: number;
  /** Accuracy (0/1) of each response, length G: DAPO's filter metric. */
  readonly accuracies: readonly number[];
  /** Prompt length in tokens (length buckets in evaluation). */
  readonly inputTokens: number;
}

export interface ScoreInput {
  readonly rollout: ArtifactRef;
  /** Store key for the scores artifact. */
  readonly key: string;
  readonly config: ArtifactRef;
  /** Apply DAPO overlong shaping (training; not in evaluation). */
  readonly shaping: boolean;
}

export interface ScoreResult {
  readonly ref: ArtifactRef;
  readonly groups: readonly GroupScore[];
  readonly rewardMean: number;
  readonly accuracy: number;
  readonly judgeCalls: number;
  readonly judgeYes: number;
}

export interface UpdateInput {
  readonly expect: ModelExpectation;
  readonly runId: string;
  readonly phase: string;
  readonly step: number;
  readonly globalStep: number;
  /** Rollout + scores of each generation batch, and which groups of it dynamic sampling kept. */
  readonly batches: ReadonlyArray<{ readonly rollout: ArtifactRef; readonly scores: ArtifactRef; readonly keep: readonly number[] }>;
  readonly learningRate: number;
  readonly genBatches: number;
  readonly filteredFraction: number;
  readonly retroIds: readonly string[];
  readonly config: ArtifactRef;
}

export interface UpdateResult {
  readonly version: number;
  readonly metrics: import('../workflows/contracts').StepMetrics;
  readonly ledger: ArtifactRef;
}

export interface CheckpointInput {
  readonly expect: ModelExpectation;
  readonly label: string;
  /** Small workflow state to keep beside the weights (for ModelStateLost rewinds). */
  readonly state: unknown;
  readonly keepLast: number;
  readonly config: ArtifactRef;
}

export interface EvalInput {
  readonly expect: ModelExpectation;
  readonly heldout: ArtifactRef;
  readonly stage: string;
  readonly key: string;
  readonly config: ArtifactRef;
}

export interface StageEval {
  readonly stage: string;
  readonly passAt1: number;
  readonly passAtK: number;
  readonly k: number;
  readonly perBucket: Record<string, { n: number; passAt1: number; passAtK: number }>;
}

export interface ReportInput {
  readonly runId: string;
  readonly config: RunConfig;
  readonly evals: readonly StageEval[];
  readonly phases: ReadonlyArray<{ name: string; status: 'completed' | 'skipped' | 'aborted'; steps: number }>;
  readonly startedAt: string;
  readonly configHash: string;
  readonly configSource: string;
  readonly status: 'completed' | 'aborted';
  readonly notes: readonly string[];
  /** Optimizer steps of the SFT stage (RL steps are counted from the ledger). */
  readonly sftOptimizerSteps: number;
}

export interface ReportResult {
  readonly reportPath: string;
  readonly summaryPath: string;
}

/** Recorded in the run ledger for the audit timeline (retrospective additions, operator actions, failures). */
export interface LedgerEvent {
  readonly runId: string;
  readonly kind: string;
  readonly phase?: string;
  readonly step?: number;
  readonly detail: Record<string, unknown>;
  /** Idempotency key: the same event recorded twice is one entry. */
  readonly id: string;
}

/** Non-retryable failure types the workflows act on. */
export const FAILURE = {
  ModelStateLost: 'ModelStateLost',
  InvalidConfig: 'InvalidConfig',
  NonFiniteLoss: 'NonFiniteLoss',
  Corrupt: 'CorruptArtifactError',
  DataError: 'DataError',
  JudgeUnavailable: 'JudgeUnavailable',
  DynamicSamplingExhausted: 'DynamicSamplingExhausted',
} as const;

export interface ComputeActivities {
  prepareData(input: { runId: string; config: ArtifactRef }): Promise<DataManifest>;
  sftChunk(input: SftChunkInput): Promise<SftChunkResult>;
  rollout(input: RolloutInput): Promise<RolloutResult>;
  generateScored(input: GenerateScoredInput): Promise<GenerateScoredResult>;
  policyUpdate(input: UpdateInput): Promise<UpdateResult>;
  saveCheckpoint(input: CheckpointInput): Promise<CheckpointRef>;
  evalRollout(input: EvalInput): Promise<RolloutResult>;
}

export interface JudgeActivities {
  scoreRollout(input: ScoreInput): Promise<ScoreResult>;
}

export interface OrchestratorActivities {
  resolveRunConfig(input: { runId: string; raw: unknown; source?: string }): Promise<ResolvedConfig>;
  writeReport(input: ReportInput): Promise<ReportResult>;
  recordEvent(event: LedgerEvent): Promise<void>;
}
