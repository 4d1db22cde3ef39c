/** `longrl temporal ...`, `longrl dev`, `longrl worker KIND`, `longrl smoke`. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { Client } from '@temporalio/client';
import type { LongrlWorker } from '../../workers';
import { UserError } from '../../infra/errors';
import { ArtifactStore } from '../../infra/store/artifacts';
import { acquireTemporalCli, stateDir } from '../../infra/temporal/acquire';
import { connectClient, DEFAULT_ADDRESS, TASK_QUEUES } from '../../infra/temporal/connection';
import { ensureDevServer } from '../../infra/temporal/devserver';
import { defaultStoreRoot } from '../../workers/common';
import { createWorker, WORKER_KINDS, type WorkerKind } from '../../workers';
import { addServerOptions, targetOf, type ServerFlags } from '../options';

const say = (line: string) => process.stderr.write(`${line}\n`);

export function registerInfraCommands(program: Command): void {
  const temporal = program.command('temporal').description('the Temporal CLI that runs the dev server');
  temporal
    .command('path')
    .description('print the path of the Temporal CLI (TEMPORAL_CLI, PATH, .longrl/tools, SDK download), installing it locally if needed')
    .option('--no-install', 'only look, do not install')
    .action(async (o: { install: boolean }) => {
      const cli = await acquireTemporalCli({ install: o.install, log: say });
      for (const a of cli.attempts) say(`  ${a}`);
      say(`route: ${cli.route}; ${cli.version.split('\n')[0]}`);
      process.stdout.write(`${cli.path}\n`);
    });
  temporal
    .command('install')
    .description('install the Temporal CLI under .longrl/tools unless one is already found')
    .action(async () => {
      const cli = await acquireTemporalCli({ install: true, log: say });
      for (const a of cli.attempts) say(`  ${a}`);
      say(`Temporal CLI ready (${cli.route}): ${cli.path}`);
    });

  addServerOptions(
    program
      .command('dev')
      .description('start (or reuse) the Temporal dev server with the Web UI and longrl search attributes, then run all workers; Ctrl-C stops everything')
      .option('--ui-port <port>', 'Web UI port (default: server port + 1000, i.e. 8233)')
      .option('--db <file>', 'SQLite file for the dev server state', path.join(stateDir(), 'temporal.db'))
      .option('--no-workers', 'only the server'),
  ).action(async (o: ServerFlags & { uiPort?: string; db: string; workers: boolean }) => {
    const server = await ensureDevServer({ address: o.address ?? DEFAULT_ADDRESS, namespace: o.namespace, uiPort: o.uiPort ? Number(o.uiPort) : undefined, dbFile: o.db, log: say });
    say(`${server.reused ? 'reusing' : 'started'} Temporal at ${server.target.address} (namespace ${server.target.namespace}${server.reused ? '' : `, state in ${o.db}`})`);
    if (server.uiUrl) say(`Web UI: ${server.uiUrl}`);
    const stopServer = async () => {
      if (!server.reused) {
        say('stopping the Temporal dev server ...');
        await server.stop();
      }
    };
    if (!o.workers) {
      say('press Ctrl-C to stop');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await stopServer();
      return;
    }
    const workers: LongrlWorker[] = [];
    try {
      for (const kind of WORKER_KINDS) workers.push(await createWorker(kind, { target: server.target }));
    } catch (err) {
      await stopServer();
      throw err;
    }
    say(`workers running on ${Object.values(TASK_QUEUES).join(', ')}; press Ctrl-C to stop`);
    await Promise.all(workers.map((w) => w.run())); // resolves once the SDK has drained them after SIGINT/SIGTERM
    await stopServer();
    say('stopped');
  });

  addServerOptions(
    program
      .command('worker')
      .argument('<kind>', `one of ${WORKER_KINDS.join(', ')}`)
      .description('run one worker process (so workers can live on different machines); SIGINT/SIGTERM drain it gracefully')
      .option('--store <dir>', 'artifact store root (shared by all workers of a run)')
      .option('--max-concurrent <n>', 'maximum concurrent activities')
      .option('--worker-id <id>', 'compute only: a stable name for this worker\'s own task queue (longrl-compute@ID), so that a restarted worker serves the runs that were on it at once (default: host, pid and a random id)'),
  ).action(async (kind: string, o: ServerFlags & { store?: string; maxConcurrent?: string; workerId?: string }) => {
    if (!WORKER_KINDS.includes(kind as WorkerKind)) throw new UserError(`unknown worker kind '${kind}'; use one of ${WORKER_KINDS.join(', ')}`);
    if (o.workerId !== undefined && kind !== 'compute') throw new UserError(`--worker-id applies to compute workers only (got kind '${kind}')`);
    if (o.workerId !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(o.workerId)) {
      throw new UserError(`--worker-id '${o.workerId}': use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    }
    const worker = await createWorker(kind as WorkerKind, {
      target: targetOf(o),
      storeRoot: o.store,
      maxConcurrentActivities: o.maxConcurrent ? Number(o.maxConcurrent) : undefined,
      workerId: o.workerId,
    });
    say(`${kind} worker polling ${worker.queues.join(', ')} on ${targetOf(o).address}`);
    await worker.run();
    say(`${kind} worker stopped`);
  });

  addServerOptions(
    program
      .command('smoke')
      .description('run the plumbing smoke workflow: hash a file in chunks on the compute worker')
      .requiredOption('--file <path>', 'file to hash')
      .option('--chunk-bytes <n>', 'chunk size', '65536')
      .option('--store <dir>', 'artifact store root'),
  ).action(async (o: ServerFlags & { file: string; chunkBytes: string; store?: string }) => {
    if (!fs.existsSync(o.file)) throw new UserError(`--file ${o.file}: no such file`);
    const store = new ArtifactStore(o.store ?? defaultStoreRoot());
    const id = `smoke-${Date.now().toString(36)}`;
    await store.put(`smoke/${id}/input`, fs.readFileSync(o.file));
    const connection = await connectClient(targetOf(o));
    try {
      const client = new Client({ connection, namespace: o.namespace });
      const result = await client.workflow.execute('plumbingSmoke', {
        taskQueue: TASK_QUEUES.orchestrator,
        workflowId: id,
        args: [{ key: `smoke/${id}/input`, chunkBytes: Number(o.chunkBytes), resultKey: `smoke/${id}/result.json` }],
      });
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } finally {
      await connection.close();
    }
  });
}
