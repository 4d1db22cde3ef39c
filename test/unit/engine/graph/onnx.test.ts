import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { onnx } from 'onnx-proto';
import * as G from '../../../../engine/graph';
import { Graph, nn, saveModel, serialize, OPSET } from '../../../../engine/graph';
import { Session, hostTensor } from '../../../../engine/exec';
import { sha256File } from '../../../../infra/store/atomic';
import { rng } from './gradcheck';

const run = promisify(execFile);

/** A small training-style graph: RMSNorm -> projection -> CE, with grads and an SGD update. */
function buildGraph(): Graph {
  const g = new Graph('roundtrip');
  const x = g.input('x', 'float32', ['B', 4]);
  const t = g.input('t', 'int64', ['B']);
  const w = g.param('w', [4, 6]);
  const loss = nn.crossEntropy(nn.linear(nn.rmsNorm(x, null), w), t);
  const [gw] = G.grad(loss, [w]);
  g.output('loss', loss);
  g.output('w_new', G.sub(w, G.mul(gw, 0.1)));
  g.output('probs', G.softmax(nn.linear(x, w)));
  return g;
}

describe('engine/graph ONNX emission', function () {
  this.timeout(30000);

  it('emits opset 18 with named dynamic dims and decodes as a standard ModelProto', () => {
    const m = onnx.ModelProto.decode(serialize(buildGraph()));
    const gp = m.graph as onnx.GraphProto;
    assert.equal(Number(m.opsetImport[0].version), OPSET);
    assert.deepEqual(gp.input.map((i) => i.name), ['x', 't', 'w']);
    assert.deepEqual(gp.output.map((o) => o.name), ['loss', 'w_new', 'probs']);
    assert.equal((gp.input[0].type as onnx.TypeProto).tensorType?.shape?.dim?.[0].dimParam, 'B');
  });

  it('emits only the nodes the selected outputs need', () => {
    const g = buildGraph();
    const all = (onnx.ModelProto.decode(serialize(g)).graph as onnx.GraphProto).node.length;
    const fwd = onnx.ModelProto.decode(serialize(g, { outputs: ['probs'] })).graph as onnx.GraphProto;
    assert.ok(fwd.node.length < all / 3, `forward-only has ${fwd.node.length} of ${all} nodes`);
    assert.ok(!fwd.node.some((n) => n.opType === 'ScatterElements'));
  });

  it('saves to .onnx, reloads in a fresh process and gives identical outputs', async () => {
    const g = buildGraph();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longrl-onnx-'));
    try {
      const file = path.join(dir, 'model.onnx');
      const sha = await saveModel(g, file);
      assert.equal(sha, await sha256File(file));
      const r = rng(3);
      const B = 5;
      const x = Float32Array.from({ length: B * 4 }, () => r() * 2 - 1);
      const t = [0, 5, 2, 3, 1];
      const w = Float32Array.from({ length: 24 }, () => r() - 0.5);
      const s = await Session.create(g, { threads: 1 });
      const here = await s.run({ x: hostTensor('float32', [B, 4], x), t: hostTensor('int64', [B], t), w: hostTensor('float32', [4, 6], w) });
      const script = `
        const ort = require(${JSON.stringify(require.resolve('onnxruntime-node'))});
        (async () => {
          const s = await ort.InferenceSession.create(${JSON.stringify(file)}, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
          const out = await s.run({
            x: new ort.Tensor('float32', Float32Array.from(${JSON.stringify(Array.from(x))}), [${B}, 4]),
            t: new ort.Tensor('int64', BigInt64Array.from(${JSON.stringify(t)}.map(BigInt)), [${B}]),
            w: new ort.Tensor('float32', Float32Array.from(${JSON.stringify(Array.from(w))}), [4, 6]),
          });
          const res = {};
          for (const k of Object.keys(out)) res[k] = { dims: out[k].dims, hex: Buffer.from(out[k].data.buffer, out[k].data.byteOffset, out[k].data.byteLength).toString('hex') };
          process.stdout.write(JSON.stringify(res));
        })().catch((e) => { console.error(e); process.exit(1); });`;
      const { stdout } = await run(process.execPath, ['-e', script], { maxBuffer: 1 << 20 });
      const there = JSON.parse(stdout) as Record<string, { dims: number[]; hex: string }>;
      for (const k of ['loss', 'w_new', 'probs']) {
        const a = here[k].data;
        assert.deepEqual(there[k].dims, [...here[k].dims], k);
        assert.equal(there[k].hex, Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex'), `${k} differs bitwise`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
