/**
 * Policy checkpoints: a folder with
 *   model.safetensors      weights, Hugging Face names and [out, in] layouts (float32)
 *   optimizer.safetensors  AdamW moments `exp_avg.<name>`, `exp_avg_sq.<name>` (optional)
 *   config.json            Hugging Face Qwen3/Qwen2 config
 *   tokenizer.json, tokenizer_config.json   (optional)
 *   manifest.json          sha256 and size of every file above, plus small metadata
 * Every file is written atomically (infra/store/atomic.ts) and the manifest last, so a
 * folder without a manifest is an incomplete write. Loading verifies every checksum.
 * Intent: the weights + config + tokenizer load in Hugging Face transformers as
 * `Qwen3ForCausalLM` (parity test to come).
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { CorruptArtifactError, readFileVerified, writeFileAtomic } from '../../infra/store/atomic';
import { ModelConfig, ModelConfigError, OptimizerStateLike, ParamMap, numel, paramSpecs, toHfConfigJson, validateConfig } from '../model/config';
import { decodeSafetensors, encodeSafetensors } from './safetensors';

export { CorruptArtifactError };

export const MANIFEST_FORMAT = 'longrl-checkpoint/1';

export interface ManifestEntry { sha256: string; bytes: number }

export interface CheckpointManifest {
  format: typeof MANIFEST_FORMAT;
  createdAt: string;
  files: Record<string, ManifestEntry>;
  /** Small caller metadata (run id, model version, step, ...). */
  meta: Record<string, string | number | boolean>;
}

/** AdamW state: step count and first/second moments per parameter (same names and sizes). */
export type OptimizerState = OptimizerStateLike;

export interface CheckpointContents {
  config: ModelConfig;
  params: ParamMap;
  optimizer?: OptimizerState;
  /** Parsed tokenizer.json / tokenizer_config.json objects. */
  tokenizer?: { json: unknown; config?: unknown };
  meta?: Record<string, string | number | boolean>;
}

/** The folder has no (readable) manifest: it does not exist or its write never finished. */
export class CheckpointMissingError extends Error {
  override readonly name = 'CheckpointMissingError';
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}; the checkpoint is missing or its write did not complete, use an earlier checkpoint`);
  }
}

/** A tensor is missing, unexpected or has the wrong shape for the checkpoint's config. */
export class CheckpointShapeError extends Error {
  override readonly name = 'CheckpointShapeError';
  constructor(readonly file: string, readonly tensor: string, readonly expected: number[] | null, readonly actual: number[] | null) {
    super(`${file}: tensor "${tensor}": ${expected === null ? 'not expected by config.json' : actual === null ? `missing (expected shape [${expected}])` : `shape [${actual}] but config.json implies [${expected}]`}; the weights do not match config.json`);
  }
}

/** The checkpoint's architecture differs from what the caller expects. */
export class CheckpointArchitectureError extends Error {
  override readonly name = 'CheckpointArchitectureError';
  constructor(readonly file: string, readonly field: string, readonly expected: unknown, readonly actual: unknown) {
    super(`${file}: config field "${field}" is ${JSON.stringify(actual)} but ${JSON.stringify(expected)} was expected; load a checkpoint of this model`);
  }
}

function toTensorList(params: ParamMap, cfg: ModelConfig, prefix = ''): Array<[string, { shape: number[]; data: Float32Array }]> {
  return paramSpecs(cfg).map((p) => {
    const data = params.get(p.name);
    if (!data) throw new CheckpointShapeError('<save>', prefix + p.name, p.shape, null);
    if (data.length !== numel(p.shape)) throw new CheckpointShapeError('<save>', prefix + p.name, p.shape, [data.length]);
    return [prefix + p.name, { shape: p.shape, data }];
  });
}

/**
 * Write a checkpoint to `dir` (created if needed; files replaced atomically, manifest last).
 * Returns the manifest.
 */
export async function saveCheckpoint(dir: string, c: CheckpointContents): Promise<CheckpointManifest> {
  await fsp.mkdir(dir, { recursive: true });
  const files: Record<string, ManifestEntry> = {};
  const put = async (name: string, data: Uint8Array | string | Uint8Array[]): Promise<void> => {
    const parts = Array.isArray(data) ? data : [data];
    const bytes = parts.reduce((a, p) => a + (typeof p === 'string' ? Buffer.byteLength(p) : p.byteLength), 0);
    files[name] = { sha256: await writeFileAtomic(path.join(dir, name), data), bytes };
  };
  // Remove a stale manifest first: a crash mid-write must not leave an old manifest that
  // points at new files.
  await fsp.rm(path.join(dir, 'manifest.json'), { force: true });
  await put('model.safetensors', encodeSafetensors(toTensorList(c.params, c.config), { format: 'pt' }));
  if (c.optimizer) {
    const list = [...toTensorList(c.optimizer.m, c.config, 'exp_avg.'), ...toTensorList(c.optimizer.v, c.config, 'exp_avg_sq.')];
    await put('optimizer.safetensors', encodeSafetensors(list, { step: String(c.optimizer.step), optimizer: 'AdamW' }));
  }
  await put('config.json', JSON.stringify(toHfConfigJson(c.config), null, 2));
  await put('generation_config.json', JSON.stringify({ bos_token_id: c.config.bos_token_id ?? null, eos_token_id: c.config.eos_token_id ?? null, pad_token_id: c.config.pad_token_id ?? null }, null, 2));
  if (c.tokenizer) {
    await put('tokenizer.json', JSON.stringify(c.tokenizer.json));
    if (c.tokenizer.config) await put('tokenizer_config.json', JSON.stringify(c.tokenizer.config, null, 2));
  }
  const manifest: CheckpointManifest = { format: MANIFEST_FORMAT, createdAt: new Date().toISOString(), files, meta: c.meta ?? {} };
  await writeFileAtomic(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

/** Read and check `dir/manifest.json`. */
export async function readManifest(dir: string): Promise<CheckpointManifest> {
  const file = path.join(dir, 'manifest.json');
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new CheckpointMissingError(file, `cannot read the manifest (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let m: CheckpointManifest;
  try {
    m = JSON.parse(text) as CheckpointManifest;
  } catch (err) {
    throw new CorruptArtifactError(file, 'valid JSON', `unparseable (${(err as Error).message})`);
  }
  if (m.format !== MANIFEST_FORMAT || !m.files || typeof m.files !== 'object') throw new CheckpointMissingError(file, `not a ${MANIFEST_FORMAT} manifest`);
  return m;
}

export interface LoadOptions {
  /** Also load optimizer.safetensors when present (default true). */
  withOptimizer?: boolean;
  /** Fail with CheckpointArchitectureError when these config fields differ. */
  expect?: Partial<ModelConfig>;
}

function paramsFrom(tensors: Map<string, { shape: number[]; data: unknown }>, cfg: ModelConfig, file: string, prefix: string, allowExtra: (n: string) => boolean): ParamMap {
  const out: ParamMap = new Map();
  const expected = new Set<string>();
  for (const p of paramSpecs(cfg)) {
    const name = prefix + p.name;
    expected.add(name);
    const t = tensors.get(name);
    if (!t) throw new CheckpointShapeError(file, name, p.shape, null);
    if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) throw new CheckpointShapeError(file, name, p.shape, t.shape);
    if (!(t.data instanceof Float32Array)) throw new CheckpointShapeError(file, name, p.shape, t.shape);
    out.set(p.name, t.data);
  }
  for (const name of tensors.keys()) if (!expected.has(name) && !allowExtra(name)) throw new CheckpointShapeError(file, name, null, tensors.get(name)!.shape);
  return out;
}

/**
 * Load a checkpoint written by `saveCheckpoint`, verifying every file's sha256
 * (CorruptArtifactError), config.json (ModelConfigError naming the field), tensor names
 * and shapes (CheckpointShapeError) and, if asked, the architecture
 * (CheckpointArchitectureError).
 */
export async function loadCheckpoint(dir: string, opts: LoadOptions = {}): Promise<CheckpointContents & { manifest: CheckpointManifest }> {
  const manifest = await readManifest(dir);
  const read = async (name: string): Promise<Buffer | null> => {
    const e = manifest.files[name];
    if (!e) return null;
    const file = path.join(dir, name);
    try {
      return await readFileVerified(file, e.sha256);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CheckpointMissingError(file, 'listed in manifest.json but missing');
      throw err;
    }
  };
  const cfgFile = path.join(dir, 'config.json');
  const cfgBuf = await read('config.json');
  if (!cfgBuf) throw new CheckpointMissingError(cfgFile, 'config.json is not in the manifest');
  let rawCfg: unknown;
  try {
    rawCfg = JSON.parse(cfgBuf.toString('utf8'));
  } catch (err) {
    throw new ModelConfigError('(root)', `invalid JSON: ${(err as Error).message}`, cfgFile);
  }
  const config = validateConfig(rawCfg, cfgFile);
  for (const [k, v] of Object.entries(opts.expect ?? {})) {
    const actual = (config as unknown as Record<string, unknown>)[k];
    if (JSON.stringify(actual) !== JSON.stringify(v)) throw new CheckpointArchitectureError(cfgFile, k, v, actual);
  }
  const modelFile = path.join(dir, 'model.safetensors');
  const modelBuf = await read('model.safetensors');
  if (!modelBuf) throw new CheckpointMissingError(modelFile, 'model.safetensors is not in the manifest');
  const { tensors } = decodeSafetensors(modelBuf, modelFile);
  const params = paramsFrom(tensors, config, modelFile, '', (n) => config.tie_word_embeddings && n === 'lm_head.weight');
  const out: CheckpointContents & { manifest: CheckpointManifest } = { config, params, manifest, meta: manifest.meta };
  if (opts.withOptimizer !== false) {
    const optFile = path.join(dir, 'optimizer.safetensors');
    const optBuf = await read('optimizer.safetensors');
    if (optBuf) {
      const dec = decodeSafetensors(optBuf, optFile);
      const m = new Map(paramsFrom(new Map([...dec.tensors].filter(([n]) => n.startsWith('exp_avg.'))), config, optFile, 'exp_avg.', () => false));
      const v = new Map(paramsFrom(new Map([...dec.tensors].filter(([n]) => n.startsWith('exp_avg_sq.'))), config, optFile, 'exp_avg_sq.', () => false));
      out.optimizer = { step: Number(dec.metadata.step ?? 0), m, v };
    }
  }
  const tokBuf = await read('tokenizer.json');
  if (tokBuf) {
    const tcBuf = await read('tokenizer_config.json');
    out.tokenizer = { json: JSON.parse(tokBuf.toString('utf8')), config: tcBuf ? JSON.parse(tcBuf.toString('utf8')) : undefined };
  }
  return out;
}

/** Verify every file of a checkpoint against its manifest without parsing weights. */
export async function verifyCheckpoint(dir: string): Promise<CheckpointManifest> {
  const manifest = await readManifest(dir);
  for (const [name, e] of Object.entries(manifest.files)) await readFileVerified(path.join(dir, name), e.sha256);
  return manifest;
}
