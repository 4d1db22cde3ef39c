/**
 * Bad-input matrix, dataset / checkpoint / tokenizer rows (issue 7.2), through
 * `longrl eval --checkpoint DIR --data FILE` (offline, no Temporal). Checkpoints are tiny
 * Qwen3 models written by the engine's own `saveCheckpoint` into a temp folder.
 *
 * The same loaders back a run's data stage (`data.onBadLine: error|skip` is eval's
 * `--skip-bad-lines`); in a run a bad dataset blocks the data stage instead (temporal.test.ts).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, assertUserError, jsonl, qa, rewriteConfigJson, testTokenizer, writeCheckpoint, writeFile } from './support';
import { tempDir } from '../../support/env';

/** The quickest possible evaluation: one item, one sample of 2 tokens, one thread. */
const FAST = ['--limit', '1', '-k', '1', '--samples', '1', '--max-response-tokens', '2', '--threads', '1'];

describe('bad input: datasets, checkpoints, tokenizers (longrl eval)', function () {
  this.timeout(60_000);
  const dir = tempDir('bad-data');
  const good = path.join(dir, 'ck-good');
  let goodData: string;

  before(async () => {
    await writeCheckpoint(good);
    goodData = writeFile(dir, 'good.jsonl', jsonl([qa('the sky is blue', 'what color is the sky', 'blue')]));
  });

  const evalCmd = (checkpoint: string, data: string, ...extra: string[]) => cli(['eval', '--checkpoint', checkpoint, '--data', data, ...extra]);

  it('an empty dataset: names the file', async () => {
    const data = writeFile(dir, 'empty.jsonl', '');
    assertUserError(await evalCmd(good, data), [`longrl: --data ${data}: no usable items`]);
  });

  it('a dataset with bad lines: names the file, the line and the field', async () => {
    const data = writeFile(dir, 'bad-lines.jsonl', jsonl([
      qa('the sky is blue', 'what color is the sky', 'blue'),
      { document: 'grass is green', answer: 'green' }, // line 2: no question
      '{"document": "one two", "question": ', // line 3: not JSON (never reached: line 2 stops the load)
    ]));
    assertUserError(await evalCmd(good, data), [`longrl: ${data}:2: field question: is missing`]);
  });

  it('a dataset with bad lines, skipped (onBadLine: skip / --skip-bad-lines): the skips are counted by reason', async () => {
    const data = writeFile(dir, 'skip-lines.jsonl', jsonl([
      qa('the sky is blue', 'what color is the sky', 'blue'),
      { document: 'grass is green', answer: 'green' }, // missing_field
      '{"document": "one two", "question": ', // malformed
      qa('grass is green', 'what color is the grass', 'green'),
    ]));
    const r = await evalCmd(good, data, '--skip-bad-lines', ...FAST);
    const shown = `exit ${r.code}\n--- stderr ---\n${r.stderr}--- stdout ---\n${r.stdout}`;
    assert.equal(r.code, 0, shown);
    assert.doesNotMatch(r.stderr, /^\s+at |internal error/m, shown);
    // Proposed in notes/bad-input-findings.md (F2): today the skipped lines are not reported at all.
    assert.ok(r.stderr.split('\n').includes(`eval: ${data}: 2 items; skipped 2 (1 missing_field, 1 malformed)`), `the counted skips are not reported:\n${shown}`);
    assert.match(r.stdout, /^overall \(n=1, 1 samples each\): pass@1 /m, shown);
  });

  it('a missing checkpoint: names the folder', async () => {
    const missing = path.join(dir, 'no-such-checkpoint');
    assertUserError(await evalCmd(missing, goodData), [`longrl: --checkpoint ${missing}: no such folder`]);
    // A folder whose checkpoint write never finished (no manifest.json).
    const partial = path.join(dir, 'ck-partial');
    fs.mkdirSync(partial);
    assertUserError(await evalCmd(partial, goodData), [`longrl: --checkpoint ${partial}: not a longrl checkpoint (no manifest.json in it)`]);
  });

  it('a checkpoint of another architecture: names config.json, the field, what is supported and what was found', async () => {
    const llama = path.join(dir, 'ck-llama');
    await writeCheckpoint(llama);
    rewriteConfigJson(llama, { architectures: ['LlamaForCausalLM'], model_type: 'llama' });
    assertUserError(await evalCmd(llama, goodData), [
      `longrl: --checkpoint ${llama}: ${llama}/config.json: config field "architectures": expected ["Qwen3ForCausalLM"] or ["Qwen2ForCausalLM"], found ["LlamaForCausalLM"]`,
    ]);
  });

  it('a tokenizer mismatch: a checkpoint whose tokenizer has more tokens than the model has vocabulary rows', async () => {
    const small = path.join(dir, 'ck-small-vocab');
    const { tokenizerSize } = await writeCheckpoint(small, { vocab_size: 8 });
    assert.ok(tokenizerSize > 8, `the test tokenizer must be larger than the model's vocabulary (has ${tokenizerSize})`);
    assert.equal(tokenizerSize, testTokenizer().vocabSize);
    // Proposed in notes/bad-input-findings.md (F1): today this is an internal error with a stack trace (exit 1).
    assertUserError(await evalCmd(small, goodData), [
      `longrl: --checkpoint ${small}: tokenizer.json has ${tokenizerSize} tokens but the model's vocab_size is 8 (config.json); this tokenizer does not belong to these weights, save the checkpoint with the tokenizer it was trained with`,
    ]);
  });
});
