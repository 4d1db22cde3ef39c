/**
 * In-thread executor: compiles a graph (or ONNX bytes) once into an onnxruntime-node
 * InferenceSession, cached by signature (sha256 of the model bytes + session options), and
 * runs it with named feeds, returning typed arrays. Feeds are checked before the run
 * (missing / unknown / dtype / shape, named dims consistent across feeds).
 *
 * Copies: feeds are passed to ORT without a copy (ORT wraps the JS buffers). Outputs are
 * copied once by ORT into fresh ArrayBuffers unless `into` provides pre-allocated output
 * tensors, which ORT writes directly (use two sets and swap for parameter updates).
 *
 * session.run blocks the calling thread: on the main thread use the worker host (host.ts).
 */
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { DType, TypedArray, dtypeOfTyped } from '../graph/dtype';
import { Graph, Tensor } from '../graph/graph';
import { serialize, EmitOptions } from '../graph/onnx';
import { Dim } from '../graph/shape';
import { sha256 } from '../../infra/store/atomic';
import { CompileError, FeedDtypeError, FeedShapeError, MissingFeedError, RunError, UnknownFeedError, opFromOrtMessage } from './errors';

/** A concrete tensor on the host: dtype, dims and a typed array (row-major). */
export interface HostTensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TypedArray;
}

export interface SessionOptions {
  /** ORT intra-op threads (default: ORT's choice, usually the number of cores). */
  readonly threads?: number;
  /** ORT graph optimisation level (default 'all'). */
  readonly optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * ORT graph transformers to skip (e.g. 'QuickGeluFusion'). Graphs with float64 tensors
   * skip QuickGeluFusion automatically: ORT 1.30 fuses x*sigmoid(x) into a float-only kernel.
   */
  readonly disableOptimizers?: readonly string[];
  /** ORT log severity (0 verbose .. 4 fatal; default 4: failures surface as typed errors instead). */
  readonly logLevel?: 0 | 1 | 2 | 3 | 4;
}

export interface RunOptions {
  /** Output names to fetch (default: all). */
  readonly outputs?: readonly string[];
  /** Pre-allocated output tensors, written in place by ORT (no output copy). */
  readonly into?: Readonly<Record<string, HostTensor>>;
}

/** Declared input/output of a compiled graph. */
export interface IoSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

/** Builds a HostTensor; `data` may be a typed array or plain numbers (converted to dtype). */
export function hostTensor(dtype: DType, dims: readonly number[], data: TypedArray | ArrayLike<number>): HostTensor {
  let arr: TypedArray;
  if (ArrayBuffer.isView(data) && dtypeOfTyped(data as TypedArray) === dtype) arr = data as TypedArray;
  else {
    const src = data as ArrayLike<number>;
    switch (dtype) {
      case 'float32': arr = Float32Array.from(src); break;
      case 'float64': arr = Float64Array.from(src); break;
      case 'int32': arr = Int32Array.from(src); break;
      case 'bool': arr = Uint8Array.from(src); break;
      case 'int64': arr = BigInt64Array.from(Array.from(src, (v) => BigInt(Math.trunc(Number(v))))); break;
    }
  }
  return { dtype, dims: [...dims], data: arr };
}

const ORT_TYPES: Record<string, DType> = { float32: 'float32', float64: 'float64', int64: 'int64', int32: 'int32', bool: 'bool' };

function toOrt(t: HostTensor): ort.Tensor {
  return new ort.Tensor(t.dtype, t.data as ort.Tensor.DataType, t.dims);
}

function fromOrt(name: string, v: ort.OnnxValue): HostTensor {
  const t = v as ort.Tensor;
  const dtype = ORT_TYPES[t.type];
  if (!dtype) throw new RunError(undefined, `output '${name}' has unsupported type ${t.type}`);
  return { dtype, dims: [...t.dims], data: t.data as TypedArray };
}

const cache = new Map<string, Promise<ort.InferenceSession>>();
const refs = new Map<string, number>();

function specsOfGraph(g: Graph, opts: EmitOptions): { inputs: IoSpec[]; outputs: IoSpec[] } {
  const outs = opts.outputs ? g.outputs.filter((o) => opts.outputs!.includes(o.name)) : g.outputs;
  const io = (name: string, t: Tensor): IoSpec => ({ name, dtype: t.dtype, shape: t.shape });
  return { inputs: g.inputs.map((t) => io(t.name!, t)), outputs: outs.map((o) => io(o.name, o.tensor)) };
}

/** A compiled graph. Create with `Session.create`. */
export class Session {
  private disposed = false;

  private constructor(
    readonly signature: string,
    private readonly ort: ort.InferenceSession,
    readonly inputs: readonly IoSpec[],
    readonly outputs: readonly IoSpec[],
  ) {}

  /**
   * Compiles `model` (a Graph, or ONNX bytes) once; a second call with the same model bytes
   * and options reuses the cached InferenceSession.
   */
  static async create(model: Graph | Uint8Array, opts: SessionOptions & EmitOptions = {}): Promise<Session> {
    const bytes = model instanceof Graph ? serialize(model, opts) : model;
    const disabled = [...(opts.disableOptimizers ?? [])];
    if ((model instanceof Graph ? hasFloat64(model) : bytesHaveFloat64(bytes)) && !disabled.includes('QuickGeluFusion')) disabled.push('QuickGeluFusion');
    const sessOpts: ort.InferenceSession.SessionOptions = {
      ...(disabled.length ? { extra: { optimization: { disable_specified_optimizers: disabled.join(',') } } } : {}),
      graphOptimizationLevel: opts.optimization ?? 'all',
      ...(opts.threads !== undefined ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
      executionMode: 'sequential',
      logSeverityLevel: opts.logLevel ?? 4,
    };
    const signature = sha256(Buffer.concat([Buffer.from(bytes), Buffer.from(JSON.stringify(sessOpts))]));
    let p = cache.get(signature);
    if (!p) {
      p = ort.InferenceSession.create(bytes, sessOpts).catch((e: unknown) => {
        cache.delete(signature);
        const msg = e instanceof Error ? e.message : String(e);
        throw new CompileError(opFromOrtMessage(msg), msg, { cause: e });
      });
      cache.set(signature, p);
    }
    const s = await p;
    refs.set(signature, (refs.get(signature) ?? 0) + 1);
    const specs = model instanceof Graph ? specsOfGraph(model, opts) : specsOfOrt(s);
    return new Session(signature, s, specs.inputs, specs.outputs);
  }

  /** Checks feeds against the declared inputs; returns the binding of named dims. */
  validate(feeds: Readonly<Record<string, HostTensor>>): Map<string, number> {
    const names = this.inputs.map((i) => i.name);
    for (const k of Object.keys(feeds)) if (!names.includes(k)) throw new UnknownFeedError(k, names);
    const dims = new Map<string, number>();
    for (const spec of this.inputs) {
      const f = feeds[spec.name];
      if (!f) throw new MissingFeedError(spec.name, names);
      const got = f.data ? dtypeOfTyped(f.data) : f.dtype;
      if (f.dtype !== spec.dtype || got !== spec.dtype) throw new FeedDtypeError(spec.name, spec.dtype, f.dtype === spec.dtype ? `${got} (typed array)` : f.dtype);
      if (f.dims.length !== spec.shape.length) throw new FeedShapeError(spec.name, spec.shape, f.dims, 'rank differs');
      let n = 1;
      spec.shape.forEach((d, i) => {
        const v = f.dims[i];
        n *= v;
        if (typeof d === 'number') {
          if (v !== d) throw new FeedShapeError(spec.name, spec.shape, f.dims, `dim ${i} must be ${d}`);
        } else {
          const prev = dims.get(d);
          if (prev !== undefined && prev !== v) throw new FeedShapeError(spec.name, spec.shape, f.dims, `named dim '${d}' is ${prev} in another feed`);
          dims.set(d, v);
        }
      });
      if (n !== f.data.length) throw new FeedShapeError(spec.name, spec.shape, f.dims, `data holds ${f.data.length} elements, dims give ${n}`);
    }
    return dims;
  }

  /** Runs the graph; returns the requested outputs by name. */
  async run(feeds: Readonly<Record<string, HostTensor>>, opts: RunOptions = {}): Promise<Record<string, HostTensor>> {
    this.validate(feeds);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
    const names = opts.outputs ?? this.outputs.map((o) => o.name);
    const outNames = this.outputs.map((o) => o.name);
    for (const n of names) if (!outNames.includes(n)) throw new RunError(undefined, `no output named '${n}' (outputs: ${outNames.join(', ')})`);
    let fetches: ort.InferenceSession.FetchesType = names;
    if (opts.into) {
      const f: Record<string, ort.OnnxValue | null> = {};
      for (const n of names) f[n] = opts.into[n] ? toOrt(opts.into[n]) : null;
      fetches = f;
    }
    let res: ort.InferenceSession.ReturnType;
    try {
      res = await this.ort.run(ortFeeds, fetches);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new RunError(opFromOrtMessage(msg), msg, { cause: e });
    }
    const out: Record<string, HostTensor> = {};
    for (const n of names) out[n] = opts.into?.[n] ?? fromOrt(n, res[n]);
    return out;
  }

  /** Drops this handle; the ORT session is released when the last handle of its signature is disposed. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const n = (refs.get(this.signature) ?? 1) - 1;
    if (n > 0) {
      refs.set(this.signature, n);
      return;
    }
    refs.delete(this.signature);
    cache.delete(this.signature);
    await this.ort.release();
  }
}

function hasFloat64(g: Graph): boolean {
  return g.inputs.some((t) => t.dtype === 'float64') || g.nodes.some((n) => n.outputs.some((t) => t.dtype === 'float64'));
}

function bytesHaveFloat64(bytes: Uint8Array): boolean {
  try {
    const m = onnx.ModelProto.decode(bytes);
    const D = onnx.TensorProto.DataType.DOUBLE;
    const g = m.graph;
    if (!g) return false;
    return (g.input ?? []).some((i) => i.type?.tensorType?.elemType === D) || (g.initializer ?? []).some((t) => t.dataType === D)
      || (g.output ?? []).some((i) => i.type?.tensorType?.elemType === D);
  } catch {
    return false;
  }
}

function specsOfOrt(s: ort.InferenceSession): { inputs: IoSpec[]; outputs: IoSpec[] } {
  const conv = (m: ort.InferenceSession.ValueMetadata): IoSpec => {
    if (!m.isTensor) return { name: m.name, dtype: 'float32', shape: [] };
    return { name: m.name, dtype: ORT_TYPES[m.type] ?? 'float32', shape: [...m.shape] };
  };
  return { inputs: s.inputMetadata.map(conv), outputs: s.outputMetadata.map(conv) };
}

/** Number of cached compiled sessions (for tests). */
export function cachedSessionCount(): number {
  return cache.size;
}
