/**
 * Artifacts of one generation batch, as written by the compute worker and read by the judge
 * worker and the policy update. They live in the artifact store; only references travel
 * through workflow history.
 */
export interface RolloutSample {
  readonly tokens: number[];
  /** log p of each sampled token under the sampling policy (temperature-scaled): the PPO "old" log-probs. */
  readonly logprobs: number[];
  readonly text: string;
  readonly finish: 'stop' | 'length';
}

export interface RolloutGroup {
  readonly itemId: string;
  readonly dataSource: string;
  readonly question: string;
  readonly answer: string;
  readonly aliases?: readonly string[];
  readonly promptTokens: number[];
  /** Prompt length before truncation (length buckets). */
  readonly inputTokens: number;
  readonly fromRetro: boolean;
  readonly samples: RolloutSample[];
}

export interface RolloutFile {
  readonly format: 'longrl.rollout/1';
  readonly runId: string;
  readonly modelVersion: number;
  readonly temperature: number;
  readonly maxResponseTokens: number;
  readonly groups: RolloutGroup[];
}

export interface ScoredGroup {
  readonly itemId: string;
  /** Reward per response: max(rule, judge) plus overlong shaping when enabled. */
  readonly rewards: number[];
  /** max(rule, judge) per response, without shaping. */
  readonly accuracies: number[];
  readonly rule: number[];
  readonly judge: Array<number | null>;
  readonly extracted: Array<string | null>;
}

export interface ScoresFile {
  readonly format: 'longrl.scores/1';
  readonly groups: ScoredGroup[];
}
