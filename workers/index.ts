import type { Worker } from '@temporalio/worker';
import type { WorkerKind, WorkerOptions } from './common';
import { createComputeWorker } from './compute';
import { createJudgeWorker } from './judge';
import { createOrchestratorWorker } from './orchestrator';

export type { WorkerKind };
export const WORKER_KINDS: readonly WorkerKind[] = ['orchestrator', 'compute', 'judge'];

export function createWorker(kind: WorkerKind, opts: WorkerOptions): Promise<Worker> {
  switch (kind) {
    case 'orchestrator':
      return createOrchestratorWorker(opts);
    case 'compute':
      return createComputeWorker(opts);
    case 'judge':
      return createJudgeWorker(opts);
  }
}
