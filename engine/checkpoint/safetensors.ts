/**
 * safetensors read/write (format of huggingface/safetensors): 8-byte little-endian header
 * length N, N bytes of JSON header `{name: {dtype, shape, data_offsets: [begin, end]},
 * "__metadata__": {str: str}}` (padded with spaces to a multiple of 8), then the raw
 * little-endian tensor bytes, contiguous and in offset order. No maintained npm package
 * for this was listed, and the format is a few dozen lines.
 */

/** Tensor dtypes longrl writes; F16/BF16 are read (as float32) for real checkpoints. */
export type SafeDtype = 'F32' | 'F64' | 'I64' | 'I32' | 'F16' | 'BF16';

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  /** F32 -> Float32Array, F64 -> Float64Array, I64 -> BigInt64Array, I32 -> Int32Array; F16/BF16 decode to Float32Array. */
  data: Float32Array | Float64Array | BigInt64Array | Int32Array;
}

/** A safetensors file is malformed (header, offsets, sizes). */
export class SafetensorsFormatError extends Error {
  override readonly name = 'SafetensorsFormatError';
  constructor(readonly file: string, readonly tensor: string | null, detail: string) {
    super(`${file}${tensor ? ` tensor "${tensor}"` : ''}: ${detail}; the file is not valid safetensors (rewrite it from a good checkpoint)`);
  }
}

const BYTES: Record<SafeDtype, number> = { F32: 4, F64: 8, I64: 8, I32: 4, F16: 2, BF16: 2 };

function dtypeOf(data: SafeTensor['data']): SafeDtype {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof BigInt64Array) return 'I64';
  return 'I32';
}

/**
 * Serialise tensors (written in the order given) to safetensors bytes, as a list of
 * buffers (header, then each tensor's bytes) so large weights are not copied.
 */
export function encodeSafetensors(tensors: ReadonlyArray<[string, { shape: number[]; data: SafeTensor['data'] }]>, metadata: Record<string, string> = {}): Uint8Array[] {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('safetensors: big-endian hosts are not supported');
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of tensors) {
    const dtype = dtypeOf(t.data);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new SafetensorsFormatError('<encode>', name, `shape [${t.shape}] has ${n} elements but data has ${t.data.length}`);
    const bytes = n * BYTES[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [off, off + bytes] };
    off += bytes;
    parts.push(new Uint8Array(t.data.buffer, t.data.byteOffset, bytes));
  }
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const hbytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hbytes.length));
  return [len, hbytes, ...parts];
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Parse safetensors bytes; `file` names the source in errors. Data is copied into aligned arrays. */
export function decodeSafetensors(buf: Uint8Array, file = '<safetensors>'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (buf.byteLength < 8) throw new SafetensorsFormatError(file, null, `only ${buf.byteLength} bytes`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > buf.byteLength - 8 || n > 100_000_000) throw new SafetensorsFormatError(file, null, `header length ${n} exceeds the file size ${buf.byteLength}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, n).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new SafetensorsFormatError(file, null, `header is not JSON: ${(err as Error).message}`);
  }
  const dataStart = 8 + n;
  const dataLen = buf.byteLength - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') { metadata = v as Record<string, string>; continue; }
    const e = v as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (!e || typeof e.dtype !== 'string' || !(e.dtype in BYTES)) throw new SafetensorsFormatError(file, name, `unsupported dtype ${JSON.stringify(e?.dtype)}`);
    const dtype = e.dtype as SafeDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsFormatError(file, name, `bad shape ${JSON.stringify(e.shape)}`);
    if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) throw new SafetensorsFormatError(file, name, 'missing data_offsets');
    const [b, end] = e.data_offsets;
    const count = e.shape.reduce((a, x) => a * x, 1);
    if (!(b >= 0 && end >= b && end <= dataLen)) throw new SafetensorsFormatError(file, name, `data_offsets [${b}, ${end}] outside the data (${dataLen} bytes)`);
    if (end - b !== count * BYTES[dtype]) throw new SafetensorsFormatError(file, name, `data_offsets span ${end - b} bytes but ${dtype}[${e.shape}] needs ${count * BYTES[dtype]}`);
    const bytes = new Uint8Array(end - b); // copy: aligned, independent of buf (Buffer#slice would be a view)
    bytes.set(buf.subarray(dataStart + b, dataStart + end));
    let data: SafeTensor['data'];
    switch (dtype) {
      case 'F32': data = new Float32Array(bytes.buffer, 0, count); break;
      case 'F64': data = new Float64Array(bytes.buffer, 0, count); break;
      case 'I64': data = new BigInt64Array(bytes.buffer, 0, count); break;
      case 'I32': data = new Int32Array(bytes.buffer, 0, count); break;
      case 'F16': case 'BF16': {
        const u16 = new Uint16Array(bytes.buffer, 0, count);
        const f = new Float32Array(count);
        if (dtype === 'BF16') {
          const u32 = new Uint32Array(f.buffer);
          for (let i = 0; i < count; i++) u32[i] = u16[i] << 16;
        } else {
          for (let i = 0; i < count; i++) f[i] = f16ToF32(u16[i]);
        }
        data = f;
        break;
      }
    }
    tensors.set(name, { dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}
