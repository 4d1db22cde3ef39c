import { strict as assert } from 'node:assert';
import * as G from '../../../../engine/graph';
import { Graph, Tensor, VJP_RULES, NO_GRADIENT } from '../../../../engine/graph';
import { CheckInput, coveredOps, gradCheck } from './gradcheck';

interface Case {
  readonly name: string;
  readonly inputs: readonly CheckInput[];
  readonly f: (g: Graph, xs: Tensor[]) => Tensor;
  readonly h?: number;
}

const pos = { lo: 0.5, hi: 2 };
/** Values away from 0 (kinks of abs/relu) and distinct. */
const awayFromZero = (n: number, off = 0): number[] => Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (0.3 + 0.17 * i + off));

const CASES: Case[] = [
  // Elementwise binary with broadcasting.
  { name: 'Add broadcast [2,3]+[3]', inputs: [{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [3] }], f: (_, [a, b]) => G.add(a, b) },
  { name: 'Add broadcast [2,1,3]+[4,1]', inputs: [{ name: 'a', shape: [2, 1, 3] }, { name: 'b', shape: [4, 1] }], f: (_, [a, b]) => G.add(a, b) },
  { name: 'Sub broadcast [3]-[2,3]', inputs: [{ name: 'a', shape: [3] }, { name: 'b', shape: [2, 3] }], f: (_, [a, b]) => G.sub(a, b) },
  { name: 'Mul broadcast [2,3]*[2,1]', inputs: [{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [2, 1] }], f: (_, [a, b]) => G.mul(a, b) },
  { name: 'Mul of an input with itself', inputs: [{ name: 'a', shape: [2, 3] }], f: (_, [a]) => G.mul(a, a) },
  { name: 'Mul scalar input', inputs: [{ name: 'a', shape: [2, 3] }, { name: 's', shape: [] }], f: (_, [a, s]) => G.mul(a, s) },
  { name: 'Div broadcast [2,3]/[3]', inputs: [{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [3], ...pos }], f: (_, [a, b]) => G.div(a, b) },
  { name: 'Pow broadcast [2,3]^[3]', inputs: [{ name: 'a', shape: [2, 3], ...pos }, { name: 'b', shape: [3] }], f: (_, [a, b]) => G.pow(a, b) },
  { name: 'Pow with constant exponent', inputs: [{ name: 'a', shape: [4], ...pos }], f: (_, [a]) => G.pow(a, 3) },
  { name: 'Max broadcast', inputs: [{ name: 'a', shape: [2, 3], values: awayFromZero(6) }, { name: 'b', shape: [3], values: [0.05, -0.1, 0.4] }], f: (_, [a, b]) => G.maximum(a, b) },
  { name: 'Min broadcast', inputs: [{ name: 'a', shape: [2, 3], values: awayFromZero(6) }, { name: 'b', shape: [2, 1], values: [0.05, -0.2] }], f: (_, [a, b]) => G.minimum(a, b) },
  // Unary.
  { name: 'Neg', inputs: [{ name: 'a', shape: [2, 3] }], f: (_, [a]) => G.neg(a) },
  { name: 'Exp', inputs: [{ name: 'a', shape: [2, 3] }], f: (_, [a]) => G.exp(a) },
  { name: 'Log', inputs: [{ name: 'a', shape: [2, 3], ...pos }], f: (_, [a]) => G.log(a) },
  { name: 'Sqrt', inputs: [{ name: 'a', shape: [2, 3], ...pos }], f: (_, [a]) => G.sqrt(a) },
  { name: 'Abs', inputs: [{ name: 'a', shape: [6], values: awayFromZero(6) }], f: (_, [a]) => G.abs(a) },
  { name: 'Sigmoid', inputs: [{ name: 'a', shape: [2, 3] }], f: (_, [a]) => G.sigmoid(a) },
  { name: 'Tanh', inputs: [{ name: 'a', shape: [2, 3] }], f: (_, [a]) => G.tanh(a) },
  { name: 'Reciprocal', inputs: [{ name: 'a', shape: [2, 3], ...pos }], f: (_, [a]) => G.reciprocal(a) },
  { name: 'Relu', inputs: [{ name: 'a', shape: [6], values: awayFromZero(6) }], f: (_, [a]) => G.relu(a) },
  { name: 'Sin', inputs: [{ name: 'a', shape: [2, 3] }], f: (_, [a]) => G.sin(a) },
  { name: 'Cos', inputs: [{ name: 'a', shape: [2, 3] }], f: (_, [a]) => G.cos(a) },
  { name: 'Identity', inputs: [{ name: 'a', shape: [2, 3] }], f: (_, [a]) => G.identity(a) },
  {
    // float64 -> float32 -> float64 round trip: values and step exactly representable in float32, loss linear.
    name: 'Cast (through float32)',
    inputs: [{ name: 'a', shape: [4], values: [0.5, -0.25, 1.125, 2] }],
    f: (_, [a]) => G.cast(G.mul(G.cast(a, 'float32'), 3), 'float64'),
    h: 1 / 64,
  },
  {
    name: 'Where broadcast (cond fixed)',
    inputs: [
      { name: 'c', shape: [2, 3], dtype: 'bool', values: [1, 0, 1, 0, 0, 1], fixed: true },
      { name: 'a', shape: [3] },
      { name: 'b', shape: [2, 1] },
    ],
    f: (_, [c, a, b]) => G.where(c, a, b),
  },
  {
    name: 'Clip with tensor bounds',
    inputs: [{ name: 'x', shape: [2, 4], values: [-0.9, -0.3, 0.1, 0.35, 0.6, 0.95, -0.55, 0.2] }, { name: 'lo', shape: [], values: [-0.5] }, { name: 'hi', shape: [], values: [0.5] }],
    f: (_, [x, lo, hi]) => G.clip(x, lo, hi),
  },
  { name: 'Clip with constant min only', inputs: [{ name: 'x', shape: [5], values: [-0.9, -0.3, 0.1, 0.35, 0.6] }], f: (_, [x]) => G.clip(x, 0) },
  // MatMul.
  { name: 'MatMul [2,3]x[3,4]', inputs: [{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [3, 4] }], f: (_, [a, b]) => G.matmul(a, b) },
  { name: 'MatMul [2,2,3]x[3,4] (folded weight grad)', inputs: [{ name: 'a', shape: [2, 2, 3] }, { name: 'b', shape: [3, 4] }], f: (_, [a, b]) => G.matmul(a, b) },
  { name: 'MatMul broadcast batch [2,1,2,3]x[3,3,2]', inputs: [{ name: 'a', shape: [2, 1, 2, 3] }, { name: 'b', shape: [3, 3, 2] }], f: (_, [a, b]) => G.matmul(a, b) },
  { name: 'MatMul [3,4]x[2,4,2]', inputs: [{ name: 'a', shape: [3, 4] }, { name: 'b', shape: [2, 4, 2] }], f: (_, [a, b]) => G.matmul(a, b) },
  // Reductions.
  { name: 'ReduceSum axis 1', inputs: [{ name: 'a', shape: [2, 3, 2] }], f: (_, [a]) => G.reduceSum(a, [1]) },
  { name: 'ReduceSum keepdims axes [0,2]', inputs: [{ name: 'a', shape: [2, 3, 2] }], f: (_, [a]) => G.reduceSum(a, [0, -1], true) },
  { name: 'ReduceSum all', inputs: [{ name: 'a', shape: [2, 3] }], f: (_, [a]) => G.reduceSum(a) },
  { name: 'ReduceMean axis -1', inputs: [{ name: 'a', shape: [2, 3, 4] }], f: (_, [a]) => G.reduceMean(a, [-1]) },
  { name: 'ReduceMean keepdims axis 0', inputs: [{ name: 'a', shape: [3, 2] }], f: (_, [a]) => G.reduceMean(a, [0], true) },
  { name: 'ReduceMax axis 1 (distinct values)', inputs: [{ name: 'a', shape: [2, 4], values: [0.1, 0.7, -0.3, 0.2, 0.9, -0.5, 0.4, 0.3] }], f: (_, [a]) => G.reduceMax(a, [1]) },
  { name: 'Softmax axis -1', inputs: [{ name: 'a', shape: [2, 4] }], f: (_, [a]) => G.softmax(a, -1) },
  { name: 'Softmax axis 0', inputs: [{ name: 'a', shape: [3, 2] }], f: (_, [a]) => G.softmax(a, 0) },
  { name: 'LogSoftmax axis -1', inputs: [{ name: 'a', shape: [2, 5] }], f: (_, [a]) => G.logSoftmax(a, -1) },
  { name: 'LogSoftmax axis 1 of 3-D', inputs: [{ name: 'a', shape: [2, 3, 2] }], f: (_, [a]) => G.logSoftmax(a, 1) },
  // Indexing.
  {
    name: 'Gather embedding with repeated ids',
    inputs: [{ name: 'emb', shape: [5, 3] }, { name: 'ids', shape: [2, 4], dtype: 'int64', values: [0, 3, 3, 1, 4, 0, 0, 2], fixed: true }],
    f: (_, [e, i]) => G.gather(e, i, 0),
  },
  {
    name: 'Gather with int32 ids',
    inputs: [{ name: 'emb', shape: [4, 2] }, { name: 'ids', shape: [3], dtype: 'int32', values: [1, 1, 3], fixed: true }],
    f: (_, [e, i]) => G.gather(e, i, 0),
  },
  {
    name: 'GatherElements axis 1 with repeats',
    inputs: [{ name: 'x', shape: [3, 4] }, { name: 'idx', shape: [3, 2], dtype: 'int64', values: [0, 0, 3, 1, 2, 2], fixed: true }],
    f: (_, [x, i]) => G.gatherElements(x, i, 1),
  },
  {
    name: 'GatherElements axis 0',
    inputs: [{ name: 'x', shape: [3, 2] }, { name: 'idx', shape: [2, 2], dtype: 'int64', values: [2, 0, 2, 1], fixed: true }],
    f: (_, [x, i]) => G.gatherElements(x, i, 0),
  },
  // Shapes.
  { name: 'Reshape [2,3,2]->[3,4]', inputs: [{ name: 'a', shape: [2, 3, 2] }], f: (_, [a]) => G.reshape(a, [3, -1]) },
  { name: 'Reshape dynamic [B,3,2]->[-1,2]', inputs: [{ name: 'a', shape: ['B', 3, 2], dims: [2, 3, 2] }], f: (_, [a]) => G.reduceSum(G.mul(G.reshape(a, [-1, 2]), G.reshape(a, [-1, 2])), [0]) },
  { name: 'Transpose perm [2,0,1]', inputs: [{ name: 'a', shape: [2, 3, 4] }], f: (_, [a]) => G.transpose(a, [2, 0, 1]) },
  { name: 'Concat three on axis 1', inputs: [{ name: 'a', shape: [2, 1] }, { name: 'b', shape: [2, 3] }, { name: 'c', shape: [2, 2] }], f: (_, [a, b, c]) => G.concat([a, b, c], 1) },
  { name: 'Concat with a constant part', inputs: [{ name: 'a', shape: [2, 2] }], f: (g, [a]) => G.concat([g.constant(1, 'float64', [1, 2]), a], 0) },
  { name: 'Slice two axes, negative start', inputs: [{ name: 'a', shape: [4, 5] }], f: (_, [a]) => G.slice(a, [1, -3], [3, G.END], [0, 1]) },
  { name: 'Slice dynamic axis with negative end', inputs: [{ name: 'a', shape: ['T', 3], dims: [4, 3] }], f: (_, [a]) => G.reduceSum(G.slice(a, [1], [-1], [0]), [0]) },
  { name: 'Pad', inputs: [{ name: 'a', shape: [2, 3] }], f: (_, [a]) => G.pad(a, [1, 0, 0, 2]) },
  { name: 'Unsqueeze', inputs: [{ name: 'a', shape: [2, 3] }], f: (_, [a]) => G.mul(G.unsqueeze(a, [0, 2]), G.unsqueeze(a, [0, 2])) },
  { name: 'Squeeze', inputs: [{ name: 'a', shape: [2, 1, 3] }], f: (_, [a]) => G.squeeze(a, [1]) },
  { name: 'Expand [3] -> [2,3]', inputs: [{ name: 'a', shape: [3] }], f: (_, [a]) => G.expand(a, [2, 3]) },
  { name: 'Expand [2,1] -> [4,2,3]', inputs: [{ name: 'a', shape: [2, 1] }], f: (_, [a]) => G.expand(a, [4, 2, 3]) },
  // Paths that must carry no gradient / unused inputs.
  {
    name: 'unused input gets a zero gradient',
    inputs: [{ name: 'a', shape: [2, 3] }, { name: 'unused', shape: [4] }],
    f: (_, [a]) => G.exp(a),
  },
  {
    name: 'comparison blocks gradients (where on a sign test)',
    inputs: [{ name: 'a', shape: [4], values: [0.3, -0.2, 0.8, -0.6] }],
    f: (_, [a]) => G.mul(G.where(G.greater(a, 0), a, G.neg(a)), G.exp(a)),
  },
];

describe('engine/graph VJP rules vs finite differences (float64)', function () {
  this.timeout(60000);
  for (const c of CASES) {
    it(c.name, async () => {
      const r = await gradCheck(c.f, c.inputs, c.h ? { h: c.h } : {});
      assert.ok(r.relError < 1e-6, `relative error ${r.relError} >= 1e-6: ${JSON.stringify(r.perInput)}`);
    });
  }

  it('the unused input gets exactly zero', async () => {
    const r = await gradCheck((_, [a]) => G.exp(a), [{ name: 'a', shape: [2] }, { name: 'u', shape: [3] }]);
    assert.deepEqual(r.perInput.u.analytic, [0, 0, 0]);
  });

  it('stopGradient leaves only the direct path (analytic differs from the full derivative)', async () => {
    // f = a * stop(a): df/da = stop(a) = a, not 2a.
    const g = new Graph();
    const a = g.input('a', 'float64', [1]);
    const [ga] = G.grad(G.reduceSum(G.mul(a, G.stopGradient(a))), [a]);
    g.output('ga', ga);
    const { Session, hostTensor } = await import('../../../../engine/exec');
    const s = await Session.create(g);
    const out = await s.run({ a: hostTensor('float64', [1], [3]) });
    assert.equal(out.ga.data[0], 3);
  });

  it('a wrong VJP rule is caught by the check', async () => {
    const saved = VJP_RULES.Exp;
    VJP_RULES.Exp = ({ outputs: [y], gradOutputs: [g] }) => [G.mul(G.mul(g!, y), 1.001)];
    try {
      const r = await gradCheck((_, [a]) => G.exp(a), [{ name: 'a', shape: [3] }]);
      assert.ok(r.relError > 1e-4, `a 0.1% wrong rule went unnoticed (rel ${r.relError})`);
    } finally {
      VJP_RULES.Exp = saved;
    }
  });

  it('every op with a VJP rule is covered by a check above', () => {
    const ruled = Object.entries(VJP_RULES).filter(([, r]) => r !== NO_GRADIENT).map(([op]) => op);
    const missing = ruled.filter((op) => !coveredOps.has(op));
    assert.deepEqual(missing, [], `ops with a rule but no gradient check: ${missing.join(', ')}`);
  });
});
