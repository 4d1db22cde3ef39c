/**
 * Rule verifiers of QwenLong-L1 (recipe.md section 3): docqa sub-EM (or strict EM) with
 * SQuAD normalisation, docmath numeric with 0.15% tolerance and scale slips, and
 * multiple-choice letters. Each returns 1 or 0 and the extracted answer.
 */
import { GoldAnswerError } from '../errors';
import { afterAnswerPhrase, normalizeAnswer, stripSpecialTokens, stripTrailingPeriods } from './normalize';

/** Shared extraction options. */
export interface ExtractOptions {
  /** 'required' (QwenLong-L1): no "the answer is" -> nothing extracted, score 0. 'optional': fall back to the whole text. */
  answerPhrase?: 'required' | 'optional';
  /** Extra special tokens to strip. */
  specialTokens?: readonly string[];
}

/** Result of one verifier call. */
export interface VerifyResult {
  score: 0 | 1;
  /** The answer extracted from the prediction, or null when none could be. */
  extracted: string | null;
}

/**
 * The docqa answer of a text: after the last "the answer is", `*` and special tokens
 * removed, trailing period stripped. Null when the phrase is required and absent, or empty.
 */
export function extractDocqaAnswer(text: string, opts: ExtractOptions = {}): string | null {
  const clean = stripSpecialTokens(text.replace(/\*/g, ''), opts.specialTokens);
  const after = afterAnswerPhrase(clean);
  const raw = after ?? ((opts.answerPhrase ?? 'required') === 'optional' ? clean : null);
  if (raw === null) return null;
  const ans = stripTrailingPeriods(raw.trim());
  return ans.length > 0 ? ans : null;
}

/** A gold answer in bare form: QwenLong-L1's gold strings may themselves say "... the answer is X". */
export function bareGold(gold: string): string {
  const after = afterAnswerPhrase(gold.replace(/\*/g, ''));
  return stripTrailingPeriods((after ?? gold).trim());
}

/**
 * docqa verifier. Sub-EM (default): 1 when either normalised string contains the other;
 * strict EM: 1 when they are equal. Scored against each gold form, max taken. A string
 * that normalises to empty (e.g. only "the") never matches (QwenLong-L1 would count "" as
 * contained in any gold).
 */
export function verifyDocqa(
  prediction: string,
  golds: readonly string[],
  opts: ExtractOptions & { match?: 'sub_em' | 'em' } = {},
): VerifyResult {
  const normGolds = golds.map((g) => normalizeAnswer(bareGold(g))).filter((g) => g.length > 0);
  if (normGolds.length === 0) throw new GoldAnswerError('docqa', golds[0] ?? '', 'is empty after normalisation; fix or drop this item');
  const extracted = extractDocqaAnswer(prediction, opts);
  if (extracted === null) return { score: 0, extracted };
  const p = normalizeAnswer(extracted);
  if (!p) return { score: 0, extracted };
  const match = opts.match ?? 'sub_em';
  const hit = normGolds.some((n) => (match === 'em' ? p === n : p.includes(n) || n.includes(p)));
  return { score: hit ? 1 : 0, extracted };
}

const NUMBER_RE =
  /^(?:(?:approximately|approx\.?|about|around|roughly|nearly|equal to)\s*|[=≈~`]\s*)*([-+−–—]?)\s*(?:(?:US\$|USD|US|RMB|EUR|GBP|JPY|CNY)\s*|[$£€¥]\s*)?([-+−–—]?)\s*(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)/iu;

/**
 * The number at the start of `s` (after white space), allowing `= ≈ ~`, "approximately",
 * currency symbols and codes, a sign (ASCII, unicode minus or dash, before or after the
 * currency) and thousands commas; whatever follows (`%`, `°`, unit and scale words) is
 * dropped. Null when `s` does not start with a number.
 */
export function parseLeadingNumber(s: string): number | null {
  const m = NUMBER_RE.exec(s.normalize('NFKC').replace(/[*`]/g, '').trimStart());
  if (!m) return null;
  const sign = m[1] || m[2];
  const v = Number(m[3].replace(/,/g, ''));
  if (!Number.isFinite(v)) return null;
  return sign && sign !== '+' ? -v : v;
}

/** The docmath answer of a text: the number right after the last "the answer is". */
export function extractDocmathAnswer(text: string, opts: ExtractOptions = {}): { value: number | null; extracted: string | null } {
  const clean = stripSpecialTokens(text.replace(/\*/g, ''), opts.specialTokens);
  const after = afterAnswerPhrase(clean);
  const raw = after ?? ((opts.answerPhrase ?? 'required') === 'optional' ? clean : null);
  if (raw === null) return { value: null, extracted: null };
  const value = parseLeadingNumber(raw);
  return { value, extracted: value === null ? null : String(value) };
}

/** A numeric gold answer ("12.5%", "$1,200", "... the answer is -3"); throws GoldAnswerError when not numeric. */
export function parseNumericGold(gold: string): number {
  const after = afterAnswerPhrase(gold.replace(/\*/g, ''));
  const v = parseLeadingNumber(after ?? gold);
  if (v === null) throw new GoldAnswerError('docmath', gold, 'is not a number; fix the data, or route this data_source to the docqa verifier');
  return v;
}

/** Options of numeric comparison. */
export interface NumericOptions {
  /** Relative tolerance; default 0.0015 (0.15%). */
  tolerance?: number;
  /** Compare absolute values, as QwenLong-L1's code does; default false (the sign must match). */
  ignoreSign?: boolean;
}

function ceil3(x: number): number {
  return Math.ceil(Number((x * 1000).toPrecision(12))) / 1000;
}

/**
 * DocMath equality (QwenLong-L1's docmath verifier): equal when |p - g| <= tol * |g|; also
 * when the larger magnitude is 100, 1000 or 100000 times the smaller within the tolerance
 * (a percent or unit scale slip, either way); also when both magnitudes round up to the
 * same 3 decimals.
 */
export function numbersMatch(p: number, g: number, opts: NumericOptions = {}): boolean {
  const tol = opts.tolerance ?? 0.0015;
  const within = (x: number, ref: number): boolean => Math.abs(x - ref) <= Math.abs(ref) * tol;
  if (opts.ignoreSign) {
    p = Math.abs(p);
    g = Math.abs(g);
  } else if (p !== 0 && g !== 0 && Math.sign(p) !== Math.sign(g)) {
    return false;
  }
  if (within(p, g)) return true;
  const v1 = Math.max(Math.abs(p), Math.abs(g));
  const v2 = Math.min(Math.abs(p), Math.abs(g));
  for (const scale of [100, 1000, 100000]) {
    if (v2 <= v1 / (scale / 2) && within(v2 * scale, v1)) return true;
  }
  return ceil3(v1) === ceil3(v2);
}

/**
 * Parses every gold form that parses; aliases in another form are ignored. Throws the
 * first form's GoldAnswerError when none parses, or a GoldAnswerError when there is none.
 */
function parseAllGolds<T>(golds: readonly string[], parse: (g: string) => T): T[] {
  const out: T[] = [];
  let firstError: unknown = null;
  for (const g of golds) {
    try {
      out.push(parse(g));
    } catch (e) {
      if (!(e instanceof GoldAnswerError)) throw e;
      firstError ??= e;
    }
  }
  if (out.length === 0) throw firstError ?? new GoldAnswerError('any', '', 'no gold answer given');
  return out;
}

/** docmath verifier: 1 when the extracted number matches any gold number. */
export function verifyDocmath(prediction: string, golds: readonly string[], opts: ExtractOptions & NumericOptions = {}): VerifyResult {
  const goldValues = parseAllGolds(golds, parseNumericGold);
  const { value, extracted } = extractDocmathAnswer(prediction, opts);
  if (value === null) return { score: 0, extracted };
  return { score: goldValues.some((g) => numbersMatch(value, g, opts)) ? 1 : 0, extracted };
}

const CHOICE_RE = /the correct answer is\s*(?:\(\s*([A-J])\s*\)|([A-J])(?![\p{L}\p{N}_]))/giu;

/** The letter after the last "The correct answer is", with or without parentheses; null when absent. */
export function extractChoiceLetter(text: string, opts: ExtractOptions = {}): string | null {
  const clean = stripSpecialTokens(text.replace(/\*/g, ''), opts.specialTokens);
  let letter: string | null = null;
  CHOICE_RE.lastIndex = 0;
  for (let m = CHOICE_RE.exec(clean); m !== null; m = CHOICE_RE.exec(clean)) letter = m[1] ?? m[2];
  if (letter === null && (opts.answerPhrase ?? 'required') === 'optional') {
    const bare = /^\s*\(?\s*([A-J])\s*\)?\s*\.?\s*$/u.exec(clean);
    if (bare) letter = bare[1];
  }
  return letter;
}

/** A gold choice letter from "B", "(B)" or "The correct answer is (B)"; throws GoldAnswerError otherwise. */
export function parseChoiceGold(gold: string): string {
  const letter = extractChoiceLetter(gold, { answerPhrase: 'optional' });
  if (letter === null) throw new GoldAnswerError('choice', gold, 'is not an option letter A-J; fix the data or route it to the docqa verifier');
  return letter;
}

/** choice verifier: 1 when the extracted letter equals a gold letter exactly. */
export function verifyChoice(prediction: string, golds: readonly string[], opts: ExtractOptions = {}): VerifyResult {
  const goldLetters = parseAllGolds(golds, parseChoiceGold);
  const extracted = extractChoiceLetter(prediction, opts);
  return { score: extracted !== null && goldLetters.includes(extracted) ? 1 : 0, extracted };
}
