import { strict as assert } from 'node:assert';
import { Graph, ops as o } from '../../../../engine/graph';
import { Session, hostTensor } from '../../../../engine/exec';
import { AggregationError, aggregationWeights, klTerm, policyLossTerms } from '../../../../engine/model/loss';

/** Runs policyLossTerms (and sum(w * loss)) on fixed per-token inputs [B, T] in float64. */
async function runLoss(logp: number[], old: number[], adv: number[], w: number[] | null, B: number, T: number) {
  const g = new Graph('pg');
  const f = (n: string) => o.reshape(g.input(n, 'float64', ['B', 'T']), [-1]);
  const lp = f('logp');
  const terms = policyLossTerms(lp, f('old'), f('adv'), {
    clipLow: g.input('clip_low', 'float64', []), clipHigh: g.input('clip_high', 'float64', []), clipRatioC: g.input('c', 'float64', []),
  });
  g.output('loss', terms.loss);
  g.output('clipped', terms.clipped);
  g.output('upper', terms.clippedUpper);
  g.output('dual', terms.dualClipped);
  g.output('agg', o.reduceSum(o.mul(terms.loss, f('w'))));
  const s = await Session.create(g, { threads: 1 });
  const bt = (a: number[]) => hostTensor('float64', [B, T], Float64Array.from(a));
  const sc = (v: number) => hostTensor('float64', [], Float64Array.from([v]));
  const out = await s.run({ logp: bt(logp), old: bt(old), adv: bt(adv), w: bt(w ?? new Array(B * T).fill(0)), clip_low: sc(0.2), clip_high: sc(0.28), c: sc(3) });
  const arr = (k: string) => Array.from(out[k].data as Float64Array);
  return { loss: arr('loss'), clipped: arr('clipped'), upper: arr('upper'), dual: arr('dual'), agg: arr('agg')[0] };
}

function close(a: number, b: number, tol = 1e-9): void {
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} != ${b}`);
}

describe('engine/model PG loss (recipe.md section 4)', () => {
  // Six tokens; old log-prob -1 for all; logp chosen to give the ratios below.
  // eps_low 0.2, eps_high 0.28, dual clip c = 3.
  const ratios = [1.5, 1.1, 0.5, 5, Math.exp(30), 0.7];
  const adv = [1, 1, -1, -1, -2, 0.5];
  const old = ratios.map(() => -1);
  const logp = ratios.map((r) => -1 + Math.log(r));
  // By hand: L = max(-A r, -A clip(r, 0.8, 1.28)); A < 0: min(L, -A * 3); ratio exp(clamp(d, -20, 20)).
  const expected = [
    -1.28, //  A=+1, r=1.5: clip-high bound 1.28 taken
    -1.1, //   A=+1, r=1.1: inside the band
    0.8, //    A=-1, r=0.5: max(0.5, 0.8) = 0.8 (lower clip)
    3, //      A=-1, r=5: max(5, 1.28) = 5, dual clip min(5, 3) = 3
    6, //      A=-2, r=e^20 (clamped): dual clip -A c = 6
    -0.35, //  A=0.5, r=0.7: max(-0.35, -0.4) = -0.35
  ];

  it('per-token clipped surrogate with clip-high and dual clip equals the hand-computed values', async () => {
    const r = await runLoss(logp, old, adv, null, 1, 6);
    r.loss.forEach((v, i) => close(v, expected[i]));
    assert.deepEqual(r.clipped, [1, 0, 1, 0, 0, 0]);
    assert.deepEqual(r.upper, [1, 0, 0, 0, 0, 0]);
    assert.deepEqual(r.dual, [0, 0, 0, 1, 1, 0]);
  });

  // Sequences (T = 3 slots): s0 = tokens 0,1,2; s1 = tokens 3,4 (+pad); s2 = token 5 (+2 pads).
  const layout = [0, 1, 2, 3, 4, -1, 5, -1, -1];
  const mask = layout.map((i) => (i >= 0 ? 1 : 0));
  const pick = (a: number[], fill: number) => layout.map((i) => (i >= 0 ? a[i] : fill));
  const [a, b, c, d, e, f] = expected;
  const cases: Array<[Parameters<typeof aggregationWeights>[3], number]> = [
    ['token-mean', (a + b + c + d + e + f) / 6],
    ['seq-mean-token-mean', ((a + b + c) / 3 + (d + e) / 2 + f / 1) / 3],
    ['seq-mean-token-sum', ((a + b + c) + (d + e) + f) / 3],
    ['seq-mean-token-sum-norm', ((a + b + c) + (d + e) + f) / (3 * 4)],
  ];
  for (const [mode, want] of cases) {
    it(`aggregation ${mode} matches the hand value, also split into micro-batches with global counts`, async () => {
      const counts = { tokens: 6, sequences: 3, normLength: 4 };
      const whole = await runLoss(pick(logp, 0), pick(old, 0), pick(adv, 0), Array.from(aggregationWeights(mask, 3, 3, mode, counts)), 3, 3);
      close(whole.agg, want);
      // micro-batches {s0} and {s1, s2}: shares sum to the same value
      const m1 = await runLoss(pick(logp, 0).slice(0, 3), pick(old, 0).slice(0, 3), pick(adv, 0).slice(0, 3), Array.from(aggregationWeights(mask.slice(0, 3), 1, 3, mode, counts)), 1, 3);
      const m2 = await runLoss(pick(logp, 0).slice(3), pick(old, 0).slice(3), pick(adv, 0).slice(3), Array.from(aggregationWeights(mask.slice(3), 2, 3, mode, counts)), 2, 3);
      close(m1.agg + m2.agg, want);
    });
  }

  it('rejects an unknown aggregation mode naming the valid ones', () => {
    assert.throws(() => aggregationWeights([1], 1, 1, 'mean' as never, { tokens: 1, sequences: 1 }), (err: unknown) => err instanceof AggregationError && /token-mean/.test(err.message));
    assert.throws(() => aggregationWeights([1], 1, 1, 'seq-mean-token-sum-norm', { tokens: 1, sequences: 1 }), (err: unknown) => err instanceof AggregationError && err.field === 'normLength');
  });

  it('KL estimators k1, k2, k3 with clamping', async () => {
    const g = new Graph('kl');
    const lp = g.input('lp', 'float64', [3]);
    const ref = g.input('ref', 'float64', [3]);
    for (const k of ['k1', 'k2', 'k3'] as const) g.output(k, klTerm(lp, ref, k));
    const s = await Session.create(g, { threads: 1 });
    const out = await s.run({ lp: hostTensor('float64', [3], [0, -2, -31]), ref: hostTensor('float64', [3], [-0.5, -1, -1]) });
    const d = [0.5, -1, -20]; // logp - ref, clamped to [-20, 20]
    d.forEach((x, i) => {
      close((out.k1.data as Float64Array)[i], x);
      close((out.k2.data as Float64Array)[i], x * x / 2);
      close((out.k3.data as Float64Array)[i], Math.min(10, Math.exp(-x) + x - 1));
    });
  });
});
