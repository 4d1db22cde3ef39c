import { strict as assert } from 'node:assert';
import * as G from '../../../../engine/graph';
import { Graph } from '../../../../engine/graph';
import {
  Session, hostTensor, cachedSessionCount, MissingFeedError, UnknownFeedError, FeedDtypeError, FeedShapeError, CompileError, RunError,
} from '../../../../engine/exec';

function affine(): Graph {
  const g = new Graph('affine');
  const x = g.input('x', 'float32', ['B', 3]);
  const w = g.param('w', [3, 2]);
  const ids = g.input('ids', 'int64', ['B']);
  g.output('y', G.matmul(x, w));
  g.output('picked', G.gather(w, ids, 0));
  return g;
}

const feeds = (B = 2) => ({
  x: hostTensor('float32', [B, 3], Array.from({ length: B * 3 }, (_, i) => i)),
  w: hostTensor('float32', [3, 2], [1, 0, 0, 1, 1, 1]),
  ids: hostTensor('int64', [B], Array.from({ length: B }, (_, i) => i % 3)),
});

describe('engine/exec Session (in-thread)', function () {
  this.timeout(30000);

  it('runs with named feeds and returns typed arrays with dims', async () => {
    const s = await Session.create(affine(), { threads: 1 });
    const out = await s.run(feeds(2));
    assert.ok(out.y.data instanceof Float32Array);
    assert.deepEqual(out.y.dims, [2, 2]);
    assert.deepEqual(Array.from(out.y.data as Float32Array), [0 + 2, 1 + 2, 3 + 5, 4 + 5]);
    const only = await s.run(feeds(4), { outputs: ['picked'] });
    assert.deepEqual(Object.keys(only), ['picked']);
    assert.deepEqual(only.picked.dims, [4, 2]);
  });

  it('compiles a graph once: the same model and options reuse the cached session', async () => {
    const a = await Session.create(affine(), { threads: 1 });
    const n = cachedSessionCount();
    const b = await Session.create(affine(), { threads: 1 });
    assert.equal(a.signature, b.signature);
    assert.equal(cachedSessionCount(), n);
    const c = await Session.create(affine(), { threads: 2 });
    assert.notEqual(c.signature, a.signature);
  });

  it('writes into pre-allocated outputs (parameter double-buffering)', async () => {
    const g = new Graph('sgd');
    const w = g.param('w', [4]);
    g.output('w_new', G.mul(w, 0.5));
    const s = await Session.create(g, { threads: 1 });
    let cur = hostTensor('float32', [4], [2, 4, 6, 8]);
    let next = hostTensor('float32', [4], new Float32Array(4));
    for (let i = 0; i < 3; i++) {
      const out = await s.run({ w: cur }, { into: { w_new: next } });
      assert.equal(out.w_new.data, next.data, 'the result is the pre-allocated array');
      [cur, next] = [next, cur];
    }
    assert.deepEqual(Array.from(cur.data as Float32Array), [0.25, 0.5, 0.75, 1]);
  });

  it('missing, unknown, wrong-dtype and wrong-shape feeds fail with typed errors naming the input', async () => {
    const s = await Session.create(affine(), { threads: 1 });
    const f = feeds(2);
    await assert.rejects(s.run({ x: f.x, w: f.w }), (e: unknown) => e instanceof MissingFeedError && e.input === 'ids' && e.message.includes("'ids'"));
    await assert.rejects(s.run({ ...f, extra: f.x }), (e: unknown) => e instanceof UnknownFeedError && e.input === 'extra');
    await assert.rejects(s.run({ ...f, x: hostTensor('float64', [2, 3], [0, 1, 2, 3, 4, 5]) }),
      (e: unknown) => e instanceof FeedDtypeError && e.input === 'x' && e.expected === 'float32' && e.got === 'float64');
    await assert.rejects(s.run({ ...f, w: hostTensor('float32', [2, 3], [0, 1, 2, 3, 4, 5]) }),
      (e: unknown) => e instanceof FeedShapeError && e.input === 'w' && e.message.includes('dim 0 must be 3'));
    await assert.rejects(s.run({ ...f, ids: hostTensor('int64', [3], [0, 1, 2]) }),
      (e: unknown) => e instanceof FeedShapeError && e.input === 'ids' && e.message.includes("'B'"));
    await assert.rejects(s.run({ ...f, x: { dtype: 'float32', dims: [2, 3], data: new Float32Array(5) } }),
      (e: unknown) => e instanceof FeedShapeError && e.message.includes('5 elements'));
  });

  it('an op/dtype ORT has no kernel for fails with CompileError naming the op; the process survives', async () => {
    const g = new Graph('bad');
    const x = g.input('x', 'int64', [2]);
    // Bypass the builder's dtype check: ORT has no int64 Softmax kernel.
    g.output('y', g.addNode('Softmax', [x], { axis: G.attr.int(0) }, [{ dtype: 'int64', shape: [2] }])[0]);
    await assert.rejects(Session.create(g), (e: unknown) => e instanceof CompileError && e.op === 'Softmax');
    const g2 = new Graph('unknown-op');
    const y = g2.input('y', 'float32', [2]);
    g2.output('z', g2.addNode('NoSuchOp', [y], {}, [{ dtype: 'float32', shape: [2] }])[0]);
    await assert.rejects(Session.create(g2), (e: unknown) => e instanceof CompileError && e.op === 'NoSuchOp');
    const ok = await Session.create(affine());
    assert.deepEqual((await ok.run(feeds(1))).y.dims, [1, 2]);
  });

  it('a run-time failure (index out of range) is a RunError naming the op', async () => {
    const s = await Session.create(affine(), { threads: 1 });
    const f = feeds(2);
    await assert.rejects(s.run({ ...f, ids: hostTensor('int64', [2], [0, 7]) }), (e: unknown) => e instanceof RunError && e.op === 'Gather');
    assert.deepEqual((await s.run(f)).y.dims, [2, 2]);
  });
});
