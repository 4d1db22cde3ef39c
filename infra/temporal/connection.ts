/**
 * How longrl reaches a Temporal server: the embedded dev server on localhost, or an
 * existing server or cluster (`--address`, `--namespace`, TLS client cert/key for mTLS,
 * `TEMPORAL_API_KEY` for Temporal Cloud).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { TemporalConnectError, UserError } from '../errors';

export const DEFAULT_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

export const TASK_QUEUES = {
  orchestrator: 'longrl-orchestrator',
  compute: 'longrl-compute',
  judge: 'longrl-judge',
} as const;

export interface ServerTarget {
  readonly address: string;
  readonly namespace: string;
  readonly tlsCertPath?: string;
  readonly tlsKeyPath?: string;
  readonly tlsServerName?: string;
  /** Name of the env var holding an API key (Temporal Cloud); the key never enters config. */
  readonly apiKeyEnv?: string;
}

export function parseAddress(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port < 65536)) throw new UserError(`--address ${address}: expected HOST:PORT, for example ${DEFAULT_ADDRESS}`);
  return { host: m[1], port };
}

function tlsOptions(t: ServerTarget) {
  if (!t.tlsCertPath && !t.tlsKeyPath) return t.apiKeyEnv ? true : undefined;
  if (!t.tlsCertPath || !t.tlsKeyPath) throw new UserError('TLS needs both --tls-cert and --tls-key');
  const read = (p: string, what: string) => {
    try {
      return fs.readFileSync(p);
    } catch (err) {
      throw new UserError(`${what} ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  };
  return { serverNameOverride: t.tlsServerName, clientCertPair: { crt: read(t.tlsCertPath, '--tls-cert'), key: read(t.tlsKeyPath, '--tls-key') } };
}

function apiKey(t: ServerTarget): string | undefined {
  if (!t.apiKeyEnv) return undefined;
  const key = process.env[t.apiKeyEnv];
  if (!key) throw new UserError(`--api-key-env ${t.apiKeyEnv}: the environment variable is not set`);
  return key;
}

/** Can a TCP connection be opened to host:port? 'open', or why not ('connection refused', 'timed out', an errno code). */
export function probeTcp(address: string, timeoutMs = 1000): Promise<'open' | string> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (v: string) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    sock.once('connect', () => done('open'));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'connection refused' : e.code ?? e.message));
  });
}

/** Is something accepting TCP connections at host:port? */
export async function isListening(address: string, timeoutMs = 1000): Promise<boolean> {
  return (await probeTcp(address, timeoutMs)) === 'open';
}

function unreachable(t: ServerTarget, err: unknown): TemporalConnectError {
  return new TemporalConnectError(
    `cannot reach a Temporal server at ${t.address} (${(err as Error).message.split('\n')[0]}); start one with 'longrl dev', or check --address / --namespace / TLS options`,
    t.address,
    { cause: err },
  );
}

/** A client connection, verified by a cheap RPC so that a wrong address fails here with one clear line. */
export async function connectClient(t: ServerTarget, timeoutMs = 10_000): Promise<Connection> {
  parseAddress(t.address);
  // Plain TCP first: a closed port says so at once instead of after the RPC deadline.
  if (!t.tlsCertPath && !t.apiKeyEnv) {
    const tcp = await probeTcp(t.address, Math.min(timeoutMs, 3000));
    if (tcp !== 'open') throw unreachable(t, new Error(tcp));
  }
  const opts: ConnectionOptions = { address: t.address, tls: tlsOptions(t), apiKey: apiKey(t), connectTimeout: timeoutMs };
  let conn: Connection | undefined;
  try {
    conn = await Connection.connect(opts);
    await conn.workflowService.getSystemInfo({});
    return conn;
  } catch (err) {
    await conn?.close().catch(() => undefined);
    throw unreachable(t, err);
  }
}

/** A worker connection (Rust core), verified likewise. */
export async function connectWorker(t: ServerTarget): Promise<NativeConnection> {
  parseAddress(t.address);
  if (!t.tlsCertPath && !t.apiKeyEnv) {
    const tcp = await probeTcp(t.address, 3000);
    if (tcp !== 'open') throw unreachable(t, new Error(tcp));
  }
  const opts: NativeConnectionOptions = { address: t.address, tls: tlsOptions(t), apiKey: apiKey(t) };
  try {
    return await NativeConnection.connect(opts);
  } catch (err) {
    throw unreachable(t, err);
  }
}

/** Is a Temporal frontend (not some other program) serving at this address? */
export async function isTemporal(t: ServerTarget, timeoutMs = 3000): Promise<boolean> {
  try {
    const conn = await connectClient(t, timeoutMs);
    await conn.close();
    return true;
  } catch {
    return false;
  }
}
