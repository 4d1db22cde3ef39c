/**
 * Policy model configuration in Hugging Face `config.json` naming (Qwen3 / Qwen2 families),
 * its validation, the parameter list it implies (HF names, HF [out, in] layouts) and
 * seeded initialisation.
 *
 * Dimension legend: V vocab_size, C hidden_size, L num_hidden_layers, H num_attention_heads,
 * K num_key_value_heads, D head_dim, I intermediate_size.
 */
import { Rng } from '../sampling/rng';

export type Architecture = 'Qwen3ForCausalLM' | 'Qwen2ForCausalLM';

/** The fields of Hugging Face's Qwen3/Qwen2 `config.json` that longrl reads and writes. */
export interface ModelConfig {
  architectures: [Architecture];
  model_type: 'qwen3' | 'qwen2';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  max_position_embeddings: number;
  rope_theta: number;
  rms_norm_eps: number;
  tie_word_embeddings: boolean;
  /** Qwen3: bias on q/k/v/o projections. Qwen2 always has q/k/v bias (and no o bias). */
  attention_bias: boolean;
  hidden_act: 'silu';
  torch_dtype: 'float32' | 'bfloat16' | 'float16';
  initializer_range: number;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
}

/** A config field is missing, mistyped or inconsistent (e.g. heads that do not divide). */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
  constructor(readonly field: string, detail: string, readonly file = '<config>') {
    super(`${file}: config field "${field}": ${detail}`);
  }
}

/** Default tiny from-scratch policy (~1M parameters with V = 2048). */
export function tinyConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return validateConfig({
    architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3',
    vocab_size: 2048, hidden_size: 128, intermediate_size: 384, num_hidden_layers: 4,
    num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32,
    max_position_embeddings: 4096, rope_theta: 10000, rms_norm_eps: 1e-6,
    tie_word_embeddings: true, attention_bias: false, hidden_act: 'silu', torch_dtype: 'float32',
    initializer_range: 0.02, ...overrides,
  });
}

function posInt(c: Record<string, unknown>, field: string, file: string): number {
  const v = c[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new ModelConfigError(field, `must be a positive integer, found ${JSON.stringify(v)}`, file);
  return v;
}

function posNum(c: Record<string, unknown>, field: string, file: string): number {
  const v = c[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ModelConfigError(field, `must be a positive number, found ${JSON.stringify(v)}`, file);
  return v;
}

/**
 * Validate a parsed `config.json` (or a literal) and return it typed, with defaults for
 * optional fields (head_dim = C / H, attention_bias false, tie true, eps 1e-6, theta 1e6,
 * initializer_range 0.02). Throws ModelConfigError naming the field.
 */
export function validateConfig(raw: unknown, file = '<config>'): ModelConfig {
  if (!raw || typeof raw !== 'object') throw new ModelConfigError('(root)', 'not an object', file);
  const c = raw as Record<string, unknown>;
  const arch = Array.isArray(c.architectures) ? c.architectures[0] : c.architectures;
  if (arch !== 'Qwen3ForCausalLM' && arch !== 'Qwen2ForCausalLM') {
    throw new ModelConfigError('architectures', `expected ["Qwen3ForCausalLM"] or ["Qwen2ForCausalLM"], found ${JSON.stringify(c.architectures)}`, file);
  }
  const V = posInt(c, 'vocab_size', file);
  const C = posInt(c, 'hidden_size', file);
  const I = posInt(c, 'intermediate_size', file);
  const L = posInt(c, 'num_hidden_layers', file);
  const H = posInt(c, 'num_attention_heads', file);
  const K = c.num_key_value_heads === undefined ? H : posInt(c, 'num_key_value_heads', file);
  if (H % K !== 0) throw new ModelConfigError('num_key_value_heads', `${K} does not divide num_attention_heads ${H}; choose a divisor of ${H}`, file);
  let D: number;
  if (c.head_dim === undefined || c.head_dim === null) {
    if (C % H !== 0) throw new ModelConfigError('num_attention_heads', `${H} does not divide hidden_size ${C}; set head_dim or change the head count`, file);
    D = C / H;
  } else {
    D = posInt(c, 'head_dim', file);
  }
  if (D % 2 !== 0) throw new ModelConfigError('head_dim', `${D} must be even for rotary embeddings`, file);
  const act = c.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ModelConfigError('hidden_act', `only "silu" (SwiGLU) is supported, found ${JSON.stringify(act)}`, file);
  const dtype = c.torch_dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'bfloat16' && dtype !== 'float16') throw new ModelConfigError('torch_dtype', `expected float32, bfloat16 or float16, found ${JSON.stringify(dtype)}`, file);
  const bool = (field: string, dflt: boolean): boolean => {
    const v = c[field];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw new ModelConfigError(field, `must be a boolean, found ${JSON.stringify(v)}`, file);
    return v;
  };
  const out: ModelConfig = {
    architectures: [arch], model_type: arch === 'Qwen3ForCausalLM' ? 'qwen3' : 'qwen2',
    vocab_size: V, hidden_size: C, intermediate_size: I, num_hidden_layers: L,
    num_attention_heads: H, num_key_value_heads: K, head_dim: D,
    max_position_embeddings: c.max_position_embeddings === undefined ? 32768 : posInt(c, 'max_position_embeddings', file),
    rope_theta: c.rope_theta === undefined ? 1e6 : posNum(c, 'rope_theta', file),
    rms_norm_eps: c.rms_norm_eps === undefined ? 1e-6 : posNum(c, 'rms_norm_eps', file),
    tie_word_embeddings: bool('tie_word_embeddings', true),
    attention_bias: bool('attention_bias', false),
    hidden_act: 'silu', torch_dtype: dtype,
    initializer_range: c.initializer_range === undefined ? 0.02 : posNum(c, 'initializer_range', file),
  };
  for (const f of ['bos_token_id', 'eos_token_id', 'pad_token_id'] as const) if (c[f] !== undefined) (out as unknown as Record<string, unknown>)[f] = c[f];
  return out;
}

/** Which optional pieces a config has. */
export function features(cfg: ModelConfig): { qkNorm: boolean; qkvBias: boolean; oBias: boolean } {
  const qwen3 = cfg.architectures[0] === 'Qwen3ForCausalLM';
  return { qkNorm: qwen3, qkvBias: !qwen3 || cfg.attention_bias, oBias: qwen3 && cfg.attention_bias };
}

export interface ParamSpec {
  /** Hugging Face parameter name. */
  name: string;
  /** HF layout: Linear weights are [out, in]. */
  shape: number[];
  /** How it is initialised: 'normal' (std initializer_range), 'ones', 'zeros'. */
  init: 'normal' | 'ones' | 'zeros';
}

/** The parameter list of a config, in a fixed order (embedding, layers 0..L-1, final norm, head). */
export function paramSpecs(cfg: ModelConfig): ParamSpec[] {
  const { vocab_size: V, hidden_size: C, intermediate_size: I, num_attention_heads: H, num_key_value_heads: K, head_dim: D } = cfg;
  const f = features(cfg);
  const out: ParamSpec[] = [{ name: 'model.embed_tokens.weight', shape: [V, C], init: 'normal' }];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    out.push({ name: `${p}input_layernorm.weight`, shape: [C], init: 'ones' });
    out.push({ name: `${p}self_attn.q_proj.weight`, shape: [H * D, C], init: 'normal' });
    if (f.qkvBias) out.push({ name: `${p}self_attn.q_proj.bias`, shape: [H * D], init: 'zeros' });
    out.push({ name: `${p}self_attn.k_proj.weight`, shape: [K * D, C], init: 'normal' });
    if (f.qkvBias) out.push({ name: `${p}self_attn.k_proj.bias`, shape: [K * D], init: 'zeros' });
    out.push({ name: `${p}self_attn.v_proj.weight`, shape: [K * D, C], init: 'normal' });
    if (f.qkvBias) out.push({ name: `${p}self_attn.v_proj.bias`, shape: [K * D], init: 'zeros' });
    out.push({ name: `${p}self_attn.o_proj.weight`, shape: [C, H * D], init: 'normal' });
    if (f.oBias) out.push({ name: `${p}self_attn.o_proj.bias`, shape: [C], init: 'zeros' });
    if (f.qkNorm) {
      out.push({ name: `${p}self_attn.q_norm.weight`, shape: [D], init: 'ones' });
      out.push({ name: `${p}self_attn.k_norm.weight`, shape: [D], init: 'ones' });
    }
    out.push({ name: `${p}post_attention_layernorm.weight`, shape: [C], init: 'ones' });
    out.push({ name: `${p}mlp.gate_proj.weight`, shape: [I, C], init: 'normal' });
    out.push({ name: `${p}mlp.up_proj.weight`, shape: [I, C], init: 'normal' });
    out.push({ name: `${p}mlp.down_proj.weight`, shape: [C, I], init: 'normal' });
  }
  out.push({ name: 'model.norm.weight', shape: [C], init: 'ones' });
  if (!cfg.tie_word_embeddings) out.push({ name: 'lm_head.weight', shape: [V, C], init: 'normal' });
  return out;
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Total parameter count of a config. */
export function countParams(cfg: ModelConfig): number {
  return paramSpecs(cfg).reduce((a, p) => a + numel(p.shape), 0);
}

/** Parameters as named flat float32 arrays (HF layout). */
export type ParamMap = Map<string, Float32Array>;

/**
 * Seeded initialisation (HF `_init_weights`: normal(0, initializer_range) for Linear and
 * Embedding, ones for RMSNorm, zeros for biases). Same config + seed -> same weights.
 */
export function initParams(cfg: ModelConfig, seed: number): ParamMap {
  const rng = new Rng(seed);
  const out: ParamMap = new Map();
  const std = cfg.initializer_range;
  for (const p of paramSpecs(cfg)) {
    const a = new Float32Array(numel(p.shape));
    if (p.init === 'ones') a.fill(1);
    else if (p.init === 'normal') for (let i = 0; i < a.length; i++) a[i] = std * rng.normal();
    out.set(p.name, a);
  }
  return out;
}

/** The `config.json` object written into checkpoints (HF naming; loads in transformers). */
export function toHfConfigJson(cfg: ModelConfig): Record<string, unknown> {
  return {
    ...cfg,
    attention_dropout: 0,
    use_cache: true,
    use_sliding_window: false,
    sliding_window: null,
    max_window_layers: cfg.num_hidden_layers,
    rope_scaling: null,
    transformers_version: '4.51.0',
  };
}

/** AdamW state: step count and first/second moments per parameter (same names and sizes). */
export interface OptimizerStateLike {
  step: number;
  m: ParamMap;
  v: ParamMap;
}
