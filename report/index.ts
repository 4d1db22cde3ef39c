/** The run report: `writeRunReport` writes report.md, summary.json and SVG plots atomically. */
export * from './types';
export { writeRunReport, ReportInputError, REPORT_PLOTS, phaseMarkers, type PlotDef } from './write';
export { buildRunSummary, finalEval, phaseBuckets, type RunSummaryJson, type PhaseSummary, type EvalSummary } from './summary';
export { renderReportMarkdown } from './markdown';
export { renderLineChartSvg, lineChartSpec, loadVega, MARK_NAMES, type LineChartSpec, type LineSeries, type ChartMarker } from './plots';
