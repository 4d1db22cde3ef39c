/**
 * The operator's view (issue 7, item 3): a TrainingRun launched, watched and steered from the
 * Temporal Web UI (2.54, served by the dev server of the global fixture) in a real browser,
 * Debian's headless Chromium driven by playwright-core. Workers are separate `longrl worker`
 * processes. Each step saves a screenshot under test-artifacts/ui/; assertions are on the
 * DOM text the UI shows and, for the run's state, on the `progress` Query.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { Client, type WorkflowHandle } from '@temporalio/client';
import type { Connection } from '@temporalio/client';
import type { RunProgress, TrainingRunInput } from '../../../workflows/contracts';
import { connectClient, TASK_QUEUES } from '../../../infra/temporal/connection';
import { eventually, longrl, tempDir, testTarget, type Proc } from '../../support/env';
import { ARTIFACT_DIR, CHROMIUM_PATH, filterList, launchUi, listUrl, openTab, runQueryInUi, sendUpdate, typeJson, untilVisible, workflowUrl, type UiBrowser } from './browser';

/**
 * Small work, many steps: SFT on 64 items (8 steps), 2 steps of phase `short`, then 40
 * steps of phase `long`, so the run is alive in phase `long` for the whole test (it is
 * aborted at the end). What an operator would paste into the Start Workflow form.
 */
const INPUT: TrainingRunInput = {
  config: {
    preset: 'quick',
    set: ['data.sftItems=64', 'sft.epochs=1', 'rl.phases[0].steps=2', 'rl.phases[1].steps=40', 'data.trainItems=40', 'data.heldoutItems=8', 'rl.trainBatchSize=4', 'rl.miniBatchSize=2'],
  },
  configSource: 'ui',
};

/** Activity types that run on the compute task queue (activities/types.ts ComputeActivities). */
const COMPUTE_ACTIVITIES = ['generateScored', 'rollout', 'policyUpdate', 'saveCheckpoint', 'evalRollout', 'sftChunk', 'prepareData'];

async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(
    procs.map(async (p) => {
      const t = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
      await p.exited();
      clearTimeout(t);
    }),
  );
}

describe('Temporal Web UI in a real browser: launch, watch and steer a TrainingRun', function () {
  this.timeout(180_000);
  const workflowId = `ui-run-${Date.now().toString(36)}`;
  const store = tempDir('ui-store');
  const workers: Proc[] = [];
  let ui: UiBrowser | undefined;
  let base = '';
  let connection: Connection | undefined;
  let handle: WorkflowHandle | undefined;

  const page = () => {
    if (!ui) throw new Error('the browser did not start (see the before hook)');
    return ui.page;
  };
  const progress = () => handle!.query<RunProgress>('progress');

  before(async function () {
    base = process.env.LONGRL_TEST_UI_URL ?? '';
    if (!fs.existsSync(CHROMIUM_PATH) || !base) {
      const why = !base ? 'the test dev server has no Web UI (LONGRL_TEST_UI_URL is empty)' : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set LONGRL_CHROMIUM)`;
      // CI installs Chromium (.ci/run); elsewhere a missing browser skips instead of failing.
      if (process.env.CI) throw new Error(`UI test cannot run: ${why}`);
      console.log(`    skipped: ${why}`);
      this.skip();
    }
    const target = testTarget();
    for (const kind of ['orchestrator', 'compute', 'judge']) workers.push(longrl(['worker', kind, '--address', target.address, '--store', store]));
    const [browser] = await Promise.all([launchUi(), ...workers.map((w) => w.waitFor(/worker polling/, 90_000))]);
    ui = browser;
    connection = await connectClient(target);
    handle = new Client({ connection, namespace: target.namespace }).workflow.getHandle(workflowId);
  });

  after(async function () {
    this.timeout(60_000);
    // Leave nothing running: abort through the client (a real operator action, recorded with
    // its reason), wait for the run to close, terminate only if it does not.
    if (handle) {
      try {
        const d = await handle.describe();
        if (d.status.name === 'RUNNING') {
          await handle.executeUpdate('abort', { args: [{ reason: 'ui test done' }] });
          await eventually(async () => (await handle!.describe()).status.name !== 'RUNNING', 30_000, `${workflowId} to close after abort`);
          const final = await progress();
          assert.equal(final.status, 'aborted');
        }
      } catch (err) {
        if (!/not found/i.test((err as Error).message)) {
          await handle.terminate('ui test cleanup').catch(() => undefined);
          throw err;
        }
      }
    }
    await ui?.close();
    await connection?.close();
    await stopAll(workers);
    fs.rmSync(store, { recursive: true, force: true });
  });

  it('starts a TrainingRun from the Start Workflow form with a JSON input', async () => {
    const p = page();
    await p.goto(`${base}/namespaces/default/workflows`);
    await p.getByRole('link', { name: 'Start Workflow' }).click();
    await p.getByRole('heading', { name: 'Start Workflow' }).waitFor();
    await p.getByLabel('Workflow ID').fill(workflowId);
    await p.getByLabel('Task Queue').fill(TASK_QUEUES.orchestrator);
    await p.getByLabel('Workflow Type').fill('TrainingRun');
    // The form looks the task queue up and shows its pollers: our orchestrator worker.
    await p.getByText('Task Queue is Active').waitFor();
    const editor = p.getByRole('textbox', { name: 'Data' });
    await typeJson(p, editor, INPUT);
    assert.deepEqual(JSON.parse(await editor.innerText()), INPUT, 'the Data editor holds exactly the JSON typed');
    await ui!.shot('start-form-filled', { fullPage: true });
    await p.getByRole('button', { name: 'Start Workflow' }).click();
    // The toast links to the new run.
    const toast = p.getByRole('link', { name: 'Workflow started successfully' });
    await toast.waitFor();
    assert.match((await toast.getAttribute('href')) ?? '', new RegExp(`/workflows/${workflowId}/`));
    await ui!.shot('start-form-started');
    const d = await handle!.describe();
    assert.equal(d.type, 'TrainingRun');
    assert.equal(d.taskQueue, TASK_QUEUES.orchestrator);
  });

  it('lists the run when the list is filtered by LongrlStatus="running"', async () => {
    const p = page();
    // Typed into the list's query box once; later tries reload (search attributes are
    // indexed shortly after the run sets them).
    let typed = false;
    const row = await untilVisible(
      async () => {
        if (typed) await p.reload();
        else await filterList(p, base, 'LongrlStatus="running"');
        typed = true;
      },
      () => p.getByRole('link', { name: workflowId, exact: true }),
      `${workflowId} in the list filtered by LongrlStatus="running"`,
    );
    await p.getByText('LongrlStatus = "running"').waitFor(); // the filter chip the UI made of the query
    await ui!.shot('list-filtered-running');
    await row.click();
    await p.getByRole('heading', { name: workflowId }).waitFor();
    const main = p.getByRole('main');
    await main.getByText('TrainingRun', { exact: true }).first().waitFor();
    await main.getByText('"configSource": "ui"').waitFor(); // the Input pane shows what was typed
    await ui!.shot('run-page');
  });

  it('shows the child workflows per phase under Relationships', async () => {
    const p = page();
    // Phase `long` starts after SFT, its evaluation and the 2 steps of phase `short`.
    await untilVisible(
      async () => {
        await p.goto(workflowUrl(base, workflowId));
        await openTab(p, 'Relationships');
      },
      () => p.getByRole('link', { name: `${workflowId}--long`, exact: true }),
      `the child workflow ${workflowId}--long under Relationships`,
      90_000,
    );
    const main = p.getByRole('main');
    for (const child of ['sft', 'short', 'long']) await main.getByRole('link', { name: `${workflowId}--${child}`, exact: true }).waitFor();
    await main.getByText('SftStage').first().waitFor();
    await main.getByText('RlPhase').first().waitFor();
    await ui!.shot('relationships-children', { fullPage: true });
  });

  it('shows the pending compute activity of the running phase', async () => {
    const p = page();
    const child = `${workflowId}--long`;
    // Steps alternate compute (rollout, policy update) and judge work: look until one is pending.
    await untilVisible(
      async () => {
        await p.goto(workflowUrl(base, child));
        await openTab(p, 'Pending Activities');
      },
      () => p.getByRole('main').getByText(/^compute@/),
      `a pending activity of ${child} on a compute worker`,
      45_000,
      1_500,
    );
    const text = await p.getByRole('main').innerText();
    const shown = COMPUTE_ACTIVITIES.filter((a) => new RegExp(`\\b${a}\\b`).test(text));
    assert.ok(shown.length > 0, `the Pending Activities tab names a compute activity (${COMPUTE_ACTIVITIES.join(', ')}); it shows:\n${text.slice(-1500)}`);
    assert.match(text, /STARTED/);
    await ui!.shot('pending-compute-activity', { fullPage: true });
  });

  it('pauses the run with a `pause` Update sent from the UI; the progress Query says paused', async () => {
    const p = page();
    await p.goto(workflowUrl(base, workflowId));
    await p.getByRole('heading', { name: workflowId }).waitFor();
    await sendUpdate(ui!, 'pause', { reason: 'ui test: pause from the Web UI' }, 'update-pause');
    const paused = await eventually(async () => ((await progress()).status === 'paused' ? await progress() : undefined), 30_000, 'progress.status = paused');
    assert.ok(paused.operatorActions.some((a) => a.kind === 'pause' && a.reason === 'ui test: pause from the Web UI'), 'the pause is recorded with its reason');
    // The same Query through the UI's Queries tab.
    await p.goto(workflowUrl(base, workflowId));
    const shown = await runQueryInUi(p, 'progress');
    assert.match(shown, /"status": "paused"/);
    await ui!.shot('query-progress-paused', { fullPage: true });
    // And the list filtered by the search attribute follows.
    await untilVisible(
      () => p.goto(listUrl(base, 'LongrlStatus="paused"')).then(() => undefined),
      () => p.getByRole('link', { name: workflowId, exact: true }),
      `${workflowId} in the list filtered by LongrlStatus="paused"`,
      30_000,
    );
    await ui!.shot('list-filtered-paused');
  });

  it('resumes the run with a `resume` Update sent from the UI; the progress Query says running', async () => {
    const p = page();
    await p.goto(workflowUrl(base, workflowId));
    await p.getByRole('heading', { name: workflowId }).waitFor();
    await sendUpdate(ui!, 'resume', { reason: 'ui test: resume from the Web UI' }, 'update-resume');
    const running = await eventually(async () => ((await progress()).status === 'running' ? await progress() : undefined), 30_000, 'progress.status = running');
    assert.deepEqual(
      running.operatorActions.map((a) => a.kind),
      ['pause', 'resume'],
    );
    await p.goto(workflowUrl(base, workflowId));
    assert.match(await runQueryInUi(p, 'progress'), /"status": "running"/);
    await ui!.shot('query-progress-running', { fullPage: true });
    // The run's Update validator speaks through the UI: a second resume is rejected, not recorded.
    await sendUpdate(ui!, 'resume', { reason: 'ui test: resume twice' }, 'update-resume-again', /cannot resume a run that is running/);
    assert.equal((await progress()).operatorActions.length, 2);
    assert.ok(fs.readdirSync(ARTIFACT_DIR).some((f) => f.endsWith('update-resume-sent.png')));
  });
});
