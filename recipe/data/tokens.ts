/**
 * Token counting for lengths (phases, truncation, generator targets).
 *
 * The shared convention (common.md): the default from-scratch tokenizer is word-level with
 * the pre-tokenizer regex `/\w+|[^\w\s]+/gu` (Hugging Face's `Whitespace` pre-tokenizer),
 * case preserved; a length in tokens is the number of its matches. Every length function of
 * the recipe takes a `TokenCounter`, so a real tokenizer (e.g. @huggingface/tokenizers'
 * `encode(text).ids.length`) can be plugged in instead.
 */

/** Counts the tokens of a text. Must be deterministic; need not be additive. */
export type TokenCounter = (text: string) => number;

/** The word-level pre-tokenizer pattern (global, unicode). Create a fresh RegExp per use. */
export const WORD_TOKEN_PATTERN = '\\w+|[^\\w\\s]+';

function wordRegex(): RegExp {
  return new RegExp(WORD_TOKEN_PATTERN, 'gu');
}

/** The word-level tokens of `text`, in order. */
export function wordTokens(text: string): string[] {
  return text.match(wordRegex()) ?? [];
}

/** Number of word-level tokens of `text` (the default `TokenCounter`). */
export function countWordTokens(text: string): number {
  let n = 0;
  const re = wordRegex();
  while (re.exec(text) !== null) n++;
  return n;
}

/** Start and end (exclusive) character offsets of each word-level token. */
export function wordTokenSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const re = wordRegex();
  for (let m = re.exec(text); m !== null; m = re.exec(text)) spans.push([m.index, m.index + m[0].length]);
  return spans;
}
