/**
 * Middle truncation to a token budget (recipe.md section 6, as LongBench and QwenLong-L1's
 * evaluation do it): keep the first floor(budget/2) and the last ceil(budget/2) tokens.
 */
import { RecipeConfigError } from '../errors';
import { buildPrompt, type PromptInput } from './prompt';
import { countWordTokens, wordTokenSpans, type TokenCounter } from './tokens';

/** Options of middle truncation. */
export interface TruncateOptions {
  /** Token counter; default the word-level convention (exact token boundaries). */
  count?: TokenCounter;
  /** Inserted between the kept head and tail; default a single space (no token). */
  separator?: string;
}

/**
 * Returns `text` unchanged when it has at most `budget` tokens, else its first and last
 * halves of the budget joined by `separator`. With the default counter the cut is at exact
 * word-token boundaries; with a custom counter the cut points are whitespace boundaries
 * found by binary search, so the result never exceeds the budget (a head or tail may come
 * out shorter than half when a single whitespace-free run spans the cut).
 */
export function middleTruncate(text: string, budget: number, opts: TruncateOptions = {}): string {
  if (!Number.isInteger(budget) || budget < 0) throw new RecipeConfigError('truncate.budget', `must be an integer >= 0, got ${budget}`);
  const sep = opts.separator ?? ' ';
  const count = opts.count;
  if (!count || count === countWordTokens) {
    const spans = wordTokenSpans(text);
    if (spans.length <= budget) return text;
    const headN = Math.floor(budget / 2);
    const tailN = budget - headN;
    const head = headN > 0 ? text.slice(0, spans[headN - 1][1]) : '';
    const tail = tailN > 0 ? text.slice(spans[spans.length - tailN][0]) : '';
    return joinParts(head, tail, sep);
  }
  if (count(text) <= budget) return text;
  const headN = Math.floor(budget / 2);
  const tailN = budget - headN;
  // Candidate cut points: every position where a whitespace run starts or ends.
  const cuts: number[] = [0];
  for (const m of text.matchAll(/\s+/gu)) cuts.push(m.index, m.index + m[0].length);
  cuts.push(text.length);
  const head = text.slice(0, largestCut(cuts, (c) => count(text.slice(0, c)) <= headN));
  const tailStart = smallestCut(cuts, (c) => count(text.slice(c)) <= tailN);
  return joinParts(head.trimEnd(), text.slice(tailStart).trimStart(), sep);
}

function joinParts(head: string, tail: string, sep: string): string {
  if (!head) return tail;
  if (!tail) return head;
  return head + sep + tail;
}

/** Largest cut c (from sorted `cuts`) with ok(c) true; ok monotone decreasing in c; cuts[0] assumed ok. */
function largestCut(cuts: number[], ok: (c: number) => boolean): number {
  let lo = 0;
  let hi = cuts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ok(cuts[mid])) lo = mid;
    else hi = mid - 1;
  }
  return cuts[lo];
}

/** Smallest cut c with ok(c) true; ok monotone increasing in c; the last cut assumed ok. */
function smallestCut(cuts: number[], ok: (c: number) => boolean): number {
  let lo = 0;
  let hi = cuts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ok(cuts[mid])) hi = mid;
    else lo = mid + 1;
  }
  return cuts[lo];
}

/**
 * Fits a whole prompt into `budget` tokens by middle-truncating only the document, so the
 * instructions, question and format line stay intact. Returns the item with its document
 * replaced (or the same item when it already fits) and whether it was truncated. Throws
 * RecipeConfigError when even an empty document does not fit.
 */
export function truncateItemToBudget<T extends PromptInput>(
  item: T,
  budget: number,
  count: TokenCounter = countWordTokens,
): { item: T; truncated: boolean; promptTokens: number } {
  const full = count(buildPrompt(item));
  if (full <= budget) return { item, truncated: false, promptTokens: full };
  const overhead = count(buildPrompt({ ...item, document: '' }));
  if (overhead > budget) {
    throw new RecipeConfigError('truncate.budget', `budget ${budget} is below the prompt's fixed part (${overhead} tokens without the document); raise the budget`);
  }
  // Counters need not be additive: shrink the document budget until the prompt fits.
  for (let docBudget = budget - overhead; docBudget >= 0; docBudget--) {
    const document = middleTruncate(item.document, docBudget, { count });
    const next = { ...item, document };
    const n = count(buildPrompt(next));
    if (n <= budget) return { item: next, truncated: true, promptTokens: n };
  }
  const next = { ...item, document: '' };
  return { item: next, truncated: true, promptTokens: overhead };
}
