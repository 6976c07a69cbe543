import type { PbTensor } from './onnx-schema';

/** ONNX `TensorProto.DataType` values used here. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
} as const;
export type DataTypeValue = number;

/**
 * A constant tensor held in memory. float32 data stays in a Float32Array (weights can be large);
 * every other numeric type is widened to a Float64Array, which is exact for the int64 values of
 * shape arithmetic (|x| < 2^53; INT64 sentinels such as Slice's "to the end" are clamped when
 * written back). Types we cannot interpret (float16, strings) keep their raw bytes in `raw`.
 */
export interface Tensor {
  dtype: DataTypeValue;
  dims: number[];
  data: Float32Array | Float64Array;
  /** Raw little-endian bytes for element types without a numeric view (e.g. float16). */
  raw?: Uint8Array;
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function isFloatType(dtype: number): boolean {
  return dtype === DataType.FLOAT || dtype === DataType.DOUBLE || dtype === DataType.FLOAT16;
}

export function makeTensor(dtype: number, dims: readonly number[], values: ArrayLike<number>): Tensor {
  const data = dtype === DataType.FLOAT ? Float32Array.from(values) : Float64Array.from(values);
  if (data.length !== numel(dims)) throw new Error(`makeTensor: ${data.length} values for shape [${dims.join(',')}]`);
  return { dtype, dims: [...dims], data };
}

export const f32 = (dims: readonly number[], values: ArrayLike<number>): Tensor => makeTensor(DataType.FLOAT, dims, values);
export const i64 = (values: ArrayLike<number>, dims?: readonly number[]): Tensor =>
  makeTensor(DataType.INT64, dims ?? [values.length], values);
export const scalarF32 = (v: number): Tensor => f32([], [v]);

/** Resolves `external_data` locations to bytes (the whole file); see `loadModel`. */
export type ExternalDataResolver = (location: string) => Uint8Array;

function copyBytes(src: Uint8Array, offset: number, length: number): ArrayBuffer {
  const out = new Uint8Array(length);
  out.set(src.subarray(offset, offset + length));
  return out.buffer;
}

export function tensorFromProto(t: PbTensor, external?: ExternalDataResolver): Tensor {
  const dims = (t.dims ?? []).map(Number);
  const dtype = t.dataType ?? DataType.UNDEFINED;
  const n = numel(dims);
  let raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  if (t.dataLocation === 1) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = kv.get('location');
    if (!location) throw new Error(`tensor ${t.name}: external data without location`);
    if (!external) throw new Error(`tensor ${t.name}: external data '${location}' but no resolver given to loadModel`);
    const file = external(location);
    const offset = Number(kv.get('offset') ?? 0);
    const length = kv.has('length') ? Number(kv.get('length')) : file.length - offset;
    raw = file.subarray(offset, offset + length);
  }
  const fromRaw = (bytesPer: number, read: (v: DataView, i: number) => number): Float64Array => {
    const r = raw as Uint8Array;
    const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = read(view, i * bytesPer);
    return out;
  };
  switch (dtype) {
    case DataType.FLOAT: {
      if (raw) return { dtype, dims, data: new Float32Array(copyBytes(raw, 0, n * 4)) };
      return { dtype, dims, data: Float32Array.from(t.floatData ?? []) };
    }
    case DataType.DOUBLE:
      return { dtype, dims, data: raw ? new Float64Array(copyBytes(raw, 0, n * 8)) : Float64Array.from(t.doubleData ?? []) };
    case DataType.INT64:
      return { dtype, dims, data: raw ? fromRaw(8, (v, o) => Number(v.getBigInt64(o, true))) : Float64Array.from(t.int64Data ?? []) };
    case DataType.UINT64:
      return { dtype, dims, data: raw ? fromRaw(8, (v, o) => Number(v.getBigUint64(o, true))) : Float64Array.from(t.uint64Data ?? []) };
    case DataType.INT32:
      return { dtype, dims, data: raw ? fromRaw(4, (v, o) => v.getInt32(o, true)) : Float64Array.from(t.int32Data ?? []) };
    case DataType.UINT32:
      return { dtype, dims, data: raw ? fromRaw(4, (v, o) => v.getUint32(o, true)) : Float64Array.from(t.uint64Data ?? []) };
    case DataType.INT16:
      return { dtype, dims, data: raw ? fromRaw(2, (v, o) => v.getInt16(o, true)) : Float64Array.from(t.int32Data ?? []) };
    case DataType.UINT16:
      return { dtype, dims, data: raw ? fromRaw(2, (v, o) => v.getUint16(o, true)) : Float64Array.from(t.int32Data ?? []) };
    case DataType.INT8:
      return { dtype, dims, data: raw ? fromRaw(1, (v, o) => v.getInt8(o)) : Float64Array.from(t.int32Data ?? []) };
    case DataType.UINT8:
    case DataType.BOOL:
      return { dtype, dims, data: raw ? fromRaw(1, (v, o) => v.getUint8(o)) : Float64Array.from(t.int32Data ?? []) };
    default: {
      // float16 / bfloat16 / strings: keep bytes for round trips; not usable in arithmetic.
      const bytes = raw ? new Uint8Array(copyBytes(raw, 0, raw.length)) : new Uint8Array(0);
      return { dtype, dims, data: new Float64Array(0), raw: bytes };
    }
  }
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function toBigIntClamped(x: number): bigint {
  if (!Number.isFinite(x)) return x > 0 ? INT64_MAX : INT64_MIN;
  const b = BigInt(Math.trunc(x));
  return b > INT64_MAX ? INT64_MAX : b < INT64_MIN ? INT64_MIN : b;
}

export function tensorToProto(name: string, t: Tensor): PbTensor {
  const n = numel(t.dims);
  let raw: Uint8Array;
  if (t.raw) raw = t.raw;
  else {
    switch (t.dtype) {
      case DataType.FLOAT: {
        const a = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
        raw = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        break;
      }
      case DataType.DOUBLE: {
        const a = t.data instanceof Float64Array ? t.data : Float64Array.from(t.data);
        raw = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        break;
      }
      default: {
        const size =
          t.dtype === DataType.INT64 || t.dtype === DataType.UINT64
            ? 8
            : t.dtype === DataType.INT32 || t.dtype === DataType.UINT32
              ? 4
              : t.dtype === DataType.INT16 || t.dtype === DataType.UINT16
                ? 2
                : 1;
        raw = new Uint8Array(n * size);
        const v = new DataView(raw.buffer);
        for (let i = 0; i < n; i++) {
          const x = t.data[i] as number;
          switch (t.dtype) {
            case DataType.INT64: v.setBigInt64(i * 8, toBigIntClamped(x), true); break;
            case DataType.UINT64: v.setBigUint64(i * 8, BigInt(Math.max(0, Math.trunc(x))), true); break;
            case DataType.INT32: v.setInt32(i * 4, x, true); break;
            case DataType.UINT32: v.setUint32(i * 4, x, true); break;
            case DataType.INT16: v.setInt16(i * 2, x, true); break;
            case DataType.UINT16: v.setUint16(i * 2, x, true); break;
            case DataType.INT8: v.setInt8(i, x); break;
            default: v.setUint8(i, x ? (t.dtype === DataType.BOOL ? 1 : x) : 0);
          }
        }
      }
    }
  }
  return { name, dims: [...t.dims], dataType: t.dtype, rawData: raw };
}
