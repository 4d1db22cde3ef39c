/** The judge worker (task queue `longrl-judge`): high-concurrency, I/O-bound judge calls. */
import { Worker } from '@temporalio/worker';
import { createJudgeActivitySet } from '../activities';
import { ArtifactStore } from '../infra/store/artifacts';
import { connectWorker, TASK_QUEUES } from '../infra/temporal/connection';
import { defaultStoreRoot, identity, installRuntime, type WorkerOptions } from './common';

export async function createJudgeWorker(opts: WorkerOptions): Promise<Worker> {
  installRuntime();
  const connection = await connectWorker(opts.target);
  return Worker.create({
    connection,
    namespace: opts.target.namespace,
    taskQueue: TASK_QUEUES.judge,
    activities: createJudgeActivitySet({ store: new ArtifactStore(opts.storeRoot ?? defaultStoreRoot()) }),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 64,
    identity: identity('judge', opts),
    // On SIGTERM/SIGINT: let running activities finish for a moment, then cancel them.
    shutdownGraceTime: '5s',
    shutdownForceTime: '15s',
  });
}

if (require.main === module) void import('../cli/main').then((cli) => cli.main(['worker', 'judge', ...process.argv.slice(2)]));
