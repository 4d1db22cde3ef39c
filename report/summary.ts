/**
 * `summary.json` of a run: the numbers a person or CI reads first (held-out accuracy after SFT
 * and after RL, per phase and length bucket, wall time, optimizer steps). Pure.
 */
import { bucketName } from '../config/schema';
import type { BucketResult, EvalResult, PhaseReportInfo, RunReportInput, StepMetrics } from './types';

/** Per-bucket pass rates, snake_case as in summary.json. */
export interface BucketSummary {
  readonly n: number;
  readonly pass_at_1: number;
  readonly pass_at_k: number;
}

export interface EvalSummary {
  readonly stage: string;
  readonly pass_at_1: number;
  readonly pass_at_k: number;
  readonly k: number;
  readonly per_bucket: Record<string, BucketSummary>;
}

/** Means of a phase's step metrics (null when the phase has no finite value). */
export interface PhaseTrainSummary {
  readonly reward_mean_first: number | null;
  readonly reward_mean_last: number | null;
  readonly reward_mean: number | null;
  readonly accuracy_first: number | null;
  readonly accuracy_last: number | null;
  readonly accuracy_mean: number | null;
  readonly response_length_mean: number | null;
  readonly clip_fraction_mean: number | null;
  readonly filtered_fraction_mean: number | null;
  readonly retro_prompts: number;
  readonly step_wall_ms_mean: number | null;
}

export interface PhaseSummary {
  readonly max_input_tokens: number;
  /** Key of this phase's length bucket in the evaluations' `per_bucket`. */
  readonly bucket: string;
  readonly status: string;
  readonly steps_planned: number;
  readonly steps_done: number;
  readonly train: PhaseTrainSummary;
  /** pass@1 on this phase's length bucket after SFT, right after this phase, and at the end. */
  readonly sft_accuracy: number | null;
  readonly after_phase_accuracy: number | null;
  readonly final_accuracy: number | null;
  /** The evaluation run right after this phase (every bucket), when there was one. */
  readonly heldout_after_phase: EvalSummary | null;
}

/** The content of `summary.json`. */
export interface RunSummaryJson {
  readonly run_id: string;
  readonly status: string;
  readonly config_hash: string | null;
  readonly config_source: string | null;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly wall_seconds: number;
  /** pass@1 on the held-out split after SFT (stage `sft`). */
  readonly sft_heldout_accuracy: number | null;
  /** pass@1 on the held-out split at the end (stage `final`, else the last evaluation). */
  readonly final_heldout_accuracy: number | null;
  readonly rl_accuracy_gain: number | null;
  readonly k: number | null;
  readonly sft_heldout_pass_at_k: number | null;
  readonly final_heldout_pass_at_k: number | null;
  readonly per_phase: Record<string, PhaseSummary>;
  readonly evaluations: EvalSummary[];
  readonly optimizer_steps: number;
  readonly optimizer_steps_by_stage: { readonly sft: number; readonly rl: number };
  readonly rl_steps: number;
  /** Inconsistencies found in the inputs (duplicate steps, unknown phases, non-finite values). */
  readonly warnings: string[];
}

/** Mean of the finite values, or null. */
export function finiteMean(values: readonly (number | undefined)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v !== undefined && Number.isFinite(v)) { sum += v; n++; }
  }
  return n > 0 ? sum / n : null;
}

function firstFinite(values: readonly number[]): number | null {
  const v = values.find((x) => Number.isFinite(x));
  return v ?? null;
}

function bucketSummary(b: BucketResult): BucketSummary {
  return { n: b.n, pass_at_1: b.passAt1, pass_at_k: b.passAtK };
}

function evalSummary(e: EvalResult): EvalSummary {
  return {
    stage: e.stage, pass_at_1: e.passAt1, pass_at_k: e.passAtK, k: e.k,
    per_bucket: Object.fromEntries(Object.entries(e.perBucket).map(([k, b]) => [k, bucketSummary(b)])),
  };
}

/** The length-bucket key of each phase: `bucket` when given, else `<L_{k-1}>-<L_k>`. */
export function phaseBuckets(phases: readonly PhaseReportInfo[]): string[] {
  return phases.map((p, i) => p.bucket ?? bucketName(i === 0 ? 0 : phases[i - 1].maxInputTokens, p.maxInputTokens));
}

/** Ledger rows sorted by global step. */
export function sortedLedger(ledger: readonly StepMetrics[]): StepMetrics[] {
  return [...ledger].sort((a, b) => a.globalStep - b.globalStep);
}

/** The final evaluation: stage `final`, else the last one. */
export function finalEval(evals: readonly EvalResult[]): EvalResult | undefined {
  return [...evals].reverse().find((e) => e.stage === 'final') ?? (evals.length > 0 ? evals[evals.length - 1] : undefined);
}

/** Problems in the inputs worth showing (never fatal: the report still gets written). */
export function inputWarnings(input: Pick<RunReportInput, 'ledger' | 'phases' | 'summary'>): string[] {
  const warnings: string[] = [];
  const seen = new Set<number>();
  const dup = new Set<number>();
  for (const r of input.ledger) {
    if (seen.has(r.globalStep)) dup.add(r.globalStep);
    seen.add(r.globalStep);
  }
  if (dup.size > 0) warnings.push(`ledger has more than one row for global step(s) ${[...dup].sort((a, b) => a - b).join(', ')}`);
  const names = new Set(input.phases.map((p) => p.name));
  const unknown = [...new Set(input.ledger.map((r) => r.phase).filter((p) => !names.has(p)))];
  if (unknown.length > 0) warnings.push(`ledger rows name phase(s) not in the phase list: ${unknown.join(', ')}`);
  const fields = ['rewardMean', 'accuracy', 'responseLengthMean', 'clipFraction', 'loss', 'gradNorm'] as const;
  for (const f of fields) {
    const bad = input.ledger.filter((r) => !Number.isFinite(r[f])).map((r) => r.globalStep);
    if (bad.length > 0) warnings.push(`${f} is not finite at global step(s) ${bad.join(', ')}`);
  }
  if (!input.summary.evals.some((e) => e.stage === 'sft')) warnings.push("no held-out evaluation of stage 'sft'");
  if (!input.summary.evals.some((e) => e.stage === 'final')) warnings.push("no held-out evaluation of stage 'final'");
  return warnings;
}

/** Build `summary.json` from the report inputs. */
export function buildRunSummary(input: Pick<RunReportInput, 'runId' | 'ledger' | 'phases' | 'summary'>): RunSummaryJson {
  const { runId, phases, summary } = input;
  const ledger = sortedLedger(input.ledger);
  const evals = summary.evals;
  const sft = evals.find((e) => e.stage === 'sft');
  const fin = finalEval(evals);
  const finalIsSft = fin !== undefined && fin === sft && fin.stage !== 'final';
  const finalEvalUsed = finalIsSft ? undefined : fin;
  const buckets = phaseBuckets(phases);

  const perPhase: Record<string, PhaseSummary> = {};
  phases.forEach((p, i) => {
    const rows = ledger.filter((r) => r.phase === p.name);
    const after = evals.find((e) => e.stage === p.name);
    const bucket = buckets[i];
    const rewards = rows.map((r) => r.rewardMean);
    const accs = rows.map((r) => r.accuracy);
    perPhase[p.name] = {
      max_input_tokens: p.maxInputTokens,
      bucket,
      status: p.status ?? 'completed',
      steps_planned: p.steps,
      steps_done: rows.length,
      train: {
        reward_mean_first: firstFinite(rewards),
        reward_mean_last: firstFinite([...rewards].reverse()),
        reward_mean: finiteMean(rewards),
        accuracy_first: firstFinite(accs),
        accuracy_last: firstFinite([...accs].reverse()),
        accuracy_mean: finiteMean(accs),
        response_length_mean: finiteMean(rows.map((r) => r.responseLengthMean)),
        clip_fraction_mean: finiteMean(rows.map((r) => r.clipFraction)),
        filtered_fraction_mean: finiteMean(rows.map((r) => r.filteredFraction)),
        retro_prompts: rows.reduce((s, r) => s + (r.retroCount ?? 0), 0),
        step_wall_ms_mean: finiteMean(rows.map((r) => r.wallMs)),
      },
      sft_accuracy: sft?.perBucket[bucket]?.passAt1 ?? null,
      after_phase_accuracy: after?.perBucket[bucket]?.passAt1 ?? null,
      final_accuracy: finalEvalUsed?.perBucket[bucket]?.passAt1 ?? null,
      heldout_after_phase: after ? evalSummary(after) : null,
    };
  });

  const rlDefault = ledger.reduce((s, r) => s + (r.optimizerSteps ?? 1), 0);
  const byStage = summary.optimizerSteps ?? { sft: 0, rl: rlDefault };
  const sftAcc = sft?.passAt1 ?? null;
  const finAcc = finalEvalUsed?.passAt1 ?? null;
  return {
    run_id: runId,
    status: summary.status ?? 'completed',
    config_hash: summary.configHash ?? null,
    config_source: summary.configSource ?? null,
    started_at: summary.startedAt ?? null,
    finished_at: summary.finishedAt ?? null,
    wall_seconds: summary.wallSeconds,
    sft_heldout_accuracy: sftAcc,
    final_heldout_accuracy: finAcc,
    rl_accuracy_gain: sftAcc !== null && finAcc !== null ? finAcc - sftAcc : null,
    k: finalEvalUsed?.k ?? sft?.k ?? null,
    sft_heldout_pass_at_k: sft?.passAtK ?? null,
    final_heldout_pass_at_k: finalEvalUsed?.passAtK ?? null,
    per_phase: perPhase,
    evaluations: evals.map(evalSummary),
    optimizer_steps: byStage.sft + byStage.rl,
    optimizer_steps_by_stage: { sft: byStage.sft, rl: byStage.rl },
    rl_steps: ledger.length,
    warnings: inputWarnings(input),
  };
}
