/**
 * Word-level tokenizer for from-scratch policies, saved and loaded as a Hugging Face
 * `tokenizer.json` (model `WordLevel`, pre-tokenizer `Whitespace`).
 *
 * Pre-tokenization follows the project convention (common.md): the regex
 * `/\w+|[^\w\s]+/gu`, case preserved, identical to Hugging Face's `Whitespace`
 * pre-tokenizer on ASCII text (JavaScript's `\w` is ASCII-only, Oniguruma's is Unicode,
 * so non-ASCII letters may split differently from the Rust crate). Special tokens (the
 * chat-template markers, `<|endoftext|>`, `<unk>`, `<think>`/`</think>`) are matched
 * literally before the regex, as Hugging Face's added tokens are.
 *
 * Decoding joins tokens with one space (Hugging Face's behaviour without a decoder).
 */
import * as fsp from 'node:fs/promises';
import { TokenizerFormatError, checkTokenIds } from './errors';

/** The shared pre-tokenizer regex of common.md (global, unicode). */
export const PRE_TOKENIZER_REGEX = /\w+|[^\w\s]+/gu;

/** Split text into pre-tokens (words and punctuation runs) with the shared regex. */
export function preTokenize(text: string): string[] {
  return text.match(new RegExp(PRE_TOKENIZER_REGEX.source, 'gu')) ?? [];
}

/** Special (added) tokens of longrl's from-scratch tokenizers, in id order (ids 0..). */
export const SPECIAL_TOKENS = {
  endOfText: '<|endoftext|>',
  imStart: '<|im_start|>',
  imEnd: '<|im_end|>',
  unk: '<unk>',
  thinkOpen: '<think>',
  thinkClose: '</think>',
} as const;

/** Role words of the chat template, always given ids right after the special tokens. */
export const CHAT_ROLES = ['system', 'user', 'assistant'] as const;

/** Tokens that are `special: true` in tokenizer.json (skipped by decode with skipSpecial). */
const SPECIAL_FLAGS: Record<string, boolean> = {
  '<|endoftext|>': true, '<|im_start|>': true, '<|im_end|>': true, '<unk>': true, '<think>': false, '</think>': false,
};

/** What every tokenizer longrl uses offers (word-level here, Hugging Face files in hf.ts). */
export interface TextTokenizer {
  /** Number of ids (embedding rows needed): max id + 1. */
  readonly vocabSize: number;
  /** `<|endoftext|>` id: padding and end of document. */
  readonly padId: number;
  /** Ids that end a generated response (`<|im_end|>`, `<|endoftext|>` when present). */
  readonly stopIds: readonly number[];
  encode(text: string): number[];
  decode(ids: ArrayLike<number>, opts?: { skipSpecial?: boolean }): string;
  tokenToId(token: string): number | undefined;
  /** Number of tokens of `text` (== encode(text).length). */
  countTokens(text: string): number;
}

export interface WordLevelTrainOptions {
  /** Upper bound on the vocabulary size, special tokens included (default 8192). */
  maxVocab?: number;
  /** Words seen fewer times are mapped to `<unk>` (default 1). */
  minFrequency?: number;
}

/** Hugging Face `tokenizer.json` structure (the parts longrl reads and writes). */
export interface HfTokenizerJson {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: Array<{ id: number; content: string; single_word: boolean; lstrip: boolean; rstrip: boolean; normalized: boolean; special: boolean }>;
  normalizer: null;
  pre_tokenizer: { type: string };
  post_processor: null;
  decoder: null;
  model: { type: string; vocab: Record<string, number>; unk_token: string };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Word-level tokenizer (see file comment). Construct with `train` or `fromJson`/`load`. */
export class WordLevelTokenizer implements TextTokenizer {
  private readonly idOf: Map<string, number>;
  private readonly tokenOf: string[];
  private readonly specials: Map<string, { id: number; special: boolean }>;
  private readonly specialSplit: RegExp | null;
  readonly unkId: number;
  readonly padId: number;
  readonly stopIds: readonly number[];

  private constructor(vocab: Record<string, number>, added: HfTokenizerJson['added_tokens'], unkToken: string, file: string) {
    this.idOf = new Map();
    this.tokenOf = [];
    for (const [tok, id] of Object.entries(vocab)) {
      if (!Number.isInteger(id) || id < 0) throw new TokenizerFormatError(file, `model.vocab["${tok}"]`, `id ${id} is not a non-negative integer`);
      if (this.tokenOf[id] !== undefined) throw new TokenizerFormatError(file, `model.vocab["${tok}"]`, `id ${id} is also used by "${this.tokenOf[id]}"`);
      this.idOf.set(tok, id);
      this.tokenOf[id] = tok;
    }
    this.specials = new Map();
    for (const a of added) {
      if (this.idOf.get(a.content) === undefined) {
        this.idOf.set(a.content, a.id);
        this.tokenOf[a.id] = a.content;
      }
      this.specials.set(a.content, { id: a.id, special: a.special });
    }
    const unk = this.idOf.get(unkToken);
    if (unk === undefined) throw new TokenizerFormatError(file, 'model.unk_token', `"${unkToken}" is not in the vocabulary`);
    this.unkId = unk;
    const eot = this.idOf.get(SPECIAL_TOKENS.endOfText);
    this.padId = eot ?? unk;
    this.stopIds = [SPECIAL_TOKENS.imEnd, SPECIAL_TOKENS.endOfText].map((t) => this.idOf.get(t)).filter((x): x is number => x !== undefined);
    const keys = [...this.specials.keys()].sort((a, b) => b.length - a.length);
    this.specialSplit = keys.length ? new RegExp(`(${keys.map(escapeRegex).join('|')})`, 'u') : null;
  }

  /**
   * Build a vocabulary from a corpus: special tokens first (ids 0..5), the chat roles, then words by
   * descending frequency (ties: code-unit order, so training is deterministic).
   */
  static train(corpus: Iterable<string>, opts: WordLevelTrainOptions = {}): WordLevelTokenizer {
    const maxVocab = opts.maxVocab ?? 8192;
    const minFrequency = opts.minFrequency ?? 1;
    const specialList = Object.values(SPECIAL_TOKENS) as string[];
    if (maxVocab < specialList.length + CHAT_ROLES.length) throw new TokenizerFormatError('<train>', 'maxVocab', `must be >= ${specialList.length + CHAT_ROLES.length} (special tokens and chat roles)`);
    const counts = new Map<string, number>();
    const specialRe = new RegExp(`(${specialList.map(escapeRegex).join('|')})`, 'u');
    for (const doc of corpus) {
      for (const piece of doc.split(specialRe)) {
        if (specialList.includes(piece)) continue;
        for (const w of preTokenize(piece)) counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    }
    const words = [...counts.entries()].filter(([, c]) => c >= minFrequency)
      .sort((a, b) => (b[1] - a[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, maxVocab - specialList.length);
    const vocab: Record<string, number> = {};
    specialList.forEach((t, i) => { vocab[t] = i; });
    let next = specialList.length;
    // The chat roles are always in the vocabulary so that formatChat never yields <unk>.
    for (const w of [...CHAT_ROLES, ...words.map(([x]) => x)]) {
      if (next >= maxVocab) break;
      if (vocab[w] === undefined) vocab[w] = next++;
    }
    const added = specialList.map((t, i) => ({ id: i, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: SPECIAL_FLAGS[t] }));
    return new WordLevelTokenizer(vocab, added, SPECIAL_TOKENS.unk, '<train>');
  }

  /** Load from a parsed `tokenizer.json` object; `file` names it in errors. */
  static fromJson(json: unknown, file = '<tokenizer.json>'): WordLevelTokenizer {
    const j = json as Partial<HfTokenizerJson> | null;
    if (!j || typeof j !== 'object') throw new TokenizerFormatError(file, '(root)', 'not a JSON object');
    if (!j.model || j.model.type !== 'WordLevel') throw new TokenizerFormatError(file, 'model.type', `expected "WordLevel", found ${JSON.stringify(j.model?.type)}; use loadHfTokenizer for other models`);
    if (!j.pre_tokenizer || j.pre_tokenizer.type !== 'Whitespace') throw new TokenizerFormatError(file, 'pre_tokenizer.type', `expected "Whitespace", found ${JSON.stringify(j.pre_tokenizer?.type)}`);
    if (!j.model.vocab || typeof j.model.vocab !== 'object') throw new TokenizerFormatError(file, 'model.vocab', 'missing');
    return new WordLevelTokenizer(j.model.vocab, j.added_tokens ?? [], j.model.unk_token ?? SPECIAL_TOKENS.unk, file);
  }

  /** Read a `tokenizer.json` file. */
  static async load(file: string): Promise<WordLevelTokenizer> {
    let json: unknown;
    try {
      json = JSON.parse(await fsp.readFile(file, 'utf8'));
    } catch (err) {
      throw new TokenizerFormatError(file, '(root)', `cannot read JSON: ${(err as Error).message}`);
    }
    return WordLevelTokenizer.fromJson(json, file);
  }

  get vocabSize(): number {
    return this.tokenOf.length;
  }

  tokenToId(token: string): number | undefined {
    return this.idOf.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokenOf[id];
  }

  /** Text -> ids; unknown words map to `<unk>`. */
  encode(text: string): number[] {
    const out: number[] = [];
    const pieces = this.specialSplit ? text.split(this.specialSplit) : [text];
    for (const piece of pieces) {
      const sp = this.specials.get(piece);
      if (sp) { out.push(sp.id); continue; }
      for (const w of preTokenize(piece)) out.push(this.idOf.get(w) ?? this.unkId);
    }
    return out;
  }

  countTokens(text: string): number {
    return this.encode(text).length;
  }

  /** Ids -> text joined by single spaces; throws TokenOutOfVocabError for ids without a token. */
  decode(ids: ArrayLike<number>, opts: { skipSpecial?: boolean } = {}): string {
    checkTokenIds('ids', ids, this.vocabSize);
    const parts: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const tok = this.tokenOf[ids[i]];
      if (tok === undefined) continue;
      if (opts.skipSpecial && this.specials.get(tok)?.special) continue;
      parts.push(tok);
    }
    return parts.join(' ');
  }

  /** The Hugging Face `tokenizer.json` object (WordLevel + Whitespace). */
  toJson(): HfTokenizerJson {
    const vocab: Record<string, number> = {};
    this.tokenOf.forEach((t, i) => { vocab[t] = i; });
    const added = [...this.specials.entries()].map(([content, s]) => ({ id: s.id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: s.special }))
      .sort((a, b) => a.id - b.id);
    return {
      version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
      pre_tokenizer: { type: 'Whitespace' }, post_processor: null, decoder: null,
      model: { type: 'WordLevel', vocab, unk_token: this.tokenOf[this.unkId] },
    };
  }

  /** `tokenizer_config.json` for Hugging Face transformers (and for tokenizers.js' WordLevel fallback). */
  toConfigJson(modelMaxLength: number): Record<string, unknown> {
    return {
      tokenizer_class: 'PreTrainedTokenizerFast',
      model_max_length: modelMaxLength,
      eos_token: SPECIAL_TOKENS.imEnd,
      pad_token: SPECIAL_TOKENS.endOfText,
      unk_token: this.tokenOf[this.unkId],
      bos_token: null,
      clean_up_tokenization_spaces: false,
      chat_template: CHAT_TEMPLATE_JINJA,
    };
  }
}

/** Qwen-style ChatML template (Jinja, for Hugging Face), mirrored by `formatChat`. */
export const CHAT_TEMPLATE_JINJA =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * ChatML text for `messages` (Qwen's format): `<|im_start|>ROLE\nCONTENT<|im_end|>\n` per
 * message, then `<|im_start|>assistant\n` when `addGenerationPrompt` (default true).
 * Word-level tokens of the result: per message 3 specials/role + content words.
 */
export function formatChat(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
  let s = '';
  for (const m of messages) s += `${SPECIAL_TOKENS.imStart}${m.role}\n${m.content}${SPECIAL_TOKENS.imEnd}\n`;
  if (addGenerationPrompt) s += `${SPECIAL_TOKENS.imStart}assistant\n`;
  return s;
}
