/**
 * Line charts of per-step metrics as SVG, rendered headless by Vega (vega 6, no canvas needed:
 * `view.toSVG()` with the `none` renderer).
 *
 * vega 6 is ESM-only and has top-level await, so `require('vega')` fails even on Node 20.19+
 * (ERR_REQUIRE_ASYNC_MODULE). It is loaded with a real dynamic `import()`; because tsc with
 * `module: commonjs` rewrites `import()` into `require()`, the import is created through
 * `new Function` so that tsc leaves it alone, and the specifier is the resolved file URL
 * (an `import()` inside `new Function` does not resolve bare names from this file's folder).
 *
 * Each chart: one line (one SVG `<path>` in the `series-line` mark) per series, vertical dashed
 * rules (`phase-rule`) with the phase name (`phase-label`) where each curriculum phase starts.
 */
import { pathToFileURL } from 'node:url';
import type { Spec, View as VegaView } from 'vega';

type VegaModule = typeof import('vega');

const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;
let vegaModule: Promise<VegaModule> | undefined;

/** The vega module, loaded once. */
export function loadVega(): Promise<VegaModule> {
  vegaModule ??= importEsm(pathToFileURL(require.resolve('vega')).href) as Promise<VegaModule>;
  return vegaModule;
}

/** One line: points (x, y); non-finite y values are left out. */
export interface LineSeries {
  readonly name: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

/** A vertical rule at `x` labelled `name` (a phase boundary). */
export interface ChartMarker {
  readonly x: number;
  readonly name: string;
}

export interface LineChartSpec {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly series: readonly LineSeries[];
  readonly markers?: readonly ChartMarker[];
  /** Fixed y range (e.g. [0, 1] for accuracies); default: the data, padded to nice values. */
  readonly yDomain?: readonly [number, number];
  readonly width?: number;
  readonly height?: number;
}

/** Mark names, which Vega writes as classes of their SVG groups (used by tests and styling). */
export const MARK_NAMES = { line: 'series-line', rule: 'phase-rule', label: 'phase-label' } as const;

/** The Vega spec of a line chart (exported for inspection; `renderLineChartSvg` renders it). */
export function lineChartSpec(chart: LineChartSpec): Spec {
  const points = chart.series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).map((p) => ({ x: p.x, y: p.y, series: s.name })));
  const markers = (chart.markers ?? []).filter((m) => Number.isFinite(m.x)).map((m) => ({ x: m.x, name: m.name }));
  const multi = chart.series.length > 1;
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    width: chart.width ?? 640,
    height: chart.height ?? 220,
    padding: 8,
    autosize: 'pad',
    background: 'white',
    title: { text: chart.title, anchor: 'start', fontSize: 14 },
    data: [
      { name: 'points', values: points },
      { name: 'markers', values: markers },
    ],
    scales: [
      { name: 'x', type: 'linear', domain: { fields: [{ data: 'points', field: 'x' }, { data: 'markers', field: 'x' }] }, range: 'width', zero: false, nice: false },
      chart.yDomain
        ? { name: 'y', type: 'linear', domain: [chart.yDomain[0], chart.yDomain[1]], range: 'height', zero: false, nice: false }
        : { name: 'y', type: 'linear', domain: { data: 'points', field: 'y' }, range: 'height', zero: false, nice: true },
      { name: 'color', type: 'ordinal', domain: chart.series.map((s) => s.name), range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: chart.xTitle, tickMinStep: 1, format: 'd', grid: false },
      { orient: 'left', scale: 'y', title: chart.yTitle, grid: true, gridOpacity: 0.35 },
    ],
    legends: multi ? [{ stroke: 'color', orient: 'right', symbolType: 'stroke' }] : [],
    marks: [
      {
        type: 'rule', name: MARK_NAMES.rule, from: { data: 'markers' },
        encode: { enter: {
          x: { scale: 'x', field: 'x' }, y: { value: 0 }, y2: { signal: 'height' },
          stroke: { value: '#666' }, strokeDash: { value: [4, 3] }, strokeWidth: { value: 1 }, description: { field: 'name' },
        } },
      },
      {
        type: 'text', name: MARK_NAMES.label, from: { data: 'markers' },
        encode: { enter: {
          x: { scale: 'x', field: 'x', offset: 3 }, y: { value: 2 }, baseline: { value: 'top' }, align: { value: 'left' },
          text: { field: 'name' }, fontSize: { value: 11 }, fill: { value: '#444' },
        } },
      },
      {
        type: 'group',
        from: { facet: { name: 'one-series', data: 'points', groupby: 'series' } },
        marks: [{
          type: 'line', name: MARK_NAMES.line, from: { data: 'one-series' }, sort: { field: 'datum.x' },
          encode: { enter: {
            x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, stroke: { scale: 'color', field: 'series' },
            strokeWidth: { value: 1.6 }, description: { field: 'series' },
          } },
        }],
      },
    ],
  };
}

/** Render a line chart to an SVG document (string). */
export async function renderLineChartSvg(chart: LineChartSpec): Promise<string> {
  const vega = await loadVega();
  const view: VegaView = new vega.View(vega.parse(lineChartSpec(chart)), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg.startsWith('<?xml') ? svg : `<?xml version="1.0" encoding="UTF-8"?>\n${svg}\n`;
  } finally {
    view.finalize();
  }
}
