/**
 * Shared worker plumbing: runtime logging, the workflow bundle cache, and the options
 * every longrl worker takes. Each worker process shuts down gracefully on SIGINT/SIGTERM
 * (the SDK's Runtime drains in-flight tasks, then `worker.run()` resolves).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type LogLevel, type WorkerOptions as SdkWorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ArtifactStore } from '../infra/store/artifacts';
import { connectWorker, TASK_QUEUES } from '../infra/temporal/connection';
import { projectRoot, stateDir } from '../infra/temporal/acquire';
import type { ServerTarget } from '../infra/temporal/connection';

export interface WorkerOptions {
  readonly target: ServerTarget;
  /** Artifact store root (default `.longrl/artifacts`). */
  readonly storeRoot?: string;
  /** Worker identity shown in the UI (default `<kind>@<host>:<pid>`). */
  readonly identity?: string;
  readonly maxConcurrentActivities?: number;
  /** Compute workers: stable name of the worker's own task queue (see workers/compute.ts). */
  readonly workerId?: string;
}

export function defaultStoreRoot(): string {
  return process.env.LONGRL_STORE ?? path.join(stateDir(), 'artifacts');
}

let runtimeInstalled = false;
/** Quiet SDK logging (ERROR) unless LONGRL_LOG_LEVEL says otherwise; once per process. */
export function installRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const level = (process.env.LONGRL_LOG_LEVEL ?? 'ERROR').toUpperCase() as LogLevel;
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed by the host program (tests may install their own).
  }
}

function hashTree(dir: string, hash: ReturnType<typeof createHash>): void {
  if (!fs.existsSync(dir)) return;
  if (fs.statSync(dir).isFile()) {
    hash.update(dir).update(fs.readFileSync(dir));
    return;
  }
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) hashTree(p, hash);
    else if (e.name.endsWith('.js')) hash.update(e.name).update(fs.readFileSync(p));
  }
}

/**
 * The workflow code bundle, cached under `.longrl/cache` by a hash of the compiled workflow
 * and recipe code, so restarting an orchestrator does not re-run webpack each time.
 */
export async function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  const dist = path.join(projectRoot(), 'dist');
  const hash = createHash('sha256');
  // Everything workflow code may import (workflows, pure recipe and config code, activity types).
  for (const d of ['workflows', 'recipe', 'config', 'activities/types.js']) hashTree(path.join(dist, d), hash);
  hash.update(fs.readFileSync(path.join(path.dirname(require.resolve('@temporalio/workflow')), '..', 'package.json')));
  const key = hash.digest('hex').slice(0, 16);
  const file = path.join(stateDir(), 'cache', `workflow-bundle-${key}.json`);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as WorkflowBundleWithSourceMap;
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: new DefaultLogger('WARN') });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(bundle));
  fs.renameSync(tmp, file);
  return bundle;
}

export function identity(kind: string, opts: WorkerOptions): string {
  return opts.identity ?? `${kind}@${os.hostname()}:${process.pid}`;
}

export type WorkerKind = keyof typeof TASK_QUEUES;

export function storeOf(opts: WorkerOptions): ArtifactStore {
  return new ArtifactStore(opts.storeRoot ?? defaultStoreRoot());
}

/**
 * A worker of one kind: quiet runtime, a verified connection, the kind's task queue and
 * identity, and graceful shutdown (on SIGTERM/SIGINT running activities get a moment to
 * finish, then are cancelled). `extra` holds what differs per kind.
 */
export async function createKindWorker(
  kind: WorkerKind,
  opts: WorkerOptions,
  extra: Omit<SdkWorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'identity'> & { taskQueue?: string },
): Promise<Worker> {
  installRuntime();
  const connection = await connectWorker(opts.target);
  return Worker.create({
    connection,
    namespace: opts.target.namespace,
    identity: identity(kind, opts),
    shutdownGraceTime: '5s',
    shutdownForceTime: '15s',
    ...extra,
    taskQueue: extra.taskQueue ?? TASK_QUEUES[kind],
  });
}

/** What callers do with a longrl worker process's SDK worker(s). */
export interface LongrlWorker {
  /** Task queues it polls. */
  readonly queues: readonly string[];
  run(): Promise<void>;
  shutdown(): void;
  getState(): ReturnType<Worker['getState']>;
  runUntil<R>(fn: Promise<R>): Promise<R>;
}

/** The SDK worker(s) of one process (the compute worker polls two queues), run and stopped together. */
export class WorkerGroup implements LongrlWorker {
  constructor(readonly workers: readonly Worker[], readonly queues: readonly string[]) {}
  async run(): Promise<void> {
    // If one stops with an error, stop the others too, then report it.
    const runs = this.workers.map((w) => w.run().catch((err: unknown) => {
      this.shutdown();
      throw err;
    }));
    await Promise.all(runs);
  }
  shutdown(): void {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
  }
  getState(): ReturnType<Worker['getState']> {
    return this.workers[0].getState();
  }
  async runUntil<R>(fn: Promise<R>): Promise<R> {
    const [r] = await Promise.all(this.workers.map((w) => w.runUntil(fn)));
    return r;
  }
}

