/** Shared pieces of the pipeline integration tests: workers as processes, tiny runs, histories. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { spawnSync } from 'node:child_process';
import type { temporal } from '@temporalio/proto';
import { acquireTemporalCli } from '../../../infra/temporal/acquire';
import { executionChain } from '../../../infra/audit';
import { loadConfig } from '../../../config';
import { connectClient, TASK_QUEUES, type ServerTarget } from '../../../infra/temporal/connection';
import type { RunProgress } from '../../../workflows/contracts';
import type { TrainingRunResult } from '../../../workflows/run';
import { longrl, stopProcs, type Proc } from '../../support/env';

/** A run small enough for a test (seconds), still with SFT, two phases and evaluation. */
export const TINY_SETS = [
  'data.sftItems=24',
  'sft.epochs=1',
  'data.trainItems=24',
  'data.heldoutItems=4',
  'rl.trainBatchSize=4',
  'rl.miniBatchSize=2',
  'eval.samplesPerItem=2',
  'rl.phases[0].steps=2',
  'rl.phases[1].steps=2',
  'rl.checkpointEvery=2',
  'sampling.maxResponseTokens=48',
  // A dead compute worker's own queue is given up for the shared one after 3 s (default 10 s).
  'workers.affinityFallbackAfter=3s',
];

export type WorkerKind = 'orchestrator' | 'compute' | 'judge';

export class Workers {
  /** Worker processes by name: the kind, or another name for a second worker of a kind. */
  readonly procs = new Map<string, Proc>();
  constructor(readonly target: ServerTarget, readonly store: string, readonly env: NodeJS.ProcessEnv = {}) {}

  async start(kinds: WorkerKind[] = ['orchestrator', 'compute', 'judge']): Promise<void> {
    await Promise.all(kinds.map((k) => this.startAs(k, k)));
  }

  /** Start a worker process of `kind` under `name`; resolves to the task queues it polls. */
  async startAs(name: string, kind: WorkerKind, extra: string[] = []): Promise<string[]> {
    const p = longrl(['worker', kind, '--address', this.target.address, '--store', this.store, ...extra], this.env);
    this.procs.set(name, p);
    await p.waitFor(/worker polling (.*) on /, 120_000);
    return /worker polling (.*) on /.exec(p.output())![1].split(', ');
  }

  async kill(kind: string): Promise<void> {
    const p = this.procs.get(kind);
    if (!p) return;
    p.child.kill('SIGKILL');
    await p.exited();
    this.procs.delete(kind);
  }

  async stop(): Promise<void> {
    await stopProcs([...this.procs.values()], 20_000);
    this.procs.clear();
  }
}

export async function withClient<T>(target: ServerTarget, fn: (c: Client) => Promise<T>): Promise<T> {
  const connection = await connectClient(target);
  try {
    return await fn(new Client({ connection, namespace: target.namespace }));
  } finally {
    await connection.close();
  }
}

/** Ids of runs started by tests, so cleanup can terminate any left running by a failed test. */
export const startedRuns: string[] = [];

export async function terminateLeftovers(target: ServerTarget): Promise<void> {
  const ids = startedRuns.splice(0);
  await withClient(target, (c) => Promise.all(ids.map((id) => c.workflow.getHandle(id).terminate('test cleanup').catch(() => undefined))));
}

export async function startRun(client: Client, id: string, sets: string[], extra: Record<string, unknown> = {}): Promise<WorkflowHandle> {
  startedRuns.push(id);
  const { config } = await loadConfig({ preset: 'quick', sets: [...TINY_SETS, ...sets] });
  // Run folders go beside the store of the test, not into the repository.
  return client.workflow.start('TrainingRun', {
    taskQueue: TASK_QUEUES.orchestrator,
    workflowId: id,
    args: [{ config: { ...config, run: { ...config.run, outputDir: extra.outputDir ?? config.run.outputDir } }, configSource: 'test', testHooks: { heartbeatTimeout: '5s' } }],
  });
}

export async function progress(handle: WorkflowHandle): Promise<RunProgress> {
  return handle.query<RunProgress>('progress');
}

export function result(handle: WorkflowHandle): Promise<TrainingRunResult> {
  return handle.result() as Promise<TrainingRunResult>;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Activities of a history: type and the task queue each was scheduled on. */
export function scheduledActivities(events: readonly HistoryEvent[]): Array<{ type: string; queue: string }> {
  return events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => ({ type: e.activityTaskScheduledEventAttributes!.activityType!.name!, queue: e.activityTaskScheduledEventAttributes!.taskQueue!.name! }));
}

/** Timeout kinds of the activity timeouts in a history (proto enum values, `temporal.api.enums.v1.TimeoutType`). */
export function activityTimeouts(events: readonly HistoryEvent[]): number[] {
  return events.filter((e) => e.activityTaskTimedOutEventAttributes).map((e) => Number(e.activityTaskTimedOutEventAttributes!.failure?.timeoutFailureInfo?.timeoutType));
}

/** Every event of a workflow id, across its continue-as-new runs (oldest first). */
export async function allRunEvents(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  return (await executionChain(client, workflowId)).flatMap((r) => r.events);
}

/** Every payload's byte size in a history (inputs, results, signals, queries' args ...). */
export function payloadSizes(history: temporal.api.history.v1.IHistory): number[] {
  const sizes: number[] = [];
  const visit = (v: unknown) => {
    if (!v || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(visit);
    const o = v as Record<string, unknown>;
    if (o.data instanceof Uint8Array && 'metadata' in o) {
      sizes.push(o.data.byteLength);
      return;
    }
    for (const x of Object.values(o)) visit(x);
  };
  visit(history.events);
  return sizes;
}

/**
 * Save a workflow's history in Temporal's JSON form, exported by the Temporal CLI
 * (`temporal workflow show --output json`, the format the UI downloads and replay tools read).
 */
export async function saveHistory(dir: string, name: string, target: ServerTarget, workflowId: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const cli = await acquireTemporalCli({ install: false });
  const r = spawnSync(cli.path, ['workflow', 'show', '--workflow-id', workflowId, '--address', target.address, '--namespace', target.namespace, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`temporal workflow show ${workflowId}: ${r.stderr}`);
  fs.writeFileSync(file, r.stdout);
  return file;
}

/** Assert that `p` rejects with a failure whose message, or a cause's, matches `re` (validator errors arrive as the cause). */
export async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    const messages: string[] = [];
    for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) messages.push(e.message);
    if (messages.some((m) => re.test(m))) return;
    throw new Error(`expected a rejection matching ${re}, got: ${messages.join(' <- ')}`);
  }
  throw new Error(`expected a rejection matching ${re}, but it resolved`);
}
