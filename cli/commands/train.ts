/**
 * `longrl train --config quick|FILE [--set k=v ...] [--address ...] [--detach] [--run-id ID]`
 *
 * Loads and validates the run config (a ConfigError prints its multi-line message, exit 2),
 * checks the files it names, then starts a `TrainingRun` workflow with id
 * `<run.name>-<yyyymmdd-HHMMSS UTC>-<config hash 6>` and input `{ config, configSource }`.
 * Without `--address` it starts (or reuses) the embedded dev server on `.longrl/temporal.db`
 * and runs the three workers in this process. It prints the run id and the Web UI link, then
 * polls the `progress` Query every second: a multibar (SFT + one bar per phase) on a TTY, a
 * plain line every ~10 s otherwise. On completion: the evals, then as LAST line
 * `report: <absolute path>`. A failed run prints one line and exits 1.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { Client, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { assertConfigFiles, configArg, loadConfig } from '../../config';
import { UserError } from '../../infra/errors';
import { connectClient, TASK_QUEUES, type ServerTarget } from '../../infra/temporal/connection';
import { startEmbedded, defaultDbFile, type EmbeddedStack } from '../../infra/temporal/embedded';
import { progressQuery, type RunProgress, type TrainingRunInput } from '../../workflows/contracts';
import type { TrainingRunResult } from '../../workflows/run';
import { addServerOptions, targetOf, type ServerFlags } from '../options';
import { barDisplay, formatEvals, plainDisplay, type ProgressDisplay } from '../progress';

/** Workflow type and task queue of a run (workflows/run.ts). */
export const RUN_WORKFLOW_TYPE = 'TrainingRun';

export interface TrainFlags extends ServerFlags {
  config: string;
  set: string[];
  detach?: boolean;
  runId?: string;
  store?: string;
  db?: string;
}

const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** `yyyymmdd-HHMMSS` of a date, in UTC. */
export function timestampTag(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** The default run id: `<run.name>-<yyyymmdd-HHMMSS>-<first 6 hex of the config hash>`. */
export function makeRunId(runName: string, configHash: string, at: Date): string {
  return `${runName}-${timestampTag(at)}-${configHash.slice(0, 6)}`;
}

/** Checks an operator-given run id (it names folders in the artifact store). */
export function checkRunId(id: string): string {
  if (!RUN_ID_RE.test(id)) throw new UserError(`--run-id ${JSON.stringify(id)}: must be 1-200 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return id;
}

/** Web UI link of a workflow. */
export function uiLink(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** Task queues on which no worker polls (a hint, not an error: workers may start later). */
async function idleQueues(connection: Connection, namespace: string): Promise<string[]> {
  const T = temporal.api.enums.v1.TaskQueueType;
  const checks: Array<[string, number]> = [
    [TASK_QUEUES.orchestrator, T.TASK_QUEUE_TYPE_WORKFLOW],
    [TASK_QUEUES.compute, T.TASK_QUEUE_TYPE_ACTIVITY],
    [TASK_QUEUES.judge, T.TASK_QUEUE_TYPE_ACTIVITY],
  ];
  const idle: string[] = [];
  for (const [name, taskQueueType] of checks) {
    try {
      const r = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name }, taskQueueType });
      if (!r.pollers?.length) idle.push(name);
    } catch {
      // Not worth failing the launch over.
    }
  }
  return idle;
}

/** Query progress with a short deadline; undefined when no worker answered in time. */
export async function queryProgress(client: Client, handle: WorkflowHandle, ms = 5000): Promise<RunProgress | undefined> {
  try {
    return await client.withDeadline(Date.now() + ms, () => handle.query(progressQuery));
  } catch {
    return undefined;
  }
}

/** One line of a run failure: the innermost useful message. */
export function failureLine(err: unknown): string {
  let cur: unknown = err;
  let msg = (err as Error)?.message ?? String(err);
  for (let i = 0; i < 5 && cur; i++) {
    const m = (cur as Error).message;
    if (m && !/^Workflow execution failed$|^Child Workflow execution failed$|^Activity task failed$/i.test(m)) msg = m;
    if (m && !/execution failed|task failed/i.test(m)) break;
    cur = (cur as { cause?: unknown }).cause;
  }
  return msg.replace(/\s+/g, ' ').trim();
}

export function registerTrainCommand(program: Command): void {
  addServerOptions(
    program
      .command('train')
      .description('start a training run (SFT, curriculum RL phases, evaluation, report) and show its progress')
      .requiredOption('--config <preset|file>', 'a preset (quick, default, paper) or a YAML file')
      .option('--set <key=value>', 'override a config field (repeatable), e.g. rl.phases[0].steps=4', collect, [])
      .option('--detach', 'return right after starting the run (needs workers that outlive this command: --address)')
      .option('--run-id <id>', 'workflow id of the run (default <run.name>-<yyyymmdd-HHMMSS>-<config hash>); an id that is still running is re-attached')
      .option('--store <dir>', 'artifact store root of the embedded workers (default .longrl/artifacts)')
      .option('--db <file>', 'SQLite file of the embedded dev server', defaultDbFile()),
  ).action((o: TrainFlags) => train(o));
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const say = (line: string) => process.stderr.write(`${line}\n`);

async function train(o: TrainFlags): Promise<void> {
  const loaded = await loadConfig({ ...configArg(o.config), sets: o.set });
  await assertConfigFiles(loaded.config);
  const runId = o.runId !== undefined ? checkRunId(o.runId) : makeRunId(loaded.config.run.name, loaded.hash, new Date());
  const embedded = o.address === undefined;
  if (embedded && o.detach) {
    throw new UserError(
      '--detach needs workers that outlive this command, and without --address the workers run inside it; start `longrl dev` in another terminal and pass --address 127.0.0.1:7233 (or drop --detach)',
    );
  }

  let stack: EmbeddedStack | undefined;
  let target: ServerTarget = targetOf(o);
  let uiUrl: string | undefined;
  if (embedded) {
    say('starting the embedded Temporal dev server and workers ...');
    stack = await startEmbedded({ namespace: o.namespace, dbFile: o.db, storeRoot: o.store, log: say });
    target = stack.target;
    uiUrl = stack.uiUrl;
    say(`${stack.reusedServer ? 'reusing' : 'started'} Temporal at ${target.address}; workers running in this process on ${Object.values(TASK_QUEUES).join(', ')}`);
  } else if (/^(127\.0\.0\.1|localhost):7233$/.test(target.address)) {
    uiUrl = 'http://localhost:8233';
  }

  let connection: Connection | undefined;
  let interrupted = false;
  let wake: () => void = () => undefined;
  const onSigint = () => {
    interrupted = true;
    wake();
  };
  try {
    connection = await connectClient(target);
    const client = new Client({ connection, namespace: target.namespace });
    if (!embedded) {
      const idle = await idleQueues(connection, target.namespace);
      if (idle.length) say(`warning: no worker polls ${idle.join(', ')} on ${target.address} yet; the run waits until one does (\`longrl worker KIND --address ${target.address}\`)`);
    }
    const input: TrainingRunInput = { config: loaded.config, configSource: loaded.source };
    let handle: WorkflowHandle;
    try {
      handle = await client.workflow.start(RUN_WORKFLOW_TYPE, { taskQueue: TASK_QUEUES.orchestrator, workflowId: runId, args: [input] });
      out(`run ${runId} started (config ${loaded.source}, hash ${loaded.hash})`);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      handle = client.workflow.getHandle(runId);
      const d = await handle.describe();
      if (d.status.name !== 'RUNNING') throw new UserError(`a run with id ${runId} already exists (${d.status.name.toLowerCase()}); choose another --run-id`);
      out(`run ${runId} is already running: attaching`);
    }
    out(`run id: ${runId}`);
    if (uiUrl) out(`web ui: ${uiLink(uiUrl, target.namespace, runId)}`);
    if (o.detach) {
      out(`detached; watch with: longrl runs show ${runId} --address ${target.address}`);
      return;
    }

    process.on('SIGINT', onSigint);
    const result = await watch(client, handle, () => interrupted, (w) => (wake = w));
    if (result === 'interrupted') {
      say(embedded
        ? `interrupted: stopping the workers${stack?.reusedServer ? '' : ' and the dev server'} ... run ${runId} stays saved in ${o.db ?? defaultDbFile()} and resumes with \`longrl dev\` or \`longrl train --config ${o.config} --run-id ${runId}\``
        : `interrupted: detached from run ${runId}, which continues on ${target.address}; watch with \`longrl runs show ${runId}\``);
      process.exitCode = 130;
      return;
    }
    if (result.kind === 'failed') {
      process.stderr.write(`longrl: run ${runId} failed: ${result.message}\n`);
      process.exitCode = 1;
      return;
    }
    const r = result.value;
    for (const line of formatEvals(r.evals)) out(line);
    out(`optimizer steps: ${r.optimizerSteps}; phases: ${r.phases.map((p) => `${p.name} ${p.status} (${p.steps})`).join(', ')}`);
    if (r.status !== 'completed') {
      process.stderr.write(`longrl: run ${runId} ended ${r.status}${r.reportPath ? `; report ${path.resolve(r.reportPath)}` : ''}\n`);
      process.exitCode = 1;
      return;
    }
    if (r.reportPath) out(`report: ${path.resolve(r.reportPath)}`);
  } finally {
    process.off('SIGINT', onSigint);
    await connection?.close().catch(() => undefined);
    if (stack) {
      await stack.stop();
      if (interrupted) say('stopped');
      // The engine's worker thread may outlive the compute worker; do not let it hold the process.
      setTimeout(() => process.exit(), 3000).unref();
    }
  }
}

type WatchResult = 'interrupted' | { kind: 'completed'; value: TrainingRunResult } | { kind: 'failed'; message: string };

/**
 * Poll the progress Query every second until the run closes or Ctrl-C. Closing is detected
 * with describe() rather than a long-polling result() call, so an interrupt can close the
 * connection without an RPC still in flight.
 */
async function watch(client: Client, handle: WorkflowHandle, interrupted: () => boolean, setWake: (f: () => void) => void): Promise<WatchResult> {
  const display: ProgressDisplay = process.stdout.isTTY ? barDisplay(process.stdout) : plainDisplay(out);
  try {
    while (!interrupted()) {
      const p = await queryProgress(client, handle);
      if (p) display.update(p);
      let closed = false;
      try {
        closed = (await client.withDeadline(Date.now() + 5000, () => handle.describe())).status.name !== 'RUNNING';
      } catch {
        // A slow or restarting server: try again next second.
      }
      if (closed) {
        try {
          return { kind: 'completed', value: (await handle.result()) as TrainingRunResult };
        } catch (err) {
          return { kind: 'failed', message: err instanceof WorkflowFailedError ? failureLine(err.cause ?? err) : failureLine(err) };
        }
      }
      if (interrupted()) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1000);
        setWake(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return 'interrupted';
  } finally {
    display.stop();
  }
}
