/**
 * Bad-input matrix, LLM judge rows (issue 7.2), through `longrl reward --in preds.jsonl
 * --judge-base-url URL --judge-model M`. The prediction below is wrong by the rule verifier
 * (reward < 1), so the judge is always asked. `--judge-max-retries 0`: one attempt, no backoff.
 *
 * The "garbage" judges are a TEST DOUBLE: a local node:http server speaking the OpenAI
 * chat-completions protocol (support.ts `fakeJudge`), not a model.
 */
import { strict as assert } from 'node:assert';
import { cli, assertUserError, chatCompletion, closedPort, fakeJudge, jsonl, writeFile } from './support';
import { tempDir } from '../../support/env';

const MODEL = 'judge-test';

describe('bad input: the LLM judge (longrl reward)', function () {
  this.timeout(60_000);
  const dir = tempDir('bad-judge');
  const preds = writeFile(dir, 'preds.jsonl', jsonl([
    { id: 'q1', question: 'What color is the sky?', prediction: 'the answer is azure', answer: 'blue', data_source: 'docqa' },
  ]));
  const reward = (baseUrl: string) => cli(['reward', '--in', preds, '--judge-base-url', baseUrl, '--judge-model', MODEL, '--judge-max-retries', '0']);

  it('a judge URL that refuses connections: names the model and URL, says refused and what to do', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1`;
    // Proposed in notes/bad-input-findings.md (F3): today the cause reads only "Connection error.".
    assertUserError(await reward(url), [
      `longrl reward: judge ${MODEL} at ${url} unavailable after 1 attempt(s): connection refused (ECONNREFUSED); start the judge server or fix the base URL (--judge-base-url, reward.judge.baseUrl)`,
    ]);
  });

  it('a judge that answers garbage in the protocol (no [[YES]]/[[NO]] verdict): quotes the reply', async () => {
    const judge = await fakeJudge(() => chatCompletion(MODEL, 'Well, both answers look somewhat similar to me.'));
    try {
      assertUserError(await reward(judge.baseUrl), [
        `longrl reward: judge ${MODEL} gave no [[YES]]/[[NO]] verdict in 1 attempt(s); last reply: "Well, both answers look somewhat similar to me.". Use an instruction-following judge model or check its chat template`,
      ]);
      assert.equal(judge.requests(), 1);
    } finally {
      await judge.close();
    }
  });

  it('a judge that answers garbage outside the protocol (HTTP 200, not a chat completion): says so and quotes it', async () => {
    const judge = await fakeJudge(() => ({ status: 200, contentType: 'text/html', body: '<html>502 bad gateway</html>' }));
    try {
      // Proposed in notes/bad-input-findings.md (F4): today this reads `gave no [[YES]]/[[NO]] verdict ...; last reply: ""`.
      assertUserError(await reward(judge.baseUrl), [
        `longrl reward: judge ${MODEL} at ${judge.baseUrl} did not answer with a chat completion in 1 attempt(s): "<html>502 bad gateway</html>"; check that the base URL is an OpenAI-compatible endpoint (--judge-base-url, reward.judge.baseUrl)`,
      ]);
      assert.equal(judge.requests(), 1);
    } finally {
      await judge.close();
    }
  });
});
