/** Tensor element types the engine builds graphs with, and their ONNX / JS counterparts. */
import { onnx } from 'onnx-proto';

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';

/** JS typed array holding a tensor of each dtype (bool as one byte per element). */
export interface TypedArrayOf {
  float32: Float32Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  bool: Uint8Array;
}
export type TypedArray = TypedArrayOf[DType];

export const ONNX_DTYPE: Readonly<Record<DType, onnx.TensorProto.DataType>> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float64: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

export const DTYPE_BYTES: Readonly<Record<DType, number>> = { float32: 4, float64: 8, int64: 8, int32: 4, bool: 1 };

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}

/** A typed array of `n` zeros of dtype `d`. */
export function allocTyped<D extends DType>(d: D, n: number): TypedArrayOf[D] {
  switch (d) {
    case 'float32': return new Float32Array(n) as TypedArrayOf[D];
    case 'float64': return new Float64Array(n) as TypedArrayOf[D];
    case 'int64': return new BigInt64Array(n) as TypedArrayOf[D];
    case 'int32': return new Int32Array(n) as TypedArrayOf[D];
    case 'bool': return new Uint8Array(n) as TypedArrayOf[D];
  }
  throw new Error(`unknown dtype ${String(d)}`);
}

/** Typed array of dtype `d` holding `values` (numbers, bigints or booleans). */
export function toTyped<D extends DType>(d: D, values: ArrayLike<number | bigint | boolean>): TypedArrayOf[D] {
  const out = allocTyped(d, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (d === 'int64') (out as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
    else (out as Float64Array)[i] = Number(v);
  }
  return out;
}

/** The dtype a typed array holds (Uint8Array counts as bool). */
export function dtypeOfTyped(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  return 'bool';
}
