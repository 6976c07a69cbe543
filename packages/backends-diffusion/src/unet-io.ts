import { StableDragError } from '@stabledrag/core';
import { DataType } from '@stabledrag/onnx-autograd';
import type { OnnxModel, Tensor } from '@stabledrag/onnx-autograd';
import type { OrtRuntime, OrtTensor } from './ort-runtime.js';

/** How a UNet export takes its inputs; exporters differ in the timestep's type and rank. */
export interface UnetIo {
  readonly sample: string;
  readonly timestep: string;
  readonly context: string;
  readonly output: string;
  /** ONNX element type of the timestep (int64 in optimum exports, float32 in older scripts). */
  readonly timestepType: number;
  /** [1] or [] (a scalar). */
  readonly timestepDims: readonly number[];
}

const STANDARD = { sample: 'sample', timestep: 'timestep', context: 'encoder_hidden_states', output: 'out_sample' } as const;

/** Reads the standard UNet input and output names and the timestep's type from the graph. */
export function describeUnet(unet: OnnxModel, file: string): UnetIo {
  const inputs = unet.graph.inputs;
  const names = inputs.map((v) => v.name);
  for (const n of [STANDARD.sample, STANDARD.timestep, STANDARD.context]) {
    if (!names.includes(n)) {
      throw new StableDragError('MODEL_ERROR', `${file} has no input "${n}" (inputs: ${names.join(', ')}); a Stable Diffusion UNet export takes sample, timestep and encoder_hidden_states.`);
    }
  }
  const outputs = unet.graph.outputs.map((v) => v.name);
  const output = outputs.includes(STANDARD.output) ? STANDARD.output : outputs[0];
  if (!output) throw new StableDragError('MODEL_ERROR', `${file} has no output.`);
  const t = inputs.find((v) => v.name === STANDARD.timestep)!;
  const supported = [DataType.INT64, DataType.INT32, DataType.FLOAT];
  if (!supported.includes(t.dtype as 1 | 6 | 7)) {
    throw new StableDragError('MODEL_ERROR', `${file} takes its timestep as ONNX type ${t.dtype}; only int64, int32 and float32 timesteps are supported.`);
  }
  return { ...STANDARD, output, timestepType: t.dtype, timestepDims: t.shape?.length === 0 ? [] : [1] };
}

/** The timestep as a constant initializer (for pinning it into a graph). */
export function timestepConstant(io: UnetIo, t: number): Tensor {
  const data = io.timestepType === DataType.FLOAT ? Float32Array.from([t]) : Float64Array.from([t]);
  return { dtype: io.timestepType, dims: [...io.timestepDims], data };
}

/** The timestep as a runtime tensor of the type the export declares. */
export function timestepTensor(runtime: OrtRuntime, io: UnetIo, t: number): OrtTensor {
  if (io.timestepType === DataType.INT64) return new runtime.Tensor('int64', BigInt64Array.from([BigInt(t)]), io.timestepDims);
  if (io.timestepType === DataType.INT32) return new runtime.Tensor('int32', Int32Array.from([t]), io.timestepDims);
  return new runtime.Tensor('float32', Float32Array.from([t]), io.timestepDims);
}
