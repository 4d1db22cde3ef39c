/** Typed tokenizer errors (style.md habit 5): what was wrong, where, what to do. */

/** A tokenizer file or object is malformed or of a kind this loader does not handle. */
export class TokenizerFormatError extends Error {
  override readonly name = 'TokenizerFormatError';
  constructor(readonly file: string, readonly field: string, detail: string) {
    super(`${file}: ${field}: ${detail}`);
  }
}

/** A token id is outside [0, vocabSize): the model's embedding table has no row for it. */
export class TokenOutOfVocabError extends Error {
  override readonly name = 'TokenOutOfVocabError';
  constructor(readonly field: string, readonly index: number, readonly token: number, readonly vocabSize: number) {
    super(`${field}[${index}] = ${token} is outside the vocabulary [0, ${vocabSize}); tokenize with the model's own tokenizer or fix vocab_size`);
  }
}

/** Check that every id of `ids` is an integer in [0, vocabSize); throws TokenOutOfVocabError naming `field`. */
export function checkTokenIds(field: string, ids: ArrayLike<number | bigint>, vocabSize: number): void {
  for (let i = 0; i < ids.length; i++) {
    const t = Number(ids[i]);
    if (!Number.isInteger(t) || t < 0 || t >= vocabSize) throw new TokenOutOfVocabError(field, i, t, vocabSize);
  }
}
