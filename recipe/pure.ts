/**
 * The deterministic part of the recipe, safe to import from Temporal workflow code: no Node
 * built-ins, no I/O, no Math.random, no Date (checked by test/unit/recipe/purity.test.ts).
 */
export { deriveSeed, stepSeed, Rng } from './rng';
export * from './errors';
export { assignPhase, bucketByPhase, validatePhaseBudgets, type PhaseBuckets } from './data/phases';
export * from './algorithms/advantages';
export * from './algorithms/overlong';
export * from './algorithms/dynamic-sampling';
export * from './algorithms/pass-at-k';
export * from './curriculum/phase-pools';
export * from './curriculum/retrospective';
export * from './curriculum/batch';
