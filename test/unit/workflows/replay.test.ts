/**
 * Determinism guard: histories of a tiny TrainingRun (the run, its SFT stage and an RL phase),
 * recorded by the pipeline integration test and committed under test/fixtures/histories, must
 * replay on the current workflow code. A change that alters the commands a workflow issues
 * for the same history (a reordered activity, a new timer, an unguarded Math.random) fails
 * here. An intentional, incompatible change re-records them:
 *   node scripts/run-tests.js --tier integration --grep "histories are small and replay"
 *   cp test-artifacts/histories/*.json test/fixtures/histories/   (with workflow-ids.json)
 * (and, for runs already in flight, needs workflow versioning with `patched()`).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { workflowBundle, installRuntime } from '../../../workers/common';
import { ROOT } from '../../support/env';

const DIR = path.join(ROOT, 'test', 'fixtures', 'histories');

describe('workflow determinism: recorded histories replay on the current code', function () {
  this.timeout(180_000);
  const ids = JSON.parse(fs.readFileSync(path.join(DIR, 'workflow-ids.json'), 'utf8')) as Record<string, string>;

  it('has the recorded histories of a run, its SFT stage and a phase', () => {
    assert.deepEqual(Object.keys(ids).sort(), ['phase', 'run', 'sft']);
  });

  for (const [name, workflowId] of Object.entries(ids)) {
    const file = `${name}.json`;
    it(`replays ${file}`, async () => {
      installRuntime();
      const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')));
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      assert.ok(started, `${file}: not a workflow history`);
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
    });
  }
});
