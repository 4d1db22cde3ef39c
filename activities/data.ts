/**
 * Data preparation for a run (compute queue): the synthetic long-context QA generator or
 * JSONL/Parquet files, the tokenizer (a word-level one trained on the run's corpus, or a
 * Hugging Face tokenizer.json), prompt lengths in model tokens, and one pool per curriculum
 * phase (L_{k-1} < len <= L_k, recipe.md section 1). Everything goes to the artifact store;
 * the workflow receives ids and references only. Idempotent: a finished manifest is reused.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { RunConfig } from '../config/schema';
import { formatChat, loadTokenizer, WordLevelTokenizer, type TextTokenizer } from '../engine';
import type { ArtifactRef, ArtifactStore } from '../infra/store/artifacts';
import { buildChatMessages, buildPrompt } from '../recipe/data/prompt';
import { generateSyntheticSplits, syntheticVocabulary } from '../recipe/data/synthetic';
import { loadDataset, describeLoad } from '../recipe/data/loaders';
import { buildPhasePools } from '../recipe/curriculum/phase-pools';
import { DataFormatError, RecipeError } from '../recipe/errors';
import type { RecipeItem } from '../recipe/data/types';
import type { DataManifest } from './types';

/** An item with its prompt length in model tokens (chat template included). */
export interface PreparedItem extends RecipeItem {
  readonly promptTokens: number;
}

export interface ItemsFile {
  readonly format: 'longrl.items/1';
  readonly items: PreparedItem[];
}

/** The chat-formatted model input of an item. */
export function promptText(item: RecipeItem): string {
  return formatChat(buildChatMessages(item));
}

function syntheticItems(config: RunConfig): { train: RecipeItem[]; heldout: RecipeItem[]; sft: RecipeItem[] } {
  if (config.data.source !== 'synthetic') throw new Error('unreachable');
  const d = config.data;
  const kinds = d.kinds;
  const extra = { ...(d.hops ? { hops: d.hops } : {}), ...(d.distractorsPer100Tokens !== undefined ? { distractorsPer100Tokens: d.distractorsPer100Tokens } : {}) };
  const phases = config.rl.phases;
  // Chat template overhead (specials and role words) is about 6 tokens; aim inside each bucket.
  const margin = 8;
  const splits: Record<string, { count: number; length: { min: number; max: number }; kinds: typeof kinds; hops?: number[]; distractorsPer100Tokens?: number }> = {};
  const perPhase = (total: number) => phases.map((_, k) => Math.floor(total / phases.length) + (k < total % phases.length ? 1 : 0));
  const lo = (k: number) => (k === 0 ? d.minPromptTokens : phases[k - 1].maxInputTokens + margin);
  const hi = (k: number) => phases[k].maxInputTokens - margin;
  perPhase(d.trainItems).forEach((count, k) => {
    if (count > 0) splits[`train-${k}`] = { count, length: { min: lo(k), max: Math.max(lo(k), hi(k)) }, kinds, ...extra };
  });
  perPhase(d.heldoutItems).forEach((count, k) => {
    if (count > 0) splits[`heldout-${k}`] = { count, length: { min: lo(k), max: Math.max(lo(k), hi(k)) }, kinds, ...extra };
  });
  if (config.sft.enabled && d.sftItems > 0) {
    const max = Math.min(config.sft.maxInputTokens, phases[0].maxInputTokens) - margin;
    splits.sft = { count: d.sftItems, length: { min: Math.min(d.minPromptTokens, max), max }, kinds, ...extra };
  }
  const out = generateSyntheticSplits(d.seed ?? config.run.seed, splits);
  const pick = (prefix: string) => Object.entries(out).filter(([n]) => n.startsWith(prefix)).flatMap(([, items]) => items);
  return { train: pick('train-'), heldout: pick('heldout-'), sft: out.sft ?? [] };
}

async function fileItems(config: RunConfig, warnings: string[]): Promise<{ train: RecipeItem[]; heldout: RecipeItem[]; sft: RecipeItem[]; skipped: number }> {
  if (config.data.source === 'synthetic') throw new Error('unreachable');
  const d = config.data;
  const opts = { onBadLine: d.onBadLine, defaultVerifier: d.defaultVerifier ?? config.reward.defaultVerifier, onUnknownSource: (s: string, v: string) => warnings.push(`unknown data_source '${s}' routed to the ${v} verifier`) };
  const train = await loadDataset(d.trainPath, opts);
  const heldout = await loadDataset(d.heldoutPath, opts);
  warnings.push(describeLoad(train), describeLoad(heldout));
  let sft: RecipeItem[] = [];
  let skipped = train.skipped.length + heldout.skipped.length;
  if (config.sft.enabled && config.sft.dataPath) {
    const s = await loadDataset(config.sft.dataPath, opts);
    warnings.push(describeLoad(s));
    skipped += s.skipped.length;
    sft = s.items.filter((i) => i.sft_response);
    if (sft.length === 0) throw new DataFormatError(config.sft.dataPath, 0, 'sft_response', 'no item has an "sft_response" (the worked answer to train on)');
  }
  if (train.items.length === 0) throw new DataFormatError(d.trainPath, 0, '(file)', 'no usable training items');
  if (heldout.items.length === 0) throw new DataFormatError(d.heldoutPath, 0, '(file)', 'no usable held-out items');
  return { train: train.items, heldout: heldout.items, sft, skipped };
}

async function buildTokenizer(config: RunConfig, corpus: RecipeItem[]): Promise<TextTokenizer & { toJson(): unknown }> {
  if (config.tokenizer.kind === 'hf') return (await loadTokenizer(config.tokenizer.path)) as TextTokenizer & { toJson(): unknown };
  const texts: string[] = [];
  if (config.data.source === 'synthetic') texts.push(syntheticVocabulary().join(' '));
  for (const item of corpus) texts.push(buildPrompt(item), item.sft_response ?? '', item.answer, ...(item.aliases ?? []));
  return WordLevelTokenizer.train(texts, { maxVocab: config.tokenizer.maxVocabSize, minFrequency: config.tokenizer.minFrequency });
}

export function createDataActivities(deps: { store: ArtifactStore; loadConfig: (ref: ArtifactRef) => Promise<RunConfig> }) {
  const { store } = deps;
  return {
    async prepareData(input: { runId: string; config: ArtifactRef }): Promise<DataManifest> {
      const manifestKey = `runs/${input.runId}/data/manifest.json`;
      const done = await store.tryRead(manifestKey);
      if (done) return JSON.parse(done.data.toString('utf8')) as DataManifest;
      const config = await deps.loadConfig(input.config);
      const warnings: string[] = [];
      let sets: { train: RecipeItem[]; heldout: RecipeItem[]; sft: RecipeItem[]; skipped?: number };
      try {
        sets = config.data.source === 'synthetic' ? syntheticItems(config) : await fileItems(config, warnings);
      } catch (err) {
        if (err instanceof RecipeError) throw ApplicationFailure.nonRetryable(err.message, 'DataError');
        throw err;
      }
      const tokenizer = await buildTokenizer(config, [...sets.train, ...sets.heldout, ...sets.sft]);
      const prepare = (items: RecipeItem[]): PreparedItem[] => items.map((it) => ({ ...it, promptTokens: tokenizer.countTokens(promptText(it)) }));
      const train = prepare(sets.train);
      const heldout = prepare(sets.heldout);
      const sft = prepare(sets.sft);
      const budgets = config.rl.phases.map((p) => p.maxInputTokens);
      const { pools, overBudget } = buildPhasePools(train.map((i) => ({ id: i.id, length: i.promptTokens })), budgets);
      // Items over the last budget are middle-truncated into the last phase (recipe.md 6).
      pools[pools.length - 1].push(...overBudget);
      const empty = pools.findIndex((p) => p.length === 0);
      if (empty >= 0 && empty === 0) {
        throw ApplicationFailure.nonRetryable(`rl.phases[0] (${config.rl.phases[0].name}) has no training items of at most ${budgets[0]} tokens; lower the budgets or change the data`, 'DataError');
      }
      const dir = `runs/${input.runId}/data`;
      const tokRef = await store.putJson(`${dir}/tokenizer.json`, tokenizer.toJson());
      const rlRef = await store.putJson(`${dir}/rl-items.json`, { format: 'longrl.items/1', items: train } satisfies ItemsFile);
      const heldRef = await store.putJson(`${dir}/heldout.json`, { format: 'longrl.items/1', items: heldout } satisfies ItemsFile);
      const sftRef = sft.length ? await store.putJson(`${dir}/sft.json`, { format: 'longrl.items/1', items: sft } satisfies ItemsFile) : null;
      const manifest: DataManifest = {
        tokenizer: tokRef,
        vocabSize: tokenizer.vocabSize,
        sft: sftRef ? { ref: sftRef, count: sft.length } : null,
        heldout: { ref: heldRef, count: heldout.length },
        rlItems: rlRef,
        phases: config.rl.phases.map((p, k) => ({ name: p.name, count: pools[k].length, ids: pools[k] })),
        overBudget: overBudget.length,
        skipped: sets.skipped ?? 0,
        warnings,
      };
      await store.putJson(manifestKey, manifest);
      return manifest;
    },
  };
}
