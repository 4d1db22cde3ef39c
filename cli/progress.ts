/**
 * How `longrl train` and `longrl runs show` display a run's `progress` Query (RunProgress,
 * workflows/contracts.ts): pure formatting functions (tested), a `cli-progress` multibar
 * (one bar for SFT and one per curriculum phase) for terminals, and one plain line every
 * ~10 s when stdout is not a TTY (CI, tests, pipes).
 */
import * as cliProgress from 'cli-progress';
import type { StageEval } from '../activities/types';
import type { RunProgress } from '../workflows/contracts';

/** `1h02m`, `3m05s`, `42s`; `-` when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const num = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

/** Has the run ended (completed, failed, aborted)? */
export function isTerminal(p: Pick<RunProgress, 'status'>): boolean {
  return p.status === 'completed' || p.status === 'failed' || p.status === 'aborted';
}

/** `paused`, `blocked: <error> (since ...)`, or the status itself. */
export function statusText(p: RunProgress): string {
  if (p.status === 'blocked' && p.blocked) return `blocked at ${p.blocked.phase} step ${p.blocked.step}: ${p.blocked.error}`;
  if (p.status === 'paused') {
    const last = [...p.operatorActions].reverse().find((a) => a.kind === 'pause');
    return last ? `paused (${last.reason})` : 'paused';
  }
  if (p.status === 'failed' && p.error) return `failed: ${p.error}`;
  return p.status;
}

/** Where the run is: `sft 12/300`, `rl long 3/12 (global 15/24)`, `eval-final`. */
export function positionText(p: RunProgress): string {
  if (p.stage === 'sft') return `sft ${p.sftStep}/${p.sftSteps || '?'}`;
  if (p.stage === 'rl') return `rl ${p.phase ?? '?'} ${p.step}/${p.phaseSteps} (phase ${p.phaseIndex + 1}/${p.phaseCount}, global ${p.globalStep}/${p.totalSteps})`;
  return p.stage;
}

/** One plain progress line (non-TTY output). */
export function formatProgressLine(p: RunProgress, elapsedSeconds: number): string {
  const m = p.lastMetrics;
  const metrics = m ? ` reward ${num(m.rewardMean)} acc ${num(m.accuracy)} len ${num(m.responseLengthMean, 1)}` : '';
  return `[${formatDuration(elapsedSeconds)}] ${statusText(p)} | ${positionText(p)}${metrics}${isTerminal(p) ? '' : ` | eta ${formatDuration(p.etaSeconds)}`}`;
}

/** The payload of one bar: what the bar's `{info}` token shows. */
export interface BarState {
  readonly name: string;
  readonly value: number;
  readonly total: number;
  readonly info: string;
}

/**
 * The bars of a run: SFT (when the run has SFT steps or is in SFT) and each curriculum
 * phase seen so far (earlier phases complete, the current one at its step). Phase names
 * other than the current one are not in RunProgress, so future phases appear when reached.
 */
export function barStates(p: RunProgress, seen: Map<string, BarState> = new Map()): Map<string, BarState> {
  const out = new Map(seen);
  const state = statusText(p);
  const m = p.lastMetrics;
  const active = (extra: string) => `${extra}${extra ? ' ' : ''}eta ${formatDuration(p.etaSeconds)} ${state}`;
  if (p.sftSteps > 0 || p.stage === 'sft') {
    const done = p.stage !== 'sft' && p.stage !== 'config' && p.stage !== 'data';
    const total = Math.max(1, p.sftSteps);
    out.set('sft', { name: 'sft', value: done ? total : p.sftStep, total, info: done ? 'done' : active('') });
  }
  if (p.stage === 'rl' && p.phase) {
    for (const [k, b] of out) if (k !== 'sft' && k !== p.phase && b.value < b.total && !b.info.startsWith('done')) out.set(k, { ...b, value: b.total, info: 'done' });
    const metrics = m && m.phase === p.phase ? `reward ${num(m.rewardMean)} acc ${num(m.accuracy)}` : '';
    out.set(p.phase, { name: p.phase, value: p.step, total: Math.max(1, p.phaseSteps), info: active(metrics) });
  } else if (p.stage === 'eval-final' || p.stage === 'report' || p.stage === 'done') {
    for (const [k, b] of out) if (k !== 'sft' && !b.info.startsWith('done')) out.set(k, { ...b, info: `done${b.value < b.total ? ` at ${b.value}/${b.total}` : ''}` });
  }
  return out;
}

/** pass@1 / pass@k after SFT and final, overall and per length bucket. */
export function formatEvals(evals: readonly StageEval[]): string[] {
  const lines: string[] = [];
  for (const e of evals) {
    const buckets = Object.entries(e.perBucket)
      .map(([b, v]) => `${b} (n=${v.n}) pass@1 ${num(v.passAt1)} pass@${e.k} ${num(v.passAtK)}`)
      .join('; ');
    lines.push(`eval ${e.stage === 'sft' ? 'after SFT' : e.stage}: pass@1 ${num(e.passAt1)} pass@${e.k} ${num(e.passAtK)}${buckets ? ` | ${buckets}` : ''}`);
  }
  return lines;
}

/** `runs show`: a readable multi-line summary of a progress Query. */
export function formatRunSummary(p: RunProgress): string {
  const lines = [
    `run        ${p.runId}`,
    `status     ${statusText(p)}`,
    `stage      ${positionText(p)}`,
  ];
  if (p.sftSteps > 0) lines.push(`sft        ${p.sftStep}/${p.sftSteps} steps`);
  if (p.phaseCount > 0) lines.push(`rl         global step ${p.globalStep}/${p.totalSteps}${p.phase && p.stage === 'rl' ? `, phase ${p.phase} step ${p.step}/${p.phaseSteps}` : ''}`);
  const m = p.lastMetrics;
  if (m) {
    lines.push(
      `last step  ${m.phase} #${m.step} (global ${m.globalStep}): reward ${num(m.rewardMean)} acc ${num(m.accuracy)} len ${num(m.responseLengthMean, 1)} clip ${num(m.clipFraction)} loss ${num(m.loss, 4)} kept ${m.kept} retro ${m.retroCount}`,
    );
  }
  if (p.learningRate !== null) lines.push(`lr         ${p.learningRate}`);
  if (!isTerminal(p)) lines.push(`eta        ${formatDuration(p.etaSeconds)}`);
  for (const [stage, e] of Object.entries(p.evals)) lines.push(`eval       ${stage}: pass@1 ${num(e.passAt1)} pass@${e.k} ${num(e.passAtK)}`);
  for (const a of p.operatorActions) lines.push(`operator   ${a.at} ${a.kind}${a.detail ? ` (${a.detail})` : ''}: ${a.reason}`);
  if (p.error) lines.push(`error      ${p.error}`);
  if (p.reportPath) lines.push(`report     ${p.reportPath}`);
  return lines.join('\n');
}

/** Live display of a run's progress (bars on a TTY, plain lines otherwise). */
export interface ProgressDisplay {
  update(p: RunProgress): void;
  /** Print a line above the bars (or plainly). */
  log(line: string): void;
  stop(): void;
}

/** Plain lines: one every `everyMs` and one on each status/stage change. */
export function plainDisplay(write: (line: string) => void, everyMs = 10_000, now: () => number = Date.now): ProgressDisplay {
  const t0 = now();
  let last = -Infinity;
  let key = '';
  return {
    update(p) {
      const k = `${p.status}|${p.stage}|${p.phase ?? ''}`;
      const t = now();
      if (k !== key || t - last >= everyMs) {
        key = k;
        last = t;
        write(formatProgressLine(p, (t - t0) / 1000));
      }
    },
    log: write,
    stop: () => undefined,
  };
}

/** A `cli-progress` multibar on `stream` (a TTY). */
export function barDisplay(stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  const multi = new cliProgress.MultiBar(
    { format: ' {name} |{bar}| {value}/{total} {info}', hideCursor: true, clearOnComplete: false, stopOnComplete: false, autopadding: true, stream, barsize: 30, forceRedraw: true },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  let states = new Map<string, BarState>();
  const pad = (s: string) => s.padEnd(8);
  return {
    update(p) {
      states = barStates(p, states);
      for (const [k, s] of states) {
        const payload = { name: pad(s.name), info: s.info };
        let bar = bars.get(k);
        if (!bar) {
          bar = multi.create(s.total, s.value, payload);
          bars.set(k, bar);
        } else {
          if (bar.getTotal() !== s.total) bar.setTotal(s.total);
          bar.update(s.value, payload);
        }
      }
    },
    log(line) {
      multi.log(`${line}\n`);
    },
    stop() {
      multi.stop();
    },
  };
}
