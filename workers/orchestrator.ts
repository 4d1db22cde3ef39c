/** The orchestrator worker: longrl's workflows (task queue `longrl-orchestrator`). */
import { Worker } from '@temporalio/worker';
import { createOrchestratorActivitySet } from '../activities';
import { ArtifactStore } from '../infra/store/artifacts';
import { connectWorker, TASK_QUEUES } from '../infra/temporal/connection';
import { defaultStoreRoot, identity, installRuntime, workflowBundle, type WorkerOptions } from './common';

export async function createOrchestratorWorker(opts: WorkerOptions): Promise<Worker> {
  installRuntime();
  const connection = await connectWorker(opts.target);
  return Worker.create({
    connection,
    namespace: opts.target.namespace,
    taskQueue: TASK_QUEUES.orchestrator,
    workflowBundle: await workflowBundle(),
    activities: createOrchestratorActivitySet({ store: new ArtifactStore(opts.storeRoot ?? defaultStoreRoot()) }),
    identity: identity('orchestrator', opts),
    // On SIGTERM/SIGINT: let running activities finish for a moment, then cancel them.
    shutdownGraceTime: '5s',
    shutdownForceTime: '15s',
  });
}

if (require.main === module) void import('../cli/main').then((cli) => cli.main(['worker', 'orchestrator', ...process.argv.slice(2)]));
