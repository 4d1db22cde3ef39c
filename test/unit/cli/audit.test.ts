/**
 * The audit timeline (infra/audit.ts) from hand-made Temporal history events and ledger
 * records: phases, continue-as-new, activity failures and retries, Updates with reasons,
 * signals, steps, checkpoints and phase ends, merged by time.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { EventRecord, StepRecord } from '../../../activities/ledger';
import {
  checkpointEntry, eventEntry, failureText, formatTimeline, historyEntries, isCloseEvent, mergeTimeline, phaseOfWorkflowId, readCheckpointRecords, stepEntry, timestampMs,
} from '../../../infra/audit';
import { ArtifactStore } from '../../../infra/store/artifacts';
import { tempDir } from '../../support/env';

type Ev = temporal.api.history.v1.IHistoryEvent;
const RUN = 'quick-20260101-000000-abcdef';
const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (s: number) => ({ seconds: T0 / 1000 + Math.floor(s), nanos: Math.round((s % 1) * 1e9) });
const payloads = (v: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(v)] });
let nextId = 1;
const ev = (s: number, attrs: Record<string, unknown>): Ev => ({ eventId: nextId++, eventTime: at(s), ...attrs }) as unknown as Ev;

function parentHistory(): Ev[] {
  nextId = 1;
  return [
    ev(0, { workflowExecutionStartedEventAttributes: { workflowType: { name: 'TrainingRun' }, taskQueue: { name: 'longrl-orchestrator' } } }),
    ev(1, { activityTaskScheduledEventAttributes: { activityType: { name: 'prepareData' } } }), // id 2
    ev(5, { activityTaskStartedEventAttributes: { scheduledEventId: 2, attempt: 3, lastFailure: { message: 'activity Heartbeat timeout', timeoutFailureInfo: { timeoutType: 4 } } } }),
    ev(6, { startChildWorkflowExecutionInitiatedEventAttributes: { workflowId: `${RUN}--short` } }), // id 4
    ev(6.5, { childWorkflowExecutionStartedEventAttributes: { initiatedEventId: 4, workflowExecution: { workflowId: `${RUN}--short`, runId: 'r1' }, workflowType: { name: 'RlPhase' } } }),
    ev(8, { workflowExecutionUpdateAcceptedEventAttributes: { protocolInstanceId: 'u1', acceptedRequest: { meta: { updateId: 'u1', identity: 'ops@host' }, input: { name: 'pause', args: payloads({ reason: 'reward looks flat' }) } } } }),
    ev(9, { workflowExecutionUpdateAcceptedEventAttributes: { protocolInstanceId: 'u2', acceptedRequest: { meta: { updateId: 'u2' }, input: { name: 'setPhaseSteps', args: payloads({ reason: 'more steps', phase: 'long', steps: 30 }) } } } }),
    ev(10, { workflowExecutionSignaledEventAttributes: { signalName: 'childReport', input: payloads({ phase: 'short', step: 2, steps: 4, status: 'running' }) } }),
    ev(11, { workflowExecutionSignaledEventAttributes: { signalName: 'childReport', input: payloads({ phase: 'short', step: 2, steps: 4, status: 'blocked', blocked: { phase: 'short', step: 2, error: 'JudgeUnavailable: refused', since: 'x' } }) } }),
    ev(20, { childWorkflowExecutionCompletedEventAttributes: { workflowExecution: { workflowId: `${RUN}--short` }, result: payloads({ status: 'completed', steps: 4, retroAdded: 3 }) } }),
    ev(21, { activityTaskScheduledEventAttributes: { activityType: { name: 'writeReport' } } }), // id 11
    ev(22, { activityTaskFailedEventAttributes: { scheduledEventId: 11, failure: { message: 'Activity task failed', cause: { message: 'disk full while writing report.md', applicationFailureInfo: { type: 'DiskFullError' } } } } }),
    ev(23, { workflowExecutionFailedEventAttributes: { failure: { message: 'run failed in stage report', applicationFailureInfo: { type: 'RunFailed' } } } }),
  ];
}

function childHistory(): Ev[] {
  nextId = 1;
  return [
    ev(6.6, { workflowExecutionStartedEventAttributes: { workflowType: { name: 'RlPhase' }, taskQueue: { name: 'longrl-orchestrator' } } }),
    ev(8.1, { workflowExecutionSignaledEventAttributes: { signalName: 'control', input: payloads({ paused: true, aborting: false, learningRate: null, phaseSteps: {}, decisionSeq: 0, decision: null }) } }),
    ev(15, { workflowExecutionContinuedAsNewEventAttributes: { newExecutionRunId: 'r2' } }),
  ];
}

const step = (globalStep: number, phase: string, s: number, recordedAt: string): StepRecord => ({
  phase, step: s, globalStep, rewardMean: 0.5, accuracy: 0.25, responseLengthMean: 31.5, clipFraction: 0.02, loss: 0.0123, gradNorm: 1, kept: 4, filteredFraction: 0.5,
  retroCount: 1, genBatches: 2, wallMs: 900, stepId: `${RUN}/${phase}/${s}`, version: 10 + globalStep, optimizerSteps: 2, recordedAt,
});

describe('infra/audit', () => {
  it('decodes timestamps (number or Long seconds), failures and phase names', () => {
    assert.equal(timestampMs({ seconds: 10, nanos: 5e6 }), 10_005);
    assert.equal(timestampMs({ seconds: { toNumber: () => 2 }, nanos: 0 }), 2000);
    assert.equal(timestampMs(null), undefined);
    assert.equal(failureText({ message: 'outer', cause: { message: 'inner', applicationFailureInfo: { type: 'JudgeUnavailable' } } }), 'outer <- JudgeUnavailable: inner');
    assert.equal(failureText({ message: 'hb', timeoutFailureInfo: { timeoutType: 4 } }), 'Timeout(heartbeat): hb');
    assert.equal(phaseOfWorkflowId(RUN, `${RUN}--long`), 'long');
    assert.equal(phaseOfWorkflowId(RUN, RUN), undefined);
    assert.equal(isCloseEvent(childHistory()[2]), true);
    assert.equal(isCloseEvent(childHistory()[1]), false);
  });

  it('turns the run history into phases, retries, failures, updates with reasons and non-routine signals', () => {
    const entries = historyEntries({ runId: RUN, workflowId: RUN }, parentHistory());
    const kinds = entries.map((e) => e.kind);
    assert.deepEqual(kinds, ['run.started', 'activity.retried', 'phase.started', 'update', 'update', 'signal', 'phase.completed', 'activity.failed', 'run.failed']);
    const retried = entries[1];
    assert.match(retried.summary, /^prepareData: attempt 3 after 2 failed attempt\(s\); last failure: Timeout\(heartbeat\): activity Heartbeat timeout$/);
    assert.equal(retried.at, '2026-01-01T00:00:05.000Z');
    assert.equal(entries[2].phase, 'short');
    assert.match(entries[3].summary, /update pause: reason "reward looks flat" by ops@host/);
    assert.equal(entries[3].detail?.reason, 'reward looks flat');
    assert.match(entries[4].summary, /update setPhaseSteps \(phase=long steps=30\): reason "more steps"/);
    assert.match(entries[5].summary, /childReport from short: blocked \(JudgeUnavailable: refused\)/, 'a running childReport is not an entry, a blocked one is');
    assert.match(entries[6].summary, /short ended: completed, 4 steps, retrospective \+3/);
    assert.match(entries[7].summary, /writeReport failed: Activity task failed <- DiskFullError: disk full while writing report\.md/);
    assert.equal(entries[6].at, '2026-01-01T00:00:20.000Z');
  });

  it('keeps continue-as-new and control signals of a child, not its own start', () => {
    const entries = historyEntries({ runId: RUN, workflowId: `${RUN}--short` }, childHistory());
    assert.deepEqual(entries.map((e) => e.kind), ['signal', 'continue-as-new']);
    assert.ok(entries.every((e) => e.phase === 'short'));
    assert.match(entries[0].summary, /control -> short: paused/);
    assert.match(entries[1].summary, /continued as new \(run r2\)/);
  });

  it('merges history and ledger by time, ties in input order, and prints one row per entry', () => {
    const hist = [...historyEntries({ runId: RUN, workflowId: RUN }, parentHistory()), ...historyEntries({ runId: RUN, workflowId: `${RUN}--short` }, childHistory())];
    const ledger = [
      stepEntry(step(0, 'short', 0, '2026-01-01T00:00:07.000Z')),
      stepEntry(step(1, 'short', 1, '2026-01-01T00:00:12.000Z')),
      eventEntry({ runId: RUN, kind: 'operator.pause', phase: 'short', step: 1, detail: { reason: 'reward looks flat' }, id: 'operator-1', recordedAt: '2026-01-01T00:00:08.050Z' } satisfies EventRecord),
      eventEntry({ runId: RUN, kind: 'phase.end', phase: 'short', step: 4, detail: { status: 'completed', steps: 4, rewinds: 0, retroBuffer: 3, retroAddedThisPhase: 3 }, id: 'phase-end-short', recordedAt: '2026-01-01T00:00:20.000Z' }),
      checkpointEntry({ key: `runs/${RUN}/checkpoints/v000012`, version: 12, label: 'short-4', stepIds: ['a', 'b'], at: '2026-01-01T00:00:19.000Z' }),
    ];
    const merged = mergeTimeline(hist, ledger);
    assert.equal(merged.length, hist.length + ledger.length);
    for (let i = 1; i < merged.length; i++) assert.ok(Date.parse(merged[i - 1].at) <= Date.parse(merged[i].at), `entry ${i} is out of order`);
    const tie = merged.filter((e) => e.at === '2026-01-01T00:00:20.000Z').map((e) => e.kind);
    assert.deepEqual(tie, ['phase.completed', 'phase.end'], 'equal times keep history before ledger');
    const op = merged.find((e) => e.kind === 'operator.pause')!;
    assert.equal(op.summary, 'operator pause: reason "reward looks flat"');
    assert.match(merged.find((e) => e.kind === 'phase.end')!.summary, /retrospective buffer \+3 \(now 3\)/);
    assert.match(merged.find((e) => e.kind === 'checkpoint')!.summary, /checkpoint v12 \(short-4\): 2 RL steps applied/);
    assert.match(merged.find((e) => e.kind === 'step')!.summary, /^step 0 \(short #0\): reward 0\.500 acc 0\.250 len 31\.5 .* retro 1 genBatches 2 -> v10$/);
    const table = formatTimeline(merged).split('\n');
    assert.equal(table.length, merged.length + 1);
    assert.match(table[0], /^TIME \(UTC\) +SOURCE +PHASE +KIND +WHAT$/);
    assert.ok(table.some((l) => /ledger +short +operator\.pause +operator pause: reason "reward looks flat"/.test(l)));
    assert.equal(formatTimeline([]), '(no events)');
  });

  it('reads checkpoints from the store, skipping folders without longrl-state.json', async () => {
    const root = tempDir('audit');
    const store = new ArtifactStore(root);
    assert.deepEqual(await readCheckpointRecords(store, RUN), []);
    await store.putJson(`runs/${RUN}/checkpoints/v000004/longrl-state.json`, { runId: RUN, version: 4, label: 'short-2', stepIds: ['x', 'y'] });
    fs.mkdirSync(path.join(root, 'runs', RUN, 'checkpoints', 'v000008'), { recursive: true });
    const cks = await readCheckpointRecords(store, RUN);
    assert.equal(cks.length, 1);
    assert.equal(cks[0].version, 4);
    assert.equal(cks[0].label, 'short-2');
    assert.equal(cks[0].key, `runs/${RUN}/checkpoints/v000004`);
    assert.ok(Math.abs(Date.parse(cks[0].at) - Date.now()) < 60_000);
  });
});
