/**
 * The run ledger in the artifact store (architecture.md, Audit): one JSON file per RL step
 * (`runs/<id>/ledger/steps/<globalStep>.json`, so a replayed step overwrites its own entry and
 * the ledger holds exactly one entry per step) and one per event (retrospective additions,
 * operator actions, phase ends, failures), keyed by an idempotency id.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { ArtifactStore } from '../infra/store/artifacts';
import type { StepMetrics } from '../workflows/contracts';
import type { LedgerEvent } from './types';

export interface StepRecord extends StepMetrics {
  /** (run, phase, step) id of the update that produced it, and the model version after it. */
  readonly stepId: string;
  readonly version: number;
  readonly optimizerSteps: number;
  readonly recordedAt: string;
}

export interface EventRecord extends LedgerEvent {
  readonly recordedAt: string;
}

const pad = (n: number) => String(n).padStart(6, '0');

export const ledgerKeys = {
  step: (runId: string, globalStep: number) => `runs/${runId}/ledger/steps/${pad(globalStep)}.json`,
  event: (runId: string, id: string) => `runs/${runId}/ledger/events/${id.replace(/[^A-Za-z0-9._-]/g, '_')}.json`,
  config: (runId: string) => `runs/${runId}/config.json`,
};

async function readDir<T>(store: ArtifactStore, key: string): Promise<T[]> {
  const dir = store.pathOf(key);
  let names: string[];
  try {
    names = (await fsp.readdir(dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return Promise.all(names.map(async (n) => JSON.parse(await fsp.readFile(path.join(dir, n), 'utf8')) as T));
}

export function readStepRecords(store: ArtifactStore, runId: string): Promise<StepRecord[]> {
  return readDir<StepRecord>(store, `runs/${runId}/ledger/steps`);
}

export async function readEvents(store: ArtifactStore, runId: string): Promise<EventRecord[]> {
  const events = await readDir<EventRecord>(store, `runs/${runId}/ledger/events`);
  return events.sort((a, b) => a.recordedAt.localeCompare(b.recordedAt));
}

export function createLedgerActivities(deps: { store: ArtifactStore }) {
  return {
    /** Record an audit event once (a retry with the same id keeps the first record). */
    async recordEvent(event: LedgerEvent): Promise<void> {
      const key = ledgerKeys.event(event.runId, event.id);
      if (await deps.store.exists(key)) return;
      await deps.store.putJson(key, { ...event, recordedAt: new Date().toISOString() } satisfies EventRecord);
    },
  };
}
