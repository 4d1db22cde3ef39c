import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { registerRewardCommand, runReward, type RewardFlags } from '../../../cli/commands/reward';
import { equalityJudge, FakeJudgeServer } from './fake-judge-server';

describe('cli: longrl reward', function () {
  this.timeout(20000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrl-reward-cli-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, rows: unknown[]): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
    return f;
  };
  const run = async (flags: Partial<RewardFlags>, env: Record<string, string> = {}) => {
    let stdout = '';
    let stderr = '';
    const code = await runReward({ in: '', defaultVerifier: 'docqa', answerPhrase: 'required', ...flags }, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env });
    return { code, stdout, stderr, lines: stdout.trim() ? stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) : [] };
  };
  const preds = [
    { id: 'a', question: 'What is the code of Mira ?', prediction: '<think> ... </think> Therefore, the answer is 417.', answer: '417', data_source: 'synthetic_docmath' },
    { id: 'b', question: 'Who?', prediction: 'Therefore, the answer is N Y C', answer: 'nyc', data_source: 'musique' },
    { id: 7, question: 'Which?', prediction: 'The correct answer is (B)', answer: 'B', data_source: 'long_toc_choices' },
    { question: 'Q', prediction: 'no answer here', answer: 'x', data_source: 'hotpotqa' },
  ];

  it('scores each line with rule only, echoing ids, in input order', async () => {
    const f = write('preds.jsonl', preds);
    const r = await run({ in: f });
    assert.equal(r.code, 0);
    assert.deepEqual(r.lines.map((l) => [l.id, l.verifier, l.rule, l.judge, l.reward, l.extracted]), [
      ['a', 'docmath', 1, null, 1, '417'],
      ['b', 'docqa', 0, null, 0, 'N Y C'],
      ['7', 'choice', 1, null, 1, 'B'],
      [null, 'docqa', 0, null, 0, null],
    ]);
    assert.match(r.stderr, /4 lines scored, mean reward 0\.5000, judge called 0 times; unknown data_source routed to docqa: hotpotqa x1/);
  });

  it('uses the judge where the rule misses, with the key from the named env var, and writes --out', async () => {
    const server = new FakeJudgeServer(equalityJudge);
    const url = await server.start();
    try {
      const out = path.join(dir, 'scored.jsonl');
      const r = await run({ in: write('p2.jsonl', preds), out, judgeBaseUrl: url, judgeModel: 'judge-1', judgeApiKeyEnv: 'MY_JUDGE_KEY' }, { MY_JUDGE_KEY: 'k' });
      assert.equal(r.code, 0);
      assert.equal(r.stdout, '');
      const lines = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(lines[1], { id: 'b', data_source: 'musique', verifier: 'docqa', rule: 0, judge: 1, reward: 1, extracted: 'N Y C' });
      assert.equal(server.requests.length, 1); // only line b: a and 7 pass the rule, the last has no answer
      assert.equal(server.requests[0].auth, 'Bearer k');
    } finally {
      await server.stop();
    }
  });

  it('user errors are one line and exit 2', async () => {
    const cases: Array<[Partial<RewardFlags>, RegExp]> = [
      [{ in: path.join(dir, 'nope.jsonl') }, /no such file/],
      [{ in: write('bad.jsonl', [preds[0], '{oops']) }, /bad\.jsonl:2: field \(json\)/],
      [{ in: write('missing.jsonl', [{ question: 'Q', answer: 'x' }]) }, /missing\.jsonl:1: field prediction: is missing/],
      [{ in: write('gold.jsonl', [{ prediction: 'the answer is 1', answer: 'Paris', data_source: 'docmath' }]) }, /gold\.jsonl:1: field answer: .*not a number/],
      [{ in: write('ok.jsonl', [preds[0]]), judgeBaseUrl: 'http://127.0.0.1:9/v1' }, /go together/],
      [{ in: write('ok2.jsonl', [preds[0]]), defaultVerifier: 'f1' }, /unknown verifier "f1"; valid names: docqa, docmath, choice/],
      [{ in: write('ok3.jsonl', [preds[1]]), judgeBaseUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm', judgeApiKeyEnv: 'UNSET_VAR' }, /UNSET_VAR is not set/],
    ];
    for (const [flags, re] of cases) {
      const r = await run(flags);
      assert.equal(r.code, 2, JSON.stringify(flags));
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });

  it('an unreachable judge is a one-line error, never reward 0', async () => {
    const r = await run({ in: write('p3.jsonl', [preds[1]]), judgeBaseUrl: 'http://127.0.0.1:9/v1', judgeModel: 'm', judgeMaxRetries: '0' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /judge m at http:\/\/127\.0\.0\.1:9\/v1 unavailable/);
    assert.equal(r.stdout, '');
  });

  it('--skip-bad-lines reports and skips; registerRewardCommand wires the flags into commander', async () => {
    const r = await run({ in: write('mixed.jsonl', [preds[0], '{oops', { prediction: 'the answer is 1', answer: 'Paris', data_source: 'docmath' }]), skipBadLines: true });
    assert.equal(r.code, 0);
    assert.equal(r.lines.length, 1);
    assert.match(r.stderr, /2 bad lines skipped/);

    const program = new Command('longrl').exitOverride();
    registerRewardCommand(program);
    const out = path.join(dir, 'via-commander.jsonl');
    const saved = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write; // the summary line
    try {
      await program.parseAsync(['reward', '--in', write('p4.jsonl', preds.slice(0, 1)), '--out', out, '--require-think-close'], { from: 'user' });
    } finally {
      process.stderr.write = saved;
    }
    assert.equal((JSON.parse(fs.readFileSync(out, 'utf8')) as { reward: number }).reward, 1);
  });
});
