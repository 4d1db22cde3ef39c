/**
 * The compute worker: rollout, policy update, checkpoint and evaluation activities. The
 * engine runs in a worker thread so heartbeats stay live.
 *
 * Worker affinity (architecture.md, task queues): besides the shared `longrl-compute` queue,
 * each compute worker polls a queue of its own, `longrl-compute@<host>-<pid>-<id>`, and tags
 * the result of every engine activity with it (`worker`). Workflows send a run's next
 * compute activities there, to the worker whose memory holds the run's weights, and fall
 * back to the shared queue when nobody picks them up in time (workflows/proxies.ts).
 * Both queues feed one engine (one resident policy), so engine activities take turns.
 */
import * as os from 'node:os';
import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Worker } from '@temporalio/worker';
import { createComputeActivitySet } from '../activities';
import { cleanupStaleTempFiles } from '../infra/store/atomic';
import { TASK_QUEUES } from '../infra/temporal/connection';
import { createKindWorker, storeOf, WorkerGroup, type WorkerOptions } from './common';

/** Activities that use the resident policy: serialized per process, results tagged with the worker's queue. */
export const ENGINE_ACTIVITIES = ['prepareData', 'sftChunk', 'rollout', 'generateScored', 'policyUpdate', 'saveCheckpoint', 'evalRollout'] as const;

/**
 * This worker's own task queue. By default unique per process start; with a stable
 * `--worker-id` a restarted worker takes over its queue at once, instead of the runs on it
 * waiting `workers.affinityFallbackAfter` for the shared queue (either way it holds no
 * weights yet and reloads the run's checkpoint, or the phase rewinds to it).
 */
export function workerQueueName(workerId?: string): string {
  return `${TASK_QUEUES.compute}@${workerId ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`}`;
}

/** A FIFO lock: `acquire()` resolves to a release function when it is the caller's turn. */
export class TurnLock {
  private tail: Promise<void> = Promise.resolve();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const prev = this.tail;
    this.tail = prev.then(() => mine);
    return prev.then(() => release);
  }
}

/**
 * Wait for the engine's turn, heartbeating the previous attempt's details meanwhile (so a
 * wait behind another activity neither times out nor erases resume progress), and giving
 * the turn back at once when the activity is cancelled while it waits.
 */
async function takeTurn(lock: TurnLock): Promise<() => void> {
  const ctx = Context.current();
  const turn = lock.acquire();
  const details = ctx.info.heartbeatDetails as unknown;
  const timer = setInterval(() => ctx.heartbeat(details), 2000);
  try {
    return await Promise.race([turn, ctx.cancelled.then(() => Promise.reject(new Error('cancelled')))]);
  } catch (err) {
    void turn.then((release) => release());
    throw err;
  } finally {
    clearInterval(timer);
  }
}

type Activities = ReturnType<typeof createComputeActivitySet>;

/** The activity set with engine activities taking turns and naming the worker's own queue in their results. */
export function placedActivities(set: Activities, queue: string, lock = new TurnLock()): Activities {
  const out: Record<string, unknown> = { ...set };
  for (const name of ENGINE_ACTIVITIES) {
    const fn = set[name] as (input: unknown) => Promise<unknown>;
    out[name] = async (input: unknown) => {
      const release = await takeTurn(lock);
      try {
        const result = await fn(input);
        return result && typeof result === 'object' && !Array.isArray(result) ? { ...result, worker: queue } : result;
      } finally {
        release();
      }
    };
  }
  return out as Activities;
}

export async function createComputeWorker(opts: WorkerOptions): Promise<WorkerGroup> {
  const store = storeOf(opts);
  // Temp files of killed writers (atomic writes that never finished) are garbage.
  await cleanupStaleTempFiles(store.root);
  const queue = workerQueueName(opts.workerId);
  const activities = placedActivities(createComputeActivitySet({ store }), queue);
  // One resident policy per process: engine activities run one at a time (TurnLock).
  const slots = opts.maxConcurrentActivities ?? 1;
  const workers: Worker[] = [
    await createKindWorker('compute', opts, { activities, maxConcurrentActivityTaskExecutions: slots }),
    await createKindWorker('compute', opts, { activities, maxConcurrentActivityTaskExecutions: slots, taskQueue: queue }),
  ];
  return new WorkerGroup(workers, [TASK_QUEUES.compute, queue]);
}

if (require.main === module) void import('../cli/main').then((cli) => cli.main(['worker', 'compute', ...process.argv.slice(2)]));
