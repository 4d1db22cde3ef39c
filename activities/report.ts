/** The run report (orchestrator queue): Markdown, SVG plots and summary.json in the run's folder. */
import * as path from 'node:path';
import { writeRunReport, type EvalResult, type PhaseReportInfo, type StepMetrics as ReportStep } from '../report';
import type { ArtifactStore } from '../infra/store/artifacts';
import { readStepRecords } from './ledger';
import type { ReportInput, ReportResult } from './types';

export function runDir(outputDir: string, runId: string): string {
  return path.resolve(outputDir, runId);
}

export function createReportActivities(deps: { store: ArtifactStore }) {
  return {
    async writeReport(input: ReportInput): Promise<ReportResult> {
      const records = await readStepRecords(deps.store, input.runId);
      const ledger: ReportStep[] = records.map((r) => ({ ...r }));
      const rlSteps = records.reduce((s, r) => s + r.optimizerSteps, 0);
      const phases: PhaseReportInfo[] = input.config.rl.phases.map((p) => {
        const done = input.phases.find((x) => x.name === p.name);
        return { name: p.name, maxInputTokens: p.maxInputTokens, steps: done?.steps ?? p.steps, status: done?.status ?? 'aborted' };
      });
      const evals: EvalResult[] = input.evals.map((e) => ({ ...e }));
      const files = await writeRunReport({
        runDir: runDir(input.config.run.outputDir, input.runId),
        runId: input.runId,
        ledger,
        phases,
        summary: {
          wallSeconds: (Date.now() - Date.parse(input.startedAt)) / 1000,
          evals,
          optimizerSteps: { sft: input.sftOptimizerSteps, rl: rlSteps },
          status: input.status,
          configHash: input.configHash,
          configSource: input.configSource,
          startedAt: input.startedAt,
          finishedAt: new Date().toISOString(),
          notes: input.notes,
        },
      });
      return { reportPath: files.reportPath, summaryPath: files.summaryPath };
    },
  };
}
