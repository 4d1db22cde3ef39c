/** Judge-queue activities: I/O-bound calls to an OpenAI-compatible judge endpoint. */
import OpenAI from 'openai';
import { ApplicationFailure } from '@temporalio/common';

export interface JudgeHealthInput {
  readonly baseUrl: string;
  /** Name of the env var with the API key (the key itself never enters workflow input). */
  readonly apiKeyEnv?: string;
  readonly timeoutMs?: number;
}

/** The endpoint's model list; throws a retryable `JudgeUnavailable` failure when it does not answer. */
export async function checkJudgeEndpoint(input: JudgeHealthInput): Promise<{ models: string[] }> {
  const client = new OpenAI({ baseURL: input.baseUrl, apiKey: (input.apiKeyEnv && process.env[input.apiKeyEnv]) || 'EMPTY', timeout: input.timeoutMs ?? 10_000, maxRetries: 1 });
  try {
    const page = await client.models.list();
    return { models: page.data.map((m) => m.id) };
  } catch (err) {
    throw ApplicationFailure.retryable(`judge endpoint ${input.baseUrl} did not answer: ${(err as Error).message}`, 'JudgeUnavailable');
  }
}

export function createJudgeActivities() {
  return {
    /** List the endpoint's models: proves the judge is reachable from the judge worker. */
    judgeHealth: checkJudgeEndpoint,
  };
}

export type JudgeActivities = ReturnType<typeof createJudgeActivities>;
