/**
 * Orchestration overhead of an RL step (issue 6): the share of a phase's wall time not spent
 * inside compute or judge activities (workflow tasks, scheduling, history round trips,
 * continue-as-new, signals). Runs the `quick` preset on its own dev server with the
 * workers in this process, then reads the phase workflows' histories (every
 * continued-as-new run) and compares activity execution time with the phase's wall time.
 *
 *   npm run bench:pipeline [-- --set rl.phases[0].steps=20 ...]
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { loadConfig } from '../config';
import { executionChain } from '../infra/audit';
import { connectClient, TASK_QUEUES } from '../infra/temporal/connection';
import { ensureDevServer } from '../infra/temporal/devserver';
import { createWorker } from '../workers';

type Event = temporal.api.history.v1.IHistoryEvent;
const ms = (e: Event) => Number(e.eventTime!.seconds) * 1000 + Math.round((e.eventTime!.nanos ?? 0) / 1e6);

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function analyse(runs: Event[][]) {
  let wall = 0;
  let inActivities = 0;
  let dispatch = 0;
  let activities = 0;
  let workflowTasks = 0;
  let workflowTaskMs = 0;
  let workflowTaskRunMs = 0;
  let onWorkerQueue = 0;
  const byType = new Map<string, number>();
  for (const events of runs) {
    wall += ms(events[events.length - 1]) - ms(events[0]);
    const scheduled = new Map<number, string>();
    const scheduledAt = new Map<number, number>();
    const started = new Map<number, number>();
    let wftScheduled = 0;
    let wftStarted = 0;
    for (const e of events) {
      const id = Number(e.eventId);
      if (e.workflowTaskScheduledEventAttributes) wftScheduled = ms(e);
      if (e.workflowTaskStartedEventAttributes) wftStarted = ms(e);
      if (e.workflowTaskCompletedEventAttributes) {
        workflowTasks++;
        workflowTaskMs += ms(e) - wftScheduled;
        workflowTaskRunMs += ms(e) - wftStarted;
      }
      if (e.activityTaskScheduledEventAttributes) {
        scheduled.set(id, e.activityTaskScheduledEventAttributes.activityType!.name!);
        scheduledAt.set(id, ms(e));
        activities++;
        if (e.activityTaskScheduledEventAttributes.taskQueue?.name?.includes('@')) onWorkerQueue++;
      }
      if (e.activityTaskStartedEventAttributes) {
        const sid = Number(e.activityTaskStartedEventAttributes.scheduledEventId);
        started.set(sid, ms(e));
        dispatch += ms(e) - (scheduledAt.get(sid) ?? ms(e));
      }
      const done = e.activityTaskCompletedEventAttributes;
      if (done) {
        const sid = Number(done.scheduledEventId);
        const t = ms(e) - (started.get(sid) ?? ms(e));
        inActivities += t;
        const type = scheduled.get(sid) ?? '?';
        byType.set(type, (byType.get(type) ?? 0) + t);
      }
    }
  }
  return { wall, inActivities, byType, dispatch, activities, workflowTasks, workflowTaskMs, workflowTaskRunMs, onWorkerQueue };
}

async function main(): Promise<void> {
  const sets = process.argv.slice(2).filter((a) => a !== '--set');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrl-bench-pipeline-'));
  const port = await freePort();
  const server = await ensureDevServer({ address: `127.0.0.1:${port}`, uiPort: await freePort(), dbFile: null, logFile: path.join(dir, 'temporal.log') });
  const store = path.join(dir, 'store');
  const workers = await Promise.all((['orchestrator', 'compute', 'judge'] as const).map((k) => createWorker(k, { target: server.target, storeRoot: store })));
  const running = workers.map((w) => w.run());
  // The quick preset as `npm start` runs it (SFT included: a weak model keeps few groups and
  // applies few updates, which makes steps cheaper than the real job's).
  const { config } = await loadConfig({ preset: 'quick', sets });
  const connection = await connectClient(server.target);
  const client = new Client({ connection });
  const id = `bench-pipeline-${Date.now()}`;
  const t0 = Date.now();
  const handle = await client.workflow.start('TrainingRun', { taskQueue: TASK_QUEUES.orchestrator, workflowId: id, args: [{ config: { ...config, run: { ...config.run, outputDir: path.join(dir, 'runs') } }, configSource: 'bench' }] });
  await handle.result();
  const runWall = Date.now() - t0;
  let totalWall = 0;
  let totalAct = 0;
  let steps = 0;
  for (const phase of config.rl.phases) {
    const runs = (await executionChain(client, `${id}--${phase.name}`)).map((r) => r.events);
    const a = analyse(runs);
    if (process.env.LONGRL_BENCH_TRACE) {
      // Event-by-event deltas of the first run of the phase (to see where a step's time goes).
      const ev = runs[0];
      for (let i = 1; i < Math.min(ev.length, 60); i++) console.log(`  +${String(ms(ev[i]) - ms(ev[i - 1])).padStart(4)} ms  ${ev[i].eventType}`);
    }
    totalWall += a.wall;
    totalAct += a.inActivities;
    steps += phase.steps;
    const parts = [...a.byType].map(([k, v]) => `${k} ${(v / phase.steps).toFixed(0)}`).join(', ');
    console.log(`phase ${phase.name}: ${phase.steps} steps in ${runs.length} runs (continue-as-new), ${(a.wall / phase.steps).toFixed(0)} ms/step, in activities ${(a.inActivities / phase.steps).toFixed(0)} ms/step (${parts})`);
    console.log(
      `  per step: ${(a.activities / phase.steps).toFixed(1)} activities (${a.onWorkerQueue}/${a.activities} on a worker-specific queue; schedule-to-start ${(a.dispatch / Math.max(1, a.activities)).toFixed(1)} ms each), ` +
        `${(a.workflowTasks / phase.steps).toFixed(1)} workflow tasks (schedule-to-complete ${(a.workflowTaskMs / Math.max(1, a.workflowTasks)).toFixed(1)} ms each, of which ${(a.workflowTaskRunMs / Math.max(1, a.workflowTasks)).toFixed(1)} ms on the worker)`,
    );
  }
  const overhead = totalWall - totalAct;
  console.log(`run wall ${(runWall / 1000).toFixed(1)} s, ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`pipeline quick: ${(totalWall / steps).toFixed(0)} ms per RL step, orchestration overhead ${(overhead / steps).toFixed(0)} ms/step = ${((100 * overhead) / totalWall).toFixed(1)}% of step time (target < 5%)`);
  await connection.close();
  for (const w of workers) w.shutdown();
  await Promise.all(running);
  await server.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
