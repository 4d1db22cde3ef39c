/**
 * The compute worker's side of worker affinity (workers/compute.ts): engine activities take
 * turns on the one resident policy even when two task queues feed them, and their results
 * name the worker's own queue. Activities run in the SDK's MockActivityEnvironment (a real
 * activity Context, no server needed for this).
 */
import { strict as assert } from 'node:assert';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ENGINE_ACTIVITIES, TurnLock, placedActivities, workerQueueName } from '../../../workers/compute';
import type { createComputeActivitySet } from '../../../activities';

type Set = ReturnType<typeof createComputeActivitySet>;
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('compute worker placement (affinity and turns)', () => {
  it('TurnLock hands out turns first come, first served, one at a time', async () => {
    const lock = new TurnLock();
    const log: string[] = [];
    const job = async (name: string, ms: number) => {
      const release = await lock.acquire();
      log.push(`${name}+`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`${name}-`);
      release();
    };
    await Promise.all([job('a', 20), job('b', 1), job('c', 5)]);
    assert.deepEqual(log, ['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
  });

  it('names a queue of its own per worker, beside the shared one', () => {
    const a = workerQueueName();
    const b = workerQueueName();
    assert.match(a, /^longrl-compute@.+-\d+-[0-9a-f]{6}$/);
    assert.notEqual(a, b);
    // A stable id names the same queue across restarts.
    assert.equal(workerQueueName('gpu-0'), 'longrl-compute@gpu-0');
  });

  it('serializes engine activities across queues and tags their results with the worker queue', async () => {
    let running = 0;
    let most = 0;
    const fake = (name: string) => async (input: unknown) => {
      running++;
      most = Math.max(most, running);
      await tick();
      running--;
      return { name, input };
    };
    const base = Object.fromEntries(ENGINE_ACTIVITIES.map((n) => [n, fake(n)])) as unknown as Set;
    const placed = placedActivities({ ...base, hashChunk: async () => 'not an engine activity' } as unknown as Set, 'longrl-compute@test');
    const env = () => new MockActivityEnvironment();
    const results = await Promise.all([
      env().run(placed.rollout as (i: unknown) => Promise<unknown>, 1),
      env().run(placed.policyUpdate as (i: unknown) => Promise<unknown>, 2),
      env().run(placed.saveCheckpoint as (i: unknown) => Promise<unknown>, 3),
    ]);
    assert.equal(most, 1, 'two engine activities ran at once');
    assert.deepEqual(results, [
      { name: 'rollout', input: 1, worker: 'longrl-compute@test' },
      { name: 'policyUpdate', input: 2, worker: 'longrl-compute@test' },
      { name: 'saveCheckpoint', input: 3, worker: 'longrl-compute@test' },
    ]);
    assert.equal(await (placed as unknown as { hashChunk: () => Promise<string> }).hashChunk(), 'not an engine activity');
  });

  it('gives the turn back when an activity waiting for it is cancelled', async () => {
    const lock = new TurnLock();
    let releaseFirst!: () => void;
    const first = new Promise<void>((r) => (releaseFirst = r));
    const base = Object.fromEntries(ENGINE_ACTIVITIES.map((n) => [n, async () => { await first; return { n }; }])) as unknown as Set;
    const placed = placedActivities(base, 'q', lock);
    const holder = new MockActivityEnvironment().run(placed.rollout as (i: unknown) => Promise<unknown>, 0);
    await tick();
    const waiting = new MockActivityEnvironment();
    const waiter = waiting.run(placed.policyUpdate as (i: unknown) => Promise<unknown>, 0);
    await tick();
    waiting.cancel('CANCELLED');
    await assert.rejects(waiter);
    releaseFirst();
    assert.deepEqual(await holder, { n: 'rollout', worker: 'q' } as unknown);
    // The cancelled waiter's turn was passed on: the lock is free again.
    const release = await Promise.race([lock.acquire(), new Promise<null>((r) => setTimeout(() => r(null), 500))]);
    assert.ok(release, 'the lock was not released after the cancelled waiter');
  });
});
