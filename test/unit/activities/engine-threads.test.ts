/**
 * A compute worker serves runs one after another; each run's `workers.computeThreads` must
 * hold for its own activities (it decides, among other things, whether runs are bitwise
 * reproducible). Real engine threads, no Temporal.
 */
import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { ComputeEngine } from '../../../activities/engine-state';
import { ArtifactStore } from '../../../infra/store/artifacts';

describe('compute engine threads per run', function () {
  this.timeout(60_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'longrl-engine-threads-'));
  const engines: ComputeEngine[] = [];
  after(async () => {
    for (const e of engines) await (await e.policyHost()).close().catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('keeps the engine thread while runs ask for the same count and restarts it for another', async () => {
    const engine = new ComputeEngine(new ArtifactStore(root));
    engines.push(engine);
    const a = await engine.policyHost(1);
    assert.equal(await engine.policyHost(1), a, 'same count: same engine thread');
    const b = await engine.policyHost(2);
    assert.notEqual(b, a, 'another count: a new engine thread');
    // The old thread is gone: calls on it fail.
    await assert.rejects(a.getVersion());
    assert.equal(await engine.policyHost(2), b);
  });

  it('keeps a count fixed by the worker whatever runs ask for', async () => {
    const engine = new ComputeEngine(new ArtifactStore(root), 1);
    engines.push(engine);
    const a = await engine.policyHost(2);
    assert.equal(await engine.policyHost(4), a);
  });
});
