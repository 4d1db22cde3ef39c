/**
 * `longrl runs list|show|pause|resume|abort|retry-phase|skip-phase|set-lr|set-steps|audit`:
 * the operator's view of training runs (architecture.md, Operators). Steering goes through
 * the run's Updates (each with a reason, checked by the workflow's validators: a rejected
 * Update prints the validator's message on one line and exits 2).
 */
import type { Command } from 'commander';
import { Client, WorkflowNotFoundError, WorkflowUpdateFailedError, type Connection, type WorkflowExecutionInfo } from '@temporalio/client';
import { buildAuditTimeline, formatTimeline } from '../../infra/audit';
import { UserError } from '../../infra/errors';
import { ArtifactStore } from '../../infra/store/artifacts';
import { connectClient } from '../../infra/temporal/connection';
import { defaultStoreRoot } from '../../workers/common';
import {
  abortUpdate,
  pauseUpdate,
  progressQuery,
  resumeUpdate,
  retryPhaseUpdate,
  setLearningRateUpdate,
  setPhaseStepsUpdate,
  skipPhaseUpdate,
  type RunProgress,
  type RunStatus,
} from '../../workflows/contracts';
import { addServerOptions, targetOf, type ServerFlags } from '../options';
import { formatRunSummary } from '../progress';
import { failureLine, RUN_WORKFLOW_TYPE } from './train';

export const RUN_STATUSES: readonly RunStatus[] = ['starting', 'running', 'paused', 'blocked', 'completed', 'failed', 'aborted'];

/** The visibility query of `runs list`. */
export function listQuery(status?: string): string {
  if (status !== undefined && !RUN_STATUSES.includes(status as RunStatus)) {
    throw new UserError(`--status ${JSON.stringify(status)}: must be one of ${RUN_STATUSES.join(', ')}`);
  }
  return `WorkflowType='${RUN_WORKFLOW_TYPE}'${status ? ` AND LongrlStatus='${status}'` : ''}`;
}

/** A positive integer flag. */
export function intFlag(v: string, name: string, min = 1): number {
  const n = Number(v);
  if (!/^\s*-?\d+\s*$/.test(v) || !Number.isInteger(n) || n < min) throw new UserError(`--${name} must be an integer >= ${min}; got ${JSON.stringify(v)}`);
  return n;
}

/** A finite number flag. */
export function numberFlag(v: string, name: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UserError(`--${name} must be a number; got ${JSON.stringify(v)}`);
  return n;
}

/** A non-empty `--reason`. */
export function reasonFlag(v: string | undefined): string {
  if (typeof v !== 'string' || v.trim() === '') throw new UserError('--reason must be a non-empty text (it is recorded in the run history and the audit)');
  return v;
}

/** One row of `runs list`. */
export interface RunRow {
  readonly id: string;
  readonly status: string;
  readonly temporalStatus: string;
  readonly phase: string;
  readonly step: number | null;
  readonly reward: number | null;
  readonly config: string;
  readonly startTime: string;
  readonly closeTime: string | null;
}

const first = (sa: Record<string, unknown> | undefined, k: string): unknown => {
  const v = sa?.[k];
  return Array.isArray(v) ? v[0] : v;
};

export function runRow(info: Pick<WorkflowExecutionInfo, 'workflowId' | 'status' | 'startTime' | 'closeTime' | 'searchAttributes'>): RunRow {
  const sa = info.searchAttributes as Record<string, unknown> | undefined;
  const step = first(sa, 'LongrlStep');
  const reward = first(sa, 'LongrlReward');
  return {
    id: info.workflowId,
    status: String(first(sa, 'LongrlStatus') ?? '-'),
    temporalStatus: info.status.name,
    phase: String(first(sa, 'LongrlPhase') ?? '-'),
    step: typeof step === 'number' ? step : null,
    reward: typeof reward === 'number' ? reward : null,
    config: String(first(sa, 'LongrlConfig') ?? '-'),
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime ? info.closeTime.toISOString() : null,
  };
}

/** The `runs list` table. */
export function formatRunTable(rows: readonly RunRow[]): string {
  if (rows.length === 0) return '(no runs)';
  const head = ['RUN', 'STATUS', 'TEMPORAL', 'PHASE', 'STEP', 'REWARD', 'STARTED (UTC)', 'CONFIG'];
  const cells = rows.map((r) => [r.id, r.status, r.temporalStatus, r.phase, r.step === null ? '-' : String(r.step), r.reward === null ? '-' : r.reward.toFixed(3), r.startTime.replace('T', ' ').slice(0, 19), r.config.length > 48 ? `${r.config.slice(0, 45)}...` : r.config]);
  const w = head.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => v.padEnd(w[c])).join('  ').trimEnd();
  return [line(head), ...cells.map(line)].join('\n');
}

const out = (s: string) => process.stdout.write(`${s}\n`);

async function withClient<T>(flags: ServerFlags, fn: (c: Client, conn: Connection) => Promise<T>): Promise<T> {
  const target = targetOf(flags);
  const connection = await connectClient(target);
  try {
    return await fn(new Client({ connection, namespace: target.namespace }), connection);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UserError(`no run with id ${JSON.stringify(err.workflowId)} in namespace ${target.namespace} on ${target.address}`);
    throw err;
  } finally {
    await connection.close();
  }
}

/** Send an Update and translate a validator rejection into one-line user error. */
async function sendUpdate(flags: ServerFlags, id: string, name: string, send: (c: Client) => Promise<RunProgress>): Promise<RunProgress> {
  return withClient(flags, async (client) => {
    const d = await client.workflow.getHandle(id).describe(); // not found -> one clear line
    if (d.status.name !== 'RUNNING') throw new UserError(`${name} rejected: run ${id} is closed (${d.status.name.toLowerCase()})`);
    try {
      return await client.withDeadline(Date.now() + 60_000, () => send(client));
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw new UserError(`${name} rejected: ${failureLine(err.cause ?? err)}`);
      if (err instanceof WorkflowNotFoundError) throw new UserError(`${name} rejected: run ${id} is closed`);
      const msg = (err as Error).message ?? String(err);
      if (/deadline|timed? ?out/i.test(msg)) throw new UserError(`${name}: no orchestrator worker answered within 60 s; is \`longrl dev\` or \`longrl worker orchestrator\` running?`);
      throw err;
    }
  });
}

interface UpdateFlags extends ServerFlags {
  reason: string;
  json?: boolean;
}

function printUpdated(kind: string, p: RunProgress, json?: boolean): void {
  if (json) out(JSON.stringify(p, null, 2));
  else out(`${kind} accepted: run ${p.runId} is ${p.status}${p.stage === 'rl' && p.phase ? ` (${p.phase} step ${p.step}/${p.phaseSteps})` : ` (${p.stage})`}`);
}

export function registerRunsCommands(program: Command): void {
  const runs = program.command('runs').description('list, inspect, steer and audit training runs');

  addServerOptions(
    runs
      .command('list')
      .description("training runs (visibility query WorkflowType='TrainingRun', filtered by the LongrlStatus search attribute)")
      .option('--status <status>', `only runs in this state: ${RUN_STATUSES.join(', ')}`)
      .option('--limit <n>', 'at most this many runs', '20')
      .option('--json', 'JSON lines'),
  ).action(async (o: ServerFlags & { status?: string; limit: string; json?: boolean }) => {
    const query = listQuery(o.status);
    const limit = intFlag(o.limit, 'limit');
    const rows = await withClient(o, async (client) => {
      const acc: RunRow[] = [];
      for await (const info of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
        acc.push(runRow(info));
        if (acc.length >= limit) break;
      }
      return acc;
    });
    if (o.json) for (const r of rows) out(JSON.stringify(r));
    else out(formatRunTable(rows));
  });

  addServerOptions(
    runs.command('show').argument('<id>', 'run id').description('the progress Query of a run, as a readable summary').option('--json', 'the raw progress JSON'),
  ).action(async (id: string, o: ServerFlags & { json?: boolean }) => {
    await withClient(o, async (client) => {
      const handle = client.workflow.getHandle(id);
      const d = await handle.describe();
      let p: RunProgress | undefined;
      try {
        p = await client.withDeadline(Date.now() + 15_000, () => handle.query(progressQuery));
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw err;
        const row = runRow(d);
        if (o.json) {
          out(JSON.stringify({ runId: id, temporalStatus: row.temporalStatus, status: row.status, phase: row.phase, step: row.step, queryError: failureLine(err) }, null, 2));
          return;
        }
        out(`run        ${id}\nstatus     ${row.status} (Temporal: ${row.temporalStatus})\nphase      ${row.phase}\nstep       ${row.step ?? '-'}`);
        process.stderr.write(`longrl: the progress Query got no answer (${failureLine(err)}); is an orchestrator worker running?\n`);
        return;
      }
      if (o.json) out(JSON.stringify(p, null, 2));
      else out(`${formatRunSummary(p)}\ntemporal   ${d.status.name}`);
    });
  });

  const simple: Array<[string, string, typeof pauseUpdate]> = [
    ['pause', 'pause the run before its next step', pauseUpdate],
    ['resume', 'resume a paused run', resumeUpdate],
    ['abort', 'stop the run after the current step (it ends with status aborted, keeping what was trained)', abortUpdate],
    ['retry-phase', 'retry a blocked phase from its last checkpoint', retryPhaseUpdate],
    ['skip-phase', 'skip the current (blocked or running) SFT stage or RL phase', skipPhaseUpdate],
  ];
  for (const [name, description, update] of simple) {
    addServerOptions(
      runs.command(name).argument('<id>', 'run id').description(description).requiredOption('--reason <text>', 'why (recorded in the history and the audit)').option('--json', 'print the progress after the update as JSON'),
    ).action(async (id: string, o: UpdateFlags) => {
      const reason = reasonFlag(o.reason);
      const p = await sendUpdate(o, id, name, (c) => c.workflow.getHandle(id).executeUpdate(update, { args: [{ reason }] }));
      printUpdated(name, p, o.json);
    });
  }

  addServerOptions(
    runs
      .command('set-lr')
      .argument('<id>', 'run id')
      .description('change the learning rate from the next optimizer step')
      .requiredOption('--lr <x>', 'new learning rate, in (0, 1]')
      .requiredOption('--reason <text>', 'why')
      .option('--json', 'print the progress after the update as JSON'),
  ).action(async (id: string, o: UpdateFlags & { lr: string }) => {
    const reason = reasonFlag(o.reason);
    const lr = numberFlag(o.lr, 'lr');
    const p = await sendUpdate(o, id, 'set-lr', (c) => c.workflow.getHandle(id).executeUpdate(setLearningRateUpdate, { args: [{ reason, lr }] }));
    printUpdated('set-lr', p, o.json);
  });

  addServerOptions(
    runs
      .command('set-steps')
      .argument('<id>', 'run id')
      .description("change a curriculum phase's step budget")
      .requiredOption('--phase <name>', 'phase name (config rl.phases[].name)')
      .requiredOption('--steps <n>', 'new number of RL steps of the phase')
      .requiredOption('--reason <text>', 'why')
      .option('--json', 'print the progress after the update as JSON'),
  ).action(async (id: string, o: UpdateFlags & { phase: string; steps: string }) => {
    const reason = reasonFlag(o.reason);
    const steps = intFlag(o.steps, 'steps');
    const p = await sendUpdate(o, id, 'set-steps', (c) => c.workflow.getHandle(id).executeUpdate(setPhaseStepsUpdate, { args: [{ reason, phase: o.phase, steps }] }));
    printUpdated('set-steps', p, o.json);
  });

  addServerOptions(
    runs
      .command('audit')
      .argument('<id>', 'run id')
      .description('the run timeline: phases, steps, checkpoints, retrospective additions, operator actions, failures and retries (Temporal history + run ledger)')
      .option('--store <dir>', 'artifact store root of the run (default .longrl/artifacts or LONGRL_STORE)')
      .option('--json', 'one JSON array for machines'),
  ).action(async (id: string, o: ServerFlags & { store?: string; json?: boolean }) => {
    const store = new ArtifactStore(o.store ?? defaultStoreRoot());
    const entries = await withClient(o, (client) => buildAuditTimeline(client, store, id));
    out(o.json ? JSON.stringify(entries, null, 2) : formatTimeline(entries));
  });
}
