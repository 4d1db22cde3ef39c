/**
 * Loaders of real QA data into RecipeItems:
 * - veRL's RL schema as QwenLong-L1's DocQA-RL-1.6K uses it, in JSONL or Parquet:
 *   `prompt` (chat list; the user message follows the recipe template), `data_source`,
 *   `reward_model.ground_truth`, `extra_info`;
 * - plain JSONL `{document, question, answer}` (optional `id`, `data_source`, `aliases`, `options`).
 *
 * Every problem names file, line (or Parquet row) and field. Malformed lines, missing
 * fields, empty answers and gold answers the routed verifier cannot use (a non-numeric
 * docmath answer, a choice answer that is no letter) either raise DataFormatError or are
 * skipped, counted by reason and reported, as configured. Unknown data_source names go to
 * the default verifier, counted and reported once per name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { DataFormatError, GoldAnswerError } from '../errors';
import { VerifierRouter, type VerifierName } from '../rewards/routing';
import { bareGold, parseChoiceGold, parseNumericGold } from '../rewards/verifiers';
import { OPTION_LETTERS, parsePrompt } from './prompt';
import type { RecipeItem } from './types';

/** Why a line was skipped. */
export type SkipReason = 'malformed' | 'missing_field' | 'bad_prompt' | 'empty_answer' | 'non_numeric_docmath' | 'bad_choice_answer';

/** What to do with a bad line: raise DataFormatError, or skip it (counted). */
export type BadLinePolicy = 'error' | 'skip';

/** Loader options. */
export interface LoadOptions {
  /** Malformed JSON, missing or mistyped fields, prompts off the template; default 'error'. */
  onBadLine?: BadLinePolicy;
  /** Empty gold answers; default: onBadLine. */
  onEmptyAnswer?: BadLinePolicy;
  /** Gold answers the routed verifier cannot parse (non-numeric docmath, non-letter choice); default: onBadLine. */
  onBadGold?: BadLinePolicy;
  /** Routes data_source names; default a VerifierRouter with `defaultVerifier`/`onUnknownSource`. */
  router?: VerifierRouter;
  /** Verifier for unknown data_source names (when no router is given); default 'docqa'. */
  defaultVerifier?: VerifierName;
  /** Warned once per unknown data_source name (when no router is given). */
  onUnknownSource?: (dataSource: string, routedTo: VerifierName) => void;
  /** data_source of plain items that carry none; default 'docqa'. */
  plainDataSource?: string;
}

/** One skipped line. */
export interface SkippedLine {
  file: string;
  line: number;
  field: string;
  reason: SkipReason;
  message: string;
}

/** Items loaded from one file, with what was skipped and which data_source names were unknown. */
export interface LoadResult {
  file: string;
  items: RecipeItem[];
  skipped: SkippedLine[];
  skippedByReason: Partial<Record<SkipReason, number>>;
  /** Unknown data_source name -> number of items routed to the default verifier. */
  unknownSources: Record<string, number>;
}

class LineProblem extends Error {
  constructor(readonly field: string, readonly reason: SkipReason, readonly problem: string) {
    super(problem);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function requireString(obj: Record<string, unknown>, field: string, label = field): string {
  const v = obj[field];
  if (v === undefined || v === null) throw new LineProblem(label, 'missing_field', 'is missing');
  if (typeof v !== 'string') throw new LineProblem(label, 'malformed', `must be a string, got ${typeof v}`);
  return v;
}

function answerForms(v: unknown, field: string): string[] {
  if (v === undefined || v === null) throw new LineProblem(field, 'missing_field', 'is missing');
  const list = Array.isArray(v) ? v : [v];
  const out: string[] = [];
  for (const x of list) {
    if (typeof x === 'string') out.push(x);
    else if (typeof x === 'number' && Number.isFinite(x)) out.push(String(x));
    else throw new LineProblem(field, 'malformed', `must be a string, a number or a list of them, got ${JSON.stringify(x)}`);
  }
  if (out.length === 0 || out.every((s) => s.trim() === '')) throw new LineProblem(field, 'empty_answer', 'is empty');
  return out;
}

/** Parses the options lines "(A) text" at the end of a question; returns the stem and options. */
function splitOptions(question: string): { stem: string; options?: string[] } {
  const lines = question.split(/\r?\n/);
  const first = lines.findIndex((l) => /^\s*\(A\)\s*/.test(l));
  if (first < 0) return { stem: question };
  const options: string[] = [];
  for (let i = first; i < lines.length; i++) {
    const m = /^\s*\(([A-J])\)\s*(.*)$/.exec(lines[i]);
    if (!m || m[1] !== OPTION_LETTERS[options.length]) return { stem: question };
    options.push(m[2].trim());
  }
  return { stem: lines.slice(0, first).join('\n').trim(), options };
}

function fromVerl(raw: Record<string, unknown>, fallbackId: string): RecipeItem {
  const dataSource = requireString(raw, 'data_source');
  let prompt = raw.prompt;
  if (typeof prompt === 'string' && prompt.trimStart().startsWith('[')) {
    try {
      prompt = JSON.parse(prompt);
    } catch {
      throw new LineProblem('prompt', 'malformed', 'is a string that is not a JSON chat list');
    }
  }
  let content: string;
  if (typeof prompt === 'string') content = prompt;
  else if (Array.isArray(prompt)) {
    const users = prompt.map((m, i) => ({ m, i })).filter(({ m }) => isObject(m) && m.role === 'user');
    if (users.length === 0) throw new LineProblem('prompt', 'missing_field', 'has no message with role "user"');
    const { m, i } = users[users.length - 1];
    content = requireString(m as Record<string, unknown>, 'content', `prompt[${i}].content`);
  } else throw new LineProblem('prompt', prompt === undefined ? 'missing_field' : 'malformed', prompt === undefined ? 'is missing' : 'must be a chat list [{role, content}]');
  const parsed = parsePrompt(content);
  if (!parsed) {
    throw new LineProblem('prompt', 'bad_prompt', 'the user message does not follow the recipe template (<text> ... </text>, question, "Format your response as follows:")');
  }
  const rm = raw.reward_model;
  if (!isObject(rm)) throw new LineProblem('reward_model', rm === undefined ? 'missing_field' : 'malformed', rm === undefined ? 'is missing' : 'must be an object with ground_truth');
  const golds = answerForms(rm.ground_truth, 'reward_model.ground_truth');
  const { stem, options } = parsed.choice ? splitOptions(parsed.question) : { stem: parsed.question, options: undefined };
  const extra = isObject(raw.extra_info) ? raw.extra_info : undefined;
  const item: RecipeItem = {
    id: typeof raw.id === 'string' ? raw.id : fallbackId,
    data_source: dataSource,
    document: parsed.document,
    question: options ? stem : parsed.question,
    answer: golds[0],
    meta: { format: 'verl', ...(extra ? { extra_info: extra } : {}) },
  };
  if (options) item.options = options;
  if (parsed.choice && !options) item.answer_format = 'choice';
  if (golds.length > 1) item.aliases = golds.slice(1);
  return item;
}

function fromPlain(raw: Record<string, unknown>, fallbackId: string, plainSource: string): RecipeItem {
  const document = requireString(raw, 'document');
  const question = requireString(raw, 'question');
  const golds = answerForms(raw.answer, 'answer');
  const item: RecipeItem = {
    id: typeof raw.id === 'string' || typeof raw.id === 'number' ? String(raw.id) : fallbackId,
    data_source: raw.data_source === undefined ? plainSource : requireString(raw, 'data_source'),
    document,
    question,
    answer: golds[0],
    meta: { format: 'plain' },
  };
  const aliases = raw.aliases === undefined ? [] : answerForms(raw.aliases, 'aliases');
  if (golds.length > 1 || aliases.length > 0) item.aliases = [...golds.slice(1), ...aliases];
  if (raw.options !== undefined) {
    if (!Array.isArray(raw.options) || !raw.options.every((o) => typeof o === 'string') || raw.options.length > OPTION_LETTERS.length) {
      throw new LineProblem('options', 'malformed', `must be a list of at most ${OPTION_LETTERS.length} strings`);
    }
    item.options = raw.options as string[];
  }
  return item;
}

/** Checks the gold answer against the verifier it routes to; normalises "... the answer is X" golds to X. */
function checkGold(item: RecipeItem, verifier: VerifierName, field: string): void {
  try {
    if (verifier === 'docmath') {
      parseNumericGold(item.answer);
      item.answer = bareGold(item.answer);
    }
    else if (verifier === 'choice') item.answer = parseChoiceGold(item.answer);
    else {
      item.answer = bareGold(item.answer);
      if (!item.answer) throw new LineProblem(field, 'empty_answer', 'is empty once "the answer is" is removed');
    }
  } catch (e) {
    if (e instanceof GoldAnswerError) throw new LineProblem(field, verifier === 'docmath' ? 'non_numeric_docmath' : 'bad_choice_answer', e.message);
    throw e;
  }
}

/** Converts BigInt (Parquet INT64) to Number, recursively. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Date) return v.toISOString();
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Accumulates items and skips of one file. */
class Collector {
  readonly result: LoadResult;
  private readonly router: VerifierRouter;
  private readonly base: string;

  constructor(private readonly file: string, private readonly opts: LoadOptions, private readonly unit: 'line' | 'row') {
    this.result = { file, items: [], skipped: [], skippedByReason: {}, unknownSources: {} };
    this.router = opts.router ?? new VerifierRouter({ defaultVerifier: opts.defaultVerifier, onUnknown: opts.onUnknownSource });
    this.base = path.basename(file);
  }

  add(line: number, raw: unknown): void {
    try {
      if (!isObject(raw)) throw new LineProblem('(record)', 'malformed', 'must be a JSON object');
      const fallbackId = `${this.base}#${line}`;
      const isVerl = 'prompt' in raw || 'reward_model' in raw;
      const item = isVerl ? fromVerl(raw, fallbackId) : fromPlain(raw, fallbackId, this.opts.plainDataSource ?? 'docqa');
      const known = this.router.route(item.data_source);
      if (!known.known) this.result.unknownSources[item.data_source] = (this.result.unknownSources[item.data_source] ?? 0) + 1;
      checkGold(item, known.verifier, isVerl ? 'reward_model.ground_truth' : 'answer');
      this.result.items.push(item);
    } catch (e) {
      if (!(e instanceof LineProblem)) throw e;
      this.problem(line, e);
    }
  }

  problem(line: number, p: LineProblem): void {
    const policy =
      p.reason === 'empty_answer' ? this.opts.onEmptyAnswer ?? this.opts.onBadLine
      : p.reason === 'non_numeric_docmath' || p.reason === 'bad_choice_answer' ? this.opts.onBadGold ?? this.opts.onBadLine
      : this.opts.onBadLine;
    if ((policy ?? 'error') === 'error') throw new DataFormatError(this.file, line, p.field, p.problem, { unit: this.unit });
    this.result.skipped.push({ file: this.file, line, field: p.field, reason: p.reason, message: p.problem });
    this.result.skippedByReason[p.reason] = (this.result.skippedByReason[p.reason] ?? 0) + 1;
  }
}

/** Loads a JSONL file (veRL schema or plain), line by line (streaming). Blank lines are ignored. */
export async function loadJsonl(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const col = new Collector(file, opts, 'line');
  let stream: fs.ReadStream;
  try {
    await fs.promises.access(file, fs.constants.R_OK);
    stream = fs.createReadStream(file, { encoding: 'utf8' });
  } catch (e) {
    throw new DataFormatError(file, 0, '(file)', `cannot be read: ${(e as Error).message}`, { cause: e });
  }
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    const t = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
    if (!t) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(t);
    } catch (e) {
      col.problem(line, new LineProblem('(json)', 'malformed', `is not valid JSON: ${(e as Error).message}`));
      continue;
    }
    col.add(line, raw);
  }
  return col.result;
}

/** Loads a Parquet file in veRL's schema (or with plain columns); rows are numbered from 1. */
export async function loadParquet(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const col = new Collector(file, opts, 'row');
  let rows: unknown[];
  try {
    const buf = await fs.promises.readFile(file);
    const { parquetReadObjects } = await import('hyparquet');
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
    rows = await parquetReadObjects({ file: ab });
  } catch (e) {
    throw new DataFormatError(file, 0, '(file)', `is not a readable Parquet file: ${(e as Error).message}`, { cause: e, unit: 'row' });
  }
  rows.forEach((r, i) => col.add(i + 1, plain(r)));
  return col.result;
}

/** Loads `.jsonl`/`.json` (JSON lines) or `.parquet` by extension. */
export function loadDataset(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.parquet') return loadParquet(file, opts);
  if (ext === '.jsonl' || ext === '.json' || ext === '.ndjson') return loadJsonl(file, opts);
  return Promise.reject(new DataFormatError(file, 0, '(file)', `unknown extension ${JSON.stringify(ext)}; use .jsonl or .parquet`));
}

/** One line per skip reason and unknown source, for logs ("skipped 3 lines: 2 malformed, 1 empty_answer"). */
export function describeLoad(res: LoadResult): string {
  const parts = [`${res.file}: ${res.items.length} items`];
  const skips = Object.entries(res.skippedByReason);
  if (skips.length) parts.push(`skipped ${res.skipped.length} (${skips.map(([r, n]) => `${n} ${r}`).join(', ')})`);
  const unknown = Object.entries(res.unknownSources);
  if (unknown.length) parts.push(`unknown data_source routed to the default verifier: ${unknown.map(([s, n]) => `${s} x${n}`).join(', ')}`);
  return parts.join('; ');
}
