/**
 * Compute-queue activities (the GPU/CPU workers): warm-up SFT chunks, rollouts, policy
 * updates, checkpoints and evaluation rollouts. Each is idempotent, keyed by its store key
 * or (run, phase, step); each names the model version it expects (engine-state.ts); long
 * ones heartbeat and honour cancellation between micro-batches.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { RunConfig } from '../config/schema';
import { formatChat, type PgSequence, type SequenceInput, type TextTokenizer } from '../engine';
import { getAdvantageEstimator } from '../recipe/algorithms/advantages';
import { truncateItemToBudget } from '../recipe/data/truncate';
import { deriveSeed, Rng } from '../recipe/rng';
import type { RecipeItem } from '../recipe/data/types';
import { promptText, type ItemsFile, type PreparedItem } from './data';
import type { ComputeEngine } from './engine-state';
import { withHeartbeats } from './heartbeat';
import { ledgerKeys, type StepRecord } from './ledger';
import type { RolloutFile, RolloutGroup, ScoresFile } from './rollout-format';
import { keepGroup } from '../recipe/algorithms/dynamic-sampling';
import type {
  CheckpointInput,
  GenerateScoredInput,
  GenerateScoredResult,
  RolloutSampling,
  ScoreInput,
  ScoreResult,
  CheckpointRef,
  EvalInput,
  RolloutInput,
  RolloutResult,
  SftChunkInput,
  SftChunkResult,
  UpdateInput,
  UpdateResult,
} from './types';
import type { StepMetrics } from '../workflows/contracts';

/** Prompt token ids of an item inside a budget (middle truncation of the document, recipe.md 6). */
export function encodePrompt(tokenizer: TextTokenizer, item: RecipeItem, budget: number): number[] {
  const chatOverhead = tokenizer.countTokens(formatChat([{ role: 'user', content: '' }]));
  const { item: cut } = truncateItemToBudget(item, Math.max(1, budget - chatOverhead), (t) => tokenizer.countTokens(t));
  const ids = tokenizer.encode(promptText(cut));
  if (ids.length <= budget) return ids;
  // Tokenizers that are not additive over the template: cut the ids themselves, keeping both ends.
  const head = Math.floor(budget / 2);
  return [...ids.slice(0, head), ...ids.slice(ids.length - (budget - head))];
}

function optimizerOf(c: { lr: number; weightDecay: number; gradClip: number }, rl?: RunConfig['rl']) {
  return { lr: c.lr, weightDecay: c.weightDecay, maxGradNorm: c.gradClip, beta1: rl?.betas[0] ?? 0.9, beta2: rl?.betas[1] ?? 0.999, eps: rl?.eps ?? 1e-8 };
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);

export function createComputeActivities(deps: {
  engine: ComputeEngine;
  /** Rule-only scoring of a rollout, for fused generation (the reward activity, without a judge). */
  scoreRuleOnly?: (input: ScoreInput) => Promise<ScoreResult>;
}) {
  const { engine } = deps;
  const { store } = engine;

  async function itemsById(ref: RolloutInput['items']): Promise<Map<string, PreparedItem>> {
    const file = await engine.cachedJson<ItemsFile & { byId?: Map<string, PreparedItem> }>(ref);
    file.byId ??= new Map(file.items.map((i) => [i.id, i]));
    return file.byId;
  }

  /** One generation batch of RL items (by id), as `rollout` and `generateScored` draw them. */
  async function rolloutItems(activity: string, config: RunConfig, input: RolloutSampling & { expect: RolloutInput['expect']; items: RolloutInput['items'] }, plan: { itemIds: readonly string[]; retroIds: readonly string[]; seed: number; key: string }): Promise<RolloutResult> {
    const byId = await itemsById(input.items);
    const items = plan.itemIds.map((id) => {
      const it = byId.get(id);
      if (!it) throw ApplicationFailure.nonRetryable(`${activity}: item '${id}' is not in ${input.items.key}`, 'DataError');
      return it;
    });
    return generateGroups({
      expect: input.expect,
      config,
      items,
      retro: new Set(plan.retroIds),
      G: input.groupSize,
      temperature: input.temperature,
      topP: input.topP,
      topK: input.topK,
      maxResponseTokens: input.maxResponseTokens,
      maxInputTokens: input.maxInputTokens,
      seed: plan.seed,
      key: plan.key,
    });
  }

  /** Generate G samples for each item and write the rollout artifact. */
  async function generateGroups(args: {
    expect: RolloutInput['expect'];
    config: RunConfig;
    items: PreparedItem[];
    retro: ReadonlySet<string>;
    G: number;
    temperature: number;
    topP: number;
    topK: number;
    maxResponseTokens: number;
    maxInputTokens: number;
    seed: number;
    key: string;
  }): Promise<RolloutResult> {
    const start = Date.now();
    const existing = await store.tryRead(args.key);
    if (existing) {
      const file = JSON.parse(existing.data.toString('utf8')) as RolloutFile;
      if (file.modelVersion === args.expect.version) return summarizeRollout(existing.ref, file, Date.now() - start);
    }
    const { host } = await engine.ensure(args.expect, args.config);
    const manifest = await engine.dataManifest(args.expect.runId);
    const tokenizer = await engine.tokenizer(manifest.tokenizer);
    const prompts = args.items.map((it) => encodePrompt(tokenizer, it, args.maxInputTokens));
    let phase = 'generate';
    const gen = await withHeartbeats(
      (signal) =>
        host.generate(
          { prompts, samplesPerPrompt: args.G, maxNewTokens: args.maxResponseTokens, sampling: { temperature: args.temperature, topP: args.topP, topK: args.topK }, seed: args.seed, stopTokens: tokenizer.stopIds },
          { signal },
        ),
      () => ({ phase, items: args.items.length }),
    );
    phase = 'write';
    const groups: RolloutGroup[] = args.items.map((it, p) => ({
      itemId: it.id,
      dataSource: it.data_source,
      question: it.question,
      answer: it.answer,
      aliases: it.aliases,
      promptTokens: prompts[p],
      inputTokens: it.promptTokens,
      fromRetro: args.retro.has(it.id),
      samples: gen.samples
        .filter((s) => s.promptIndex === p)
        .sort((a, b) => a.sampleIndex - b.sampleIndex)
        .map((s) => ({ tokens: s.tokens, logprobs: s.logprobs, text: tokenizer.decode(s.tokens, { skipSpecial: true }), finish: s.finishReason })),
    }));
    const file: RolloutFile = { format: 'longrl.rollout/1', runId: args.expect.runId, modelVersion: args.expect.version, temperature: args.temperature, maxResponseTokens: args.maxResponseTokens, groups };
    const ref = await store.putJson(args.key, file);
    return summarizeRollout(ref, file, Date.now() - start);
  }

  function summarizeRollout(ref: RolloutResult['ref'], file: RolloutFile, wallMs: number): RolloutResult {
    const samples = file.groups.flatMap((g) => g.samples);
    return { ref, responses: samples.length, meanResponseLength: mean(samples.map((s) => s.tokens.length)), truncated: samples.filter((s) => s.finish === 'length').length, wallMs };
  }

  return {
    /** Optimizer steps [fromStep, toStep) of warm-up SFT (masked next-token NLL on worked answers). */
    async sftChunk(input: SftChunkInput): Promise<SftChunkResult> {
      const start = Date.now();
      const config = await engine.loadConfig(input.config);
      const ctx = Context.current();
      // Resume inside the chunk when this worker still holds the weights of the last heartbeat.
      const hb = ctx.info.heartbeatDetails as { step: number; version: number; lossFirst: number } | undefined;
      let expect = input.expect;
      let step = input.fromStep;
      const r = engine.residentState;
      if (hb && r && r.runId === expect.runId && r.version === hb.version && hb.step > step) {
        expect = { ...expect, version: hb.version };
        step = hb.step;
      }
      const { host } = await engine.ensure(expect, config);
      const manifest = await engine.dataManifest(expect.runId);
      const tokenizer = await engine.tokenizer(manifest.tokenizer);
      const items = (await engine.cachedJson<ItemsFile>(input.data)).items;
      const sft = config.sft;
      const stepsPerEpoch = Math.ceil(items.length / sft.batchSize);
      const stop = tokenizer.stopIds[0];
      const perms = new Map<number, PreparedItem[]>();
      let version = expect.version;
      let lossFirst = hb?.lossFirst ?? NaN;
      let lossLast = NaN;
      let tokens = 0;
      try {
        for (; step < input.toStep; step++) {
          const epoch = Math.floor(step / stepsPerEpoch);
          let perm = perms.get(epoch);
          if (!perm) {
            perm = new Rng(deriveSeed(config.run.seed, 'sft', epoch)).shuffle(items);
            perms.set(epoch, perm);
          }
          const batch = perm.slice((step % stepsPerEpoch) * sft.batchSize, (step % stepsPerEpoch + 1) * sft.batchSize);
          const seqs: SequenceInput[] = batch.map((it) => {
            const response = [...tokenizer.encode(it.sft_response ?? `Therefore, the answer is ${it.answer}.`).slice(0, sft.maxResponseTokens - 1), stop];
            return { prompt: encodePrompt(tokenizer, it, sft.maxInputTokens), response };
          });
          const m = await host.trainStep(
            { objective: 'sft', microBatches: chunks(seqs, sft.microBatchSize), optimizer: optimizerOf({ ...sft, lr: input.learningRate }, config.rl) },
            { signal: ctx.cancellationSignal },
          );
          if (!Number.isFinite(m.loss) || !m.updated) {
            engine.invalidate();
            throw ApplicationFailure.nonRetryable(`SFT step ${step}: loss ${m.loss}, grad norm ${m.gradNorm}: not finite; lower sft.lr or check the data`, 'NonFiniteLoss');
          }
          version = m.version;
          engine.advance(expect.runId, version);
          if (Number.isNaN(lossFirst)) lossFirst = m.loss;
          lossLast = m.loss;
          tokens += m.tokens;
          ctx.heartbeat({ step: step + 1, version, lossFirst });
        }
      } catch (err) {
        if (ctx.cancellationSignal.aborted) engine.invalidate();
        throw err;
      }
      return { version, lossFirst, lossLast, tokens, wallMs: Date.now() - start };
    },

    /** G samples per prompt of one generation batch (architecture.md: rollout). */
    async rollout(input: RolloutInput): Promise<RolloutResult> {
      return rolloutItems('rollout', await engine.loadConfig(input.config), input, input);
    },

    /**
     * Fused generation for rule-only rewards: rollout + rule scoring of each planned batch in
     * turn, stopping as soon as dynamic sampling has enough kept groups. Saves the two
     * activity round trips per batch of `rollout` + `scoreRollout`; every batch still writes
     * the same two artifacts under the same keys (so a retry reuses what is done).
     */
    async generateScored(input: GenerateScoredInput): Promise<GenerateScoredResult> {
      const config = await engine.loadConfig(input.config);
      if (config.reward.judge.enabled || !deps.scoreRuleOnly) {
        throw ApplicationFailure.nonRetryable('generateScored scores with the rule verifiers only, but reward.judge.enabled is true: judge calls belong on the judge queue (workers.fuseGeneration applies to rule-only rewards)', 'InvalidConfig');
      }
      const ctx = Context.current();
      const batches: Array<{ rollout: RolloutResult; scores: ScoreResult }> = [];
      let kept = 0;
      for (const b of input.batches) {
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
        const rollout = await rolloutItems('generateScored', config, input, { ...b, key: `${b.key}/rollout.json` });
        const scores = await deps.scoreRuleOnly({ rollout: rollout.ref, key: `${b.key}/scores.json`, config: input.config, shaping: input.shaping });
        batches.push({ rollout, scores });
        kept += input.filter ? scores.groups.filter((g) => keepGroup(g.accuracies)).length : scores.groups.length;
        if (kept >= input.stopWhenKept) break;
      }
      return { batches };
    },

    /** Held-out rollouts: n samples per item at the evaluation temperature (recipe.md 6). */
    async evalRollout(input: EvalInput): Promise<RolloutResult> {
      const config = await engine.loadConfig(input.config);
      const items = (await engine.cachedJson<ItemsFile>(input.heldout)).items;
      const phases = config.rl.phases;
      return generateGroups({
        expect: input.expect,
        config,
        items,
        retro: new Set(),
        G: config.eval.samplesPerItem,
        temperature: config.eval.temperature,
        topP: config.eval.topP,
        topK: 0,
        maxResponseTokens: config.sampling.maxResponseTokens,
        maxInputTokens: phases[phases.length - 1].maxInputTokens,
        seed: deriveSeed(config.run.seed, 'eval', input.stage),
        key: input.key,
      });
    },

    /**
     * One RL step's policy update (recipe.md 4): GRPO advantages per kept group, the clipped
     * surrogate with clip-higher and dual clip, mini-batches x PPO epochs of AdamW steps. Writes
     * the step's ledger entry. Idempotent by (run, phase, step).
     */
    async policyUpdate(input: UpdateInput): Promise<UpdateResult> {
      const start = Date.now();
      const config = await engine.loadConfig(input.config);
      const stepId = `${input.runId}/${input.phase}/${input.step}`;
      const resultKey = `runs/${input.runId}/updates/${String(input.globalStep).padStart(6, '0')}.json`;
      const done = await store.tryRead(resultKey);
      if (done) {
        const prev = JSON.parse(done.data.toString('utf8')) as UpdateResult & { expectVersion: number };
        const r = engine.residentState;
        // Applied already (the retry of an attempt that finished but was not reported): reuse.
        if (prev.expectVersion === input.expect.version && r && r.runId === input.runId && r.version === prev.version && r.stepIds[r.stepIds.length - 1] === stepId) return prev;
      }
      const { host, resident } = await engine.ensure(input.expect, config);
      if (resident.stepIds.includes(stepId)) {
        throw ApplicationFailure.nonRetryable(`update ${stepId} is already applied to the weights of version ${resident.version}`, 'InternalError');
      }
      const rl = config.rl;
      const ctx = Context.current();
      const seqs: Array<PgSequence & { group: string }> = [];
      const rewards: number[] = [];
      const accs: number[] = [];
      const lengths: number[] = [];
      let keptGroups = 0;
      for (const [b, batch] of input.batches.entries()) {
        const rollout = await store.getJson<RolloutFile>(batch.rollout);
        const scores = await store.getJson<ScoresFile>(batch.scores);
        for (const gi of batch.keep) {
          const g = rollout.groups[gi];
          const s = scores.groups[gi];
          keptGroups++;
          const adv = getAdvantageEstimator(rl.advantage.estimator)({ scores: s.rewards, groupIds: s.rewards.map(() => 0) }, { normalizeByStd: rl.advantage.normalizeByStd });
          g.samples.forEach((smp, i) => {
            if (smp.tokens.length === 0) return;
            seqs.push({ prompt: g.promptTokens, response: smp.tokens, advantage: adv[i], oldLogprobs: smp.logprobs, group: `${b}:${gi}` });
          });
        }
        for (const s of scores.groups) {
          rewards.push(...s.rewards);
          accs.push(...s.accuracies);
        }
        for (const g of rollout.groups) for (const smp of g.samples) lengths.push(smp.tokens.length);
      }
      let version = input.expect.version;
      const losses: number[] = [];
      const norms: number[] = [];
      const clips: number[] = [];
      const kls: number[] = [];
      const ents: number[] = [];
      let optimizerSteps = 0;
      if (seqs.length > 0) {
        // Mini-batches of `miniBatchSize` prompt groups; token-mean exact over each mini-batch.
        const groupsOrder = [...new Set(seqs.map((s) => s.group))];
        const miniGroups = chunks(groupsOrder, rl.miniBatchSize);
        try {
          for (let epoch = 0; epoch < rl.ppoEpochs; epoch++) {
            for (const [mi, mg] of miniGroups.entries()) {
              const members = new Set(mg);
              const mini = seqs.filter((s) => members.has(s.group));
              const m = await host.trainStep(
                {
                  objective: 'pg',
                  microBatches: chunks(mini, rl.microBatchSize),
                  optimizer: optimizerOf({ lr: input.learningRate, weightDecay: rl.weightDecay, gradClip: rl.gradClip }, rl),
                  loss: {
                    clipLow: rl.loss.clipLow,
                    clipHigh: rl.loss.clipHigh,
                    clipRatioC: rl.loss.dualClipC,
                    aggregation: rl.loss.aggregation,
                    klType: rl.loss.kl.enabled ? rl.loss.kl.type : 'none',
                    klCoef: rl.loss.kl.coef,
                    entropyCoef: rl.loss.entropyCoeff,
                  },
                  temperature: config.sampling.temperature,
                },
                { signal: ctx.cancellationSignal, onProgress: (p) => ctx.heartbeat({ epoch, miniBatch: mi, ...p }) },
              );
              if (!Number.isFinite(m.loss) || !m.updated) {
                engine.invalidate();
                throw ApplicationFailure.nonRetryable(`RL step ${stepId}: loss ${m.loss}, grad norm ${m.gradNorm}: not finite`, 'NonFiniteLoss');
              }
              version = m.version;
              optimizerSteps++;
              losses.push(m.loss);
              norms.push(m.gradNorm);
              clips.push(m.clipFrac ?? 0);
              kls.push(m.approxKl ?? 0);
              ents.push(m.entropy);
            }
          }
        } catch (err) {
          // Some mini-batches may be applied: the weights no longer match any version.
          if (optimizerSteps > 0 || ctx.cancellationSignal.aborted) engine.invalidate();
          throw err;
        }
      }
      engine.advance(input.runId, version, stepId);
      const metrics: StepMetrics = {
        phase: input.phase,
        step: input.step,
        globalStep: input.globalStep,
        rewardMean: mean(rewards),
        accuracy: mean(accs),
        responseLengthMean: mean(lengths),
        clipFraction: mean(clips),
        loss: mean(losses),
        gradNorm: mean(norms),
        kept: keptGroups,
        filteredFraction: input.filteredFraction,
        retroCount: input.retroIds.length,
        genBatches: input.genBatches,
        wallMs: Date.now() - start,
      };
      const record: StepRecord = { ...metrics, stepId, version, optimizerSteps, recordedAt: new Date().toISOString() };
      const ledger = await store.putJson(ledgerKeys.step(input.runId, input.globalStep), record);
      const result: UpdateResult = { version, metrics, ledger };
      await store.putJson(resultKey, { ...result, expectVersion: input.expect.version, approxKl: mean(kls), entropy: mean(ents) });
      return result;
    },

    /** A durable checkpoint of the resident weights (weights, AdamW state, tokenizer, step ids). */
    async saveCheckpoint(input: CheckpointInput): Promise<CheckpointRef> {
      const config = await engine.loadConfig(input.config);
      return withHeartbeats(() => engine.checkpoint(input.expect, config, input.label, input.state, input.keepLast), () => ({ checkpoint: input.label }));
    },
  };
}

export type ComputeActivityImpl = ReturnType<typeof createComputeActivities>;
