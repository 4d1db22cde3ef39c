/**
 * Seeded generator of synthetic long-context QA: the offline default dataset of longrl.
 *
 * Each item is one document (filler sentences, distractor facts and the supporting facts,
 * placed far apart) with one question of one of four kinds:
 * - `single`: single-fact retrieval ("What is the code of Mira ?"),
 * - `multihop`: 2 or 3 hops along relations ("What is the code of the partner of Mira ?"),
 * - `numeric`: sum, difference or integer ratio of two stated figures (DocMath-like),
 * - `choice`: a single-fact question with options (A)-(D).
 * Every text is canonical word-level text: tokens of `/\w+|[^\w\s]+/gu` joined by single
 * spaces (`<think>` and `</think>` kept whole), so decoding a word-level tokenizer's output
 * reproduces it exactly. The vocabulary is closed (see `syntheticVocabulary`).
 *
 * Answerable by construction: every (attribute, entity) key is stated at most once per
 * document and each supporting fact is stated verbatim, so the answer follows uniquely.
 * Difficulty grows with length (more filler and, by density, more distractors), the
 * number of distractors, and hops. Lengths hit the target within `tolerance` (default 5%).
 * Same config, same data: each item draws from its own stream (seed, split, index).
 */
import { GeneratorError, RecipeConfigError } from '../errors';
import { deriveSeed, Rng } from '../rng';
import { buildPrompt, OPTION_LETTERS } from './prompt';
import { countWordTokens, wordTokens, type TokenCounter } from './tokens';
import type { QuestionKind, SyntheticItem } from './types';
import {
  CATEGORICAL_ATTRIBUTES,
  entityNames,
  FILLER_TEMPLATES,
  FILLER_WORDS,
  NUMERIC_ATTRIBUTES,
  RELATIONS,
  SHORT_FILLER_TEMPLATES,
} from './vocabulary';

/** `data_source` names of synthetic items (routed to docqa, docmath and choice verifiers). */
export const SYNTHETIC_SOURCES = {
  docqa: 'synthetic_docqa',
  docmath: 'synthetic_docmath',
  choice: 'synthetic_choice',
} as const;

/** Opening and closing tags of the reasoning part of a response. */
export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';

/** Generator configuration; only `seed`, `count` and `length` are required. */
export interface SyntheticConfig {
  seed: number;
  /** Split name; part of every id and of the random stream. Default 'train'. */
  split?: string;
  /** Number of items. */
  count: number;
  /** Target length in tokens, drawn uniformly per item from [min, max]. */
  length: { min: number; max: number };
  /** What the length target measures: the whole prompt (default; what phases bucket) or the document. */
  lengthOf?: 'prompt' | 'document';
  /** Relative weights of the question kinds; default all 1. */
  kinds?: Partial<Record<QuestionKind, number>>;
  /** Hop counts of multi-hop questions, drawn uniformly; default [2, 3]. */
  hops?: number[];
  /** Distractor facts per 100 target tokens; default 2. */
  distractorsPer100Tokens?: number;
  /** At least this many distractor facts; default 1. */
  minDistractors?: number;
  /** Range of stated figures (inclusive); default [10, 199]. Ratios need 2*min <= max. */
  valueRange?: [number, number];
  /** Size of the entity-name vocabulary; default 120 (8..800). */
  numEntities?: number;
  /** Token counter for lengths; default word-level. */
  count_tokens?: TokenCounter;
  /** Allowed relative deviation from the target; default 0.05. */
  tolerance?: number;
}

interface Resolved {
  seed: number;
  split: string;
  count: number;
  length: { min: number; max: number };
  lengthOf: 'prompt' | 'document';
  kinds: Array<[QuestionKind, number]>;
  hops: number[];
  density: number;
  minDistractors: number;
  vmin: number;
  vmax: number;
  names: string[];
  countTokens: TokenCounter;
  tolerance: number;
}

const KINDS: QuestionKind[] = ['single', 'multihop', 'numeric', 'choice'];

function resolve(cfg: SyntheticConfig): Resolved {
  const p = 'synthetic';
  const int = (v: number, path: string, lo: number, hi = Number.MAX_SAFE_INTEGER): number => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RecipeConfigError(`${p}.${path}`, `must be an integer in [${lo}, ${hi}], got ${v}`);
    return v;
  };
  if (!Number.isSafeInteger(cfg.seed)) throw new RecipeConfigError(`${p}.seed`, `must be a safe integer, got ${cfg.seed}`);
  int(cfg.count, 'count', 0);
  int(cfg.length.min, 'length.min', 1);
  int(cfg.length.max, 'length.max', cfg.length.min);
  const kindsIn = cfg.kinds ?? {};
  const kinds = KINDS.map((k): [QuestionKind, number] => [k, kindsIn[k] ?? (cfg.kinds ? 0 : 1)]);
  for (const [k, w] of kinds) if (!(w >= 0) || !Number.isFinite(w)) throw new RecipeConfigError(`${p}.kinds.${k}`, `must be a finite weight >= 0, got ${w}`);
  if (!kinds.some(([, w]) => w > 0)) throw new RecipeConfigError(`${p}.kinds`, `needs a positive weight for at least one of ${KINDS.join(', ')}`);
  const hops = cfg.hops ?? [2, 3];
  if (hops.length === 0) throw new RecipeConfigError(`${p}.hops`, 'must list at least one hop count');
  hops.forEach((h, i) => int(h, `hops[${i}]`, 2, RELATIONS.length + 1));
  const [vmin, vmax] = cfg.valueRange ?? [10, 199];
  int(vmin, 'valueRange[0]', 1);
  int(vmax, 'valueRange[1]', vmin + 3);
  if ((kindsIn.numeric ?? (cfg.kinds ? 0 : 1)) > 0 && 2 * vmin > vmax) {
    throw new RecipeConfigError(`${p}.valueRange`, `ratio questions need 2*min <= max, got [${vmin}, ${vmax}]`);
  }
  const density = cfg.distractorsPer100Tokens ?? 2;
  if (!(density >= 0)) throw new RecipeConfigError(`${p}.distractorsPer100Tokens`, `must be >= 0, got ${density}`);
  const tolerance = cfg.tolerance ?? 0.05;
  if (!(tolerance > 0 && tolerance < 1)) throw new RecipeConfigError(`${p}.tolerance`, `must be in (0, 1), got ${tolerance}`);
  const split = cfg.split ?? 'train';
  if (!/^[\w.-]+$/.test(split)) throw new RecipeConfigError(`${p}.split`, `must be a plain name ([A-Za-z0-9_.-]), got ${JSON.stringify(split)}`);
  return {
    seed: cfg.seed,
    split,
    count: cfg.count,
    length: cfg.length,
    lengthOf: cfg.lengthOf ?? 'prompt',
    kinds,
    hops,
    density,
    minDistractors: int(cfg.minDistractors ?? 1, 'minDistractors', 0),
    vmin,
    vmax,
    names: entityNames(int(cfg.numEntities ?? 120, 'numEntities', 8, 800)),
    countTokens: cfg.count_tokens ?? countWordTokens,
    tolerance,
  };
}

/** One stated fact: (attribute or relation, entity) -> value. */
interface Fact {
  attr: string;
  entity: string;
  value: string;
}

const factKey = (attr: string, entity: string): string => `${attr}\u0000${entity}`;
const factText = (f: Fact): string => `The ${f.attr} of ${f.entity} is ${f.value} .`;
const ALL_CATEGORICAL = Object.keys(CATEGORICAL_ATTRIBUTES);

interface QuestionSpec {
  kind: QuestionKind;
  question: string;
  answer: string;
  options?: string[];
  needed: Fact[];
  think: string;
  final: string;
  dataSource: string;
  hops: number;
  /** Attribute whose other values make hard distractors. */
  focusAttr: string;
}

function valueOf(r: Resolved, rng: Rng, attr: string, entities: readonly string[], self: string): string {
  if ((NUMERIC_ATTRIBUTES as readonly string[]).includes(attr)) return String(rng.intBetween(r.vmin, r.vmax));
  const cat = CATEGORICAL_ATTRIBUTES[attr];
  if (cat) return rng.pick(cat);
  return rng.pick(entities.filter((e) => e !== self));
}

const answerLine = (v: string): string => `Therefore , the answer is ${v} .`;

function makeQuestion(r: Resolved, rng: Rng, kind: QuestionKind, entities: string[]): QuestionSpec {
  const numericAttr = (): string => rng.pick(NUMERIC_ATTRIBUTES);
  const anyAttr = (): string => (rng.int(2) === 0 ? numericAttr() : rng.pick(ALL_CATEGORICAL));
  const sourceFor = (attr: string): string =>
    (NUMERIC_ATTRIBUTES as readonly string[]).includes(attr) ? SYNTHETIC_SOURCES.docmath : SYNTHETIC_SOURCES.docqa;
  const e0 = entities[0];
  switch (kind) {
    case 'single': {
      const attr = anyAttr();
      const f: Fact = { attr, entity: e0, value: valueOf(r, rng, attr, entities, e0) };
      return {
        kind, hops: 1, focusAttr: attr, needed: [f], answer: f.value, dataSource: sourceFor(attr),
        question: `What is the ${attr} of ${e0} ?`,
        think: `The text says the ${attr} of ${e0} is ${f.value} .`,
        final: answerLine(f.value),
      };
    }
    case 'multihop': {
      const hops = rng.pick(r.hops);
      const rels = rng.sample(RELATIONS, hops - 1);
      const attr = anyAttr();
      const needed: Fact[] = [];
      for (let i = 0; i < rels.length; i++) needed.push({ attr: rels[i], entity: entities[i], value: entities[i + 1] });
      const last = entities[hops - 1];
      needed.push({ attr, entity: last, value: valueOf(r, rng, attr, entities, last) });
      const path = rels.slice().reverse().map((rel) => `the ${rel} of `).join('');
      return {
        kind, hops, focusAttr: attr, needed, answer: needed[needed.length - 1].value, dataSource: sourceFor(attr),
        question: `What is the ${attr} of ${path}${e0} ?`,
        think: needed.map(factText).join(' '),
        final: answerLine(needed[needed.length - 1].value),
      };
    }
    case 'numeric': {
      const attr = numericAttr();
      const [a, b] = [entities[0], entities[1]];
      const op = rng.pick(['sum', 'difference', 'ratio'] as const);
      let va: number;
      let vb: number;
      let res: number;
      let question: string;
      let arith: string;
      if (op === 'sum') {
        va = rng.intBetween(r.vmin, r.vmax);
        vb = rng.intBetween(r.vmin, r.vmax);
        res = va + vb;
        question = `What is the sum of the ${attr} of ${a} and the ${attr} of ${b} ?`;
        arith = `${va} + ${vb} = ${res} .`;
      } else if (op === 'difference') {
        va = rng.intBetween(r.vmin + 1, r.vmax);
        vb = rng.intBetween(r.vmin, va - 1);
        res = va - vb;
        question = `How much greater is the ${attr} of ${a} than the ${attr} of ${b} ?`;
        arith = `${va} - ${vb} = ${res} .`;
      } else {
        const k = rng.intBetween(2, Math.min(9, Math.floor(r.vmax / r.vmin)));
        vb = rng.intBetween(r.vmin, Math.floor(r.vmax / k));
        va = vb * k;
        res = k;
        question = `How many times the ${attr} of ${b} is the ${attr} of ${a} ?`;
        arith = `${va} / ${vb} = ${res} .`;
      }
      const needed: Fact[] = [{ attr, entity: a, value: String(va) }, { attr, entity: b, value: String(vb) }];
      return {
        kind, hops: 2, focusAttr: attr, needed, answer: String(res), dataSource: SYNTHETIC_SOURCES.docmath,
        question, think: `${needed.map(factText).join(' ')} ${arith}`, final: answerLine(String(res)),
      };
    }
    case 'choice': {
      const attr = anyAttr();
      const f: Fact = { attr, entity: e0, value: valueOf(r, rng, attr, entities, e0) };
      const letter = OPTION_LETTERS[rng.int(4)];
      return {
        kind, hops: 1, focusAttr: attr, needed: [f], answer: letter, dataSource: SYNTHETIC_SOURCES.choice,
        question: `What is the ${attr} of ${e0} ?`,
        options: [f.value], // completed with distractor values once the document's facts are known
        think: `The text says the ${attr} of ${e0} is ${f.value} .`,
        final: `The correct answer is ( ${letter} ) .`,
      };
    }
  }
}

/** Distractor facts: keys disjoint from the needed ones; about half "hard" (same attribute, or chain entities). */
function makeDistractors(r: Resolved, rng: Rng, q: QuestionSpec, entities: string[], n: number): Fact[] {
  const used = new Set(q.needed.map((f) => factKey(f.attr, f.entity)));
  const chain = new Set(q.needed.map((f) => f.entity));
  const attrs: string[] = [...NUMERIC_ATTRIBUTES, ...ALL_CATEGORICAL, ...RELATIONS];
  const hard: Array<[string, string]> = [];
  const easy: Array<[string, string]> = [];
  for (const e of entities) {
    for (const a of attrs) {
      if (used.has(factKey(a, e))) continue;
      (a === q.focusAttr || chain.has(e) ? hard : easy).push([a, e]);
    }
  }
  const nHard = Math.min(hard.length, Math.ceil(n / 2));
  const keys = [...rng.sample(hard, nHard), ...rng.sample(easy, Math.min(easy.length, n - nHard))];
  return keys.map(([attr, entity]) => ({ attr, entity, value: valueOf(r, rng, attr, entities, entity) }));
}

/** Fills the options of a choice question: the correct value plus three others of the same attribute, preferring values stated in the document. */
function completeOptions(r: Resolved, rng: Rng, q: QuestionSpec, distractors: Fact[]): void {
  const correct = q.needed[0].value;
  const letterIdx = OPTION_LETTERS.indexOf(q.answer);
  const inDoc = [...new Set(distractors.filter((f) => f.attr === q.focusAttr).map((f) => f.value))].filter((v) => v !== correct);
  const others = rng.shuffle(inDoc).slice(0, 3);
  const pool = CATEGORICAL_ATTRIBUTES[q.focusAttr];
  while (others.length < 3) {
    const v = pool ? rng.pick(pool) : String(rng.intBetween(r.vmin, r.vmax));
    if (v !== correct && !others.includes(v)) others.push(v);
  }
  const options = rng.shuffle(others);
  options.splice(letterIdx, 0, correct);
  q.options = options;
}

function fillWord(rng: Rng, r: Resolved, slot: string, entities: string[]): string {
  switch (slot) {
    case 'name': return rng.pick(entities);
    case 'city': return rng.pick(CATEGORICAL_ATTRIBUTES.city);
    case 'adj': return rng.pick(FILLER_WORDS.adj);
    case 'noun': return rng.pick(FILLER_WORDS.noun);
    case 'time': return rng.pick(FILLER_WORDS.time);
    case 'verb': return rng.pick(FILLER_WORDS.verb);
    default: throw new GeneratorError('filler', `unknown slot {${slot}}`);
  }
}

const instantiate = (rng: Rng, r: Resolved, template: string, entities: string[]): string =>
  template.replace(/\{(\w+)\}/g, (_m, slot: string) => fillWord(rng, r, slot, entities));

interface Sentence {
  text: string;
  tokens: number;
  role: 'fact' | 'distractor' | 'filler';
}

function generateItem(r: Resolved, index: number): SyntheticItem {
  const rng = new Rng(deriveSeed(r.seed, 'synthetic', r.split, index));
  const id = `${r.split}-${String(index).padStart(6, '0')}`;
  const target = rng.intBetween(r.length.min, r.length.max);
  const kind = r.kinds[rng.weightedIndex(r.kinds.map(([, w]) => w))][0];
  const nDistract = Math.max(r.minDistractors, Math.round((r.density * target) / 100));
  const entities = rng.sample(r.names, Math.min(r.names.length, Math.max(6, 4 + Math.ceil(nDistract / 2))));
  const q = makeQuestion(r, rng, kind, entities);
  let distractors = makeDistractors(r, rng, q, entities, nDistract);
  if (q.kind === 'choice') completeOptions(r, rng, q, distractors);

  const count = r.countTokens;
  const measure = (docText: string): number =>
    count(r.lengthOf === 'prompt' ? buildPrompt({ document: docText, question: q.question, options: q.options }) : docText);
  const fixed = measure('');
  const docBudget = target - fixed;
  const facts: Sentence[] = q.needed.map((f) => ({ text: factText(f), tokens: count(factText(f)), role: 'fact' }));
  const factTokens = facts.reduce((s, x) => s + x.tokens, 0);
  if (factTokens > docBudget) {
    throw new GeneratorError(
      'length',
      `item ${id}: target ${target} tokens is below the minimum of ${fixed + factTokens} for a ${kind} question (prompt ${fixed} + facts ${factTokens}); raise synthetic.length.min`,
    );
  }
  const dSentences: Sentence[] = distractors.map((f) => ({ text: factText(f), tokens: count(factText(f)), role: 'distractor' }));
  // Distractors take at most half of what the facts leave, so the document stays mostly filler.
  let dTokens = dSentences.reduce((s, x) => s + x.tokens, 0);
  while (dSentences.length > 0 && dTokens > (docBudget - factTokens) / 2) {
    dTokens -= dSentences.pop()!.tokens;
  }
  distractors = distractors.slice(0, dSentences.length);

  const fillers: Sentence[] = [];
  let remaining = docBudget - factTokens - dTokens;
  const longest = 14;
  while (remaining > longest) {
    const text = instantiate(rng, r, rng.pick(FILLER_TEMPLATES), entities);
    const tokens = count(text);
    fillers.push({ text, tokens, role: 'filler' });
    remaining -= tokens;
  }
  remaining = fitRemainder(r, rng, entities, fillers, remaining);

  // Arrange: supporting facts in separate regions (far apart, order shuffled); the rest shuffled around them.
  const others = rng.shuffle([...dSentences, ...fillers]);
  const total = others.length + facts.length;
  const order = rng.shuffle(facts);
  const slots = new Map<number, Sentence>();
  const h = order.length;
  order.forEach((f, i) => {
    // The middle half of region i: consecutive supporting facts are >= half a region apart.
    const lo = Math.floor((total * i) / h);
    const hi = Math.max(lo, Math.floor((total * (i + 1)) / h) - 1);
    const quarter = Math.floor((hi - lo + 1) / 4);
    slots.set(rng.intBetween(lo + quarter, hi - quarter), f);
  });
  const sentences: Sentence[] = [];
  for (let i = 0, j = 0; i < total; i++) sentences.push(slots.get(i) ?? others[j++]);

  // Counters that are not additive (subword tokenizers): measure and nudge with fillers.
  let document = sentences.map((s) => s.text).join(' ');
  let actual = measure(document);
  const tol = Math.max(1, Math.floor(r.tolerance * target));
  for (let iter = 0; Math.abs(actual - target) > tol; iter++) {
    if (iter > 200) {
      throw new GeneratorError('length', `item ${id}: could not reach ${target} tokens within ${r.tolerance * 100}% with this token counter (got ${actual})`);
    }
    if (actual > target) {
      const idx = sentences.findIndex((s) => s.role === 'filler');
      if (idx < 0) throw new GeneratorError('length', `item ${id}: ${actual} tokens without filler, above target ${target}; raise synthetic.length.min`);
      sentences.splice(idx, 1);
    } else {
      const text = instantiate(rng, r, rng.pick(SHORT_FILLER_TEMPLATES), entities);
      sentences.splice(rng.int(sentences.length + 1), 0, { text, tokens: count(text), role: 'filler' });
    }
    document = sentences.map((s) => s.text).join(' ');
    actual = measure(document);
  }

  const docId = `${r.split}-doc-${String(index).padStart(6, '0')}`;
  const item: SyntheticItem = {
    id,
    data_source: q.dataSource,
    document,
    question: q.question,
    answer: q.answer,
    sft_response: `${THINK_OPEN} ${q.think} ${THINK_CLOSE} ${q.final}`,
    meta: {
      kind: q.kind,
      hops: q.hops,
      distractors: distractors.length,
      targetTokens: target,
      actualTokens: actual,
      lengthOf: r.lengthOf,
      docId,
      split: r.split,
      facts: q.needed.map(factText),
    },
  };
  if (q.options) {
    item.options = q.options;
    item.aliases = [`(${q.answer})`];
  }
  return item;
}

/** Adds short fillers until fewer than 2 tokens remain (exact with the word counter). */
function fitRemainder(r: Resolved, rng: Rng, entities: string[], fillers: Sentence[], remaining: number): number {
  const candidates = [...FILLER_TEMPLATES, ...SHORT_FILLER_TEMPLATES];
  for (let guard = 0; remaining >= 2 && guard < 100; guard++) {
    const options = candidates.map((t) => instantiate(rng, r, t, entities)).map((text) => ({ text, tokens: r.countTokens(text) }));
    const fitting = options.filter((o) => o.tokens <= remaining);
    if (fitting.length === 0) break;
    const best = Math.max(...fitting.map((o) => o.tokens));
    const pick = rng.pick(fitting.filter((o) => o.tokens === best));
    fillers.push({ ...pick, role: 'filler' });
    remaining -= pick.tokens;
  }
  return remaining;
}

/** Generates `cfg.count` items of split `cfg.split`. Same config, same items. */
export function generateSynthetic(cfg: SyntheticConfig): SyntheticItem[] {
  const r = resolve(cfg);
  const out: SyntheticItem[] = [];
  for (let i = 0; i < r.count; i++) out.push(generateItem(r, i));
  return out;
}

/**
 * Generates several named splits from one seed (e.g. train and heldout). Splits never share
 * documents: every document is generated for exactly one split, from that split's own
 * random stream, and its id carries the split name.
 */
export function generateSyntheticSplits(
  seed: number,
  splits: Record<string, Omit<SyntheticConfig, 'seed' | 'split'>>,
): Record<string, SyntheticItem[]> {
  const out: Record<string, SyntheticItem[]> = {};
  for (const [name, cfg] of Object.entries(splits)) out[name] = generateSynthetic({ ...cfg, seed, split: name });
  return out;
}

/**
 * Every word-level token the generator can emit for `cfg` (documents, questions, options,
 * worked answers) plus those of the prompt template, sorted. A word-level tokenizer built
 * from this list never needs an unknown token on synthetic data.
 */
export function syntheticVocabulary(cfg: Pick<SyntheticConfig, 'valueRange' | 'numEntities'> = {}): string[] {
  const [, vmax] = cfg.valueRange ?? [10, 199];
  const words = new Set<string>();
  const add = (text: string): void => {
    for (const t of wordTokens(text)) words.add(t);
  };
  const skeletons = [
    ...FILLER_TEMPLATES, ...SHORT_FILLER_TEMPLATES,
    'What is the of ?', 'What is the sum of the of and the of ?', 'How much greater is the of than the of ?',
    'How many times the of is the of ?', 'The text says the of is .', '+ - / = .',
    answerLine(''), 'The correct answer is ( ) .', `${THINK_OPEN} ${THINK_CLOSE}`,
    buildPrompt({ document: '', question: '', options: ['x'] }), buildPrompt({ document: '', question: '' }),
  ];
  for (const s of skeletons) add(s.replace(/\{\w+\}/g, ' '));
  for (const l of OPTION_LETTERS.slice(0, 4)) add(l);
  for (const list of [entityNames(cfg.numEntities ?? 120), NUMERIC_ATTRIBUTES, RELATIONS, ...Object.values(CATEGORICAL_ATTRIBUTES), ...Object.values(FILLER_WORDS)]) {
    for (const w of list) add(w);
  }
  for (const k of Object.keys(CATEGORICAL_ATTRIBUTES)) add(k);
  for (let n = 0; n <= 2 * vmax; n++) words.add(String(n));
  return [...words].sort();
}
