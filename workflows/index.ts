/** Every workflow type the orchestrator worker registers. */
export { plumbingSmoke } from './smoke';
export { TrainingRun } from './run';
export { SftStage } from './sft';
export { RlPhase } from './phase';
