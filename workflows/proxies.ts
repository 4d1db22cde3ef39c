/**
 * Activity proxies with the run's named timeout presets (style.md: `longTrainStep`,
 * `bookkeeping`, `judgeCall` instead of numbers at call sites).
 */
import { ActivityFailure, proxyActivities, TimeoutFailure, type ActivityOptions } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import { durationMs } from '../config/duration';
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

/** Did the activity time out waiting in its task queue (no worker there picked it up)? */
export function isScheduleToStartTimeout(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

/**
 * Worker affinity for compute activities (architecture.md, task queues). Compute workers
 * tag each result with their own worker-specific task queue (`worker`, see
 * workers/compute.ts); later compute activities of the run go there, so they land on the
 * worker whose memory holds the run's weights. When nothing picks an activity up there
 * within `workers.affinityFallbackAfter` (that worker died, or is busy with another run),
 * it is scheduled again on the shared `longrl-compute` queue, where any worker can take it
 * (loading the checkpoint, or failing with ModelStateLost so the phase rewinds).
 * The preferred queue travels with the run: into child workflows and across continue-as-new.
 */
export class ComputeAffinity {
  private readonly proxies = new Map<string, ComputeActivities>();
  private readonly fallbackMs: number;

  constructor(private readonly config: RunConfig, private readonly heartbeatOverride: string | undefined, private queue: string | null) {
    this.fallbackMs = durationMs(config.workers.affinityFallbackAfter);
    if (this.fallbackMs <= 0) this.queue = null;
  }

  /** The worker-specific queue compute activities go to now (null: the shared queue). */
  get preferred(): string | null {
    return this.queue;
  }

  /** Adopt the queue a child workflow ended on (the run's weights are on that worker). */
  prefer(queue: string | null | undefined): void {
    if (queue !== undefined && this.fallbackMs > 0) this.queue = queue;
  }

  private proxy(preset: 'longTrainStep' | 'bookkeeping', queue: string): ComputeActivities {
    const key = `${preset}|${queue}`;
    let p = this.proxies.get(key);
    if (!p) {
      const opts = optionsOf(this.config.workers.timeouts[preset], queue, this.heartbeatOverride);
      p = proxyActivities<ComputeActivities>(queue === QUEUES.compute ? opts : { ...opts, scheduleToStartTimeout: this.fallbackMs });
      this.proxies.set(key, p);
    }
    return p;
  }

  private take<T>(result: T): T {
    if (result && typeof result === 'object' && 'worker' in result) {
      const { worker, ...rest } = result as T & { worker?: unknown };
      if (typeof worker === 'string' && this.fallbackMs > 0) this.queue = worker;
      return rest as T;
    }
    return result;
  }

  async call(preset: 'longTrainStep' | 'bookkeeping', name: keyof ComputeActivities, input: unknown): Promise<unknown> {
    const queue = this.queue;
    if (queue) {
      try {
        return this.take(await (this.proxy(preset, queue)[name] as (i: unknown) => Promise<unknown>)(input));
      } catch (err) {
        if (!isScheduleToStartTimeout(err)) throw err;
        // That worker is gone or busy: any compute worker may take it from the shared queue.
        if (this.queue === queue) this.queue = null;
      }
    }
    return this.take(await (this.proxy(preset, QUEUES.compute)[name] as (i: unknown) => Promise<unknown>)(input));
  }

  /** Compute activities with one timeout preset, routed by affinity. */
  activities(preset: 'longTrainStep' | 'bookkeeping'): ComputeActivities {
    return new Proxy({} as ComputeActivities, {
      // Not a thenable (`then` stays undefined), so the object can be returned from async code.
      get: (_target, name) => (typeof name !== 'string' || name === 'then' ? undefined : (input: unknown) => this.call(preset, name as keyof ComputeActivities, input)),
    });
  }
}

export function activitiesFor(config: RunConfig, heartbeatOverride?: string, computeQueue: string | null = null) {
  const t = config.workers.timeouts;
  const affinity = new ComputeAffinity(config, heartbeatOverride, computeQueue);
  return {
    affinity,
    /** Engine work on the compute queue: SFT chunks, rollouts, policy updates, evaluation. */
    train: affinity.activities('longTrainStep'),
    /** Data preparation and checkpoints on the compute queue. */
    book: affinity.activities('bookkeeping'),
    judge: proxyActivities<JudgeActivities>(optionsOf(t.judgeCall, QUEUES.judge, heartbeatOverride)),
    light: proxyActivities<OrchestratorActivities>(optionsOf(t.bookkeeping, QUEUES.orchestrator)),
  };
}
export type RunActivities = ReturnType<typeof activitiesFor>;

/** Whether a step generates and scores on the compute worker (rule-only rewards; `workers.fuseGeneration`). */
export function fuseGeneration(config: RunConfig): boolean {
  return config.workers.fuseGeneration === 'auto' && !config.reward.judge.enabled;
}
