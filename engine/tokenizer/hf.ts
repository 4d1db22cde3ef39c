/**
 * Hugging Face `tokenizer.json` files of real models (Qwen's byte-level BPE, ...), loaded
 * through the maintained `@huggingface/tokenizers` package (tokenizers.js), for token
 * counting and for running real checkpoints.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { TokenizerFormatError, checkTokenIds } from './errors';
import { SPECIAL_TOKENS, TextTokenizer, WordLevelTokenizer } from './word-level';

/** A tokenizer.json of any model type supported by tokenizers.js. */
export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly stopIds: readonly number[];

  constructor(private readonly tok: Tokenizer, readonly file: string) {
    const vocab = tok.get_vocab(true);
    let max = -1;
    for (const id of vocab.values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    const eot = tok.token_to_id(SPECIAL_TOKENS.endOfText);
    this.padId = eot ?? 0;
    this.stopIds = [SPECIAL_TOKENS.imEnd, SPECIAL_TOKENS.endOfText].map((t) => tok.token_to_id(t)).filter((x): x is number => x !== undefined);
  }

  /**
   * Build from parsed `tokenizer.json` and (optional) `tokenizer_config.json` objects.
   * `file` names the source in errors.
   */
  static fromJson(tokenizerJson: unknown, tokenizerConfig: unknown = {}, file = '<tokenizer.json>'): HfTokenizer {
    if (!tokenizerJson || typeof tokenizerJson !== 'object') throw new TokenizerFormatError(file, '(root)', 'not a JSON object');
    let cfg = (tokenizerConfig ?? {}) as Record<string, unknown>;
    const model = (tokenizerJson as { model?: { type?: string; unk_token?: string } }).model;
    // tokenizers.js reads a WordLevel model's unk token from tokenizer_config.json.
    if (model?.type === 'WordLevel' && cfg.unk_token === undefined && model.unk_token) cfg = { ...cfg, unk_token: model.unk_token };
    try {
      return new HfTokenizer(new Tokenizer(tokenizerJson, cfg), file);
    } catch (err) {
      throw new TokenizerFormatError(file, 'model', `tokenizers.js cannot load it: ${(err as Error).message}`);
    }
  }

  /** Load `tokenizer.json` (and `tokenizer_config.json` beside it, if present) from a folder or file path. */
  static async load(fileOrDir: string): Promise<HfTokenizer> {
    const file = fileOrDir.endsWith('.json') ? fileOrDir : path.join(fileOrDir, 'tokenizer.json');
    const json = await readJson(file);
    const cfgFile = path.join(path.dirname(file), 'tokenizer_config.json');
    const cfg = await readJson(cfgFile).catch(() => ({}));
    return HfTokenizer.fromJson(json, cfg, file);
  }

  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  countTokens(text: string): number {
    return this.encode(text).length;
  }

  decode(ids: ArrayLike<number>, opts: { skipSpecial?: boolean } = {}): string {
    checkTokenIds('ids', ids, this.vocabSize);
    return this.tok.decode(Array.from(ids), { skip_special_tokens: opts.skipSpecial ?? false });
  }

  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw new TokenizerFormatError(file, '(file)', `cannot read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TokenizerFormatError(file, '(root)', `invalid JSON: ${(err as Error).message}`);
  }
}

/**
 * Load the tokenizer of a folder or `tokenizer.json`: longrl's own word-level tokenizer
 * when the model type is WordLevel (exact shared convention), any other type through
 * tokenizers.js.
 */
export async function loadTokenizer(fileOrDir: string): Promise<TextTokenizer> {
  const file = fileOrDir.endsWith('.json') ? fileOrDir : path.join(fileOrDir, 'tokenizer.json');
  const json = await readJson(file) as { model?: { type?: string } };
  if (json?.model?.type === 'WordLevel') return WordLevelTokenizer.fromJson(json, file);
  return HfTokenizer.load(file);
}
