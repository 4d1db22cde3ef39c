/**
 * Stage 1, warm-up SFT (recipe.md section 1): masked next-token NLL on worked answers, in
 * chunks of optimizer steps. Each chunk is one compute activity followed by a durable
 * checkpoint, so a lost worker costs at most one chunk; a worker whose memory is behind
 * (ModelStateLost) makes the stage rewind to its last checkpoint.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { ArtifactRef, CheckpointRef, ModelExpectation } from '../activities/types';
import type { RunConfig } from '../config/schema';
import { ChildControl, parentId } from './child-control';
import type { ControlState } from './contracts';
import { failureMessage, failureType, isModelStateLost } from './failures';
import { activitiesFor } from './proxies';

export interface SftStageInput {
  readonly runId: string;
  readonly config: RunConfig;
  readonly configRef: ArtifactRef;
  readonly data: { readonly ref: ArtifactRef; readonly count: number };
  readonly model: ModelExpectation;
  readonly control: ControlState;
  readonly consumedDecision: number;
  readonly heartbeatTimeout?: string;
  /** Worker-specific compute queue holding the run's weights (worker affinity), if known. */
  readonly computeQueue?: string | null;
}

export interface SftStageResult {
  readonly model: ModelExpectation;
  readonly steps: number;
  readonly status: 'completed' | 'aborted' | 'skipped';
  readonly lossFirst: number | null;
  readonly lossLast: number | null;
  readonly consumedDecision: number;
  /** Where the weights are now (worker affinity), for the next stage. */
  readonly computeQueue: string | null;
}

/** Optimizer steps per SFT activity (and per checkpoint). */
export function sftChunkSteps(totalSteps: number): number {
  return Math.max(10, Math.ceil(totalSteps / 8));
}

export async function SftStage(input: SftStageInput): Promise<SftStageResult> {
  const { config } = input;
  const acts = activitiesFor(config, input.heartbeatTimeout, input.computeQueue ?? null);
  const ctl = new ChildControl(input.control, parentId(), input.consumedDecision);
  const totalSteps = Math.ceil(input.data.count / config.sft.batchSize) * config.sft.epochs;
  const chunk = sftChunkSteps(totalSteps);

  let model = input.model;
  // Durable points: step -> checkpoint (the stage's start is the seeded init or the input model).
  let trail: Array<{ step: number; model: ModelExpectation }> = [{ step: 0, model }];
  const durable = () => trail[trail.length - 1];
  const keep = Math.max(1, config.checkpoint.keepLast);
  let step = 0;
  let lossFirst: number | null = null;
  let lossLast: number | null = null;
  const base = { phase: 'sft', steps: totalSteps };
  const done = (status: SftStageResult['status']): SftStageResult => ({ model, steps: step, status, lossFirst, lossLast, consumedDecision: ctl.consumed, computeQueue: acts.affinity.preferred });

  while (step < totalSteps) {
    const gate = await ctl.gate({ ...base, step });
    if (gate === 'abort') return done('aborted');
    if (gate === 'skip') {
      model = durable().model;
      return done('skipped');
    }
    const toStep = Math.min(totalSteps, step + chunk);
    try {
      const r = await acts.train.sftChunk({
        expect: model,
        data: input.data.ref,
        fromStep: step,
        toStep,
        totalSteps,
        learningRate: ctl.learningRate ?? config.sft.lr,
        config: input.configRef,
      });
      lossFirst ??= r.lossFirst;
      lossLast = r.lossLast;
      model = { ...model, version: r.version };
      const ckpt: CheckpointRef = await acts.book.saveCheckpoint({ expect: model, label: `sft-${toStep}`, state: { stage: 'sft', step: toStep }, keepLast: config.checkpoint.keepLast, config: input.configRef });
      model = { ...model, checkpoint: ckpt };
      step = toStep;
      trail = [...trail, { step, model }].slice(-keep);
      await ctl.report({ ...base, step, status: 'running', sft: { step, steps: totalSteps, loss: r.lossLast } });
    } catch (err) {
      if (isModelStateLost(err) || (failureType(err) === 'CorruptArtifactError' && trail.length > 1)) {
        // The worker lost the in-memory policy and the newest checkpoint is older (or corrupt:
        // then drop it for the one before): replay from there.
        if (!isModelStateLost(err)) trail = trail.slice(0, -1);
        model = durable().model;
        step = durable().step;
        continue;
      }
      const decision = await ctl.block({ ...base, step }, { phase: 'sft', step, error: failureMessage(err), since: new Date().toISOString() });
      if (decision === 'abort') return done('aborted');
      model = durable().model;
      step = durable().step;
      if (decision === 'skip') return done('skipped');
    }
  }
  if (!model.checkpoint || model.checkpoint.version !== model.version) {
    throw ApplicationFailure.nonRetryable(`SFT of ${workflowInfo().workflowId} ended without a checkpoint of version ${model.version}`, 'InternalError');
  }
  await ctl.flush();
  return done('completed');
}
