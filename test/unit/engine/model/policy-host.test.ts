import { strict as assert } from 'node:assert';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CancelledError, CorruptArtifactError, ModelConfigError, PolicyHost, TokenOutOfVocabError, TrainProgress, WordLevelTokenizer, tinyConfig,
} from '../../../../engine';

describe('engine PolicyHost (weights kept in the worker thread)', function () {
  this.timeout(60000);
  const cfg = tinyConfig({ vocab_size: 30, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8, initializer_range: 0.2 });
  let host: PolicyHost;
  let dir: string;
  before(async () => {
    host = await PolicyHost.start({ threads: 1 });
    dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'longrl-host-'));
  });
  after(async () => {
    await host.close();
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('init, generate, score, PG train step with progress, save, load round trip', async () => {
    assert.equal(await host.getVersion(), null);
    const v0 = await host.init(cfg, 3, 'run-a');
    assert.equal(v0.version, 0);
    assert.equal(v0.tag, 'run-a');
    const prompts = [[1, 2, 3], [4, 5]];
    const gen = await host.generate({ prompts, samplesPerPrompt: 2, maxNewTokens: 5, sampling: { temperature: 1 }, seed: 1 });
    const seqs = gen.samples.map((s) => ({ prompt: prompts[s.promptIndex], response: s.tokens }));
    const sc = await host.score({ sequences: seqs, temperature: 1 });
    const adv = [1, -1, 0.5, -0.5];
    const mbs = [0, 2].map((i) => seqs.slice(i, i + 2).map((s, j) => ({ ...s, advantage: adv[i + j], oldLogprobs: sc.logprobs[i + j] })));
    const progress: TrainProgress[] = [];
    const m = await host.trainStep({ objective: 'pg', microBatches: mbs, optimizer: { lr: 1e-3 }, loss: { aggregation: 'token-mean' } }, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(progress.map((p) => p.microBatch), [1, 2]);
    assert.equal(progress[1].tokensDone, progress[1].tokensTotal);
    assert.equal(m.version, 1);
    assert.ok(m.updated && m.gradNorm > 0);
    assert.ok(Math.abs(m.approxKl!) < 1e-5, 'old log-probs came from this policy: ratio 1');
    assert.equal(m.clipFrac, 0);
    const tok = WordLevelTokenizer.train(['a b c']);
    await host.save(dir, { tokenizer: { json: tok.toJson() }, meta: { step: 1 } });
    const before = await host.score({ sequences: seqs });
    const host2 = await PolicyHost.start({ threads: 1 });
    try {
      const v = await host2.load(dir);
      assert.equal(v.version, 1);
      assert.equal(v.tag, 'run-a');
      assert.equal(v.optimizerStep, 1);
      const after = await host2.score({ sequences: seqs });
      assert.deepEqual(after.logprobs, before.logprobs);
    } finally {
      await host2.close();
    }
  });

  it('cancellation between micro-batches leaves the weights unchanged', async () => {
    await host.init(cfg, 4);
    const seqs = [{ prompt: [1, 2], response: [3, 4, 5] }];
    const before = await host.score({ sequences: seqs });
    const ac = new AbortController();
    const mbs = Array.from({ length: 6 }, () => seqs);
    await assert.rejects(host.trainStep({ objective: 'sft', microBatches: mbs, optimizer: { lr: 1e-2 } }, { signal: ac.signal, onProgress: (p) => { if (p.microBatch === 2) ac.abort(); } }),
      (e: unknown) => e instanceof CancelledError || (e as Error).name === 'AbortError');
    assert.equal((await host.getVersion())!.version, 0);
    assert.deepEqual((await host.score({ sequences: seqs })).logprobs, before.logprobs);
    const ok = await host.trainStep({ objective: 'sft', microBatches: [seqs], optimizer: { lr: 1e-2 } });
    assert.equal(ok.version, 1);
  });

  it('typed errors survive the thread hop: bad config, token outside vocab, corrupt checkpoint', async () => {
    await assert.rejects(host.init({ ...cfg, num_attention_heads: 3, num_key_value_heads: 2 }, 1), (e: unknown) => e instanceof ModelConfigError && e.field === 'num_key_value_heads');
    await host.init(cfg, 1);
    await assert.rejects(host.generate({ prompts: [[1, 99]], maxNewTokens: 2, seed: 1 }), (e: unknown) => e instanceof TokenOutOfVocabError && e.field === 'prompts[0]');
    const w = path.join(dir, 'model.safetensors');
    const bytes = await fsp.readFile(w);
    bytes[bytes.length - 3] ^= 1;
    await fsp.writeFile(w, bytes);
    await assert.rejects(host.load(dir), (e: unknown) => e instanceof CorruptArtifactError && e.file === w);
  });
});
