/**
 * The compute worker (task queue `longrl-compute`): rollout, policy update, checkpoint and
 * evaluation activities. The engine runs in a worker thread so heartbeats stay live.
 */
import { Worker } from '@temporalio/worker';
import { createComputeActivitySet } from '../activities';
import { ArtifactStore } from '../infra/store/artifacts';
import { connectWorker, TASK_QUEUES } from '../infra/temporal/connection';
import { defaultStoreRoot, identity, installRuntime, type WorkerOptions } from './common';

export async function createComputeWorker(opts: WorkerOptions): Promise<Worker> {
  installRuntime();
  const connection = await connectWorker(opts.target);
  const store = new ArtifactStore(opts.storeRoot ?? defaultStoreRoot());
  return Worker.create({
    connection,
    namespace: opts.target.namespace,
    taskQueue: TASK_QUEUES.compute,
    activities: createComputeActivitySet({ store }),
    // One resident policy per process: engine activities run one at a time.
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 1,
    identity: identity('compute', opts),
  });
}

if (require.main === module) void import('../cli/main').then((cli) => cli.main(['worker', 'compute', ...process.argv.slice(2)]));
