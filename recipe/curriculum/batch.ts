/**
 * Batch picking of one RL step (architecture.md: pickBatch(phasePool, retroBuffer,
 * seed(run, phase, step))). Pure and deterministic: the same inputs give the same batch.
 *
 * Pool items are read from an endless stream of epoch permutations of the phase pool
 * (epoch e permuted by a seed of (run seed, phase, e)), starting at `cursor`, so every
 * pool item is seen once per epoch; the caller keeps the returned cursor. In phases after
 * the first, round(fraction * batchSize) items (at most the number of candidates) come
 * from the retrospective buffer's items of earlier phases, drawn without replacement with
 * probability proportional to difficulty, using a seed of (run seed, phase, step).
 * No Node built-ins, no Math.random, no Date.
 */
import { RecipeConfigError } from '../errors';
import { deriveSeed, Rng, stepSeed } from '../rng';
import { difficulty, resolveRetrospectiveConfig, type RetroState, type RetrospectiveConfig } from './retrospective';

/** Inputs of one step's batch. */
export interface PickBatchInput {
  runSeed: number;
  /** 0-based phase index. */
  phase: number;
  /** Step within the run (or phase); part of the seed. */
  step: number;
  /** Ids of the current phase's pool, in a fixed order. */
  pool: readonly string[];
  /** Prompts per batch. */
  batchSize: number;
  /** Position in this phase's epoch stream; 0 at the start of a phase. */
  cursor: number;
  retro: RetroState;
  retrospective?: RetrospectiveConfig;
}

/** A picked batch. */
export interface PickedBatch {
  /** Prompt ids of the batch (pool and buffer items mixed, deterministic order). */
  ids: string[];
  /** The ids that came from the retrospective buffer. */
  fromBuffer: string[];
  /** Cursor for the next step of this phase. */
  cursor: number;
}

/** The pool item at position `pos` of the phase's epoch stream. */
function streamItem(pool: readonly string[], runSeed: number, phase: number, pos: number, perms: Map<number, string[]>): string {
  const epoch = Math.floor(pos / pool.length);
  let perm = perms.get(epoch);
  if (!perm) {
    perm = new Rng(deriveSeed(runSeed, 'epoch', phase, epoch)).shuffle(pool);
    perms.set(epoch, perm);
  }
  return perm[pos % pool.length];
}

/** Picks the batch of one step (see the module comment). */
export function pickBatch(input: PickBatchInput): PickedBatch {
  const { runSeed, phase, step, pool, batchSize, cursor } = input;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RecipeConfigError('rl.batchSize', `must be an integer >= 1, got ${batchSize}`);
  if (!Number.isInteger(cursor) || cursor < 0) throw new RangeError(`pickBatch: cursor must be an integer >= 0, got ${cursor}`);
  const cfg = resolveRetrospectiveConfig(input.retrospective);
  const rng = new Rng(stepSeed(runSeed, phase, step, 'retrospective'));

  const candidates = cfg.enabled ? input.retro.entries.filter((e) => e.phase < phase) : [];
  let nBuffer = Math.min(Math.round(cfg.fraction * batchSize), candidates.length);
  if (pool.length === 0) {
    if (candidates.length === 0) throw new RecipeConfigError(`curriculum.phases[${phase}]`, 'has no items in its length range and the retrospective buffer is empty; change the phase budgets or the data');
    nBuffer = Math.min(batchSize, candidates.length);
  }
  const weights = candidates.map((e) => difficulty(e.mean, cfg.eps));
  const fromBuffer = rng.weightedSampleWithoutReplacement(weights, nBuffer).map((i) => candidates[i].id);

  const nPool = pool.length === 0 ? 0 : batchSize - fromBuffer.length;
  const perms = new Map<number, string[]>();
  const fromPool: string[] = [];
  for (let i = 0; i < nPool; i++) fromPool.push(streamItem(pool, runSeed, phase, cursor + i, perms));

  return { ids: rng.shuffle([...fromPool, ...fromBuffer]), fromBuffer, cursor: cursor + nPool };
}
