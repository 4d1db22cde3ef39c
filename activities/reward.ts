/**
 * Reward of a generation batch (judge queue): the rule verifiers, then the LLM judge where
 * the rule gives < 1 and a judge is configured, reward = max(rule, judge) (recipe.md 3),
 * plus DAPO overlong shaping for training. A judge that cannot be reached after its retries
 * fails the activity (type JudgeUnavailable): never a silent reward of 0.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { RunConfig } from '../config/schema';
import type { ArtifactStore } from '../infra/store/artifacts';
import { overlongPenalty } from '../recipe/algorithms/overlong';
import { populationStd } from '../recipe/algorithms/dynamic-sampling';
import { JudgeProtocolError, JudgeResponseError, JudgeUnavailableError, RecipeConfigError } from '../recipe/errors';
import { scoreSample } from '../recipe/rewards/hybrid';
import { LlmJudge, type Judge } from '../recipe/rewards/judge';
import { VerifierRouter } from '../recipe/rewards/routing';
import { checkJudgeEndpoint } from './judge';
import type { RolloutFile, ScoredGroup, ScoresFile } from './rollout-format';
import type { GroupScore, ScoreInput, ScoreResult } from './types';

/** One judge client per endpoint and model per process, so its verdict cache serves every activity. */
const judges = new Map<string, LlmJudge>();
/**
 * Fail fast when the judge is down, even for a batch whose samples would not reach it: an
 * outage must block the phase, not let it train on rule-only rewards (architecture.md 5).
 */
async function preflight(config: RunConfig): Promise<void> {
  const j = config.reward.judge;
  if (!j.enabled || !j.baseUrl) return;
  // One cheap GET per generation batch, next to the batch's judge calls.
  await checkJudgeEndpoint({ baseUrl: j.baseUrl, apiKeyEnv: j.apiKeyEnv, timeoutMs: Math.min(j.timeoutMs, 15_000) });
}

function judgeFor(config: RunConfig): LlmJudge | undefined {
  const j = config.reward.judge;
  if (!j.enabled || !j.baseUrl || !j.model) return undefined;
  const key = `${j.baseUrl}|${j.model}|${j.apiKeyEnv ?? ''}`;
  let judge = judges.get(key);
  if (!judge) {
    judge = new LlmJudge({ baseURL: j.baseUrl, model: j.model, apiKeyEnv: j.apiKeyEnv, timeoutMs: j.timeoutMs, maxRetries: j.maxRetries, concurrency: j.concurrency });
    judges.set(key, judge);
  }
  return judge;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);

export function groupScore(g: ScoredGroup, inputTokens: number): GroupScore {
  const n = g.accuracies.length;
  const correct = g.accuracies.filter((a) => a >= 1).length;
  return { itemId: g.itemId, n, correct, meanAccuracy: mean(g.accuracies), accuracyStd: populationStd(g.accuracies), meanReward: mean(g.rewards), accuracies: g.accuracies, inputTokens };
}

export function createRewardActivities(deps: { store: ArtifactStore; loadConfig: (ref: ScoreInput['config']) => Promise<RunConfig>; judgeOverride?: (config: RunConfig) => Judge | undefined }) {
  const { store } = deps;
  return {
    async scoreRollout(input: ScoreInput): Promise<ScoreResult> {
      const config = await deps.loadConfig(input.config);
      const rollout = await store.getJson<RolloutFile>(input.rollout);
      const existing = await store.tryRead(input.key);
      let scores: ScoresFile;
      let judgeCalls = 0;
      let judgeYes = 0;
      if (existing) {
        scores = JSON.parse(existing.data.toString('utf8')) as ScoresFile; // idempotent: a retry reuses the first result
      } else {
        if (!deps.judgeOverride) await preflight(config);
        const judge = deps.judgeOverride ? deps.judgeOverride(config) : judgeFor(config);
        const router = new VerifierRouter({ defaultVerifier: config.reward.defaultVerifier });
        const hybrid = { requireThinkClose: config.reward.requireThinkClose, docqaMatch: config.reward.strictEm ? ('em' as const) : ('sub_em' as const) };
        const ol = config.rl.overlong;
        const groups: ScoredGroup[] = [];
        const ctx = Context.current();
        for (const [gi, g] of rollout.groups.entries()) {
          let results;
          try {
            results = await Promise.all(
              g.samples.map((s) => scoreSample({ question: g.question, response: s.text, answer: g.answer, aliases: g.aliases, data_source: g.dataSource }, hybrid, judge, router)),
            );
          } catch (err) {
            if (err instanceof JudgeUnavailableError || err instanceof JudgeResponseError || err instanceof JudgeProtocolError) {
              throw ApplicationFailure.retryable(err.message, 'JudgeUnavailable');
            }
            if (err instanceof RecipeConfigError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidConfig');
            throw err;
          }
          judgeCalls += results.filter((r) => r.judge !== null).length;
          judgeYes += results.filter((r) => r.judge === 1).length;
          const accuracies = results.map((r) => r.reward);
          const rewards = g.samples.map((s, i) =>
            accuracies[i] + (input.shaping && ol.enabled ? overlongPenalty(s.tokens.length, { maxResponseLength: rollout.maxResponseTokens, bufferLength: ol.bufferLength, factor: ol.factor }) : 0),
          );
          groups.push({ itemId: g.itemId, rewards, accuracies, rule: results.map((r) => r.rule), judge: results.map((r) => r.judge), extracted: results.map((r) => r.extracted) });
          ctx.heartbeat({ group: gi + 1, groups: rollout.groups.length });
        }
        scores = { format: 'longrl.scores/1', groups };
      }
      const ref = existing ? existing.ref : await store.putJson(input.key, scores);
      const groups = scores.groups.map((g, i) => groupScore(g, rollout.groups[i].inputTokens));
      const all = scores.groups.flatMap((g) => g.rewards);
      const acc = scores.groups.flatMap((g) => g.accuracies);
      return { ref, groups, rewardMean: mean(all), accuracy: mean(acc), judgeCalls, judgeYes };
    },
  };
}
