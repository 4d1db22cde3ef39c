/** Public entry point of the executor: in-thread sessions and the worker-thread host. See engine/graph/API.md. */
export { Session, hostTensor, cachedSessionCount } from './session';
export type { HostTensor, SessionOptions, RunOptions, IoSpec } from './session';
export { EngineHost } from './host';
export type { HostOptions, CallOptions, RemoteSession } from './host';
export type { Handler, HandlerContext, HostModule } from './protocol';
export * from './errors';
