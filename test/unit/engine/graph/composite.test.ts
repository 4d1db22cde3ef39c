import { strict as assert } from 'node:assert';
import * as G from '../../../../engine/graph';
import { nn } from '../../../../engine/graph';
import { gradCheck, rng } from './gradcheck';

const R = rng(7);
const ids = (n: number, V: number): number[] => Array.from({ length: n }, () => Math.floor(R() * V));

describe('engine/graph composites vs finite differences (float64)', function () {
  this.timeout(60000);

  it('RMSNorm -> projection -> log-softmax cross-entropy', async () => {
    const B = 2, T = 3, C = 4, V = 5;
    const r = await gradCheck(
      (_, [x, w, proj, tgt]) => nn.crossEntropy(nn.linear(nn.rmsNorm(x, w, 1e-6), proj), tgt),
      [
        { name: 'x', shape: [B, T, C] },
        { name: 'w', shape: [C], lo: 0.5, hi: 1.5 },
        { name: 'proj', shape: [C, V] },
        { name: 'tgt', shape: [B, T], dtype: 'int64', values: ids(B * T, V), fixed: true },
      ],
      { weights: false },
    );
    assert.ok(r.relError < 1e-6, `rel ${r.relError}`);
    assert.ok(r.forwardOps.includes('LogSoftmax') && r.forwardOps.includes('GatherElements'));
  });

  it('masked cross-entropy with dynamic batch and time dims', async () => {
    const r = await gradCheck(
      (_, [logits, tgt, mask]) => nn.crossEntropy(logits, tgt, mask),
      [
        { name: 'logits', shape: ['B', 'T', 6], dims: [2, 3, 6] },
        { name: 'tgt', shape: ['B', 'T'], dims: [2, 3], dtype: 'int64', values: ids(6, 6), fixed: true },
        { name: 'mask', shape: ['B', 'T'], dims: [2, 3], values: [1, 1, 0, 1, 0, 1], fixed: true },
      ],
      { weights: false },
    );
    assert.ok(r.relError < 1e-6, `rel ${r.relError}`);
  });

  it('causal attention with a key padding mask', async () => {
    const B = 2, H = 2, T = 3, D = 4;
    const r = await gradCheck(
      (_, [q, k, v, km]) => nn.attention(q, k, v, { causal: true, keyMask: G.cast(km, 'bool') }),
      [
        { name: 'q', shape: [B, H, T, D] },
        { name: 'k', shape: [B, H, T, D] },
        { name: 'v', shape: [B, H, T, D] },
        { name: 'km', shape: [B, T], values: [1, 1, 1, 1, 1, 0], fixed: true },
      ],
    );
    assert.ok(r.relError < 1e-6, `rel ${r.relError}`);
  });

  it('RoPE from positions, SwiGLU and softmaxPrimitive/logSumExp', async () => {
    const T = 3, D = 4, F = 6;
    const r = await gradCheck(
      (g, [x, wg, wu, wd]) => {
        const pos = g.constant([0, 1, 2], 'float64', [T]);
        const { cos, sin } = nn.ropeAngles(pos, D, 10000);
        const roped = nn.applyRope(x, cos, sin);
        const mlp = nn.swiglu(roped, wg, wu, wd);
        return G.add(nn.softmaxPrimitive(mlp, -1), G.unsqueeze(nn.logSumExp(mlp, -1), [-1]));
      },
      [
        { name: 'x', shape: [1, T, D] },
        { name: 'wg', shape: [D, F] },
        { name: 'wu', shape: [D, F] },
        { name: 'wd', shape: [F, D] },
      ],
    );
    assert.ok(r.relError < 1e-6, `rel ${r.relError}`);
  });

  it('clipped policy-gradient loss (clip-higher + dual clip)', async () => {
    // logp - logpOld spread so that some ratios fall inside, some outside the clip range.
    const old = [0, 0, 0, 0, 0, 0, 0, 0];
    const lp = [0.05, -0.5, 0.6, -0.1, 0.4, -0.9, 1.6, 0.1];
    const adv = [1, 1, 1, -1, -1, -1, -1, 0.5];
    const r = await gradCheck(
      (_, [logp, logpOld, a]) => nn.clippedPolicyLoss(logp, logpOld, a, { clipLow: 0.2, clipHigh: 0.28, dualClip: 3 }),
      [
        { name: 'logp', shape: [2, 4], values: lp },
        { name: 'logpOld', shape: [2, 4], values: old, fixed: true },
        { name: 'adv', shape: [2, 4], values: adv, fixed: true },
      ],
    );
    assert.ok(r.relError < 1e-6, `rel ${r.relError}`);
    // Clipped tokens get no gradient: index 2 (ratio e^0.6 > 1.28, A > 0) and 5 (ratio e^-0.9 < 0.8, A < 0).
    assert.equal(Math.abs(r.perInput.logp.analytic[2]), 0);
    assert.equal(Math.abs(r.perInput.logp.analytic[5]), 0);
    assert.notEqual(r.perInput.logp.analytic[0], 0);
  });
});
