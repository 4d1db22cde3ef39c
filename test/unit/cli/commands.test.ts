/**
 * Argument handling of `longrl train`, `runs` and `eval`: run ids, links, visibility
 * queries, flags, pass@k summaries, and the one-line errors (exit 2) of the real command
 * for input that is wrong before any server is contacted.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evalSettings, summarizePassAtK, type EvalFlags } from '../../../cli/commands/eval';
import { formatRunTable, intFlag, listQuery, numberFlag, reasonFlag, runRow } from '../../../cli/commands/runs';
import { checkRunId, failureLine, makeRunId, timestampTag, uiLink } from '../../../cli/commands/train';
import { BIN, tempDir } from '../../support/env';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LONGRL_STORE: tempDir('cli-store') }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli commands: arguments', () => {
  it('makes run ids <name>-<yyyymmdd-HHMMSS UTC>-<hash6>', () => {
    const d = new Date(Date.UTC(2026, 0, 9, 7, 5, 3));
    assert.equal(timestampTag(d), '20260109-070503');
    assert.equal(makeRunId('quick', '25bef0750ae9', d), 'quick-20260109-070503-25bef0');
    const now = makeRunId('paper', 'abcdef123456', new Date());
    assert.match(now, /^paper-\d{8}-\d{6}-abcdef$/);
    assert.equal(checkRunId(now), now);
  });

  it('rejects run ids that cannot name a store folder', () => {
    for (const bad of ['', '-x', 'a/b', '../up', 'has space', 'x'.repeat(201)]) assert.throws(() => checkRunId(bad), /--run-id .*must be 1-200 characters/, bad);
  });

  it('links the Web UI page of a run', () => {
    assert.equal(uiLink('http://localhost:8233/', 'default', 'quick-1'), 'http://localhost:8233/namespaces/default/workflows/quick-1');
    assert.equal(uiLink('http://h:1', 'ns x', 'a#b'), 'http://h:1/namespaces/ns%20x/workflows/a%23b');
  });

  it('reports the innermost useful failure message on one line', () => {
    const err = { message: 'Workflow execution failed', cause: { message: 'run r failed in stage sft (sft): DataError:\n  bad line 3', cause: { message: 'deeper' } } };
    assert.equal(failureLine(err), 'run r failed in stage sft (sft): DataError: bad line 3');
    assert.equal(failureLine(new Error('plain')), 'plain');
  });

  it('builds the runs list visibility query, filtered by LongrlStatus', () => {
    assert.equal(listQuery(), "WorkflowType='TrainingRun'");
    assert.equal(listQuery('paused'), "WorkflowType='TrainingRun' AND LongrlStatus='paused'");
    assert.throws(() => listQuery("x' OR 1=1"), /--status .*must be one of starting, running, paused/);
  });

  it('checks numeric flags and reasons', () => {
    assert.equal(intFlag('12', 'steps'), 12);
    for (const bad of ['0', '1.5', 'x', '', '-3']) assert.throws(() => intFlag(bad, 'steps'), /--steps must be an integer >= 1/);
    assert.equal(intFlag('0', 'seed', 0), 0);
    assert.equal(numberFlag('3e-4', 'lr'), 3e-4);
    assert.throws(() => numberFlag('fast', 'lr'), /--lr must be a number/);
    assert.throws(() => reasonFlag('  '), /--reason must be a non-empty text/);
  });

  it('reads run rows from search attributes and prints a table', () => {
    const row = runRow({
      workflowId: 'quick-1', status: { code: 1, name: 'RUNNING' } as never, startTime: new Date('2026-01-01T00:00:00Z'), closeTime: undefined,
      searchAttributes: { LongrlStatus: ['paused'], LongrlPhase: ['short'], LongrlStep: [3], LongrlReward: [0.25], LongrlConfig: ['quick:abc'] },
    });
    assert.deepEqual({ s: row.status, p: row.phase, st: row.step, r: row.reward }, { s: 'paused', p: 'short', st: 3, r: 0.25 });
    const t = formatRunTable([row]).split('\n');
    assert.equal(t.length, 2);
    assert.match(t[1], /^quick-1 +paused +RUNNING +short +3 +0\.250 +2026-01-01 00:00:00 +quick:abc$/);
    assert.equal(formatRunTable([]), '(no runs)');
  });

  it('summarizes pass@1 and unbiased pass@k overall and per data source', () => {
    const s = summarizePassAtK([{ dataSource: 'a', n: 4, c: 1 }, { dataSource: 'a', n: 4, c: 0 }, { dataSource: 'b', n: 4, c: 4 }], 2);
    // pass@2 of (4, 1) = 1 - C(3,2)/C(4,2) = 0.5; pass@1 = c/n.
    assert.equal(s.bySource.a.n, 2);
    assert.ok(Math.abs(s.bySource.a.passAt1 - 0.125) < 1e-12);
    assert.ok(Math.abs(s.bySource.a.passAtK - 0.25) < 1e-12);
    assert.equal(s.bySource.b.passAtK, 1);
    assert.ok(Math.abs(s.overall.passAt1 - (0.25 + 0 + 1) / 3) < 1e-12);
  });

  it('checks eval flags and paths with one clear line each', () => {
    const dir = tempDir('eval-args');
    const data = path.join(dir, 'd.jsonl');
    fs.writeFileSync(data, '');
    const base: EvalFlags = { checkpoint: dir, data, k: '2', maxResponseTokens: '64', temperature: '0.7', topP: '0.95', seed: '1', defaultVerifier: 'docqa' };
    assert.throws(() => evalSettings(base), /--checkpoint .*not a longrl checkpoint \(no manifest\.json/);
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{}');
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{}');
    assert.equal(evalSettings(base).samples, 4, 'n defaults to max(k, 4)');
    assert.equal(evalSettings({ ...base, k: '6' }).samples, 6);
    assert.throws(() => evalSettings({ ...base, samples: '1' }), /--samples \(1\) must be >= -k \(2\)/);
    assert.throws(() => evalSettings({ ...base, data: path.join(dir, 'missing.jsonl') }), /--data .*missing\.jsonl: no such file/);
    assert.throws(() => evalSettings({ ...base, checkpoint: path.join(dir, 'nope') }), /--checkpoint .*nope: no such folder/);
    assert.throws(() => evalSettings({ ...base, topP: '0' }), /--top-p must be in \(0, 1\]/);
  });

  it('exits 2 with one readable message for bad input before any server is contacted', function () {
    this.timeout(60_000);
    const cfg = cli(['train', '--config', 'quick', '--set', 'rl.phases[0].steps=0']);
    assert.equal(cfg.code, 2);
    assert.match(cfg.stderr, /^longrl: invalid run config .*\n {2}rl\.phases\[0\]\.steps: must be >= 1/);
    const detach = cli(['train', '--config', 'quick', '--detach']);
    assert.equal(detach.code, 2);
    assert.match(detach.stderr, /^longrl: --detach needs workers that outlive this command/);
    assert.equal(detach.stderr.trim().split('\n').length, 1);
    const ev = cli(['eval', '--checkpoint', '/nonexistent/ckpt', '--data', 'x.jsonl']);
    assert.equal(ev.code, 2);
    assert.equal(ev.stderr, 'longrl: --checkpoint /nonexistent/ckpt: no such folder\n');
    const steps = cli(['runs', 'set-steps', 'r1', '--phase', 'long', '--steps', 'many', '--reason', 'x', '--address', '127.0.0.1:1']);
    assert.equal(steps.code, 2);
    assert.equal(steps.stderr, 'longrl: --steps must be an integer >= 1; got "many"\n');
    const unreachable = cli(['runs', 'list', '--address', '127.0.0.1:1']);
    assert.equal(unreachable.code, 2);
    assert.match(unreachable.stderr, /^longrl: cannot reach a Temporal server at 127\.0\.0\.1:1/);
  });
});
