/** Seeded sampling in TypeScript. */
export { Rng, deriveSeed } from './rng';
export { sampleToken, validateSampling, SamplingOptionError } from './sampler';
export type { SamplingOptions, Sampled } from './sampler';
