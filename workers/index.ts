import { WorkerGroup, type LongrlWorker, type WorkerKind, type WorkerOptions } from './common';
import { TASK_QUEUES } from '../infra/temporal/connection';
import { createComputeWorker } from './compute';
import { createJudgeWorker } from './judge';
import { createOrchestratorWorker } from './orchestrator';

export type { LongrlWorker, WorkerKind };
export const WORKER_KINDS: readonly WorkerKind[] = ['orchestrator', 'compute', 'judge'];

export async function createWorker(kind: WorkerKind, opts: WorkerOptions): Promise<LongrlWorker> {
  switch (kind) {
    case 'orchestrator':
      return new WorkerGroup([await createOrchestratorWorker(opts)], [TASK_QUEUES.orchestrator]);
    case 'compute':
      return createComputeWorker(opts);
    case 'judge':
      return new WorkerGroup([await createJudgeWorker(opts)], [TASK_QUEUES.judge]);
  }
}
