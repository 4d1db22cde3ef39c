import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { buildPrompt, DataFormatError, describeLoad, loadDataset, loadJsonl, loadParquet } from '../../../recipe';

const verl = (o: { source: string; doc: string; q: string; gt: unknown; options?: string[]; index?: number }) => ({
  data_source: o.source,
  prompt: [{ role: 'user', content: buildPrompt({ document: o.doc, question: o.q, options: o.options }) }],
  ability: 'doc-qa',
  reward_model: { ground_truth: o.gt, style: 'rule' },
  extra_info: { index: o.index ?? 0, split: 'train' },
});

describe('recipe/data: loaders', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrl-recipe-load-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, lines: string[]): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, lines.join('\n') + '\n');
    return f;
  };

  it("reads veRL's DocQA-RL schema: document and question from the prompt, bare gold, options, extra_info", async () => {
    const f = write('verl.jsonl', [
      JSON.stringify(verl({ source: 'docmath_qa', doc: 'Revenue was 12.5 million.', q: 'What was revenue?', gt: 'Therefore, the answer is 12.5', index: 7 })),
      '',
      JSON.stringify(verl({ source: 'long_toc_choices_0_20000', doc: 'Doc', q: 'Which?', options: ['x', 'y', 'z', 'w'], gt: 'The correct answer is (C)' })),
      JSON.stringify(verl({ source: 'musique', doc: 'Doc two', q: 'Who?', gt: ['Tano', 'T.'] })),
    ]);
    const res = await loadJsonl(f);
    assert.equal(res.items.length, 3);
    const [a, b, c] = res.items;
    assert.deepEqual([a.document, a.question, a.answer, a.data_source, a.id], ['Revenue was 12.5 million.', 'What was revenue?', '12.5', 'docmath_qa', 'verl.jsonl#1']);
    assert.deepEqual((a.meta as { extra_info: unknown }).extra_info, { index: 7, split: 'train' });
    assert.deepEqual([b.question, b.options, b.answer], ['Which?', ['x', 'y', 'z', 'w'], 'C']);
    assert.equal(buildPrompt(b), verl({ source: '', doc: 'Doc', q: 'Which?', options: ['x', 'y', 'z', 'w'], gt: '' }).prompt[0].content);
    assert.deepEqual([c.answer, c.aliases], ['Tano', ['T.']]);
    assert.deepEqual(res.skipped, []);
  });

  it('reads plain {document, question, answer} lines', async () => {
    const f = write('plain.jsonl', [JSON.stringify({ document: 'D', question: 'Q', answer: 42 }), JSON.stringify({ id: 'x', document: 'D', question: 'Q', answer: 'a', aliases: ['b'], data_source: 'docqa' })]);
    const res = await loadDataset(f);
    assert.deepEqual(res.items.map((x) => [x.id, x.data_source, x.answer, x.aliases]), [['plain.jsonl#1', 'docqa', '42', undefined], ['x', 'docqa', 'a', ['b']]]);
  });

  const bad = [
    ['{not json', 1, '(json)', 'malformed'],
    [JSON.stringify({ document: 'D', answer: 'a' }), 2, 'question', 'missing_field'],
    [JSON.stringify({ document: 'D', question: 'Q', answer: '  ' }), 3, 'answer', 'empty_answer'],
    [JSON.stringify(verl({ source: 'docmath', doc: 'D', q: 'Q', gt: 'Paris' })), 4, 'reward_model.ground_truth', 'non_numeric_docmath'],
    [JSON.stringify({ ...verl({ source: 'musique', doc: 'D', q: 'Q', gt: 'a' }), prompt: [{ role: 'user', content: 'no template' }] }), 5, 'prompt', 'bad_prompt'],
    [JSON.stringify({ ...verl({ source: 'musique', doc: 'D', q: 'Q', gt: 'a' }), reward_model: {} }), 6, 'reward_model.ground_truth', 'missing_field'],
    [JSON.stringify({ ...verl({ source: 'musique', doc: 'D', q: 'Q', gt: 'a' }), prompt: [{ role: 'user', content: 5 }] }), 7, 'prompt[0].content', 'malformed'],
    ['[1, 2]', 8, '(record)', 'malformed'],
  ] as const;

  for (const [text, line, field, reason] of bad) {
    it(`${reason} (${field}) is a DataFormatError naming file, line and field`, async () => {
      const lines = Array.from({ length: line - 1 }, () => JSON.stringify({ document: 'D', question: 'Q', answer: 'ok' }));
      const f = write(`bad-${line}.jsonl`, [...lines, text]);
      await assert.rejects(loadJsonl(f), (e: unknown) => {
        assert.ok(e instanceof DataFormatError);
        assert.deepEqual([e.file, e.line, e.field], [f, line, field]);
        assert.ok(e.message.startsWith(`${f}:${line}: field ${field}:`), e.message);
        return true;
      });
    });
  }

  it('onBadLine skip: counts and reports every bad line by reason, keeps the good ones', async () => {
    const f = write('mixed.jsonl', [...bad.map(([t]) => t), JSON.stringify({ document: 'D', question: 'Q', answer: 'fine' })]);
    const res = await loadJsonl(f, { onBadLine: 'skip' });
    assert.equal(res.items.length, 1);
    assert.equal(res.skipped.length, bad.length);
    assert.deepEqual(res.skippedByReason, { malformed: 3, missing_field: 2, empty_answer: 1, non_numeric_docmath: 1, bad_prompt: 1 });
    assert.deepEqual(res.skipped.map((s) => s.line), bad.map(([, l]) => l));
    assert.match(describeLoad(res), /1 items; skipped 8 \(3 malformed/);
    // Per-kind policies override onBadLine.
    await assert.rejects(loadJsonl(f, { onBadLine: 'skip', onEmptyAnswer: 'error' }), (e: unknown) => e instanceof DataFormatError && e.line === 3);
    await assert.rejects(loadJsonl(f, { onBadLine: 'skip', onBadGold: 'error' }), (e: unknown) => e instanceof DataFormatError && e.line === 4);
  });

  it('routes unknown data_source names to the default verifier, warning once per name', async () => {
    const f = write('unknown.jsonl', [1, 2, 3].map((i) => JSON.stringify(verl({ source: 'hotpotqa', doc: 'D', q: 'Q', gt: 'x', index: i }))));
    const warned: string[] = [];
    const res = await loadJsonl(f, { defaultVerifier: 'docqa', onUnknownSource: (s, v) => warned.push(`${s}->${v}`) });
    assert.deepEqual(warned, ['hotpotqa->docqa']);
    assert.deepEqual(res.unknownSources, { hotpotqa: 3 });
    assert.equal(res.items.length, 3);
    // Routed to docmath by default, a non-numeric gold is caught at load time.
    await assert.rejects(loadJsonl(f, { defaultVerifier: 'docmath' }), /non|not a number/);
  });

  it('reads Parquet with nested veRL columns (list<struct>, struct) and with JSON columns', async () => {
    const rows = [
      verl({ source: 'musique', doc: 'Alpha doc', q: 'Who?', gt: 'Mira', index: 1 }),
      verl({ source: 'docmath', doc: 'Beta doc', q: 'How much?', gt: '12.5%', index: 2 }),
    ];
    const nested = path.join(dir, 'nested.parquet');
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'data_source', data: rows.map((r) => r.data_source) },
        { name: 'prompt', data: rows.map((r) => r.prompt) },
        { name: 'reward_model', data: rows.map((r) => r.reward_model) },
        { name: 'extra_info', data: rows.map((r) => ({ ...r.extra_info, index: BigInt(r.extra_info.index) })) },
      ],
      schema: [
        { name: 'root', num_children: 4 },
        { name: 'data_source', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'prompt', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
        { name: 'role', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'content', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'reward_model', repetition_type: 'OPTIONAL', num_children: 2 },
        { name: 'ground_truth', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'style', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'extra_info', repetition_type: 'OPTIONAL', num_children: 2 },
        { name: 'index', type: 'INT64', repetition_type: 'OPTIONAL' },
        { name: 'split', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      ],
    });
    fs.writeFileSync(nested, Buffer.from(buf));
    const res = await loadParquet(nested);
    assert.deepEqual(res.items.map((x) => [x.id, x.data_source, x.document, x.question, x.answer]), [
      ['nested.parquet#1', 'musique', 'Alpha doc', 'Who?', 'Mira'],
      ['nested.parquet#2', 'docmath', 'Beta doc', 'How much?', '12.5%'],
    ]);
    assert.deepEqual((res.items[0].meta as { extra_info: unknown }).extra_info, { index: 1, split: 'train' }); // INT64 -> number

    const jsonCols = path.join(dir, 'json.parquet');
    const withBad = [...rows, { ...rows[0], reward_model: { ground_truth: '', style: 'rule' } }];
    fs.writeFileSync(jsonCols, Buffer.from(parquetWriteBuffer({ columnData: ['data_source', 'prompt', 'reward_model', 'extra_info'].map((name) => ({ name, data: withBad.map((r) => (r as Record<string, unknown>)[name]) })) })));
    await assert.rejects(loadDataset(jsonCols), (e: unknown) => e instanceof DataFormatError && e.line === 3 && /json\.parquet row 3: field reward_model\.ground_truth: is empty/.test(e.message));
    const skipped = await loadDataset(jsonCols, { onEmptyAnswer: 'skip' });
    assert.equal(skipped.items.length, 2);
    assert.deepEqual(skipped.skippedByReason, { empty_answer: 1 });
  });

  it('a file that is not Parquet, a missing file or an unknown extension is a DataFormatError', async () => {
    const f = write('fake.parquet', ['not parquet at all']);
    await assert.rejects(loadParquet(f), (e: unknown) => e instanceof DataFormatError && /not a readable Parquet file/.test(e.message));
    await assert.rejects(loadJsonl(path.join(dir, 'missing.jsonl')), (e: unknown) => e instanceof DataFormatError && /cannot be read/.test(e.message));
    await assert.rejects(loadDataset(path.join(dir, 'x.csv')), /unknown extension/);
  });
});
