import { describe, expect, it } from 'vitest';
import { DataType } from '@stabledrag/onnx-autograd';
import type { OnnxModel, Tensor } from '@stabledrag/onnx-autograd';
import { EXTERNAL_DATA_THRESHOLD, needsExternalData, weightBytes } from './needs-external-data.js';

function withWeights(tensors: Tensor[]): OnnxModel {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'test',
    producerVersion: '',
    graph: { name: 'g', nodes: [], inputs: [], outputs: [], initializers: new Map(tensors.map((t, i) => [`w${i}`, t])), valueInfo: [] },
  };
}

const floats = (n: number): Tensor => ({ dtype: DataType.FLOAT, dims: [n], data: new Float32Array(n) });
/** A float32 tensor of `n` elements that allocates nothing: the size is all that is read. */
const huge = (n: number): Tensor => ({ dtype: DataType.FLOAT, dims: [n], data: { length: n } as Float32Array });

describe('inline or external data', () => {
  it('counts weights as serialised: float32 4 bytes, int64 8 (held as float64), float16 by its raw bytes', () => {
    const int64: Tensor = { dtype: DataType.INT64, dims: [3], data: new Float64Array(3) };
    const half: Tensor = { dtype: DataType.FLOAT16, dims: [4], data: new Float64Array(0), raw: new Uint8Array(8) };
    const int32: Tensor = { dtype: DataType.INT32, dims: [2], data: new Float64Array(2) };
    expect(weightBytes(withWeights([floats(1000), int64, half, int32]))).toBe(4000 + 24 + 8 + 8);
  });

  it('goes external only above the threshold', () => {
    const m = withWeights([floats(1000)]);
    expect(needsExternalData(m, 4000)).toBe(false);
    expect(needsExternalData(m, 3999)).toBe(true);
    expect(needsExternalData(m, 0)).toBe(true);
    expect(needsExternalData(withWeights([]), 0)).toBe(false);
  });

  it('by default keeps everything under protobuf\'s 2 GiB inline and sends SD 1.5\'s 3.4 GB UNet out', () => {
    expect(EXTERNAL_DATA_THRESHOLD).toBeLessThan(2 ** 31 - 1);
    expect(EXTERNAL_DATA_THRESHOLD).toBeGreaterThan(1.9 * 2 ** 30);
    expect(needsExternalData(withWeights([floats(100_000)]))).toBe(false);
    // 859,520,964 float32 parameters.
    expect(needsExternalData(withWeights([huge(859_520_964)]))).toBe(true);
    // Just past the limit as a sum of tensors none of which is large alone.
    const parts = Array.from({ length: 8 }, () => huge(2 ** 26));
    expect(needsExternalData(withWeights(parts))).toBe(true);
    expect(needsExternalData(withWeights(parts.slice(1)))).toBe(false);
  });
});
