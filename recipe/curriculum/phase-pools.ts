/**
 * Phase pools of curriculum-guided phased RL (recipe.md section 1.2): item ids split by
 * input length into L_{k-1} < length <= L_k. Pure: no Node built-ins (workflow code).
 */
import { bucketByPhase } from '../data/phases';

/** Id and prompt length (tokens) of an item; all the workflow needs to build pools. */
export interface ItemLength {
  id: string;
  length: number;
}

/** Ids per phase (input order kept) and ids over the last budget. */
export function buildPhasePools(items: readonly ItemLength[], budgets: readonly number[]): { pools: string[][]; overBudget: string[] } {
  const { pools, overBudget } = bucketByPhase(items, budgets, (x) => x.length);
  return { pools: pools.map((p) => p.map((x) => x.id)), overBudget: overBudget.map((x) => x.id) };
}
