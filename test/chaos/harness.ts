/**
 * Chaos harness (issue 7, item 1): a real Temporal dev server on a SQLite file and the three
 * longrl workers as separate processes sharing one artifact store; a `TrainingRun` of a small
 * config; SIGKILL of the compute, judge and orchestrator workers and of the Temporal server at
 * seeded random moments, each restarted with the same arguments (the server on the same SQLite
 * file); then the durability checks of architecture.md:
 *   - the run completed (every phase `completed`);
 *   - the final checkpoint verifies (sha256 of every file) and loads;
 *   - its `longrl-state.json` `stepIds` hold every configured RL step exactly once, in order;
 *   - the ledger holds exactly one entry per RL global step, with the right step id;
 *   - no temp file of an atomic write is left once the workers have exited.
 * A fault table (fault #, time, process kind, pid, what was running, outcome) is printed.
 *
 * The workers run from a private copy of `dist/` (see `codeSnapshot`), so that a rebuild of
 * the shared tree by someone else during a chaos run cannot change the workflow code under a
 * running workflow.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Client, WorkflowFailedError, type Connection, type WorkflowHandle } from '@temporalio/client';
import { readStepRecords, type StepRecord } from '../../activities/ledger';
import { loadConfig } from '../../config';
import type { RunConfig } from '../../config/schema';
import { loadCheckpoint, verifyCheckpoint } from '../../engine';
import { ArtifactStore } from '../../infra/store/artifacts';
import { listTempFiles } from '../../infra/store/atomic';
import { connectClient, type ServerTarget } from '../../infra/temporal/connection';
import { ensureDevServer, type DevServer, type DevServerOptions } from '../../infra/temporal/devserver';
import { Rng } from '../../recipe/rng';
import { progressQuery, retryPhaseUpdate, type RunProgress, type TrainingRunInput } from '../../workflows/contracts';
import type { TrainingRunResult } from '../../workflows/run';
import { freePort, ROOT, tempDir } from '../support/env';

export type WorkerKind = 'orchestrator' | 'compute' | 'judge';
export type ProcKind = WorkerKind | 'server';
export const WORKER_KINDS: readonly WorkerKind[] = ['orchestrator', 'compute', 'judge'];
export const PROC_KINDS: readonly ProcKind[] = ['compute', 'judge', 'orchestrator', 'server'];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Configs
// ---------------------------------------------------------------------------------------------

/**
 * `--set` overrides that shrink the `quick` preset to a chaos-sized run: a 2-layer d64 model,
 * 64 SFT items x 2 epochs (16 optimizer steps in two chunks), two RL phases of `rlSteps`
 * steps (B=2 prompts, G=4, one optimizer step each) with a checkpoint every 2 steps and
 * continue-as-new every 2, 4 held-out items. Heartbeats are short (a killed worker's activity times out in seconds) and
 * retries practically unlimited, so that process deaths never exhaust an activity's attempts.
 */
export function chaosSets(opts: { rlSteps?: number; sftItems?: number; maxAttempts?: number; dynamicSampling?: boolean } = {}): string[] {
  const steps = opts.rlSteps ?? 3;
  // Not 0 ("unlimited" in config/schema.ts): see chaos-findings.md, finding 1.
  const attempts = opts.maxAttempts ?? 1000;
  const timeouts = (name: string, heartbeat: string) => [
    `workers.timeouts.${name}.startToClose=5m`,
    `workers.timeouts.${name}.heartbeat=${heartbeat}`,
    `workers.timeouts.${name}.maxAttempts=${attempts}`,
    `workers.timeouts.${name}.initialInterval=1s`,
    `workers.timeouts.${name}.backoffCoefficient=1.5`,
  ];
  return [
    'run.name=chaos',
    'model.hiddenSize=64',
    'model.intermediateSize=128',
    'model.numHiddenLayers=2',
    'model.numAttentionHeads=2',
    'model.numKeyValueHeads=1',
    'model.headDim=32',
    'model.maxPositionEmbeddings=320',
    'data.trainItems=24',
    'data.heldoutItems=4',
    `data.sftItems=${opts.sftItems ?? 64}`,
    'data.minPromptTokens=64',
    // The question mix is pinned here, not taken from the quick preset: with prompts this short
    // some mixes draw a multi-hop question below its minimum length (a DataError by design).
    'data.kinds.single=2',
    'data.kinds.multihop=1',
    'data.kinds.numeric=1',
    'data.kinds.choice=1',
    'sft.epochs=2',
    'sft.maxInputTokens=128',
    'sft.maxResponseTokens=32',
    'rl.phases[0].maxInputTokens=128',
    `rl.phases[0].steps=${steps}`,
    'rl.phases[1].maxInputTokens=256',
    `rl.phases[1].steps=${steps}`,
    'rl.trainBatchSize=2',
    'rl.groupSize=4',
    'rl.miniBatchSize=2',
    'rl.microBatchSize=8',
    'rl.checkpointEvery=2',
    'rl.continueAsNewEvery=2',
    // Off by default: the tiny model rarely has a group with mixed outcomes, and with dynamic
    // sampling on most steps would then apply no update at all.
    `rl.dynamicSampling.enabled=${opts.dynamicSampling ?? false}`,
    'rl.dynamicSampling.maxNumGenBatches=2',
    'rl.overlong.bufferLength=8',
    'sampling.maxResponseTokens=32',
    'eval.samplesPerItem=2',
    'eval.k=2',
    'workers.computeThreads=1',
    'workers.judgeConcurrency=4',
    // A killed compute worker's own queue is given up for the shared one after 3 s (default 10 s).
    'workers.affinityFallbackAfter=3s',
    ...timeouts('longTrainStep', '6s'),
    ...timeouts('bookkeeping', '10s'),
    ...timeouts('judgeCall', '6s'),
  ];
}

/** The RL update ids a run must apply, in order: `<runId>/<phase>/<step>` (workflows/phase.ts). */
export function expectedStepIds(runId: string, config: RunConfig): string[] {
  return config.rl.phases.flatMap((p, k) => Array.from({ length: p.steps }, (_, s) => `${runId}/${p.name ?? `phase-${k + 1}`}/${s}`));
}

// ---------------------------------------------------------------------------------------------
// A private copy of the compiled code for the worker processes
// ---------------------------------------------------------------------------------------------

let snapshot: string | undefined;

/**
 * A folder that looks like the project root to `bin/longrl.js` (package.json, bin/, dist/,
 * config/presets/, node_modules -> the real one, .longrl/tools and .longrl/cache -> the real
 * ones): copied once per process. `LONGRL_CHAOS_SNAPSHOT=0` runs the workers from the tree.
 */
export function codeSnapshot(): string {
  if (process.env.LONGRL_CHAOS_SNAPSHOT === '0') return ROOT;
  if (snapshot) return snapshot;
  const dir = tempDir('chaos-code');
  for (const p of ['dist', 'bin', 'config/presets', 'package.json']) {
    fs.cpSync(path.join(ROOT, p), path.join(dir, p), { recursive: true, filter: (src) => !src.startsWith(path.join(ROOT, 'dist', 'test')) });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.mkdirSync(path.join(dir, '.longrl'));
  for (const sub of ['tools', 'cache']) {
    const real = path.join(ROOT, '.longrl', sub);
    fs.mkdirSync(real, { recursive: true });
    fs.symlinkSync(real, path.join(dir, '.longrl', sub));
  }
  snapshot = dir;
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

export interface WorkerProc {
  readonly kind: WorkerKind;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Set when the harness killed it on purpose. */
  killedByHarness: boolean;
  output(): string;
  ready(timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
}

function spawnWorker(kind: WorkerKind, target: ServerTarget, store: string, logFile: string): WorkerProc {
  const root = codeSnapshot();
  const child = spawn(process.execPath, [path.join(root, 'bin', 'longrl.js'), 'worker', kind, '--address', target.address, '--store', store], {
    cwd: root,
    env: { ...process.env, LONGRL_STORE: store },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const log = fs.createWriteStream(logFile, { flags: 'a' });
  log.write(`--- ${new Date().toISOString()} pid ${child.pid} longrl worker ${kind}\n`);
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    const s = d.toString();
    log.write(s);
    tail = (tail + s).slice(-16_000);
    for (const w of waiters) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      log.end(`--- exit code ${code} signal ${signal}\n`);
      resolve({ code, signal });
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  const proc: WorkerProc = {
    kind,
    child,
    pid: child.pid ?? -1,
    killedByHarness: false,
    output: () => tail,
    alive: () => !done,
    exited,
    ready(timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (/worker polling/.test(tail)) {
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => reject(new Error(`${kind} worker (pid ${child.pid}) not polling after ${timeoutMs} ms:\n${tail}`)), timeoutMs);
        waiters.push(check);
        check();
        void exited.then(({ code, signal }) => {
          clearTimeout(timer);
          if (!/worker polling/.test(tail)) reject(new Error(`${kind} worker (pid ${child.pid}) exited (code ${code}, signal ${signal}) before polling:\n${tail}`));
        });
      });
    },
  };
  return proc;
}

/** A row of the fault table. */
export interface FaultRecord {
  readonly n: number;
  /** Seconds since the run started, planned and actual. */
  readonly plannedS: number;
  atS: number | null;
  readonly kind: ProcKind;
  pid: number | null;
  running: string;
  /** Seeded delay before the restart. */
  readonly restartDelayMs: number;
  restartMs: number | null;
  /** Seconds from the kill until the run got past the point where it was killed. */
  resumedAfterS: number | null;
  outcome: string;
  /** Progress measure at the kill (see `progressMeasure`). */
  measure: number;
}

/** Anything unexpected the harness saw: a worker that died on its own, a blocked phase. */
export interface Incident {
  readonly atS: number;
  readonly what: string;
}

export interface ClusterOptions {
  readonly label: string;
  /** Artifact store (default: a folder in the cluster's temp dir). */
  readonly store?: string;
  readonly log?: (line: string) => void;
}

/** A dev server on a SQLite file and three worker processes on one store. */
export class ChaosCluster {
  readonly dir: string;
  readonly store: string;
  readonly serverOpts: DevServerOptions;
  server!: DevServer;
  readonly workers = new Map<WorkerKind, WorkerProc>();
  readonly incidents: Incident[] = [];
  readonly exitedWorkers: WorkerProc[] = [];
  private conn: Connection | undefined;
  private readonly oldConns: Connection[] = [];
  private stopping = false;
  private t0 = Date.now();
  readonly log: (line: string) => void;

  private constructor(opts: ClusterOptions, dir: string, port: number, uiPort: number) {
    this.dir = dir;
    this.store = opts.store ?? path.join(dir, 'store');
    fs.mkdirSync(this.store, { recursive: true });
    this.log = opts.log ?? ((l) => console.log(`    [chaos ${opts.label}] ${l}`));
    this.serverOpts = {
      address: `127.0.0.1:${port}`,
      uiPort,
      dbFile: path.join(dir, 'temporal.db'),
      logFile: path.join(dir, 'temporal.log'),
      readyTimeoutMs: 90_000,
    };
  }

  static async start(opts: ClusterOptions): Promise<ChaosCluster> {
    const dir = tempDir(`chaos-${opts.label}`);
    const c = new ChaosCluster(opts, dir, await freePort(), await freePort());
    c.server = await ensureDevServer(c.serverOpts);
    if (c.server.reused) throw new Error(`port of ${c.serverOpts.address} was taken by another Temporal server; retry`);
    for (const k of WORKER_KINDS) c.spawn(k);
    await Promise.all([...c.workers.values()].map((w) => w.ready()));
    c.log(`server pid ${c.server.child?.pid} on ${c.serverOpts.address} (db ${c.serverOpts.dbFile}); workers ${WORKER_KINDS.map((k) => `${k} ${c.workers.get(k)!.pid}`).join(', ')}; store ${c.store}; logs in ${dir}`);
    return c;
  }

  get target(): ServerTarget {
    return this.server.target;
  }

  /** Seconds since `markStart()` (or the cluster's start). */
  elapsedS(): number {
    return (Date.now() - this.t0) / 1000;
  }

  markStart(): void {
    this.t0 = Date.now();
  }

  private spawn(kind: WorkerKind): WorkerProc {
    const w = spawnWorker(kind, this.target, this.store, path.join(this.dir, `${kind}.log`));
    this.workers.set(kind, w);
    void w.exited.then(({ code, signal }) => {
      this.exitedWorkers.push(w);
      if (!w.killedByHarness && !this.stopping) {
        this.incidents.push({ atS: this.elapsedS(), what: `${kind} worker pid ${w.pid} exited on its own (code ${code}, signal ${signal}); restarted. Output tail: ${w.output().slice(-600)}` });
        this.log(`!! ${kind} worker pid ${w.pid} exited on its own (code ${code}, signal ${signal}); restarting it`);
        if (this.workers.get(kind) === w) this.spawn(kind);
      }
    });
    return w;
  }

  /** SIGKILL one process; returns its pid. */
  async kill(kind: ProcKind): Promise<number> {
    if (kind === 'server') {
      const child = this.server.child!;
      const pid = child.pid ?? -1;
      await this.dropClient();
      const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
      child.kill('SIGKILL');
      await exited;
      return pid;
    }
    const w = this.workers.get(kind)!;
    w.killedByHarness = true;
    w.child.kill('SIGKILL');
    await w.exited;
    return w.pid;
  }

  /** Start the process again with the same arguments; resolves once it serves. */
  async restart(kind: ProcKind): Promise<number> {
    if (kind === 'server') {
      this.server = await ensureDevServer(this.serverOpts);
      if (this.server.reused) throw new Error('a different Temporal server took the port while ours was down');
      return this.server.child?.pid ?? -1;
    }
    const w = this.spawn(kind);
    await w.ready();
    return w.pid;
  }

  /** A client on a cached connection (re-made after a server restart). */
  async client(): Promise<Client> {
    this.conn ??= await connectClient(this.target, 5000);
    return new Client({ connection: this.conn, namespace: this.target.namespace });
  }

  /**
   * Forget the cached connection. It is closed only in `stop()`: closing a channel under a call
   * that the client's retry interceptor is about to re-issue throws out of a timer.
   */
  async dropClient(): Promise<void> {
    if (this.conn) this.oldConns.push(this.conn);
    this.conn = undefined;
  }

  private async closeClients(): Promise<void> {
    await this.dropClient();
    const all = this.oldConns.splice(0);
    await Promise.all(all.map((c) => c.close().catch(() => undefined)));
  }

  /** `fn` with a client and a deadline; undefined (and a fresh connection next time) on error. */
  async tryWith<T>(fn: (c: Client) => Promise<T>, ms = 3000): Promise<T | undefined> {
    try {
      const c = await this.client();
      return await c.withDeadline(Date.now() + ms, () => fn(c));
    } catch {
      await this.dropClient();
      return undefined;
    }
  }

  /** `fn` retried (fresh connection each time) until it succeeds or `ms` passes. */
  async must<T>(fn: (c: Client) => Promise<T>, what: string, ms = 60_000): Promise<T> {
    const deadline = Date.now() + ms;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const c = await this.client();
        return await c.withDeadline(Math.min(deadline, Date.now() + 10_000), () => fn(c));
      } catch (err) {
        last = err;
        await this.dropClient();
        await sleep(500);
      }
    }
    throw new Error(`${what}: still failing after ${ms} ms: ${(last as Error)?.message ?? String(last)}`);
  }

  /** Stop the workers gracefully (SIGTERM, then SIGKILL after 30 s) and the server. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.stopWorkers();
    await this.closeClients();
    await this.server?.stop();
  }

  /** Start workers of every kind that is not running (after `stopWorkers`). */
  async startWorkers(): Promise<void> {
    this.stopping = false;
    const started = WORKER_KINDS.filter((k) => !this.workers.get(k)?.alive()).map((k) => this.spawn(k));
    await Promise.all(started.map((w) => w.ready()));
  }

  async stopWorkers(): Promise<void> {
    this.stopping = true;
    const live = [...this.workers.values()].filter((w) => w.alive());
    for (const w of live) w.child.kill('SIGTERM');
    await Promise.all(
      live.map(async (w) => {
        const t = setTimeout(() => w.child.kill('SIGKILL'), 30_000);
        await w.exited;
        clearTimeout(t);
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Schedule
// ---------------------------------------------------------------------------------------------

export interface PlannedFault {
  readonly n: number;
  readonly atS: number;
  readonly kind: ProcKind;
  readonly restartDelayMs: number;
}

/**
 * A seeded fault schedule: `count` kills whose kinds are consecutive seeded permutations of the
 * four process kinds (each kind is hit at least once when count >= 4, and evenly overall).
 * Gaps between planned kill times are uniform in `gapS`; restart delays uniform in
 * `restartDelayMs`, except that the server is mostly restarted at once (0-1.5 s).
 */
export function planFaults(seed: number, count: number, opts: { firstAtS: [number, number]; gapS: [number, number]; restartDelayMs: [number, number] }): PlannedFault[] {
  const rng = new Rng(seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rng.next();
  const kinds: ProcKind[] = [];
  while (kinds.length < count) kinds.push(...rng.shuffle([...PROC_KINDS]));
  const out: PlannedFault[] = [];
  let t = uniform(...opts.firstAtS);
  for (let i = 0; i < count; i++) {
    const kind = kinds[i];
    const delay = kind === 'server' ? uniform(0, 1500) : uniform(...opts.restartDelayMs);
    out.push({ n: i + 1, atS: Math.round(t * 10) / 10, kind, restartDelayMs: Math.round(delay) });
    t += uniform(...opts.gapS);
  }
  return out;
}

export function formatSchedule(seed: number, plan: readonly PlannedFault[]): string {
  return `fault schedule (seed ${seed}): ${plan.map((f) => `#${f.n} ${f.kind}@${f.atS}s+${f.restartDelayMs}ms`).join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------------------------

const STAGES = ['config', 'data', 'sft', 'eval-sft', 'rl', 'eval-final', 'report', 'done'];

/** A number that grows with the run's completed work (stage, then SFT step or RL global step). */
export function progressMeasure(p: RunProgress | undefined): number {
  if (!p) return -1;
  const stage = Math.max(0, STAGES.indexOf(p.stage));
  const within = p.stage === 'sft' ? p.sftStep : p.stage === 'rl' ? p.globalStep * 1000 + p.step : 0;
  return stage * 1e7 + within;
}

export function describeProgress(p: RunProgress | undefined): string {
  if (!p) return 'unknown (no progress answer)';
  const where =
    p.stage === 'sft' ? `sft ${p.sftStep}/${p.sftSteps}` : p.stage === 'rl' ? `rl ${p.phase} step ${p.step}/${p.phaseSteps} (global ${p.globalStep}/${p.totalSteps})` : p.stage;
  return p.status === 'running' ? where : `${where} [${p.status}]`;
}

/** Pending activities of the run and of its current stage/phase child, e.g. `rollout#2`. */
async function pendingActivities(c: Client, runId: string, p: RunProgress | undefined): Promise<string> {
  const ids = [runId];
  if (p?.stage === 'sft') ids.push(`${runId}--sft`);
  if (p?.stage === 'rl' && p.phase) ids.push(`${runId}--${p.phase}`);
  const names: string[] = [];
  for (const id of ids) {
    const d = await c.workflow.getHandle(id).describe();
    for (const a of d.raw.pendingActivities ?? []) names.push(`${a.activityType?.name ?? '?'}#${a.attempt ?? 1}`);
  }
  return names.length ? names.join(',') : 'no activity';
}

// ---------------------------------------------------------------------------------------------
// A run under faults
// ---------------------------------------------------------------------------------------------

export interface ChaosRunOptions {
  readonly cluster: ChaosCluster;
  readonly seed: number;
  readonly sets: readonly string[];
  readonly plan: readonly PlannedFault[];
  /** Whole-run limit. */
  readonly timeoutMs: number;
  readonly runId?: string;
  /** Called when the run reports `blocked`; default: record an incident and send retryPhase. */
  readonly onBlocked?: (p: RunProgress, cluster: ChaosCluster, handle: () => Promise<WorkflowHandle>) => Promise<void>;
  /** Called on each progress answer (tests hook their own faults here). */
  readonly onProgress?: (p: RunProgress) => Promise<void> | void;
}

export interface ChaosRunResult {
  readonly runId: string;
  readonly config: RunConfig;
  readonly result: TrainingRunResult;
  readonly faults: FaultRecord[];
  readonly incidents: Incident[];
  readonly seconds: number;
}

/** Start a `TrainingRun` and inject the planned faults while it runs; returns once it has ended. */
export async function runUnderFaults(o: ChaosRunOptions): Promise<ChaosRunResult> {
  const { cluster } = o;
  const loaded = await loadConfig({ preset: 'quick', sets: [...o.sets] });
  const runId = o.runId ?? `chaos-${o.seed}-${Date.now().toString(36)}`;
  const input: TrainingRunInput = { config: loaded.config, configSource: `chaos seed ${o.seed}` };
  await cluster.must((c) => c.workflow.start('TrainingRun', { taskQueue: 'longrl-orchestrator', workflowId: runId, args: [input] }), 'start the run');
  cluster.markStart();
  cluster.log(`run ${runId} started; ${formatSchedule(o.seed, o.plan)}`);
  const handle = async () => (await cluster.client()).workflow.getHandle(runId);

  const faults: FaultRecord[] = o.plan.map((f) => ({
    n: f.n,
    plannedS: f.atS,
    atS: null,
    kind: f.kind,
    pid: null,
    running: '',
    restartDelayMs: f.restartDelayMs,
    restartMs: null,
    resumedAfterS: null,
    outcome: 'not injected: the run had ended',
    measure: 0,
  }));
  let last: RunProgress | undefined;
  let ended = false;
  let blockedSeen = '';

  const monitor = (async () => {
    const deadline = Date.now() + o.timeoutMs;
    while (!ended) {
      if (Date.now() > deadline) throw new Error(`run ${runId} did not end within ${o.timeoutMs} ms; last progress: ${describeProgress(last)}`);
      const p = await cluster.tryWith(async (c) => c.workflow.getHandle(runId).query(progressQuery), 3000);
      if (p) {
        last = p;
        const m = progressMeasure(p);
        for (const f of faults) if (f.atS !== null && f.resumedAfterS === null && m > f.measure) f.resumedAfterS = Math.round((cluster.elapsedS() - f.atS) * 10) / 10;
        if (o.onProgress) await o.onProgress(p);
        if (p.status === 'blocked' && p.blocked && blockedSeen !== p.blocked.since) {
          blockedSeen = p.blocked.since;
          if (o.onBlocked) await o.onBlocked(p, cluster, handle);
          else {
            cluster.incidents.push({ atS: cluster.elapsedS(), what: `phase ${p.blocked.phase} blocked at step ${p.blocked.step}: ${p.blocked.error}` });
            cluster.log(`!! blocked: ${p.blocked.error}; sending retryPhase`);
            const ok = await cluster.tryWith(async (c) => c.workflow.getHandle(runId).executeUpdate(retryPhaseUpdate, { args: [{ reason: 'chaos harness: retry after a blocked phase' }] }), 10_000);
            if (!ok) cluster.log('!! retryPhase was not accepted');
          }
        }
      }
      const status = await cluster.tryWith(async (c) => (await c.workflow.getHandle(runId).describe()).status.name, 3000);
      if (status && status !== 'RUNNING') {
        ended = true;
        break;
      }
      await sleep(p ? 1000 : 500);
    }
  })();

  const injector = (async () => {
    for (const [i, f] of o.plan.entries()) {
      const rec = faults[i];
      while (!ended && cluster.elapsedS() < f.atS) await sleep(100);
      if (ended) break;
      // Best effort: what was running (progress Query, pending activities) right before the kill.
      const fresh = await cluster.tryWith(async (c) => c.workflow.getHandle(runId).query(progressQuery), 2000);
      const p = fresh ?? last;
      const acts = await cluster.tryWith((c) => pendingActivities(c, runId, p), 2000);
      if (ended) break;
      rec.running = `${describeProgress(p)}${fresh ? '' : ' (last known)'}; ${acts ?? 'activities unknown'}`;
      rec.measure = progressMeasure(p ?? last);
      rec.atS = Math.round(cluster.elapsedS() * 10) / 10;
      rec.pid = await cluster.kill(f.kind);
      cluster.log(`#${f.n} SIGKILL ${f.kind} pid ${rec.pid} at ${rec.atS}s during ${rec.running}`);
      await sleep(f.restartDelayMs);
      const t = Date.now();
      const pid = await cluster.restart(f.kind);
      rec.restartMs = Date.now() - t;
      rec.outcome = `restarted as pid ${pid} after ${f.restartDelayMs} ms + ${(rec.restartMs / 1000).toFixed(1)} s start`;
    }
  })();

  const t0 = Date.now();
  try {
    await Promise.all([monitor, injector]);
  } finally {
    ended = true;
  }
  const result = await cluster.must(
    async (c) => {
      try {
        return (await c.workflow.getHandle(runId).result()) as TrainingRunResult;
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        const chain: string[] = [];
        for (let e: unknown = err; e instanceof Error && chain.length < 8; e = (e as { cause?: unknown }).cause) chain.push(e.message);
        return { runId, status: 'failed', evals: [], reportPath: null, optimizerSteps: -1, phases: [], failure: chain.join(' <- ') } as TrainingRunResult;
      }
    },
    'run result',
    60_000,
  );
  for (const f of faults) {
    if (f.atS === null) continue;
    f.outcome += f.resumedAfterS !== null ? `; run past the kill point after ${f.resumedAfterS} s` : '; run ended without passing the kill point';
  }
  cluster.log(`run ${runId} ended: ${result.status} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { runId, config: loaded.config, result, faults, incidents: [...cluster.incidents], seconds: (Date.now() - t0) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

export interface RunCheck {
  readonly problems: string[];
  readonly finalCheckpoint: string | null;
  readonly finalVersion: number | null;
  readonly stepIds: string[];
  readonly ledger: StepRecord[];
  readonly tempFiles: string[];
}

/**
 * The newest checkpoint folder of a run, if any: by model version, then by RL step count
 * (folders are named `v<version>` or `v<version>-s<RL steps>`, activities/engine-state.ts).
 */
export async function newestCheckpoint(store: string, runId: string): Promise<string | null> {
  const root = path.join(store, 'runs', runId, 'checkpoints');
  const named = (await fsp.readdir(root).catch(() => [] as string[]))
    .map((n) => ({ n, m: /^v(\d+)(?:-s(\d+))?$/.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .map(({ n, m }) => ({ n, version: Number(m[1]), steps: Number(m[2] ?? -1) }))
    .sort((a, b) => a.version - b.version || a.steps - b.steps);
  return named.length ? path.join(root, named[named.length - 1].n) : null;
}

/**
 * The durability checks (file comment). Call after the workers have exited (temp files of
 * live writers would otherwise count). Returns the problems found, empty when all hold.
 */
export async function checkRun(store: string, runId: string, config: RunConfig, result: TrainingRunResult): Promise<RunCheck> {
  const problems: string[] = [];
  if (result.status !== 'completed') problems.push(`run status is ${result.status}, expected completed${'failure' in result ? `: ${String(result.failure)}` : ''}`);
  for (const p of result.phases) if (p.status !== 'completed') problems.push(`phase ${p.name} ended ${p.status}, expected completed`);

  const expected = expectedStepIds(runId, config);
  const dir = await newestCheckpoint(store, runId);
  let stepIds: string[] = [];
  let finalVersion: number | null = null;
  if (!dir) problems.push(`no checkpoint under ${path.join(store, 'runs', runId, 'checkpoints')}`);
  else {
    try {
      const m = await verifyCheckpoint(dir);
      finalVersion = typeof m.meta.version === 'number' ? m.meta.version : null;
      await loadCheckpoint(dir);
    } catch (err) {
      problems.push(`final checkpoint ${dir} does not verify/load: ${(err as Error).message}`);
    }
    if (finalVersion !== result.optimizerSteps) problems.push(`final checkpoint ${dir} holds version ${finalVersion}, the run ended at version ${result.optimizerSteps}`);
    try {
      const state = JSON.parse(await fsp.readFile(path.join(dir, 'longrl-state.json'), 'utf8')) as { stepIds?: string[] };
      stepIds = state.stepIds ?? [];
    } catch (err) {
      problems.push(`${path.join(dir, 'longrl-state.json')}: ${(err as Error).message}`);
    }
    const seen = new Map<string, number>();
    for (const id of stepIds) seen.set(id, (seen.get(id) ?? 0) + 1);
    const twice = [...seen].filter(([, n]) => n > 1).map(([id, n]) => `${id} x${n}`);
    const lost = expected.filter((id) => !seen.has(id));
    const extra = stepIds.filter((id) => !expected.includes(id));
    if (twice.length) problems.push(`steps applied more than once in the final checkpoint: ${twice.join(', ')}`);
    if (lost.length) problems.push(`steps missing from the final checkpoint's stepIds: ${lost.join(', ')} (stepIds: ${JSON.stringify(stepIds)})`);
    if (extra.length) problems.push(`unexpected step ids in the final checkpoint: ${extra.join(', ')}`);
    if (!twice.length && !lost.length && !extra.length && stepIds.join('\n') !== expected.join('\n')) problems.push(`step ids out of order: ${JSON.stringify(stepIds)}`);
  }

  const ledger = await readStepRecords(new ArtifactStore(store), runId);
  if (ledger.length !== expected.length) problems.push(`ledger has ${ledger.length} step entries, expected ${expected.length} (one per RL global step)`);
  ledger.forEach((r, i) => {
    if (r.globalStep !== i) problems.push(`ledger entry ${i} has globalStep ${r.globalStep}`);
    if (r.stepId !== expected[i]) problems.push(`ledger entry ${i} is step ${r.stepId}, expected ${expected[i]}`);
  });
  const lastRec = ledger[ledger.length - 1];
  if (lastRec && finalVersion !== null && lastRec.version !== finalVersion) problems.push(`last ledger entry has model version ${lastRec.version}, the final checkpoint ${finalVersion}`);

  const tempFiles = await listTempFiles(store);
  if (tempFiles.length) problems.push(`orphan temp files: ${tempFiles.map((f) => path.relative(store, f)).join(', ')}`);
  return { problems, finalCheckpoint: dir, finalVersion, stepIds, ledger, tempFiles };
}

// ---------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------

/** The fault table as aligned text (also valid Markdown). */
export function faultTable(rows: ReadonlyArray<FaultRecord & { run?: string }>): string {
  const head = ['#', 'run', 'time (s)', 'process', 'pid', 'what was running', 'outcome'];
  const body = rows.map((f) => [String(f.n), f.run ?? '', f.atS === null ? `(${f.plannedS})` : f.atS.toFixed(1), f.kind, f.pid === null ? '-' : String(f.pid), f.running || '-', f.outcome]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** Fill every fault row's outcome with the run's verdict. */
export function closeOutcomes(faults: FaultRecord[], check: RunCheck): void {
  const verdict = check.problems.length ? `run checks FAILED (${check.problems.length})` : 'run completed, checks passed';
  for (const f of faults) if (f.atS !== null) f.outcome += `; ${verdict}`;
}

// ---------------------------------------------------------------------------------------------
// Several runs until enough faults are injected
// ---------------------------------------------------------------------------------------------

export interface SuiteOptions {
  readonly cluster: ChaosCluster;
  readonly seed: number;
  /** Keep starting runs until this many kills happened and every kind was hit (or maxRuns). */
  readonly minKills: number;
  readonly faultsPerRun: number;
  readonly maxRuns: number;
  readonly sets: readonly string[];
  readonly schedule: { firstAtS: [number, number]; gapS: [number, number]; restartDelayMs: [number, number] };
  readonly runTimeoutMs: number;
}

export interface SuiteRun {
  readonly run: ChaosRunResult;
  readonly check: RunCheck;
}

/** Runs under faults until `minKills` kills covering all four kinds (see SuiteOptions). */
export async function runSuite(o: SuiteOptions): Promise<{ runs: SuiteRun[]; rows: Array<FaultRecord & { run: string }>; kills: number; kinds: Set<ProcKind> }> {
  const runs: SuiteRun[] = [];
  const rows: Array<FaultRecord & { run: string }> = [];
  const kinds = new Set<ProcKind>();
  let kills = 0;
  for (let i = 0; i < o.maxRuns && (kills < o.minKills || kinds.size < PROC_KINDS.length); i++) {
    const seed = o.seed + i;
    const plan = planFaults(seed, o.faultsPerRun, o.schedule);
    o.cluster.log(formatSchedule(seed, plan));
    const run = await runUnderFaults({ cluster: o.cluster, seed, sets: o.sets, plan, timeoutMs: o.runTimeoutMs });
    // Only the workers' own exits make their temp files orphans: stop them, check, start them again.
    await o.cluster.stopWorkers();
    const check = await checkRun(o.cluster.store, run.runId, run.config, run.result);
    closeOutcomes(run.faults, check);
    await o.cluster.startWorkers();
    runs.push({ run, check });
    for (const f of run.faults) {
      rows.push({ ...f, run: `${i + 1}` });
      if (f.atS !== null) {
        kills++;
        kinds.add(f.kind);
      }
    }
  }
  return { runs, rows, kills, kinds };
}

// ---------------------------------------------------------------------------------------------
// Disk full: a size-limited filesystem
// ---------------------------------------------------------------------------------------------

export interface SmallFs {
  readonly dir: string;
  /** `tmpfs` or `loop ext4`. */
  readonly kind: string;
  unmount(): void;
}

function sh(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/**
 * Mount a `sizeMb` filesystem on `dir`: tmpfs, else an ext4 image on a loop device. Throws
 * with both reasons when neither is permitted (no root, no CAP_SYS_ADMIN, no loop devices).
 */
export function mountSmallFs(dir: string, sizeMb: number): SmallFs {
  fs.mkdirSync(dir, { recursive: true });
  const tmpfs = sh('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir]);
  if (tmpfs.ok) return { dir, kind: `tmpfs ${sizeMb} MB`, unmount: () => void sh('umount', ['-l', dir]) };
  const image = `${dir}.img`;
  const steps: Array<[string, string[]]> = [
    ['truncate', ['-s', `${sizeMb}M`, image]],
    ['mkfs.ext4', ['-q', '-F', image]],
    ['mount', ['-o', 'loop', image, dir]],
  ];
  for (const [cmd, args] of steps) {
    const r = sh(cmd, args);
    if (!r.ok) {
      fs.rmSync(image, { force: true });
      throw new Error(`cannot make a size-limited filesystem: 'mount -t tmpfs' failed (${tmpfs.out}); '${cmd} ${args.join(' ')}' failed (${r.out})`);
    }
  }
  return {
    dir,
    kind: `loop ext4 ${sizeMb} MB`,
    unmount: () => {
      sh('umount', ['-l', dir]);
      fs.rmSync(image, { force: true });
    },
  };
}

/** A tmpfs of `size` (`8k`, `1m`, ...) on `dir`; throws when mount is not permitted. */
export function mountTmpfs(dir: string, size: string): SmallFs {
  fs.mkdirSync(dir, { recursive: true });
  const r = sh('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (!r.ok) throw new Error(`mount -t tmpfs -o size=${size} tmpfs ${dir} failed: ${r.out}`);
  return { dir, kind: `tmpfs ${size}`, unmount: () => void sh('umount', ['-l', dir]) };
}

/** Grow (or shrink) a tmpfs in place: `mount -o remount,size=SIZE`. */
export function resizeTmpfs(dir: string, size: string): void {
  const r = sh('mount', ['-o', `remount,size=${size}`, dir]);
  if (!r.ok) throw new Error(`mount -o remount,size=${size} ${dir} failed: ${r.out}`);
}

/** Fill the filesystem of `file`'s folder until ENOSPC; returns the bytes written. */
export function fillDisk(file: string): number {
  const fd = fs.openSync(file, 'w');
  let total = 0;
  try {
    for (const size of [1 << 20, 1 << 16, 1 << 12, 512, 1]) {
      const buf = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          const n = fs.writeSync(fd, buf);
          total += n;
          if (n < size) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// History
// ---------------------------------------------------------------------------------------------

export interface ActivityFailureSeen {
  readonly runId: string;
  readonly activity: string;
  readonly type: string;
  readonly message: string;
}

/**
 * Failed activity attempts recorded in every execution (continue-as-new chain included) of a
 * workflow id: the final failure of each activity (ActivityTaskFailed events).
 */
export async function activityFailures(cluster: ChaosCluster, workflowId: string): Promise<ActivityFailureSeen[]> {
  return cluster.must(async (c) => {
    const out: ActivityFailureSeen[] = [];
    for await (const ex of c.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await c.workflow.getHandle(workflowId, ex.runId).fetchHistory();
      const types = new Map<string, string>();
      for (const e of history.events ?? []) {
        const sched = e.activityTaskScheduledEventAttributes;
        if (sched) types.set(String(e.eventId), sched.activityType?.name ?? '?');
        const failed = e.activityTaskFailedEventAttributes;
        if (failed?.failure) {
          out.push({
            runId: ex.runId,
            activity: types.get(String(failed.scheduledEventId)) ?? '?',
            type: failed.failure.applicationFailureInfo?.type ?? '?',
            message: failed.failure.message ?? '',
          });
        }
      }
    }
    return out;
  }, `history of ${workflowId}`);
}

/**
 * Wait until a paused child has stopped at its gate: no pending activity and the same phase
 * step over `quietPolls` consecutive polls a second apart.
 */
export async function waitAtGate(cluster: ChaosCluster, runId: string, childId: string, quietPolls = 3, timeoutMs = 90_000): Promise<RunProgress> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  let lastKey = '';
  for (;;) {
    if (Date.now() > deadline) throw new Error(`${childId} did not stop at its gate within ${timeoutMs} ms`);
    const p = await cluster.tryWith(async (c) => c.workflow.getHandle(runId).query(progressQuery));
    const pending = await cluster.tryWith(async (c) => (await c.workflow.getHandle(childId).describe()).raw.pendingActivities?.length ?? 0);
    const key = p ? `${p.stage}/${p.phase}/${p.step}` : '';
    quiet = p && pending === 0 && key === lastKey ? quiet + 1 : 0;
    lastKey = key;
    if (p && quiet >= quietPolls) return p;
    await sleep(1000);
  }
}
