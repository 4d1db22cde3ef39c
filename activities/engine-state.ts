/**
 * The compute worker's policy in memory and the model-version protocol (architecture.md,
 * invariant 3). The worker holds one policy in its engine thread, tagged (run, version).
 * Each compute activity names the version it expects and the run's last durable
 * checkpoint; a worker whose memory does not match loads that checkpoint, and when the
 * checkpoint is older than expected it fails with the non-retryable `ModelStateLost` so the
 * workflow rewinds to the checkpoint's step. Version 0 without a checkpoint is the seeded
 * initialisation, which any worker can rebuild.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { RunConfig } from '../config/schema';
import { PolicyHost, WordLevelTokenizer, HfTokenizer, verifyCheckpoint, type ModelConfig, type TextTokenizer } from '../engine';
import { sha256 } from '../infra/store/atomic';
import type { ArtifactRef, ArtifactStore } from '../infra/store/artifacts';
import type { CheckpointRef, DataManifest, ModelExpectation } from './types';

/** RunConfig.model (camelCase, as in YAML) -> Hugging Face config.json fields for the engine. */
export function modelConfigOf(config: RunConfig, tokenizer: TextTokenizer): ModelConfig {
  const m = config.model;
  return {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: m.vocabSize ?? tokenizer.vocabSize,
    hidden_size: m.hiddenSize,
    intermediate_size: m.intermediateSize,
    num_hidden_layers: m.numHiddenLayers,
    num_attention_heads: m.numAttentionHeads,
    num_key_value_heads: m.numKeyValueHeads,
    head_dim: m.headDim,
    max_position_embeddings: m.maxPositionEmbeddings,
    rope_theta: m.ropeTheta,
    rms_norm_eps: m.rmsNormEps,
    tie_word_embeddings: m.tieWordEmbeddings,
    attention_bias: m.attentionBias,
    hidden_act: 'silu',
    torch_dtype: 'float32',
    initializer_range: 0.02,
    eos_token_id: tokenizer.stopIds.length ? [...tokenizer.stopIds] : null,
    pad_token_id: tokenizer.padId,
  };
}

export function modelStateLost(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'ModelStateLost');
}

/** What this worker's engine holds, beyond the version the engine itself tracks. */
interface Resident {
  runId: string;
  version: number;
  /** Ids of the RL updates applied to these weights, in order (also saved in checkpoints). */
  stepIds: string[];
}

export class ComputeEngine {
  private host: Promise<PolicyHost> | undefined;
  private resident: Resident | null = null;
  private readonly tokenizers = new Map<string, Promise<TextTokenizer>>();

  constructor(readonly store: ArtifactStore, private readonly threads?: number) {}

  /**
   * The engine thread, started on first use with the run's `workers.computeThreads` (unless
   * the worker was started with a fixed count). A run that asks for another count restarts
   * it: the weights in memory are dropped and reloaded from the run's checkpoint (a worker
   * serving runs with different counts pays that reload when it switches between them).
   */
  async policyHost(threads?: number): Promise<PolicyHost> {
    const want = this.threads ?? (threads || undefined);
    if (this.host && want !== this.hostThreads) {
      const old = this.host;
      this.host = undefined;
      this.resident = null;
      await old.then((h) => h.close()).catch(() => undefined);
    }
    if (!this.host) {
      this.hostThreads = want;
      this.host = PolicyHost.start({ threads: want });
      this.host.catch(() => {
        if (this.hostThreads === want) this.host = undefined;
      });
    }
    return this.host;
  }
  private hostThreads: number | undefined;

  loadConfig(ref: ArtifactRef): Promise<RunConfig> {
    return this.store.getJsonCached<RunConfig>(ref);
  }

  /** A JSON artifact, cached by checksum (items files are read by every rollout). */
  cachedJson<T>(ref: ArtifactRef): Promise<T> {
    return this.store.getJsonCached<T>(ref);
  }

  async tokenizer(ref: ArtifactRef): Promise<TextTokenizer> {
    let p = this.tokenizers.get(ref.sha256);
    if (!p) {
      p = (async () => {
        const json = await this.store.getJson<{ model?: { type?: string } }>(ref);
        if (json.model?.type === 'WordLevel') return WordLevelTokenizer.fromJson(json, this.store.pathOf(ref.key));
        return HfTokenizer.fromJson(json, {}, this.store.pathOf(ref.key));
      })();
      p.catch(() => this.tokenizers.delete(ref.sha256));
      this.tokenizers.set(ref.sha256, p);
    }
    return p;
  }

  async dataManifest(runId: string): Promise<DataManifest> {
    const hit = await this.store.tryRead(`runs/${runId}/data/manifest.json`);
    if (!hit) throw ApplicationFailure.nonRetryable(`run ${runId} has no prepared data (runs/${runId}/data/manifest.json is missing)`, 'DataError');
    return JSON.parse(hit.data.toString('utf8')) as DataManifest;
  }

  /** The resident policy's identity (tests and diagnostics). */
  get residentState(): Readonly<Resident> | null {
    return this.resident;
  }

  /** Forget the in-memory weights' identity (after a partial update), so the next activity reloads. */
  invalidate(): void {
    this.resident = null;
  }

  /**
   * Make the engine hold `expect.runId` at `expect.version` (see the file comment).
   * Returns the host and the applied step ids of the resident weights.
   */
  async ensure(expect: ModelExpectation, config: RunConfig): Promise<{ host: PolicyHost; resident: Resident }> {
    const host = await this.policyHost(config.workers.computeThreads);
    const r = this.resident;
    if (r && r.runId === expect.runId && r.version === expect.version && r.stepIds.length === expect.stepCount) {
      const v = await host.getVersion();
      if (v && v.tag === expect.runId && v.version === expect.version) return { host, resident: r };
    }
    this.resident = null;
    const ck = expect.checkpoint;
    if (ck) {
      if (ck.version > expect.version) throw ApplicationFailure.nonRetryable(`checkpoint ${ck.key} has version ${ck.version}, newer than the expected ${expect.version}`, 'InternalError');
      const dir = this.store.pathOf(ck.key);
      const manifestText = await fsp.readFile(path.join(dir, 'manifest.json'));
      if (sha256(manifestText) !== ck.manifestSha256) {
        throw ApplicationFailure.nonRetryable(`${path.join(dir, 'manifest.json')}: checksum mismatch with the run's record; the checkpoint is corrupt`, 'CorruptArtifactError');
      }
      if (ck.version < expect.version || ck.stepCount < expect.stepCount) {
        throw modelStateLost(
          `this worker does not hold ${expect.runId} at version ${expect.version} (${expect.stepCount} RL steps) and the newest checkpoint is version ${ck.version} (${ck.stepCount} RL steps): rewinding to it`,
        );
      }
      const v = await host.load(dir, { tag: expect.runId });
      if (v.version !== ck.version) throw ApplicationFailure.nonRetryable(`checkpoint ${ck.key} holds version ${v.version}, expected ${ck.version}`, 'CorruptArtifactError');
      const state = JSON.parse(await fsp.readFile(path.join(dir, 'longrl-state.json'), 'utf8').catch(() => '{}')) as { stepIds?: string[] };
      const stepIds = state.stepIds ?? [];
      if (stepIds.length !== ck.stepCount) throw ApplicationFailure.nonRetryable(`checkpoint ${ck.key} records ${stepIds.length} RL steps, expected ${ck.stepCount}`, 'CorruptArtifactError');
      this.resident = { runId: expect.runId, version: v.version, stepIds };
      return { host, resident: this.resident };
    }
    if (expect.version !== 0 || expect.stepCount !== 0) {
      throw modelStateLost(`this worker does not hold ${expect.runId} at version ${expect.version} and the run has no checkpoint yet: rewinding to the initial weights`);
    }
    const manifest = await this.dataManifest(expect.runId);
    const tokenizer = await this.tokenizer(manifest.tokenizer);
    await host.init(modelConfigOf(config, tokenizer), config.run.seed, expect.runId);
    this.resident = { runId: expect.runId, version: 0, stepIds: [] };
    return { host, resident: this.resident };
  }

  /** Record that the resident weights moved to `version` (after a successful update). */
  advance(runId: string, version: number, stepId?: string): void {
    if (!this.resident || this.resident.runId !== runId) throw new Error('advance() without a resident policy');
    this.resident = { runId, version, stepIds: stepId ? [...this.resident.stepIds, stepId] : this.resident.stepIds };
  }

  /** Save the resident weights as a checkpoint folder in the store (idempotent by folder). */
  async checkpoint(expect: ModelExpectation, config: RunConfig, label: string, state: unknown, keepLast: number): Promise<CheckpointRef> {
    // Named by (version, RL steps): a step with no optimizer update still moves the weights' history.
    const key = `runs/${expect.runId}/checkpoints/v${String(expect.version).padStart(6, '0')}-s${String(expect.stepCount).padStart(6, '0')}`;
    const dir = this.store.pathOf(key);
    const existing = await fsp.readFile(path.join(dir, 'manifest.json')).catch(() => null);
    if (existing) {
      // A retry (or a replay after a rewind) finds the folder: reuse it only if every file verifies.
      const good = await verifyCheckpoint(dir).then((m) => m.meta.version === expect.version, () => false);
      if (good) return { key, version: expect.version, stepCount: expect.stepCount, manifestSha256: sha256(existing) };
      await fsp.rm(dir, { recursive: true, force: true });
    }
    const { host, resident } = await this.ensure(expect, config);
    const manifest = await this.dataManifest(expect.runId);
    const tokenizerJson = await this.cachedJson<unknown>(manifest.tokenizer);
    // longrl's own state beside the weights: the applied RL step ids (each exactly once) and the workflow's small state.
    await this.store.putJson(`${key}/longrl-state.json`, { runId: expect.runId, version: expect.version, label, stepIds: resident.stepIds, workflowState: state });
    await host.save(dir, { tokenizer: { json: tokenizerJson }, meta: { label, runId: expect.runId, steps: resident.stepIds.length } });
    const text = await fsp.readFile(path.join(dir, 'manifest.json'));
    await this.prune(expect.runId, keepLast, key);
    return { key, version: expect.version, stepCount: expect.stepCount, manifestSha256: sha256(text) };
  }

  /** Keep the newest `keepLast` checkpoints of a run (and `keep`). */
  private async prune(runId: string, keepLast: number, keep: string): Promise<void> {
    const root = this.store.pathOf(`runs/${runId}/checkpoints`);
    const names = (await fsp.readdir(root).catch(() => [] as string[])).filter((n) => /^v\d+-s\d+$/.test(n)).sort();
    for (const n of names.slice(0, Math.max(0, names.length - keepLast))) {
      if (`runs/${runId}/checkpoints/${n}` === keep) continue;
      await fsp.rm(path.join(root, n), { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    if (this.host) await (await this.host).close();
    this.host = undefined;
    this.resident = null;
  }
}
