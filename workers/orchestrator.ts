/** The orchestrator worker: longrl's workflows (task queue `longrl-orchestrator`). */
import { Worker } from '@temporalio/worker';
import { connectWorker, TASK_QUEUES } from '../infra/temporal/connection';
import { identity, installRuntime, workflowBundle, type WorkerOptions } from './common';

export async function createOrchestratorWorker(opts: WorkerOptions): Promise<Worker> {
  installRuntime();
  const connection = await connectWorker(opts.target);
  return Worker.create({
    connection,
    namespace: opts.target.namespace,
    taskQueue: TASK_QUEUES.orchestrator,
    workflowBundle: await workflowBundle(),
    identity: identity('orchestrator', opts),
  });
}

if (require.main === module) void import('../cli/main').then((cli) => cli.main(['worker', 'orchestrator', ...process.argv.slice(2)]));
