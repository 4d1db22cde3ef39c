import { strict as assert } from 'node:assert';
import { Rng, SamplingOptionError, deriveSeed, sampleToken, validateSampling } from '../../../../engine/sampling';

describe('engine/sampling', () => {
  const logits = new Float32Array([2, 1, 0.5, -1, 3, 0]);
  it('same seed gives the same samples; different seeds differ', () => {
    const o = validateSampling({ temperature: 1 });
    const draw = (seed: number): number[] => { const r = new Rng(seed); return Array.from({ length: 50 }, () => sampleToken(logits, 0, 6, o, r).token); };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
    assert.equal(deriveSeed(1, 'a', 2), deriveSeed(1, 'a', 2));
    assert.notEqual(deriveSeed(1, 'a', 2), deriveSeed(1, 'a', 3));
  });
  it('temperature 0 is greedy; top-k 1 is greedy; top-p restricts to the nucleus', () => {
    const r = new Rng(1);
    assert.equal(sampleToken(logits, 0, 6, validateSampling({ temperature: 0 }), r).token, 4);
    for (let i = 0; i < 20; i++) assert.equal(sampleToken(logits, 0, 6, validateSampling({ topK: 1 }), r).token, 4);
    // probabilities at T=1: token 4 ~0.60, token 0 ~0.22: top-p 0.7 keeps {4, 0}
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(sampleToken(logits, 0, 6, validateSampling({ topP: 0.7 }), r).token);
    assert.deepEqual([...seen].sort(), [0, 4]);
  });
  it('empirical frequencies follow softmax(logits / T) and logprob is exact', () => {
    const r = new Rng(3);
    const o = validateSampling({ temperature: 2 });
    const z = Array.from(logits).reduce((a, x) => a + Math.exp(x / 2), 0);
    const counts = new Array(6).fill(0);
    const N = 20000;
    for (let i = 0; i < N; i++) {
      const s = sampleToken(logits, 0, 6, o, r);
      counts[s.token]++;
      assert.ok(Math.abs(s.logprob - (logits[s.token] / 2 - Math.log(z))) < 1e-9);
    }
    for (let t = 0; t < 6; t++) assert.ok(Math.abs(counts[t] / N - Math.exp(logits[t] / 2) / z) < 0.015, `token ${t}`);
  });
  it('rejects bad options with a typed error naming the field', () => {
    assert.throws(() => validateSampling({ topP: 0 }), (e: unknown) => e instanceof SamplingOptionError && e.field === 'topP');
    assert.throws(() => validateSampling({ temperature: -1 }), (e: unknown) => e instanceof SamplingOptionError && e.field === 'temperature');
  });
});
