/**
 * Engine graph-layer benchmark (run: node dist/bench/graph.bench.js [--threads 2] [--n 1024]).
 * 1. Plain ORT MatMul peak vs a matmul-heavy engine graph (MLP forward + backward built with
 *    grad()), printed as GFLOP/s and a ratio, in the same run.
 * 2. Per-run overhead on a tiny graph: raw ORT, engine Session (in-thread) and EngineHost
 *    (worker thread round trip), in microseconds.
 */
import { Graph, grad, matmul, tanh, reduceSum, mul, add } from '../engine/graph';
import { EngineHost, Session, hostTensor } from '../engine/exec';
import * as ort from 'onnxruntime-node';
import * as os from 'node:os';
import { serialize } from '../engine/graph';
import { measureMatmulPeak, timeIt } from './common';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** L-layer tanh MLP on N tokens of width d, loss = sum(out); grads for every weight. */
function mlpStep(N: number, d: number, L: number): { g: Graph; flops: number } {
  const g = new Graph('mlp');
  const x = g.input('x', 'float32', [N, d]);
  const ws = Array.from({ length: L }, (_, i) => g.param(`w${i}`, [d, d]));
  let h = x;
  for (const w of ws) h = tanh(matmul(h, w));
  const loss = reduceSum(h);
  const gs = grad(loss, ws);
  g.output('loss', loss);
  gs.forEach((gw, i) => g.output(`g${i}`, gw));
  // forward L GEMMs, dW L GEMMs, dX L-1 GEMMs (x needs none), each 2*N*d*d.
  return { g, flops: (3 * L - 1) * 2 * N * d * d };
}

async function mlpGflops(N: number, d: number, L: number, threads: number): Promise<{ ms: number; gflops: number }> {
  const { g, flops } = mlpStep(N, d, L);
  const s = await Session.create(g, { threads });
  const feeds: Record<string, ReturnType<typeof hostTensor>> = { x: hostTensor('float32', [N, d], Float32Array.from({ length: N * d }, (_, i) => ((i % 17) - 8) / 64)) };
  for (let i = 0; i < L; i++) feeds[`w${i}`] = hostTensor('float32', [d, d], Float32Array.from({ length: d * d }, (_, k) => (((k * (i + 3)) % 19) - 9) / (10 * Math.sqrt(d))));
  const t = await timeIt(() => s.run(feeds), { minMs: 2000 });
  return { ms: t.ms, gflops: flops / (t.ms * 1e6) };
}

async function main(): Promise<void> {
  const threads = arg('threads', 2);
  const n = arg('n', 1024);
  console.log(`# engine graph benchmark (onnxruntime-node, CPU, ${threads} intra-op threads)`);
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores (figures are noisy when others compute)`);
  const results: string[] = [];
  const runs: { N: number; d: number; L: number; gflops: number; ms: number }[] = [];
  const p1 = await measureMatmulPeak(n, threads);
  for (const [N, d, L] of [[n, n, 3], [512, 256, 4]] as const) runs.push({ N, d, L, ...(await mlpGflops(N, d, L, threads)) });
  const p2 = await measureMatmulPeak(n, threads);
  // The peak is measured before and after the engine graphs; the higher one is the reference.
  const peak = p1.gflops >= p2.gflops ? p1 : p2;
  console.log(`plain ORT MatMul ${n}x${n}x${n}: ${p1.gflops.toFixed(1)} / ${p2.gflops.toFixed(1)} GFLOP/s (before / after); peak ${peak.gflops.toFixed(1)} GFLOP/s`);
  for (const r of runs) {
    results.push(`engine MLP fwd+bwd N=${r.N} d=${r.d} L=${r.L}: ${r.ms.toFixed(2)} ms, ${r.gflops.toFixed(1)} GFLOP/s, ratio to peak ${(r.gflops / peak.gflops).toFixed(2)}`);
  }
  for (const line of results) console.log(line);

  // Tiny-graph overhead.
  const g = new Graph('tiny');
  const a = g.input('a', 'float32', [4]);
  g.output('y', add(mul(a, 2), 1));
  const feed = { a: hostTensor('float32', [4], [1, 2, 3, 4]) };
  const raw = await ort.InferenceSession.create(serialize(g), { intraOpNumThreads: 1 });
  const rawFeed = { a: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [4]) };
  const tRaw = await timeIt(() => raw.run(rawFeed), { warmup: 50, minMs: 1000, minRuns: 200 });
  const s = await Session.create(g, { threads: 1 });
  const tIn = await timeIt(() => s.run(feed), { warmup: 50, minMs: 1000, minRuns: 200 });
  const host = await EngineHost.start({ threads: 1 });
  const rs = await host.compile(g);
  const tHost = await timeIt(() => host.run(rs, feed), { warmup: 50, minMs: 1000, minRuns: 200 });
  await host.close();
  console.log(`tiny graph per-run: raw ORT ${(tRaw.ms * 1000).toFixed(0)} us, engine Session ${(tIn.ms * 1000).toFixed(0)} us, worker host ${(tHost.ms * 1000).toFixed(0)} us (median)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
