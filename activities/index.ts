/**
 * Activity sets per task queue, created by factories that inject the artifact store, the
 * compute engine and the judge (style.md: `createActivities(deps)`).
 */
import type { RunConfig } from '../config/schema';
import type { ArtifactRef, ArtifactStore } from '../infra/store/artifacts';
import { createComputeActivities } from './compute';
import { createConfigActivities } from './config';
import { createDataActivities } from './data';
import { ComputeEngine } from './engine-state';
import { createJudgeActivities } from './judge';
import { createLedgerActivities } from './ledger';
import { createReportActivities } from './report';
import { createRewardActivities } from './reward';
import { createSmokeActivities } from './smoke';
import type { ComputeActivities, JudgeActivities, OrchestratorActivities } from './types';

/** `longrl-compute`: engine work. One engine (one resident policy) per worker process. */
export function createComputeActivitySet(deps: { store: ArtifactStore; engine?: ComputeEngine; threads?: number }) {
  const engine = deps.engine ?? new ComputeEngine(deps.store, deps.threads);
  // Fused generation scores with the rule verifiers only: no judge client on compute workers.
  const { scoreRollout } = createRewardActivities({ store: deps.store, loadConfig: (ref) => engine.loadConfig(ref), judgeOverride: () => undefined });
  const set = {
    ...createSmokeActivities({ store: deps.store }),
    ...createDataActivities({ store: deps.store, loadConfig: (ref) => engine.loadConfig(ref) }),
    ...createComputeActivities({ engine, scoreRuleOnly: scoreRollout }),
  };
  return set satisfies ComputeActivities;
}

/** `longrl-judge`: rewards (rule verifiers + LLM judge). */
export function createJudgeActivitySet(deps: { store: ArtifactStore }) {
  const loadConfig = (ref: ArtifactRef) => deps.store.getJsonCached<RunConfig>(ref);
  const set = { ...createJudgeActivities(), ...createRewardActivities({ store: deps.store, loadConfig }) };
  return set satisfies JudgeActivities;
}

/** `longrl-orchestrator`: light bookkeeping next to the workflows. */
export function createOrchestratorActivitySet(deps: { store: ArtifactStore }) {
  const set = { ...createConfigActivities(deps), ...createReportActivities(deps), ...createLedgerActivities(deps) };
  return set satisfies OrchestratorActivities;
}

export { ComputeEngine };
