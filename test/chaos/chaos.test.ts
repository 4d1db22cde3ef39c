/**
 * The chaos suite (issue 7, item 1), on one dev server (SQLite file) and three worker processes
 * whose artifact store lives on a small tmpfs (for the full-disk test):
 *   - runs under SIGKILLs of the compute, judge and orchestrator workers and of the Temporal
 *     server at seeded moments, each followed by the durability checks of harness.ts. CI form:
 *     one run with a kill of each kind; LONGRL_CHAOS_FULL=1: runs until at least 20 kills;
 *   - RL steps that apply no update (dynamic sampling kept no group) are still recorded;
 *   - a corrupted checkpoint is detected and the run falls back to the previous good one;
 *   - a full disk fails the activity with DiskFullError and blocks the phase; once space is
 *     freed an operator retryPhase lets the run complete.
 * Seeds: LONGRL_CHAOS_SEED (default 20250707); each test prints its fault table.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorruptArtifactError, verifyCheckpoint } from '../../engine';
import { listTempFiles } from '../../infra/store/atomic';
import { abortUpdate, pauseUpdate, progressQuery, resumeUpdate, retryPhaseUpdate, type RunProgress } from '../../workflows/contracts';
import { tempDir } from '../support/env';
import {
  activityFailures,
  chaosSets,
  ChaosCluster,
  checkRun,
  closeOutcomes,
  faultTable,
  fillDisk,
  mountSmallFs,
  mountTmpfs,
  newestCheckpoint,
  PROC_KINDS,
  resizeTmpfs,
  runSuite,
  runUnderFaults,
  waitAtGate,
  type FaultRecord,
  type SmallFs,
} from './harness';

const FULL = process.env.LONGRL_CHAOS_FULL === '1';
const SEED = Number(process.env.LONGRL_CHAOS_SEED ?? 20250707);
const STORE_MB = 256;

/** Pause the run and wait until its phase child stands at the gate before its next step. */
async function pauseAtGate(cluster: ChaosCluster, runId: string, phase: string, reason: string): Promise<RunProgress> {
  await cluster.must((c) => c.workflow.getHandle(runId).executeUpdate(pauseUpdate, { args: [{ reason }] }), 'pause');
  return waitAtGate(cluster, runId, `${runId}--${phase}`);
}

async function resume(cluster: ChaosCluster, runId: string, reason: string): Promise<void> {
  await cluster.must((c) => c.workflow.getHandle(runId).executeUpdate(resumeUpdate, { args: [{ reason }] }), 'resume');
}

describe(`chaos suite (${FULL ? 'full' : 'CI'} form; seed ${SEED})`, function () {
  this.timeout(FULL ? 1_800_000 : 400_000);
  let cluster: ChaosCluster;
  let smallFs: SmallFs | undefined;
  let smallFsError: string | undefined;

  before(async () => {
    const dir = tempDir('chaos-suite');
    let store = path.join(dir, 'store');
    try {
      smallFs = mountSmallFs(store, STORE_MB);
    } catch (err) {
      smallFsError = (err as Error).message;
      console.log(`    [chaos] ${smallFsError}: the store stays on the normal disk and the full-disk test is skipped`);
      store = path.join(dir, 'store-plain');
    }
    cluster = await ChaosCluster.start({ label: 'suite', store });
    if (smallFs) cluster.log(`artifact store on ${smallFs.kind} at ${store}`);
  });

  after(async () => {
    await cluster?.stop();
    smallFs?.unmount();
  });

  it(FULL ? 'survives at least 20 SIGKILLs across the four process kinds with no work lost or applied twice' : 'survives a SIGKILL of each of the four process kinds with no work lost or applied twice', async () => {
    const suite = await runSuite({
      cluster,
      seed: SEED,
      minKills: FULL ? 20 : PROC_KINDS.length,
      faultsPerRun: FULL ? 8 : PROC_KINDS.length,
      maxRuns: FULL ? 6 : 3,
      sets: chaosSets({ rlSteps: FULL ? 20 : 6 }),
      schedule: FULL ? { firstAtS: [2, 5], gapS: [3, 7], restartDelayMs: [0, 4000] } : { firstAtS: [2, 4], gapS: [3, 6], restartDelayMs: [0, 2500] },
      runTimeoutMs: FULL ? 900_000 : 300_000,
    });
    console.log(`\n    fault table (${suite.kills} kills in ${suite.runs.length} run(s)):\n${faultTable(suite.rows).replace(/^/gm, '    ')}\n`);
    for (const { run, check } of suite.runs) {
      assert.deepEqual(check.problems, [], `run ${run.runId}: durability checks failed:\n  ${check.problems.join('\n  ')}`);
      assert.deepEqual(run.incidents.map((i) => i.what), [], `run ${run.runId}: unexpected incidents`);
      assert.deepEqual(check.stepIds.length, run.config.rl.phases.reduce((s, p) => s + p.steps, 0));
    }
    assert.deepEqual([...suite.kinds].sort(), [...PROC_KINDS].sort(), 'every process kind must have been killed at least once');
    if (FULL) assert.ok(suite.kills >= 20, `only ${suite.kills} kills happened`);
  });

  it('records RL steps that apply no update (no group kept) in the final checkpoint', async () => {
    // Dynamic sampling on, tiny model: no group has mixed outcomes, so the steps change no
    // weight and the model version stays put across a checkpoint interval.
    const run = await runUnderFaults({ cluster, seed: SEED + 100, sets: chaosSets({ rlSteps: 2, dynamicSampling: true }), plan: [], timeoutMs: 240_000 });
    await cluster.stopWorkers();
    const check = await checkRun(cluster.store, run.runId, run.config, run.result);
    await cluster.startWorkers();
    const noop = check.ledger.filter((r) => r.optimizerSteps === 0).map((r) => r.stepId);
    console.log(`    steps without an update: ${noop.length}/${check.ledger.length}; final checkpoint ${check.finalCheckpoint} stepIds ${JSON.stringify(check.stepIds)}`);
    assert.deepEqual(check.problems, [], `durability checks failed:\n  ${check.problems.join('\n  ')}`);
  });

  it('detects a corrupted checkpoint and falls back to the previous good one', async () => {
    const runId = `chaos-corrupt-${Date.now().toString(36)}`;
    const child = `${runId}--short`;
    const fault: FaultRecord = { n: 1, plannedS: 0, atS: null, kind: 'compute', pid: null, running: '', restartDelayMs: 0, restartMs: null, resumedAfterS: null, outcome: '', measure: 0 };
    let corrupted: string | undefined;
    let done = false;
    const onProgress = async (p: RunProgress) => {
      if (done || p.stage !== 'rl' || p.phaseIndex !== 0 || p.step < 2) return;
      done = true;
      // Stop the phase at a step boundary, so that the newest checkpoint is the one its trail ends with.
      const at = await pauseAtGate(cluster, runId, 'short', 'chaos: corrupt the newest checkpoint');
      fault.atS = Math.round(cluster.elapsedS() * 10) / 10;
      fault.running = `rl ${at.phase} step ${at.step}/${at.phaseSteps}, paused at the step gate`;
      fault.pid = await cluster.kill('compute');
      const dir = await newestCheckpoint(cluster.store, runId);
      assert.ok(dir, 'a checkpoint exists');
      const file = path.join(dir, 'model.safetensors');
      const buf = fs.readFileSync(file);
      for (let i = 0; i < 64; i++) buf[Math.floor(buf.length / 2) + i] ^= 0xff;
      fs.writeFileSync(file, buf);
      corrupted = path.relative(cluster.store, file);
      await assert.rejects(verifyCheckpoint(dir), (err: Error) => err instanceof CorruptArtifactError && /checksum mismatch/.test(err.message));
      const t = Date.now();
      const pid = await cluster.restart('compute');
      fault.restartMs = Date.now() - t;
      fault.outcome = `flipped 64 bytes of ${corrupted}; restarted as pid ${pid}`;
      await resume(cluster, runId, 'chaos: checkpoint corrupted, compute worker restarted');
    };
    const run = await runUnderFaults({ cluster, seed: SEED + 200, sets: chaosSets({ rlSteps: 6 }), plan: [], timeoutMs: 300_000, runId, onProgress });
    assert.ok(corrupted, 'the checkpoint was corrupted');
    await cluster.stopWorkers();
    const check = await checkRun(cluster.store, run.runId, run.config, run.result);
    await cluster.startWorkers();
    const failures = await activityFailures(cluster, child);
    const corrupt = failures.filter((f) => f.type === 'CorruptArtifactError');
    const short = run.result.phases.find((p) => p.name === 'short') as { rewinds?: number } | undefined;
    fault.outcome += `; detected: ${corrupt.map((f) => `${f.activity} ${f.type}`).join(', ') || 'NOT detected'}; phase short rewinds ${short?.rewinds ?? '?'}`;
    closeOutcomes([fault], check);
    console.log(`\n${faultTable([fault]).replace(/^/gm, '    ')}\n`);
    assert.ok(corrupt.length >= 1, `no CorruptArtifactError in the history of ${child}; failures: ${JSON.stringify(failures)}`);
    assert.match(corrupt[0].message, /model\.safetensors: checksum mismatch/);
    assert.ok((short?.rewinds ?? 0) >= 1, 'phase short must have rewound');
    assert.deepEqual(check.problems, [], `durability checks failed:\n  ${check.problems.join('\n  ')}`);
  });

  it('fails the activity with DiskFullError on a full disk, blocks the phase, and completes after space is freed and retryPhase', async function () {
    if (!smallFs) {
      console.log(`    skipped: ${smallFsError}`);
      this.skip();
    }
    const runId = `chaos-diskfull-${Date.now().toString(36)}`;
    const filler = path.join(cluster.store, 'chaos-filler.bin');
    // The operator's records (ledger events of pause/resume/retryPhase) on a filesystem of their
    // own: the disk that fills is the one with rollouts, scores, step ledger and checkpoints
    // (see chaos-findings.md, finding 5, for operator Updates on a full disk).
    const eventsFs = mountTmpfs(path.join(cluster.store, 'runs', runId, 'ledger', 'events'), '1m');
    let filled = 0;
    let blocked: RunProgress | undefined;
    let tempWhileBlocked: string[] = [];
    const onProgress = async (p: RunProgress) => {
      if (filled === 0 && p.stage === 'rl' && p.phaseIndex === 0 && p.step >= 1) {
        // At a step boundary, so that the next write is the next step's rollout (nothing frees space then).
        const at = await pauseAtGate(cluster, runId, 'short', 'chaos: fill the disk');
        filled = fillDisk(filler);
        cluster.log(`filled the store's filesystem with ${(filled / 2 ** 20).toFixed(1)} MB at rl ${at.phase} step ${at.step}`);
        await resume(cluster, runId, 'chaos: disk filled');
      }
    };
    const onBlocked = async (p: RunProgress) => {
      blocked = p;
      tempWhileBlocked = await listTempFiles(cluster.store);
      cluster.log(`blocked: ${p.blocked?.error}; freeing space and sending retryPhase`);
      fs.rmSync(filler, { force: true });
      await cluster.must((c) => c.workflow.getHandle(runId).executeUpdate(retryPhaseUpdate, { args: [{ reason: 'chaos: disk space freed' }] }), 'retryPhase');
    };
    let run;
    let check;
    try {
      run = await runUnderFaults({ cluster, seed: SEED + 300, sets: chaosSets({ rlSteps: 4, maxAttempts: 2 }), plan: [], timeoutMs: 300_000, runId, onProgress, onBlocked });
      fs.rmSync(filler, { force: true });
      await cluster.stopWorkers();
      check = await checkRun(cluster.store, run.runId, run.config, run.result);
      await cluster.startWorkers();
    } finally {
      fs.rmSync(filler, { force: true });
      eventsFs.unmount();
    }
    assert.ok(filled > 0, 'the disk was filled');
    assert.ok(blocked?.blocked, 'the run must have reported a blocked phase');
    console.log(`    blocked error: ${blocked.blocked.error}`);
    assert.equal(blocked.blocked.phase, 'short');
    assert.match(blocked.blocked.error, /^DiskFullError: .*: no space left on device while writing; free space under .* and retry$/);
    assert.ok(blocked.blocked.error.includes(cluster.store), `the message names a path in the store (${cluster.store})`);
    assert.deepEqual(tempWhileBlocked, [], 'a failed atomic write leaves no temp file');
    assert.deepEqual(check.problems, [], `durability checks failed:\n  ${check.problems.join('\n  ')}`);
  });

  it('lets the operator resume a paused run once a full disk has space again', async function () {
    if (!smallFs) {
      console.log(`    skipped: ${smallFsError}`);
      this.skip();
    }
    const runId = `chaos-opfull-${Date.now().toString(36)}`;
    const filler = path.join(cluster.store, 'chaos-filler.bin');
    let firstResume = '';
    const onProgress = async (p: RunProgress) => {
      if (firstResume || p.stage !== 'rl' || p.phaseIndex !== 0 || p.step < 1) return;
      await pauseAtGate(cluster, runId, 'short', 'chaos: fill the disk under a paused run');
      fillDisk(filler);
      // On a full disk the resume may be refused (its audit record cannot be written), but it must
      // not half-apply: once space is back, a resume must be accepted and reach the phase.
      firstResume = await cluster
        .tryWith(async (c) => (await c.workflow.getHandle(runId).executeUpdate(resumeUpdate, { args: [{ reason: 'chaos: resume on a full disk' }] })).status, 20_000)
        .then((s) => s ?? 'refused');
      fs.rmSync(filler, { force: true });
      const st = (await cluster.tryWith(async (c) => c.workflow.getHandle(runId).query(progressQuery)))?.status;
      cluster.log(`resume on a full disk: ${firstResume}; status after freeing space: ${st}`);
      if (st === 'paused') await resume(cluster, runId, 'chaos: space is back');
    };
    let run;
    try {
      run = await runUnderFaults({ cluster, seed: SEED + 500, sets: chaosSets({ rlSteps: 3, maxAttempts: 2 }), plan: [], timeoutMs: 120_000, runId, onProgress });
    } catch (err) {
      await cluster.tryWith((c) => c.workflow.getHandle(runId).terminate('chaos: test gave up'), 10_000);
      throw new Error(`${(err as Error).message}\n(first resume on the full disk: ${firstResume}): a resume refused on a full disk left the run unresumable`);
    } finally {
      fs.rmSync(filler, { force: true });
    }
    await cluster.stopWorkers();
    const check = await checkRun(cluster.store, run.runId, run.config, run.result);
    await cluster.startWorkers();
    assert.deepEqual(check.problems, [], `durability checks failed:\n  ${check.problems.join('\n  ')}`);
  });

  it('blocks the phase with DiskFullError (no endless rewinds) when the step ledger write fails after the update was applied', async function () {
    if (!smallFs) {
      console.log(`    skipped: ${smallFsError}`);
      this.skip();
    }
    // The run's step ledger on an 8 KB tmpfs: room for the entries of global steps 0 and 1, so
    // policyUpdate of global step 2 fails at its ledger write, after the weights have moved.
    const runId = `chaos-ledgerfull-${Date.now().toString(36)}`;
    const ledgerDir = path.join(cluster.store, 'runs', runId, 'ledger', 'steps');
    const ledgerFs = mountTmpfs(ledgerDir, '8k');
    let blocked: RunProgress | undefined;
    const onBlocked = async (p: RunProgress) => {
      blocked = p;
      resizeTmpfs(ledgerDir, '1m');
      cluster.log(`blocked: ${p.blocked?.error}; grew the ledger's filesystem to 1 MB, sending retryPhase`);
      await cluster.must((c) => c.workflow.getHandle(runId).executeUpdate(retryPhaseUpdate, { args: [{ reason: 'chaos: ledger space freed' }] }), 'retryPhase');
    };
    try {
      let run;
      try {
        run = await runUnderFaults({ cluster, seed: SEED + 400, sets: chaosSets({ rlSteps: 4, maxAttempts: 2 }), plan: [], timeoutMs: 100_000, runId, onBlocked });
      } catch (err) {
        const failures = await activityFailures(cluster, `${runId}--short`);
        const lost = failures.filter((f) => f.type === 'ModelStateLost').length;
        await cluster.tryWith((c) => c.workflow.getHandle(runId).executeUpdate(abortUpdate, { args: [{ reason: 'chaos: test gave up' }] }), 10_000);
        await cluster.tryWith((c) => c.workflow.getHandle(runId).terminate('chaos: test gave up'), 10_000);
        assert.fail(
          `${(err as Error).message}\nthe phase never blocked: ${lost} policyUpdate attempts failed with ModelStateLost (each a rewind and replay of the step) and the DiskFullError of the ledger write never reached the operator; failures: ${JSON.stringify(failures.slice(0, 4))}`,
        );
      }
      await cluster.stopWorkers();
      const check = await checkRun(cluster.store, run.runId, run.config, run.result);
      await cluster.startWorkers();
      assert.ok(blocked?.blocked, 'the run must have reported a blocked phase');
      console.log(`    blocked error: ${blocked.blocked.error}`);
      assert.match(blocked.blocked.error, /^DiskFullError: .*ledger\/steps\/000002\.json: no space left on device while writing; free space under .* and retry$/);
      assert.deepEqual(check.problems, [], `durability checks failed:\n  ${check.problems.join('\n  ')}`);
    } finally {
      ledgerFs.unmount();
    }
  });
});
