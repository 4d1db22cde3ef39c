/**
 * The plumbing smoke workflow against a real Temporal dev server, with workers as separate
 * processes killed by SIGKILL (issue 2): it completes; a killed compute worker's activity
 * resumes from its last heartbeat on a new worker with the same result; a killed server
 * restarted on the same SQLite file lets the workflow continue.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { HashChunksResult } from '../../activities/smoke';
import { connectClient, TASK_QUEUES, type ServerTarget } from '../../infra/temporal/connection';
import { ensureDevServer, type DevServer } from '../../infra/temporal/devserver';
import { eventually, freePort, longrl, tempDir, testTarget, type Proc } from '../support/env';

const CHUNK = 64 * 1024;

function startWorkers(target: ServerTarget, store: string): Proc[] {
  return [
    longrl(['worker', 'orchestrator', '--address', target.address]),
    longrl(['worker', 'compute', '--address', target.address, '--store', store]),
  ];
}

async function ready(procs: Proc[]): Promise<void> {
  await Promise.all(procs.map((p) => p.waitFor(/worker polling/, 90_000)));
}

async function stop(procs: Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited()));
}

/** Heartbeat progress (`next` chunk) of the workflow's pending activity, if any. */
async function heartbeatNext(handle: WorkflowHandle): Promise<number> {
  const d = await handle.describe();
  const payloads = d.raw.pendingActivities?.[0]?.heartbeatDetails?.payloads;
  if (!payloads?.length) return 0;
  return (defaultPayloadConverter.fromPayload(payloads[0]) as { next: number }).next;
}

function writeInput(store: string, key: string, chunks: number): void {
  // Deterministic pseudo-random content (a hash chain), so every test hashes the same bytes.
  const parts: Buffer[] = [];
  let seed = Buffer.from('longrl');
  for (let i = 0; i < chunks * 2048; i++) {
    seed = createHash('sha256').update(seed).digest();
    parts.push(seed);
  }
  const file = path.join(store, key);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat(parts).subarray(0, chunks * CHUNK - 123));
}

describe('plumbing smoke workflow (real dev server, worker processes)', function () {
  this.timeout(240_000);
  const store = tempDir('store');
  const inputKey = 'smoke/input.bin';
  const chunks = 40;
  let uninterrupted: HashChunksResult;

  before(() => writeInput(store, inputKey, chunks));

  async function withClient<T>(target: ServerTarget, fn: (c: Client) => Promise<T>): Promise<T> {
    const connection = await connectClient(target);
    try {
      return await fn(new Client({ connection, namespace: target.namespace }));
    } finally {
      await connection.close();
    }
  }

  function start(client: Client, id: string, delayMsPerChunk: number) {
    return client.workflow.start('plumbingSmoke', {
      taskQueue: TASK_QUEUES.orchestrator,
      workflowId: id,
      args: [{ key: inputKey, chunkBytes: CHUNK, resultKey: `smoke/${id}.json`, delayMsPerChunk, heartbeatTimeoutSeconds: 2 }],
    });
  }

  it('completes, hashing every chunk in one attempt', async () => {
    const target = testTarget();
    const procs = startWorkers(target, store);
    try {
      await ready(procs);
      uninterrupted = await withClient(target, async (c) => (await start(c, `smoke-plain-${Date.now()}`, 0)).result());
    } finally {
      await stop(procs);
    }
    assert.equal(uninterrupted.chunks, chunks);
    assert.equal(uninterrupted.bytes, chunks * CHUNK - 123);
    assert.equal(uninterrupted.resumedFrom, 0);
    assert.match(uninterrupted.digest, /^[0-9a-f]{64}$/);
  });

  it('resumes from the last heartbeat when the compute worker is SIGKILLed mid-activity', async () => {
    assert.ok(uninterrupted, 'needs the uninterrupted run');
    const target = testTarget();
    const [orchestrator, compute] = startWorkers(target, store);
    let compute2: Proc | undefined;
    try {
      await ready([orchestrator, compute]);
      const result = await withClient(target, async (client) => {
        const handle = await start(client, `smoke-kill-worker-${Date.now()}`, 150);
        const seen = await eventually(async () => ((await heartbeatNext(handle)) >= 8 ? heartbeatNext(handle) : undefined), 60_000, 'heartbeat progress >= 8');
        compute.child.kill('SIGKILL');
        await compute.exited();
        compute2 = longrl(['worker', 'compute', '--address', target.address, '--store', store]);
        const r = await handle.result();
        assert.ok(r.resumedFrom >= seen, `resumed from chunk ${r.resumedFrom}, expected >= ${seen} (last heartbeat seen)`);
        return r;
      });
      assert.ok(result.attempt >= 2, `expected a retry, got attempt ${result.attempt}`);
      assert.ok(result.resumedFrom > 0 && result.resumedFrom < chunks);
      assert.equal(result.digest, uninterrupted.digest, 'a resumed hash must equal the uninterrupted one');
      assert.equal(result.chunks, chunks);
    } finally {
      await stop([orchestrator, compute, ...(compute2 ? [compute2] : [])]);
    }
  });

  it('continues when the Temporal server is SIGKILLed and restarted on the same SQLite file', async () => {
    assert.ok(uninterrupted, 'needs the uninterrupted run');
    const dir = tempDir('server-kill');
    const port = await freePort();
    const uiPort = await freePort();
    const opts = { address: `127.0.0.1:${port}`, uiPort, dbFile: path.join(dir, 'temporal.db'), logFile: path.join(dir, 'temporal.log') };
    let server: DevServer = await ensureDevServer(opts);
    const procs = startWorkers(server.target, store);
    try {
      await ready(procs);
      const id = `smoke-kill-server-${Date.now()}`;
      await withClient(server.target, async (client) => {
        const handle = await start(client, id, 150);
        await eventually(async () => (await heartbeatNext(handle)) >= 5, 60_000, 'heartbeat progress >= 5');
      });
      server.child!.kill('SIGKILL');
      await new Promise((r) => server.child!.once('exit', r));
      assert.equal(await (async () => { try { await Connection.connect({ address: opts.address, connectTimeout: 1000 }).then((c) => c.workflowService.getSystemInfo({})); return true; } catch { return false; } })(), false, 'server must be down');
      server = await ensureDevServer(opts);
      assert.equal(server.reused, false);
      const result = await withClient(server.target, (client) => client.workflow.getHandle<() => Promise<HashChunksResult>>(id).result());
      assert.equal(result.digest, uninterrupted.digest);
      assert.equal(result.chunks, chunks);
    } finally {
      await stop(procs);
      await server.stop();
    }
  });
});
