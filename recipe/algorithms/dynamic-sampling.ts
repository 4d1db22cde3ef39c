/**
 * DAPO dynamic sampling (Yu et al. 2025, arXiv 2503.14476, section 3.2; recipe.md section 5).
 *
 * After each generation batch, keep only the prompt groups whose filter metric (accuracy)
 * has population std > 0, i.e. not all equal (all-correct and all-wrong groups give zero
 * advantage), or whose size is 1; accumulate kept groups across generation batches until
 * `trainBatchSize` groups are kept, then truncate to exactly that many. After
 * `maxNumGenBatches` batches without enough groups, fail with
 * DynamicSamplingExhaustedError, or train on what is there when `trainOnPartial` is set.
 *
 * Pure and JSON-serialisable state (the workflow carries it between generation
 * activities). No Node built-ins.
 */
import { DynamicSamplingExhaustedError, RecipeConfigError } from '../errors';

/** A prompt group as the filter sees it: an id plus the filter metric of each response. */
export interface SampledGroup {
  id: string;
  /** Filter metric per response (accuracy in DAPO), length G. */
  metric: readonly number[];
}

/** Dynamic sampling configuration (`algorithm.dynamicSampling.*`). */
export interface DynamicSamplingConfig {
  /** Off: every group is kept and the first batch trains. Default true. */
  enabled?: boolean;
  /** Prompt groups per training step. */
  trainBatchSize: number;
  /** Generation batches per step at most (paper: 10); 0 = unlimited. */
  maxNumGenBatches: number;
  /** When exhausted, train on the kept groups instead of failing (at least one needed). Default false. */
  trainOnPartial?: boolean;
}

/** Accumulated state of one step. */
export interface DynamicSamplingState<G extends SampledGroup = SampledGroup> {
  genBatches: number;
  kept: G[];
  /** Groups seen and dropped (for the "fraction of groups filtered" metric). */
  seen: number;
  dropped: number;
}

/** What to do after adding a generation batch. */
export type DynamicSamplingDecision<G extends SampledGroup = SampledGroup> =
  | { action: 'generate'; state: DynamicSamplingState<G> }
  | { action: 'train'; groups: G[]; partial: boolean; state: DynamicSamplingState<G> };

/** Whether DAPO keeps a group: G = 1, or the metric is not constant (population std > 0). */
export function keepGroup(metric: readonly number[]): boolean {
  if (metric.length <= 1) return true;
  let lo = metric[0];
  let hi = metric[0];
  for (const v of metric) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // max > min  <=>  population std > 0, without the round-off of computing the std.
  return hi > lo;
}

/** Population (N) standard deviation, as DAPO's filter reports it. */
export function populationStd(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
}

/** A fresh state for a new training step. */
export function initialDynamicSamplingState<G extends SampledGroup = SampledGroup>(): DynamicSamplingState<G> {
  return { genBatches: 0, kept: [], seen: 0, dropped: 0 };
}

/**
 * Adds one generation batch's groups and decides: generate another batch, or train on
 * exactly `trainBatchSize` groups (the first kept, in arrival order). Throws
 * DynamicSamplingExhaustedError when the batch limit is reached with too few groups
 * (unless `trainOnPartial` and at least one group is kept).
 */
export function addGenerationBatch<G extends SampledGroup>(
  state: DynamicSamplingState<G>,
  groups: readonly G[],
  cfg: DynamicSamplingConfig,
): DynamicSamplingDecision<G> {
  if (!Number.isInteger(cfg.trainBatchSize) || cfg.trainBatchSize < 1) {
    throw new RecipeConfigError('algorithm.dynamicSampling.trainBatchSize', `must be an integer >= 1, got ${cfg.trainBatchSize}`);
  }
  if (!Number.isInteger(cfg.maxNumGenBatches) || cfg.maxNumGenBatches < 0) {
    throw new RecipeConfigError('algorithm.dynamicSampling.maxNumGenBatches', `must be an integer >= 0 (0 = unlimited), got ${cfg.maxNumGenBatches}`);
  }
  const enabled = cfg.enabled ?? true;
  const keep = enabled ? groups.filter((g) => keepGroup(g.metric)) : groups.slice();
  const next: DynamicSamplingState<G> = {
    genBatches: state.genBatches + 1,
    kept: [...state.kept, ...keep],
    seen: state.seen + groups.length,
    dropped: state.dropped + (groups.length - keep.length),
  };
  if (next.kept.length >= cfg.trainBatchSize || !enabled) {
    return { action: 'train', groups: next.kept.slice(0, cfg.trainBatchSize), partial: next.kept.length < cfg.trainBatchSize, state: next };
  }
  if (cfg.maxNumGenBatches > 0 && next.genBatches >= cfg.maxNumGenBatches) {
    if (cfg.trainOnPartial && next.kept.length > 0) return { action: 'train', groups: next.kept, partial: true, state: next };
    throw new DynamicSamplingExhaustedError(next.kept.length, cfg.trainBatchSize, next.genBatches, cfg.maxNumGenBatches);
  }
  return { action: 'generate', state: next };
}

/** Fraction of groups dropped by the filter so far (0 when none seen). */
export function filteredFraction(state: DynamicSamplingState): number {
  return state.seen === 0 ? 0 : state.dropped / state.seen;
}
