/**
 * The artifact store: where rollouts, token tensors, checkpoints and results live, so that
 * workflow history holds only small references (architecture.md). A local folder by default.
 * Keys are relative POSIX paths; every write is atomic and returns a reference with sha256.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { UserError } from '../errors';
import { readFileVerified, sha256, writeFileAtomic } from './atomic';

/** A small, history-safe pointer to an artifact. */
export interface ArtifactRef {
  readonly key: string;
  readonly sha256: string;
  readonly bytes: number;
}

export class ArtifactNotFoundError extends Error {
  override readonly name = 'ArtifactNotFoundError';
  constructor(readonly key: string, readonly root: string) {
    super(`artifact '${key}' not found under ${root}`);
  }
}

/** Parsed JSON artifacts kept per store (by checksum: a verified artifact never changes). */
const JSON_CACHE_ENTRIES = 32;

export class ArtifactStore {
  readonly root: string;
  private readonly jsonCache = new Map<string, Promise<unknown>>();
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Absolute path of a key; rejects keys that escape the store. */
  pathOf(key: string): string {
    if (!key || path.isAbsolute(key) || key.split(/[\\/]/).some((p) => p === '..' || p === '')) {
      throw new UserError(`artifact key '${key}': must be a relative path inside the store without '..' or empty parts`);
    }
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, data: Uint8Array | string): Promise<ArtifactRef> {
    const digest = await writeFileAtomic(this.pathOf(key), data);
    return { key, sha256: digest, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength };
  }

  async putJson(key: string, value: unknown): Promise<ArtifactRef> {
    return this.put(key, JSON.stringify(value));
  }

  /** Read and verify against the reference's checksum (CorruptArtifactError on mismatch). */
  async get(ref: ArtifactRef): Promise<Buffer> {
    try {
      return await readFileVerified(this.pathOf(ref.key), ref.sha256);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ArtifactNotFoundError(ref.key, this.root);
      throw err;
    }
  }

  async getJson<T>(ref: ArtifactRef): Promise<T> {
    return JSON.parse((await this.get(ref)).toString('utf8')) as T;
  }

  /**
   * `getJson`, cached by the reference's checksum (configs and item files are read by every
   * activity). A failed read is not cached. Callers must not mutate what they get, except to
   * memoise derived indexes on it.
   */
  getJsonCached<T>(ref: ArtifactRef): Promise<T> {
    let p = this.jsonCache.get(ref.sha256);
    if (!p) {
      p = this.getJson<T>(ref);
      p.catch(() => this.jsonCache.delete(ref.sha256));
      this.jsonCache.set(ref.sha256, p);
      if (this.jsonCache.size > JSON_CACHE_ENTRIES) this.jsonCache.delete(this.jsonCache.keys().next().value as string);
    }
    return p as Promise<T>;
  }

  /** Read a key without a known checksum (returns undefined when absent) and its reference. */
  async tryRead(key: string): Promise<{ data: Buffer; ref: ArtifactRef } | undefined> {
    try {
      const data = await fsp.readFile(this.pathOf(key));
      return { data, ref: { key, sha256: sha256(data), bytes: data.byteLength } };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fsp.access(this.pathOf(key));
      return true;
    } catch {
      return false;
    }
  }
}
