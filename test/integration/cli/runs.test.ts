/**
 * `longrl train` / `runs` / `runs audit` against the real dev server (LONGRL_TEST_ADDRESS)
 * with the three workers as separate processes and a temp artifact store: a tiny run is
 * launched attached (plain progress lines, evals, `report:` last line), paused, inspected,
 * listed by status, refused a second pause with the validator's message, resumed and
 * completed; its audit shows the operator action with its reason beside phases, steps and
 * checkpoints. A second run is aborted; a third gets an invalid config (as from the UI) and
 * its failure appears in the audit.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from '@temporalio/client';
import type { AuditEntry } from '../../../infra/audit';
import { connectClient, TASK_QUEUES } from '../../../infra/temporal/connection';
import type { RunProgress } from '../../../workflows/contracts';
import { eventually, longrl, stopProcs, tempDir, testTarget, type Proc } from '../../support/env';

const TINY = [
  'data.sftItems=16', 'sft.epochs=1', 'data.trainItems=16', 'data.heldoutItems=4', 'rl.trainBatchSize=4', 'rl.miniBatchSize=2', 'rl.phases[0].steps=1', 'rl.phases[1].steps=1',
  'eval.samplesPerItem=2', 'sampling.maxResponseTokens=48',
];

async function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const p = longrl(args);
  const code = await p.exited();
  return { code, out: p.output() };
}

describe('longrl train / runs (real dev server, worker processes)', function () {
  this.timeout(180_000);
  const store = tempDir('cli-store');
  const outDir = tempDir('cli-runs');
  const stamp = Date.now().toString(36);
  let address: string;
  let workers: Proc[] = [];
  const A = () => ['--address', address];
  const setArgs = () => [...TINY, `run.outputDir=${outDir}`].flatMap((s) => ['--set', s]);

  before(async () => {
    address = testTarget().address;
    workers = ['orchestrator', 'compute', 'judge'].map((k) => longrl(['worker', k, '--address', address, '--store', store]));
    await Promise.all(workers.map((w) => w.waitFor(/worker polling/, 120_000)));
  });

  after(async () => {
    // A compute worker whose engine thread holds a policy may not exit on SIGTERM (see the report); do not leak it.
    await stopProcs(workers, 15_000);
  });

  it('runs a tiny run attached, paused / shown / listed / resumed by reasoned Updates, ending with the report line; the audit shows the pause and its reason', async () => {
    const id = `cli-steer-${stamp}`;
    const train = longrl(['train', '--config', 'quick', ...setArgs(), ...A(), '--run-id', id]);
    await train.waitFor(new RegExp(`run id: ${id}`), 30_000);

    const pause = await run(['runs', 'pause', id, '--reason', 'inspect the SFT loss', ...A()]);
    assert.equal(pause.code, 0, pause.out);
    assert.match(pause.out, /pause accepted: run .* is paused/);

    const show = await run(['runs', 'show', id, '--json', ...A()]);
    assert.equal(show.code, 0, show.out);
    const p = JSON.parse(show.out) as RunProgress;
    assert.equal(p.status, 'paused');
    assert.equal(p.operatorActions.at(-1)?.reason, 'inspect the SFT loss');

    const human = await run(['runs', 'show', id, ...A()]);
    assert.match(human.out, /status +paused \(inspect the SFT loss\)/);

    const list = await eventually(async () => {
      const l = await run(['runs', 'list', '--status', 'paused', '--json', ...A()]);
      return l.out.split('\n').filter(Boolean).some((line) => (JSON.parse(line) as { id: string }).id === id) ? l : undefined;
    }, 30_000, 'the run in `runs list --status paused`');
    assert.equal(list.code, 0);

    const again = await run(['runs', 'pause', id, '--reason', 'twice', ...A()]);
    assert.equal(again.code, 2);
    assert.equal(again.out.trim(), 'longrl: pause rejected: cannot pause a run that is paused');

    const noReason = await run(['runs', 'resume', id, '--reason', ' ', ...A()]);
    assert.equal(noReason.code, 2);

    const resume = await run(['runs', 'resume', id, '--reason', 'loss is fine', ...A()]);
    assert.equal(resume.code, 0, resume.out);

    const code = await train.exited();
    const lines = train.output().trim().split('\n');
    assert.equal(code, 0, train.output());
    assert.ok(lines.some((l) => /\] paused \(inspect the SFT loss\)/.test(l)), `a plain progress line shows the pause:\n${train.output()}`);
    assert.ok(lines.some((l) => /^eval after SFT: pass@1 \d\.\d{3} pass@2 \d\.\d{3} \| /.test(l)));
    assert.ok(lines.some((l) => /^eval final: pass@1 /.test(l)));
    const last = lines[lines.length - 1];
    assert.match(last, /^report: \/.*report\.md$/);
    assert.ok(fs.existsSync(last.slice('report: '.length)), 'the report exists');
    assert.equal(path.dirname(last.slice('report: '.length)), path.join(outDir, id));

    const completed = await run(['runs', 'list', '--status', 'completed', ...A()]);
    assert.match(completed.out, new RegExp(`^${id} +completed +COMPLETED`, 'm'));

    const audit = await run(['runs', 'audit', id, '--json', '--store', store, ...A()]);
    assert.equal(audit.code, 0, audit.out);
    const entries = JSON.parse(audit.out) as AuditEntry[];
    for (let i = 1; i < entries.length; i++) assert.ok(entries[i - 1].at <= entries[i].at, 'sorted by time');
    const update = entries.find((e) => e.kind === 'update' && e.detail?.update === 'pause');
    assert.equal(update?.detail?.reason, 'inspect the SFT loss');
    assert.ok(entries.some((e) => e.kind === 'update' && e.detail?.update === 'resume' && e.detail.reason === 'loss is fine'));
    assert.ok(entries.some((e) => e.kind === 'operator.pause' && e.source === 'ledger' && /reason "inspect the SFT loss"/.test(e.summary)));
    assert.deepEqual(entries.filter((e) => e.kind === 'phase.started').map((e) => e.phase), ['sft', 'short', 'long']);
    assert.equal(entries.filter((e) => e.kind === 'step').length, 2, 'one ledger entry per RL step');
    assert.ok(entries.some((e) => e.kind === 'checkpoint'));
    assert.ok(entries.some((e) => e.kind === 'phase.end' && /retrospective buffer \+\d+/.test(e.summary)));
    assert.equal(entries.at(-1)?.kind, 'run.completed');

    const table = await run(['runs', 'audit', id, '--store', store, ...A()]);
    assert.match(table.out, /update pause: reason "inspect the SFT loss"/);
  });

  it('aborts a detached run with a reason', async () => {
    const id = `cli-abort-${stamp}`;
    const start = await run(['train', '--config', 'quick', ...setArgs(), ...A(), '--run-id', id, '--detach']);
    assert.equal(start.code, 0, start.out);
    assert.match(start.out, new RegExp(`run id: ${id}\\n`));
    const abort = await run(['runs', 'abort', id, '--reason', 'wrong data mix', ...A()]);
    assert.equal(abort.code, 0, abort.out);
    const p = await eventually(async () => {
      const s = await run(['runs', 'show', id, '--json', ...A()]);
      const v = JSON.parse(s.out) as RunProgress;
      return v.status === 'aborted' ? v : undefined;
    }, 60_000, 'status aborted');
    assert.equal(p.operatorActions.find((a) => a.kind === 'abort')?.reason, 'wrong data mix');
    const again = await run(['runs', 'resume', id, '--reason', 'no', ...A()]);
    assert.equal(again.code, 2);
    assert.match(again.out, /^longrl: resume rejected: /);
    assert.equal(again.out.trim().split('\n').length, 1);
  });

  it('shows an injected failure (an invalid config sent like the UI would) in the audit', async () => {
    const id = `cli-bad-input-${stamp}`;
    const connection = await connectClient(testTarget());
    try {
      const client = new Client({ connection });
      const h = await client.workflow.start('TrainingRun', { taskQueue: TASK_QUEUES.orchestrator, workflowId: id, args: [{ config: { rl: { phases: 'not a list' } }, configSource: 'ui' }] });
      await assert.rejects(h.result());
    } finally {
      await connection.close();
    }
    const audit = await run(['runs', 'audit', id, '--json', '--store', store, ...A()]);
    assert.equal(audit.code, 0, audit.out);
    const entries = JSON.parse(audit.out) as AuditEntry[];
    const failed = entries.find((e) => e.kind === 'run.failed');
    assert.ok(failed, audit.out);
    assert.match(failed.summary, /invalid run config \(config from ui\): .*rl\.phases/);
    assert.ok(entries.some((e) => e.kind === 'activity.failed' && /resolveRunConfig failed/.test(e.summary)), audit.out);
  });
});
