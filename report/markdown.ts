/**
 * `report.md` of a run: headline numbers, held-out accuracy per stage and length bucket,
 * per-phase training summary, the plots, and the per-step ledger. Pure.
 */
import type { RunSummaryJson } from './summary';
import type { StepMetrics } from './types';

/** A plot as linked from the report: name, title and path relative to the report. */
export interface ReportPlotLink {
  readonly name: string;
  readonly title: string;
  readonly file: string;
}

/** `0.3125` -> `31.3%`; null -> `n/a`. */
export function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : `${(v * 100).toFixed(1)}%`;
}

/** A number with a few significant digits; null -> `n/a`. */
export function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined) return 'n/a';
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(digits)).toString();
}

/** `512.3` -> `8m 32s`. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h ${m}m ${r}s` : m > 0 ? `${m}m ${r}s` : `${r}s`;
}

/** Escape text for a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

/** Render `report.md`. `ledger` must be sorted by global step. */
export function renderReportMarkdown(summary: RunSummaryJson, ledger: readonly StepMetrics[], plots: readonly ReportPlotLink[], notes: readonly string[] = []): string {
  const out: string[] = [];
  const s = summary;
  out.push(`# longrl run ${s.run_id}`, '');
  out.push(`- status: **${s.status}**`);
  out.push(`- wall time: ${duration(s.wall_seconds)} (${num(s.wall_seconds, 6)} s)`);
  if (s.config_hash) out.push(`- config: \`${s.config_hash}\`${s.config_source ? ` (${s.config_source})` : ''}, resolved config stored beside this report`);
  if (s.started_at) out.push(`- started: ${s.started_at}${s.finished_at ? `, finished: ${s.finished_at}` : ''}`);
  out.push(`- optimizer steps: ${s.optimizer_steps} (SFT ${s.optimizer_steps_by_stage.sft}, RL ${s.optimizer_steps_by_stage.rl}); RL steps: ${s.rl_steps}`);
  out.push('');

  out.push('## Held-out accuracy', '');
  const gain = s.rl_accuracy_gain;
  const k = s.k ?? 'k';
  out.push(`After SFT: **${pct(s.sft_heldout_accuracy)}** pass@1; after RL: **${pct(s.final_heldout_accuracy)}** pass@1`
    + (gain !== null ? ` (${gain >= 0 ? '+' : ''}${(gain * 100).toFixed(1)} points).` : '.'));
  out.push('');
  if (s.evaluations.length > 0) {
    const buckets = [...new Set(s.evaluations.flatMap((e) => Object.keys(e.per_bucket)))];
    const header = ['stage', 'pass@1', `pass@${k}`, ...buckets.map((b) => `${b} tokens: pass@1 (n)`)];
    const rows = s.evaluations.map((e) => [
      e.stage, pct(e.pass_at_1), pct(e.pass_at_k),
      ...buckets.map((b) => (e.per_bucket[b] ? `${pct(e.per_bucket[b].pass_at_1)} (${e.per_bucket[b].n})` : 'n/a')),
    ]);
    out.push(...table(header, rows), '');
  } else {
    out.push('No held-out evaluation was recorded.', '');
  }

  out.push('## Curriculum phases', '');
  const phaseNames = Object.keys(s.per_phase);
  if (phaseNames.length > 0) {
    const header = ['phase', 'max input tokens', 'status', 'steps', 'reward first -> last', 'train accuracy first -> last', 'response length', 'clip fraction', 'filtered groups', 'retro prompts', 'held-out on its bucket: SFT -> after phase -> final'];
    const rows = phaseNames.map((n) => {
      const p = s.per_phase[n];
      const t = p.train;
      return [
        n, String(p.max_input_tokens), p.status, `${p.steps_done}/${p.steps_planned}`,
        `${num(t.reward_mean_first)} -> ${num(t.reward_mean_last)}`,
        `${pct(t.accuracy_first)} -> ${pct(t.accuracy_last)}`,
        num(t.response_length_mean), num(t.clip_fraction_mean), pct(t.filtered_fraction_mean), String(t.retro_prompts),
        `${pct(p.sft_accuracy)} -> ${pct(p.after_phase_accuracy)} -> ${pct(p.final_accuracy)} (bucket ${p.bucket})`,
      ];
    });
    out.push(...table(header, rows), '');
  } else {
    out.push('No RL phase.', '');
  }

  out.push('## Plots', '');
  out.push('Per RL step (x: global step); dashed rules mark where each curriculum phase starts.', '');
  for (const p of plots) out.push(`### ${p.title}`, '', `![${p.title}](${p.file})`, '');

  if (s.warnings.length > 0 || notes.length > 0) {
    out.push('## Notes', '');
    for (const w of s.warnings) out.push(`- warning: ${w}`);
    for (const n of notes) out.push(`- ${n}`);
    out.push('');
  }

  out.push('## Steps', '');
  if (ledger.length > 0) {
    const header = ['global step', 'phase', 'step', 'reward', 'accuracy', 'response length', 'clip fraction', 'loss', 'grad norm', 'kept', 'filtered', 'retro', 'wall s'];
    const rows = ledger.map((r) => [
      String(r.globalStep), r.phase, String(r.step), num(r.rewardMean), num(r.accuracy), num(r.responseLengthMean), num(r.clipFraction),
      num(r.loss), num(r.gradNorm), r.kept === undefined ? '' : String(r.kept), r.filteredFraction === undefined ? '' : num(r.filteredFraction),
      r.retroCount === undefined ? '' : String(r.retroCount), r.wallMs === undefined ? '' : num(r.wallMs / 1000, 3),
    ]);
    out.push('<details><summary>per-step metrics</summary>', '', ...table(header, rows), '', '</details>', '');
  } else {
    out.push('No RL step was recorded.', '');
  }
  out.push('Machine-readable numbers: [summary.json](summary.json).', '');
  return out.join('\n');
}
