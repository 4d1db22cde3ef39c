/**
 * Writes a run's report into its folder, every file atomically (architecture.md invariant 2):
 *
 *     <runDir>/report.md          headline numbers, tables, links to the plots
 *     <runDir>/summary.json       run_id, wall_seconds, sft/final held-out accuracy, per_phase, optimizer_steps, ...
 *     <runDir>/plots/<name>.svg   reward, accuracy, response length, clip fraction (and loss) per RL step
 *
 * Plots and summary are written before `report.md`, so a report that exists links only to
 * files that exist.
 */
import * as path from 'node:path';
import { writeFileAtomic } from '../infra/store/atomic';
import { renderReportMarkdown, type ReportPlotLink } from './markdown';
import { renderLineChartSvg, type ChartMarker } from './plots';
import { buildRunSummary, sortedLedger } from './summary';
import type { RunReportFiles, RunReportInput, StepMetrics } from './types';

/** Report inputs that cannot make a report (not a run's normal mishaps, which become warnings). */
export class ReportInputError extends Error {
  override readonly name = 'ReportInputError';
  constructor(readonly field: string, detail: string) {
    super(`writeRunReport: ${field}: ${detail}`);
  }
}

/** A plot of one or more ledger fields. */
export interface PlotDef {
  readonly name: string;
  readonly title: string;
  readonly yTitle: string;
  readonly series: readonly { readonly label: string; readonly field: keyof StepMetrics }[];
  readonly yDomain?: readonly [number, number];
}

/** The plots of every report (file `plots/<name>.svg`). */
export const REPORT_PLOTS: readonly PlotDef[] = [
  { name: 'reward', title: 'Reward (mean over responses, with overlong shaping)', yTitle: 'reward', series: [{ label: 'reward mean', field: 'rewardMean' }] },
  { name: 'accuracy', title: 'Training accuracy (mean over responses)', yTitle: 'accuracy', series: [{ label: 'accuracy', field: 'accuracy' }], yDomain: [0, 1] },
  { name: 'response-length', title: 'Response length (mean tokens)', yTitle: 'tokens', series: [{ label: 'response length', field: 'responseLengthMean' }] },
  { name: 'clip-fraction', title: 'Clip fraction (tokens whose ratio was clipped)', yTitle: 'fraction', series: [{ label: 'clip fraction', field: 'clipFraction' }] },
  { name: 'loss', title: 'Policy loss and gradient norm', yTitle: 'value', series: [{ label: 'loss', field: 'loss' }, { label: 'grad norm', field: 'gradNorm' }] },
];

/** Phase boundaries on the global-step axis: half a step before each phase's first step. */
export function phaseMarkers(ledger: readonly StepMetrics[], phaseOrder: readonly string[]): ChartMarker[] {
  const first = new Map<string, number>();
  for (const r of ledger) {
    const cur = first.get(r.phase);
    if (cur === undefined || r.globalStep < cur) first.set(r.phase, r.globalStep);
  }
  const order = [...phaseOrder, ...[...first.keys()].filter((p) => !phaseOrder.includes(p))];
  return order.filter((p) => first.has(p)).map((p) => ({ x: (first.get(p) as number) - 0.5, name: p }));
}

function checkInput(input: RunReportInput): void {
  if (!input.runDir) throw new ReportInputError('runDir', 'must name the run folder');
  if (!input.runId) throw new ReportInputError('runId', 'must not be empty');
  if (!Number.isFinite(input.summary.wallSeconds) || input.summary.wallSeconds < 0) {
    throw new ReportInputError('summary.wallSeconds', `must be a finite number >= 0, got ${input.summary.wallSeconds}`);
  }
  input.ledger.forEach((r, i) => {
    if (typeof r.phase !== 'string' || !Number.isFinite(r.globalStep)) {
      throw new ReportInputError(`ledger[${i}]`, 'needs a phase name and a finite globalStep');
    }
  });
  const names = new Set<string>();
  for (const p of input.phases) {
    if (names.has(p.name)) throw new ReportInputError('phases', `duplicate phase name '${p.name}'`);
    names.add(p.name);
  }
}

/**
 * Write `report.md`, `summary.json` and `plots/*.svg` into `runDir` (created if needed).
 *
 * `ledger`: one row per RL step (any order; sorted by `globalStep`). `summary.evals`: the
 * held-out evaluations (`sft`, phase names, `final`) with per-bucket pass rates. `phases`: the
 * curriculum as planned, in order. Returns the paths written and their sha256.
 */
export async function writeRunReport(input: RunReportInput): Promise<RunReportFiles> {
  checkInput(input);
  const runDir = path.resolve(input.runDir);
  const ledger = sortedLedger(input.ledger);
  const markers = phaseMarkers(ledger, input.phases.map((p) => p.name));
  const sha: Record<string, string> = {};
  const plots: Record<string, string> = {};
  const links: ReportPlotLink[] = [];

  for (const def of REPORT_PLOTS) {
    const svg = await renderLineChartSvg({
      title: def.title,
      xTitle: 'global RL step',
      yTitle: def.yTitle,
      yDomain: def.yDomain,
      markers,
      series: def.series.map((s) => ({
        name: s.label,
        points: ledger.map((r) => ({ x: r.globalStep, y: r[s.field] as number })).filter((p) => typeof p.y === 'number'),
      })),
    });
    const file = path.join(runDir, 'plots', `${def.name}.svg`);
    sha[file] = await writeFileAtomic(file, svg);
    plots[def.name] = file;
    links.push({ name: def.name, title: def.title, file: `plots/${def.name}.svg` });
  }

  const summary = buildRunSummary(input);
  const summaryPath = path.join(runDir, 'summary.json');
  sha[summaryPath] = await writeFileAtomic(summaryPath, `${JSON.stringify(summary, null, 2)}\n`);

  const reportPath = path.join(runDir, 'report.md');
  sha[reportPath] = await writeFileAtomic(reportPath, renderReportMarkdown(summary, ledger, links, input.summary.notes ?? []));
  return { reportPath, summaryPath, plots, sha256: sha };
}
