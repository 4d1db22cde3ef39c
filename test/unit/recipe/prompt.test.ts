import { strict as assert } from 'node:assert';
import {
  buildChatMessages,
  buildPrompt,
  countWordTokens,
  middleTruncate,
  parsePrompt,
  RecipeConfigError,
  truncateItemToBudget,
  wordTokens,
} from '../../../recipe';

describe('recipe/data: prompt', () => {
  it('is exactly the text of recipe.md section 2', () => {
    assert.equal(
      buildPrompt({ document: 'The code of Mira is 417 .', question: 'What is the code of Mira ?' }),
      'Please read the following text and answer the question below.\n\n<text>\nThe code of Mira is 417 .\n</text>\n\nWhat is the code of Mira ?\n\n' +
        'Format your response as follows: "Therefore, the answer is (insert answer here)".',
    );
    assert.deepEqual(buildChatMessages({ document: 'd', question: 'q' }).map((m) => m.role), ['user']);
  });

  it('multiple choice lists options and uses the "The correct answer is" format line', () => {
    const p = buildPrompt({ document: 'D', question: 'Which ?', options: ['red', 'blue'] });
    assert.ok(p.endsWith('Which ?\n(A) red\n(B) blue\n\nFormat your response as follows: "The correct answer is (insert answer here)".'), p);
    assert.ok(buildPrompt({ document: 'D', question: 'Q\n(A) x', answer_format: 'choice' }).includes('The correct answer is'));
  });

  it('parses back into document and question; null off the template', () => {
    const p = buildPrompt({ document: 'line one\nline two', question: 'Who ?', options: ['x', 'y'] });
    assert.deepEqual(parsePrompt(p), { document: 'line one\nline two', question: 'Who ?\n(A) x\n(B) y', choice: true });
    assert.equal(parsePrompt('just a question'), null);
  });
});

describe('recipe/data: middle truncation', () => {
  const text = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ') + ' .';
  it('keeps the first floor(B/2) and last ceil(B/2) word tokens', () => {
    const out = middleTruncate(text, 5);
    assert.deepEqual(wordTokens(out), ['w0', 'w1', 'w18', 'w19', '.']);
    assert.equal(middleTruncate(text, 21), text);
    assert.equal(middleTruncate(text, 0), '');
    assert.equal(middleTruncate('a, b, c, d', 4), 'a, , d');
  });

  it('with a custom counter never exceeds the budget', () => {
    const chars = (t: string): number => t.replace(/\s/g, '').length;
    const long = 'alpha beta gamma delta epsilon zeta eta theta iota kappa';
    for (const budget of [0, 5, 12, 20, 33]) {
      const out = middleTruncate(long, budget, { count: chars });
      assert.ok(chars(out) <= budget, `${budget}: ${out}`);
    }
    const out = middleTruncate(long, 20, { count: chars });
    assert.ok(out.startsWith('alpha') && out.endsWith('kappa'), out);
  });

  it('fits a whole prompt by truncating only the document', () => {
    const item = { document: text, question: 'Q ?' };
    const full = countWordTokens(buildPrompt(item));
    const { item: cut, truncated, promptTokens } = truncateItemToBudget(item, full - 10);
    assert.equal(truncated, true);
    assert.equal(promptTokens, full - 10);
    assert.equal(countWordTokens(buildPrompt(cut)), full - 10);
    assert.ok(cut.document.startsWith('w0') && cut.document.endsWith('.'));
    assert.equal(truncateItemToBudget(item, full).truncated, false);
    assert.throws(() => truncateItemToBudget(item, 5), RecipeConfigError);
    assert.throws(() => middleTruncate(text, -1), RecipeConfigError);
  });
});
