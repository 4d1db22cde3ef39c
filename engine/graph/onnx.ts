/**
 * Emits a Graph as an ONNX ModelProto (IR version 8, opset 18) with onnx-proto, and
 * serialises / saves it. Only nodes that the selected outputs depend on are emitted;
 * every declared input stays a model input (unused ones are harmless), so one graph can
 * give several models (e.g. a training step and a forward-only pass).
 */
import { onnx } from 'onnx-proto';
import { ONNX_DTYPE } from './dtype';
import { ConstData, Graph, Node, Tensor, AttrValue } from './graph';
import { Shape } from './shape';
import { GraphUsageError } from './errors';
import { writeFileAtomic } from '../../infra/store/atomic';

export const OPSET = 18;
export const IR_VERSION = 8;

export interface EmitOptions {
  /** Output names to emit (default: all declared outputs, in declaration order). */
  readonly outputs?: readonly string[];
  /** Model doc string. */
  readonly doc?: string;
}

function tensorProto(name: string, c: ConstData): onnx.ITensorProto {
  const bytes = new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength);
  return { name, dataType: ONNX_DTYPE[c.dtype], dims: [...c.shape], rawData: new Uint8Array(bytes) };
}

function valueInfo(name: string, t: Tensor): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: ONNX_DTYPE[t.dtype], shape: { dim: shapeProto(t.shape) } } },
  };
}

function shapeProto(s: Shape): onnx.TensorShapeProto.IDimension[] {
  return s.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
}

function attrProto(name: string, a: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.kind) {
    case 'int': return { name, type: T.INT, i: a.value };
    case 'float': return { name, type: T.FLOAT, f: a.value };
    case 'ints': return { name, type: T.INTS, ints: [...a.value] };
    case 'floats': return { name, type: T.FLOATS, floats: [...a.value] };
    case 'string': return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor': return { name, type: T.TENSOR, t: tensorProto('', a.value) };
  }
}

/** Nodes needed for `roots`, in topological (insertion) order. */
export function neededNodes(roots: readonly Tensor[]): Node[] {
  const seen = new Set<Node>();
  const stack: Tensor[] = [...roots];
  while (stack.length) {
    const t = stack.pop()!;
    const n = t.producer;
    if (!n || seen.has(n)) continue;
    seen.add(n);
    for (const i of n.inputs) if (i) stack.push(i);
  }
  return [...seen].sort((a, b) => a.id - b.id);
}

/** Builds the ModelProto of `graph`. */
export function toModelProto(graph: Graph, opts: EmitOptions = {}): onnx.ModelProto {
  const outs = opts.outputs
    ? opts.outputs.map((n) => {
      const o = graph.outputs.find((x) => x.name === n);
      if (!o) throw new GraphUsageError(`emit: no output named '${n}' (outputs: ${graph.outputs.map((x) => x.name).join(', ')})`);
      return o;
    })
    : graph.outputs;
  if (outs.length === 0) throw new GraphUsageError(`emit: graph '${graph.name}' has no outputs; call graph.output(name, tensor)`);
  const names = new Map<Tensor, string>();
  for (const t of graph.inputs) names.set(t, t.name!);
  for (const c of graph.constants) if (c.name) names.set(c, c.name);
  const extra: onnx.INodeProto[] = [];
  for (const o of outs) {
    const t = o.tensor;
    if (!names.has(t) && t.kind === 'op') names.set(t, o.name);
    else if (names.get(t) !== o.name) extra.push({ opType: 'Identity', name: `Identity_out_${o.name}`, input: [nameOf(t)], output: [o.name] });
  }
  function nameOf(t: Tensor): string {
    let n = names.get(t);
    if (n === undefined) {
      n = `_v${t.id}`;
      names.set(t, n);
    }
    return n;
  }
  const nodes = neededNodes(outs.map((o) => o.tensor));
  const usedConsts = new Set<Tensor>();
  const nodeProtos: onnx.INodeProto[] = nodes.map((n) => {
    for (const i of n.inputs) if (i && i.kind === 'const') usedConsts.add(i);
    const attrs = Object.entries(n.attrs).filter(([k]) => !k.startsWith('longrl_')).map(([k, v]) => attrProto(k, v));
    return {
      opType: n.op,
      domain: n.domain || undefined,
      name: `${n.op}_${n.id}`,
      input: n.inputs.map((i) => (i ? nameOf(i) : '')),
      output: n.outputs.map(nameOf),
      attribute: attrs,
    };
  });
  for (const o of outs) if (o.tensor.kind === 'const') usedConsts.add(o.tensor);
  // Re-order the extra Identity nodes after their inputs (they read finished values).
  nodeProtos.push(...extra.map((e) => ({ ...e, input: e.input!.map((x) => x) })));
  const initializers = graph.constants.filter((c) => usedConsts.has(c)).map((c) => tensorProto(nameOf(c), c.value!));
  const model: onnx.IModelProto = {
    irVersion: IR_VERSION,
    producerName: 'longrl',
    producerVersion: '0.1.0',
    docString: opts.doc ?? '',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: graph.name,
      node: nodeProtos,
      initializer: initializers,
      input: graph.inputs.map((t) => valueInfo(t.name!, t)),
      output: outs.map((o) => valueInfo(o.name, o.tensor)),
    },
  };
  return onnx.ModelProto.create(model);
}

/** Serialised ONNX bytes of `graph`. */
export function serialize(graph: Graph, opts: EmitOptions = {}): Uint8Array {
  return onnx.ModelProto.encode(toModelProto(graph, opts)).finish();
}

/** Writes `graph` as a .onnx file (atomically); returns the file's sha256. */
export async function saveModel(graph: Graph, path: string, opts: EmitOptions = {}): Promise<string> {
  return writeFileAtomic(path, Buffer.from(serialize(graph, opts)));
}
