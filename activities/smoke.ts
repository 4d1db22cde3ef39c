/**
 * The plumbing smoke test's activity: hash a file of the artifact store in chunks, as a
 * chained digest (d_i = sha256(d_{i-1} || sha256(chunk_i))) whose whole state is one hex
 * string, so the work resumes from the last heartbeat after the worker dies. The result
 * is written atomically and the activity is idempotent (a retry that finds it returns it).
 */
import * as fsp from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { sha256 } from '../infra/store/atomic';
import { ArtifactNotFoundError, type ArtifactStore } from '../infra/store/artifacts';

export interface HashChunksInput {
  /** Store key of the file to hash. */
  readonly key: string;
  readonly chunkBytes: number;
  /** Where the result JSON goes (store key). */
  readonly resultKey: string;
  /** Artificial pause per chunk, so tests can kill the worker mid-activity. */
  readonly delayMsPerChunk?: number;
}

export interface HashChunksResult {
  readonly digest: string;
  readonly chunks: number;
  readonly bytes: number;
  /** The chunk index this attempt started from (> 0 when it resumed from heartbeat details). */
  readonly resumedFrom: number;
  readonly attempt: number;
}

interface Progress {
  readonly next: number;
  readonly chain: string;
}

export function createSmokeActivities(deps: { store: ArtifactStore }) {
  const { store } = deps;
  return {
    async hashArtifactChunks(input: HashChunksInput): Promise<HashChunksResult> {
      const ctx = Context.current();
      const done = await store.tryRead(input.resultKey);
      if (done) return JSON.parse(done.data.toString('utf8')) as HashChunksResult;
      if (!(input.chunkBytes > 0)) throw ApplicationFailure.nonRetryable(`chunkBytes must be > 0, got ${input.chunkBytes}`, 'InvalidInput');

      const file = store.pathOf(input.key);
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(file, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw ApplicationFailure.nonRetryable(new ArtifactNotFoundError(input.key, store.root).message, 'ArtifactNotFound');
        throw err;
      }
      try {
        const bytes = (await handle.stat()).size;
        const chunks = Math.ceil(bytes / input.chunkBytes);
        const resumed = ctx.info.heartbeatDetails as Progress | undefined;
        let next = resumed?.next ?? 0;
        let chain = resumed?.chain ?? sha256('');
        const resumedFrom = next;
        const buf = Buffer.alloc(input.chunkBytes);
        for (; next < chunks; ) {
          const { bytesRead } = await handle.read(buf, 0, input.chunkBytes, next * input.chunkBytes);
          chain = sha256(chain + sha256(buf.subarray(0, bytesRead)));
          next++;
          ctx.heartbeat({ next, chain } satisfies Progress);
          if (input.delayMsPerChunk) await ctx.sleep(input.delayMsPerChunk); // throws CancelledFailure on cancel
        }
        const result: HashChunksResult = { digest: chain, chunks, bytes, resumedFrom, attempt: ctx.info.attempt };
        await store.putJson(input.resultKey, result);
        return result;
      } finally {
        await handle.close();
      }
    },
  };
}

export type SmokeActivities = ReturnType<typeof createSmokeActivities>;
