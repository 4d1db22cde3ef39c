import { strict as assert } from 'node:assert';
import * as G from '../../../../engine/graph';
import { Graph, ShapeError, DTypeError, NonScalarLossError, MissingGradientRuleError, GraphUsageError, GradientError } from '../../../../engine/graph';

function throwsNaming<E extends Error>(fn: () => unknown, cls: new (...a: any[]) => E, ...parts: string[]): E {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${String(caught)}`);
  for (const p of parts) assert.ok((caught as Error).message.includes(p), `message '${(caught as Error).message}' lacks '${p}'`);
  return caught as E;
}

describe('engine/graph shape inference and build-time errors', () => {
  it('infers broadcast, matmul, reduce, gather and reshape shapes (named dims included)', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['B', 'T', 8]);
    const w = g.param('w', [8, 16]);
    const ids = g.input('ids', 'int64', ['B', 'T']);
    const emb = g.param('emb', [100, 8]);
    assert.deepEqual(G.matmul(x, w).shape, ['B', 'T', 16]);
    assert.deepEqual(G.add(x, g.input('b', 'float32', [1, 'T', 1])).shape, ['B', 'T', 8]);
    assert.deepEqual(G.reduceSum(x, [1]).shape, ['B', 8]);
    assert.deepEqual(G.reduceMean(x, [-1], true).shape, ['B', 'T', 1]);
    assert.deepEqual(G.gather(emb, ids).shape, ['B', 'T', 8]);
    assert.deepEqual(G.reshape(x, [-1, 8]).shape, ['B*T', 8]);
    assert.deepEqual(G.reshape(x, ['B', 'T', 2, 4]).shape, ['B', 'T', 2, 4]);
    assert.deepEqual(G.reshape(G.reshape(x, [-1, 8]), ['B', -1, 8]).shape, ['B', 'T', 8]);
    assert.deepEqual(G.transpose(x, [0, 2, 1]).shape, ['B', 8, 'T']);
    assert.deepEqual(G.slice(g.input('s', 'float32', [10, 6]), [2, -4], [7, G.END], [0, 1]).shape, [5, 4]);
    assert.deepEqual(G.slice(g.input('s2', 'float32', [10]), [8], [2], [0], [-2]).shape, [3]);
    assert.deepEqual(G.concat([x, x], -1).shape, ['B', 'T', 16]);
    assert.deepEqual(G.unsqueeze(x, [1, -1]).shape, ['B', 1, 'T', 8, 1]);
    assert.deepEqual(G.squeeze(G.unsqueeze(x, [0]), [0]).shape, ['B', 'T', 8]);
    assert.deepEqual(G.expand(g.input('e', 'float32', [1, 8]), ['B', 'T', 8]).shape, ['B', 'T', 8]);
    assert.deepEqual(G.less(x, 0).dtype, 'bool');
    assert.deepEqual(G.argMax(x).shape, ['B', 'T']);
  });

  it('MatMul with mismatched inner dims names the op and both shapes', () => {
    const g = new Graph();
    const e = throwsNaming(() => G.matmul(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4, 5])), ShapeError, 'MatMul', '[2, 3]', '[4, 5]');
    assert.equal(e.op, 'MatMul');
    assert.deepEqual(e.shapes, [[2, 3], [4, 5]]);
  });

  it('rejects non-broadcastable elementwise shapes', () => {
    const g = new Graph();
    throwsNaming(() => G.add(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4])), ShapeError, 'Add', '[2, 3]', '[4]');
    throwsNaming(() => G.mul(g.input('c', 'float32', ['B', 3]), g.input('d', 'float32', ['C', 3])), ShapeError, 'Mul');
  });

  it('rejects bad reshapes, concats, squeezes, axes and gathers', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3]);
    throwsNaming(() => G.reshape(x, [4, 2]), ShapeError, 'Reshape', '6');
    throwsNaming(() => G.reshape(x, [-1, 4]), ShapeError, 'Reshape', '-1');
    throwsNaming(() => G.concat([x, g.input('y', 'float32', [3, 3])], 1), ShapeError, 'Concat');
    throwsNaming(() => G.squeeze(x, [0]), ShapeError, 'Squeeze', 'size 2');
    throwsNaming(() => G.reduceSum(x, [2]), ShapeError, 'ReduceSum', 'axis 2');
    throwsNaming(() => G.gatherElements(x, g.input('i', 'int64', [2]), 1), ShapeError, 'GatherElements', 'rank');
    throwsNaming(() => G.transpose(x, [0, 0]), ShapeError, 'Transpose');
    throwsNaming(() => G.expand(x, [4, 3]), ShapeError, 'Expand');
    throwsNaming(() => G.matmul(g.input('v', 'float32', [3]), x), ShapeError, 'MatMul', 'rank');
  });

  it('rejects mixed or unsupported dtypes with a DTypeError naming the op', () => {
    const g = new Graph();
    const f = g.input('f', 'float32', [2]);
    const d = g.input('d', 'float64', [2]);
    const i = g.input('i', 'int64', [2]);
    const e = throwsNaming(() => G.add(f, d), DTypeError, 'Add', 'float32', 'float64');
    assert.equal(e.op, 'Add');
    throwsNaming(() => G.exp(i), DTypeError, 'Exp', 'int64');
    throwsNaming(() => G.gather(f, f), DTypeError, 'Gather');
    throwsNaming(() => G.where(f, f, f), DTypeError, 'Where');
  });

  it('grad: non-scalar loss needs a seed; a missing rule names the op; integer wrt is refused', () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3]);
    throwsNaming(() => G.grad(G.exp(x), [x]), NonScalarLossError, '[2, 3]', 'seed');
    const seeded = G.grad(G.exp(x), [x], { seed: g.input('seed', 'float32', [2, 3]) });
    assert.deepEqual(seeded[0].shape, [2, 3]);
    const idx = g.constant([0, 1], 'int64', [2, 1]);
    const scattered = G.scatterND(G.zerosLike(x), idx, x);
    const e = throwsNaming(() => G.grad(G.reduceSum(scattered), [x]), MissingGradientRuleError, 'ScatterND');
    assert.equal(e.op, 'ScatterND');
    throwsNaming(() => G.grad(G.reduceSum(x), [g.input('n', 'int64', [2])]), GraphUsageError, 'int64');
    throwsNaming(() => G.grad(G.reduceSum(G.gather(x, g.constant([1], 'int64', [1]), 1)), [x]), GradientError, 'Gather', 'axis 0');
  });

  it('refuses tensors of another graph and duplicate names', () => {
    const g1 = new Graph('one');
    const g2 = new Graph('two');
    const a = g1.input('a', 'float32', [2]);
    const b = g2.input('b', 'float32', [2]);
    throwsNaming(() => G.add(a, b), GraphUsageError, 'different graphs');
    throwsNaming(() => g1.input('a', 'float32', [1]), GraphUsageError, "'a'");
  });
});
