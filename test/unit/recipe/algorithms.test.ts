import { strict as assert } from 'node:assert';
import {
  addGenerationBatch,
  advantageEstimatorNames,
  applyOverlongShaping,
  broadcastOverTokens,
  drGrpoAdvantages,
  DynamicSamplingExhaustedError,
  filteredFraction,
  getAdvantageEstimator,
  grpoAdvantages,
  initialDynamicSamplingState,
  keepGroup,
  meanPassAtK,
  overlongPenalty,
  passAtK,
  populationStd,
  RecipeConfigError,
  UnknownAdvantageEstimatorError,
  type DynamicSamplingConfig,
  type SampledGroup,
} from '../../../recipe/pure';

const close = (a: ArrayLike<number>, b: number[], tol = 1e-6): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

describe('recipe/algorithms: GRPO advantages', () => {
  it('[1,0,0,1] gives +-0.866025 (mean 0.5, unbiased std sqrt(1/3))', () => {
    const a = grpoAdvantages({ scores: [1, 0, 0, 1], groupIds: [0, 0, 0, 0] });
    // 0.5 / (0.5773503 + 1e-6) = 0.8660239
    close(a, [0.866024, -0.866024, -0.866024, 0.866024], 2e-6);
  });

  it('[0,0,1] gives -0.57735, -0.57735, +1.1547 (ss 6/9, var 1/3)', () => {
    close(grpoAdvantages({ scores: [0, 0, 1], groupIds: ['u', 'u', 'u'] }), [-0.577349, -0.577349, 1.154699], 2e-6);
  });

  it('[2,0] gives +-0.707106 (std sqrt(2))', () => {
    close(grpoAdvantages({ scores: [2, 0], groupIds: [1, 1] }), [0.707106, -0.707106], 2e-6);
  });

  it('all-equal groups give exactly 0, also with Dr. GRPO', () => {
    assert.deepEqual([...grpoAdvantages({ scores: [1, 1, 1, 1], groupIds: [0, 0, 0, 0] })], [0, 0, 0, 0]);
    assert.deepEqual([...grpoAdvantages({ scores: [0, 0, 0], groupIds: [0, 0, 0] })], [0, 0, 0]);
    assert.deepEqual([...drGrpoAdvantages({ scores: [0.3, 0.3], groupIds: [0, 0] })], [0, 0]);
  });

  it('a group of one uses mean 0 and std 1', () => {
    close(grpoAdvantages({ scores: [0.7], groupIds: ['a'] }), [0.7 / (1 + 1e-6)], 1e-12);
    close(grpoAdvantages({ scores: [0], groupIds: ['a'] }), [0], 0);
    close(drGrpoAdvantages({ scores: [0.7], groupIds: ['a'] }), [0.7], 1e-12);
  });

  it('groups are independent and may interleave', () => {
    // group a: [1, 0] -> +-0.7071068/... ; group b: [3, 1, 2] Dr. GRPO -> [1, -1, 0]
    const a = grpoAdvantages({ scores: [1, 3, 0, 1, 2], groupIds: ['a', 'b', 'a', 'b', 'b'] });
    close([a[0], a[2]], [0.707106, -0.707106], 2e-6);
    close([a[1], a[3], a[4]], [1 / (1 + 1e-6), -1 / (1 + 1e-6), 0], 1e-9); // b: mean 2, std 1
    close(drGrpoAdvantages({ scores: [1, 3, 0, 1, 2], groupIds: ['a', 'b', 'a', 'b', 'b'] }), [0.5, 1, -0.5, -1, 0], 1e-12);
  });

  it('ties inside a group get equal advantages', () => {
    const a = grpoAdvantages({ scores: [1, 1, 0, 0], groupIds: [0, 0, 0, 0] });
    assert.equal(a[0], a[1]);
    assert.equal(a[2], a[3]);
    close(a, [0.866024, 0.866024, -0.866024, -0.866024], 2e-6);
  });

  it('eps is configurable and mismatched or non-finite input is rejected', () => {
    close(grpoAdvantages({ scores: [1, 0], groupIds: [0, 0] }, { eps: 0 }), [Math.SQRT1_2, -Math.SQRT1_2], 1e-12);
    assert.throws(() => grpoAdvantages({ scores: [1, 0], groupIds: [0] }), RangeError);
    assert.throws(() => grpoAdvantages({ scores: [NaN], groupIds: [0] }), RangeError);
  });

  it('broadcasts over response tokens, zero on padding and for zero-length responses', () => {
    // N=3, T=3; response 1 has length 0.
    const out = broadcastOverTokens([0.5, -1, 2], [1, 1, 0, 0, 0, 0, 1, 1, 1], 3);
    assert.deepEqual([...out], [0.5, 0.5, 0, 0, 0, 0, 2, 2, 2]);
    assert.throws(() => broadcastOverTokens([1], [1, 1], 3), RangeError);
  });

  it('registry returns estimators by name and lists valid names on error', () => {
    assert.deepEqual(advantageEstimatorNames().sort(), ['dr_grpo', 'grpo']);
    close(getAdvantageEstimator('dr_grpo')({ scores: [1, 0], groupIds: [0, 0] }), [0.5, -0.5], 0);
    assert.throws(() => getAdvantageEstimator('ppo'), (e: unknown) => {
      assert.ok(e instanceof UnknownAdvantageEstimatorError);
      assert.match(e.message, /"ppo".*grpo.*dr_grpo|"ppo".*dr_grpo.*grpo/);
      return true;
    });
    assert.throws(() => getAdvantageEstimator('toString'), UnknownAdvantageEstimatorError);
  });
});

describe('recipe/algorithms: DAPO overlong shaping', () => {
  const cfg = { maxResponseLength: 10, bufferLength: 4, factor: 0.5 };
  it("reproduces the recipe's example (L_max 10, L_c 4, f 0.5)", () => {
    assert.equal(overlongPenalty(6, cfg), 0);
    assert.equal(overlongPenalty(7, cfg), -0.125);
    assert.equal(overlongPenalty(8, cfg), -0.25);
    assert.equal(overlongPenalty(10, cfg), -0.5);
  });
  it('is 0 for short and zero-length responses and bottoms at -f past L_max', () => {
    assert.equal(overlongPenalty(0, cfg), 0);
    assert.equal(overlongPenalty(9, cfg), -0.375);
    assert.equal(overlongPenalty(25, cfg), -0.5);
  });
  it('adds the penalty to scores and validates its config', () => {
    assert.deepEqual([...applyOverlongShaping([1, 1, 0], [6, 8, 12], cfg)], [1, 0.75, -0.5]);
    assert.throws(() => overlongPenalty(5, { maxResponseLength: 10, bufferLength: 0, factor: 1 }), RecipeConfigError);
    assert.throws(() => overlongPenalty(5, { maxResponseLength: 10, bufferLength: 11, factor: 1 }), RecipeConfigError);
  });
});

describe('recipe/algorithms: pass@k', () => {
  it('matches 1 - C(n-c,k)/C(n,k) computed by hand', () => {
    assert.ok(Math.abs(passAtK(4, 1, 2) - 0.5) < 1e-12); // 1 - 3/6
    assert.ok(Math.abs(passAtK(5, 2, 2) - 0.7) < 1e-12); // 1 - 3/10
    assert.ok(Math.abs(passAtK(10, 3, 1) - 0.3) < 1e-12); // pass@1 = c/n
    assert.ok(Math.abs(passAtK(8, 2, 4) - (1 - 15 / 70)) < 1e-12); // C(6,4)=15, C(8,4)=70
  });
  it('is 0 with no correct sample and 1 when n - c < k', () => {
    assert.equal(passAtK(4, 0, 2), 0);
    assert.equal(passAtK(4, 3, 2), 1);
    assert.equal(passAtK(1, 1, 1), 1);
  });
  it('averages over items and rejects impossible inputs', () => {
    assert.ok(Math.abs(meanPassAtK([{ n: 4, c: 1 }, { n: 4, c: 0 }], 2) - 0.25) < 1e-12);
    assert.throws(() => passAtK(2, 3, 1), RangeError);
    assert.throws(() => passAtK(2, 1, 3), RangeError);
    assert.ok(Number.isNaN(meanPassAtK([], 1)));
  });
});

describe('recipe/algorithms: DAPO dynamic sampling', () => {
  const g = (id: string, metric: number[]): SampledGroup => ({ id, metric });
  it('keeps groups with population std > 0 or G = 1', () => {
    assert.equal(keepGroup([1, 0, 0, 1]), true);
    assert.equal(keepGroup([1, 1, 1, 1]), false);
    assert.equal(keepGroup([0, 0]), false);
    assert.equal(keepGroup([0]), true);
    assert.equal(keepGroup([0.1, 0.1, 0.1]), false); // exact, no round-off from computing a std
    assert.ok(Math.abs(populationStd([1, 0, 0, 1]) - 0.5) < 1e-12);
  });

  it('accumulates across generation batches and truncates to train_batch_size', () => {
    const cfg: DynamicSamplingConfig = { trainBatchSize: 3, maxNumGenBatches: 5 };
    let d = addGenerationBatch(initialDynamicSamplingState(), [g('a', [1, 1]), g('b', [1, 0]), g('c', [0, 0])], cfg);
    assert.equal(d.action, 'generate');
    assert.deepEqual(d.state.kept.map((x) => x.id), ['b']);
    d = addGenerationBatch(d.state, [g('d', [0, 1]), g('e', [1, 1]), g('f', [1, 0]), g('h', [0, 1])], cfg);
    assert.equal(d.action, 'train');
    if (d.action !== 'train') return;
    assert.deepEqual(d.groups.map((x) => x.id), ['b', 'd', 'f']);
    assert.equal(d.partial, false);
    assert.equal(d.state.genBatches, 2);
    assert.equal(filteredFraction(d.state), 3 / 7);
    assert.deepEqual(JSON.parse(JSON.stringify(d.state)), d.state); // serialisable
  });

  it('throws the typed error when max_num_gen_batches is exceeded, or trains on what is there', () => {
    const cfg: DynamicSamplingConfig = { trainBatchSize: 4, maxNumGenBatches: 2 };
    const d1 = addGenerationBatch(initialDynamicSamplingState(), [g('a', [1, 0]), g('b', [0, 0])], cfg);
    assert.equal(d1.action, 'generate');
    assert.throws(() => addGenerationBatch(d1.state, [g('c', [1, 1])], cfg), (e: unknown) => {
      assert.ok(e instanceof DynamicSamplingExhaustedError);
      assert.equal(e.kept, 1);
      assert.equal(e.needed, 4);
      assert.equal(e.genBatches, 2);
      assert.match(e.message, /max_num_gen_batches 2/);
      return true;
    });
    const d2 = addGenerationBatch(d1.state, [g('c', [1, 1])], { ...cfg, trainOnPartial: true });
    assert.equal(d2.action, 'train');
    if (d2.action === 'train') {
      assert.deepEqual(d2.groups.map((x) => x.id), ['a']);
      assert.equal(d2.partial, true);
    }
    // Nothing kept at all: even trainOnPartial fails.
    assert.throws(
      () => addGenerationBatch(initialDynamicSamplingState(), [g('x', [0, 0])], { trainBatchSize: 1, maxNumGenBatches: 1, trainOnPartial: true }),
      DynamicSamplingExhaustedError,
    );
  });

  it('disabled: every group kept, trains after the first batch; 0 = unlimited batches', () => {
    const d = addGenerationBatch(initialDynamicSamplingState(), [g('a', [1, 1]), g('b', [0, 0])], { trainBatchSize: 2, maxNumGenBatches: 1, enabled: false });
    assert.equal(d.action, 'train');
    let s = initialDynamicSamplingState();
    for (let i = 0; i < 30; i++) {
      const r = addGenerationBatch(s, [g(`z${i}`, [0, 0])], { trainBatchSize: 1, maxNumGenBatches: 0 });
      assert.equal(r.action, 'generate');
      s = r.state;
    }
    assert.throws(() => addGenerationBatch(s, [], { trainBatchSize: 0, maxNumGenBatches: 1 }), RecipeConfigError);
  });
});
