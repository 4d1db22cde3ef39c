import { strict as assert } from 'node:assert';
import {
  extractChoiceLetter,
  GoldAnswerError,
  normalizeAnswer,
  numbersMatch,
  parseLeadingNumber,
  scoreRule,
  UnknownVerifierError,
  VerifierRouter,
  verifyChoice,
  verifyDocmath,
  verifyDocqa,
} from '../../../recipe';

const qa = (pred: string, gold: string, opts = {}): number => verifyDocqa(pred, [gold], opts).score;
const num = (pred: string, gold: string, opts = {}): number => verifyDocmath(pred, [gold], opts).score;

describe('recipe/rewards: normalisation', () => {
  it('lower-cases, drops punctuation (ASCII and unicode) and articles, collapses white space', () => {
    assert.equal(normalizeAnswer('  The  Eiffel   Tower! '), 'eiffel tower');
    assert.equal(normalizeAnswer('An apple, a day'), 'apple day');
    assert.equal(normalizeAnswer('U.S.A.'), 'usa');
    assert.equal(normalizeAnswer('1990–1995'), normalizeAnswer('1990-1995')); // en dash vs hyphen
    assert.equal(normalizeAnswer('“Quoted” — text'), 'quoted text');
    assert.equal(normalizeAnswer('Theatre anthem'), 'theatre anthem'); // articles only as whole words
    assert.equal(normalizeAnswer('ＡＢＣ'), 'abc'); // NFKC full-width
  });
});

describe('recipe/rewards: docqa verifier', () => {
  it('sub-EM after the last "the answer is": containment either way', () => {
    assert.equal(qa('Therefore, the answer is The Eiffel Tower.', 'Eiffel Tower'), 1);
    assert.equal(qa('Therefore, the answer is Paris, France.', 'Paris'), 1);
    assert.equal(qa('Therefore, the answer is Paris.', 'Paris, France'), 1);
    assert.equal(qa('the answer is London. Wait. Therefore, the answer is Paris.', 'London'), 0);
    assert.equal(qa('The answer is **Paris**.', 'paris'), 1); // case-insensitive phrase, bold stripped
    assert.equal(qa('Therefore , the answer is Tano .', 'Tano'), 1); // word-level decoded output
  });
  it('strict EM is an option', () => {
    assert.equal(qa('Therefore, the answer is Paris, France.', 'Paris', { match: 'em' }), 0);
    assert.equal(qa('Therefore, the answer is the Paris.', 'Paris', { match: 'em' }), 1);
  });
  it('handles thousands separators, dashes and special tokens', () => {
    assert.equal(qa('the answer is 1,000', '1000'), 1);
    assert.equal(qa('the answer is 1990–1995', '1990-1995'), 1);
    assert.equal(qa('the answer is Paris<|im_end|>', 'Paris'), 1);
    assert.equal(qa('the answer is Paris<｜end▁of▁sentence｜>', 'Paris'), 1);
  });
  it('no "the answer is": 0 and nothing extracted, unless the phrase is optional', () => {
    assert.deepEqual(verifyDocqa('Paris', ['Paris']), { score: 0, extracted: null });
    assert.deepEqual(verifyDocqa('Paris.', ['Paris'], { answerPhrase: 'optional' }), { score: 1, extracted: 'Paris' });
  });
  it('an answer that normalises to nothing never matches; an empty gold is a typed error', () => {
    assert.equal(qa('Therefore, the answer is the.', 'Paris'), 0);
    assert.equal(qa('Therefore, the answer is .', 'Paris'), 0);
    assert.throws(() => qa('the answer is x', '  '), GoldAnswerError);
    assert.equal(verifyDocqa('the answer is Lyon', ['Paris', 'Lyon']).score, 1); // aliases
    assert.equal(qa('the answer is Paris', 'Therefore, the answer is Paris.'), 1); // QwenLong-L1 style gold
  });
});

describe('recipe/rewards: docmath verifier', () => {
  it('parses currency, percentages, signs, thousands commas and approximations', () => {
    assert.equal(parseLeadingNumber(' $1,234.50 million'), 1234.5);
    assert.equal(parseLeadingNumber('12.5%'), 12.5);
    assert.equal(parseLeadingNumber('−5 degrees'), -5); // unicode minus
    assert.equal(parseLeadingNumber('- 5'), -5); // decoded word tokens
    assert.equal(parseLeadingNumber('-$5'), -5);
    assert.equal(parseLeadingNumber('$-5'), -5);
    assert.equal(parseLeadingNumber('≈ 3.14'), 3.14);
    assert.equal(parseLeadingNumber('approximately 7'), 7);
    assert.equal(parseLeadingNumber('USD 20'), 20);
    assert.equal(parseLeadingNumber('€20'), 20);
    assert.equal(parseLeadingNumber('.5'), 0.5);
    assert.equal(parseLeadingNumber('unknown'), null);
  });
  it('accepts 0.15% relative error and rejects more', () => {
    assert.equal(num('the answer is 100.14', '100'), 1);
    assert.equal(num('the answer is 100.2', '100'), 0);
    assert.equal(num('the answer is ≈ 3.14', '3.14159'), 1); // 0.05% off
    assert.equal(num('Therefore, the answer is $1,234.5 million.', '1234.5'), 1);
    assert.equal(num('the answer is 12.5%', '12.5'), 1);
  });
  it('accepts scale slips of x100, x1000 and x100000 either way, not x10', () => {
    assert.equal(num('the answer is 0.125', '12.5%'), 1);
    assert.equal(num('the answer is 12.5', '0.125'), 1);
    assert.equal(num('the answer is 3', '3000'), 1);
    assert.equal(num('the answer is 200000', '2'), 1);
    assert.equal(num('the answer is 30', '300'), 0);
    assert.ok(!numbersMatch(2, 20000)); // x10000 is not in the list
  });
  it('accepts equal magnitudes after rounding up to 3 decimals', () => {
    assert.equal(numbersMatch(0.0011, 0.0012), true); // both ceil to 0.002
    assert.equal(numbersMatch(0.0011, 0.0021), false);
  });
  it('negative numbers: the sign must match unless ignoreSign (QwenLong-L1 compares magnitudes)', () => {
    assert.equal(num('the answer is -5', '-5'), 1);
    assert.equal(num('the answer is −5', '-5'), 1);
    assert.equal(num('the answer is -5', '5'), 0);
    assert.equal(num('the answer is -5', '5', { ignoreSign: true }), 1);
  });
  it('no number after the phrase or no phrase scores 0; a non-numeric gold is a typed error', () => {
    assert.deepEqual(verifyDocmath('the answer is unknown', ['5']), { score: 0, extracted: null });
    assert.equal(num('5', '5'), 0);
    assert.equal(num('5', '5', { answerPhrase: 'optional' }), 1);
    assert.throws(() => num('the answer is 5', 'Paris'), GoldAnswerError);
    assert.equal(verifyDocmath('the answer is 5', ['Paris', '5']).score, 1); // a numeric alias is enough
  });
});

describe('recipe/rewards: choice verifier', () => {
  it('takes the letter after the last "The correct answer is", with or without parentheses', () => {
    assert.equal(verifyChoice('The correct answer is (B)', ['B']).score, 1);
    assert.equal(verifyChoice('The correct answer is B.', ['(B)']).score, 1);
    assert.equal(verifyChoice('The correct answer is ( C ) .', ['The correct answer is (C)']).score, 1);
    assert.equal(verifyChoice('The correct answer is (A). No: The correct answer is (D)', ['D']).score, 1);
    assert.equal(verifyChoice('The correct answer is (b)', ['B']).score, 0); // exact letter
    assert.equal(extractChoiceLetter('The correct answer is Berlin'), null); // a word, not a letter
    assert.equal(verifyChoice('B', ['B']).score, 0);
    assert.equal(verifyChoice('(B)', ['B'], { answerPhrase: 'optional' }).score, 1);
    assert.throws(() => verifyChoice('The correct answer is (B)', ['Berlin']), GoldAnswerError);
  });
});

describe('recipe/rewards: routing and rule reward', () => {
  it("routes QwenLong-L1's data_source names like its code", () => {
    const r = new VerifierRouter();
    assert.equal(r.route('docmath').verifier, 'docmath');
    assert.equal(r.route('docmath_qa').verifier, 'docmath');
    assert.equal(r.route('multihoprag').verifier, 'docqa');
    assert.equal(r.route('musique').verifier, 'docqa');
    assert.equal(r.route('long_toc_choices_0_20000').verifier, 'choice');
    assert.equal(r.unknownTotal, 0);
  });
  it('sends unknown names to the configured default, warning once per name and counting all', () => {
    const warned: string[] = [];
    const r = new VerifierRouter({ defaultVerifier: 'docmath', onUnknown: (s) => warned.push(s) });
    for (let i = 0; i < 3; i++) assert.deepEqual(r.route('hotpotqa'), { verifier: 'docmath', known: false });
    r.route('other');
    assert.deepEqual(warned, ['hotpotqa', 'other']);
    assert.equal(r.unknownCounts.get('hotpotqa'), 3);
    assert.equal(r.unknownTotal, 4);
    assert.throws(() => new VerifierRouter({ defaultVerifier: 'f1' as never }), (e: unknown) => e instanceof UnknownVerifierError && /docqa, docmath, choice/.test(e.message));
  });
  it('requireThinkClose scores only after the last </think>, 0 when it is missing', () => {
    const s = (response: string, requireThinkClose: boolean) =>
      scoreRule({ response, answer: '42', data_source: 'docmath' }, { requireThinkClose });
    assert.equal(s('<think>the answer is 41</think> Therefore, the answer is 42.', true).rule, 1);
    assert.deepEqual(s('<think> so the answer is 42', true), { verifier: 'docmath', rule: 0, extracted: null, gold: '42', knownSource: true });
    assert.equal(s('<think> so the answer is 42', false).rule, 1);
    assert.equal(s('<think>the answer is 42</think> I am not sure.', true).rule, 0);
  });
});
