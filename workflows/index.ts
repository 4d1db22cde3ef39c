/** Every workflow type the orchestrator worker registers. */
export { plumbingSmoke } from './smoke';
