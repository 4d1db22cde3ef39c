/**
 * The policy in one thread: parameters, AdamW state and compiled sessions of the Qwen3
 * graphs (qwen3.ts), with batching, padding, gradient accumulation, the optimizer step and
 * KV-cache generation around them. `PolicyModel` blocks its thread while ORT runs: the
 * main thread uses it through `PolicyHost` (policy-host.ts), which keeps one inside the
 * engine's worker thread. Tests may use it directly.
 *
 * Shapes: B sequences per micro-batch, T padded length, V vocab, G samples per prompt.
 */
import * as os from 'node:os';
import { Session, hostTensor } from '../exec';
import type { HostTensor } from '../exec';
import { ModelConfig, OptimizerStateLike, ParamMap, initParams, numel, paramSpecs } from './config';
import { buildAdamWGraph, buildScoreGraph, buildStepGraph, buildTrainGraph, TrainGraphOptions } from './qwen3';
import { AggregationMode, aggregationWeights, GlobalCounts } from './loss';
import { checkTokenIds } from '../tokenizer/errors';
import { Rng, deriveSeed } from '../sampling/rng';
import { SamplingOptions, sampleToken, validateSampling } from '../sampling/sampler';

/** A request is malformed (empty prompt, lengths that disagree, bad hyper-parameter). */
export class PolicyRequestError extends Error {
  override readonly name = 'PolicyRequestError';
  constructor(readonly field: string, detail: string) {
    super(`policy request: ${field}: ${detail}`);
  }
}

/** One sequence = prompt tokens followed by response tokens (ids in [0, V)). */
export interface SequenceInput {
  prompt: readonly number[];
  response: readonly number[];
}

export interface ScoreRequest {
  sequences: readonly SequenceInput[];
  /** Logits are divided by it before the softmax (rollout temperature); default 1. */
  temperature?: number;
  /** Sequences per ORT run (default 8). */
  microBatchSize?: number;
}

export interface ScoreResult {
  /** Per sequence, per response token: log p(token | prefix) at the temperature. */
  logprobs: Float32Array[];
  /** Per sequence, per response token: entropy of the next-token distribution at that slot. */
  entropies: Float32Array[];
}

/** One PG sequence: a response with its advantage and behaviour-policy log-probs. */
export interface PgSequence extends SequenceInput {
  /** GRPO advantage A_i, broadcast over the response tokens. */
  advantage: number;
  /** log-probs of the response tokens under the policy that sampled them (same length as response). */
  oldLogprobs: ArrayLike<number>;
  /** Reference-policy log-probs (needed when the KL term is on). */
  refLogprobs?: ArrayLike<number>;
}

export interface PgLossConfig {
  /** eps_low (default 0.2), eps_high (default 0.28: DAPO clip-higher), dual-clip c (default 3). */
  clipLow?: number;
  clipHigh?: number;
  clipRatioC?: number;
  aggregation?: AggregationMode;
  /** KL penalty to the reference (default 'none', as in QwenLong-L1). */
  klType?: 'none' | 'k1' | 'k2' | 'k3';
  klCoef?: number;
  /** Entropy bonus coefficient (default 0). */
  entropyCoef?: number;
  /** seq-mean-token-sum-norm horizon (default: the longest response in the step). */
  normLength?: number;
}

export interface OptimizerConfig {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Global grad-norm clip (default 1.0; 0 or Infinity = off). */
  maxGradNorm?: number;
}

export type TrainStepRequest =
  | { objective: 'sft'; microBatches: readonly (readonly SequenceInput[])[]; optimizer: OptimizerConfig; aggregation?: AggregationMode; global?: GlobalCounts }
  | { objective: 'pg'; microBatches: readonly (readonly PgSequence[])[]; optimizer: OptimizerConfig; loss?: PgLossConfig; temperature?: number; global?: GlobalCounts };

export interface TrainProgress {
  microBatch: number;
  microBatches: number;
  tokensDone: number;
  tokensTotal: number;
}

export interface TrainStepMetrics {
  /** Aggregated loss of the step (sum of the micro-batch shares). */
  loss: number;
  /** Global grad norm before clipping. */
  gradNorm: number;
  /** False when the grad norm was not finite: the update was skipped (veRL does the same). */
  updated: boolean;
  /** Token-mean metrics over the step's response tokens. */
  entropy: number;
  clipFrac?: number;
  clipFracUpper?: number;
  clipFracDual?: number;
  approxKl?: number;
  kl?: number;
  nll?: number;
  tokens: number;
  sequences: number;
  /** Model version after the step. */
  version: number;
  lr: number;
}

export interface GenerateRequest {
  prompts: readonly (readonly number[])[];
  /** G samples per prompt sharing one prefill (default 1). */
  samplesPerPrompt?: number;
  maxNewTokens: number;
  sampling?: SamplingOptions;
  /** Seed: sample (prompt p, index g) draws from Rng(deriveSeed(seed, p, g)), independent of batching. */
  seed: number;
  /** Generation of a sample ends after it emits one of these (included in its tokens). */
  stopTokens?: readonly number[];
  /** Use the KV cache (default true); false recomputes the whole prefix every token. */
  useCache?: boolean;
}

export interface GeneratedSample {
  promptIndex: number;
  sampleIndex: number;
  tokens: number[];
  /** log-prob of each sampled token under softmax(logits / temperature) (T = 1 when greedy). */
  logprobs: number[];
  finishReason: 'stop' | 'length';
}

export interface GenerateResult {
  /** Prompt-major: samples[p * G + g]. */
  samples: GeneratedSample[];
  /** Number of ORT step runs. */
  steps: number;
}

export interface PolicyModelOptions {
  seed?: number;
  params?: ParamMap;
  optimizer?: OptimizerStateLike;
  /** ORT intra-op threads (default: the number of cores). */
  threads?: number;
  /**
   * ORT threads for single-token decode steps (default 1: a decode step is hundreds of tiny
   * ops, where thread-pool synchronisation costs more than it saves).
   */
  decodeThreads?: number;
  version?: number;
}

type Feeds = Record<string, HostTensor>;

function scalar(v: number): HostTensor {
  return hostTensor('float32', [], new Float32Array([v]));
}

/** Parameters, optimizer state and sessions of one policy; see file comment. */
export class PolicyModel {
  private readonly sessions = new Map<string, Promise<Session>>();
  private grads: ParamMap | null = null;
  private paramFeeds: Feeds = {};
  readonly threads: number;
  readonly decodeThreads: number;

  private constructor(readonly config: ModelConfig, public params: ParamMap, public optimizer: OptimizerStateLike, public version: number, threads: number, decodeThreads: number) {
    this.threads = threads;
    this.decodeThreads = decodeThreads;
    this.refreshFeeds();
  }

  /** New model: given parameters, or seeded initialisation; zero AdamW state unless given. */
  static create(config: ModelConfig, opts: PolicyModelOptions = {}): PolicyModel {
    const params = opts.params ?? initParams(config, opts.seed ?? 0);
    const zeros = (): ParamMap => new Map(paramSpecs(config).map((p) => [p.name, new Float32Array(numel(p.shape))]));
    const opt = opts.optimizer ?? { step: 0, m: zeros(), v: zeros() };
    const threads = opts.threads ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
    return new PolicyModel(config, params, opt, opts.version ?? 0, threads, Math.min(threads, opts.decodeThreads ?? 1));
  }

  private refreshFeeds(): void {
    this.paramFeeds = {};
    for (const p of paramSpecs(this.config)) {
      const a = this.params.get(p.name);
      if (!a) throw new PolicyRequestError(`params.${p.name}`, 'missing');
      this.paramFeeds[p.name] = hostTensor('float32', p.shape, a);
    }
  }

  private session(key: string, build: () => import('../graph').Graph, threads = this.threads): Promise<Session> {
    key = `${key}@${threads}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = Session.create(build(), { threads });
      s.catch(() => this.sessions.delete(key));
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Compile the graphs a training loop needs now rather than at first use. */
  async warmup(kinds: Array<'score' | 'step' | 'sft' | 'pg' | 'adamw'> = ['score', 'step', 'sft', 'pg', 'adamw']): Promise<void> {
    for (const k of kinds) {
      if (k === 'score') await this.scoreSession();
      else if (k === 'step') { await this.stepSession(); await this.stepSession(this.decodeThreads); }
      else if (k === 'adamw') await this.adamSession();
      else await this.trainSession({ objective: k });
    }
  }

  private scoreSession(): Promise<Session> {
    return this.session('score', () => buildScoreGraph(this.config));
  }

  private stepSession(threads = this.threads): Promise<Session> {
    return this.session('step', () => buildStepGraph(this.config), threads);
  }

  private adamSession(): Promise<Session> {
    return this.session('adamw', () => buildAdamWGraph(this.config));
  }

  private trainSession(o: TrainGraphOptions): Promise<Session> {
    return this.session(`train:${o.objective}:${o.kl ?? 'none'}:${o.entropyInLoss ? 1 : 0}`, () => buildTrainGraph(this.config, o));
  }

  private checkSeqs(field: string, seqs: readonly SequenceInput[]): void {
    const V = this.config.vocab_size;
    seqs.forEach((s, i) => {
      if (s.prompt.length < 1) throw new PolicyRequestError(`${field}[${i}].prompt`, 'needs at least one token (the first response token is predicted from it)');
      checkTokenIds(`${field}[${i}].prompt`, s.prompt, V);
      checkTokenIds(`${field}[${i}].response`, s.response, V);
    });
  }

  /**
   * Right-padded batch: input_ids [B, T] (prompt + response, pad 0), targets [B, T] (next
   * token), mask [B, T] (1 where the target is a response token).
   */
  private pack(seqs: readonly SequenceInput[]): { B: number; T: number; ids: BigInt64Array; targets: BigInt64Array; mask: Float32Array; starts: number[] } {
    const B = seqs.length;
    const T = Math.max(...seqs.map((s) => s.prompt.length + s.response.length)) - 1 || 1;
    const ids = new BigInt64Array(B * T);
    const targets = new BigInt64Array(B * T);
    const mask = new Float32Array(B * T);
    const starts: number[] = [];
    seqs.forEach((s, b) => {
      const all = [...s.prompt, ...s.response];
      for (let t = 0; t < Math.min(T, all.length); t++) ids[b * T + t] = BigInt(all[t]);
      for (let t = 0; t + 1 < all.length; t++) targets[b * T + t] = BigInt(all[t + 1]);
      const start = s.prompt.length - 1; // slot predicting the first response token
      starts.push(start);
      for (let j = 0; j < s.response.length; j++) mask[b * T + start + j] = 1;
    });
    return { B, T, ids, targets, mask, starts };
  }

  /** Per-token log-probs and entropies of the responses (see ScoreRequest). */
  async score(req: ScoreRequest, signal?: AbortSignal): Promise<ScoreResult> {
    this.checkSeqs('sequences', req.sequences);
    const temp = req.temperature ?? 1;
    if (!(temp > 0)) throw new PolicyRequestError('temperature', `must be > 0, got ${temp}`);
    const mbs = req.microBatchSize ?? 8;
    const s = await this.scoreSession();
    const logprobs: Float32Array[] = [];
    const entropies: Float32Array[] = [];
    for (let i = 0; i < req.sequences.length; i += mbs) {
      signal?.throwIfAborted();
      const seqs = req.sequences.slice(i, i + mbs);
      const pk = this.pack(seqs);
      const out = await s.run({ ...this.paramFeeds, input_ids: hostTensor('int64', [pk.B, pk.T], pk.ids), targets: hostTensor('int64', [pk.B, pk.T], pk.targets), temperature: scalar(temp) });
      const lp = out.logp.data as Float32Array;
      const en = out.entropy.data as Float32Array;
      seqs.forEach((sq, b) => {
        const o = b * pk.T + pk.starts[b];
        logprobs.push(lp.slice(o, o + sq.response.length));
        entropies.push(en.slice(o, o + sq.response.length));
      });
    }
    return { logprobs, entropies };
  }

  /** Global counts of a whole step (all micro-batches). */
  private static counts(mbs: readonly (readonly SequenceInput[])[]): { tokens: number; sequences: number; maxResponse: number } {
    let tokens = 0;
    let sequences = 0;
    let maxResponse = 0;
    for (const mb of mbs) for (const s of mb) { tokens += s.response.length; sequences++; maxResponse = Math.max(maxResponse, s.response.length); }
    return { tokens, sequences, maxResponse };
  }

  /**
   * Forward + backward of one micro-batch; gradients are added to the accumulator.
   * Returns this micro-batch's shares of the loss and metrics (sum them over micro-batches).
   */
  async accumulate(req: TrainStepRequest, index: number, global: GlobalCounts): Promise<Record<string, number>> {
    const seqs = req.microBatches[index];
    this.checkSeqs(`microBatches[${index}]`, seqs);
    const pk = this.pack(seqs);
    const bt = (a: Float32Array): HostTensor => hostTensor('float32', [pk.B, pk.T], a);
    const feeds: Feeds = { ...this.paramFeeds, input_ids: hostTensor('int64', [pk.B, pk.T], pk.ids), targets: hostTensor('int64', [pk.B, pk.T], pk.targets) };
    const metricW = Float32Array.from(aggregationWeights(pk.mask, pk.B, pk.T, 'token-mean', global));
    feeds.metric_weights = bt(metricW);
    let session: Session;
    if (req.objective === 'sft') {
      session = await this.trainSession({ objective: 'sft' });
      feeds.weights = bt(Float32Array.from(aggregationWeights(pk.mask, pk.B, pk.T, req.aggregation ?? 'token-mean', global)));
      feeds.temperature = scalar(1);
    } else {
      const l = req.loss ?? {};
      const kl = l.klType ?? 'none';
      const entropyInLoss = (l.entropyCoef ?? 0) !== 0;
      session = await this.trainSession({ objective: 'pg', kl, entropyInLoss });
      feeds.weights = bt(Float32Array.from(aggregationWeights(pk.mask, pk.B, pk.T, l.aggregation ?? 'token-mean', global)));
      feeds.temperature = scalar(req.temperature ?? 1);
      feeds.clip_low = scalar(l.clipLow ?? 0.2);
      feeds.clip_high = scalar(l.clipHigh ?? 0.28);
      feeds.clip_ratio_c = scalar(l.clipRatioC ?? 3);
      const adv = new Float32Array(pk.B * pk.T);
      const old = new Float32Array(pk.B * pk.T);
      const ref = new Float32Array(pk.B * pk.T);
      (seqs as readonly PgSequence[]).forEach((s, b) => {
        if (s.oldLogprobs.length !== s.response.length) throw new PolicyRequestError(`microBatches[${index}][${b}].oldLogprobs`, `has ${s.oldLogprobs.length} entries for ${s.response.length} response tokens`);
        if (kl !== 'none' && (!s.refLogprobs || s.refLogprobs.length !== s.response.length)) throw new PolicyRequestError(`microBatches[${index}][${b}].refLogprobs`, `needs ${s.response.length} entries when the KL term is on`);
        if (!Number.isFinite(s.advantage)) throw new PolicyRequestError(`microBatches[${index}][${b}].advantage`, `must be finite, got ${s.advantage}`);
        for (let j = 0; j < s.response.length; j++) {
          const o = b * pk.T + pk.starts[b] + j;
          adv[o] = s.advantage;
          old[o] = s.oldLogprobs[j];
          if (s.refLogprobs) ref[o] = s.refLogprobs[j];
        }
      });
      feeds.advantages = bt(adv);
      feeds.old_logp = bt(old);
      if (kl !== 'none') {
        feeds.ref_logp = bt(ref);
        feeds.kl_coef = scalar(l.klCoef ?? 0);
      }
      if (entropyInLoss) feeds.entropy_coef = scalar(l.entropyCoef ?? 0);
    }
    const out = await session.run(feeds);
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(out)) {
      if (k === 'loss') metrics.loss = Number(v.data[0]);
      else if (k.startsWith('metric.')) metrics[k.slice(7)] = Number(v.data[0]);
    }
    if (!this.grads) {
      this.grads = new Map();
      for (const p of paramSpecs(this.config)) this.grads.set(p.name, out[`grad.${p.name}`].data as Float32Array);
    } else {
      for (const p of paramSpecs(this.config)) {
        const acc = this.grads.get(p.name)!;
        const gd = out[`grad.${p.name}`].data as Float32Array;
        for (let i = 0; i < acc.length; i++) acc[i] += gd[i];
      }
    }
    return metrics;
  }

  /** Drops accumulated gradients (e.g. after a cancelled step). */
  discardGradients(): void {
    this.grads = null;
  }

  /**
   * Global grad-norm clip + AdamW on the accumulated gradients; version + 1. Returns the
   * pre-clip norm and whether the update was applied (skipped when the norm is not finite).
   */
  async applyUpdate(opt: OptimizerConfig): Promise<{ gradNorm: number; updated: boolean }> {
    if (!this.grads) throw new PolicyRequestError('gradients', 'no accumulated gradients: run at least one micro-batch first');
    const grads = this.grads;
    this.grads = null;
    let sq = 0;
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
    const norm = Math.sqrt(sq);
    if (!Number.isFinite(norm)) return { gradNorm: norm, updated: false };
    const lr = opt.lr;
    const b1 = opt.beta1 ?? 0.9;
    const b2 = opt.beta2 ?? 0.999;
    const eps = opt.eps ?? 1e-8;
    const wd = opt.weightDecay ?? 0.01;
    const maxNorm = opt.maxGradNorm ?? 1.0;
    for (const [k, v] of Object.entries({ lr, beta1: b1, beta2: b2, eps, weightDecay: wd, maxGradNorm: maxNorm })) {
      if (!(Number.isFinite(v) || (k === 'maxGradNorm' && v === Infinity)) || v < 0) throw new PolicyRequestError(`optimizer.${k}`, `must be a finite number >= 0, got ${v}`);
    }
    const coef = maxNorm > 0 && Number.isFinite(maxNorm) ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
    const step = this.optimizer.step + 1;
    const s = await this.adamSession();
    const feeds: Feeds = {
      lr: scalar(lr), beta1: scalar(b1), beta2: scalar(b2), eps: scalar(eps), weight_decay: scalar(wd), clip_coef: scalar(coef),
      bias_c1: scalar(1 - Math.pow(b1, step)), bias_c2: scalar(1 - Math.pow(b2, step)),
    };
    for (const p of paramSpecs(this.config)) {
      feeds[`param.${p.name}`] = this.paramFeeds[p.name];
      feeds[`grad.${p.name}`] = hostTensor('float32', p.shape, grads.get(p.name)!);
      feeds[`m.${p.name}`] = hostTensor('float32', p.shape, this.optimizer.m.get(p.name)!);
      feeds[`v.${p.name}`] = hostTensor('float32', p.shape, this.optimizer.v.get(p.name)!);
    }
    const out = await s.run(feeds);
    for (const p of paramSpecs(this.config)) {
      this.params.set(p.name, out[`new.param.${p.name}`].data as Float32Array);
      this.optimizer.m.set(p.name, out[`new.m.${p.name}`].data as Float32Array);
      this.optimizer.v.set(p.name, out[`new.v.${p.name}`].data as Float32Array);
    }
    this.optimizer.step = step;
    this.version++;
    this.refreshFeeds();
    return { gradNorm: norm, updated: true };
  }

  /**
   * A whole optimizer step: every micro-batch (gradient accumulation, global counts taken
   * over all of them unless `req.global` is given), then clip + AdamW. `onProgress` is
   * called after each micro-batch; `signal` is checked between micro-batches (a cancelled
   * step leaves the parameters unchanged).
   */
  async trainStep(req: TrainStepRequest, onProgress?: (p: TrainProgress) => void, signal?: AbortSignal): Promise<TrainStepMetrics> {
    if (!req.microBatches.length || req.microBatches.every((m) => m.length === 0)) throw new PolicyRequestError('microBatches', 'no sequences');
    const c = PolicyModel.counts(req.microBatches);
    if (c.tokens === 0) throw new PolicyRequestError('microBatches', 'no response tokens to train on');
    const normLength = req.objective === 'pg' ? req.loss?.normLength ?? c.maxResponse : c.maxResponse;
    const global: GlobalCounts = req.global ?? { tokens: c.tokens, sequences: c.sequences, normLength };
    if (global.normLength === undefined) global.normLength = normLength;
    const sums: Record<string, number> = {};
    let done = 0;
    this.grads = null;
    try {
      for (let i = 0; i < req.microBatches.length; i++) {
        signal?.throwIfAborted();
        if (req.microBatches[i].length === 0) continue;
        const m = await this.accumulate(req, i, global);
        for (const [k, v] of Object.entries(m)) sums[k] = (sums[k] ?? 0) + v;
        for (const s of req.microBatches[i]) done += s.response.length;
        onProgress?.({ microBatch: i + 1, microBatches: req.microBatches.length, tokensDone: done, tokensTotal: c.tokens });
      }
      signal?.throwIfAborted();
    } catch (e) {
      this.grads = null;
      throw e;
    }
    const u = await this.applyUpdate(req.optimizer);
    return {
      loss: sums.loss, gradNorm: u.gradNorm, updated: u.updated, entropy: sums.entropy,
      clipFrac: sums.clip_frac, clipFracUpper: sums.clip_frac_upper, clipFracDual: sums.clip_frac_dual,
      approxKl: sums.approx_kl, kl: sums.kl, nll: sums.nll,
      tokens: c.tokens, sequences: c.sequences, version: this.version, lr: req.optimizer.lr,
    };
  }

  /**
   * Sample continuations (see GenerateRequest): prompts are left-padded into one batch and
   * prefilled once; each prompt's KV cache is copied to its G samples; then one token per
   * step for all unfinished samples (finished ones are dropped from the batch).
   */
  async generate(req: GenerateRequest, signal?: AbortSignal, onToken?: (step: number, active: number) => void): Promise<GenerateResult> {
    const cfg = this.config;
    const V = cfg.vocab_size;
    const G = req.samplesPerPrompt ?? 1;
    if (!Number.isInteger(G) || G < 1) throw new PolicyRequestError('samplesPerPrompt', `must be an integer >= 1, got ${G}`);
    if (!Number.isInteger(req.maxNewTokens) || req.maxNewTokens < 1) throw new PolicyRequestError('maxNewTokens', `must be an integer >= 1, got ${req.maxNewTokens}`);
    if (!req.prompts.length) throw new PolicyRequestError('prompts', 'no prompts');
    req.prompts.forEach((p, i) => {
      if (!p.length) throw new PolicyRequestError(`prompts[${i}]`, 'empty prompt');
      checkTokenIds(`prompts[${i}]`, p, V);
    });
    const stops = new Set(req.stopTokens ?? []);
    checkTokenIds('stopTokens', [...stops], V);
    const sampling = validateSampling(req.sampling ?? {});
    const useCache = req.useCache ?? true;
    const s = await this.stepSession();
    const K = cfg.num_key_value_heads;
    const D = cfg.head_dim;
    const L = cfg.num_hidden_layers;
    const Bp = req.prompts.length;
    const Lp = Math.max(...req.prompts.map((p) => p.length));
    const emptyPast = (B: number): Feeds => {
      const f: Feeds = {};
      for (let l = 0; l < L; l++) {
        f[`past.${l}.key`] = hostTensor('float32', [B, K, 0, D], new Float32Array(0));
        f[`past.${l}.value`] = hostTensor('float32', [B, K, 0, D], new Float32Array(0));
      }
      return f;
    };
    // Samples in prompt-major order; each with its own RNG.
    const samples: GeneratedSample[] = [];
    const rngs: Rng[] = [];
    for (let p = 0; p < Bp; p++) for (let g = 0; g < G; g++) {
      samples.push({ promptIndex: p, sampleIndex: g, tokens: [], logprobs: [], finishReason: 'length' });
      rngs.push(new Rng(deriveSeed(req.seed, p, g)));
    }
    let steps = 0;
    const pick = (logits: Float32Array, row: number, sample: number): boolean => {
      const r = sampleToken(logits, row * V, V, sampling, rngs[sample]);
      const smp = samples[sample];
      smp.tokens.push(r.token);
      smp.logprobs.push(r.logprob);
      if (stops.has(r.token)) { smp.finishReason = 'stop'; return true; }
      return smp.tokens.length >= req.maxNewTokens;
    };

    if (!useCache) {
      // Recompute: run the whole (left-padded) prefix every step.
      let active = samples.map((_, i) => i);
      while (active.length) {
        signal?.throwIfAborted();
        const B = active.length;
        const gen = samples[active[0]].tokens.length;
        const T = Lp + gen;
        const ids = new BigInt64Array(B * T);
        const pos = new BigInt64Array(B * T);
        const mask = new BigInt64Array(B * T);
        active.forEach((si, b) => {
          const prompt = req.prompts[samples[si].promptIndex];
          const pad = Lp - prompt.length;
          const seq = [...prompt, ...samples[si].tokens];
          for (let t = 0; t < seq.length; t++) {
            ids[b * T + pad + t] = BigInt(seq[t]);
            pos[b * T + pad + t] = BigInt(t);
            mask[b * T + pad + t] = 1n;
          }
        });
        const out = await s.run({ ...this.paramFeeds, ...emptyPast(B), input_ids: hostTensor('int64', [B, T], ids), position_ids: hostTensor('int64', [B, T], pos), attn_mask: hostTensor('int64', [B, T], mask) }, { outputs: ['logits'] });
        steps++;
        const logits = out.logits.data as Float32Array;
        active = active.filter((si, b) => !pick(logits, b, si));
        onToken?.(gen + 1, active.length);
      }
      return { samples, steps };
    }

    // Prefill all prompts once (left-padded).
    const ids = new BigInt64Array(Bp * Lp);
    const pos = new BigInt64Array(Bp * Lp);
    const pmask = new BigInt64Array(Bp * Lp);
    req.prompts.forEach((p, b) => {
      const pad = Lp - p.length;
      p.forEach((tok, t) => {
        ids[b * Lp + pad + t] = BigInt(tok);
        pos[b * Lp + pad + t] = BigInt(t);
        pmask[b * Lp + pad + t] = 1n;
      });
    });
    const pre = await s.run({ ...this.paramFeeds, ...emptyPast(Bp), input_ids: hostTensor('int64', [Bp, Lp], ids), position_ids: hostTensor('int64', [Bp, Lp], pos), attn_mask: hostTensor('int64', [Bp, Lp], pmask) });
    steps++;
    // Expand each prompt's cache to its G samples: rows r = p * G + g.
    let S = Lp;
    const rowSize = K * S * D;
    let keys: Float32Array[] = [];
    let values: Float32Array[] = [];
    const expand = (src: Float32Array, rs: number): Float32Array => {
      const dst = new Float32Array(Bp * G * rs);
      for (let p = 0; p < Bp; p++) for (let g = 0; g < G; g++) dst.set(src.subarray(p * rs, (p + 1) * rs), (p * G + g) * rs);
      return dst;
    };
    for (let l = 0; l < L; l++) {
      keys.push(G === 1 ? pre[`present.${l}.key`].data as Float32Array : expand(pre[`present.${l}.key`].data as Float32Array, rowSize));
      values.push(G === 1 ? pre[`present.${l}.value`].data as Float32Array : expand(pre[`present.${l}.value`].data as Float32Array, rowSize));
    }
    const preLogits = pre.logits.data as Float32Array;
    let active: number[] = [];
    samples.forEach((sm, i) => { if (!pick(preLogits, sm.promptIndex, i)) active.push(i); });
    onToken?.(1, active.length);
    let rows = samples.map((_, i) => i); // cache row of each sample currently in `keys`
    const decode = await this.stepSession(this.decodeThreads);
    while (active.length) {
      signal?.throwIfAborted();
      // Compact the cache to the active samples when some finished.
      if (active.length !== rows.length) {
        const sel = active.map((si) => rows.indexOf(si));
        const rs = K * S * D;
        const take = (a: Float32Array): Float32Array => {
          const out = new Float32Array(sel.length * rs);
          sel.forEach((r, i) => out.set(a.subarray(r * rs, (r + 1) * rs), i * rs));
          return out;
        };
        keys = keys.map(take);
        values = values.map(take);
        rows = [...active];
      }
      const B = active.length;
      const stepIds = new BigInt64Array(B);
      const stepPos = new BigInt64Array(B);
      active.forEach((si, b) => {
        const sm = samples[si];
        stepIds[b] = BigInt(sm.tokens[sm.tokens.length - 1]);
        stepPos[b] = BigInt(req.prompts[sm.promptIndex].length + sm.tokens.length - 1);
      });
      // Attention mask [B, S+1]: the sample's prompt row (left padding 0), then 1 for every
      // generated token. Built with typed-array copies: per-element BigInt conversion here
      // was ~10% of generation time.
      const m = new BigInt64Array(B * (S + 1));
      active.forEach((si, b) => {
        const p = samples[si].promptIndex;
        m.set(pmask.subarray(p * Lp, (p + 1) * Lp), b * (S + 1));
        m.fill(1n, b * (S + 1) + Lp, (b + 1) * (S + 1));
      });
      const feeds: Feeds = { ...this.paramFeeds, input_ids: hostTensor('int64', [B, 1], stepIds), position_ids: hostTensor('int64', [B, 1], stepPos), attn_mask: hostTensor('int64', [B, S + 1], m) };
      for (let l = 0; l < L; l++) {
        feeds[`past.${l}.key`] = hostTensor('float32', [B, K, S, D], keys[l]);
        feeds[`past.${l}.value`] = hostTensor('float32', [B, K, S, D], values[l]);
      }
      const out = await decode.run(feeds);
      steps++;
      S++;
      keys = keys.map((_, l) => out[`present.${l}.key`].data as Float32Array);
      values = values.map((_, l) => out[`present.${l}.value`].data as Float32Array);
      const logits = out.logits.data as Float32Array;
      active = active.filter((si, b) => !pick(logits, b, si));
      onToken?.(samples[rows[0]].tokens.length, active.length);
    }
    return { samples, steps };
  }

  /** Full logits [B, T, V] of right-padded token rows (tests and debugging; uses the step graph). */
  async logits(tokens: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const s = await this.stepSession();
    const V = this.config.vocab_size;
    const res: Float32Array[] = [];
    for (const row of tokens) {
      checkTokenIds('tokens', row, V);
      const out = new Float32Array(row.length * V);
      for (let t = 1; t <= row.length; t++) {
        const ids = BigInt64Array.from(row.slice(0, t), BigInt);
        const pos = BigInt64Array.from({ length: t }, (_, i) => BigInt(i));
        const mk = new BigInt64Array(t).fill(1n);
        const feeds: Feeds = { ...this.paramFeeds, input_ids: hostTensor('int64', [1, t], ids), position_ids: hostTensor('int64', [1, t], pos), attn_mask: hostTensor('int64', [1, t], mk) };
        for (let l = 0; l < this.config.num_hidden_layers; l++) {
          feeds[`past.${l}.key`] = hostTensor('float32', [1, this.config.num_key_value_heads, 0, this.config.head_dim], new Float32Array(0));
          feeds[`past.${l}.value`] = hostTensor('float32', [1, this.config.num_key_value_heads, 0, this.config.head_dim], new Float32Array(0));
        }
        const o = await s.run(feeds, { outputs: ['logits'] });
        out.set(o.logits.data as Float32Array, (t - 1) * V);
      }
      res.push(out);
    }
    return res;
  }
}
