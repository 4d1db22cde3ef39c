/**
 * Bad-input matrix, Temporal rows (issue 7.2): an unreachable server, a `TrainingRun` input
 * from the Temporal UI that is not JSON or not a valid config, and a bad dataset met by a
 * run's data stage. Against the real dev server (LONGRL_TEST_ADDRESS) with an orchestrator
 * and a compute worker as child processes (`longrl worker KIND`), stopped in `after`.
 *
 * UI input is simulated exactly as the UI's Start Workflow form sends it: a `TrainingRun`
 * started through @temporalio/client on the orchestrator queue with one JSON argument.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { ApplicationFailure, Client, WorkflowFailedError, type Connection, type WorkflowHandle } from '@temporalio/client';
import { connectClient, TASK_QUEUES } from '../../../infra/temporal/connection';
import { progressQuery, type RunProgress } from '../../../workflows/contracts';
import { eventually, longrl, stopProcs, tempDir, testTarget, type Proc } from '../../support/env';
import { cli, assertUserError, closedPort, jsonl, qa, writeFile } from './support';

describe('bad input: Temporal (unreachable server, UI input, data stage of a run)', function () {
  this.timeout(90_000);
  const dir = tempDir('bad-temporal');
  const store = tempDir('bad-temporal-store');
  const stamp = Date.now().toString(36);
  let address: string;
  let connection: Connection;
  let client: Client;
  let workers: Proc[] = [];
  const started: string[] = [];

  before(async () => {
    address = testTarget().address;
    workers = ['orchestrator', 'compute'].map((k) => longrl(['worker', k, '--address', address, '--store', store]));
    connection = await connectClient(testTarget());
    client = new Client({ connection, namespace: testTarget().namespace });
    await Promise.all(workers.map((w) => w.waitFor(/worker polling/, 60_000)));
  });

  after(async () => {
    for (const id of started) {
      const h = client.workflow.getHandle(id);
      if ((await h.describe().catch(() => undefined))?.status.name === 'RUNNING') await h.terminate('bad-input test cleanup').catch(() => undefined);
    }
    await connection?.close();
    await stopProcs(workers, 15_000);
  });

  it('an unreachable Temporal address: names the address, says refused and what to do', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    // Proposed in notes/bad-input-findings.md (F5): today the client waits its 10 s connect
    // deadline and says "(Failed to connect before the deadline)"; the worker says "(connection refused)" at once.
    assertUserError(await cli(['runs', 'list', '--address', dead]), [
      `longrl: cannot reach a Temporal server at ${dead} (connection refused); start one with 'longrl dev', or check --address / --namespace / TLS options`,
    ]);
  });

  it('a worker id on a non-compute worker, or one that cannot name a task queue: one line each, exit 2', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    assertUserError(await cli(['worker', 'judge', '--worker-id', 'gpu-0', '--address', dead]), [
      "longrl: --worker-id applies to compute workers only (got kind 'judge')",
    ]);
    assertUserError(await cli(['worker', 'compute', '--worker-id', 'gpu 0/a', '--address', dead]), [
      "longrl: --worker-id 'gpu 0/a': use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    ]);
  });

  /** Start a TrainingRun with `input` as the UI would and return its failure (it must fail). */
  async function failedRun(name: string, input: unknown): Promise<{ failure: ApplicationFailure; handle: WorkflowHandle }> {
    const id = `bad-input-${name}-${stamp}`;
    started.push(id);
    const handle = await client.workflow.start('TrainingRun', { taskQueue: TASK_QUEUES.orchestrator, workflowId: id, args: [input] });
    const err = await handle.result().then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError, `the run must fail; got ${String(err)}`);
    assert.ok(err.cause instanceof ApplicationFailure, `an ApplicationFailure; got ${String(err.cause)}`);
    return { failure: err.cause, handle };
  }

  /** The failure is typed, not retried, and the config activity ran exactly once. */
  async function assertFailsFast(failure: ApplicationFailure, handle: WorkflowHandle): Promise<void> {
    assert.equal(failure.type, 'InvalidConfig');
    assert.equal(failure.nonRetryable, true);
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    assert.deepEqual(attempts, [1], 'one activity attempt (resolveRunConfig), no retry');
  }

  it('UI input that is not valid JSON: the run fails at once with InvalidConfig naming the JSON position', async () => {
    const { failure, handle } = await failedRun('ui-not-json', { config: '{not json' });
    // F7 (cosmetic): the workflow prefixes "invalid run config: " to a message that already starts with it.
    assert.equal(failure.message, [
      'invalid run config (workflow input): 1 problem',
      "  invalid JSON: Expected property name or '}' (line 1, column 2)",
    ].join('\n'));
    await assertFailsFast(failure, handle);
  });

  it('UI input that is not a valid config: the run fails at once with InvalidConfig naming every config path', async () => {
    const { failure, handle } = await failedRun('ui-bad-config', {
      config: { rl: { phases: [{ name: 'short', maxInputTokens: 256, steps: 2 }], groupSzie: 4 }, sampling: { topP: 1.5 } },
    });
    assert.equal(failure.message, [
      'invalid run config (workflow input): 2 problems',
      "  rl.groupSzie: unknown key (did you mean 'groupSize'?); valid keys of rl: phases, trainBatchSize, groupSize, miniBatchSize, microBatchSize, ppoEpochs, lr, lrSchedule, weightDecay, gradClip, betas, eps, advantage, loss, dynamicSampling, overlong, continueAsNewEvery, checkpointEvery",
      '  sampling.topP: must be <= 1 (got 1.5)',
    ].join('\n'));
    await assertFailsFast(failure, handle);
  });

  it('a dataset with bad lines met by a running run (longrl train): the data stage blocks, naming file, line and field', async () => {
    const data = writeFile(dir, 'train-bad.jsonl', jsonl([
      qa('the sky is blue', 'what color is the sky', 'blue'),
      { document: 'grass is green', answer: 'green' }, // line 2: no question
    ]));
    const heldout = writeFile(dir, 'heldout.jsonl', jsonl([qa('grass is green', 'what color is the grass', 'green')]));
    const config = writeFile(dir, 'run.yaml', [
      'run: { name: bad-input-data, outputDir: ' + JSON.stringify(path.join(dir, 'runs')) + ' }',
      `data: { source: jsonl, trainPath: ${JSON.stringify(data)}, heldoutPath: ${JSON.stringify(heldout)} }`,
      'sft: { enabled: false }',
      'rl:',
      '  phases:',
      '    - { name: only, maxInputTokens: 256, steps: 1 }',
      '',
    ].join('\n'));
    const id = `bad-input-run-data-${stamp}`;
    started.push(id);
    const r = await cli(['train', '--config', config, '--address', address, '--detach', '--run-id', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^run id: ${id}$`, 'm'));

    const handle = client.workflow.getHandle(id);
    const p = await eventually(async () => {
      const q: RunProgress = await handle.query(progressQuery);
      return q.status === 'blocked' ? q : undefined;
    }, 60_000, 'the run to block in its data stage');
    assert.equal(p.stage, 'data');
    assert.equal(p.blocked?.error, `DataError: ${data}:2: field question: is missing`);

    const show = await cli(['runs', 'show', id, '--address', address]);
    assert.equal(show.code, 0, show.stderr);
    assert.ok(show.stdout.split('\n').includes(`status     blocked at data step 0: DataError: ${data}:2: field question: is missing`), show.stdout);
  });
});
