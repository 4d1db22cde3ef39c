/**
 * Shared benchmark helpers. `measureMatmulPeak` measures what plain onnxruntime-node
 * achieves on one float32 MatMul node (the reference "peak" the engine's graphs are
 * compared against).
 */
import * as ort from 'onnxruntime-node';
import { Graph, matmul, serialize } from '../engine/graph';

export interface Timing {
  /** Median milliseconds per run. */
  readonly ms: number;
  readonly runs: number;
}

/** Runs `fn` `warmup` times, then until `minMs` elapsed (at least `minRuns`); returns the median. */
export async function timeIt(fn: () => Promise<unknown>, opts: { warmup?: number; minMs?: number; minRuns?: number } = {}): Promise<Timing> {
  for (let i = 0; i < (opts.warmup ?? 2); i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < (opts.minRuns ?? 5) || performance.now() - start < (opts.minMs ?? 1000)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], runs: times.length };
}

export interface PeakResult {
  readonly n: number;
  readonly threads: number;
  readonly ms: number;
  readonly gflops: number;
}

/**
 * Plain ORT MatMul peak: one [n, n] x [n, n] float32 MatMul node run through
 * ort.InferenceSession directly (no engine code on the run path), `threads` intra-op threads.
 */
export async function measureMatmulPeak(n = 1024, threads = 2, minMs = 1500): Promise<PeakResult> {
  const g = new Graph('peak');
  g.output('c', matmul(g.input('a', 'float32', [n, n]), g.input('b', 'float32', [n, n])));
  const s = await ort.InferenceSession.create(serialize(g), { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  const a = new ort.Tensor('float32', Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) / 13 - 0.5), [n, n]);
  const b = new ort.Tensor('float32', Float32Array.from({ length: n * n }, (_, i) => ((i * 5) % 11) / 11 - 0.5), [n, n]);
  const t = await timeIt(() => s.run({ a, b }), { minMs });
  await s.release();
  return { n, threads, ms: t.ms, gflops: (2 * n * n * n) / (t.ms * 1e6) };
}
