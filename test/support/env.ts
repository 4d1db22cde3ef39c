/** Test environment helpers: the shared dev server's address, temp folders, child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ServerTarget } from '../../infra/temporal/connection';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'longrl.js');

/** The dev server started once per test run by the global fixture. */
export function testTarget(): ServerTarget {
  const address = process.env.LONGRL_TEST_ADDRESS;
  if (!address) throw new Error('LONGRL_TEST_ADDRESS is not set: run integration tests through scripts/run-tests.js (npm test)');
  return { address, namespace: 'default' };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `longrl-${prefix}-`));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Proc {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves when a line matching `re` has been printed (stdout or stderr). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  exited(): Promise<number | null>;
}

/** Start `node bin/longrl.js ARGS` as a separate process. */
export function longrl(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners: Array<() => void> = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (re.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in output of longrl ${args.join(' ')}:\n${out}`)), timeoutMs);
        listeners.push(check);
        check();
        void exit.then((code) => {
          if (!re.test(out)) {
            clearTimeout(timer);
            reject(new Error(`longrl ${args.join(' ')} exited (${code}) before printing ${re}:\n${out}`));
          }
        });
      });
    },
    exited: () => exit,
  };
}

/**
 * Stop worker processes: SIGTERM (they drain gracefully), then SIGKILL whatever is still
 * alive after `graceMs`, so that no test leaves pollers behind.
 */
export async function stopProcs(procs: readonly Proc[], graceMs: number): Promise<void> {
  const alive = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;
  for (const p of procs) if (alive(p)) p.child.kill('SIGTERM');
  const timer = setTimeout(() => procs.forEach((p) => alive(p) && p.child.kill('SIGKILL')), graceMs);
  await Promise.all(procs.map((p) => p.exited()));
  clearTimeout(timer);
}

/** Poll `fn` until it returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
