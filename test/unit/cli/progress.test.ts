/** Progress formatting of `longrl train` / `runs show`: pure functions over RunProgress values. */
import { strict as assert } from 'node:assert';
import { barStates, formatDuration, formatEvals, formatProgressLine, formatRunSummary, plainDisplay, positionText, statusText } from '../../../cli/progress';
import type { RunProgress, StepMetrics } from '../../../workflows/contracts';

function progress(over: Partial<RunProgress> = {}): RunProgress {
  return {
    runId: 'quick-20260101-000000-abcdef', status: 'running', stage: 'config', phase: null, phaseIndex: -1, phaseCount: 2, step: 0, phaseSteps: 0,
    globalStep: 0, totalSteps: 24, sftStep: 0, sftSteps: 0, lastMetrics: null, learningRate: 1e-3, etaSeconds: null, blocked: null, evals: {},
    operatorActions: [], reportPath: null, error: null, ...over,
  };
}

function metrics(phase: string, step: number, reward: number, accuracy: number): StepMetrics {
  return { phase, step, globalStep: step, rewardMean: reward, accuracy, responseLengthMean: 30, clipFraction: 0.01, loss: 0.1, gradNorm: 1, kept: 4, filteredFraction: 0, retroCount: 0, genBatches: 1, wallMs: 1000 };
}

describe('cli/progress', () => {
  it('formats durations in s, m, h and unknown', () => {
    assert.equal(formatDuration(null), '-');
    assert.equal(formatDuration(-1), '-');
    assert.equal(formatDuration(42.4), '42s');
    assert.equal(formatDuration(185), '3m05s');
    assert.equal(formatDuration(3720), '1h02m');
  });

  it('states paused with the reason of the last pause and blocked with the error', () => {
    const paused = progress({ status: 'paused', operatorActions: [{ kind: 'pause', reason: 'first', at: 'a' }, { kind: 'resume', reason: 'go', at: 'b' }, { kind: 'pause', reason: 'look at reward', at: 'c' }] });
    assert.equal(statusText(paused), 'paused (look at reward)');
    const blocked = progress({ status: 'blocked', blocked: { phase: 'long', step: 3, error: 'JudgeUnavailable: connection refused', since: 'x' } });
    assert.equal(statusText(blocked), 'blocked at long step 3: JudgeUnavailable: connection refused');
    assert.equal(statusText(progress({ status: 'failed', error: 'boom' })), 'failed: boom');
  });

  it('positions SFT and RL steps with phase and global counters', () => {
    assert.equal(positionText(progress({ stage: 'sft', sftStep: 12, sftSteps: 300 })), 'sft 12/300');
    assert.equal(positionText(progress({ stage: 'rl', phase: 'long', phaseIndex: 1, step: 3, phaseSteps: 12, globalStep: 15 })), 'rl long 3/12 (phase 2/2, global 15/24)');
  });

  it('writes a plain line with metrics and ETA, without ETA once the run ended', () => {
    const p = progress({ stage: 'rl', phase: 'short', phaseIndex: 0, step: 2, phaseSteps: 12, lastMetrics: metrics('short', 1, 0.41, 0.375), etaSeconds: 130 });
    const line = formatProgressLine(p, 83);
    assert.match(line, /^\[1m23s\] running \| rl short 2\/12 .* reward 0\.410 acc 0\.375 len 30\.0 \| eta 2m10s$/);
    assert.doesNotMatch(formatProgressLine({ ...p, status: 'completed', stage: 'done' }, 90), /eta/);
  });

  it('keeps one bar per stage: SFT completes when RL starts, an earlier phase completes when the next one starts', () => {
    let bars = barStates(progress({ stage: 'sft', sftStep: 5, sftSteps: 20, etaSeconds: 60 }));
    assert.deepEqual([...bars.keys()], ['sft']);
    assert.equal(bars.get('sft')!.value, 5);
    assert.equal(bars.get('sft')!.total, 20);
    bars = barStates(progress({ stage: 'rl', phase: 'short', phaseIndex: 0, step: 3, phaseSteps: 12, sftStep: 20, sftSteps: 20, lastMetrics: metrics('short', 2, 0.5, 0.25) }), bars);
    assert.equal(bars.get('sft')!.value, 20);
    assert.equal(bars.get('sft')!.info, 'done');
    assert.match(bars.get('short')!.info, /reward 0\.500 acc 0\.250/);
    bars = barStates(progress({ stage: 'rl', phase: 'long', phaseIndex: 1, step: 0, phaseSteps: 12, sftSteps: 20, sftStep: 20, status: 'paused', operatorActions: [{ kind: 'pause', reason: 'why', at: 't' }] }), bars);
    assert.deepEqual([...bars.keys()], ['sft', 'short', 'long']);
    assert.equal(bars.get('short')!.value, 12, 'the finished phase is full');
    assert.match(bars.get('long')!.info, /paused \(why\)/);
  });

  it('prints plain lines every interval and on each status change only', () => {
    let t = 0;
    const lines: string[] = [];
    const d = plainDisplay((l) => lines.push(l), 10_000, () => t);
    const p = progress({ stage: 'sft', sftStep: 1, sftSteps: 10 });
    d.update(p);
    t = 3000;
    d.update({ ...p, sftStep: 2 });
    assert.equal(lines.length, 1);
    t = 4000;
    d.update({ ...p, status: 'paused' });
    assert.equal(lines.length, 2, 'a status change prints at once');
    t = 15_000;
    d.update({ ...p, status: 'paused', sftStep: 3 });
    assert.equal(lines.length, 3);
    assert.match(lines[2], /^\[15s\] paused/);
  });

  it('formats evaluations per length bucket and a readable summary', () => {
    const lines = formatEvals([
      { stage: 'sft', k: 2, passAt1: 0.25, passAtK: 0.4, perBucket: { '0-256': { n: 4, passAt1: 0.5, passAtK: 0.75 }, '256-512': { n: 4, passAt1: 0, passAtK: 0.05 } } },
      { stage: 'final', k: 2, passAt1: 0.3, passAtK: 0.5, perBucket: {} },
    ]);
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^eval after SFT: pass@1 0\.250 pass@2 0\.400 \| 0-256 \(n=4\) pass@1 0\.500 pass@2 0\.750; 256-512 \(n=4\) pass@1 0\.000 pass@2 0\.050$/);
    assert.match(lines[1], /^eval final: pass@1 0\.300 pass@2 0\.500$/);
    const s = formatRunSummary(progress({ status: 'paused', stage: 'rl', phase: 'short', phaseIndex: 0, step: 1, phaseSteps: 4, operatorActions: [{ kind: 'pause', reason: 'check', at: '2026-01-01T00:00:00Z' }], evals: { sft: { passAt1: 0.1, passAtK: 0.2, k: 2 } } }));
    assert.match(s, /status +paused \(check\)/);
    assert.match(s, /operator +2026-01-01T00:00:00Z pause: check/);
    assert.match(s, /eval +sft: pass@1 0\.100 pass@2 0\.200/);
  });
});
