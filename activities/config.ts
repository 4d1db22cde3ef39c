/**
 * Config resolution for a run (orchestrator queue): the workflow input may come from the CLI
 * (a validated config object) or from the Temporal UI's Start Workflow form (any JSON the
 * operator typed), so it is validated here and rejected with the config paths at fault.
 * Accepted shapes: a config object; a JSON string of one; a preset name (`"quick"`); or
 * `{ "preset": "quick", "set": ["rl.phases[0].steps=2"] }`.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ConfigError, listPresets, loadConfig, parseConfigJson, type LoadedConfig } from '../config';
import type { ArtifactStore } from '../infra/store/artifacts';
import { ledgerKeys } from './ledger';
import type { ResolvedConfig } from './types';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function resolveRaw(raw: unknown, source = 'workflow input'): Promise<LoadedConfig> {
  if (typeof raw === 'string') {
    const t = raw.trim();
    if (listPresets().includes(t)) return loadConfig({ preset: t });
    return parseConfigJson(raw, source);
  }
  if (isObject(raw) && typeof raw.preset === 'string' && Object.keys(raw).every((k) => k === 'preset' || k === 'set')) {
    const sets = raw.set === undefined ? [] : raw.set;
    if (!Array.isArray(sets) || !sets.every((s) => typeof s === 'string')) {
      throw new ConfigError(source, [{ path: 'set', message: 'must be a list of "path=value" strings' }]);
    }
    return loadConfig({ preset: raw.preset, sets: sets as string[] });
  }
  if (raw === undefined || raw === null) {
    throw new ConfigError(source, [{ path: '', message: 'missing: the workflow input needs a "config" (a config object, a preset name such as "quick", or {"preset": "quick", "set": [...]})' }]);
  }
  return parseConfigJson(JSON.stringify(raw), source);
}

export function summarize(c: LoadedConfig['config']): string {
  const m = c.model;
  const phases = c.rl.phases.map((p) => `${p.name}:${p.maxInputTokens}x${p.steps}`).join(',');
  return `model ${m.numHiddenLayers}L d${m.hiddenSize} h${m.numAttentionHeads}/${m.numKeyValueHeads}; data ${c.data.source}; sft ${c.sft.enabled ? `${c.sft.epochs} ep` : 'off'}; phases ${phases}; G ${c.rl.groupSize} B ${c.rl.trainBatchSize}; judge ${c.reward.judge.enabled ? c.reward.judge.model : 'off'}`;
}

export function createConfigActivities(deps: { store: ArtifactStore }) {
  return {
    async resolveRunConfig(input: { runId: string; raw: unknown; source?: string }): Promise<ResolvedConfig> {
      let loaded: LoadedConfig;
      try {
        loaded = await resolveRaw(input.raw, input.source ? `config from ${input.source}` : 'workflow input');
      } catch (err) {
        if (err instanceof ConfigError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidConfig');
        throw err;
      }
      const ref = await deps.store.putJson(ledgerKeys.config(input.runId), loaded.config);
      return { config: loaded.config, ref, hash: loaded.hash, summary: summarize(loaded.config) };
    },
  };
}
