/**
 * Answer normalisation and extraction (recipe.md section 3; QwenLong-L1's reward code).
 */

/** Python's `string.punctuation`, as SQuAD's normaliser removes it. */
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
/** Articles as whole words (unicode-aware boundaries). */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/**
 * SQuAD-style normalisation (Rajpurkar et al. 2016's evaluation script), extended to
 * unicode: NFKC, lower-case, drop ASCII punctuation and every unicode punctuation mark
 * (dashes, curly quotes, ...), drop the articles a/an/the, collapse white space.
 */
export function normalizeAnswer(s: string): string {
  const lowered = s.normalize('NFKC').toLowerCase();
  const noPunct = lowered.replace(/\p{P}/gu, '').replace(ASCII_PUNCTUATION, '');
  return noPunct.replace(ARTICLES, ' ').split(/\s+/u).filter(Boolean).join(' ');
}

/** Special tokens stripped from extracted answers (DeepSeek-R1, Qwen, Llama, generic). */
export const DEFAULT_SPECIAL_TOKENS = [
  '<｜Assistant｜>',
  '<｜end▁of▁sentence｜>',
  '<|im_end|>',
  '<|im_start|>',
  '<|endoftext|>',
  '<|eot_id|>',
  '</s>',
  '<eos>',
  '<pad>',
] as const;

/** Removes special tokens: the listed ones and any `<|...|>` or `<｜...｜>` marker. */
export function stripSpecialTokens(s: string, extra: readonly string[] = []): string {
  let out = s;
  for (const t of [...DEFAULT_SPECIAL_TOKENS, ...extra]) out = out.split(t).join('');
  return out.replace(/<\|[^|<>\s]{1,40}\|>/g, '').replace(/<｜[^｜<>]{1,40}｜>/g, '');
}

/** Trims white space, then trailing periods and white space, repeatedly. */
export function stripTrailingPeriods(s: string): string {
  return s.replace(/[\s.]+$/u, '').trim();
}

/**
 * The part of a response that holds the answer: the text after the last `</think>` when
 * `requireThinkClose` is on (null when there is none: QwenLong-L1 scores that 0), else the
 * whole response.
 */
export function extractFinalSegment(response: string, requireThinkClose: boolean): string | null {
  if (!requireThinkClose) return response;
  const i = response.lastIndexOf('</think>');
  return i < 0 ? null : response.slice(i + '</think>'.length).trim();
}

/** Text after the last "the answer is" (case-insensitive), or null when the phrase is absent. */
export function afterAnswerPhrase(text: string): string | null {
  const re = /the answer is/giu;
  let last = -1;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) last = m.index + m[0].length;
  return last < 0 ? null : text.slice(last);
}
