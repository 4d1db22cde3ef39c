/**
 * Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code",
 * arXiv 2107.03374): from n samples of which c are correct,
 *   pass@k = 1 - C(n-c, k) / C(n, k),
 * computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i) for numerical stability (recipe.md section 6).
 * Pure: no Node built-ins.
 */

/** pass@k of one item with n samples, c correct; 1 <= k <= n, 0 <= c <= n integers. */
export function passAtK(n: number, c: number, k: number): number {
  if (![n, c, k].every(Number.isInteger) || n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`passAtK: need integers 1 <= k <= n and 0 <= c <= n, got n=${n} c=${c} k=${k}`);
  }
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/** Mean pass@k over items. */
export function meanPassAtK(items: ReadonlyArray<{ n: number; c: number }>, k: number): number {
  if (items.length === 0) return Number.NaN;
  let s = 0;
  for (const it of items) s += passAtK(it.n, it.c, k);
  return s / items.length;
}
