/**
 * The worker host's message protocol and the contract for handler modules that run inside
 * the worker thread (e.g. the policy model keeping its parameters and optimizer state
 * there across calls).
 */

/** What a handler gets besides its arguments. */
export interface HandlerContext {
  /** Aborted when the caller cancels this call; check it between session runs. */
  readonly signal: AbortSignal;
  /** Throws CancelledError if this call was cancelled. */
  throwIfCancelled(): void;
  /**
   * Marks buffers of the result to be moved (not copied) to the main thread. Only pass
   * buffers the handler will not use again (they are detached in the worker).
   */
  transfer(...buffers: ArrayBuffer[]): void;
  /** Sends a progress value to the caller's `onProgress` (e.g. for activity heartbeats). */
  progress(value: unknown): void;
}

/** A named operation callable from the main thread: `host.call(name, args)`. */
export type Handler = (args: any, ctx: HandlerContext) => unknown;

/**
 * A module loaded into the worker with `host.load(path)`: compiled JS (dist/...) that
 * exports `handlers` (name -> Handler), and optionally `init(options)` run once on load.
 */
export interface HostModule {
  readonly handlers: Readonly<Record<string, Handler>>;
  init?(options: unknown): unknown;
}

/** Serialised error crossing the thread boundary (class name, message, readonly context fields). */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly props: Record<string, unknown>;
}

export type ToWorker =
  | { readonly type: 'call'; readonly id: number; readonly handler: string; readonly args: unknown }
  | { readonly type: 'cancel'; readonly id: number };

export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly id: number; readonly value: unknown }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly error: WireError };

export function toWire(e: unknown): WireError {
  if (e instanceof Error) {
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) {
      if (k === 'cause') continue;
      try {
        structuredClone(v);
        props[k] = v;
      } catch {
        props[k] = String(v);
      }
    }
    return { name: e.name, message: e.message, stack: e.stack, props };
  }
  return { name: 'Error', message: String(e), props: {} };
}
