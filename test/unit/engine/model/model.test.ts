import { strict as assert } from 'node:assert';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Session, hostTensor } from '../../../../engine/exec';
import type { HostTensor } from '../../../../engine/exec';
import { ModelConfig, ModelConfigError, initParams, paramSpecs, tinyConfig } from '../../../../engine/model/config';
import { buildTrainGraph } from '../../../../engine/model/qwen3';
import { PolicyModel } from '../../../../engine/model/policy';
import { Rng } from '../../../../engine/sampling';
import { TokenOutOfVocabError } from '../../../../engine/tokenizer';
import { loadCheckpoint, saveCheckpoint } from '../../../../engine/checkpoint';

const small = (o: Partial<ModelConfig> = {}): ModelConfig => tinyConfig({
  vocab_size: 23, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 4, rope_theta: 100, ...o,
});

/**
 * Whole-model gradient check in float64: analytic grad.<param> of the train graph against
 * central finite differences of its loss, on a few coordinates of every parameter.
 */
async function gradCheck(cfg: ModelConfig, objective: 'sft' | 'pg'): Promise<void> {
  const g = buildTrainGraph(cfg, objective === 'pg' ? { objective, kl: 'k3', entropyInLoss: true } : { objective }, 'float64');
  const s = await Session.create(g, { threads: 1 });
  const rng = new Rng(11);
  const B = 2;
  const T = 5;
  const params = new Map<string, Float64Array>();
  for (const p of paramSpecs(cfg)) {
    const a = new Float64Array(p.shape.reduce((x, y) => x * y, 1));
    for (let i = 0; i < a.length; i++) a[i] = (p.init === 'ones' ? 1 : 0) + 0.3 * rng.normal();
    params.set(p.name, a);
  }
  const ints = (n: number) => BigInt64Array.from({ length: n }, () => BigInt(rng.int(cfg.vocab_size)));
  const bt = (f: () => number) => hostTensor('float64', [B, T], Float64Array.from({ length: B * T }, f));
  const sc = (v: number) => hostTensor('float64', [], Float64Array.from([v]));
  const feeds: Record<string, HostTensor> = {
    input_ids: hostTensor('int64', [B, T], ints(B * T)), targets: hostTensor('int64', [B, T], ints(B * T)),
    temperature: sc(0.8), weights: bt(() => (rng.next() < 0.7 ? 0.1 : 0)), metric_weights: bt(() => 0.1),
  };
  if (objective === 'pg') {
    Object.assign(feeds, {
      advantages: bt(() => rng.normal()), old_logp: bt(() => -3.1 + 0.3 * rng.normal()), ref_logp: bt(() => -3.1 + 0.3 * rng.normal()),
      clip_low: sc(0.2), clip_high: sc(0.28), clip_ratio_c: sc(3), kl_coef: sc(0.3), entropy_coef: sc(0.05),
    });
  }
  const withParams = () => {
    const f = { ...feeds };
    for (const p of paramSpecs(cfg)) f[p.name] = hostTensor('float64', p.shape, params.get(p.name)!);
    return f;
  };
  const out = await s.run(withParams());
  const h = 1e-6;
  let checked = 0;
  for (const p of paramSpecs(cfg)) {
    const a = params.get(p.name)!;
    const an = out[`grad.${p.name}`].data as Float64Array;
    for (let k = 0; k < 3; k++) {
      const i = rng.int(a.length);
      const x0 = a[i];
      a[i] = x0 + h;
      const lp = ((await s.run(withParams(), { outputs: ['loss'] })).loss.data as Float64Array)[0];
      a[i] = x0 - h;
      const lm = ((await s.run(withParams(), { outputs: ['loss'] })).loss.data as Float64Array)[0];
      a[i] = x0;
      const fd = (lp - lm) / (2 * h);
      const err = Math.abs(fd - an[i]) / Math.max(1e-6, Math.abs(fd) + Math.abs(an[i]));
      assert.ok(err < 1e-5 || Math.abs(fd - an[i]) < 1e-9, `${p.name}[${i}]: analytic ${an[i]} vs finite difference ${fd}`);
      checked++;
    }
  }
  assert.ok(checked >= 3 * paramSpecs(cfg).length);
}

describe('engine/model Qwen3 policy', function () {
  this.timeout(60000);

  it('whole-model gradient check (SFT, Qwen3 with q/k norm, tied head) against finite differences in float64', async () => {
    await gradCheck(small(), 'sft');
  });

  it('whole-model gradient check (PG + k3 KL + entropy, Qwen2 with QKV bias, untied head, MHA) in float64', async () => {
    await gradCheck(small({ architectures: ['Qwen2ForCausalLM'], tie_word_embeddings: false, num_key_value_heads: 2 }), 'pg');
  });

  it('SFT on a tiny synthetic language drives the loss down and greedy decoding reproduces the memorised sequences', async () => {
    const cfg = tinyConfig({ vocab_size: 24, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, initializer_range: 0.1 });
    const m = PolicyModel.create(cfg, { seed: 5, threads: 1 });
    // Two "documents": prompt token -> a fixed 10-token continuation ending in the stop token 1.
    const data = [
      { prompt: [2, 3], response: [7, 9, 11, 13, 7, 15, 17, 9, 19, 1] },
      { prompt: [2, 4], response: [20, 8, 6, 8, 21, 22, 6, 10, 12, 1] },
    ];
    const losses: number[] = [];
    const progress: number[] = [];
    for (let step = 0; step < 80; step++) {
      const r = await m.trainStep({ objective: 'sft', microBatches: [[data[0]], [data[1]]], optimizer: { lr: 1e-2, weightDecay: 0 } }, (p) => progress.push(p.microBatch));
      losses.push(r.loss);
      assert.equal(r.version, step + 1);
    }
    assert.deepEqual(progress.slice(0, 2), [1, 2]);
    assert.ok(losses[0] > 2.5, `first loss ${losses[0]}`);
    assert.ok(losses.at(-1)! < 0.05, `last loss ${losses.at(-1)}`);
    const gen = await m.generate({ prompts: data.map((d) => d.prompt), maxNewTokens: 15, sampling: { temperature: 0 }, seed: 1, stopTokens: [1] });
    gen.samples.forEach((s, i) => {
      assert.deepEqual(s.tokens, data[i].response);
      assert.equal(s.finishReason, 'stop');
    });
  });

  describe('generation', () => {
    const cfg = tinyConfig({ vocab_size: 40, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, initializer_range: 0.3 });
    const m = PolicyModel.create(cfg, { seed: 3, threads: 1 });
    const prompts = [[5, 6, 7, 8, 9], [10, 11], [12, 13, 14]];

    it('with the KV cache gives the same tokens and log-probs as recomputing the prefix (left-padded prompts, G samples, stop tokens)', async () => {
      for (const sampling of [{ temperature: 0 }, { temperature: 0.9, topP: 0.9, topK: 20 }]) {
        const req = { prompts, samplesPerPrompt: 3, maxNewTokens: 12, sampling, seed: 42, stopTokens: [3, 4] };
        const kv = await m.generate(req);
        const re = await m.generate({ ...req, useCache: false });
        assert.equal(kv.samples.length, 9);
        kv.samples.forEach((s, i) => {
          assert.deepEqual(s.tokens, re.samples[i].tokens, `sample ${i}`);
          s.logprobs.forEach((lp, j) => assert.ok(Math.abs(lp - re.samples[i].logprobs[j]) < 1e-4));
          assert.ok(s.tokens.length <= 12);
          if (s.finishReason === 'stop') assert.ok([3, 4].includes(s.tokens.at(-1)!));
          else assert.equal(s.tokens.length, 12);
        });
      }
    });

    it('same seed -> same samples, another seed -> different; the prompts share one prefill', async () => {
      const req = { prompts, samplesPerPrompt: 4, maxNewTokens: 8, sampling: { temperature: 1 }, seed: 7 };
      const a = await m.generate(req);
      const b = await m.generate(req);
      const c = await m.generate({ ...req, seed: 8 });
      assert.deepEqual(a.samples, b.samples);
      assert.notDeepEqual(a.samples.map((s) => s.tokens), c.samples.map((s) => s.tokens));
      assert.ok(a.steps <= 8, `one prefill + at most 7 decode steps, got ${a.steps}`);
      const g0 = a.samples.filter((s) => s.promptIndex === 0).map((s) => s.tokens.join(','));
      assert.ok(new Set(g0).size > 1, 'samples of one prompt differ');
    });

    it('sampled log-probs equal the score graph log-probs of the same responses', async () => {
      const gen = await m.generate({ prompts, samplesPerPrompt: 2, maxNewTokens: 6, sampling: { temperature: 0.7 }, seed: 9 });
      const sc = await m.score({ sequences: gen.samples.map((s) => ({ prompt: prompts[s.promptIndex], response: s.tokens })), temperature: 0.7, microBatchSize: 4 });
      gen.samples.forEach((s, i) => s.logprobs.forEach((lp, j) => assert.ok(Math.abs(lp - sc.logprobs[i][j]) < 1e-4, `sample ${i} token ${j}: ${lp} vs ${sc.logprobs[i][j]}`)));
      sc.entropies.forEach((e) => e.forEach((x) => assert.ok(x > 0 && x <= Math.log(cfg.vocab_size) + 1e-4)));
    });

    it('rejects tokens outside the vocabulary and bad requests with typed errors naming the field', async () => {
      await assert.rejects(m.generate({ prompts: [[1, 2], [3, 40]], maxNewTokens: 2, seed: 1 }), (e: unknown) => e instanceof TokenOutOfVocabError && e.field === 'prompts[1]' && e.index === 1);
      await assert.rejects(m.score({ sequences: [{ prompt: [1], response: [-1] }] }), (e: unknown) => e instanceof TokenOutOfVocabError && e.field === 'sequences[0].response');
      assert.throws(() => PolicyModel.create(tinyConfig({ num_attention_heads: 3, num_key_value_heads: 2 })), (e: unknown) => e instanceof ModelConfigError && e.field === 'num_key_value_heads');
    });
  });

  it('save, load: identical logits and optimizer state', async () => {
    const cfg = small();
    const m = PolicyModel.create(cfg, { seed: 4, threads: 1 });
    await m.trainStep({ objective: 'sft', microBatches: [[{ prompt: [1, 2], response: [3, 4, 5] }]], optimizer: { lr: 1e-3 } });
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'longrl-model-'));
    try {
      await saveCheckpoint(dir, { config: cfg, params: m.params, optimizer: m.optimizer, meta: { version: m.version } });
      const ck = await loadCheckpoint(dir);
      const m2 = PolicyModel.create(ck.config, { params: ck.params, optimizer: ck.optimizer, version: Number(ck.meta?.version), threads: 1 });
      const rows = [[1, 2, 3, 4, 5, 6]];
      assert.deepEqual(await m2.logits(rows), await m.logits(rows));
      assert.equal(m2.version, 1);
      assert.equal(m2.optimizer.step, 1);
      assert.notDeepEqual(await m2.logits(rows), await PolicyModel.create(cfg, { params: initParams(cfg, 4), threads: 1 }).logits(rows));
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
