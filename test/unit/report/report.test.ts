import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DOMParser, type Document as XmlDocument, type Element as XmlElement } from '@xmldom/xmldom';
import { listTempFiles, sha256File } from '../../../infra/store/atomic';
import {
  MARK_NAMES, REPORT_PLOTS, ReportInputError, renderLineChartSvg, writeRunReport,
  type EvalResult, type PhaseReportInfo, type RunReportInput, type StepMetrics,
} from '../../../report';

/** Parse an SVG strictly: any XML error or warning fails the test. */
function parseSvg(text: string): XmlDocument {
  const doc = new DOMParser({ onError: (level, msg) => { throw new Error(`XML ${level}: ${msg}`); } }).parseFromString(text, 'image/svg+xml');
  assert.equal(doc.documentElement?.nodeName, 'svg');
  return doc;
}

function elements(doc: XmlDocument, tag: string): XmlElement[] {
  return Array.from(doc.getElementsByTagName(tag));
}

/** Children with tag `child` of every `<g>` whose class list holds `cls`. */
function inMark(doc: XmlDocument, cls: string, child: string): XmlElement[] {
  return elements(doc, 'g')
    .filter((g) => (g.getAttribute('class') ?? '').split(/\s+/).includes(cls))
    .flatMap((g) => Array.from(g.childNodes).filter((n): n is XmlElement => n.nodeName === child));
}

/** A small, irregular ledger: two phases, values from a seeded LCG (not hand-picked). */
function makeLedger(phases: readonly PhaseReportInfo[], seed = 7): StepMetrics[] {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const rows: StepMetrics[] = [];
  let g = 1;
  for (const p of phases) {
    for (let step = 1; step <= p.steps; step++) {
      rows.push({
        phase: p.name, step, globalStep: g++, rewardMean: rnd() - 0.2, accuracy: rnd(), responseLengthMean: 20 + 40 * rnd(),
        clipFraction: 0.05 * rnd(), loss: rnd() - 0.5, gradNorm: rnd(), kept: 4, filteredFraction: rnd(), retroCount: Math.floor(3 * rnd()),
        wallMs: 1000 + 1000 * rnd(), optimizerSteps: 2,
      });
    }
  }
  return rows;
}

function evalAt(stage: string, buckets: readonly string[], base: number): EvalResult {
  const perBucket = Object.fromEntries(buckets.map((b, i) => [b, { n: 10 + i, passAt1: base + 0.01 * (i + 1), passAtK: base + 0.1 + 0.01 * i }]));
  return { stage, passAt1: base, passAtK: base + 0.1, k: 2, perBucket };
}

describe('run report', function () {
  this.timeout(20000);
  let root: string;
  before(() => { root = fs.mkdtempSync(path.join(os.tmpdir(), 'longrl-report-')); });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  // A phase name with XML and Markdown specials, to check escaping.
  const phases: PhaseReportInfo[] = [
    { name: 'short', maxInputTokens: 256, steps: 5 },
    { name: 'long<&>|2', maxInputTokens: 512, steps: 4, status: 'completed' },
  ];
  const buckets = ['0-256', '256-512'];

  function input(runDir: string, over: Partial<RunReportInput> = {}): RunReportInput {
    return {
      runDir,
      runId: 'quick-test-1',
      ledger: makeLedger(phases),
      phases,
      summary: {
        wallSeconds: 123.5,
        evals: [evalAt('sft', buckets, 0.2), evalAt('short', buckets, 0.25), evalAt('long<&>|2', buckets, 0.3), evalAt('final', buckets, 0.35)],
        optimizerSteps: { sft: 40, rl: 18 },
        configHash: 'abc123def456',
      },
      ...over,
    };
  }

  it('writes report.md, summary.json and one SVG per plot, atomically, with their checksums', async () => {
    const dir = path.join(root, 'run-a');
    const files = await writeRunReport(input(dir));
    assert.equal(files.reportPath, path.join(dir, 'report.md'));
    assert.equal(files.summaryPath, path.join(dir, 'summary.json'));
    for (const name of ['reward', 'accuracy', 'response-length', 'clip-fraction']) {
      assert.equal(files.plots[name], path.join(dir, 'plots', `${name}.svg`));
    }
    const written = [files.reportPath, files.summaryPath, ...Object.values(files.plots)];
    assert.equal(Object.keys(files.sha256).length, written.length);
    for (const f of written) assert.equal(files.sha256[f], await sha256File(f), `checksum of ${f}`);
    assert.deepEqual(await listTempFiles(dir), []);
  });

  it('every SVG parses as XML, has one line path per series and a rule and label per phase', async () => {
    const dir = path.join(root, 'run-b');
    const inp = input(dir);
    const files = await writeRunReport(inp);
    for (const def of REPORT_PLOTS) {
      const doc = parseSvg(fs.readFileSync(files.plots[def.name], 'utf8'));
      const lines = inMark(doc, MARK_NAMES.line, 'path');
      assert.deepEqual(lines.map((p) => p.getAttribute('aria-label')).sort(), def.series.map((s) => s.label).sort(), `${def.name}: one path per series`);
      for (const p of lines) {
        const segments = (p.getAttribute('d') ?? '').match(/[ML]/g) ?? [];
        assert.equal(segments.length, inp.ledger.length, `${def.name}: one vertex per step`);
      }
      assert.deepEqual(inMark(doc, MARK_NAMES.rule, 'line').map((l) => l.getAttribute('aria-label')), phases.map((p) => p.name), `${def.name}: phase rules`);
      assert.deepEqual(inMark(doc, MARK_NAMES.label, 'text').map((t) => t.textContent), phases.map((p) => p.name), `${def.name}: phase labels`);
    }
  });

  it('phase rules sit between the last step of a phase and the first of the next', async () => {
    const svg = await renderLineChartSvg({
      title: 't', xTitle: 'x', yTitle: 'y', width: 400,
      series: [{ name: 'a', points: [{ x: 0, y: 0 }, { x: 10, y: 1 }] }],
      markers: [{ x: 0, name: 'p1' }, { x: 5, name: 'p2' }],
    });
    const doc = parseSvg(svg);
    const xs = inMark(doc, MARK_NAMES.rule, 'line').map((l) => Number(/translate\(([-\d.]+),/.exec(l.getAttribute('transform') ?? '')?.[1]));
    assert.deepEqual(xs, [0, 200], 'x = 0 and x = 5 on a 0..10 axis 400 px wide');
  });

  it('summary.json holds the required fields with values taken from the inputs', async () => {
    const dir = path.join(root, 'run-c');
    const inp = input(dir);
    const files = await writeRunReport(inp);
    const s = JSON.parse(fs.readFileSync(files.summaryPath, 'utf8'));
    const [sft, , afterLong, fin] = inp.summary.evals;
    assert.equal(s.run_id, inp.runId);
    assert.equal(s.wall_seconds, inp.summary.wallSeconds);
    assert.equal(s.sft_heldout_accuracy, sft.passAt1);
    assert.equal(s.final_heldout_accuracy, fin.passAt1);
    assert.equal(s.rl_accuracy_gain, fin.passAt1 - sft.passAt1);
    assert.equal(s.optimizer_steps, 40 + 18);
    assert.deepEqual(s.optimizer_steps_by_stage, { sft: 40, rl: 18 });
    assert.equal(s.config_hash, 'abc123def456');
    assert.deepEqual(Object.keys(s.per_phase), phases.map((p) => p.name));
    phases.forEach((p, i) => {
      const ph = s.per_phase[p.name];
      const rows = inp.ledger.filter((r) => r.phase === p.name);
      assert.equal(ph.bucket, buckets[i]);
      assert.equal(ph.max_input_tokens, p.maxInputTokens);
      assert.equal(ph.steps_done, rows.length);
      assert.equal(ph.sft_accuracy, sft.perBucket[buckets[i]].passAt1);
      assert.equal(ph.final_accuracy, fin.perBucket[buckets[i]].passAt1);
      assert.equal(ph.train.reward_mean_first, rows[0].rewardMean);
      assert.equal(ph.train.reward_mean_last, rows[rows.length - 1].rewardMean);
      assert.equal(ph.train.retro_prompts, rows.reduce((a, r) => a + (r.retroCount ?? 0), 0));
      assert.ok(Math.abs(ph.train.accuracy_mean - rows.reduce((a, r) => a + r.accuracy, 0) / rows.length) < 1e-12);
    });
    assert.deepEqual(s.per_phase['long<&>|2'].heldout_after_phase.per_bucket['256-512'],
      { n: afterLong.perBucket['256-512'].n, pass_at_1: afterLong.perBucket['256-512'].passAt1, pass_at_k: afterLong.perBucket['256-512'].passAtK });
    assert.deepEqual(s.evaluations.map((e: { stage: string }) => e.stage), inp.summary.evals.map((e) => e.stage));
    assert.deepEqual(s.warnings, []);
  });

  it('report.md shows SFT and final accuracy, links every plot and escapes table cells', async () => {
    const dir = path.join(root, 'run-d');
    const inp = input(dir);
    const files = await writeRunReport(inp);
    const md = fs.readFileSync(files.reportPath, 'utf8');
    const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
    assert.ok(md.includes(`After SFT: **${pct(inp.summary.evals[0].passAt1)}** pass@1; after RL: **${pct(inp.summary.evals[3].passAt1)}** pass@1`));
    for (const def of REPORT_PLOTS) assert.ok(md.includes(`](plots/${def.name}.svg)`), `links ${def.name}`);
    assert.ok(md.includes('| long<&>\\|2 |'), 'pipe escaped in table cells');
    assert.ok(md.includes('](summary.json)'));
  });

  it('defaults: RL optimizer steps from the ledger; missing evaluations and odd rows become warnings', async () => {
    const dir = path.join(root, 'run-e');
    const ledger = makeLedger(phases);
    const odd: StepMetrics[] = [...ledger, { ...ledger[2] }, { ...ledger[3], globalStep: 99, phase: 'ghost', loss: Number.NaN }];
    const files = await writeRunReport(input(dir, { ledger: odd, summary: { wallSeconds: 5, evals: [evalAt('sft', buckets, 0.2)] } }));
    const s = JSON.parse(fs.readFileSync(files.summaryPath, 'utf8'));
    assert.equal(s.optimizer_steps, odd.reduce((a, r) => a + (r.optimizerSteps ?? 1), 0));
    assert.equal(s.final_heldout_accuracy, null, 'an SFT-only evaluation is not a final one');
    assert.equal(s.per_phase.short.final_accuracy, null);
    assert.deepEqual(s.warnings, [
      `ledger has more than one row for global step(s) ${ledger[2].globalStep}`,
      'ledger rows name phase(s) not in the phase list: ghost',
      'loss is not finite at global step(s) 99',
      "no held-out evaluation of stage 'final'",
    ]);
    const loss = parseSvg(fs.readFileSync(files.plots.loss, 'utf8'));
    const lossPath = inMark(loss, MARK_NAMES.line, 'path').find((p) => p.getAttribute('aria-label') === 'loss');
    assert.equal(((lossPath?.getAttribute('d') ?? '').match(/[ML]/g) ?? []).length, odd.length - 1, 'the NaN point is left out');
  });

  it('a run without RL steps still gets a report with empty plots', async () => {
    const dir = path.join(root, 'run-f');
    const files = await writeRunReport(input(dir, { ledger: [] }));
    const doc = parseSvg(fs.readFileSync(files.plots.reward, 'utf8'));
    assert.equal(inMark(doc, MARK_NAMES.line, 'path').length, 0);
    assert.equal(inMark(doc, MARK_NAMES.rule, 'line').length, 0);
    assert.ok(fs.readFileSync(files.reportPath, 'utf8').includes('No RL step was recorded.'));
  });

  it('rejects inputs that cannot make a report', async () => {
    await assert.rejects(writeRunReport(input(path.join(root, 'x'), { runId: '' })), (e: unknown) => e instanceof ReportInputError && e.message === 'writeRunReport: runId: must not be empty');
    await assert.rejects(writeRunReport(input(path.join(root, 'x'), { summary: { wallSeconds: Number.NaN, evals: [] } })),
      (e: unknown) => e instanceof ReportInputError && e.field === 'summary.wallSeconds');
    await assert.rejects(writeRunReport(input(path.join(root, 'x'), { phases: [phases[0], phases[0]] })),
      (e: unknown) => e instanceof ReportInputError && e.message === "writeRunReport: phases: duplicate phase name 'short'");
    assert.equal(fs.existsSync(path.join(root, 'x')), false, 'nothing written');
  });
});
