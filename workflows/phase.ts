/**
 * Stage 2, one curriculum phase of RL (recipe.md sections 1-5). One step, as data flows
 * (architecture.md):
 *   batch  = pickBatch(pool, retroBuffer, seed(run, phase, step))          here, pure
 *   gen    = rollout(model, batch, G)            compute queue
 *   scores = scoreRollout(gen)                   judge queue
 *   kept   = dynamic sampling (loop back to rollout until enough groups)   here, pure
 *   upd    = policyUpdate(model, gen, scores, kept)    compute queue
 *   retro  = recordRollouts(retro, scores)                                 here, pure
 *   every `checkpointEvery` steps and at the end: checkpoint
 * The workflow continues as new every `continueAsNewEvery` steps (or when suggested),
 * carrying only small state. ModelStateLost rewinds to the last checkpoint (with the batch
 * cursor and buffer kept beside it); a step that keeps failing blocks the phase until an
 * operator retries or skips it.
 */
import { ApplicationFailure, continueAsNew, workflowInfo } from '@temporalio/workflow';
import type { ArtifactRef, GenerationBatchPlan, GroupScore, ModelExpectation, RolloutResult, ScoreResult } from '../activities/types';
import type { PhaseConfig, RunConfig } from '../config/schema';
import { addGenerationBatch, filteredFraction, initialDynamicSamplingState, type DynamicSamplingDecision } from '../recipe/algorithms/dynamic-sampling';
import { pickBatch } from '../recipe/curriculum/batch';
import { DynamicSamplingExhaustedError } from '../recipe/errors';
import { recordRollouts, type RetroState, type RetrospectiveConfig } from '../recipe/curriculum/retrospective';
import { stepSeed } from '../recipe/rng';
import { ChildControl, parentId } from './child-control';
import type { ControlState, StepMetrics } from './contracts';
import { failureMessage, failureType, isModelStateLost } from './failures';
import { activitiesFor, fuseGeneration, type RunActivities } from './proxies';

/** The small state a phase keeps beside each checkpoint, to rewind to it. */
export interface PhaseDurablePoint {
  readonly step: number;
  readonly globalStep: number;
  readonly cursor: number;
  readonly retro: RetroState;
  readonly model: ModelExpectation;
}

export interface RlPhaseInput {
  readonly runId: string;
  readonly phaseIndex: number;
  readonly phase: PhaseConfig;
  readonly config: RunConfig;
  readonly configRef: ArtifactRef;
  readonly items: ArtifactRef;
  readonly pool: readonly string[];
  readonly control: ControlState;
  readonly consumedDecision: number;
  readonly heartbeatTimeout?: string;
  /** Where this (continued) execution starts; at phase start: step 0 and the run's state. */
  readonly at: PhaseDurablePoint;
  /** Durable points (checkpoints) of the phase, oldest first; the last is the newest. */
  readonly trail: readonly PhaseDurablePoint[];
  readonly firstGlobalStep: number;
  readonly rewinds: number;
  /** Worker-specific compute queue holding the run's weights (worker affinity), if known. */
  readonly computeQueue?: string | null;
}

export interface RlPhaseResult {
  readonly model: ModelExpectation;
  readonly retro: RetroState;
  readonly steps: number;
  readonly firstGlobalStep: number;
  readonly lastGlobalStep: number;
  readonly status: 'completed' | 'skipped' | 'aborted';
  readonly consumedDecision: number;
  readonly rewinds: number;
  readonly retroAdded: number;
  /** Where the weights are now (worker affinity), for the next stage. */
  readonly computeQueue: string | null;
}

/** Rewinds in a row that do not get past the furthest step before the phase blocks. */
const MAX_REWINDS_WITHOUT_PROGRESS = 5;

export function retroConfig(config: RunConfig): RetrospectiveConfig {
  const r = config.retrospective;
  return { enabled: r.enabled, fraction: r.fraction, threshold: r.accuracyThreshold, eps: r.eps, cap: r.maxItems };
}

interface StepOutcome {
  readonly version: number;
  readonly metrics: StepMetrics;
  readonly groups: readonly GroupScore[];
  readonly cursor: number;
}

/** One RL step: batch, rollouts and scores until dynamic sampling has enough groups, update. */
async function runStep(input: RlPhaseInput, acts: RunActivities, model: ModelExpectation, p: PhaseDurablePoint, lr: number): Promise<StepOutcome> {
  const { config, runId, phaseIndex } = input;
  const name = input.phase.name ?? `phase-${phaseIndex + 1}`;
  const batch = pickBatch({
    runSeed: config.run.seed,
    phase: phaseIndex,
    step: p.step,
    pool: input.pool,
    batchSize: config.rl.trainBatchSize,
    cursor: p.cursor,
    retro: p.retro,
    retrospective: retroConfig(config),
  });
  const ds = config.rl.dynamicSampling;
  type Kept = GroupScore & { id: string; metric: readonly number[]; gen: number; index: number };
  let state = initialDynamicSamplingState<Kept>();
  const gens: Array<{ rollout: RolloutResult; scores: ScoreResult }> = [];
  const allGroups: GroupScore[] = [];
  const trainOnPartial = ds.onExhausted === 'train-on-available';
  const filter = { enabled: ds.enabled, trainBatchSize: config.rl.trainBatchSize, maxNumGenBatches: ds.maxNumGenBatches, trainOnPartial };
  // Generation batch 0 is the picked batch (with its retrospective share); later ones
  // continue the phase's pool stream from the cursor. Plans are pure, so planning ahead
  // (for fused generation) draws exactly what generating one at a time would.
  const plans: Array<GenerationBatchPlan & { cursor: number }> = [];
  const plan = (gen: number) => {
    while (plans.length <= gen) {
      const g = plans.length;
      const picked = g === 0 ? batch : pickBatch({ runSeed: config.run.seed, phase: phaseIndex, step: p.step, pool: input.pool, batchSize: config.rl.trainBatchSize, cursor: plans[g - 1].cursor, retro: p.retro, retrospective: { enabled: false } });
      plans.push({
        itemIds: picked.ids,
        retroIds: picked.fromBuffer,
        seed: stepSeed(config.run.seed, phaseIndex, p.step, `rollout-${g}`),
        key: `runs/${runId}/rollouts/${name}/step-${String(p.step).padStart(5, '0')}/gen-${g}`,
        cursor: picked.cursor,
      });
    }
    return plans[gen];
  };
  const sampling = {
    groupSize: config.rl.groupSize,
    temperature: config.sampling.temperature,
    topP: config.sampling.topP,
    topK: config.sampling.topK,
    maxResponseTokens: config.sampling.maxResponseTokens,
    maxInputTokens: input.phase.maxInputTokens,
  };
  const fused = fuseGeneration(config);
  let decision: DynamicSamplingDecision<Kept> | undefined;
  while (decision?.action !== 'train') {
    const next = gens.length;
    let produced: Array<{ rollout: RolloutResult; scores: ScoreResult }>;
    if (fused) {
      // Every batch this step may still need, generated and scored on the compute worker
      // until enough groups are kept; the DAPO decision below is replayed here all the same.
      const last = !ds.enabled ? next : ds.maxNumGenBatches > 0 ? ds.maxNumGenBatches - 1 : next + 3;
      const planned = Array.from({ length: Math.max(1, last - next + 1) }, (_, i) => plan(next + i)).map(({ cursor: _c, ...b }) => b);
      const out = await acts.train.generateScored({
        expect: model,
        items: input.items,
        batches: planned,
        ...sampling,
        shaping: config.rl.overlong.enabled,
        stopWhenKept: config.rl.trainBatchSize - state.kept.length,
        filter: ds.enabled,
        config: input.configRef,
      });
      produced = [...out.batches];
    } else {
      const b = plan(next);
      const rollout = await acts.train.rollout({ expect: model, items: input.items, itemIds: b.itemIds, retroIds: b.retroIds, ...sampling, seed: b.seed, key: `${b.key}/rollout.json`, config: input.configRef });
      const scores = await acts.judge.scoreRollout({ rollout: rollout.ref, key: `${b.key}/scores.json`, config: input.configRef, shaping: config.rl.overlong.enabled });
      produced = [{ rollout, scores }];
    }
    if (produced.length === 0) throw ApplicationFailure.nonRetryable(`step ${p.step} of ${name}: generation returned no batch`, 'InternalError');
    for (const { rollout, scores } of produced) {
      const gen = gens.length;
      gens.push({ rollout, scores });
      allGroups.push(...scores.groups);
      const groups = scores.groups.map((g, index) => ({ ...g, id: `${gen}:${index}`, metric: g.accuracies, gen, index }));
      try {
        decision = addGenerationBatch(state, groups, filter);
      } catch (err) {
        if (!(err instanceof DynamicSamplingExhaustedError)) throw err;
        // No group had mixed outcomes in maxNumGenBatches batches.
        if (!trainOnPartial) throw ApplicationFailure.nonRetryable(err.message, 'DynamicSamplingExhausted');
        // train-on-available with nothing kept: the step records its rollouts and applies no update.
        state = { ...state, genBatches: state.genBatches + 1, seen: state.seen + groups.length, dropped: state.dropped + groups.length };
        decision = { action: 'train', groups: [], partial: true, state };
      }
      state = decision.state;
      if (decision.action === 'train') break; // later batches of a fused call (none, normally) are not used
    }
  }
  const cursor = plans[gens.length - 1].cursor;
  const kept = decision.groups;
  const upd = await acts.train.policyUpdate({
    expect: model,
    runId,
    phase: name,
    step: p.step,
    globalStep: p.globalStep,
    batches: gens.map((g, gen) => ({ rollout: g.rollout.ref, scores: g.scores.ref, keep: kept.filter((k) => k.gen === gen).map((k) => k.index) })),
    learningRate: lr,
    genBatches: gens.length,
    filteredFraction: filteredFraction(state),
    retroIds: batch.fromBuffer,
    config: input.configRef,
  });
  return { version: upd.version, metrics: upd.metrics, groups: allGroups, cursor };
}

export async function RlPhase(input: RlPhaseInput): Promise<RlPhaseResult> {
  const { config, runId, phaseIndex } = input;
  const name = input.phase.name ?? `phase-${phaseIndex + 1}`;
  const acts = activitiesFor(config, input.heartbeatTimeout, input.computeQueue ?? null);
  const ctl = new ChildControl(input.control, parentId(), input.consumedDecision);
  let at = input.at;
  // Checkpoints we can rewind to, newest last; a corrupt one is dropped for the one before it.
  let trail = [...input.trail];
  const durable = () => trail[trail.length - 1];
  const keep = Math.max(1, config.checkpoint.keepLast);
  let rewinds = input.rewinds;
  let retroAdded = 0;
  let stepsThisRun = 0;
  let furthest = at.step;
  let rewindsWithoutProgress = 0;
  const steps = () => ctl.phaseSteps(name, input.phase.steps);
  const base = () => ({ phase: name, steps: steps() });
  const result = (status: RlPhaseResult['status'], p: PhaseDurablePoint): RlPhaseResult => ({
    model: p.model,
    retro: p.retro,
    steps: p.step,
    firstGlobalStep: input.firstGlobalStep,
    lastGlobalStep: p.globalStep,
    status,
    consumedDecision: ctl.consumed,
    rewinds,
    retroAdded,
    computeQueue: acts.affinity.preferred,
  });

  while (at.step < steps()) {
    const gate = await ctl.gate({ ...base(), step: at.step });
    if (gate === 'abort') return result('aborted', at);
    if (gate === 'skip') return result('skipped', durable());
    try {
      const out = await runStep(input, acts, at.model, at, ctl.learningRate ?? config.rl.lr);
      const before = at.retro.entries.length;
      const retro = recordRollouts(at.retro, { phase: phaseIndex, step: at.step, results: out.groups.map((g) => ({ id: g.itemId, accuracies: g.accuracies })) }, retroConfig(config));
      retroAdded += Math.max(0, retro.entries.length - before);
      at = { step: at.step + 1, globalStep: at.globalStep + 1, cursor: out.cursor, retro, model: { ...at.model, version: out.version, stepCount: at.model.stepCount + 1 } };
      if (at.step % config.rl.checkpointEvery === 0 || at.step >= steps()) {
        const ckpt = await acts.book.saveCheckpoint({
          expect: at.model,
          label: `${name}-${at.step}`,
          state: { phase: name, step: at.step, globalStep: at.globalStep, cursor: at.cursor, retroItems: at.retro.entries.length },
          keepLast: config.checkpoint.keepLast,
          config: input.configRef,
        });
        at = { ...at, model: { ...at.model, checkpoint: ckpt } };
        trail = [...trail, at].slice(-keep);
      }
      await ctl.report({ ...base(), step: at.step, status: 'running', metrics: out.metrics });
      stepsThisRun++;
      if (at.step > furthest) {
        furthest = at.step;
        rewindsWithoutProgress = 0;
      }
    } catch (err) {
      const type = failureType(err);
      // Rewinds that make no progress (the same step failing again after each) end in `blocked`.
      const stuck = rewindsWithoutProgress >= MAX_REWINDS_WITHOUT_PROGRESS;
      if (isModelStateLost(err) && !stuck) {
        rewinds++;
        rewindsWithoutProgress++;
        at = durable();
        continue;
      }
      if (type === 'CorruptArtifactError' && trail.length > 1 && !stuck) {
        rewindsWithoutProgress++;
        // The newest checkpoint is corrupt: fall back to the previous good one and replay.
        rewinds++;
        trail = trail.slice(0, -1);
        at = durable();
        continue;
      }
      const decision = await ctl.block(
        { ...base(), step: at.step },
        { phase: name, step: at.step, error: `${type ? `${type}: ` : ''}${failureMessage(err)}`, since: new Date().toISOString() },
      );
      if (decision === 'abort') return result('aborted', durable());
      if (decision === 'skip') return result('skipped', durable());
      rewindsWithoutProgress = 0;
      at = durable(); // retry the phase from its last checkpoint
      continue;
    }
    if (at.step < steps() && (stepsThisRun >= config.rl.continueAsNewEvery || workflowInfo().continueAsNewSuggested)) {
      await ctl.flush();
      await continueAsNew<typeof RlPhase>({ ...input, control: ctl.state, consumedDecision: ctl.consumed, at, trail, rewinds, computeQueue: acts.affinity.preferred });
    }
  }
  if (!at.model.checkpoint || at.model.checkpoint.version !== at.model.version) {
    throw ApplicationFailure.nonRetryable(`phase ${name} of ${runId} ended without a checkpoint of version ${at.model.version}`, 'InternalError');
  }
  await ctl.flush();
  return result('completed', at);
}
