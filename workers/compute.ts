/**
 * The compute worker (task queue `longrl-compute`): rollout, policy update, checkpoint and
 * evaluation activities. The engine runs in a worker thread so heartbeats stay live.
 */
import type { Worker } from '@temporalio/worker';
import { createComputeActivitySet } from '../activities';
import { cleanupStaleTempFiles } from '../infra/store/atomic';
import { createKindWorker, storeOf, type WorkerOptions } from './common';

export async function createComputeWorker(opts: WorkerOptions): Promise<Worker> {
  const store = storeOf(opts);
  // Temp files of killed writers (atomic writes that never finished) are garbage.
  await cleanupStaleTempFiles(store.root);
  return createKindWorker('compute', opts, {
    activities: createComputeActivitySet({ store }),
    // One resident policy per process: engine activities run one at a time.
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 1,
  });
}

if (require.main === module) void import('../cli/main').then((cli) => cli.main(['worker', 'compute', ...process.argv.slice(2)]));
