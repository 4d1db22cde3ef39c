/**
 * LLM judge of answer equivalence (recipe.md section 3; QwenLong-L1 paper Eq. 14): asks an
 * OpenAI-compatible chat model whether a predicted answer and the gold answer are
 * equivalent for the question, without solving it, ending with [[YES]] or [[NO]].
 *
 * Temperature 0; bounded concurrency; retries with exponential backoff on transport
 * errors, timeouts, 408/409/429/5xx and unparseable replies; a per-call timeout; results
 * cached by (judge model, question, prediction, answer). An unreachable judge raises
 * JudgeUnavailableError and a judge that never gives a verdict JudgeResponseError: never a
 * silent 0 (architecture.md). The API key comes from the environment variable whose NAME
 * is configured (`apiKeyEnv`), never from config itself.
 */
import OpenAI from 'openai';
import { JudgeProtocolError, JudgeResponseError, JudgeUnavailableError, RecipeConfigError } from '../errors';

/** System prompt of the judge (the instructions of recipe.md section 3, in longrl's words). */
export const JUDGE_SYSTEM_PROMPT = [
  'You check whether two answers to the same problem are the same answer.',
  'You are given a problem and two answers, Answer 1 and Answer 2.',
  'Do not try to solve the problem yourself: only decide whether the two answers are equivalent,',
  'that is, whether they state the same value or meaning, even if written in different forms, units or notations.',
  '',
  'Reply in this format:',
  '1) A brief explanation of why the answers are or are not equivalent.',
  '2) Your verdict on its own line: [[YES]] if they are equivalent, [[NO]] if they are not.',
].join('\n');

/** User message of the judge for one comparison. */
export function judgeUserPrompt(question: string, prediction: string, answer: string): string {
  return `Problem: ${question}\nAnswer 1: ${prediction}\nAnswer 2: ${answer}`;
}

/**
 * The verdict of a judge reply: 1 for [[YES]], 0 for [[NO]] (the last one wins when both
 * appear), null when neither appears.
 */
export function parseJudgeVerdict(content: string): 0 | 1 | null {
  const yes = content.lastIndexOf('[[YES]]');
  const no = content.lastIndexOf('[[NO]]');
  if (yes < 0 && no < 0) return null;
  return yes > no ? 1 : 0;
}

/** Judge endpoint configuration (`reward.judge.*`). */
export interface JudgeConfig {
  /** OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (vLLM, SGLang, ...). */
  baseURL: string;
  /** Model name as the endpoint knows it. */
  model: string;
  /** NAME of the environment variable holding the API key; omitted: key "EMPTY" (local servers). */
  apiKeyEnv?: string;
  /** Per-call timeout in ms; default 60000. */
  timeoutMs?: number;
  /** Retries after the first attempt; default 4. */
  maxRetries?: number;
  /** First backoff in ms, doubled per retry; default 500. */
  backoffMs?: number;
  /** Backoff cap in ms; default 30000. */
  maxBackoffMs?: number;
  /** Calls in flight at most; default 8. */
  concurrency?: number;
  /** Cached verdicts kept at most (oldest evicted first); default 100000. */
  cacheSize?: number;
  /** Reply token limit; default 512. */
  maxTokens?: number;
}

/** One comparison. */
export interface JudgeQuery {
  question: string;
  prediction: string;
  answer: string;
}

/** Anything that can judge equivalence (the LLM judge, or a fake in tests of callers). */
export interface Judge {
  judge(q: JudgeQuery): Promise<number>;
}

/** Counters of a judge's activity. */
export interface JudgeStats {
  requests: number;
  cacheHits: number;
  retries: number;
}

/** Injectable dependencies (tests shorten sleeps; callers may pass their own env). */
export interface JudgeDeps {
  env?: Readonly<Record<string, string | undefined>>;
  sleep?: (ms: number) => Promise<void>;
}

const RETRYABLE_STATUS = (status: number): boolean => status === 408 || status === 409 || status === 429 || status >= 500;

/** The LLM judge client. */
export class LlmJudge implements Judge {
  readonly stats: JudgeStats = { requests: 0, cacheHits: 0, retries: 0 };
  private readonly client: OpenAI;
  private readonly cache = new Map<string, Promise<0 | 1>>();
  private readonly cfg: Required<Omit<JudgeConfig, 'apiKeyEnv'>> & { apiKeyEnv?: string };
  private readonly sleep: (ms: number) => Promise<void>;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(cfg: JudgeConfig, deps: JudgeDeps = {}) {
    const env = deps.env ?? process.env;
    if (!cfg.baseURL) throw new RecipeConfigError('reward.judge.baseURL', 'is empty; give the OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1');
    if (!cfg.model) throw new RecipeConfigError('reward.judge.model', 'is empty; give the model name the endpoint serves');
    let apiKey = 'EMPTY';
    if (cfg.apiKeyEnv) {
      const v = env[cfg.apiKeyEnv];
      if (!v) throw new RecipeConfigError('reward.judge.apiKeyEnv', `environment variable ${cfg.apiKeyEnv} is not set; export it with the judge's API key`);
      apiKey = v;
    }
    const positive = (v: number, path: string): number => {
      if (!(Number.isFinite(v) && v >= 0)) throw new RecipeConfigError(`reward.judge.${path}`, `must be a number >= 0, got ${v}`);
      return v;
    };
    this.cfg = {
      baseURL: cfg.baseURL,
      model: cfg.model,
      apiKeyEnv: cfg.apiKeyEnv,
      timeoutMs: positive(cfg.timeoutMs ?? 60000, 'timeoutMs'),
      maxRetries: positive(cfg.maxRetries ?? 4, 'maxRetries'),
      backoffMs: positive(cfg.backoffMs ?? 500, 'backoffMs'),
      maxBackoffMs: positive(cfg.maxBackoffMs ?? 30000, 'maxBackoffMs'),
      concurrency: Math.max(1, positive(cfg.concurrency ?? 8, 'concurrency')),
      cacheSize: positive(cfg.cacheSize ?? 100000, 'cacheSize'),
      maxTokens: positive(cfg.maxTokens ?? 512, 'maxTokens'),
    };
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    // Retries are ours (to classify errors and back off); the client makes one attempt.
    this.client = new OpenAI({ apiKey, baseURL: cfg.baseURL, timeout: this.cfg.timeoutMs, maxRetries: 0 });
  }

  /** The cache key of a query for this judge model. */
  cacheKey(q: JudgeQuery): string {
    return JSON.stringify([this.cfg.model, q.question, q.prediction, q.answer]);
  }

  /** 1 when the judge says the answers are equivalent, else 0. Concurrent identical queries share one call. */
  judge(q: JudgeQuery): Promise<0 | 1> {
    const key = this.cacheKey(q);
    const hit = this.cache.get(key);
    if (hit) {
      this.stats.cacheHits++;
      return hit;
    }
    const p = this.withSlot(() => this.callWithRetries(q));
    this.cache.set(key, p);
    // Failures are not cached: a later call retries the endpoint.
    p.catch(() => this.cache.delete(key));
    while (this.cache.size > this.cfg.cacheSize) this.cache.delete(this.cache.keys().next().value as string);
    return p;
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.cfg.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async callWithRetries(q: JudgeQuery): Promise<0 | 1> {
    const attempts = this.cfg.maxRetries + 1;
    let lastProblem = '';
    let lastCause: unknown;
    let lastContent: string | null = null;
    let lastBody: string | null = null;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) {
        this.stats.retries++;
        await this.sleep(Math.min(this.cfg.maxBackoffMs, this.cfg.backoffMs * 2 ** (attempt - 2)));
      }
      this.stats.requests++;
      try {
        const res = await this.client.chat.completions.create({
          model: this.cfg.model,
          messages: [
            { role: 'system', content: JUDGE_SYSTEM_PROMPT },
            { role: 'user', content: judgeUserPrompt(q.question, q.prediction, q.answer) },
          ],
          temperature: 0,
          max_tokens: this.cfg.maxTokens,
        });
        const body: unknown = res;
        const choices = typeof body === 'object' && body !== null ? (body as { choices?: unknown }).choices : undefined;
        const message = Array.isArray(choices) ? (choices[0] as { message?: { content?: string | null } } | undefined)?.message : undefined;
        if (!message) {
          // Not a chat completion at all (an HTML page, a proxy's answer): say so, not "empty reply".
          lastBody = typeof body === 'string' ? body : JSON.stringify(body);
          lastContent = null;
          continue;
        }
        const content = message.content ?? '';
        const verdict = parseJudgeVerdict(content);
        if (verdict !== null) return verdict;
        lastContent = content;
        lastBody = null;
      } catch (e) {
        lastContent = null;
        lastBody = null;
        lastCause = e;
        if (e instanceof OpenAI.APIError && e.status !== undefined && !RETRYABLE_STATUS(e.status)) {
          const hint = e.status === 401 || e.status === 403 ? `; check the key in ${this.cfg.apiKeyEnv ?? '(no apiKeyEnv set)'}` : e.status === 404 ? '; check the base URL and model name' : '';
          throw new JudgeUnavailableError(this.cfg.baseURL, this.cfg.model, attempt, `HTTP ${e.status}: ${e.message}${hint}`, { cause: e });
        }
        lastProblem = e instanceof OpenAI.APIConnectionTimeoutError ? `timed out after ${this.cfg.timeoutMs} ms` : connectionProblem(e) ?? (e instanceof Error ? e.message : String(e));
      }
    }
    if (lastBody !== null) throw new JudgeProtocolError(this.cfg.baseURL, this.cfg.model, attempts, lastBody);
    if (lastContent !== null) throw new JudgeResponseError(this.cfg.model, attempts, lastContent);
    throw new JudgeUnavailableError(this.cfg.baseURL, this.cfg.model, attempts, lastProblem, { cause: lastCause });
  }
}

const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'connection timed out',
};

/** "connection refused (ECONNREFUSED); ..." from the errno code in an openai connection error's cause chain. */
function connectionProblem(e: unknown): string | undefined {
  for (let c: unknown = e, i = 0; c && i < 6; c = (c as { cause?: unknown }).cause, i++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES[code]) {
      return `${CONNECTION_CODES[code]} (${code}); start the judge server or fix the base URL (--judge-base-url, reward.judge.baseUrl)`;
    }
  }
  return undefined;
}
