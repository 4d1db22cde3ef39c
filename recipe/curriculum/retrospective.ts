/**
 * Difficulty-aware retrospective sampling (QwenLong-L1 paper section 3.3; recipe.md 1.3).
 *
 * The buffer records, from rollout results, each item's mean accuracy and its difficulty
 * 1 / (mean + eps); it keeps items whose mean accuracy is <= `threshold` (default 0: only
 * items no response solved) and forgets an item once a later rollout solves it above the
 * threshold. Later phases draw `fraction` of each batch from the buffer's items of earlier
 * phases, with probability proportional to difficulty (see batch.ts).
 *
 * The state holds only ids and numbers, sorted by id, bounded by `cap` (evicting the
 * easiest, then the oldest): small and JSON-serialisable, it travels through Temporal
 * continue-as-new. Pure: no Node built-ins, no Math.random, no Date.
 */
import { RecipeConfigError } from '../errors';

/** Retrospective sampling configuration (`retrospective.*`). */
export interface RetrospectiveConfig {
  /** Default true. */
  enabled?: boolean;
  /** Share of each later-phase batch drawn from the buffer; default 0.25. */
  fraction?: number;
  /** Keep items whose mean accuracy is <= this; default 0. */
  threshold?: number;
  /** eps of 1 / (mean + eps); default 0.01 (weight 100 for an unsolved item). */
  eps?: number;
  /** Most items kept; default 1024. */
  cap?: number;
}

/** Resolved configuration with defaults. */
export interface ResolvedRetrospectiveConfig {
  enabled: boolean;
  fraction: number;
  threshold: number;
  eps: number;
  cap: number;
}

/** Validates and fills defaults. */
export function resolveRetrospectiveConfig(cfg: RetrospectiveConfig = {}): ResolvedRetrospectiveConfig {
  const r = { enabled: cfg.enabled ?? true, fraction: cfg.fraction ?? 0.25, threshold: cfg.threshold ?? 0, eps: cfg.eps ?? 0.01, cap: cfg.cap ?? 1024 };
  if (!(r.fraction >= 0 && r.fraction <= 1)) throw new RecipeConfigError('retrospective.fraction', `must be in [0, 1], got ${r.fraction}`);
  if (!(r.threshold >= 0 && r.threshold <= 1)) throw new RecipeConfigError('retrospective.threshold', `must be in [0, 1], got ${r.threshold}`);
  if (!(r.eps > 0 && Number.isFinite(r.eps))) throw new RecipeConfigError('retrospective.eps', `must be > 0, got ${r.eps}`);
  if (!Number.isInteger(r.cap) || r.cap < 0) throw new RecipeConfigError('retrospective.cap', `must be an integer >= 0, got ${r.cap}`);
  return r;
}

/** One buffered item. */
export interface RetroEntry {
  id: string;
  /** Phase in which the item was first recorded as hard (its own phase). */
  phase: number;
  /** Mean accuracy of its latest rollout group, in [0, 1]. */
  mean: number;
  /** Step of that rollout. */
  step: number;
}

/** Buffer state: entries sorted by id. */
export interface RetroState {
  version: 1;
  entries: RetroEntry[];
}

/** Rollout result of one item: its id and the accuracy (0..1, no length shaping) of each response. */
export interface ItemRollout {
  id: string;
  accuracies: readonly number[];
}

/** An empty buffer. */
export function emptyRetroState(): RetroState {
  return { version: 1, entries: [] };
}

/** Difficulty of an item with mean accuracy `mean`: 1 / (max(mean, 0) + eps). */
export function difficulty(mean: number, eps: number): number {
  return 1 / (Math.max(0, mean) + eps);
}

/**
 * Records one step's rollout results (items of `phase`, or buffer items replayed in it)
 * and returns the new state: items with mean accuracy <= threshold are added or updated,
 * buffered items now above it are removed, and the buffer is cut to `cap`.
 */
export function recordRollouts(
  state: RetroState,
  update: { phase: number; step: number; results: readonly ItemRollout[] },
  cfg: RetrospectiveConfig = {},
): RetroState {
  const r = resolveRetrospectiveConfig(cfg);
  if (!r.enabled) return state;
  const byId = new Map(state.entries.map((e) => [e.id, e]));
  for (const res of update.results) {
    if (res.accuracies.length === 0) continue;
    let sum = 0;
    for (const a of res.accuracies) {
      if (!Number.isFinite(a)) throw new RangeError(`recordRollouts: item ${res.id} has accuracy ${a}`);
      sum += a;
    }
    const mean = sum / res.accuracies.length;
    const prev = byId.get(res.id);
    if (mean <= r.threshold) byId.set(res.id, { id: res.id, phase: prev?.phase ?? update.phase, mean, step: update.step });
    else byId.delete(res.id);
  }
  let entries = [...byId.values()];
  if (entries.length > r.cap) {
    // Evict the easiest first, then the oldest, then by id: deterministic.
    entries.sort((a, b) => a.mean - b.mean || b.step - a.step || cmp(a.id, b.id));
    entries = entries.slice(0, r.cap);
  }
  entries.sort((a, b) => cmp(a.id, b.id));
  return { version: 1, entries };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
