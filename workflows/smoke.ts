/**
 * Plumbing smoke test: a workflow on the orchestrator queue that runs one long, heartbeating,
 * resumable activity on the compute queue. It stays as a check that server, workers and
 * durability work on any deployment (`longrl smoke`).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { HashChunksInput, HashChunksResult, SmokeActivities } from '../activities/smoke';

export interface PlumbingSmokeInput extends HashChunksInput {
  /** Heartbeat timeout in seconds: how soon a dead worker's activity is retried elsewhere. */
  readonly heartbeatTimeoutSeconds?: number;
}

export async function plumbingSmoke(input: PlumbingSmokeInput): Promise<HashChunksResult> {
  const { hashArtifactChunks } = proxyActivities<SmokeActivities>({
    taskQueue: 'longrl-compute',
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: `${input.heartbeatTimeoutSeconds ?? 10} seconds`,
    retry: { initialInterval: '500 ms', maximumInterval: '5 seconds', nonRetryableErrorTypes: ['InvalidInput', 'ArtifactNotFound', 'CorruptArtifactError'] },
  });
  return hashArtifactChunks(input);
}
