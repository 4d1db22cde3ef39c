/**
 * PolicyHost: the main thread's handle on the policy kept in the engine's worker thread
 * (architecture.md "Compute host"). Parameters and AdamW moments stay in the worker across
 * calls; each method sends tokens and receives log-probs/metrics. Training runs one
 * worker call per micro-batch, so progress callbacks (for Temporal heartbeats) and
 * cancellation happen between micro-batches while the main event loop stays free.
 */
import * as path from 'node:path';
import { EngineHost } from '../exec';
import type { CheckpointManifest } from '../checkpoint/checkpoint';
import * as checkpointErrors from '../checkpoint/checkpoint';
import * as safetensorsErrors from '../checkpoint/safetensors';
import * as tokenizerErrors from '../tokenizer/errors';
import * as samplingErrors from '../sampling/sampler';
import * as configErrors from './config';
import * as lossErrors from './loss';
import * as policyErrors from './policy';
import * as atomicErrors from '../../infra/store/atomic';
import { ModelConfig, validateConfig } from './config';
import { GlobalCounts } from './loss';
import type { ModelVersion } from './host-module';
import {
  GenerateRequest, GenerateResult, PolicyRequestError, ScoreRequest, ScoreResult, SequenceInput, TrainProgress, TrainStepMetrics, TrainStepRequest,
} from './policy';

export type { ModelVersion };

export interface PolicyHostOptions {
  /** ORT intra-op threads in the worker (default: all cores). */
  threads?: number;
}

export interface CallControl {
  /** Cancels between micro-batches / decode steps; the promise rejects with the engine's CancelledError. */
  signal?: AbortSignal;
}

export interface TrainControl extends CallControl {
  /** Called after each micro-batch (heartbeat here). */
  onProgress?: (p: TrainProgress) => void;
}

const ERROR_CLASSES: Record<string, new (...a: any[]) => Error> = {};
for (const mod of [checkpointErrors, safetensorsErrors, tokenizerErrors, samplingErrors, configErrors, lossErrors, policyErrors, atomicErrors] as Record<string, unknown>[]) {
  for (const v of Object.values(mod)) if (typeof v === 'function' && v.prototype instanceof Error) ERROR_CLASSES[(v as { name: string }).name] = v as new (...a: any[]) => Error;
}

/** Gives errors of the model's own typed classes back their class after the thread hop. */
function retype(e: unknown): unknown {
  if (!(e instanceof Error) || e.constructor !== Error) return e;
  const C = ERROR_CLASSES[e.name];
  if (!C) return e;
  Object.setPrototypeOf(e, C.prototype);
  return e;
}

/** Main-thread handle of the policy in the engine worker (see file comment). */
export class PolicyHost {
  private config: ModelConfig | null = null;

  private constructor(private readonly host: EngineHost) {}

  /** Starts the engine worker and loads the policy module into it. */
  static async start(opts: PolicyHostOptions = {}): Promise<PolicyHost> {
    const host = await EngineHost.start({ threads: opts.threads });
    await host.load(path.join(__dirname, 'host-module.js'), { threads: opts.threads });
    return new PolicyHost(host);
  }

  private async call<T>(name: string, args: unknown, signal?: AbortSignal): Promise<T> {
    try {
      return await this.host.call<T>(name, args, { signal });
    } catch (e) {
      throw retype(e);
    }
  }

  /** New model from a config (validated here: ModelConfigError names the field) and a seed. */
  async init(config: ModelConfig, seed: number, tag = ''): Promise<ModelVersion> {
    const cfg = validateConfig(config);
    const v = await this.call<ModelVersion>('init', { config: cfg, seed, tag });
    this.config = cfg;
    return v;
  }

  /** Loads a checkpoint folder (checksums verified; typed errors name the file). */
  async load(dir: string, opts: { tag?: string; expect?: Partial<ModelConfig> } = {}): Promise<ModelVersion> {
    const v = await this.call<ModelVersion>('load', { dir: path.resolve(dir), ...opts });
    this.config = await this.call<ModelConfig>('getConfig', {});
    return v;
  }

  /** Writes a checkpoint (weights, AdamW state, config, optional tokenizer, manifest). */
  save(dir: string, opts: { tokenizer?: { json: unknown; config?: unknown }; meta?: Record<string, string | number | boolean> } = {}): Promise<CheckpointManifest> {
    return this.call('save', { dir: path.resolve(dir), ...opts });
  }

  /** Identity of the weights in the worker, or null when none is loaded. */
  getVersion(): Promise<ModelVersion | null> {
    return this.call('getVersion', {});
  }

  /** The loaded model's config. */
  getConfig(): ModelConfig {
    if (!this.config) throw new PolicyRequestError('model', 'no model: call init() or load() first');
    return this.config;
  }

  /** Compiles graphs ahead of first use. */
  warmup(kinds?: Array<'score' | 'step' | 'sft' | 'pg' | 'adamw'>): Promise<void> {
    return this.call('warmup', { kinds });
  }

  /** Per-token log-probs and entropies of responses (PolicyModel.score). */
  score(req: ScoreRequest, ctl: CallControl = {}): Promise<ScoreResult> {
    return this.call('score', req, ctl.signal);
  }

  /** Samples G continuations per prompt with the KV cache (PolicyModel.generate). */
  generate(req: GenerateRequest, ctl: CallControl = {}): Promise<GenerateResult> {
    return this.call('generate', req, ctl.signal);
  }

  /**
   * One optimizer step over all micro-batches of `req` (PolicyModel.trainStep semantics):
   * one worker call per micro-batch, then clip + AdamW. On cancellation the accumulated
   * gradients are dropped and the weights stay as they were.
   */
  async trainStep(req: TrainStepRequest, ctl: TrainControl = {}): Promise<TrainStepMetrics> {
    const mbs = req.microBatches as readonly (readonly SequenceInput[])[];
    let tokens = 0;
    let sequences = 0;
    let maxResponse = 0;
    for (const mb of mbs) for (const s of mb) { tokens += s.response.length; sequences++; maxResponse = Math.max(maxResponse, s.response.length); }
    if (tokens === 0) throw new PolicyRequestError('microBatches', 'no response tokens to train on');
    const normLength = (req.objective === 'pg' ? req.loss?.normLength : undefined) ?? maxResponse;
    const given: GlobalCounts = req.global ?? { tokens, sequences };
    const global: GlobalCounts = { ...given, normLength: given.normLength ?? normLength };
    const sums: Record<string, number> = {};
    let done = 0;
    try {
      for (let i = 0; i < mbs.length; i++) {
        ctl.signal?.throwIfAborted();
        if (!mbs[i].length) continue;
        const one = { ...req, microBatches: [mbs[i]] } as TrainStepRequest;
        const m = await this.call<Record<string, number>>('accumulate', { req: one, global }, ctl.signal);
        for (const [k, v] of Object.entries(m)) sums[k] = (sums[k] ?? 0) + v;
        for (const s of mbs[i]) done += s.response.length;
        ctl.onProgress?.({ microBatch: i + 1, microBatches: mbs.length, tokensDone: done, tokensTotal: tokens });
      }
      ctl.signal?.throwIfAborted();
    } catch (e) {
      await this.call('discardGradients', {}).catch(() => undefined);
      throw e;
    }
    const u = await this.call<{ gradNorm: number; updated: boolean; version: number }>('applyUpdate', req.optimizer);
    return {
      loss: sums.loss, gradNorm: u.gradNorm, updated: u.updated, entropy: sums.entropy,
      clipFrac: sums.clip_frac, clipFracUpper: sums.clip_frac_upper, clipFracDual: sums.clip_frac_dual,
      approxKl: sums.approx_kl, kl: sums.kl, nll: sums.nll,
      tokens, sequences, version: u.version, lr: req.optimizer.lr,
    };
  }

  /** Stops the worker (the weights in it are lost: save first). */
  close(): Promise<void> {
    return this.host.close();
  }
}
