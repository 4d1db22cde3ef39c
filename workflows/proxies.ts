/**
 * Activity proxies with the run's named timeout presets (style.md: `longTrainStep`,
 * `bookkeeping`, `judgeCall` instead of numbers at call sites).
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { ComputeActivities, JudgeActivities, OrchestratorActivities } from '../activities/types';
import type { RunConfig, TimeoutPreset } from '../config/schema';

export const QUEUES = { orchestrator: 'longrl-orchestrator', compute: 'longrl-compute', judge: 'longrl-judge' } as const;

/** Failures that retrying cannot fix: the workflow acts on them (rewind, block, fail). */
const NON_RETRYABLE = ['ModelStateLost', 'InvalidConfig', 'ConfigError', 'NonFiniteLoss', 'CorruptArtifactError', 'DataError', 'CheckpointError', 'TokenizerError'];

export function optionsOf(p: TimeoutPreset, taskQueue: string, heartbeatOverride?: string): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout: p.startToClose as Duration,
    heartbeatTimeout: (heartbeatOverride ?? p.heartbeat) as Duration | undefined,
    scheduleToStartTimeout: p.scheduleToStart as Duration | undefined,
    retry: {
      // 0 means unlimited in the config; Temporal's unlimited is an absent maximum.
      maximumAttempts: p.maxAttempts === 0 ? undefined : p.maxAttempts,
      initialInterval: p.initialInterval as Duration,
      backoffCoefficient: p.backoffCoefficient,
      maximumInterval: '30s',
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  };
}

/** Before the config is known: validation only. */
export const bootstrap = proxyActivities<OrchestratorActivities>({
  taskQueue: QUEUES.orchestrator,
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
});

export function activitiesFor(config: RunConfig, heartbeatOverride?: string) {
  const t = config.workers.timeouts;
  return {
    /** Engine work on the compute queue: SFT chunks, rollouts, policy updates, evaluation. */
    train: proxyActivities<ComputeActivities>(optionsOf(t.longTrainStep, QUEUES.compute, heartbeatOverride)),
    /** Data preparation and checkpoints on the compute queue. */
    book: proxyActivities<ComputeActivities>(optionsOf(t.bookkeeping, QUEUES.compute, heartbeatOverride)),
    judge: proxyActivities<JudgeActivities>(optionsOf(t.judgeCall, QUEUES.judge, heartbeatOverride)),
    light: proxyActivities<OrchestratorActivities>(optionsOf(t.bookkeeping, QUEUES.orchestrator)),
  };
}
export type RunActivities = ReturnType<typeof activitiesFor>;
