import { strict as assert } from 'node:assert';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  HfTokenizer, SPECIAL_TOKENS, TokenOutOfVocabError, TokenizerFormatError, WordLevelTokenizer, formatChat, loadTokenizer, preTokenize,
} from '../../../../engine/tokenizer';

const corpus = [
  'The cat sat on the mat. The dog sat too!',
  'Therefore, the answer is (Paris).',
  'cat cat dog 42 42 42',
];

describe('engine/tokenizer word-level', () => {
  it('pre-tokenizes with the shared regex (words, punctuation runs, case kept)', () => {
    assert.deepEqual(preTokenize('Hello, World!! x_1 (A)'), ['Hello', ',', 'World', '!!', 'x_1', '(', 'A', ')']);
  });

  it('trains a deterministic vocabulary: specials, roles, then by frequency', () => {
    const a = WordLevelTokenizer.train(corpus);
    const b = WordLevelTokenizer.train([...corpus]);
    assert.deepEqual(a.toJson(), b.toJson());
    assert.equal(a.tokenToId(SPECIAL_TOKENS.endOfText), 0);
    assert.equal(a.padId, 0);
    assert.ok(a.tokenToId('user')! < a.tokenToId('42')!);
    // '42' (3x) and 'cat' (3x) come before 'dog' (2x)
    assert.ok(a.tokenToId('42')! < a.tokenToId('dog')!);
    assert.ok(a.tokenToId('cat')! < a.tokenToId('dog')!);
    assert.deepEqual([...a.stopIds].sort(), [a.tokenToId('<|im_end|>')!, 0].sort());
  });

  it('encodes special tokens literally and unknown words as <unk>, decodes with spaces', () => {
    const t = WordLevelTokenizer.train(corpus);
    const text = formatChat([{ role: 'user', content: 'The cat sat on a zebra.' }]);
    const ids = t.encode(text);
    assert.equal(ids[0], t.tokenToId('<|im_start|>'));
    assert.equal(ids[1], t.tokenToId('user'));
    assert.ok(ids.includes(t.unkId));
    assert.equal(ids.at(-1), t.tokenToId('assistant'));
    assert.equal(t.decode(t.encode('The cat sat.')), 'The cat sat .');
    assert.equal(t.decode(t.encode('<think> cat </think> dog<|im_end|>'), { skipSpecial: true }), '<think> cat </think> dog');
    assert.equal(t.countTokens('The cat, the dog'), 5);
  });

  it('round-trips through tokenizer.json and agrees with tokenizers.js on the same file', async () => {
    const t = WordLevelTokenizer.train(corpus);
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'longrl-tok-'));
    try {
      await fsp.writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(t.toJson()));
      await fsp.writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify(t.toConfigJson(512)));
      const back = await loadTokenizer(dir);
      assert.ok(back instanceof WordLevelTokenizer);
      const hf = await HfTokenizer.load(dir);
      for (const s of ['The cat sat on the mat.', 'Therefore, the answer is (Paris) !!', 'zebra cat 42', '<|im_start|>user\ncat<|im_end|>']) {
        assert.deepEqual(back.encode(s), t.encode(s), s);
        assert.deepEqual(hf.encode(s), t.encode(s), `tokenizers.js: ${s}`);
      }
      assert.equal(hf.vocabSize, t.vocabSize);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects ids outside the vocabulary and malformed files with typed errors', async () => {
    const t = WordLevelTokenizer.train(corpus);
    assert.throws(() => t.decode([1, t.vocabSize]), (e: unknown) => e instanceof TokenOutOfVocabError && e.field === 'ids' && e.index === 1);
    assert.throws(() => WordLevelTokenizer.fromJson({ model: { type: 'BPE' }, pre_tokenizer: { type: 'Whitespace' } }, 'x/tokenizer.json'),
      (e: unknown) => e instanceof TokenizerFormatError && e.field === 'model.type' && e.file === 'x/tokenizer.json');
    await assert.rejects(loadTokenizer('/nonexistent-longrl/tokenizer.json'), TokenizerFormatError);
  });
});

describe('engine/tokenizer Hugging Face files via tokenizers.js', () => {
  it('loads a tiny BPE tokenizer.json and counts tokens', () => {
    const json = {
      version: '1.0', truncation: null, padding: null, normalizer: null, post_processor: null, decoder: null,
      added_tokens: [{ id: 5, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      pre_tokenizer: { type: 'Whitespace' },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false,
        vocab: { a: 0, b: 1, c: 2, ab: 3, abc: 4 }, merges: ['a b', 'ab c'] },
    };
    const tok = HfTokenizer.fromJson(json, {});
    assert.deepEqual(tok.encode('abc ab a'), [4, 3, 0]);
    assert.deepEqual(tok.encode('ca<|endoftext|>'), [2, 0, 5]);
    assert.equal(tok.countTokens('abc abc b'), 3);
    assert.equal(tok.vocabSize, 6);
    assert.equal(tok.padId, 5);
  });
});
