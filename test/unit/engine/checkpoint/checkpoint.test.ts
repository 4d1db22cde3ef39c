import { strict as assert } from 'node:assert';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CheckpointArchitectureError, CheckpointMissingError, CheckpointShapeError, CorruptArtifactError, SafetensorsFormatError,
  decodeSafetensors, encodeSafetensors, loadCheckpoint, saveCheckpoint, verifyCheckpoint,
} from '../../../../engine/checkpoint';
import { ModelConfigError, initParams, paramSpecs, tinyConfig } from '../../../../engine/model/config';
import { WordLevelTokenizer } from '../../../../engine/tokenizer';
import { writeFileAtomic } from '../../../../infra/store/atomic';

const cfg = tinyConfig({ vocab_size: 64, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 8 });

/** Replace config.json and its manifest checksum (simulates a checkpoint whose files disagree). */
async function rewriteConfig(dir: string, config: unknown): Promise<void> {
  const mf = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(await fsp.readFile(mf, 'utf8'));
  manifest.files['config.json'].sha256 = await writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(config));
  await fsp.writeFile(mf, JSON.stringify(manifest));
}

async function tmp(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'longrl-ckpt-'));
}

describe('engine/checkpoint safetensors', () => {
  it('round-trips F32/F64/I64 tensors and metadata, 8-byte aligned header', () => {
    const parts = encodeSafetensors([
      ['a', { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6.5]) }],
      ['b', { shape: [2], data: new Float64Array([Math.PI, -1e-300]) }],
      ['c', { shape: [3], data: new BigInt64Array([1n, -2n, 3n ** 30n]) }],
    ], { step: '7' });
    const buf = Buffer.concat(parts);
    const hlen = Number(buf.readBigUInt64LE(0));
    assert.equal((8 + hlen) % 8, 0);
    const { tensors, metadata } = decodeSafetensors(buf);
    assert.equal(metadata.step, '7');
    assert.deepEqual(Array.from(tensors.get('a')!.data as Float32Array), [1, 2, 3, 4, 5, 6.5]);
    assert.deepEqual(tensors.get('a')!.shape, [2, 3]);
    assert.deepEqual(Array.from(tensors.get('b')!.data as Float64Array), [Math.PI, -1e-300]);
    assert.deepEqual(Array.from(tensors.get('c')!.data as BigInt64Array), [1n, -2n, 3n ** 30n]);
  });

  it('decodes BF16 and F16 to float32 and rejects bad offsets', () => {
    const header = JSON.stringify({ x: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] }, y: { dtype: 'F16', shape: [1], data_offsets: [4, 6] } });
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const data = Buffer.alloc(6);
    data.writeUInt16LE(0x3f80, 0); // bf16 1.0
    data.writeUInt16LE(0xc000, 2); // bf16 -2.0
    data.writeUInt16LE(0x3c00, 4); // f16 1.0
    const { tensors } = decodeSafetensors(Buffer.concat([len, Buffer.from(header), data]));
    assert.deepEqual(Array.from(tensors.get('x')!.data as Float32Array), [1, -2]);
    assert.deepEqual(Array.from(tensors.get('y')!.data as Float32Array), [1]);
    const bad = JSON.stringify({ x: { dtype: 'F32', shape: [4], data_offsets: [0, 8] } });
    len.writeBigUInt64LE(BigInt(bad.length));
    assert.throws(() => decodeSafetensors(Buffer.concat([len, Buffer.from(bad), Buffer.alloc(8)]), 'w.safetensors'),
      (e: unknown) => e instanceof SafetensorsFormatError && e.tensor === 'x' && e.file === 'w.safetensors');
  });
});

describe('engine/checkpoint save/load', () => {
  it('saves weights, optimizer, config, tokenizer and a manifest; loads them identical', async () => {
    const dir = await tmp();
    try {
      const params = initParams(cfg, 1);
      const m = initParams(cfg, 2);
      const v = initParams(cfg, 3);
      const tok = WordLevelTokenizer.train(['a b c']);
      const man = await saveCheckpoint(dir, { config: cfg, params, optimizer: { step: 5, m, v }, tokenizer: { json: tok.toJson(), config: tok.toConfigJson(128) }, meta: { version: 3 } });
      assert.deepEqual(Object.keys(man.files).sort(), ['config.json', 'generation_config.json', 'model.safetensors', 'optimizer.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
      const hf = JSON.parse(await fsp.readFile(path.join(dir, 'config.json'), 'utf8'));
      assert.deepEqual(hf.architectures, ['Qwen3ForCausalLM']);
      assert.equal(hf.num_key_value_heads, 1);
      const back = await loadCheckpoint(dir);
      assert.deepEqual(back.config, cfg);
      assert.equal(back.meta?.version, 3);
      for (const p of paramSpecs(cfg)) {
        assert.deepEqual(back.params.get(p.name), params.get(p.name), p.name);
        assert.deepEqual(back.optimizer!.m.get(p.name), m.get(p.name));
        assert.deepEqual(back.optimizer!.v.get(p.name), v.get(p.name));
      }
      assert.equal(back.optimizer!.step, 5);
      assert.deepEqual(WordLevelTokenizer.fromJson(back.tokenizer!.json).encode('a b z'), tok.encode('a b z'));
      assert.ok(paramSpecs(cfg).some((p) => p.name === 'model.layers.1.self_attn.k_norm.weight'));
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with typed errors: checksum, wrong shape, architecture, missing manifest, bad config', async () => {
    const dir = await tmp();
    try {
      await saveCheckpoint(dir, { config: cfg, params: initParams(cfg, 1) });
      // corrupt one byte of the weights
      const wf = path.join(dir, 'model.safetensors');
      const bytes = await fsp.readFile(wf);
      bytes[bytes.length - 1] ^= 0xff;
      await fsp.writeFile(wf, bytes);
      await assert.rejects(loadCheckpoint(dir), (e: unknown) => e instanceof CorruptArtifactError && e.file === wf);
      await assert.rejects(verifyCheckpoint(dir), CorruptArtifactError);

      // weights of another shape under a config that disagrees
      const other = { ...cfg, intermediate_size: 32 };
      await saveCheckpoint(dir, { config: other, params: initParams(other, 1) });
      const cfgFile = path.join(dir, 'config.json');
      await rewriteConfig(dir, cfg);
      await assert.rejects(loadCheckpoint(dir), (e: unknown) => e instanceof CheckpointShapeError
        && e.tensor === 'model.layers.0.mlp.gate_proj.weight' && e.file === wf && e.actual?.[0] === 32 && e.expected?.[0] === 24);

      await saveCheckpoint(dir, { config: cfg, params: initParams(cfg, 1) });
      await assert.rejects(loadCheckpoint(dir, { expect: { hidden_size: 32 } }), (e: unknown) => e instanceof CheckpointArchitectureError && e.field === 'hidden_size');
      await rewriteConfig(dir, { ...cfg, architectures: ['LlamaForCausalLM'] });
      await assert.rejects(loadCheckpoint(dir), (e: unknown) => e instanceof ModelConfigError && e.field === 'architectures' && e.file === cfgFile);

      await fsp.rm(path.join(dir, 'manifest.json'));
      await assert.rejects(loadCheckpoint(dir), CheckpointMissingError);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('validates configs: heads must divide, kv heads must divide heads', () => {
    assert.throws(() => tinyConfig({ num_attention_heads: 4, num_key_value_heads: 3 }), (e: unknown) => e instanceof ModelConfigError && e.field === 'num_key_value_heads');
    assert.throws(() => tinyConfig({ hidden_size: 130, head_dim: undefined as unknown as number, num_attention_heads: 4 }), (e: unknown) => e instanceof ModelConfigError && e.field === 'num_attention_heads');
    assert.throws(() => tinyConfig({ vocab_size: 0 }), (e: unknown) => e instanceof ModelConfigError && e.field === 'vocab_size');
  });
});
