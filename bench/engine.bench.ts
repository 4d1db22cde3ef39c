/**
 * Policy-model benchmark (issue 4 item 6; printed, not asserted): training tokens/s and
 * achieved GFLOP/s as a fraction of the plain ORT MatMul peak measured in the same run,
 * generation tokens/s with and without the KV cache, peak memory. Ends with one line per
 * config:
 *   engine <config>: train <tok/s> tok/s, <GFLOP/s> GFLOP/s = <fraction> of matmul peak <GFLOP/s>; generate <tok/s> tok/s (kv) vs <tok/s> tok/s (recompute)
 * Run: npm run bench:engine  (LONGRL_BENCH_THREADS, LONGRL_BENCH_QUICK=1 for a short run)
 *
 * FLOPs counted (matmuls only, the standard 6N estimate): per token 6 * (matmul weights
 * incl. LM head) for forward + backward, plus attention 3 * 4 * T * H * D * L per token
 * (QK^T and PV over the full T x T square the graph computes).
 */
import * as os from 'node:os';
import { measureMatmulPeak } from './common';
import { ModelConfig, tinyConfig, countParams } from '../engine/model/config';
import { PolicyModel } from '../engine/model/policy';

const threads = Number(process.env.LONGRL_BENCH_THREADS ?? Math.min(os.availableParallelism?.() ?? 2, 8));
const quick = process.env.LONGRL_BENCH_QUICK === '1';

function trainFlopsPerToken(cfg: ModelConfig, T: number): number {
  const { hidden_size: C, intermediate_size: I, num_attention_heads: H, num_key_value_heads: K, head_dim: D, num_hidden_layers: L, vocab_size: V } = cfg;
  const weights = L * (C * H * D + 2 * C * K * D + H * D * C + 3 * C * I) + V * C;
  return 6 * weights + 3 * 4 * T * H * D * L;
}

function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

interface TrainResult { tokS: number; gflops: number; msPerStep: number; peak: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Train steps interleaved with short MatMul-peak measurements, so that both see the same
 * machine load (the CPU may be shared); medians of each.
 */
async function benchTrain(m: PolicyModel, T: number, B: number, steps: number): Promise<TrainResult> {
  const V = m.config.vocab_size;
  let seed = 1;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % (V - 10) + 10; };
  const mb = Array.from({ length: B }, () => ({ prompt: [rnd()], response: Array.from({ length: T }, rnd) }));
  const req = { objective: 'sft' as const, microBatches: [mb], optimizer: { lr: 1e-4 } };
  await m.trainStep(req); // compile + warm up
  const times: number[] = [];
  const peaks: number[] = [];
  for (let i = 0; i < steps; i++) {
    peaks.push((await measureMatmulPeak(1024, threads, 300)).gflops);
    const t0 = performance.now();
    await m.trainStep(req);
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  const tokens = B * T;
  return { tokS: tokens / (ms / 1000), gflops: (tokens * trainFlopsPerToken(m.config, T)) / (ms * 1e6), msPerStep: ms, peak: median(peaks) };
}

async function benchGenerate(m: PolicyModel, useCache: boolean, newTokens: number): Promise<{ ms: number }> {
  const prompts = [Array.from({ length: 32 }, (_, i) => 10 + (i * 7) % 50)];
  const req = { prompts, samplesPerPrompt: 2, maxNewTokens: newTokens, sampling: { temperature: 1 }, seed: 1, useCache };
  await m.generate({ ...req, maxNewTokens: 4 }); // compile + warm up
  const t0 = performance.now();
  const r = await m.generate(req);
  const ms = performance.now() - t0;
  if (r.samples.some((s) => s.tokens.length !== newTokens)) throw new Error('bench: a sample stopped early');
  return { ms };
}

async function main(): Promise<void> {
  console.log(`engine bench: ${threads} ORT threads, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'})${quick ? ', quick' : ''}`);
  const peak = await measureMatmulPeak(1024, threads, quick ? 500 : 1500);
  console.log(`ORT MatMul peak (1024^3 float32, ${threads} threads): ${peak.gflops.toFixed(1)} GFLOP/s (${peak.ms.toFixed(1)} ms); re-measured between train steps below`);
  const d256 = tinyConfig({ hidden_size: 256, intermediate_size: 768, num_attention_heads: 8, num_key_value_heads: 4, head_dim: 32, num_hidden_layers: 4 });
  const configs: Array<{ name: string; cfg: ModelConfig; T: number; B: number }> = [
    { name: 'tiny T=512', cfg: tinyConfig(), T: 512, B: 8 },
    { name: 'd256 T=512', cfg: d256, T: 512, B: 8 },
    { name: 'd256 T=2048', cfg: d256, T: 2048, B: 2 },
  ];
  const newTokens = quick ? 64 : 256;
  const genCache = new Map<ModelConfig, { kv: number; re: number }>();
  const lines: string[] = [];
  for (const c of configs) {
    const m = PolicyModel.create(c.cfg, { seed: 1, threads });
    const tr = await benchTrain(m, c.T, c.B, quick ? 2 : 5);
    console.log(`${c.name}: ${(countParams(c.cfg) / 1e6).toFixed(2)}M params, B=${c.B}: ${tr.msPerStep.toFixed(0)} ms/step (fwd+bwd+AdamW), ${tr.tokS.toFixed(0)} tok/s, ${tr.gflops.toFixed(1)} GFLOP/s; interleaved matmul peak ${tr.peak.toFixed(1)} GFLOP/s; peak RSS ${peakRssMiB().toFixed(0)} MiB`);
    let gen = genCache.get(c.cfg);
    if (!gen) {
      // kv and recompute alternate (best of 2 each) so both see the same machine load.
      const kvs: number[] = [];
      const res: number[] = [];
      for (let r = 0; r < 2; r++) {
        kvs.push((await benchGenerate(m, true, newTokens)).ms);
        res.push((await benchGenerate(m, false, newTokens)).ms);
      }
      const tokens = 2 * newTokens;
      const kvMs = Math.min(...kvs);
      const reMs = Math.min(...res);
      gen = { kv: tokens / (kvMs / 1000), re: tokens / (reMs / 1000) };
      genCache.set(c.cfg, gen);
      console.log(`${c.name}: generate 1 prompt x G=2, 32-token prompt, ${newTokens} new tokens (no stop): kv ${kvMs.toFixed(0)} ms, recompute ${reMs.toFixed(0)} ms (x${(reMs / kvMs).toFixed(1)}), peak RSS ${peakRssMiB().toFixed(0)} MiB`);
    }
    lines.push(`engine ${c.name}: train ${tr.tokS.toFixed(0)} tok/s, ${tr.gflops.toFixed(1)} GFLOP/s = ${(tr.gflops / tr.peak).toFixed(2)} of matmul peak ${tr.peak.toFixed(1)} GFLOP/s; generate ${gen.kv.toFixed(0)} tok/s (kv) vs ${gen.re.toFixed(0)} tok/s (recompute)`);
  }
  console.log(`peak memory (max RSS of this process): ${peakRssMiB().toFixed(0)} MiB`);
  for (const l of lines) console.log(l);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
