import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as G from '../../../../engine/graph';
import { Graph } from '../../../../engine/graph';
import { EngineHost, Session, hostTensor, MissingFeedError, CancelledError, HostError, ExecError } from '../../../../engine/exec';

const fixture = path.join(__dirname, 'fixtures', 'counter-module.js');

/** A graph that keeps ORT busy: `reps` chained 256x256 matmuls (tanh keeps values bounded). */
function busyGraph(reps: number): Graph {
  const g = new Graph('busy');
  const x = g.input('x', 'float32', [256, 256]);
  let y = x;
  for (let i = 0; i < reps; i++) y = G.tanh(G.matmul(y, x));
  g.output('s', G.reduceSum(y));
  return g;
}

describe('engine/exec EngineHost (worker thread)', function () {
  this.timeout(60000);
  let host: EngineHost;
  before(async () => {
    host = await EngineHost.start({ threads: 1 });
  });
  after(async () => {
    await host.close();
  });

  it('compiles and runs a graph in the worker with the same results as in-thread', async () => {
    const g = new Graph('affine');
    const x = g.input('x', 'float32', ['B', 2]);
    g.output('y', G.add(G.mul(x, 3), 1));
    const rs = await host.compile(g);
    assert.deepEqual(rs.inputs.map((i) => i.name), ['x']);
    const feed = { x: hostTensor('float32', [2, 2], [1, 2, 3, 4]) };
    const remote = await host.run(rs, feed);
    const local = await (await Session.create(g)).run(feed);
    assert.deepEqual(Array.from(remote.y.data as Float32Array), Array.from(local.y.data as Float32Array));
    assert.ok(remote.y.data instanceof Float32Array);
  });

  it('moves fed buffers with transferFeeds (detached on this side)', async () => {
    const g = new Graph('neg');
    g.output('y', G.neg(g.input('x', 'float32', [3])));
    const rs = await host.compile(g);
    const x = hostTensor('float32', [3], [1, 2, 3]);
    const out = await host.run(rs, { x }, { transferFeeds: true });
    assert.equal(x.data.byteLength, 0, 'the feed buffer was transferred');
    assert.deepEqual(Array.from(out.y.data as Float32Array), [-1, -2, -3]);
  });

  it('rebuilds typed errors from the worker and keeps serving', async () => {
    const g = new Graph('needs-x');
    g.output('y', G.exp(g.input('x', 'float32', [1])));
    const rs = await host.compile(g);
    await assert.rejects(host.run(rs, {}), (e: unknown) => e instanceof MissingFeedError && e.input === 'x');
    await assert.rejects(host.call('no.such.handler'), (e: unknown) => e instanceof ExecError && /no handler/.test((e as Error).message));
    assert.equal(await host.call('host.ping'), 'pong');
  });

  it('keeps the main event loop responsive during a long run', async () => {
    const rs = await host.compile(busyGraph(40));
    const x = hostTensor('float32', [256, 256], new Float32Array(256 * 256).fill(0.01));
    await host.run(rs, { x }); // warm-up
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const start = Date.now();
    let runs = 0;
    while (Date.now() - start < 300) {
      await host.run(rs, { x });
      runs++;
    }
    clearInterval(timer);
    // Behaviour, not timing: the interval fired while ORT worked in the other thread.
    assert.ok(ticks >= 5, `interval fired ${ticks} times during ${runs} runs`);
  });

  it('runs a loaded module whose state lives in the worker across calls', async () => {
    const names = await host.load(fixture, { size: 4 });
    assert.deepEqual(names.sort(), ['crash', 'fail', 'step', 'weights']);
    const a = await host.call<{ steps: number; first: number }>('step', { lr: 0.25 });
    const b = await host.call<{ steps: number; first: number }>('step', { lr: 0.25, repeat: 2 });
    assert.equal(a.steps, 1);
    assert.equal(b.steps, 3);
    assert.equal(b.first, 0.125); // 1 * 0.5^3
    const w = await host.call<{ data: Float32Array }>('weights');
    assert.deepEqual(Array.from(w.data), [0.125, 0.125, 0.125, 0.125]);
    await assert.rejects(host.call('fail'), (e: unknown) => e instanceof Error && e.name === 'RangeError' && /deliberate/.test(e.message));
  });

  it('cancels a queued call before it starts and a running one between runs', async () => {
    const before = await host.call<{ steps: number }>('step', { lr: 0 });
    const stop = new AbortController();
    const seen: unknown[] = [];
    const running = host.call<{ steps: number }>('step', { lr: 0, repeat: 50, delayMs: 2 }, {
      signal: stop.signal,
      onProgress: (v) => {
        seen.push(v);
        if (v === 3) stop.abort();
      },
    });
    const queued = new AbortController();
    const second = host.call('step', { lr: 0 }, { signal: queued.signal });
    queued.abort();
    await Promise.all([
      assert.rejects(second, (e: unknown) => e instanceof CancelledError),
      assert.rejects(running, (e: unknown) => e instanceof CancelledError),
    ]);
    const after = await host.call<{ steps: number }>('step', { lr: 0 });
    const done = after.steps - before.steps - 1;
    assert.ok(done >= 3 && done < 50, `the cancelled call ran ${done} of 50 steps before stopping`);
    assert.deepEqual(seen.slice(0, 3), [1, 2, 3]);
    await assert.rejects(host.call('step', { lr: 0 }, { signal: AbortSignal.abort() }), (e: unknown) => e instanceof CancelledError);
  });

  it('a crashed worker rejects pending calls with HostError; the process survives', async () => {
    const h = await EngineHost.start({ threads: 1 });
    await h.load(fixture, { size: 2 });
    await assert.rejects(h.call('crash'), (e: unknown) => e instanceof HostError);
    await assert.rejects(h.call('host.ping'), (e: unknown) => e instanceof HostError);
    await h.close();
    await assert.rejects(h.call('host.ping'), (e: unknown) => e instanceof HostError);
  });
});
