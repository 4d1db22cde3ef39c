/**
 * Off-main-thread executor: `EngineHost` runs a worker thread that owns ORT sessions and
 * loaded handler modules, and serves calls from the main thread by message passing, so
 * the main event loop (Temporal heartbeats, cancellation, polling) stays live while ORT
 * computes. Calls run one at a time in order; cancelling a call drops it if it has not
 * started and aborts its `ctx.signal` if it has (handlers check it between runs; a single
 * ORT run is not interrupted). Results come back by transfer (no copy) for engine.run.
 */
import { Worker } from 'node:worker_threads';
import * as path from 'node:path';
import { Graph } from '../graph/graph';
import { serialize, EmitOptions } from '../graph/onnx';
import * as execErrors from './errors';
import * as graphErrors from '../graph/errors';
import { CancelledError, HostError } from './errors';
import { HostTensor, IoSpec, SessionOptions } from './session';
import { FromWorker, ToWorker, WireError } from './protocol';

export interface HostOptions {
  /** ORT intra-op threads for sessions compiled in the worker. */
  readonly threads?: number;
  /** Path of the worker entry (default: the compiled host-worker.js next to this file). */
  readonly workerPath?: string;
}

export interface CallOptions {
  /** Cancels the call (before it starts, or between runs inside it). */
  readonly signal?: AbortSignal;
  /** Buffers of `args` to move to the worker instead of copying (they detach here). */
  readonly transfer?: readonly ArrayBuffer[];
  /** Receives the values the handler reports with `ctx.progress(...)`. */
  readonly onProgress?: (value: unknown) => void;
}

/** A graph compiled inside the host's worker. */
export interface RemoteSession {
  readonly handle: string;
  readonly inputs: readonly IoSpec[];
  readonly outputs: readonly IoSpec[];
}

const ERROR_CLASSES: Record<string, new (...a: any[]) => Error> = {};
for (const mod of [execErrors, graphErrors] as Record<string, unknown>[]) {
  for (const v of Object.values(mod)) if (typeof v === 'function' && v.prototype instanceof Error) ERROR_CLASSES[(v as { name: string }).name] = v as new (...a: any[]) => Error;
}

/** Rebuilds an error from the worker as the same typed class when it is one of the engine's. */
function fromWire(w: WireError): Error {
  const C = ERROR_CLASSES[w.name];
  const e: Error = C ? (Object.create(C.prototype) as Error) : new Error(w.message);
  Object.defineProperty(e, 'message', { value: w.message, enumerable: false, writable: true, configurable: true });
  Object.defineProperty(e, 'stack', { value: `${w.name}: ${w.message}\n    (in engine worker) ${w.stack ?? ''}`, enumerable: false, writable: true, configurable: true });
  for (const [k, v] of Object.entries(w.props)) Object.defineProperty(e, k, { value: v, enumerable: true, configurable: true });
  if (!C) Object.defineProperty(e, 'name', { value: w.name, enumerable: false, configurable: true });
  return e;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  name: string;
  onProgress?: (value: unknown) => void;
  cleanup(): void;
}

/** Main-thread handle of the engine worker. */
export class EngineHost {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private exitError: Error | null = null;

  private constructor(private readonly worker: Worker) {
    // An idle engine thread must not keep the process alive (a worker process that drained
    // its Temporal worker should exit); it is ref'd only while a call is in flight.
    worker.unref();
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (e) => this.fail(new HostError(`engine worker crashed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => this.fail(new HostError(`engine worker exited (code ${code})`)));
  }

  /** Starts the worker thread and waits until it is ready. */
  static async start(opts: HostOptions = {}): Promise<EngineHost> {
    const file = opts.workerPath ?? path.join(__dirname, 'host-worker.js');
    const worker = new Worker(file, { workerData: { threads: opts.threads } });
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: FromWorker): void => {
        if (m.type === 'ready') {
          worker.off('error', onErr);
          resolve();
        }
      };
      const onErr = (e: Error): void => reject(new HostError(`engine worker failed to start (${file}): ${e.message}`, { cause: e }));
      worker.once('message', onMsg);
      worker.once('error', onErr);
    });
    return new EngineHost(worker);
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'ready') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') {
      p.onProgress?.(m.value);
      return;
    }
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    p.cleanup();
    if (m.ok) p.resolve(m.value);
    else p.reject(fromWire(m.error));
  }

  private fail(e: Error): void {
    if (this.exitError) return;
    this.exitError = this.closed ? new HostError('engine host is closed') : e;
    for (const p of this.pending.values()) {
      p.cleanup();
      p.reject(this.exitError);
    }
    this.pending.clear();
  }

  /** Calls handler `name` in the worker with `args` (structured-cloned unless transferred). */
  call<T = unknown>(name: string, args: unknown = {}, opts: CallOptions = {}): Promise<T> {
    if (this.closed || this.exitError) return Promise.reject(this.exitError ?? new HostError('engine host is closed'));
    if (opts.signal?.aborted) return Promise.reject(new CancelledError(name));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => this.worker.postMessage({ type: 'cancel', id } satisfies ToWorker);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.worker.ref();
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        name,
        onProgress: opts.onProgress,
        cleanup: () => opts.signal?.removeEventListener('abort', onAbort),
      });
      try {
        this.worker.postMessage({ type: 'call', id, handler: name, args } satisfies ToWorker, [...(opts.transfer ?? [])]);
      } catch (e) {
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
        reject(new HostError(`could not send call '${name}' to the engine worker: ${(e as Error).message}`, { cause: e }));
      }
    });
  }

  /** Loads a handler module (compiled JS path) into the worker; returns its handler names. */
  load(modulePath: string, options?: unknown): Promise<string[]> {
    return this.call<string[]>('host.load', { module: path.resolve(modulePath), options });
  }

  /** Compiles a graph (or ONNX bytes) in the worker. */
  async compile(model: Graph | Uint8Array, opts: SessionOptions & EmitOptions = {}): Promise<RemoteSession> {
    const bytes = model instanceof Graph ? serialize(model, opts) : model;
    const { threads, optimization } = opts;
    return this.call<RemoteSession>('engine.compile', { model: bytes, options: { threads, optimization } });
  }

  /**
   * Runs a compiled graph in the worker. With `transferFeeds`, the feeds' buffers move to the
   * worker (detached here: do not reuse them).
   */
  run(session: RemoteSession, feeds: Readonly<Record<string, HostTensor>>, opts: { outputs?: readonly string[]; signal?: AbortSignal; transferFeeds?: boolean } = {}): Promise<Record<string, HostTensor>> {
    const transfer = opts.transferFeeds ? [...new Set(Object.values(feeds).map((f) => f.data.buffer as ArrayBuffer))] : [];
    return this.call('engine.run', { handle: session.handle, feeds, outputs: opts.outputs }, { signal: opts.signal, transfer });
  }

  /** Releases a compiled session in the worker. */
  async dispose(session: RemoteSession): Promise<void> {
    await this.call('engine.dispose', { handle: session.handle });
  }

  /** Stops the worker (pending calls reject with HostError). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new HostError('engine host is closed'));
    await this.worker.terminate();
  }
}
