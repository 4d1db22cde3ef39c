/**
 * The audit timeline of a training run (architecture.md, Operators: Audit; issue 7 item 4):
 * the Temporal event history of the run AND of its child workflows (SFT stage and RL
 * phases, each followed across continue-as-new), merged with the run ledger in the artifact
 * store (per-step metrics, checkpoints, phase ends with retrospective buffer additions,
 * operator events), sorted by time.
 *
 * From the history: phases started / completed / failed, continue-as-new, activity failures
 * and retries (Temporal writes `ActivityTaskStarted` once per activity with its final
 * `attempt` and the previous attempt's `lastFailure`), Updates with their reasons, signals
 * (control signals; per-step `childReport` signals only when they report a blocked or
 * paused phase, since the ledger already holds every step), workflow task failures (e.g.
 * non-determinism), the run's own end. Activities still pending with a failed attempt come
 * from `describe()`.
 *
 * `buildAuditTimeline` talks to Temporal and the store; the functions it composes are pure
 * (history events and ledger records in, entries out) so tests can feed hand-made ones.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { readEvents, readStepRecords, type EventRecord, type StepRecord } from '../activities/ledger';
import type { ArtifactStore } from './store/artifacts';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Failure = temporal.api.failure.v1.IFailure;
type Payloads = temporal.api.common.v1.IPayloads;
type Timestamp = { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined;

/** One line of the timeline. */
export interface AuditEntry {
  /** ISO-8601 time of the event. */
  readonly at: string;
  /** `history`: Temporal event history; `ledger`: the run ledger in the store; `pending`: describe() of a running workflow. */
  readonly source: 'history' | 'ledger' | 'pending';
  /** Workflow id the history event belongs to (the run or a child); empty for ledger entries. */
  readonly workflowId: string;
  /**
   * What happened: `run.started`, `run.completed`, `run.failed`, `run.terminated`, `run.canceled`,
   * `phase.started`, `phase.completed`, `phase.failed`, `continue-as-new`, `activity.retried`,
   * `activity.failed`, `activity.timed-out`, `activity.retrying`, `update`, `update.failed`,
   * `signal`, `workflow-task.failed`, `step`, `checkpoint`, `phase.end`, `operator.<kind>`, or
   * another ledger event kind.
   */
  readonly kind: string;
  /** Stage or phase name (`sft`, a curriculum phase), when known. */
  readonly phase?: string;
  /** Global RL step (ledger) when known. */
  readonly step?: number;
  /** One human-readable line. */
  readonly summary: string;
  readonly detail?: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// Small decoders
// ---------------------------------------------------------------------------------------------

/** Milliseconds since the epoch of a protobuf Timestamp (seconds may be a Long). */
export function timestampMs(ts: Timestamp): number | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  const s = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds.toNumber();
  return s * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

function iso(ts: Timestamp, fallback = 0): string {
  return new Date(timestampMs(ts) ?? fallback).toISOString();
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number(v ?? 0);
}

/** Decode the first payload of a Payloads (JSON / null / binary) or undefined. */
export function decodeFirst(p: Payloads | null | undefined): unknown {
  const first = p?.payloads?.[0];
  if (!first) return undefined;
  try {
    return defaultPayloadConverter.fromPayload(first);
  } catch {
    return undefined;
  }
}

/** `Type: message (cause: ...)` of a Temporal failure, on one line. */
export function failureText(f: Failure | null | undefined): string {
  if (!f) return 'unknown failure';
  const parts: string[] = [];
  let cur: Failure | null | undefined = f;
  for (let depth = 0; cur && depth < 4; depth++, cur = cur.cause) {
    const type = cur.applicationFailureInfo?.type ?? (cur.timeoutFailureInfo ? `Timeout(${timeoutName(cur.timeoutFailureInfo.timeoutType)})` : cur.canceledFailureInfo ? 'Canceled' : cur.terminatedFailureInfo ? 'Terminated' : undefined);
    const msg = (cur.message ?? '').replace(/\s+/g, ' ').trim();
    if (msg || type) parts.push(type ? `${type}: ${msg}` : msg);
  }
  return parts.join(' <- ') || 'unknown failure';
}

function timeoutName(t: unknown): string {
  const names: Record<number, string> = { 1: 'start-to-close', 2: 'schedule-to-start', 3: 'schedule-to-close', 4: 'heartbeat' };
  return names[num(t)] ?? String(t);
}

/** The phase a workflow id names: `<runId>--<phase>` -> phase; the run itself -> undefined. */
export function phaseOfWorkflowId(runId: string, workflowId: string): string | undefined {
  const prefix = `${runId}--`;
  return workflowId.startsWith(prefix) ? workflowId.slice(prefix.length) : undefined;
}

function reasonOf(arg: unknown): string | undefined {
  const r = (arg as { reason?: unknown } | undefined)?.reason;
  return typeof r === 'string' ? r : undefined;
}

function describeArgs(arg: unknown): string {
  if (!arg || typeof arg !== 'object') return '';
  const rest = Object.entries(arg as Record<string, unknown>).filter(([k]) => k !== 'reason');
  return rest.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
}

const fmt = (x: unknown, d = 3) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : String(x));

// ---------------------------------------------------------------------------------------------
// History -> entries (pure)
// ---------------------------------------------------------------------------------------------

export interface HistoryContext {
  /** The run's workflow id. */
  readonly runId: string;
  /** The workflow these events belong to (the run or one of its children). */
  readonly workflowId: string;
}

/**
 * Audit entries of one workflow run's history events. For the run itself the workflow's own
 * start/end are entries (`run.*`); for children they are covered by the parent's
 * `phase.*` entries, and only continue-as-new is kept.
 */
export function historyEntries(ctx: HistoryContext, events: readonly HistoryEvent[]): AuditEntry[] {
  const isRoot = ctx.workflowId === ctx.runId;
  const phase = phaseOfWorkflowId(ctx.runId, ctx.workflowId);
  const out: AuditEntry[] = [];
  const activityNames = new Map<number, string>();
  const childIds = new Map<number, string>();
  const updates = new Map<string, { name: string; reason?: string }>();
  const add = (ev: HistoryEvent, kind: string, summary: string, extra: Partial<AuditEntry> = {}) =>
    out.push({ at: iso(ev.eventTime), source: 'history', workflowId: ctx.workflowId, kind, summary, ...(phase !== undefined ? { phase } : {}), ...extra });

  for (const ev of events) {
    const id = num(ev.eventId);
    if (ev.workflowExecutionStartedEventAttributes) {
      const a = ev.workflowExecutionStartedEventAttributes;
      if (isRoot && !a.continuedExecutionRunId) add(ev, 'run.started', `run started (${a.workflowType?.name ?? 'workflow'} on ${a.taskQueue?.name ?? '?'})`);
    } else if (ev.workflowExecutionCompletedEventAttributes) {
      if (isRoot) {
        const r = decodeFirst(ev.workflowExecutionCompletedEventAttributes.result) as { status?: string; reportPath?: string | null } | undefined;
        add(ev, 'run.completed', `run closed: ${r?.status ?? 'completed'}${r?.reportPath ? `, report ${r.reportPath}` : ''}`);
      }
    } else if (ev.workflowExecutionFailedEventAttributes) {
      add(ev, isRoot ? 'run.failed' : 'phase.failed', `${isRoot ? 'run' : `workflow ${ctx.workflowId}`} failed: ${failureText(ev.workflowExecutionFailedEventAttributes.failure)}`);
    } else if (ev.workflowExecutionTerminatedEventAttributes) {
      const a = ev.workflowExecutionTerminatedEventAttributes;
      add(ev, 'run.terminated', `${isRoot ? 'run' : ctx.workflowId} terminated${a.identity ? ` by ${a.identity}` : ''}: ${a.reason || '(no reason)'}`);
    } else if (ev.workflowExecutionCanceledEventAttributes) {
      if (isRoot) add(ev, 'run.canceled', 'run canceled');
    } else if (ev.workflowExecutionTimedOutEventAttributes) {
      add(ev, isRoot ? 'run.failed' : 'phase.failed', `${isRoot ? 'run' : ctx.workflowId} timed out`);
    } else if (ev.workflowExecutionContinuedAsNewEventAttributes) {
      const a = ev.workflowExecutionContinuedAsNewEventAttributes;
      add(ev, 'continue-as-new', `${phase ?? 'run'} continued as new (run ${a.newExecutionRunId ?? '?'})`, { detail: { newRunId: a.newExecutionRunId } });
    } else if (ev.workflowTaskFailedEventAttributes) {
      const a = ev.workflowTaskFailedEventAttributes;
      add(ev, 'workflow-task.failed', `workflow task failed (cause ${String(a.cause)}): ${failureText(a.failure)}`);
    } else if (ev.activityTaskScheduledEventAttributes) {
      activityNames.set(id, ev.activityTaskScheduledEventAttributes.activityType?.name ?? 'activity');
    } else if (ev.activityTaskStartedEventAttributes) {
      const a = ev.activityTaskStartedEventAttributes;
      const attempt = num(a.attempt);
      if (attempt > 1) {
        const name = activityNames.get(num(a.scheduledEventId)) ?? 'activity';
        add(ev, 'activity.retried', `${name}: attempt ${attempt} after ${attempt - 1} failed attempt(s); last failure: ${failureText(a.lastFailure)}`, { detail: { activity: name, attempt } });
      }
    } else if (ev.activityTaskFailedEventAttributes) {
      const a = ev.activityTaskFailedEventAttributes;
      const name = activityNames.get(num(a.scheduledEventId)) ?? 'activity';
      add(ev, 'activity.failed', `${name} failed: ${failureText(a.failure)}`, { detail: { activity: name } });
    } else if (ev.activityTaskTimedOutEventAttributes) {
      const a = ev.activityTaskTimedOutEventAttributes;
      const name = activityNames.get(num(a.scheduledEventId)) ?? 'activity';
      add(ev, 'activity.timed-out', `${name} timed out: ${failureText(a.failure)}`, { detail: { activity: name } });
    } else if (ev.startChildWorkflowExecutionInitiatedEventAttributes) {
      childIds.set(id, ev.startChildWorkflowExecutionInitiatedEventAttributes.workflowId ?? '');
    } else if (ev.childWorkflowExecutionStartedEventAttributes) {
      const a = ev.childWorkflowExecutionStartedEventAttributes;
      const wid = a.workflowExecution?.workflowId ?? childIds.get(num(a.initiatedEventId)) ?? '';
      const p = phaseOfWorkflowId(ctx.runId, wid) ?? wid;
      add(ev, 'phase.started', `${p} started (${a.workflowType?.name ?? 'child'} ${wid})`, { phase: p, detail: { workflowId: wid, runId: a.workflowExecution?.runId } });
    } else if (ev.childWorkflowExecutionCompletedEventAttributes) {
      const a = ev.childWorkflowExecutionCompletedEventAttributes;
      const wid = a.workflowExecution?.workflowId ?? '';
      const p = phaseOfWorkflowId(ctx.runId, wid) ?? wid;
      const r = decodeFirst(a.result) as { status?: string; steps?: number; rewinds?: number; retroAdded?: number } | undefined;
      const bits = [r?.status ?? 'completed', r?.steps !== undefined ? `${r.steps} steps` : '', r?.rewinds ? `${r.rewinds} rewinds` : '', r?.retroAdded !== undefined ? `retrospective +${r.retroAdded}` : ''].filter(Boolean);
      add(ev, 'phase.completed', `${p} ended: ${bits.join(', ')}`, { phase: p, detail: { workflowId: wid, status: r?.status, steps: r?.steps } });
    } else if (ev.childWorkflowExecutionFailedEventAttributes) {
      const a = ev.childWorkflowExecutionFailedEventAttributes;
      const wid = a.workflowExecution?.workflowId ?? '';
      const p = phaseOfWorkflowId(ctx.runId, wid) ?? wid;
      add(ev, 'phase.failed', `${p} failed: ${failureText(a.failure)}`, { phase: p });
    } else if (ev.childWorkflowExecutionCanceledEventAttributes || ev.childWorkflowExecutionTerminatedEventAttributes || ev.childWorkflowExecutionTimedOutEventAttributes) {
      const a = ev.childWorkflowExecutionCanceledEventAttributes ?? ev.childWorkflowExecutionTerminatedEventAttributes ?? ev.childWorkflowExecutionTimedOutEventAttributes;
      const wid = a?.workflowExecution?.workflowId ?? '';
      const p = phaseOfWorkflowId(ctx.runId, wid) ?? wid;
      const what = ev.childWorkflowExecutionCanceledEventAttributes ? 'canceled' : ev.childWorkflowExecutionTerminatedEventAttributes ? 'terminated' : 'timed out';
      add(ev, 'phase.failed', `${p} ${what}`, { phase: p });
    } else if (ev.workflowExecutionUpdateAcceptedEventAttributes) {
      const a = ev.workflowExecutionUpdateAcceptedEventAttributes;
      const name = a.acceptedRequest?.input?.name ?? 'update';
      const arg = decodeFirst(a.acceptedRequest?.input?.args);
      const reason = reasonOf(arg);
      const updateId = a.acceptedRequest?.meta?.updateId ?? a.protocolInstanceId ?? '';
      updates.set(updateId, { name, reason });
      const extra = describeArgs(arg);
      const who = a.acceptedRequest?.meta?.identity;
      add(ev, 'update', `update ${name}${extra ? ` (${extra})` : ''}: reason "${reason ?? ''}"${who ? ` by ${who}` : ''}`, { detail: { update: name, reason, args: arg, identity: who } });
    } else if (ev.workflowExecutionUpdateCompletedEventAttributes) {
      const a = ev.workflowExecutionUpdateCompletedEventAttributes;
      if (a.outcome?.failure) {
        const u = updates.get(a.meta?.updateId ?? '');
        add(ev, 'update.failed', `update ${u?.name ?? a.meta?.updateId ?? ''} failed: ${failureText(a.outcome.failure)}`);
      }
    } else if (ev.workflowExecutionSignaledEventAttributes) {
      const a = ev.workflowExecutionSignaledEventAttributes;
      const name = a.signalName ?? 'signal';
      const arg = decodeFirst(a.input) as Record<string, unknown> | undefined;
      if (name === 'childReport') {
        const st = arg?.status;
        if (st !== 'blocked' && st !== 'paused') continue;
        const b = arg?.blocked as { error?: string } | undefined;
        add(ev, 'signal', `childReport from ${String(arg?.phase)}: ${String(st)}${b?.error ? ` (${b.error})` : ''}`, { phase: typeof arg?.phase === 'string' ? arg.phase : phase, detail: { signal: name, ...arg } });
      } else if (name === 'control') {
        const c = arg ?? {};
        const flags = [c.paused ? 'paused' : 'running', c.aborting ? 'aborting' : '', c.learningRate ? `lr=${String(c.learningRate)}` : '', c.decision ? `decision=${String(c.decision)}#${String(c.decisionSeq)}` : '', c.phaseSteps && Object.keys(c.phaseSteps).length ? `steps=${JSON.stringify(c.phaseSteps)}` : ''].filter(Boolean);
        add(ev, 'signal', `control -> ${phase ?? 'run'}: ${flags.join(' ')}`, { detail: { signal: name, ...c } });
      } else {
        const reason = reasonOf(arg);
        add(ev, 'signal', `signal ${name}${reason ? `: reason "${reason}"` : ''}${a.identity ? ` by ${a.identity}` : ''}`, { detail: { signal: name, args: arg } });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ledger -> entries (pure)
// ---------------------------------------------------------------------------------------------

/** A checkpoint's `longrl-state.json`, with the file's modification time. */
export interface CheckpointRecord {
  readonly key: string;
  readonly version: number;
  readonly label?: string;
  readonly stepIds?: readonly string[];
  readonly at: string;
}

export function stepEntry(r: StepRecord): AuditEntry {
  const summary =
    `step ${r.globalStep} (${r.phase} #${r.step}): reward ${fmt(r.rewardMean)} acc ${fmt(r.accuracy)} len ${fmt(r.responseLengthMean, 1)} clip ${fmt(r.clipFraction)} ` +
    `loss ${fmt(r.loss, 4)} kept ${r.kept} filtered ${fmt(r.filteredFraction, 2)}${r.retroCount ? ` retro ${r.retroCount}` : ''}${r.genBatches > 1 ? ` genBatches ${r.genBatches}` : ''} -> v${r.version}`;
  return { at: r.recordedAt, source: 'ledger', workflowId: '', kind: 'step', phase: r.phase, step: r.globalStep, summary, detail: { ...r } };
}

export function eventEntry(e: EventRecord): AuditEntry {
  const d = e.detail ?? {};
  let summary: string;
  if (e.kind === 'phase.end') {
    const added = d.retroAddedThisPhase;
    summary = `phase ${e.phase ?? '?'} ${String(d.status ?? 'ended')} after ${String(d.steps ?? '?')} steps${d.rewinds ? `, ${String(d.rewinds)} rewinds` : ''}; retrospective buffer +${String(added ?? 0)} (now ${String(d.retroBuffer ?? '?')})`;
  } else if (e.kind.startsWith('operator.')) {
    summary = `operator ${e.kind.slice('operator.'.length)}${d.detail ? ` (${String(d.detail)})` : ''}: reason "${String(d.reason ?? '')}"`;
  } else {
    summary = `${e.kind}${Object.keys(d).length ? ` ${JSON.stringify(d).slice(0, 200)}` : ''}`;
  }
  return { at: e.recordedAt, source: 'ledger', workflowId: '', kind: e.kind, ...(e.phase !== undefined ? { phase: e.phase } : {}), ...(e.step !== undefined ? { step: e.step } : {}), summary, detail: { ...d } };
}

export function checkpointEntry(c: CheckpointRecord): AuditEntry {
  return {
    at: c.at,
    source: 'ledger',
    workflowId: '',
    kind: 'checkpoint',
    summary: `checkpoint v${c.version}${c.label ? ` (${c.label})` : ''}: ${c.stepIds?.length ?? 0} RL steps applied, ${c.key}`,
    detail: { key: c.key, version: c.version, label: c.label, steps: c.stepIds?.length ?? 0 },
  };
}

/** Merge and sort by time; equal times keep their input order (history before ledger). */
export function mergeTimeline(...lists: ReadonlyArray<readonly AuditEntry[]>): AuditEntry[] {
  const all = lists.flat().map((e, i) => ({ e, i, t: Date.parse(e.at) }));
  all.sort((a, b) => (a.t - b.t) || (a.i - b.i));
  return all.map((x) => x.e);
}

/** The human table: `TIME  SOURCE  PHASE  KIND  WHAT`, one line per entry. */
export function formatTimeline(entries: readonly AuditEntry[]): string {
  if (entries.length === 0) return '(no events)';
  const rows = entries.map((e) => [e.at.replace('T', ' ').replace('Z', ''), e.source, e.phase ?? '-', e.kind, e.summary]);
  const head = ['TIME (UTC)', 'SOURCE', 'PHASE', 'KIND', 'WHAT'];
  const widths = head.slice(0, 4).map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((v, c) => (c < 4 ? v.padEnd(widths[c]) : v)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// I/O: Temporal histories and the store
// ---------------------------------------------------------------------------------------------

/** The checkpoints still in the store (`runs/<id>/checkpoints/* /longrl-state.json`). */
export async function readCheckpointRecords(store: ArtifactStore, runId: string): Promise<CheckpointRecord[]> {
  const root = store.pathOf(`runs/${runId}/checkpoints`);
  let names: string[];
  try {
    names = (await fsp.readdir(root)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: CheckpointRecord[] = [];
  for (const n of names) {
    const file = path.join(root, n, 'longrl-state.json');
    try {
      const [text, st] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
      const s = JSON.parse(text) as { version?: number; label?: string; stepIds?: string[] };
      out.push({ key: `runs/${runId}/checkpoints/${n}`, version: s.version ?? NaN, label: s.label, stepIds: s.stepIds, at: st.mtime.toISOString() });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // a checkpoint being written or pruned
      throw err;
    }
  }
  return out;
}

interface RunHistory {
  readonly workflowId: string;
  readonly runId: string;
  readonly events: HistoryEvent[];
}

/**
 * Every run (execution) of one workflow id, oldest first: from the run given (or the
 * latest), back through `continuedExecutionRunId` and forward through `newExecutionRunId`.
 */
export async function executionChain(client: Client, workflowId: string, runId?: string): Promise<RunHistory[]> {
  const fetch = async (rid?: string): Promise<RunHistory> => {
    const h = client.workflow.getHandle(workflowId, rid);
    const hist = await h.fetchHistory();
    const events = (hist.events ?? []) as HistoryEvent[];
    const actualRunId = rid ?? (await h.describe()).runId;
    return { workflowId, runId: actualRunId, events };
  };
  const start = await fetch(runId);
  const chain = [start];
  const seen = new Set([start.runId]);
  for (let cur = start; ; ) {
    const prev = cur.events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    if (!prev || seen.has(prev)) break;
    seen.add(prev);
    cur = await fetch(prev);
    chain.unshift(cur);
  }
  for (let cur = start; ; ) {
    const next = cur.events[cur.events.length - 1]?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (!next || seen.has(next)) break;
    seen.add(next);
    cur = await fetch(next);
    chain.push(cur);
  }
  return chain;
}

/** Does this event close a workflow execution? */
export function isCloseEvent(ev: HistoryEvent): boolean {
  return Boolean(
    ev.workflowExecutionCompletedEventAttributes || ev.workflowExecutionFailedEventAttributes || ev.workflowExecutionTerminatedEventAttributes ||
    ev.workflowExecutionCanceledEventAttributes || ev.workflowExecutionTimedOutEventAttributes || ev.workflowExecutionContinuedAsNewEventAttributes,
  );
}

/** Child workflows started by these events, with the run id of their first execution. */
function childrenOf(events: readonly HistoryEvent[]): Array<{ workflowId: string; runId?: string }> {
  const out = new Map<string, string | undefined>();
  for (const ev of events) {
    const init = ev.startChildWorkflowExecutionInitiatedEventAttributes;
    if (init?.workflowId && !out.has(init.workflowId)) out.set(init.workflowId, undefined);
    const started = ev.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
    if (started?.workflowId) out.set(started.workflowId, started.runId ?? undefined);
  }
  return [...out].map(([workflowId, runId]) => ({ workflowId, runId }));
}

/** Pending activities of a running workflow that already failed at least once. */
async function pendingEntries(client: Client, runId: string, workflowId: string): Promise<AuditEntry[]> {
  const d = await client.workflow.getHandle(workflowId).describe();
  if (d.status.name !== 'RUNNING') return [];
  const phase = phaseOfWorkflowId(runId, workflowId);
  return (d.raw.pendingActivities ?? [])
    .filter((p) => num(p.attempt) > 1 || p.lastFailure)
    .map((p) => {
      const name = p.activityType?.name ?? 'activity';
      return {
        at: iso(p.lastStartedTime ?? p.lastAttemptCompleteTime ?? p.scheduledTime, Date.now()),
        source: 'pending' as const,
        workflowId,
        kind: 'activity.retrying',
        ...(phase !== undefined ? { phase } : {}),
        summary: `${name}: attempt ${num(p.attempt)} pending; last failure: ${failureText(p.lastFailure)}`,
        detail: { activity: name, attempt: num(p.attempt) },
      };
    });
}

/**
 * The run's whole timeline: histories of the run and of every child (across
 * continue-as-new), pending retried activities, and the ledger (steps, checkpoints, events).
 * Shapes: entries sorted by `at`.
 */
export async function buildAuditTimeline(client: Client, store: ArtifactStore, runId: string): Promise<AuditEntry[]> {
  const lists: AuditEntry[][] = [];
  const running: string[] = [];
  const visit = async (workflowId: string, firstRunId?: string) => {
    const chain = await executionChain(client, workflowId, firstRunId);
    for (const r of chain) lists.push(historyEntries({ runId, workflowId }, r.events));
    const last = chain[chain.length - 1].events;
    const closed = last.length > 0 && isCloseEvent(last[last.length - 1]);
    if (!closed) running.push(workflowId);
    for (const r of chain) for (const c of childrenOf(r.events)) await visit(c.workflowId, c.runId);
  };
  await visit(runId);
  for (const wid of running) lists.push(await pendingEntries(client, runId, wid).catch(() => []));
  const [steps, events, checkpoints] = await Promise.all([readStepRecords(store, runId), readEvents(store, runId), readCheckpointRecords(store, runId)]);
  lists.push(steps.map(stepEntry), events.map(eventEntry), checkpoints.map(checkpointEntry));
  return mergeTimeline(...lists);
}
