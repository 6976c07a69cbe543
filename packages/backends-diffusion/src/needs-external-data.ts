import { DataType } from '@stabledrag/onnx-autograd';
import type { OnnxModel } from '@stabledrag/onnx-autograd';

/**
 * Default weight size above which a graph is opened with external data: protobuf cannot encode a
 * message over 2 GiB − 1, and the graph's nodes, names and small constants need room beside the
 * weights, so 64 MiB is left for them.
 */
export const EXTERNAL_DATA_THRESHOLD = 2 ** 31 - 2 ** 26;

/** Bytes of a model's initializers once serialised (counted by element type: integers are widened in memory). */
export function weightBytes(model: OnnxModel): number {
  let bytes = 0;
  for (const t of model.graph.initializers.values()) {
    if (t.raw) bytes += t.raw.byteLength;
    else bytes += t.data.length * bytesPerElement(t.dtype);
  }
  return bytes;
}

/** Whether a graph must be opened with its weights outside the ModelProto (more than `threshold` bytes of them). */
export function needsExternalData(model: OnnxModel, threshold: number = EXTERNAL_DATA_THRESHOLD): boolean {
  return weightBytes(model) > threshold;
}

const WIDE: readonly number[] = [DataType.INT64, DataType.UINT64, DataType.DOUBLE];
const WORD: readonly number[] = [DataType.FLOAT, DataType.INT32, DataType.UINT32];
const HALF: readonly number[] = [DataType.INT16, DataType.UINT16, DataType.FLOAT16];

function bytesPerElement(dtype: number): number {
  if (WIDE.includes(dtype)) return 8;
  if (WORD.includes(dtype)) return 4;
  return HALF.includes(dtype) ? 2 : 1;
}
