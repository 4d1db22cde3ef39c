/**
 * The LLM judge against a real HTTP server. The server below is a TEST DOUBLE of a judge
 * model: a judge LLM (e.g. Qwen2.5-1.5B-Instruct behind vLLM) cannot run on this machine,
 * so a node:http server speaks the OpenAI chat-completions protocol and answers by rule;
 * the real `openai` client and LlmJudge run unchanged against it.
 */
import { strict as assert } from 'node:assert';
import {
  JudgeResponseError,
  JudgeUnavailableError,
  LlmJudge,
  RecipeConfigError,
  scoreSample,
  type JudgeConfig,
} from '../../../recipe';
import { equalityJudge, FakeJudgeServer, type ChatRequest, type Reply } from './fake-judge-server';

const noSleep = (): Promise<void> => Promise.resolve();

describe('recipe/rewards: LLM judge (real openai client, fake chat-completions server)', function () {
  this.timeout(20000);
  let server: FakeJudgeServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  const judgeAt = async (reply: (req: ChatRequest, n: number) => Reply, cfg: Partial<JudgeConfig> = {}, env: Record<string, string> = {}): Promise<LlmJudge> => {
    server = new FakeJudgeServer(reply);
    const baseURL = await server.start();
    return new LlmJudge({ baseURL, model: 'judge-1', maxRetries: 2, ...cfg }, { env, sleep: noSleep });
  };

  it('sends the equivalence prompt at temperature 0 with the key from the named env var, and parses the verdict', async () => {
    const judge = await judgeAt(equalityJudge, { apiKeyEnv: 'JUDGE_KEY' }, { JUDGE_KEY: 'sk-test-123' });
    assert.equal(await judge.judge({ question: 'What is the code of Mira ?', prediction: 'four hundred', answer: '417' }), 0);
    assert.equal(await judge.judge({ question: 'Q', prediction: 'New York', answer: 'new york' }), 1);
    const { body, auth } = server!.requests[0];
    assert.equal(body.model, 'judge-1');
    assert.equal(body.temperature, 0);
    assert.equal(auth, 'Bearer sk-test-123');
    assert.deepEqual(body.messages.map((m) => m.role), ['system', 'user']);
    assert.match(body.messages[0].content, /\[\[YES\]\].*\[\[NO\]\]/s);
    assert.match(body.messages[0].content, /not try to solve/);
    assert.equal(body.messages[1].content, 'Problem: What is the code of Mira ?\nAnswer 1: four hundred\nAnswer 2: 417');
  });

  it('caches by (model, question, prediction, answer) and shares concurrent identical calls', async () => {
    const judge = await judgeAt(equalityJudge);
    const q = { question: 'Q', prediction: 'a', answer: 'a' };
    const [x, y] = await Promise.all([judge.judge(q), judge.judge(q)]);
    assert.equal(await judge.judge(q), 1);
    assert.deepEqual([x, y], [1, 1]);
    assert.equal(server!.requests.length, 1);
    assert.equal(judge.stats.cacheHits, 2);
    await judge.judge({ ...q, question: 'Q2' });
    assert.equal(server!.requests.length, 2);
  });

  it('retries 5xx and 429 with backoff, then succeeds', async () => {
    const judge = await judgeAt((req, n) => (n === 1 ? { status: 503 } : n === 2 ? { status: 429 } : equalityJudge(req)));
    assert.equal(await judge.judge({ question: 'Q', prediction: 'x', answer: 'x' }), 1);
    assert.equal(server!.requests.length, 3);
    assert.equal(judge.stats.retries, 2);
  });

  it('garbage replies give JudgeResponseError after the retries, never a silent 0', async () => {
    const judge = await judgeAt(() => ({ content: 'I think they might be similar.' }));
    await assert.rejects(judge.judge({ question: 'Q', prediction: 'x', answer: 'y' }), (e: unknown) => {
      assert.ok(e instanceof JudgeResponseError);
      assert.equal(e.attempts, 3);
      return true;
    });
    assert.equal(server!.requests.length, 3);
    // Failures are not cached: the next call asks again.
    await assert.rejects(judge.judge({ question: 'Q', prediction: 'x', answer: 'y' }), JudgeResponseError);
    assert.equal(server!.requests.length, 6);
  });

  it('an unreachable endpoint gives JudgeUnavailableError', async () => {
    const s = new FakeJudgeServer(equalityJudge);
    const url = await s.start();
    await s.stop(); // nothing listens on that port any more
    const judge = new LlmJudge({ baseURL: url, model: 'm', maxRetries: 1 }, { sleep: noSleep, env: {} });
    await assert.rejects(judge.judge({ question: 'Q', prediction: 'x', answer: 'x' }), (e: unknown) => {
      assert.ok(e instanceof JudgeUnavailableError);
      assert.equal(e.attempts, 2);
      assert.match(e.message, /unavailable after 2 attempt/);
      return true;
    });
  });

  it('401 fails at once naming the key variable; a timeout is retried then reported', async () => {
    const judge = await judgeAt(() => ({ status: 401 }), { apiKeyEnv: 'K' }, { K: 'bad' });
    await assert.rejects(judge.judge({ question: 'Q', prediction: 'x', answer: 'x' }), (e: unknown) => e instanceof JudgeUnavailableError && /HTTP 401.*K/.test(e.message));
    assert.equal(server!.requests.length, 1);
    await server!.stop();
    const slow = await judgeAt(() => ({ delayMs: 2000, content: '[[YES]]' }), { timeoutMs: 100, maxRetries: 1 });
    await assert.rejects(slow.judge({ question: 'Q', prediction: 'x', answer: 'x' }), (e: unknown) => e instanceof JudgeUnavailableError && /timed out/.test(e.message));
  });

  it('bounds concurrency', async () => {
    const judge = await judgeAt(() => ({ delayMs: 30, content: 'Different.\n[[NO]]' }), { concurrency: 2 });
    const out = await Promise.all(Array.from({ length: 6 }, (_, i) => judge.judge({ question: `Q${i}`, prediction: 'a', answer: 'b' })));
    assert.deepEqual(out, [0, 0, 0, 0, 0, 0]);
    assert.ok(server!.maxInFlight <= 2, `max in flight ${server!.maxInFlight}`);
    assert.equal(server!.requests.length, 6);
  });

  it('rejects a missing key variable and empty endpoint config with config errors', () => {
    assert.throws(() => new LlmJudge({ baseURL: 'http://127.0.0.1:1/v1', model: 'm', apiKeyEnv: 'NOPE' }, { env: {} }), (e: unknown) => e instanceof RecipeConfigError && /NOPE is not set/.test(e.message));
    assert.throws(() => new LlmJudge({ baseURL: '', model: 'm' }), RecipeConfigError);
  });

  it('hybrid reward: judge only when rule < 1, reward = max(rule, judge), no judge for choice', async () => {
    const judge = await judgeAt(equalityJudge);
    const hit = await scoreSample({ question: 'Q', response: 'Therefore, the answer is Paris.', answer: 'Paris', data_source: 'musique' }, {}, judge);
    assert.deepEqual([hit.rule, hit.judge, hit.reward], [1, null, 1]);
    assert.equal(server!.requests.length, 0);
    const rescued = await scoreSample({ question: 'Q', response: 'Therefore, the answer is N Y C.', answer: 'nyc', data_source: 'multihoprag' }, {}, judge);
    assert.deepEqual([rescued.rule, rescued.judge, rescued.reward, rescued.extracted], [0, 1, 1, 'N Y C']);
    const miss = await scoreSample({ question: 'Q', response: 'the answer is 7', answer: '8', data_source: 'docmath' }, {}, judge);
    assert.deepEqual([miss.rule, miss.judge, miss.reward], [0, 0, 0]);
    const none = await scoreSample({ question: 'Q', response: 'no idea', answer: '8', data_source: 'docmath' }, {}, judge);
    assert.deepEqual([none.rule, none.judge, none.reward], [0, null, 0]); // nothing extracted: nothing to judge
    const choice = await scoreSample({ question: 'Q', response: 'The correct answer is (A)', answer: 'B', data_source: 'long_toc_choices' }, {}, judge);
    assert.equal(choice.judge, null);
    assert.equal(server!.requests.length, 2);
  });
});
