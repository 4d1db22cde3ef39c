import { strict as assert } from 'node:assert';
import {
  assignPhase,
  buildPhasePools,
  deriveSeed,
  difficulty,
  emptyRetroState,
  pickBatch,
  recordRollouts,
  RecipeConfigError,
  Rng,
  stepSeed,
  type PickBatchInput,
  type RetroState,
} from '../../../recipe/pure';

describe('recipe/rng', () => {
  it('same seed, same stream; different seeds or parts, different streams', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 20 }, () => a.nextUint32());
    assert.deepEqual(Array.from({ length: 20 }, () => b.nextUint32()), xs);
    assert.notDeepEqual(Array.from({ length: 20 }, () => new Rng(43).nextUint32()), xs);
    assert.equal(stepSeed(1, 2, 3), stepSeed(1, 2, 3));
    const seeds = new Set([stepSeed(1, 2, 3), stepSeed(1, 2, 4), stepSeed(1, 3, 3), stepSeed(2, 2, 3), stepSeed(1, 2, 3, 'other')]);
    assert.equal(seeds.size, 5);
    assert.notEqual(deriveSeed(0, 'ab', 'c'), deriveSeed(0, 'a', 'bc'));
    assert.notEqual(deriveSeed(2 ** 40), deriveSeed(0)); // high bits count
  });

  it('draws are in range and roughly uniform', () => {
    const r = new Rng(7);
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 5000; i++) counts[r.int(5)]++;
    for (const c of counts) assert.ok(c > 900 && c < 1100, `count ${c}`);
    for (let i = 0; i < 1000; i++) {
      const x = r.next();
      assert.ok(x >= 0 && x < 1);
    }
    assert.deepEqual(r.shuffle([1, 2, 3, 4]).sort(), [1, 2, 3, 4]);
    assert.throws(() => r.int(0), RangeError);
    assert.throws(() => r.weightedIndex([0, 0]), RangeError);
  });

  it('weighted draws follow the weights; without replacement never repeats and skips zeros', () => {
    const r = new Rng(11);
    let first = 0;
    for (let i = 0; i < 4000; i++) if (r.weightedIndex([3, 1]) === 0) first++;
    assert.ok(Math.abs(first / 4000 - 0.75) < 0.03, `${first / 4000}`);
    const picks = r.weightedSampleWithoutReplacement([1, 0, 5, 2], 10);
    assert.equal(picks.length, 3);
    assert.equal(new Set(picks).size, 3);
    assert.ok(!picks.includes(1));
  });
});

describe('recipe/curriculum: phase pools', () => {
  it('assigns L_{k-1} < len <= L_k, with -1 over the last budget', () => {
    const budgets = [100, 300];
    assert.equal(assignPhase(0, budgets), 0);
    assert.equal(assignPhase(100, budgets), 0);
    assert.equal(assignPhase(101, budgets), 1);
    assert.equal(assignPhase(300, budgets), 1);
    assert.equal(assignPhase(301, budgets), -1);
  });
  it('builds id pools in input order and rejects bad budgets', () => {
    const items = [{ id: 'a', length: 50 }, { id: 'b', length: 250 }, { id: 'c', length: 100 }, { id: 'd', length: 999 }];
    assert.deepEqual(buildPhasePools(items, [100, 300]), { pools: [['a', 'c'], ['b']], overBudget: ['d'] });
    assert.throws(() => buildPhasePools(items, [300, 100]), RecipeConfigError);
    assert.throws(() => buildPhasePools(items, []), RecipeConfigError);
  });
});

describe('recipe/curriculum: retrospective buffer', () => {
  it('difficulty is 1 / (mean + eps)', () => {
    assert.equal(difficulty(0, 0.01), 100);
    assert.ok(Math.abs(difficulty(0.5, 0.01) - 1 / 0.51) < 1e-12);
    assert.equal(difficulty(-0.2, 0.5), 2); // negative means (shaped rewards) clamp to 0
  });

  it('keeps items with mean accuracy <= threshold, forgets them once solved, keeps their own phase', () => {
    let s = recordRollouts(emptyRetroState(), { phase: 0, step: 3, results: [
      { id: 'b', accuracies: [0, 0, 0, 0] },
      { id: 'a', accuracies: [1, 0, 0, 0] },
      { id: 'c', accuracies: [0, 0] },
      { id: 'e', accuracies: [] },
    ] });
    assert.deepEqual(s.entries, [{ id: 'b', phase: 0, mean: 0, step: 3 }, { id: 'c', phase: 0, mean: 0, step: 3 }]);
    s = recordRollouts(s, { phase: 1, step: 9, results: [{ id: 'b', accuracies: [0, 1] }, { id: 'c', accuracies: [0, 0] }] });
    assert.deepEqual(s.entries, [{ id: 'c', phase: 0, mean: 0, step: 9 }]);
    const t = recordRollouts(emptyRetroState(), { phase: 0, step: 1, results: [{ id: 'x', accuracies: [1, 0, 0, 0] }] }, { threshold: 0.25 });
    assert.deepEqual(t.entries, [{ id: 'x', phase: 0, mean: 0.25, step: 1 }]);
  });

  it('is bounded by cap, evicting the easiest then the oldest; state round-trips through JSON', () => {
    const results = Array.from({ length: 6 }, (_, i) => ({ id: `i${i}`, accuracies: i < 3 ? [0, 0] : [0.25, 0.25] }));
    let s = recordRollouts(emptyRetroState(), { phase: 0, step: 1, results: results.slice(0, 3) }, { threshold: 0.5, cap: 4 });
    s = recordRollouts(s, { phase: 0, step: 2, results: results.slice(3) }, { threshold: 0.5, cap: 4 });
    // kept: the three at mean 0, and of the mean-0.25 ones the newest (all step 2) by id: i3
    assert.deepEqual(s.entries.map((e) => e.id), ['i0', 'i1', 'i2', 'i3']);
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    assert.throws(() => recordRollouts(s, { phase: 0, step: 3, results: [] }, { eps: 0 }), RecipeConfigError);
    assert.throws(() => recordRollouts(s, { phase: 0, step: 3, results: [{ id: 'z', accuracies: [NaN] }] }), RangeError);
  });
});

describe('recipe/curriculum: pickBatch', () => {
  const pool = Array.from({ length: 10 }, (_, i) => `p${i}`);
  const retro: RetroState = { version: 1, entries: [
    { id: 'h0', phase: 0, mean: 0, step: 1 },
    { id: 'h1', phase: 0, mean: 0.24, step: 1 },
    { id: 'h2', phase: 1, mean: 0, step: 5 }, // same phase as the batch: not a candidate
  ] };
  const base: PickBatchInput = { runSeed: 5, phase: 1, step: 7, pool, batchSize: 4, cursor: 0, retro, retrospective: { threshold: 0.25 } };

  it('same inputs give the same batch; another step gives another', () => {
    const a = pickBatch(base);
    assert.deepEqual(pickBatch(base), a);
    assert.deepEqual(pickBatch(JSON.parse(JSON.stringify(base)) as PickBatchInput), a);
    assert.notDeepEqual(pickBatch({ ...base, step: 8, cursor: a.cursor }).ids, a.ids);
  });

  it('draws round(fraction * batch) from earlier-phase buffer items and records them', () => {
    const a = pickBatch(base);
    assert.equal(a.ids.length, 4);
    assert.equal(a.fromBuffer.length, 1); // round(0.25 * 4)
    assert.ok(['h0', 'h1'].includes(a.fromBuffer[0]));
    assert.equal(a.ids.filter((id) => id.startsWith('p')).length, 3);
    assert.equal(a.cursor, 3);
    const first = pickBatch({ ...base, phase: 0 }); // first phase: no earlier items
    assert.deepEqual(first.fromBuffer, []);
    const off = pickBatch({ ...base, retrospective: { enabled: false } });
    assert.deepEqual(off.fromBuffer, []);
  });

  it('buffer draws are proportional to difficulty (100 vs 4 -> 96.2% vs 3.8%)', () => {
    let h0 = 0;
    const n = 3000;
    for (let step = 0; step < n; step++) if (pickBatch({ ...base, step }).fromBuffer[0] === 'h0') h0++;
    assert.ok(Math.abs(h0 / n - 100 / 104) < 0.02, `${h0 / n}`);
  });

  it('walks the pool in epoch permutations: each item once per epoch', () => {
    let cursor = 0;
    const seen: string[] = [];
    for (let step = 0; step < 5; step++) {
      const b = pickBatch({ ...base, phase: 0, step, cursor });
      cursor = b.cursor;
      seen.push(...b.ids);
    }
    // 20 draws = 2 epochs of 10: every item exactly twice; the first two batches (within epoch 0) distinct.
    for (const id of pool) assert.equal(seen.filter((x) => x === id).length, 2, id);
    assert.equal(new Set(seen.slice(0, 8)).size, 8);
    assert.equal(cursor, 20);
  });

  it('an empty pool falls back to the buffer, or fails with the phase named', () => {
    const b = pickBatch({ ...base, pool: [] });
    assert.deepEqual(b.ids.slice().sort(), ['h0', 'h1']);
    assert.throws(() => pickBatch({ ...base, pool: [], retro: emptyRetroState() }), /curriculum\.phases\[1\]/);
  });
});
