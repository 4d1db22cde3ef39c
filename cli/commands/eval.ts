/**
 * `longrl eval --checkpoint DIR --data FILE [-k 2] [--samples N] [--max-input-tokens N]
 * [--temperature T]`: offline evaluation of a checkpoint folder without Temporal.
 *
 * Loads the policy (engine PolicyHost.load, checksums verified) and the tokenizer saved
 * beside it (`tokenizer.json`), a JSONL/Parquet dataset (recipe loadDataset), samples n
 * responses per item (prompts middle-truncated to the input budget exactly like the run's
 * rollouts: activities/compute.ts `encodePrompt`), scores them with the rule verifiers
 * (recipe scoreSample, no judge) and prints pass@1 and the unbiased pass@k (recipe
 * meanPassAtK, Chen et al. 2021) overall and per data_source.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { encodePrompt } from '../../activities/compute';
import { loadTokenizer, PolicyHost, type TextTokenizer } from '../../engine';
import { UserError } from '../../infra/errors';
import { describeLoad, loadDataset, meanPassAtK, parseVerifierName, scoreSample, VerifierRouter, type RecipeItem } from '../../recipe';
import { intFlag, numberFlag } from './runs';

export interface EvalFlags {
  checkpoint: string;
  data: string;
  k: string;
  samples?: string;
  maxInputTokens?: string;
  maxResponseTokens: string;
  temperature: string;
  topP: string;
  seed: string;
  limit?: string;
  threads?: string;
  requireThinkClose?: boolean;
  strictEm?: boolean;
  defaultVerifier: string;
  skipBadLines?: boolean;
}

/** Validated settings of one evaluation. */
export interface EvalSettings {
  readonly checkpoint: string;
  readonly data: string;
  readonly k: number;
  readonly samples: number;
  readonly maxInputTokens?: number;
  readonly maxResponseTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly seed: number;
  readonly limit?: number;
}

/** Check the flags and the two paths (one clear line each). n defaults to max(k, 4). */
export function evalSettings(o: EvalFlags): EvalSettings {
  const k = intFlag(o.k, 'k');
  const samples = o.samples !== undefined ? intFlag(o.samples, 'samples') : Math.max(k, 4);
  if (samples < k) throw new UserError(`--samples (${samples}) must be >= -k (${k}): pass@k needs at least k samples per item`);
  const temperature = numberFlag(o.temperature, 'temperature');
  if (temperature < 0) throw new UserError(`--temperature must be >= 0; got ${temperature}`);
  const topP = numberFlag(o.topP, 'top-p');
  if (!(topP > 0 && topP <= 1)) throw new UserError(`--top-p must be in (0, 1]; got ${topP}`);
  const dir = path.resolve(o.checkpoint);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`--checkpoint ${o.checkpoint}: no such folder`);
  if (!fs.existsSync(path.join(dir, 'manifest.json'))) throw new UserError(`--checkpoint ${o.checkpoint}: not a longrl checkpoint (no manifest.json in it)`);
  if (!fs.existsSync(path.join(dir, 'tokenizer.json'))) throw new UserError(`--checkpoint ${o.checkpoint}: has no tokenizer.json beside the weights`);
  if (!fs.existsSync(o.data) || !fs.statSync(o.data).isFile()) throw new UserError(`--data ${o.data}: no such file`);
  return {
    checkpoint: dir,
    data: path.resolve(o.data),
    k,
    samples,
    maxInputTokens: o.maxInputTokens !== undefined ? intFlag(o.maxInputTokens, 'max-input-tokens') : undefined,
    maxResponseTokens: intFlag(o.maxResponseTokens, 'max-response-tokens'),
    temperature,
    topP,
    seed: intFlag(o.seed, 'seed', 0),
    limit: o.limit !== undefined ? intFlag(o.limit, 'limit') : undefined,
  };
}

/** Per-item correct counts -> pass@1 and pass@k (unbiased estimator), overall and per data_source. */
export function summarizePassAtK(items: ReadonlyArray<{ dataSource: string; n: number; c: number }>, k: number): { overall: { n: number; passAt1: number; passAtK: number }; bySource: Record<string, { n: number; passAt1: number; passAtK: number }> } {
  const of = (xs: ReadonlyArray<{ n: number; c: number }>) => ({ n: xs.length, passAt1: meanPassAtK(xs, 1), passAtK: meanPassAtK(xs, k) });
  const sources = [...new Set(items.map((i) => i.dataSource))].sort();
  return { overall: of(items), bySource: Object.fromEntries(sources.map((s) => [s, of(items.filter((i) => i.dataSource === s))])) };
}

const out = (s: string) => process.stdout.write(`${s}\n`);
const say = (s: string) => process.stderr.write(`${s}\n`);

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('pass@1 and pass@k of a checkpoint on a JSONL/Parquet dataset with the rule verifiers (no Temporal)')
    .requiredOption('--checkpoint <dir>', 'checkpoint folder (manifest.json, weights, tokenizer.json)')
    .requiredOption('--data <file>', 'dataset (.jsonl or .parquet, veRL schema or plain)')
    .option('-k, --k <k>', 'k of pass@k', '2')
    .option('--samples <n>', 'samples per item (>= k; default max(k, 4))')
    .option('--max-input-tokens <n>', 'prompt budget (documents are middle-truncated; default: context length minus --max-response-tokens)')
    .option('--max-response-tokens <n>', 'response budget', '64')
    .option('--temperature <t>', 'sampling temperature', '0.7')
    .option('--top-p <p>', 'nucleus sampling', '0.95')
    .option('--seed <n>', 'sampling seed', '1')
    .option('--limit <n>', 'only the first N items')
    .option('--threads <n>', 'engine threads (default: all cores)')
    .option('--require-think-close', 'score only text after </think> (as runs with reward.requireThinkClose do)')
    .option('--strict-em', 'exact match instead of substring match for document QA')
    .option('--default-verifier <name>', 'verifier for unknown data_source names', 'docqa')
    .option('--skip-bad-lines', 'skip malformed dataset lines instead of failing')
    .action((o: EvalFlags) => runEval(o));
}

async function runEval(o: EvalFlags): Promise<void> {
  const s = evalSettings(o);
  const defaultVerifier = parseVerifierName(o.defaultVerifier);
  const router = new VerifierRouter({ defaultVerifier });
  const loaded = await loadDataset(s.data, { router, onBadLine: o.skipBadLines ? 'skip' : 'error' });
  const items: RecipeItem[] = s.limit ? loaded.items.slice(0, s.limit) : loaded.items;
  if (items.length === 0) throw new UserError(`--data ${o.data}: no usable items${loaded.skipped.length ? ` (${loaded.skipped.length} lines skipped)` : ''}`);
  if (loaded.skipped.length > 0) process.stderr.write(`eval: ${describeLoad(loaded)}\n`);

  let tokenizer: TextTokenizer;
  try {
    tokenizer = await loadTokenizer(path.join(s.checkpoint, 'tokenizer.json'));
  } catch (err) {
    throw new UserError(`--checkpoint ${o.checkpoint}: cannot load tokenizer.json: ${(err as Error).message}`);
  }
  const host = await PolicyHost.start({ threads: o.threads ? intFlag(o.threads, 'threads') : undefined });
  try {
    try {
      await host.load(s.checkpoint);
    } catch (err) {
      throw new UserError(`--checkpoint ${o.checkpoint}: ${(err as Error).message}`);
    }
    const vocab = host.getConfig().vocab_size;
    if (tokenizer.vocabSize > vocab) {
      throw new UserError(
        `--checkpoint ${o.checkpoint}: tokenizer.json has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${vocab} (config.json); this tokenizer does not belong to these weights, save the checkpoint with the tokenizer it was trained with`,
      );
    }
    const ctx = host.getConfig().max_position_embeddings;
    const budget = s.maxInputTokens ?? ctx - s.maxResponseTokens;
    if (budget < 8 || budget + s.maxResponseTokens > ctx) {
      throw new UserError(`--max-input-tokens ${budget} + --max-response-tokens ${s.maxResponseTokens} must fit the model's context of ${ctx} tokens (and leave >= 8 prompt tokens)`);
    }
    const hybrid = { requireThinkClose: o.requireThinkClose === true, docqaMatch: o.strictEm ? ('em' as const) : ('sub_em' as const) };
    say(`eval: ${items.length} items x ${s.samples} samples, prompt budget ${budget}, response ${s.maxResponseTokens}, temperature ${s.temperature}`);
    const results: Array<{ dataSource: string; n: number; c: number }> = [];
    const BATCH = 8;
    for (let i = 0; i < items.length; i += BATCH) {
      const chunk = items.slice(i, i + BATCH);
      const prompts = chunk.map((it) => encodePrompt(tokenizer, it, budget));
      const gen = await host.generate({
        prompts,
        samplesPerPrompt: s.samples,
        maxNewTokens: s.maxResponseTokens,
        sampling: { temperature: s.temperature, topP: s.topP, topK: 0 },
        seed: s.seed + i,
        stopTokens: tokenizer.stopIds,
      });
      for (const [p, it] of chunk.entries()) {
        const texts = gen.samples.filter((x) => x.promptIndex === p).map((x) => tokenizer.decode(x.tokens, { skipSpecial: true }));
        const scores = await Promise.all(texts.map((t) => scoreSample({ question: it.question, response: t, answer: it.answer, aliases: it.aliases, data_source: it.data_source }, hybrid, undefined, router)));
        results.push({ dataSource: it.data_source, n: texts.length, c: scores.filter((r) => r.reward >= 1).length });
      }
      say(`  ${Math.min(i + BATCH, items.length)}/${items.length} items`);
    }
    const sum = summarizePassAtK(results, s.k);
    for (const [src, v] of Object.entries(sum.bySource)) out(`${src} (n=${v.n}): pass@1 ${v.passAt1.toFixed(4)} pass@${s.k} ${v.passAtK.toFixed(4)}`);
    out(`overall (n=${sum.overall.n}, ${s.samples} samples each): pass@1 ${sum.overall.passAt1.toFixed(4)} pass@${s.k} ${sum.overall.passAtK.toFixed(4)}`);
  } finally {
    await host.close();
  }
}
