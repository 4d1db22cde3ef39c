/**
 * The compute worker (task queue `longrl-compute`): rollout, policy update, checkpoint and
 * evaluation activities. The engine runs in a worker thread so heartbeats stay live.
 */
import { Worker } from '@temporalio/worker';
import { createComputeActivitySet } from '../activities';
import { cleanupStaleTempFiles } from '../infra/store/atomic';
import { ArtifactStore } from '../infra/store/artifacts';
import { connectWorker, TASK_QUEUES } from '../infra/temporal/connection';
import { defaultStoreRoot, identity, installRuntime, type WorkerOptions } from './common';

export async function createComputeWorker(opts: WorkerOptions): Promise<Worker> {
  installRuntime();
  const connection = await connectWorker(opts.target);
  const store = new ArtifactStore(opts.storeRoot ?? defaultStoreRoot());
  // Temp files of killed writers (atomic writes that never finished) are garbage.
  await cleanupStaleTempFiles(store.root);
  return Worker.create({
    connection,
    namespace: opts.target.namespace,
    taskQueue: TASK_QUEUES.compute,
    activities: createComputeActivitySet({ store }),
    // One resident policy per process: engine activities run one at a time.
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 1,
    identity: identity('compute', opts),
    // On SIGTERM/SIGINT: let running activities finish for a moment, then cancel them.
    shutdownGraceTime: '5s',
    shutdownForceTime: '15s',
  });
}

if (require.main === module) void import('../cli/main').then((cli) => cli.main(['worker', 'compute', ...process.argv.slice(2)]));
