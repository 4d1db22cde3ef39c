/**
 * Atomic, checksummed file writes (architecture.md, durability invariant 2).
 *
 * A write goes to a temp file in the same folder, is fsynced, renamed over the target and
 * the folder is fsynced, so a reader sees either the old file or the whole new one, never
 * a torn write. Temp files are named `.<name>.tmp-<pid>-<rand>` so that leftovers of a
 * killed process can be found and removed (`cleanupTempFiles`).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** A file's content does not match its recorded sha256: not retryable, the data is bad. */
export class CorruptArtifactError extends Error {
  override readonly name = 'CorruptArtifactError';
  constructor(readonly file: string, readonly expected: string, readonly actual: string) {
    super(`${file}: checksum mismatch (expected sha256 ${expected.slice(0, 16)}..., found ${actual.slice(0, 16)}...); the file is corrupt, restore it or fall back to an earlier checkpoint`);
  }
}

/** The disk is full (ENOSPC) or over quota (EDQUOT) while writing `file`. */
export class DiskFullError extends Error {
  override readonly name = 'DiskFullError';
  constructor(readonly file: string, options?: { cause?: unknown }) {
    super(`${file}: no space left on device while writing; free space under ${path.dirname(file)} and retry`, options);
  }
}

export const TEMP_MARKER = '.tmp-';

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  const stream = fs.createReadStream(file);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`);
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * Write `data` to `target` atomically and return its sha256. Parent folders are created.
 * On failure the temp file is removed and the old `target` (if any) is untouched.
 */
export async function writeFileAtomic(target: string, data: Uint8Array | string | readonly Uint8Array[]): Promise<string> {
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const parts = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
  const hash = createHash('sha256');
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx');
    for (const part of parts) {
      const buf = typeof part === 'string' ? Buffer.from(part) : part;
      hash.update(buf);
      let off = 0;
      while (off < buf.byteLength) {
        const { bytesWritten } = await handle.write(buf, off, buf.byteLength - off);
        off += bytesWritten;
      }
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
    await fsyncDir(path.dirname(target));
    return hash.digest('hex');
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    if (isNoSpace(err)) throw new DiskFullError(target, { cause: err });
    throw err;
  }
}

/** Read a file and verify it against an expected sha256; mismatch -> CorruptArtifactError. */
export async function readFileVerified(file: string, expectedSha256: string): Promise<Buffer> {
  const data = await fsp.readFile(file);
  const actual = sha256(data);
  if (actual !== expectedSha256) throw new CorruptArtifactError(file, expectedSha256, actual);
  return data;
}

/** Remove temp files left by killed writers under `dir` (recursively); returns their paths. */
export function cleanupTempFiles(dir: string): Promise<string[]> {
  return removeTempFiles(dir, () => true);
}

async function removeTempFiles(dir: string, stale: (file: string) => boolean): Promise<string[]> {
  const removed: string[] = [];
  for (const file of await listTempFiles(dir)) {
    if (!stale(file)) continue;
    await fsp.rm(file, { force: true });
    removed.push(file);
  }
  return removed;
}

/** Temp files (from `writeFileAtomic`) under `dir`, recursively. */
export async function listTempFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listTempFiles(p)));
    else if (e.name.startsWith('.') && e.name.includes(TEMP_MARKER)) out.push(p);
  }
  return out;
}

/**
 * Remove temp files under `dir` whose writer process (pid in the name) is no longer alive on
 * this host: leftovers of killed workers. Files of live writers are left alone.
 */
export function cleanupStaleTempFiles(dir: string): Promise<string[]> {
  return removeTempFiles(dir, (file) => {
    const m = /\.tmp-(\d+)-[0-9a-f]+$/.exec(file);
    const pid = m ? Number(m[1]) : NaN;
    return !(pid === process.pid || (Number.isFinite(pid) && isAlive(pid)));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
