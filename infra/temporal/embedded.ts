/**
 * The embedded stack of `longrl train` without `--address`: the Temporal dev server on the
 * persistent SQLite file (`.longrl/temporal.db`, Web UI on port 8233; a server already
 * listening is reused) and the three workers (orchestrator, compute, judge) in this process.
 *
 * Everything the run needs survives `stop()`: workflow state is in the SQLite file and
 * artifacts are in the store, so the run resumes on the next `longrl dev` or `longrl train`.
 */
import * as path from 'node:path';
import type { LongrlWorker } from '../../workers';
import { createWorker, WORKER_KINDS } from '../../workers';
import { stateDir } from './acquire';
import { DEFAULT_ADDRESS, DEFAULT_NAMESPACE, type ServerTarget } from './connection';
import { ensureDevServer, type DevServer } from './devserver';

export interface EmbeddedOptions {
  /** Server address (default 127.0.0.1:7233). */
  readonly address?: string;
  readonly namespace?: string;
  /** SQLite file of the dev server (default `.longrl/temporal.db`). */
  readonly dbFile?: string;
  /** Artifact store root handed to the workers (default `.longrl/artifacts`). */
  readonly storeRoot?: string;
  readonly log?: (line: string) => void;
}

export interface EmbeddedStack {
  readonly target: ServerTarget;
  /** Web UI base URL (undefined when a reused server has no UI). */
  readonly uiUrl: string | undefined;
  /** True when the dev server was already running (it is then left running by `stop()`). */
  readonly reusedServer: boolean;
  readonly server: DevServer;
  readonly workers: readonly LongrlWorker[];
  /** Resolves when every worker has stopped (after `stop()` or a SIGINT drained them). */
  readonly stopped: Promise<void>;
  /** Drain the workers, then stop the dev server if this process started it. Idempotent. */
  stop(): Promise<void>;
}

/** The default SQLite file of the embedded dev server. */
export function defaultDbFile(): string {
  return path.join(stateDir(), 'temporal.db');
}

/**
 * Start (or reuse) the dev server and run the three workers in this process.
 * A failure while creating a worker stops what was already started.
 */
export async function startEmbedded(opts: EmbeddedOptions = {}): Promise<EmbeddedStack> {
  const log = opts.log ?? (() => undefined);
  const server = await ensureDevServer({
    address: opts.address ?? DEFAULT_ADDRESS,
    namespace: opts.namespace ?? DEFAULT_NAMESPACE,
    dbFile: opts.dbFile ?? defaultDbFile(),
    log,
  });
  const workers: LongrlWorker[] = [];
  try {
    for (const kind of WORKER_KINDS) workers.push(await createWorker(kind, { target: server.target, storeRoot: opts.storeRoot }));
  } catch (err) {
    for (const w of workers) if (w.getState() === 'INITIALIZED') await w.runUntil(Promise.resolve()).catch(() => undefined);
    await server.stop();
    throw err;
  }
  const runs = workers.map((w) => w.run());
  const stopped = Promise.allSettled(runs).then(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    target: server.target,
    uiUrl: server.uiUrl,
    reusedServer: server.reused,
    server,
    workers,
    stopped,
    stop() {
      stopping ??= (async () => {
        for (const w of workers) {
          const s = w.getState();
          if (s === 'RUNNING') w.shutdown();
        }
        await stopped;
        await server.stop();
      })();
      return stopping;
    },
  };
}
