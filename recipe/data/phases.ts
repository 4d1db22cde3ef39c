/**
 * Curriculum phases by input length (recipe.md section 1.2): with budgets L_1 < L_2 < ...,
 * phase k (0-based index k-1 here) holds the items with L_{k-1} < length <= L_k, L_0 = 0.
 */
import { RecipeConfigError } from '../errors';

/** Validates that budgets are positive integers, strictly increasing. */
export function validatePhaseBudgets(budgets: readonly number[], path = 'curriculum.phases'): void {
  if (budgets.length === 0) throw new RecipeConfigError(path, 'needs at least one phase budget');
  budgets.forEach((b, i) => {
    if (!Number.isInteger(b) || b <= 0) throw new RecipeConfigError(`${path}[${i}]`, `must be a positive integer, got ${b}`);
    if (i > 0 && b <= budgets[i - 1]) throw new RecipeConfigError(`${path}[${i}]`, `must be greater than the previous budget ${budgets[i - 1]}, got ${b}`);
  });
}

/** The 0-based phase of an input of `length` tokens, or -1 when it exceeds the last budget. */
export function assignPhase(length: number, budgets: readonly number[]): number {
  for (let k = 0; k < budgets.length; k++) if (length <= budgets[k]) return k;
  return -1;
}

/** Items split into one pool per phase, plus those over the last budget. */
export interface PhaseBuckets<T> {
  pools: T[][];
  overBudget: T[];
}

/** Buckets items by `lengthOf(item)` into phase pools (stable order within each pool). */
export function bucketByPhase<T>(items: readonly T[], budgets: readonly number[], lengthOf: (item: T) => number): PhaseBuckets<T> {
  validatePhaseBudgets(budgets);
  const pools: T[][] = budgets.map(() => []);
  const overBudget: T[] = [];
  for (const item of items) {
    const k = assignPhase(lengthOf(item), budgets);
    if (k < 0) overBudget.push(item);
    else pools[k].push(item);
  }
  return { pools, overBudget };
}
