/** The orchestrator worker: longrl's workflows (task queue `longrl-orchestrator`). */
import type { Worker } from '@temporalio/worker';
import { createOrchestratorActivitySet } from '../activities';
import { createKindWorker, storeOf, workflowBundle, type WorkerOptions } from './common';

export async function createOrchestratorWorker(opts: WorkerOptions): Promise<Worker> {
  return createKindWorker('orchestrator', opts, {
    workflowBundle: await workflowBundle(),
    activities: createOrchestratorActivitySet({ store: storeOf(opts) }),
  });
}

if (require.main === module) void import('../cli/main').then((cli) => cli.main(['worker', 'orchestrator', ...process.argv.slice(2)]));
