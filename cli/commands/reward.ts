/**
 * `longrl reward --in preds.jsonl [--out FILE] [--judge-base-url URL --judge-model M
 * --judge-api-key-env NAME] [--default-verifier docqa]`
 *
 * Scores a JSONL file of `{id?, question, prediction, answer, data_source, aliases?}` lines
 * with the recipe's hybrid reward (rule verifiers, then the LLM judge when the rule gives
 * < 1) and writes one JSON line per input line: `{id, data_source, verifier, rule, judge,
 * reward, extracted}`. A summary goes to stderr. User errors print one line and exit 2.
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import type { Command } from 'commander';
import {
  DataFormatError,
  GoldAnswerError,
  LlmJudge,
  parseVerifierName,
  RecipeError,
  scoreSample,
  VerifierRouter,
  type HybridConfig,
  type Judge,
  type ScoreInput,
} from '../../recipe';

/** Flags of `longrl reward`. */
export interface RewardFlags {
  in: string;
  out?: string;
  judgeBaseUrl?: string;
  judgeModel?: string;
  judgeApiKeyEnv?: string;
  judgeConcurrency?: string;
  judgeTimeoutMs?: string;
  judgeMaxRetries?: string;
  defaultVerifier: string;
  requireThinkClose?: boolean;
  answerPhrase: string;
  strictEm?: boolean;
  skipBadLines?: boolean;
}

/** Where the command writes; injectable for tests. */
export interface RewardIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env?: Readonly<Record<string, string | undefined>>;
}

class RewardUsageError extends RecipeError {}

function intFlag(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new RewardUsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function parseLine(text: string, file: string, line: number): ScoreInput {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DataFormatError(file, line, '(json)', `is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DataFormatError(file, line, '(record)', 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  const str = (field: string, required: boolean): string | undefined => {
    const v = o[field];
    if (v === undefined || v === null) {
      if (required) throw new DataFormatError(file, line, field, 'is missing');
      return undefined;
    }
    if (typeof v === 'number' && field !== 'prediction') return String(v);
    if (typeof v !== 'string') throw new DataFormatError(file, line, field, `must be a string, got ${typeof v}`);
    return v;
  };
  const aliases = o.aliases;
  if (aliases !== undefined && !(Array.isArray(aliases) && aliases.every((a) => typeof a === 'string'))) {
    throw new DataFormatError(file, line, 'aliases', 'must be a list of strings');
  }
  return {
    id: o.id === undefined ? undefined : String(o.id as string | number),
    question: str('question', false) ?? '',
    response: str('prediction', true)!,
    answer: str('answer', true)!,
    aliases: aliases as string[] | undefined,
    data_source: str('data_source', false) ?? '',
  };
}

/** Runs `longrl reward`; returns the exit code (0 ok, 2 user error). */
export async function runReward(flags: RewardFlags, io: RewardIo): Promise<number> {
  try {
    const defaultVerifier = parseVerifierName(flags.defaultVerifier);
    if (flags.answerPhrase !== 'required' && flags.answerPhrase !== 'optional') {
      throw new RewardUsageError(`--answer-phrase must be 'required' or 'optional', got ${JSON.stringify(flags.answerPhrase)}`);
    }
    const judgeWanted = flags.judgeBaseUrl !== undefined || flags.judgeModel !== undefined;
    if (judgeWanted && (!flags.judgeBaseUrl || !flags.judgeModel)) {
      throw new RewardUsageError('--judge-base-url and --judge-model go together: give both to use the judge, or neither');
    }
    const judge: Judge | undefined = judgeWanted
      ? new LlmJudge(
          {
            baseURL: flags.judgeBaseUrl!,
            model: flags.judgeModel!,
            apiKeyEnv: flags.judgeApiKeyEnv,
            concurrency: intFlag(flags.judgeConcurrency, 'judge-concurrency', 1),
            timeoutMs: intFlag(flags.judgeTimeoutMs, 'judge-timeout-ms', 1),
            maxRetries: intFlag(flags.judgeMaxRetries, 'judge-max-retries', 0),
          },
          { env: io.env ?? process.env },
        )
      : undefined;
    const cfg: HybridConfig = {
      requireThinkClose: flags.requireThinkClose ?? false,
      answerPhrase: flags.answerPhrase,
      docqaMatch: flags.strictEm ? 'em' : 'sub_em',
    };
    const router = new VerifierRouter({ defaultVerifier });

    if (!fs.existsSync(flags.in)) throw new RewardUsageError(`--in ${flags.in}: no such file`);
    const inputs: Array<{ line: number; input: ScoreInput }> = [];
    let skipped = 0;
    const rl = readline.createInterface({ input: fs.createReadStream(flags.in, { encoding: 'utf8' }), crlfDelay: Infinity });
    let line = 0;
    for await (const text of rl) {
      line++;
      const t = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
      if (!t) continue;
      try {
        inputs.push({ line, input: parseLine(t, flags.in, line) });
      } catch (e) {
        if (!(e instanceof DataFormatError) || !flags.skipBadLines) throw e;
        skipped++;
        io.stderr(`longrl reward: skipped ${e.message}\n`);
      }
    }

    // Score all lines (the judge bounds its own concurrency); output keeps input order.
    const scored = await Promise.all(
      inputs.map(async ({ line: ln, input }) => {
        try {
          return { input, r: await scoreSample(input, cfg, judge, router) };
        } catch (e) {
          if (!(e instanceof GoldAnswerError)) throw e;
          const bad = new DataFormatError(flags.in, ln, 'answer', e.message);
          if (!flags.skipBadLines) throw bad;
          skipped++;
          io.stderr(`longrl reward: skipped ${bad.message}\n`);
          return null;
        }
      }),
    );
    const kept = scored.filter((x): x is NonNullable<typeof x> => x !== null);
    const results = kept.map((x) => x.r);
    const out = kept.map(({ input, r }) =>
      JSON.stringify({ id: r.id ?? null, data_source: input.data_source, verifier: r.verifier, rule: r.rule, judge: r.judge, reward: r.reward, extracted: r.extracted }),
    );
    const body = out.length ? `${out.join('\n')}\n` : '';
    if (flags.out) await fs.promises.writeFile(flags.out, body);
    else io.stdout(body);

    const mean = results.length ? results.reduce((s, r) => s + r.reward, 0) / results.length : 0;
    const judged = results.filter((r) => r.judge !== null).length;
    const unknown = [...router.unknownCounts.entries()].map(([s, n]) => `${s || '(none)'} x${n}`).join(', ');
    io.stderr(
      `longrl reward: ${results.length} lines scored, mean reward ${mean.toFixed(4)}, judge called ${judged} times` +
        (skipped ? `, ${skipped} bad lines skipped` : '') +
        (unknown ? `; unknown data_source routed to ${defaultVerifier}: ${unknown}` : '') +
        (flags.out ? `; wrote ${flags.out}` : '') +
        '\n',
    );
    return 0;
  } catch (e) {
    if (e instanceof RecipeError) {
      io.stderr(`longrl reward: ${e.message.split('\n')[0]}\n`);
      return 2;
    }
    throw e;
  }
}

/** Registers `longrl reward` on the program. */
export function registerRewardCommand(program: Command): void {
  program
    .command('reward')
    .description('score predictions with the recipe reward: rule verifiers, then the LLM judge where the rule gives < 1')
    .requiredOption('--in <file>', 'JSONL of {id?, question, prediction, answer, data_source, aliases?}')
    .option('--out <file>', 'write the scored JSON lines here (default: stdout)')
    .option('--judge-base-url <url>', 'OpenAI-compatible endpoint of the judge, e.g. http://127.0.0.1:8000/v1')
    .option('--judge-model <name>', 'judge model name as the endpoint serves it')
    .option('--judge-api-key-env <NAME>', 'NAME of the environment variable holding the judge API key')
    .option('--judge-concurrency <n>', 'judge requests in flight (default 8)')
    .option('--judge-timeout-ms <ms>', 'timeout of one judge request (default 60000)')
    .option('--judge-max-retries <n>', 'retries of a failing judge request (default 4)')
    .option('--default-verifier <name>', 'verifier for unknown data_source values: docqa, docmath or choice', 'docqa')
    .option('--require-think-close', 'score only the text after the last </think> (0 when missing)')
    .option('--answer-phrase <mode>', "'required': no \"the answer is\" scores 0 (QwenLong-L1); 'optional': fall back to the whole answer", 'required')
    .option('--strict-em', 'docqa: strict exact match instead of sub-EM')
    .option('--skip-bad-lines', 'skip (and report) malformed lines instead of stopping')
    .action(async (flags: RewardFlags) => {
      const code = await runReward(flags, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
      if (code !== 0) process.exitCode = code;
    });
}
