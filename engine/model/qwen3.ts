/**
 * The policy model: a decoder-only transformer of the Qwen3 family (Qwen2 as a variant),
 * written as engine graphs (engine/graph) in one readable file, in the spirit of nanoGPT's
 * model.py and llm.c's dimension legend. Sources: Hugging Face transformers
 * `modeling_qwen3.py` / `modeling_qwen2.py` (restated, not copied): pre-norm blocks
 *   h = x + o_proj(attn(rope(q_norm(q_proj(n1(x)))), rope(k_norm(k_proj(n1(x)))), v_proj(n1(x))))
 *   y = h + down_proj(silu(gate_proj(n2(h))) * up_proj(n2(h)))
 * then a final RMSNorm and the LM head (tied to the embedding or separate).
 *
 * Dimension legend
 *   B  batch (sequences)                 T  query positions of this call
 *   P  cached (past) positions           S  key positions = P + T
 *   N  B*T token rows                    V  vocab_size
 *   C  hidden_size                       I  intermediate_size
 *   H  num_attention_heads               K  num_key_value_heads
 *   G  H / K (query heads per KV head)   D  head_dim
 *   L  num_hidden_layers
 * Weights keep Hugging Face's names and [out, in] layouts; a Linear is x @ W^T.
 *
 * Graphs built here (inputs -> outputs, all named):
 *   buildScoreGraph   input_ids [B,T], targets [B,T], temperature []      -> logp [B,T], entropy [B,T]
 *   buildTrainGraph   + weights/metric_weights [B,T] and loss inputs     -> loss, metric.*, grad.<param>
 *   buildStepGraph    input_ids [B,T], position_ids [B,T], attn_mask [B,S], past.<l>.key/value [B,K,P,D]
 *                                                                         -> logits [B,V] (last position), present.<l>.key/value [B,K,S,D]
 *   buildAdamWGraph   params, grads, moments, hyper-parameters           -> new params and moments
 * Score and train batches are right-padded (a causal mask suffices: padding only follows
 * real tokens and is masked out of the loss); generation batches are left-padded and use
 * explicit positions and a key mask, so prompts of different lengths share one batch.
 */
import { Graph, Tensor, ops as o, grad } from '../graph';
import { ModelConfig, features, paramSpecs } from './config';
import { PolicyLossOptions, policyLossTerms, klTerm } from './loss';

/** Float dtype of a model graph: float32 to train, float64 for gradient checks. */
export type FloatType = 'float32' | 'float64';

/** Large negative added to masked attention scores (finite, so fully masked rows stay NaN-free). */
const MASKED = -1e9;

/** Declares every parameter of `cfg` as a graph param (HF name, HF shape). */
export function declareParams(g: Graph, cfg: ModelConfig, dtype: FloatType): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const p of paramSpecs(cfg)) out.set(p.name, g.param(p.name, p.shape, dtype));
  return out;
}

/** x [N, in] @ W^T (W [out, in]) + b -> [N, out]. */
function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  const y = o.matmul(x, o.transpose(w, [1, 0]));
  return b ? o.add(y, b) : y;
}

/** RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * w. */
function rmsNorm(x: Tensor, w: Tensor, eps: number): Tensor {
  const ms = o.reduceMean(o.mul(x, x), [-1], true);
  return o.mul(o.mul(x, o.reciprocal(o.sqrt(o.add(ms, eps)))), w);
}

/**
 * Rotary tables (Su et al. 2021, HF's "rotate_half" layout): positions [...] (int64) ->
 * cos, sin [..., 1, D] (the 1 broadcasts over heads).
 */
function ropeTables(positions: Tensor, cfg: ModelConfig, dtype: FloatType): { cos: Tensor; sin: Tensor } {
  const D = cfg.head_dim;
  const inv = new Array(D / 2).fill(0).map((_, i) => Math.pow(cfg.rope_theta, -(2 * i) / D));
  const g = positions.graph;
  const invFreq = g.constant(inv, dtype, [D / 2]);
  const ang = o.mul(o.unsqueeze(o.cast(positions, dtype), [-1]), invFreq); // [..., D/2]
  const emb = o.concat([ang, ang], -1); // [..., D]
  return { cos: o.unsqueeze(o.cos(emb), [-2]), sin: o.unsqueeze(o.sin(emb), [-2]) };
}

/** x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1]; x [B, T, heads, D]. */
function applyRope(x: Tensor, cos: Tensor, sin: Tensor, D: number): Tensor {
  const x1 = o.slice(x, [0], [D / 2], [-1]);
  const x2 = o.slice(x, [D / 2], [D], [-1]);
  return o.add(o.mul(x, cos), o.mul(o.concat([o.neg(x2), x1], -1), sin));
}

/** How attention is masked in a graph. */
interface MaskSpec {
  /** Additive bias broadcastable to [B, K, G, T, S] (0 allowed, MASKED blocked). */
  bias: Tensor;
}

/** Causal bias [T, T] for right-padded batches without a cache. */
function causalBias(g: Graph, dtype: FloatType): MaskSpec {
  const q = o.unsqueeze(o.arange(g, 'T'), [-1]); // [T, 1]
  const k = o.unsqueeze(o.arange(g, 'T'), [0]); // [1, T]
  return { bias: o.where(o.lessEqual(k, q), g.scalar(0, dtype), g.scalar(MASKED, dtype)) };
}

/**
 * Causal + key-padding bias [B, 1, 1, T, S] for a step over T new tokens after P cached
 * ones: query t (absolute slot P + t) sees key s when s <= P + t and attn_mask[b, s] = 1.
 */
function cachedBias(g: Graph, attnMask: Tensor, pastKey: Tensor, dtype: FloatType): MaskSpec {
  const P = o.reshape(o.shapeOf(pastKey, 2, 3), []); // scalar int64
  const q = o.unsqueeze(o.add(o.arange(g, 'T'), P), [-1]); // [T, 1]
  const S = attnMask.shape[1];
  const k = o.unsqueeze(o.arange(g, S, 'int64', [attnMask]), [0]); // [1, S]
  const causal = o.lessEqual(k, q); // [T, S]
  const keyOk = o.unsqueeze(o.cast(attnMask, 'bool'), [1, 2, 3]); // [B, 1, 1, 1, S]
  return { bias: o.where(o.and(causal, keyOk), g.scalar(0, dtype), g.scalar(MASKED, dtype)) };
}

interface LayerIo {
  pastKey?: Tensor;
  pastValue?: Tensor;
  presentKey?: Tensor;
  presentValue?: Tensor;
}

/**
 * Grouped-query self-attention of one layer. x [N, C] -> [N, C]. Query heads are grouped
 * [B, K, G, T, D] (HF's repeat_kv order: query head h uses KV head floor(h / G)) so that
 * no KV head is copied: scores are one batched matmul [B, K, G*T, D] @ [B, K, D, S].
 */
function attention(x: Tensor, p: (n: string) => Tensor, has: (n: string) => boolean, l: number, cfg: ModelConfig,
  rope: { cos: Tensor; sin: Tensor }, mask: MaskSpec, io: LayerIo): Tensor {
  const { num_attention_heads: H, num_key_value_heads: K, head_dim: D } = cfg;
  const G = H / K;
  const pre = `model.layers.${l}.self_attn.`;
  const bias = (n: string): Tensor | undefined => (has(`${pre}${n}.bias`) ? p(`${pre}${n}.bias`) : undefined);
  let q = o.reshape(linear(x, p(`${pre}q_proj.weight`), bias('q_proj')), ['B', 'T', H, D]);
  let k = o.reshape(linear(x, p(`${pre}k_proj.weight`), bias('k_proj')), ['B', 'T', K, D]);
  const v0 = o.reshape(linear(x, p(`${pre}v_proj.weight`), bias('v_proj')), ['B', 'T', K, D]);
  if (features(cfg).qkNorm) {
    q = rmsNorm(q, p(`${pre}q_norm.weight`), cfg.rms_norm_eps);
    k = rmsNorm(k, p(`${pre}k_norm.weight`), cfg.rms_norm_eps);
  }
  q = applyRope(q, rope.cos, rope.sin, D);
  k = applyRope(k, rope.cos, rope.sin, D);
  q = o.mul(q, 1 / Math.sqrt(D));
  // [B, T, K, G, D] -> [B, K, G, T, D] -> [B, K, G*T, D]
  const q4 = o.reshape(o.transpose(o.reshape(q, ['B', 'T', K, G, D]), [0, 2, 3, 1, 4]), ['B', K, -1, D]);
  let kk = o.transpose(k, [0, 2, 1, 3]); // [B, K, T, D]
  let vv = o.transpose(v0, [0, 2, 1, 3]);
  if (io.pastKey && io.pastValue) {
    kk = o.concat([io.pastKey, kk], 2); // [B, K, S, D]
    vv = o.concat([io.pastValue, vv], 2);
    io.presentKey = kk;
    io.presentValue = vv;
  }
  const S = kk.shape[2];
  const scores = o.matmul(q4, o.transposeLast2(kk)); // [B, K, G*T, S]
  const s5 = o.add(o.reshape(scores, ['B', K, G, 'T', S]), mask.bias);
  const probs = o.reshape(o.softmax(s5, -1), ['B', K, -1, S]);
  const ctx = o.matmul(probs, vv); // [B, K, G*T, D]
  const merged = o.reshape(o.transpose(o.reshape(ctx, ['B', K, G, 'T', D]), [0, 3, 1, 2, 4]), [-1, H * D]); // [N, H*D]
  return linear(merged, p(`${pre}o_proj.weight`), bias('o_proj'));
}

/** SwiGLU MLP of one layer: x [N, C] -> [N, C]. */
function mlp(x: Tensor, p: (n: string) => Tensor, l: number): Tensor {
  const pre = `model.layers.${l}.mlp.`;
  const gate = linear(x, p(`${pre}gate_proj.weight`));
  const up = linear(x, p(`${pre}up_proj.weight`));
  return linear(o.mul(o.mul(gate, o.sigmoid(gate)), up), p(`${pre}down_proj.weight`));
}

export interface ForwardOptions {
  /** Positions [B, T] (int64); default 0..T-1 for every row. */
  positionIds?: Tensor;
  /** Causal + padding mask with a KV cache (generation); default causal only. */
  cache?: { attnMask: Tensor; pastKeys: Tensor[]; pastValues: Tensor[] };
  /** Only compute logits of the last position (generation). */
  lastOnly?: boolean;
}

export interface ForwardResult {
  /** [N, V] (or [B, V] with lastOnly). */
  logits: Tensor;
  presentKeys: Tensor[];
  presentValues: Tensor[];
}

/**
 * The transformer: input_ids [B, T] (int64) -> logits. Shapes in the legend above.
 */
export function forward(inputIds: Tensor, params: Map<string, Tensor>, cfg: ModelConfig, dtype: FloatType, opts: ForwardOptions = {}): ForwardResult {
  const g = inputIds.graph;
  const p = (n: string): Tensor => {
    const t = params.get(n);
    if (!t) throw new Error(`qwen3: parameter ${n} not declared`);
    return t;
  };
  const has = (n: string): boolean => params.has(n);
  const C = cfg.hidden_size;
  const ids = o.reshape(inputIds, [-1]); // [N]
  let x = o.gather(p('model.embed_tokens.weight'), ids, 0); // [N, C]
  const positions = opts.positionIds ?? o.arange(g, 'T'); // [B, T] or [T]
  const rope = ropeTables(positions, cfg, dtype); // [B, T, 1, D] or [T, 1, D]
  const mask = opts.cache ? cachedBias(g, opts.cache.attnMask, opts.cache.pastKeys[0], dtype) : causalBias(g, dtype);
  const presentKeys: Tensor[] = [];
  const presentValues: Tensor[] = [];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const io: LayerIo = opts.cache ? { pastKey: opts.cache.pastKeys[l], pastValue: opts.cache.pastValues[l] } : {};
    const h = rmsNorm(x, p(`model.layers.${l}.input_layernorm.weight`), cfg.rms_norm_eps);
    x = o.add(x, attention(h, p, has, l, cfg, rope, mask, io));
    const h2 = rmsNorm(x, p(`model.layers.${l}.post_attention_layernorm.weight`), cfg.rms_norm_eps);
    x = o.add(x, mlp(h2, p, l));
    if (io.presentKey && io.presentValue) {
      presentKeys.push(io.presentKey);
      presentValues.push(io.presentValue);
    }
  }
  if (opts.lastOnly) x = o.reshape(o.slice(o.reshape(x, ['B', 'T', C]), [-1], [o.END], [1]), [-1, C]); // [B, C]
  x = rmsNorm(x, p('model.norm.weight'), cfg.rms_norm_eps);
  const head = cfg.tie_word_embeddings ? p('model.embed_tokens.weight') : p('lm_head.weight');
  return { logits: linear(x, head), presentKeys, presentValues };
}

/**
 * Per-token log-probs of targets and entropies under temperature tau:
 * logits [N, V] -> logp [N] = log softmax(logits / tau)[target], entropy [N].
 */
function tokenStats(logits: Tensor, targets: Tensor, temperature: Tensor): { logp: Tensor; entropy: Tensor; lsm: Tensor } {
  const lsm = o.logSoftmax(o.div(logits, temperature), -1);
  const logp = o.squeeze(o.gatherElements(lsm, o.unsqueeze(o.reshape(targets, [-1]), [-1]), -1), [-1]);
  return { logp, entropy: entropyOf(lsm), lsm };
}

function entropyOf(lsm: Tensor): Tensor {
  return o.neg(o.reduceSum(o.mul(o.exp(lsm), lsm), [-1]));
}

/**
 * Score graph: right-padded sequences input_ids [B, T]; targets [B, T] (the next token at
 * each position; anything in [0, V) where ignored); temperature [] ->
 * logp [B, T] (log p(target | prefix) at temperature) and entropy [B, T].
 */
export function buildScoreGraph(cfg: ModelConfig, dtype: FloatType = 'float32'): Graph {
  const g = new Graph('qwen3_score');
  const ids = g.input('input_ids', 'int64', ['B', 'T']);
  const targets = g.input('targets', 'int64', ['B', 'T']);
  const temp = g.input('temperature', dtype, []);
  const params = declareParams(g, cfg, dtype);
  const { logits } = forward(ids, params, cfg, dtype);
  const s = tokenStats(logits, targets, temp);
  g.output('logp', o.reshape(s.logp, ['B', 'T']));
  g.output('entropy', o.reshape(s.entropy, ['B', 'T']));
  return g;
}

export type TrainObjective = 'sft' | 'pg';

export interface TrainGraphOptions {
  objective: TrainObjective;
  /** KL penalty to reference log-probs (pg only; default none). */
  kl?: 'none' | 'k1' | 'k2' | 'k3';
  /** Add -entropy_coef * entropy to the loss (differentiated); otherwise entropy is a metric only. */
  entropyInLoss?: boolean;
}

/**
 * Train-step graph (forward + backward of one micro-batch). Inputs:
 *   input_ids, targets [B, T] int64; temperature [];
 *   weights [B, T]         aggregation weight per token (loss.ts aggregationWeights: zero
 *                          off the response, and 1/global count so micro-batch sums are exact);
 *   metric_weights [B, T]  mask / global token count (token-mean of metrics);
 *   pg: advantages, old_logp [B, T]; clip_low, clip_high, clip_ratio_c []
 *   kl: ref_logp [B, T], kl_coef [];   entropyInLoss: entropy_coef [].
 * Outputs: loss [] (this micro-batch's share), metric.* [] (shares: sum over micro-batches),
 * grad.<param> (d loss / d param, HF shapes).
 * Loss (recipe.md section 4): sum_{b,t} weights * (pg_loss + kl_coef * kl - entropy_coef * entropy);
 * SFT: sum weights * (-logp).
 */
export function buildTrainGraph(cfg: ModelConfig, opts: TrainGraphOptions, dtype: FloatType = 'float32'): Graph {
  const g = new Graph(`qwen3_train_${opts.objective}`);
  const ids = g.input('input_ids', 'int64', ['B', 'T']);
  const targets = g.input('targets', 'int64', ['B', 'T']);
  const temp = g.input('temperature', dtype, []);
  const w = o.reshape(g.input('weights', dtype, ['B', 'T']), [-1]);
  const mw = o.reshape(g.input('metric_weights', dtype, ['B', 'T']), [-1]);
  const params = declareParams(g, cfg, dtype);
  const { logits } = forward(ids, params, cfg, dtype);
  const s = tokenStats(logits, targets, temp);
  const wsum = (x: Tensor, weights: Tensor): Tensor => o.reduceSum(o.mul(x, weights));
  let perToken: Tensor;
  const metrics: Record<string, Tensor> = {};
  if (opts.objective === 'sft') {
    perToken = o.neg(s.logp);
    metrics.nll = wsum(o.stopGradient(perToken), mw);
  } else {
    const lossOpts: PolicyLossOptions = {
      clipLow: g.input('clip_low', dtype, []),
      clipHigh: g.input('clip_high', dtype, []),
      clipRatioC: g.input('clip_ratio_c', dtype, []),
    };
    const adv = o.reshape(g.input('advantages', dtype, ['B', 'T']), [-1]);
    const old = o.reshape(g.input('old_logp', dtype, ['B', 'T']), [-1]);
    const t = policyLossTerms(s.logp, old, adv, lossOpts);
    perToken = t.loss;
    metrics.pg_loss = wsum(o.stopGradient(t.loss), w);
    metrics.clip_frac = wsum(t.clipped, mw);
    metrics.clip_frac_upper = wsum(t.clippedUpper, mw);
    metrics.clip_frac_dual = wsum(t.dualClipped, mw);
    metrics.approx_kl = wsum(o.stopGradient(o.sub(old, s.logp)), mw);
    if (opts.kl && opts.kl !== 'none') {
      const ref = o.reshape(g.input('ref_logp', dtype, ['B', 'T']), [-1]);
      const kl = klTerm(s.logp, ref, opts.kl);
      perToken = o.add(perToken, o.mul(kl, g.input('kl_coef', dtype, [])));
      metrics.kl = wsum(o.stopGradient(kl), mw);
    }
  }
  if (opts.entropyInLoss) perToken = o.sub(perToken, o.mul(s.entropy, g.input('entropy_coef', dtype, [])));
  metrics.entropy = wsum(o.stopGradient(s.entropy), mw);
  const loss = wsum(perToken, w);
  g.output('loss', loss);
  for (const [k, v] of Object.entries(metrics)) g.output(`metric.${k}`, v);
  const names = [...params.keys()];
  const grads = grad(loss, names.map((n) => params.get(n)!));
  names.forEach((n, i) => g.output(`grad.${n}`, grads[i]));
  return g;
}

/**
 * One generation step with a KV cache (prefill is a step with P = 0). Inputs:
 *   input_ids [B, T], position_ids [B, T] int64; attn_mask [B, S] (1 real, 0 padding) over
 *   cached + new slots; past.<l>.key / past.<l>.value [B, K, P, D].
 * Outputs: logits [B, V] of the last position; present.<l>.key / .value [B, K, S, D].
 */
export function buildStepGraph(cfg: ModelConfig, dtype: FloatType = 'float32'): Graph {
  const g = new Graph('qwen3_step');
  const K = cfg.num_key_value_heads;
  const D = cfg.head_dim;
  const ids = g.input('input_ids', 'int64', ['B', 'T']);
  const pos = g.input('position_ids', 'int64', ['B', 'T']);
  const pastKeys: Tensor[] = [];
  const pastValues: Tensor[] = [];
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    pastKeys.push(g.input(`past.${l}.key`, dtype, ['B', K, 'P', D]));
    pastValues.push(g.input(`past.${l}.value`, dtype, ['B', K, 'P', D]));
  }
  // The key axis is the concat of past and new slots: the graph layer names it '(P+T)'.
  const attnMask = g.input('attn_mask', 'int64', ['B', '(P+T)']);
  const params = declareParams(g, cfg, dtype);
  const r = forward(ids, params, cfg, dtype, { positionIds: pos, cache: { attnMask, pastKeys, pastValues }, lastOnly: true });
  g.output('logits', r.logits);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    g.output(`present.${l}.key`, r.presentKeys[l]);
    g.output(`present.${l}.value`, r.presentValues[l]);
  }
  return g;
}

/**
 * AdamW (Loshchilov & Hutter 2019, torch.optim.AdamW semantics) over all parameters, with
 * the global grad-norm clip applied as a coefficient. Inputs per parameter: param.<n>,
 * grad.<n>, m.<n>, v.<n>; scalars lr, beta1, beta2, eps, weight_decay, clip_coef
 * (min(1, max_norm / (norm + 1e-6))), bias_c1 = 1 - beta1^t, bias_c2 = 1 - beta2^t.
 * Outputs new.param.<n>, new.m.<n>, new.v.<n>:
 *   g' = g * clip_coef; m' = b1 m + (1 - b1) g'; v' = b2 v + (1 - b2) g'^2
 *   p' = p (1 - lr wd) - lr (m' / c1) / (sqrt(v' / c2) + eps)
 */
export function buildAdamWGraph(cfg: ModelConfig, dtype: FloatType = 'float32'): Graph {
  const g = new Graph('adamw');
  const s = (n: string): Tensor => g.input(n, dtype, []);
  const lr = s('lr');
  const b1 = s('beta1');
  const b2 = s('beta2');
  const eps = s('eps');
  const wd = s('weight_decay');
  const coef = s('clip_coef');
  const c1 = s('bias_c1');
  const c2 = s('bias_c2');
  const decay = o.sub(1, o.mul(lr, wd));
  const one = (x: Tensor): Tensor => o.sub(1, x);
  for (const p of paramSpecs(cfg)) {
    const param = g.input(`param.${p.name}`, dtype, p.shape);
    const gr = o.mul(g.input(`grad.${p.name}`, dtype, p.shape), coef);
    const m = o.add(o.mul(g.input(`m.${p.name}`, dtype, p.shape), b1), o.mul(gr, one(b1)));
    const v = o.add(o.mul(g.input(`v.${p.name}`, dtype, p.shape), b2), o.mul(o.mul(gr, gr), one(b2)));
    const upd = o.div(o.div(m, c1), o.add(o.sqrt(o.div(v, c2)), eps));
    g.output(`new.param.${p.name}`, o.sub(o.mul(param, decay), o.mul(upd, lr)));
    g.output(`new.m.${p.name}`, m);
    g.output(`new.v.${p.name}`, v);
  }
  return g;
}
