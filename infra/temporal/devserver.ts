/**
 * The embedded Temporal dev server: `temporal server start-dev` on a persistent SQLite file,
 * with the Web UI and longrl's search attributes. Reuses a server already listening on the
 * address instead of starting a second one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { temporal } from '@temporalio/proto';
import { UserError } from '../errors';
import { acquireTemporalCli, stateDir } from './acquire';
import { connectClient, isListening, isTemporal, parseAddress, DEFAULT_NAMESPACE, type ServerTarget } from './connection';

/** longrl's custom search attributes (architecture.md, Operators). */
export const SEARCH_ATTRIBUTES = {
  LongrlStatus: 'Keyword',
  LongrlPhase: 'Keyword',
  LongrlStep: 'Int',
  LongrlReward: 'Double',
  LongrlConfig: 'Keyword',
} as const;

const IVT = temporal.api.enums.v1.IndexedValueType;
const IVT_OF = { Keyword: IVT.INDEXED_VALUE_TYPE_KEYWORD, Int: IVT.INDEXED_VALUE_TYPE_INT, Double: IVT.INDEXED_VALUE_TYPE_DOUBLE } as const;

export interface DevServerOptions {
  readonly address?: string;
  readonly uiPort?: number;
  readonly namespace?: string;
  /** SQLite file; `null` keeps state in memory (tests). Default `.longrl/temporal.db`. */
  readonly dbFile?: string | null;
  readonly logFile?: string;
  readonly cliPath?: string;
  readonly readyTimeoutMs?: number;
  readonly log?: (line: string) => void;
  /** More `temporal server start-dev` arguments (e.g. `--dynamic-config-value K=V`). */
  readonly extraArgs?: readonly string[];
}

export interface DevServer {
  readonly target: ServerTarget;
  readonly uiUrl: string | undefined;
  /** The process we started, or undefined when an existing server was reused. */
  readonly child: ChildProcess | undefined;
  readonly reused: boolean;
  /** Stop a server we started (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
}

/**
 * Dynamic config for the embedded single-machine server. The dev server has one history
 * shard, and its transfer-queue reader polls at most `history.transferProcessorMaxPollRPS`
 * (default 20) times a second: every workflow or activity task dispatched within 50 ms of
 * the previous one waited up to 50 ms. An RL step is a chain of short hops (rollout, score,
 * update, checkpoint), so this throttle alone cost ~45 ms per hop; measured here with 100
 * back-to-back no-op activities: 91 ms per round trip at the default, 20 ms at 1000.
 * (`npm run bench:pipeline` shows the effect on real steps.) On a production cluster this
 * is the operator's setting; see docs/troubleshooting.md.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, number>> = {
  'history.transferProcessorMaxPollRPS': 1000,
};

/** Register longrl's search attributes (idempotent). */
export async function ensureSearchAttributes(target: ServerTarget): Promise<void> {
  const conn = await connectClient(target);
  try {
    const existing = await conn.operatorService.listSearchAttributes({ namespace: target.namespace });
    const have = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([k]) => !have.has(k));
    if (missing.length === 0) return;
    const searchAttributes = Object.fromEntries(missing.map(([k, t]) => [k, IVT_OF[t]]));
    try {
      await conn.operatorService.addSearchAttributes({ namespace: target.namespace, searchAttributes });
    } catch (err) {
      if (!/already exists/i.test((err as Error).message)) throw err;
    }
  } finally {
    await conn.close();
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/**
 * Start (or reuse) a dev server. Reuse when a Temporal frontend already answers on the
 * address; fail with a clear error when something else holds the port.
 */
export async function ensureDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const address = opts.address ?? '127.0.0.1:7233';
  const namespace = opts.namespace ?? DEFAULT_NAMESPACE;
  const { host, port } = parseAddress(address);
  const uiPort = opts.uiPort ?? port + 1000;
  const target: ServerTarget = { address, namespace };
  const log = opts.log ?? (() => undefined);

  if (await isListening(address)) {
    if (await isTemporal(target)) {
      log(`reusing the Temporal server already listening on ${address}`);
      await ensureSearchAttributes(target);
      const uiUrl = (await isListening(`${host}:${uiPort}`)) ? `http://${host === '127.0.0.1' ? 'localhost' : host}:${uiPort}` : undefined;
      return { target, uiUrl, child: undefined, reused: true, stop: async () => undefined };
    }
    throw new UserError(`port ${port} on ${host} is in use by a program that is not a Temporal server; stop it or pick another port with --address ${host}:PORT`);
  }
  if (await isListening(`${host}:${uiPort}`)) {
    throw new UserError(`UI port ${uiPort} on ${host} is in use; stop that program or choose another with --ui-port`);
  }

  const cli = opts.cliPath ?? (await acquireTemporalCli({ log })).path;
  const dbFile = opts.dbFile === undefined ? path.join(stateDir(), 'temporal.db') : opts.dbFile;
  const logFile = opts.logFile ?? path.join(stateDir(), 'temporal.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const args = ['server', 'start-dev', '--ip', host, '--port', String(port), '--ui-port', String(uiPort), '--namespace', namespace, '--log-level', 'warn'];
  if (dbFile) {
    fs.mkdirSync(path.dirname(dbFile), { recursive: true });
    args.push('--db-filename', dbFile);
  }
  for (const [k, t] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${k}=${t}`);
  for (const [k, v] of Object.entries(DEV_SERVER_DYNAMIC_CONFIG)) args.push('--dynamic-config-value', `${k}=${v}`);
  args.push(...(opts.extraArgs ?? []));
  const out = fs.openSync(logFile, 'a');
  // Its own process group: a terminal's Ctrl-C reaches longrl, which drains the workers
  // first and then stops the server, instead of the server dying under them.
  const child = spawn(cli, args, { stdio: ['ignore', out, out], detached: true });
  fs.closeSync(out);
  let exited = false;
  child.once('exit', () => (exited = true));

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (!(await isTemporal(target, 1000))) {
    if (exited) {
      const tail = fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
      throw new UserError(`the Temporal dev server exited at start (${tail.slice(0, 400)}); see ${logFile}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new UserError(`the Temporal dev server did not answer on ${address} within ${Math.round((opts.readyTimeoutMs ?? 60_000) / 1000)} s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await ensureSearchAttributes(target);
  const uiUrl = `http://${host === '127.0.0.1' ? 'localhost' : host}:${uiPort}`;
  return {
    target,
    uiUrl,
    child,
    reused: false,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5_000);
      }
    },
  };
}
