/**
 * The graph builder's core: a `Graph` of ONNX operator nodes over symbolic `Tensor`s.
 * Ops (engine/graph/ops.ts) append nodes with build-time shape inference; `grad`
 * (engine/graph/grad.ts) appends backward nodes to the same graph; `toModel` emits an ONNX
 * ModelProto (engine/graph/onnx.ts).
 */
import { DType, TypedArray, toTyped, dtypeOfTyped } from './dtype';
import { Dim, Shape, numel, shapeToString } from './shape';
import { GraphUsageError, ShapeError } from './errors';

/** Constant tensor data (static shape). */
export interface ConstData {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

export type AttrValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'tensor'; readonly value: ConstData };
export type Attrs = Readonly<Record<string, AttrValue>>;

export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  ints: (value: readonly number[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
  tensor: (value: ConstData): AttrValue => ({ kind: 'tensor', value }),
};

/** One ONNX operator application. `inputs` may hold null for an omitted optional input. */
export interface Node {
  readonly id: number;
  readonly op: string;
  readonly domain: string;
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly attrs: Attrs;
}

/** How a tensor came to be: a fed input, a trainable parameter (also fed), a constant, or an op output. */
export type TensorKind = 'input' | 'param' | 'const' | 'op';

/** A symbolic tensor: dtype and shape known at build time, values only at run time. */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly dtype: DType,
    readonly shape: Shape,
    readonly kind: TensorKind,
    readonly producer: Node | null,
    /** Name of an input, parameter or named initializer; undefined otherwise. */
    readonly name?: string,
    /** Values of a constant. */
    readonly value?: ConstData,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `Tensor(${this.name ?? `#${this.id}`}: ${this.dtype}${shapeToString(this.shape)})`;
  }
}

export interface GraphOutput {
  readonly name: string;
  readonly tensor: Tensor;
}

/** A graph under construction. */
export class Graph {
  private nextId = 0;
  private readonly _nodes: Node[] = [];
  private readonly _inputs: Tensor[] = [];
  private readonly _consts: Tensor[] = [];
  private readonly _outputs: GraphOutput[] = [];
  private readonly names = new Set<string>();
  private readonly scalarCache = new Map<string, Tensor>();
  /** Cache of runtime dim tensors by symbol (see ops.dimTensor). */
  readonly dimCache = new Map<string, Tensor>();

  constructor(readonly name = 'longrl') {}

  get nodes(): readonly Node[] { return this._nodes; }
  /** Fed tensors (inputs and parameters) in declaration order. */
  get inputs(): readonly Tensor[] { return this._inputs; }
  /** Trainable parameters in declaration order. */
  get params(): readonly Tensor[] { return this._inputs.filter((t) => t.kind === 'param'); }
  get constants(): readonly Tensor[] { return this._consts; }
  get outputs(): readonly GraphOutput[] { return this._outputs; }

  private claim(name: string, what: string): void {
    if (!name || /^_v\d+$/.test(name)) throw new GraphUsageError(`${what} name '${name}' is empty or reserved (_vN names are internal)`);
    if (this.names.has(name)) throw new GraphUsageError(`${what} name '${name}' is already used in graph '${this.name}'`);
    this.names.add(name);
  }

  private checkShape(op: string, shape: Shape): void {
    for (const d of shape) {
      if (typeof d === 'number' ? !(Number.isInteger(d) && d >= 0) : d.length === 0) {
        throw new ShapeError(op, [shape], `invalid dim '${String(d)}' (dims are non-negative integers or non-empty names)`);
      }
    }
  }

  /** Declares a fed input. Shapes: static numbers or named dynamic dims ('B', 'T'). */
  input(name: string, dtype: DType, shape: Shape): Tensor {
    this.claim(name, 'input');
    this.checkShape(`input '${name}'`, shape);
    const t = new Tensor(this, this.nextId++, dtype, [...shape], 'input', null, name);
    this._inputs.push(t);
    return t;
  }

  /** Declares a trainable parameter: a fed input that `grad` callers usually differentiate by. */
  param(name: string, shape: Shape, dtype: DType = 'float32'): Tensor {
    this.claim(name, 'param');
    this.checkShape(`param '${name}'`, shape);
    const t = new Tensor(this, this.nextId++, dtype, [...shape], 'param', null, name);
    this._inputs.push(t);
    return t;
  }

  /**
   * A constant baked into the model as an initializer. `values` is a number (scalar unless
   * `shape` is given: then filled), an array or a typed array of numel(shape) values.
   */
  constant(values: number | bigint | boolean | ArrayLike<number | bigint | boolean> | TypedArray, dtype: DType, shape?: readonly number[], name?: string): Tensor {
    let data: TypedArray;
    let dims: readonly number[];
    if (typeof values === 'number' || typeof values === 'bigint' || typeof values === 'boolean') {
      dims = shape ?? [];
      const n = numel(dims) ?? 1;
      data = toTyped(dtype, new Array<number | bigint | boolean>(n).fill(values));
    } else {
      dims = shape ?? [values.length];
      const isTyped = ArrayBuffer.isView(values);
      data = isTyped && dtypeOfTyped(values as TypedArray) === dtype && !(dtype === 'bool' && !(values instanceof Uint8Array))
        ? (values as TypedArray)
        : toTyped(dtype, values as ArrayLike<number | bigint | boolean>);
    }
    const n = numel(dims) ?? -1;
    if (n !== data.length) throw new ShapeError('constant', [dims], `got ${data.length} values for shape [${dims.join(', ')}]`);
    if (name !== undefined) this.claim(name, 'constant');
    const t = new Tensor(this, this.nextId++, dtype, [...dims], 'const', null, name, { dtype, shape: [...dims], data });
    this._consts.push(t);
    return t;
  }

  /** A scalar constant (shared per value and dtype). */
  scalar(value: number, dtype: DType): Tensor {
    const key = `${dtype}:${Object.is(value, -0) ? '-0' : String(value)}`;
    let t = this.scalarCache.get(key);
    if (!t) {
      t = this.constant(value, dtype);
      this.scalarCache.set(key, t);
    }
    return t;
  }

  /** Marks `t` as a graph output under `name`. */
  output(name: string, t: Tensor): void {
    this.own(t, `output '${name}'`);
    this.claim(name, 'output');
    this._outputs.push({ name, tensor: t });
  }

  /** Throws unless `t` belongs to this graph. */
  own(t: Tensor, where: string): void {
    if (t.graph !== this) throw new GraphUsageError(`${where}: ${t.toString()} belongs to graph '${t.graph.name}', not '${this.name}'`);
  }

  /**
   * Appends a node (used by ops and gradient rules; shape inference is the caller's job).
   * Returns the output tensors.
   */
  addNode(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs, outs: readonly { dtype: DType; shape: Shape }[], domain = ''): Tensor[] {
    for (const t of inputs) if (t) this.own(t, op);
    const outputs: Tensor[] = [];
    const node: Node = { id: this._nodes.length, op, domain, inputs: [...inputs], outputs, attrs };
    for (const o of outs) outputs.push(new Tensor(this, this.nextId++, o.dtype, [...o.shape], 'op', node));
    this._nodes.push(node);
    return outputs;
  }

  /** Finds a fed tensor with named dim `sym`: [tensor, axis], or null. */
  findDim(sym: string): [Tensor, number] | null {
    for (const t of this._inputs) {
      const axis = t.shape.indexOf(sym);
      if (axis >= 0) return [t, axis];
    }
    return null;
  }
}

export type { Dim, Shape };
