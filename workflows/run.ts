/**
 * A training run (QwenLong-L1, recipe.md section 1): config validation, data, warm-up SFT
 * (child workflow), evaluation, one RL child workflow per curriculum phase carrying the
 * retrospective buffer from phase to phase, final evaluation and the run report.
 *
 * The run is the operator's handle: the `progress` Query, the Updates pause / resume /
 * abort / retryPhase / skipPhase / setLearningRate / setPhaseSteps (each with a reason, each
 * validated), the `Longrl*` search attributes and the memo. Control reaches the running
 * child by signal; children report progress back by signal.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  setHandler,
  startChild,
  type ChildWorkflowHandle,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DataManifest, GroupScore, ModelExpectation, ResolvedConfig, StageEval } from '../activities/types';
import { evalLengthBuckets, type RunConfig } from '../config/schema';
import { meanPassAtK } from '../recipe/algorithms/pass-at-k';
import { emptyRetroState, type RetroState } from '../recipe/curriculum/retrospective';
import {
  abortUpdate,
  childReportSignal,
  pauseUpdate,
  progressQuery,
  resumeUpdate,
  retryPhaseUpdate,
  setLearningRateUpdate,
  setPhaseStepsUpdate,
  skipPhaseUpdate,
  controlSignal,
  type BlockedInfo,
  type ControlState,
  type OperatorAction,
  type RunProgress,
  type RunStatus,
  type Stage,
  type StepMetrics,
  type TrainingRunInput,
} from './contracts';
import { failureMessage, failureType } from './failures';
import { RlPhase } from './phase';
import { activitiesFor, bootstrap, QUEUES, type RunActivities } from './proxies';
import { SftStage, sftChunkSteps } from './sft';

export interface TrainingRunResult {
  readonly runId: string;
  readonly status: RunStatus;
  readonly evals: readonly StageEval[];
  readonly reportPath: string | null;
  readonly optimizerSteps: number;
  readonly phases: ReadonlyArray<{ name: string; status: string; steps: number; rewinds: number }>;
}

const MAX_ACTIONS_SHOWN = 20;

function requireReason(r: { reason?: unknown } | undefined): void {
  if (!r || typeof r.reason !== 'string' || r.reason.trim() === '') throw new Error('a non-empty "reason" is required (it is recorded in the run history and the audit)');
}

export async function TrainingRun(input: TrainingRunInput): Promise<TrainingRunResult> {
  const runId = workflowInfo().workflowId;
  const startedAt = new Date();
  let status: RunStatus = 'starting';
  let stage: Stage = 'config';
  // Assigned once the config activity returns; handlers and queries read them before that.
  // eslint-disable-next-line prefer-const
  let config: RunConfig | undefined;
  // eslint-disable-next-line prefer-const
  let acts: RunActivities | undefined;
  let phaseIndex = -1;
  let phaseName: string | null = null;
  let phaseStep = 0;
  let globalStep = 0;
  let sftStep = 0;
  let sftSteps = 0;
  let lastMetrics: StepMetrics | null = null;
  let blocked: BlockedInfo | null = null;
  let error: string | null = null;
  let reportPath: string | null = null;
  let currentChild: string | null = null;
  let lastStepAt = Date.now();
  let stepMsEwma: number | null = null;
  const completedPhaseSteps: Record<string, number> = {};
  const actions: OperatorAction[] = [];
  const evals: StageEval[] = [];
  let control: ControlState = { paused: false, aborting: false, learningRate: null, phaseSteps: {}, decisionSeq: 0, decision: null };

  const phaseSteps = (name: string, fallback: number) => control.phaseSteps[name] ?? fallback;
  const totalRlSteps = () => (config ? config.rl.phases.reduce((s, p) => s + phaseSteps(p.name ?? '', p.steps), 0) : 0);
  const remainingSteps = () => {
    if (!config) return 0;
    let rest = Math.max(0, sftSteps - sftStep) / Math.max(1, sftChunkSteps(Math.max(1, sftSteps)));
    config.rl.phases.forEach((p, i) => {
      const n = phaseSteps(p.name ?? '', p.steps);
      if (i > phaseIndex) rest += n;
      else if (i === phaseIndex) rest += Math.max(0, n - phaseStep);
    });
    return rest;
  };

  const progress = (): RunProgress => ({
    runId,
    status,
    stage,
    phase: phaseName,
    phaseIndex,
    phaseCount: config?.rl.phases.length ?? 0,
    step: phaseStep,
    phaseSteps: config && phaseIndex >= 0 ? phaseSteps(phaseName ?? '', config.rl.phases[phaseIndex].steps) : 0,
    globalStep,
    totalSteps: totalRlSteps(),
    sftStep,
    sftSteps,
    lastMetrics,
    learningRate: control.learningRate ?? (config ? (stage === 'sft' ? config.sft.lr : config.rl.lr) : null),
    etaSeconds: stepMsEwma === null || terminal() ? null : Math.round((stepMsEwma * remainingSteps()) / 1000),
    blocked,
    evals: Object.fromEntries(evals.map((e) => [e.stage, { passAt1: e.passAt1, passAtK: e.passAtK, k: e.k }])),
    operatorActions: actions.slice(-MAX_ACTIONS_SHOWN),
    reportPath,
    error,
  });

  const searchAttributes = () => {
    upsertSearchAttributes({
      LongrlStatus: [status],
      LongrlPhase: [phaseName ?? stage],
      LongrlStep: [globalStep],
      ...(lastMetrics ? { LongrlReward: [lastMetrics.rewardMean] } : {}),
    });
  };
  const setStatus = (s: RunStatus) => {
    status = s;
    searchAttributes();
  };
  const setStage = (s: Stage, phase: string | null = null) => {
    stage = s;
    phaseName = phase;
    searchAttributes();
  };

  /** Send the control state to the running child (a child that has just ended may miss it: harmless). */
  const forward = async () => {
    if (!currentChild) return;
    await getExternalWorkflowHandle(currentChild).signal(controlSignal, control).catch(() => undefined);
  };

  /**
   * Wait for a started child while it is the target of operator control. Control that changed
   * between building the child's input and its start is sent again once it runs.
   */
  async function followChild<R>(child: ChildWorkflowHandle<(...args: any[]) => Promise<R>>, sentWith: ControlState): Promise<R> {
    currentChild = child.workflowId;
    try {
      if (control !== sentWith) await forward();
      return await child.result();
    } finally {
      currentChild = null;
    }
  }
  /**
   * Record an operator action: in the run's state (the progress Query) and the history at
   * once, and in the run ledger best-effort, so that a failing ledger write (a full disk)
   * can neither refuse an Update whose state change already happened nor strand the child.
   */
  const record = async (kind: OperatorAction['kind'], reason: string, detail?: string) => {
    const action: OperatorAction = { kind, reason, at: new Date().toISOString(), detail };
    actions.push(action);
    if (acts) {
      await acts.light
        .recordEvent({ runId, kind: `operator.${kind}`, phase: phaseName ?? stage, step: globalStep, detail: { reason, ...(detail ? { detail } : {}) }, id: `operator-${actions.length}` })
        .catch(() => undefined);
    }
  };
  const terminal = () => status === 'completed' || status === 'failed' || status === 'aborted';

  setHandler(progressQuery, progress);
  setHandler(childReportSignal, (r) => {
    if (r.sft) {
      sftStep = r.sft.step;
      sftSteps = r.sft.steps;
    } else {
      phaseStep = r.step;
    }
    if (r.metrics) {
      lastMetrics = r.metrics;
      globalStep = r.metrics.globalStep + 1;
      completedPhaseSteps[r.phase] = r.step;
    }
    if (r.status === 'running' && (r.metrics || r.sft)) {
      const now = Date.now();
      const ms = now - lastStepAt;
      lastStepAt = now;
      stepMsEwma = stepMsEwma === null ? ms : 0.7 * stepMsEwma + 0.3 * ms;
    }
    if (r.status === 'blocked') {
      blocked = r.blocked ?? null;
      setStatus('blocked');
    } else {
      if (status === 'blocked') blocked = null;
      if (!terminal()) setStatus(control.paused ? 'paused' : 'running');
    }
  });

  setHandler(
    pauseUpdate,
    async ({ reason }) => {
      control = { ...control, paused: true };
      setStatus('paused');
      await forward();
      await record('pause', reason);
      return progress();
    },
    { validator: (r) => { requireReason(r); if (status !== 'running' && status !== 'starting') throw new Error(`cannot pause a run that is ${status}`); } },
  );
  setHandler(
    resumeUpdate,
    async ({ reason }) => {
      control = { ...control, paused: false };
      setStatus(blocked ? 'blocked' : 'running');
      await forward();
      await record('resume', reason);
      return progress();
    },
    { validator: (r) => { requireReason(r); if (status !== 'paused') throw new Error(`cannot resume a run that is ${status}`); } },
  );
  setHandler(
    abortUpdate,
    async ({ reason }) => {
      control = { ...control, aborting: true };
      await forward();
      await record('abort', reason);
      return progress();
    },
    { validator: (r) => { requireReason(r); if (terminal()) throw new Error(`the run is already ${status}`); } },
  );
  setHandler(
    retryPhaseUpdate,
    async ({ reason }) => {
      control = { ...control, decisionSeq: control.decisionSeq + 1, decision: 'retry' };
      blocked = null;
      setStatus(control.paused ? 'paused' : 'running');
      await forward();
      await record('retryPhase', reason, phaseName ?? stage);
      return progress();
    },
    { validator: (r) => { requireReason(r); if (status !== 'blocked') throw new Error(`retryPhase needs a blocked phase; the run is ${status}`); } },
  );
  setHandler(
    skipPhaseUpdate,
    async ({ reason }) => {
      control = { ...control, decisionSeq: control.decisionSeq + 1, decision: 'skip' };
      blocked = null;
      if (!terminal()) setStatus(control.paused ? 'paused' : 'running');
      await forward();
      await record('skipPhase', reason, phaseName ?? stage);
      return progress();
    },
    { validator: (r) => { requireReason(r); if (terminal() || !(status === 'blocked' || stage === 'sft' || stage === 'rl')) throw new Error(`skipPhase needs a blocked stage, or a running SFT stage or RL phase; the run is ${status} in stage ${stage}`); } },
  );
  setHandler(
    setLearningRateUpdate,
    async ({ reason, lr }) => {
      control = { ...control, learningRate: lr };
      await forward();
      await record('setLearningRate', reason, `lr=${lr}`);
      return progress();
    },
    { validator: (r) => { requireReason(r); if (typeof r.lr !== 'number' || !Number.isFinite(r.lr) || r.lr <= 0 || r.lr > 1) throw new Error(`lr must be a number in (0, 1]; got ${String(r.lr)}`); if (terminal()) throw new Error(`the run is already ${status}`); } },
  );
  setHandler(
    setPhaseStepsUpdate,
    async ({ reason, phase, steps }) => {
      control = { ...control, phaseSteps: { ...control.phaseSteps, [phase]: steps } };
      await forward();
      await record('setPhaseSteps', reason, `${phase}=${steps}`);
      return progress();
    },
    {
      validator: (r) => {
        requireReason(r);
        if (!config) throw new Error('the run config is not resolved yet; try again in a moment');
        const names = config.rl.phases.map((p) => p.name ?? '');
        if (!names.includes(r.phase)) throw new Error(`unknown phase '${r.phase}'; phases: ${names.join(', ')}`);
        if (!Number.isInteger(r.steps) || r.steps < 1) throw new Error(`steps must be an integer >= 1; got ${String(r.steps)}`);
        const done = completedPhaseSteps[r.phase] ?? 0;
        if (r.steps < done) throw new Error(`phase '${r.phase}' has already completed ${done} steps; steps must be >= ${done}`);
        if (terminal()) throw new Error(`the run is already ${status}`);
      },
    },
  );

  /**
   * A run-level stage (data, evaluation, report) that keeps failing blocks the run like a
   * phase does (architecture.md, invariant 5): the operator retries it, skips it or aborts.
   */
  async function blockable<T>(label: string, fn: () => Promise<T>): Promise<{ value: T } | 'skipped' | 'aborted'> {
    for (;;) {
      try {
        return { value: await fn() };
      } catch (err) {
        if (isCancellation(err) || failureType(err) === 'InvalidConfig') throw err;
        const seq = control.decisionSeq;
        blocked = { phase: label, step: globalStep, error: `${failureType(err) ?? 'Error'}: ${failureMessage(err)}`, since: new Date().toISOString() };
        setStatus('blocked');
        await condition(() => control.decisionSeq > seq || control.aborting);
        blocked = null;
        if (control.aborting) return 'aborted';
        if (!terminal()) setStatus(control.paused ? 'paused' : 'running');
        if (control.decision === 'skip') return 'skipped';
      }
    }
  }

  const gate = async () => {
    await condition(() => !control.paused || control.aborting);
    return !control.aborting;
  };

  const finish = async (s: RunStatus, phases: TrainingRunResult['phases'], optimizerSteps: number): Promise<TrainingRunResult> => {
    setStage('done');
    setStatus(s);
    // Let an Update that ended the run (abort) return its answer before the run closes.
    await condition(allHandlersFinished);
    return { runId, status: s, evals, reportPath, optimizerSteps, phases };
  };

  upsertSearchAttributes({ LongrlStatus: ['starting'], LongrlPhase: ['config'], LongrlStep: [0], LongrlConfig: [input.configSource ?? 'ui'] });

  // 1. Config: validated by an activity so that a bad UI input fails the run with the paths at fault.
  let resolved: ResolvedConfig;
  try {
    resolved = await bootstrap.resolveRunConfig({ runId, raw: input.config, source: input.configSource });
  } catch (err) {
    error = failureMessage(err);
    setStatus('failed');
    throw ApplicationFailure.nonRetryable(error.startsWith('invalid run config') ? error : `invalid run config: ${error}`, 'InvalidConfig');
  }
  config = resolved.config;
  const cfg = config;
  upsertMemo({ config: resolved.summary, configHash: resolved.hash, configSource: input.configSource ?? 'ui' });
  upsertSearchAttributes({ LongrlConfig: [`${input.configSource ?? 'ui'}:${resolved.hash}`] });
  acts = activitiesFor(cfg, input.testHooks?.heartbeatTimeout);
  const a = acts;
  setStatus(control.paused ? 'paused' : 'running');

  const phaseResults: Array<{ name: string; status: string; steps: number; firstGlobalStep: number; lastGlobalStep: number; rewinds: number }> = [];
  let model: ModelExpectation = { runId, version: 0, stepCount: 0, checkpoint: null };
  let manifest: DataManifest;

  /** Held-out evaluation; a stage that stays blocked and is skipped records no result. */
  async function evaluate(stageName: string): Promise<'aborted' | undefined> {
    const out = await blockable(`eval-${stageName}`, async () => {
      const r = await a.train.evalRollout({ expect: model, heldout: manifest.heldout.ref, stage: stageName, key: `runs/${runId}/eval/${stageName}/rollout.json`, config: resolved.ref });
      const s = await a.judge.scoreRollout({ rollout: r.ref, key: `runs/${runId}/eval/${stageName}/scores.json`, config: resolved.ref, shaping: false });
      return summarizeEval(stageName, s.groups, cfg);
    });
    if (out === 'aborted') return 'aborted';
    if (out !== 'skipped') evals.push(out.value);
    return undefined;
  }

  try {
    // 2. Data (synthetic generator or files), tokenizer, phase pools.
    setStage('data');
    const prepared = await blockable('data', () => a.book.prepareData({ runId, config: resolved.ref }));
    if (prepared === 'aborted') return finish('aborted', phaseResults, model.version);
    if (prepared === 'skipped') throw ApplicationFailure.nonRetryable('the data stage was skipped: a run cannot train without data', 'DataError');
    manifest = prepared.value;

    // 3. Warm-up SFT.
    if (cfg.sft.enabled && manifest.sft && (await gate())) {
      setStage('sft', 'sft');
      sftSteps = Math.ceil(manifest.sft.count / cfg.sft.batchSize) * cfg.sft.epochs;
      lastStepAt = Date.now();
      const sftControl = control;
      const sftChild = await startChild(SftStage, {
        workflowId: `${runId}--sft`,
        taskQueue: QUEUES.orchestrator,
        args: [{ runId, config: cfg, configRef: resolved.ref, data: manifest.sft, model, control: sftControl, consumedDecision: control.decisionSeq, heartbeatTimeout: input.testHooks?.heartbeatTimeout, computeQueue: a.affinity.preferred }],
      });
      const sft = await followChild(sftChild, sftControl);
      model = sft.model;
      a.affinity.prefer(sft.computeQueue);
      phaseResults.push({ name: 'sft', status: sft.status, steps: sft.steps, firstGlobalStep: 0, lastGlobalStep: 0, rewinds: 0 });
      if (sft.status === 'aborted') return finish('aborted', phaseResults, model.version);
    }

    if (!(await gate())) return finish('aborted', phaseResults, model.version);
    setStage('eval-sft', 'eval-sft');
    if ((await evaluate('sft')) === 'aborted') return finish('aborted', phaseResults, model.version);

    // 4. Curriculum RL phases, the retrospective buffer carried from phase to phase.
    let retro: RetroState = emptyRetroState();
    for (let k = 0; k < cfg.rl.phases.length; k++) {
      if (!(await gate())) return finish('aborted', phaseResults, model.version);
      const phase = cfg.rl.phases[k];
      const name = phase.name ?? `phase-${k + 1}`;
      phaseIndex = k;
      phaseStep = 0;
      setStage('rl', name);
      lastStepAt = Date.now();
      const point = { step: 0, globalStep, cursor: 0, retro, model };
      const phaseControl = control;
      const phaseChild = await startChild(RlPhase, {
        workflowId: `${runId}--${name}`,
        taskQueue: QUEUES.orchestrator,
        args: [{ runId, phaseIndex: k, phase, config: cfg, configRef: resolved.ref, items: manifest.rlItems, pool: manifest.phases[k].ids, control: phaseControl, consumedDecision: control.decisionSeq, heartbeatTimeout: input.testHooks?.heartbeatTimeout, at: point, trail: [point], firstGlobalStep: globalStep, rewinds: 0, computeQueue: a.affinity.preferred }],
      });
      const res = await followChild(phaseChild, phaseControl);
      model = res.model;
      a.affinity.prefer(res.computeQueue);
      retro = res.retro;
      globalStep = res.lastGlobalStep;
      phaseResults.push({ name, status: res.status, steps: res.steps, firstGlobalStep: res.firstGlobalStep, lastGlobalStep: res.lastGlobalStep, rewinds: res.rewinds });
      await a.light.recordEvent({ runId, kind: 'phase.end', phase: name, step: res.lastGlobalStep, detail: { status: res.status, steps: res.steps, rewinds: res.rewinds, retroBuffer: retro.entries.length, retroAddedThisPhase: res.retroAdded, retroIds: retro.entries.slice(0, 50).map((e) => e.id) }, id: `phase-end-${name}` });
      if (res.status === 'aborted') return finish('aborted', phaseResults, model.version);
    }
    phaseIndex = -1;

    // 5. Final evaluation and the report.
    if (!(await gate())) return finish('aborted', phaseResults, model.version);
    setStage('eval-final', 'eval-final');
    if ((await evaluate('final')) === 'aborted') return finish('aborted', phaseResults, model.version);
    setStage('report', 'report');
    const report = await blockable('report', () => a.light.writeReport({
      runId,
      config: cfg,
      evals,
      phases: phaseResults.filter((p) => p.name !== 'sft').map((p) => ({ name: p.name, status: p.status as 'completed' | 'skipped' | 'aborted', steps: p.steps })),
      startedAt: startedAt.toISOString(),
      configHash: resolved.hash,
      configSource: input.configSource ?? 'ui',
      status: 'completed',
      sftOptimizerSteps: phaseResults.find((p) => p.name === 'sft')?.steps ?? 0,
      notes: actions.map((x) => `${x.at} ${x.kind}${x.detail ? ` (${x.detail})` : ''}: ${x.reason}`),
    }));
    if (report === 'aborted') return finish('aborted', phaseResults, model.version);
    if (report !== 'skipped') reportPath = report.value.reportPath;
    return finish('completed', phaseResults, model.version);
  } catch (err) {
    if (isCancellation(err)) {
      setStatus('aborted');
      throw err;
    }
    error = `${failureType(err) ?? 'Error'}: ${failureMessage(err)}`;
    setStatus('failed');
    throw ApplicationFailure.nonRetryable(`run ${runId} failed in stage ${stage}${phaseName ? ` (${phaseName})` : ''}: ${error}`, 'RunFailed');
  }
}

/** pass@1 and pass@k per length bucket (recipe.md section 6) from per-item groups. */
export function summarizeEval(stage: string, groups: readonly GroupScore[], config: RunConfig): StageEval {
  const k = config.eval.k;
  const buckets = evalLengthBuckets(config);
  const perBucket: StageEval['perBucket'] = {};
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    const last = i === buckets.length - 1;
    const inB = groups.filter((g) => g.inputTokens > b.lo && (g.inputTokens <= b.hi || last));
    const items = inB.map((g) => ({ n: g.n, c: g.correct }));
    perBucket[b.name] = { n: items.length, passAt1: items.length ? meanPassAtK(items, 1) : 0, passAtK: items.length ? meanPassAtK(items, k) : 0 };
  }
  const all = groups.map((g) => ({ n: g.n, c: g.correct }));
  return { stage, k, passAt1: all.length ? meanPassAtK(all, 1) : 0, passAtK: all.length ? meanPassAtK(all, k) : 0, perBucket };
}
