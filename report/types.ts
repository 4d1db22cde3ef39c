/**
 * Inputs of the run report: the per-step metrics ledger, evaluation results and the phases.
 * Plain data (numbers, strings) so that the pipeline can build them from the run ledger and
 * from workflow results without importing the engine.
 */

/**
 * One RL step's metrics (one row of the run ledger). Metrics follow recipe.md section 4:
 * means over the step's B prompts x G responses.
 */
export interface StepMetrics {
  /** Curriculum phase name (`rl.phases[k].name`). */
  readonly phase: string;
  /** Step within the phase, 0- or 1-based as the pipeline numbers it. */
  readonly step: number;
  /** Step across all phases; the x axis of every plot. Unique per row. */
  readonly globalStep: number;
  /** Mean reward (rule/judge score plus overlong shaping) over the step's responses. */
  readonly rewardMean: number;
  /** Mean accuracy (score without shaping, 0/1 per response). */
  readonly accuracy: number;
  /** Mean response length in tokens. */
  readonly responseLengthMean: number;
  /** Fraction of response tokens whose ratio was clipped (upper and dual clip together). */
  readonly clipFraction: number;
  readonly loss: number;
  readonly gradNorm: number;
  /** Groups kept by DAPO dynamic sampling. */
  readonly kept?: number;
  /** Fraction of generated groups filtered out (all-equal accuracy). */
  readonly filteredFraction?: number;
  /** Prompts of this step drawn from the retrospective buffer. */
  readonly retroCount?: number;
  /** Wall time of the step in milliseconds. */
  readonly wallMs?: number;
  /** Optimizer updates applied in this step (mini-batches x PPO epochs); default 1. */
  readonly optimizerSteps?: number;
}

/** Pass rates of one length bucket. */
export interface BucketResult {
  /** Held-out items in the bucket. */
  readonly n: number;
  readonly passAt1: number;
  readonly passAtK: number;
}

/**
 * A held-out evaluation (recipe.md section 6): unbiased pass@1 and pass@k over the held-out
 * split, overall and per input-length bucket (`perBucket` keys like `0-256`, see
 * `config/schema.ts` `bucketName`).
 */
export interface EvalResult {
  /** `sft` (after SFT), a phase name (after that phase) or `final`. */
  readonly stage: string;
  readonly passAt1: number;
  readonly passAtK: number;
  readonly k: number;
  readonly perBucket: Readonly<Record<string, BucketResult>>;
}

/** A curriculum phase as planned and as it ended. */
export interface PhaseReportInfo {
  readonly name: string;
  readonly maxInputTokens: number;
  /** Planned steps (`rl.phases[k].steps`, after operator changes). */
  readonly steps: number;
  /** How the phase ended; default 'completed'. */
  readonly status?: 'completed' | 'skipped' | 'blocked' | 'aborted' | 'running';
  /** Key of this phase's length bucket in `EvalResult.perBucket`; default `<L_{k-1}>-<L_k>`. */
  readonly bucket?: string;
}

/** Whole-run facts for the report. */
export interface RunSummaryInput {
  /** Wall time of the run, seconds (start of the parent workflow to the end of evaluation). */
  readonly wallSeconds: number;
  /** Held-out evaluations in the order they ran (typically `sft`, phases..., `final`). */
  readonly evals: readonly EvalResult[];
  /** Optimizer updates per stage; default SFT 0 and RL the sum of `StepMetrics.optimizerSteps`. */
  readonly optimizerSteps?: { readonly sft: number; readonly rl: number };
  readonly status?: 'completed' | 'aborted' | 'failed' | 'running';
  /** Short hash of the resolved config (`loadConfig().hash`). */
  readonly configHash?: string;
  /** Where the config came from (`loadConfig().source`). */
  readonly configSource?: string;
  /** ISO times, shown as given. */
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** Free-form lines shown under "Notes" (operator actions, known issues). */
  readonly notes?: readonly string[];
}

/** Input of `writeRunReport`. */
export interface RunReportInput {
  /** The run's folder; `report.md`, `summary.json` and `plots/*.svg` are written in it. */
  readonly runDir: string;
  readonly runId: string;
  readonly ledger: readonly StepMetrics[];
  readonly summary: RunSummaryInput;
  readonly phases: readonly PhaseReportInfo[];
}

/** What `writeRunReport` wrote: absolute paths and their sha256. */
export interface RunReportFiles {
  readonly reportPath: string;
  readonly summaryPath: string;
  /** Plot name (`reward`, `accuracy`, ...) -> SVG path. */
  readonly plots: Readonly<Record<string, string>>;
  readonly sha256: Readonly<Record<string, string>>;
}
