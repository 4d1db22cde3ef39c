/**
 * The policy prompt of QwenLong-L1 (paper Table 1; recipe.md section 2): one user message,
 * no system prompt. Multiple-choice items use the "The correct answer is" format line
 * (LongBench v2's wording).
 */
import type { TokenCounter } from './tokens';
import { countWordTokens } from './tokens';

/** Format line of open questions. */
export const ANSWER_FORMAT_LINE = 'Format your response as follows: "Therefore, the answer is (insert answer here)".';
/** Format line of multiple-choice questions. */
export const CHOICE_FORMAT_LINE = 'Format your response as follows: "The correct answer is (insert answer here)".';

/** Letters of multiple-choice options, in order. */
export const OPTION_LETTERS = 'ABCDEFGHIJ';

/** What the prompt needs from an item. */
export interface PromptInput {
  document: string;
  question: string;
  options?: readonly string[];
  /** Forces the format line; default 'choice' when there are options. */
  answer_format?: 'answer' | 'choice';
}

/** The question followed by its options, one per line as `(A) text`, when there are options. */
export function questionWithOptions(question: string, options?: readonly string[]): string {
  if (!options || options.length === 0) return question;
  if (options.length > OPTION_LETTERS.length) throw new RangeError(`at most ${OPTION_LETTERS.length} options, got ${options.length}`);
  return [question, ...options.map((o, i) => `(${OPTION_LETTERS[i]}) ${o}`)].join('\n');
}

/** The user message content of recipe.md section 2 for `item`. */
export function buildPrompt(item: PromptInput): string {
  const isChoice = item.answer_format ? item.answer_format === 'choice' : !!item.options && item.options.length > 0;
  return (
    'Please read the following text and answer the question below.\n\n' +
    `<text>\n${item.document}\n</text>\n\n` +
    `${questionWithOptions(item.question, item.options)}\n\n` +
    (isChoice ? CHOICE_FORMAT_LINE : ANSWER_FORMAT_LINE)
  );
}

/** The chat messages of the prompt: one user message, no system prompt. */
export function buildChatMessages(item: PromptInput): Array<{ role: 'user'; content: string }> {
  return [{ role: 'user', content: buildPrompt(item) }];
}

/** Tokens of the prompt minus those of the document: the template's fixed cost for this question. */
export function promptOverheadTokens(item: PromptInput, count: TokenCounter = countWordTokens): number {
  return count(buildPrompt({ ...item, document: '' }));
}

/** Result of parsing a prompt built by `buildPrompt` (or QwenLong-L1's data) back into parts. */
export interface ParsedPrompt {
  document: string;
  /** The text between `</text>` and the format line, options included. */
  question: string;
  choice: boolean;
}

/**
 * Parses a user message that follows the recipe template back into document and question,
 * as QwenLong-L1's judge does (question = text between `</text>` and "Format your response
 * as follows:"). Returns null when the message does not follow the template.
 */
export function parsePrompt(content: string): ParsedPrompt | null {
  const open = content.indexOf('<text>');
  const close = content.lastIndexOf('</text>');
  const fmt = content.lastIndexOf('Format your response as follows:');
  if (open < 0 || close < open || fmt < close) return null;
  const document = content.slice(open + '<text>'.length, close).replace(/^\r?\n/, '').replace(/\r?\n$/, '');
  const question = content.slice(close + '</text>'.length, fmt).trim();
  const choice = /The correct answer is/.test(content.slice(fmt));
  return { document, question, choice };
}
