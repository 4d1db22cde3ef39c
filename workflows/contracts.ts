/**
 * The operator contract of a training run: workflow input, Queries, Updates and the signals
 * between a run and its stage/phase children. Imported by workflows and by clients (CLI,
 * tests); nothing here may touch Node built-ins.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { StepMetrics as ReportStepMetrics } from '../report/types';

/** Status values of the `LongrlStatus` search attribute. */
export type RunStatus = 'starting' | 'running' | 'paused' | 'blocked' | 'completed' | 'failed' | 'aborted';

/** What a run is doing now (`LongrlPhase`). */
export type Stage = 'config' | 'data' | 'sft' | 'eval-sft' | 'rl' | 'eval-final' | 'report' | 'done';

/**
 * Workflow input of `TrainingRun`. From the CLI it carries a validated config; from the Web
 * UI's Start Workflow form it is whatever JSON the operator typed, validated by the run's
 * first activity (invalid input fails the run at once with the config paths at fault).
 */
export interface TrainingRunInput {
  /** A run config (see config/presets/*.yaml for the fields; JSON form of the same YAML). */
  readonly config: unknown;
  /** Where the config came from, for the `LongrlConfig` search attribute (preset name or file). */
  readonly configSource?: string;
  /** Test hooks; not for production use. */
  readonly testHooks?: { readonly heartbeatTimeout?: string };
}

/** One RL step's metrics as the run reports them: the report's ledger row, every field present. */
export interface StepMetrics extends Required<Omit<ReportStepMetrics, 'optimizerSteps'>> {
  /** Generation batches dynamic sampling needed for this step. */
  readonly genBatches: number;
}

export interface OperatorAction {
  readonly kind: 'pause' | 'resume' | 'abort' | 'retryPhase' | 'skipPhase' | 'setLearningRate' | 'setPhaseSteps';
  readonly reason: string;
  readonly at: string;
  readonly detail?: string;
}

export interface BlockedInfo {
  readonly phase: string;
  readonly step: number;
  readonly error: string;
  readonly since: string;
}

export interface RunProgress {
  readonly runId: string;
  readonly status: RunStatus;
  readonly stage: Stage;
  readonly phase: string | null;
  readonly phaseIndex: number;
  readonly phaseCount: number;
  readonly step: number;
  readonly phaseSteps: number;
  readonly globalStep: number;
  readonly totalSteps: number;
  readonly sftStep: number;
  readonly sftSteps: number;
  readonly lastMetrics: StepMetrics | null;
  readonly learningRate: number | null;
  readonly etaSeconds: number | null;
  readonly blocked: BlockedInfo | null;
  readonly evals: Record<string, { passAt1: number; passAtK: number; k: number }>;
  readonly operatorActions: readonly OperatorAction[];
  readonly reportPath: string | null;
  readonly error: string | null;
}

export interface Reason {
  readonly reason: string;
}

export const progressQuery = defineQuery<RunProgress>('progress');
export const pauseUpdate = defineUpdate<RunProgress, [Reason]>('pause');
export const resumeUpdate = defineUpdate<RunProgress, [Reason]>('resume');
export const abortUpdate = defineUpdate<RunProgress, [Reason]>('abort');
export const retryPhaseUpdate = defineUpdate<RunProgress, [Reason]>('retryPhase');
export const skipPhaseUpdate = defineUpdate<RunProgress, [Reason]>('skipPhase');
export const setLearningRateUpdate = defineUpdate<RunProgress, [Reason & { lr: number }]>('setLearningRate');
export const setPhaseStepsUpdate = defineUpdate<RunProgress, [Reason & { phase: string; steps: number }]>('setPhaseSteps');

/** Parent -> child: the whole control state (idempotent; the latest wins). */
export interface ControlState {
  readonly paused: boolean;
  readonly aborting: boolean;
  readonly learningRate: number | null;
  readonly phaseSteps: Record<string, number>;
  /** Incremented by each retryPhase / skipPhase so a child acts on each decision once. */
  readonly decisionSeq: number;
  readonly decision: 'retry' | 'skip' | null;
}
export const controlSignal = defineSignal<[ControlState]>('control');

/** Child -> parent: progress of a stage or phase. */
export interface ChildReport {
  readonly phase: string;
  readonly step: number;
  readonly steps: number;
  readonly status: 'running' | 'blocked' | 'paused';
  readonly metrics?: StepMetrics;
  readonly blocked?: BlockedInfo;
  readonly sft?: { step: number; steps: number; loss: number };
}
export const childReportSignal = defineSignal<[ChildReport]>('childReport');
