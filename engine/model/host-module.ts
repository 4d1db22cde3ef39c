/**
 * The policy's handlers inside the engine worker thread (loaded by PolicyHost through
 * EngineHost.load). Parameters and AdamW moments live here across calls; only tokens,
 * log-probs and metrics cross the thread boundary.
 */
import type { HandlerContext } from '../exec';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint/checkpoint';
import type { CheckpointManifest } from '../checkpoint/checkpoint';
import { ModelConfig, countParams, validateConfig } from './config';
import { GlobalCounts } from './loss';
import { GenerateRequest, GenerateResult, OptimizerConfig, PolicyModel, PolicyRequestError, ScoreRequest, ScoreResult, TrainStepRequest } from './policy';

let model: PolicyModel | null = null;
let tag = '';
let threads: number | undefined;

/** Identity of the weights held in the worker. */
export interface ModelVersion {
  /** Caller's tag (e.g. run id) given at init/load. */
  tag: string;
  /** Optimizer updates applied since initialisation (restored from checkpoints). */
  version: number;
  optimizerStep: number;
  params: number;
}

function need(): PolicyModel {
  if (!model) throw new PolicyRequestError('model', 'no model in the engine worker: call init() or load() first');
  return model;
}

function versionOf(m: PolicyModel): ModelVersion {
  return { tag, version: m.version, optimizerStep: m.optimizer.step, params: countParams(m.config) };
}

export function init(options: unknown): void {
  threads = (options as { threads?: number } | undefined)?.threads;
}

export const handlers = {
  init(args: { config: ModelConfig; seed: number; tag?: string }): ModelVersion {
    const config = validateConfig(args.config);
    model = PolicyModel.create(config, { seed: args.seed, threads });
    tag = args.tag ?? '';
    return versionOf(model);
  },

  async load(args: { dir: string; tag?: string; expect?: Partial<ModelConfig> }): Promise<ModelVersion> {
    const ck = await loadCheckpoint(args.dir, { expect: args.expect });
    model = PolicyModel.create(ck.config, { params: ck.params, optimizer: ck.optimizer, version: Number(ck.meta?.version ?? 0), threads });
    tag = args.tag ?? String(ck.meta?.tag ?? '');
    return versionOf(model);
  },

  async save(args: { dir: string; tokenizer?: { json: unknown; config?: unknown }; meta?: Record<string, string | number | boolean> }): Promise<CheckpointManifest> {
    const m = need();
    return saveCheckpoint(args.dir, { config: m.config, params: m.params, optimizer: m.optimizer, tokenizer: args.tokenizer, meta: { ...args.meta, version: m.version, tag } });
  },

  getVersion(): ModelVersion | null {
    return model ? versionOf(model) : null;
  },

  getConfig(): ModelConfig {
    return need().config;
  },

  async warmup(args: { kinds?: Array<'score' | 'step' | 'sft' | 'pg' | 'adamw'> }): Promise<void> {
    await need().warmup(args.kinds);
  },

  async score(args: ScoreRequest, ctx: HandlerContext): Promise<ScoreResult> {
    const r = await need().score(args, ctx.signal);
    ctx.transfer(...r.logprobs.map((a) => a.buffer as ArrayBuffer), ...r.entropies.map((a) => a.buffer as ArrayBuffer));
    return r;
  },

  async accumulate(args: { req: TrainStepRequest; global: GlobalCounts }, ctx: HandlerContext): Promise<Record<string, number>> {
    ctx.throwIfCancelled();
    return need().accumulate(args.req, 0, args.global);
  },

  async applyUpdate(args: OptimizerConfig): Promise<{ gradNorm: number; updated: boolean; version: number }> {
    const m = need();
    const r = await m.applyUpdate(args);
    return { ...r, version: m.version };
  },

  discardGradients(): void {
    model?.discardGradients();
  },

  async generate(args: GenerateRequest, ctx: HandlerContext): Promise<GenerateResult> {
    return need().generate(args, ctx.signal);
  },
};
