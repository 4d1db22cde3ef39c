import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTempFiles, CorruptArtifactError, listTempFiles, readFileVerified, sha256, writeFileAtomic } from '../../../infra/store/atomic';
import { ArtifactNotFoundError, ArtifactStore } from '../../../infra/store/artifacts';
import { UserError } from '../../../infra/errors';
import { tempDir } from '../../support/env';

describe('atomic writes and the artifact store', () => {
  it('writes atomically, returns the sha256 and leaves no temp file', async () => {
    const dir = tempDir('atomic');
    const file = path.join(dir, 'a', 'b.json');
    const digest = await writeFileAtomic(file, ['{"x":', '1}'].map((s) => Buffer.from(s)));
    assert.equal(fs.readFileSync(file, 'utf8'), '{"x":1}');
    assert.equal(digest, sha256('{"x":1}'));
    assert.deepEqual(await listTempFiles(dir), []);
    assert.deepEqual(await readFileVerified(file, digest), Buffer.from('{"x":1}'));
  });

  it('detects corruption with a typed error naming the file', async () => {
    const dir = tempDir('atomic');
    const file = path.join(dir, 'w.bin');
    const digest = await writeFileAtomic(file, 'weights');
    fs.writeFileSync(file, 'weightz');
    await assert.rejects(readFileVerified(file, digest), (e: Error) => e instanceof CorruptArtifactError && e.message.startsWith(`${file}: checksum mismatch`));
  });

  it('a failed write keeps the old file and removes its temp file', async () => {
    const dir = tempDir('atomic');
    const file = path.join(dir, 'keep.txt');
    await writeFileAtomic(file, 'old');
    // A directory where the rename target's temp file would go makes the write fail mid-way.
    const bad = (async function* () { yield Buffer.from('x'); throw new Error('boom'); })();
    await assert.rejects(writeFileAtomic(file, bad as unknown as Uint8Array[]));
    assert.equal(fs.readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(await listTempFiles(dir), []);
  });

  it('finds and removes temp files left by killed writers', async () => {
    const dir = tempDir('atomic');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', '.ckpt.safetensors.tmp-123-abcd'), 'partial');
    fs.writeFileSync(path.join(dir, 'sub', 'ckpt.safetensors'), 'whole');
    assert.equal((await cleanupTempFiles(dir)).length, 1);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'sub')), ['ckpt.safetensors']);
  });

  it('store: round trip with verification, missing keys and escaping keys', async () => {
    const store = new ArtifactStore(tempDir('store'));
    const ref = await store.putJson('runs/r1/x.json', { a: 1 });
    assert.deepEqual(await store.getJson(ref), { a: 1 });
    await assert.rejects(store.get({ key: 'runs/none', sha256: ref.sha256, bytes: 1 }), ArtifactNotFoundError);
    for (const bad of ['../x', '/abs', 'a//b', '']) assert.throws(() => store.pathOf(bad), UserError);
    fs.writeFileSync(store.pathOf(ref.key), '{"a":2}');
    await assert.rejects(store.get(ref), CorruptArtifactError);
  });
});
