import { strict as assert } from 'node:assert';
import {
  buildPrompt,
  countWordTokens,
  GeneratorError,
  generateSynthetic,
  generateSyntheticSplits,
  OPTION_LETTERS,
  RecipeConfigError,
  scoreRule,
  syntheticVocabulary,
  wordTokens,
  type SyntheticItem,
} from '../../../recipe';

const FACT_RE = /The (\w+) of (\w+) is (\w+) \./g;

/** Reference solver: reads every stated fact of the document, then answers the question by its template. */
function solve(item: SyntheticItem): string {
  const facts = new Map<string, string>();
  for (const m of item.document.matchAll(FACT_RE)) {
    const key = `${m[1]}|${m[2]}`;
    assert.ok(!facts.has(key), `${item.id}: fact ${key} stated twice`);
    facts.set(key, m[3]);
  }
  const get = (attr: string, e: string): string => {
    const v = facts.get(`${attr}|${e}`);
    assert.ok(v !== undefined, `${item.id}: no fact for ${attr} of ${e}`);
    return v;
  };
  const q = item.question;
  let m: RegExpExecArray | null;
  if ((m = /^What is the sum of the (\w+) of (\w+) and the \w+ of (\w+) \?$/.exec(q))) return String(+get(m[1], m[2]) + +get(m[1], m[3]));
  if ((m = /^How much greater is the (\w+) of (\w+) than the \w+ of (\w+) \?$/.exec(q))) return String(+get(m[1], m[2]) - +get(m[1], m[3]));
  if ((m = /^How many times the (\w+) of (\w+) is the \w+ of (\w+) \?$/.exec(q))) return String(+get(m[1], m[3]) / +get(m[1], m[2]));
  m = /^What is the (\w+) of ((?:the \w+ of )*)(\w+) \?$/.exec(q);
  assert.ok(m, `${item.id}: unknown question form ${q}`);
  const rels = [...m[2].matchAll(/the (\w+) of /g)].map((x) => x[1]).reverse();
  let e = m[3];
  for (const r of rels) e = get(r, e);
  const value = get(m[1], e);
  if (item.options) return OPTION_LETTERS[item.options.indexOf(value)];
  return value;
}

describe('recipe/data: synthetic generator', function () {
  this.timeout(60000);
  const cfg = { seed: 1234, count: 120, length: { min: 100, max: 1000 } };
  const items = generateSynthetic(cfg);

  it('same seed, same data; another seed, other data', () => {
    assert.deepEqual(generateSynthetic(cfg), items);
    const other = generateSynthetic({ ...cfg, seed: 1235 });
    assert.notDeepEqual(other.map((x) => x.document), items.map((x) => x.document));
    // Item i does not depend on how many items are generated.
    assert.deepEqual(generateSynthetic({ ...cfg, count: 5 }), items.slice(0, 5));
  });

  it('prompt length is within 5% of the target, across 100..1000 tokens', () => {
    for (const it of items) {
      const n = countWordTokens(buildPrompt(it));
      assert.equal(n, it.meta.actualTokens);
      assert.ok(Math.abs(n - it.meta.targetTokens) <= 0.05 * it.meta.targetTokens, `${it.id}: ${n} vs ${it.meta.targetTokens}`);
    }
  });

  it('document-length targets and a plugged-in (non-word) token counter also land within 5%', () => {
    for (const it of generateSynthetic({ ...cfg, count: 30, lengthOf: 'document' })) {
      const n = countWordTokens(it.document);
      assert.ok(Math.abs(n - it.meta.targetTokens) <= 0.05 * it.meta.targetTokens, `${it.id}: ${n} vs ${it.meta.targetTokens}`);
    }
    const chars4 = (t: string): number => Math.ceil(t.length / 4);
    for (const it of generateSynthetic({ ...cfg, count: 30, length: { min: 200, max: 1500 }, count_tokens: chars4 })) {
      const n = chars4(buildPrompt(it));
      assert.ok(Math.abs(n - it.meta.targetTokens) <= 0.05 * it.meta.targetTokens, `${it.id}: ${n} vs ${it.meta.targetTokens}`);
    }
  });

  it('every item is answerable from its document: facts stated once, verbatim, and the reference solver finds the answer', () => {
    for (const it of items) {
      assert.equal(solve(it), it.answer, it.id);
      for (const f of it.meta.facts) assert.ok(it.document.includes(f), `${it.id}: missing fact ${f}`);
      if (it.meta.kind !== 'choice' && it.meta.kind !== 'numeric') assert.ok(it.document.includes(` ${it.answer} .`), it.id);
    }
  });

  it('covers all kinds, 2 and 3 hops, and the three synthetic data sources', () => {
    assert.deepEqual([...new Set(items.map((x) => x.meta.kind))].sort(), ['choice', 'multihop', 'numeric', 'single']);
    assert.deepEqual([...new Set(items.filter((x) => x.meta.kind === 'multihop').map((x) => x.meta.hops))].sort(), [2, 3]);
    assert.deepEqual([...new Set(items.map((x) => x.data_source))].sort(), ['synthetic_choice', 'synthetic_docmath', 'synthetic_docqa']);
    for (const it of items.filter((x) => x.meta.kind === 'choice')) {
      assert.equal(it.options?.length, 4);
      assert.equal(new Set(it.options).size, 4);
    }
  });

  it('supporting facts of multi-hop and numeric items lie far apart', () => {
    for (const it of items.filter((x) => x.meta.hops > 1 && x.meta.targetTokens >= 400)) {
      const pos = it.meta.facts.map((f) => countWordTokens(it.document.slice(0, it.document.indexOf(f)))).sort((a, b) => a - b);
      const docLen = countWordTokens(it.document);
      for (let i = 1; i < pos.length; i++) assert.ok(pos[i] - pos[i - 1] >= 0.1 * docLen, `${it.id}: facts at ${pos.join(', ')} of ${docLen}`);
    }
  });

  it('longer documents carry more distractors', () => {
    const short = generateSynthetic({ seed: 9, count: 20, length: { min: 120, max: 150 } });
    const long = generateSynthetic({ seed: 9, count: 20, length: { min: 900, max: 1000 } });
    const mean = (xs: SyntheticItem[]): number => xs.reduce((s, x) => s + x.meta.distractors, 0) / xs.length;
    assert.ok(mean(long) > 3 * mean(short), `${mean(long)} vs ${mean(short)}`);
  });

  it('train and held-out splits never share documents', () => {
    const { train, heldout } = generateSyntheticSplits(77, {
      train: { count: 60, length: { min: 100, max: 400 } },
      heldout: { count: 30, length: { min: 100, max: 400 } },
    });
    const trainDocs = new Set(train.map((x) => x.document));
    const trainIds = new Set(train.flatMap((x) => [x.id, x.meta.docId]));
    for (const h of heldout) {
      assert.ok(!trainDocs.has(h.document));
      assert.ok(!trainIds.has(h.id) && !trainIds.has(h.meta.docId));
      assert.equal(h.meta.split, 'heldout');
    }
  });

  it('texts are canonical word-level text from a closed vocabulary', () => {
    const vocab = new Set(syntheticVocabulary());
    assert.ok(vocab.size >= 300 && vocab.size <= 1500, `vocabulary of ${vocab.size}`);
    for (const it of items) {
      for (const t of [it.document, it.question]) assert.equal(wordTokens(t).join(' '), t);
      for (const t of [buildPrompt(it), it.sft_response, ...(it.options ?? [])]) {
        for (const tok of wordTokens(t)) assert.ok(vocab.has(tok), `${it.id}: token ${tok} not in the vocabulary`);
      }
    }
  });

  it("worked answers are short, in the recipe's format, and score 1 with their verifier", () => {
    for (const it of items) {
      assert.match(it.sft_response, /^<think> .* <\/think> (Therefore , the answer is \w+ \.|The correct answer is \( [A-D] \) \.)$/);
      assert.ok(countWordTokens(it.sft_response) <= 60, it.sft_response);
      const r = scoreRule({ response: it.sft_response, answer: it.answer, aliases: it.aliases, data_source: it.data_source }, { requireThinkClose: true });
      assert.equal(r.rule, 1, `${it.id}: ${it.sft_response}`);
      assert.equal(r.knownSource, true);
    }
  });

  it('rejects impossible targets and bad config with typed errors', () => {
    assert.throws(() => generateSynthetic({ seed: 1, count: 1, length: { min: 30, max: 30 } }), GeneratorError);
    assert.throws(() => generateSynthetic({ seed: 1, count: 1, length: { min: 200, max: 100 } }), RecipeConfigError);
    assert.throws(() => generateSynthetic({ seed: 1, count: 1, length: { min: 200, max: 300 }, kinds: { single: 0 } }), /synthetic\.kinds/);
    assert.throws(() => generateSynthetic({ seed: 1, count: 1, length: { min: 200, max: 300 }, hops: [9] }), /synthetic\.hops\[0\]/);
    assert.throws(() => generateSynthetic({ seed: 1, count: 1, length: { min: 200, max: 300 }, split: 'a b' }), RecipeConfigError);
  });
});
