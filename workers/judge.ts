/** The judge worker (task queue `longrl-judge`): high-concurrency, I/O-bound judge calls. */
import type { Worker } from '@temporalio/worker';
import { createJudgeActivitySet } from '../activities';
import { createKindWorker, storeOf, type WorkerOptions } from './common';

export function createJudgeWorker(opts: WorkerOptions): Promise<Worker> {
  return createKindWorker('judge', opts, {
    activities: createJudgeActivitySet({ store: storeOf(opts) }),
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities ?? 64,
  });
}

if (require.main === module) void import('../cli/main').then((cli) => cli.main(['worker', 'judge', ...process.argv.slice(2)]));
