import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { parseAddress } from '../../../infra/temporal/connection';
import { ensureDevServer } from '../../../infra/temporal/devserver';
import { UserError } from '../../../infra/errors';
import { BIN, freePort } from '../../support/env';

describe('server addresses and user errors', () => {
  it('parses HOST:PORT and rejects anything else with the expected form', () => {
    assert.deepEqual(parseAddress('127.0.0.1:7233'), { host: '127.0.0.1', port: 7233 });
    assert.deepEqual(parseAddress('[::1]:7233'), { host: '::1', port: 7233 });
    assert.throws(() => parseAddress('localhost'), /--address localhost: expected HOST:PORT, for example 127.0.0.1:7233/);
    assert.throws(() => parseAddress('h:99999'), UserError);
  });

  it('refuses to start a dev server on a port held by another program', async () => {
    const port = await freePort();
    const srv = net.createServer((s) => { s.on('error', () => undefined); s.end('HTTP/1.0 200 OK\r\n\r\nnot temporal'); }).listen(port, '127.0.0.1');
    try {
      const expected = `port ${port} on 127.0.0.1 is in use by a program that is not a Temporal server; stop it or pick another port with --address 127.0.0.1:PORT`;
      await assert.rejects(ensureDevServer({ address: `127.0.0.1:${port}`, dbFile: null }), (e: Error) => {
        assert.ok(e instanceof UserError);
        assert.equal(e.message, expected);
        return true;
      });
      // The same through `longrl dev`: one line, exit 2, nothing started.
      const r = spawnSync(process.execPath, [BIN, 'dev', '--address', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr, `longrl: ${expected}\n`);
    } finally {
      srv.close();
    }
  });

  it('the CLI prints one clear line (no stack trace) for an unreachable --address and a bad TEMPORAL_CLI', async () => {
    const port = await freePort();
    const r = spawnSync(process.execPath, [BIN, 'worker', 'compute', '--address', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^longrl: cannot reach a Temporal server at 127.0.0.1:${port} \\(.*\\); start one with 'longrl dev', or check --address`));

    const t = spawnSync(process.execPath, [BIN, 'temporal', 'path'], { encoding: 'utf8', env: { ...process.env, TEMPORAL_CLI: '/no/such/temporal' } });
    assert.equal(t.status, 2);
    assert.equal(t.stderr.trim(), 'longrl: TEMPORAL_CLI=/no/such/temporal: no such file; point it at the temporal binary or unset it to let longrl find or install one');

    const k = spawnSync(process.execPath, [BIN, 'worker', 'gpu'], { encoding: 'utf8' });
    assert.equal(k.status, 2);
    assert.equal(k.stderr.trim(), "longrl: unknown worker kind 'gpu'; use one of orchestrator, compute, judge");
  });
});
