/**
 * Entry point of the engine's worker thread (loaded as compiled JS by host.ts). Owns the
 * ORT sessions and any loaded handler modules; runs calls one at a time in arrival order.
 * Built-in handlers: engine.compile, engine.run, engine.dispose, host.load, host.ping.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Session, HostTensor, SessionOptions } from './session';
import { CancelledError, ExecError } from './errors';
import { FromWorker, Handler, HandlerContext, HostModule, ToWorker, toWire } from './protocol';

interface WorkerConfig {
  readonly threads?: number;
}

const config = (workerData ?? {}) as WorkerConfig;
const port = parentPort;
if (!port) throw new Error('engine/exec/host-worker.js must run in a worker thread');

const sessions = new Map<string, Session>();
const handlers = new Map<string, Handler>();
const cancelled = new Set<number>();
const running = new Map<number, AbortController>();

handlers.set('host.ping', () => 'pong');
handlers.set('host.load', async (args: { module: string; options?: unknown }) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(args.module) as Partial<HostModule>;
  if (!mod.handlers) throw new ExecError(`module ${args.module} exports no 'handlers' object`);
  const names = Object.keys(mod.handlers);
  for (const n of names) {
    if (handlers.has(n)) throw new ExecError(`handler '${n}' of ${args.module} is already registered`);
  }
  for (const n of names) handlers.set(n, mod.handlers[n]);
  if (mod.init) await mod.init(args.options);
  return names;
});
handlers.set('engine.compile', async (args: { model: Uint8Array; options?: SessionOptions }) => {
  const s = await Session.create(args.model, { threads: config.threads, ...args.options });
  sessions.set(s.signature, s);
  return { handle: s.signature, inputs: s.inputs, outputs: s.outputs };
});
handlers.set('engine.run', async (args: { handle: string; feeds: Record<string, HostTensor>; outputs?: string[] }, ctx: HandlerContext) => {
  const s = sessions.get(args.handle);
  if (!s) throw new ExecError(`no compiled session '${args.handle}' in the worker; compile it first`);
  const out = await s.run(args.feeds, { outputs: args.outputs });
  const bufs = new Set<ArrayBuffer>();
  for (const t of Object.values(out)) {
    const b = t.data.buffer as ArrayBuffer;
    if (t.data.byteOffset === 0 && t.data.byteLength === b.byteLength) bufs.add(b);
  }
  ctx.transfer(...bufs);
  return out;
});
handlers.set('engine.dispose', async (args: { handle: string }) => {
  const s = sessions.get(args.handle);
  sessions.delete(args.handle);
  if (s) await s.dispose();
  return true;
});

let queue: Promise<void> = Promise.resolve();

async function execute(id: number, name: string, args: unknown): Promise<void> {
  const ac = new AbortController();
  running.set(id, ac);
  const transfer: ArrayBuffer[] = [];
  const ctx: HandlerContext = {
    signal: ac.signal,
    throwIfCancelled: () => {
      if (ac.signal.aborted) throw new CancelledError(name);
    },
    transfer: (...b) => { transfer.push(...b); },
    progress: (value) => { port!.postMessage({ type: 'progress', id, value } satisfies FromWorker); },
  };
  let msg: FromWorker;
  try {
    if (cancelled.has(id)) throw new CancelledError(name);
    const h = handlers.get(name);
    if (!h) throw new ExecError(`no handler '${name}' in the worker (registered: ${[...handlers.keys()].join(', ')}); load its module with host.load()`);
    const value = await h(args, ctx);
    msg = { type: 'result', id, ok: true, value };
  } catch (e) {
    msg = { type: 'result', id, ok: false, error: toWire(e) };
  } finally {
    running.delete(id);
    cancelled.delete(id);
  }
  try {
    port!.postMessage(msg, transfer);
  } catch (e) {
    port!.postMessage({ type: 'result', id, ok: false, error: toWire(e) } satisfies FromWorker);
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') {
    cancelled.add(m.id);
    running.get(m.id)?.abort();
    return;
  }
  queue = queue.then(() => execute(m.id, m.handler, m.args));
});
port.postMessage({ type: 'ready' } satisfies FromWorker);
