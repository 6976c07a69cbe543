import { StableDragError } from '@stabledrag/core';
import { parseModelConfig } from './model-config.js';
import type { ModelConfig } from './model-config.js';

/** Reads a file of a model folder by its name in model.json; injected by the node and web entries. */
export type ReadModelFile = (name: string) => Promise<Uint8Array>;

/** Little-endian float32 bytes → Float32Array (copying, so alignment never matters). */
export function bytesToFloat32(bytes: Uint8Array, what: string): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new StableDragError('MODEL_ERROR', `${what} is ${bytes.byteLength} bytes, not a whole number of float32 values.`);
  const out = new Float32Array(bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

export interface ModelFiles {
  readonly config: ModelConfig;
  readonly mapping: Uint8Array;
  readonly synthesis: Uint8Array;
  readonly wAvg: Float32Array;
}

/** Reads model.json and the files it names, with errors that name the missing file. */
export async function readModelFiles(read: ReadModelFile, where: string): Promise<ModelFiles> {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(await read('model.json')));
  } catch (error) {
    throw new StableDragError('MODEL_ERROR', `Cannot read ${where}/model.json: ${(error as Error).message}. A model folder needs a model.json next to its ONNX files.`, { cause: error });
  }
  const config = parseModelConfig(raw, `${where}/model.json`);
  const get = async (name: string): Promise<Uint8Array> => {
    try {
      return await read(name);
    } catch (error) {
      throw new StableDragError('MODEL_ERROR', `model.json names "${name}" but ${where}/${name} cannot be read: ${(error as Error).message}`, { cause: error });
    }
  };
  const [mapping, synthesis, wAvgBytes] = await Promise.all([get(config.files.mapping), get(config.files.synthesis), get(config.files.wAvg)]);
  return { config, mapping, synthesis, wAvg: bytesToFloat32(wAvgBytes, config.files.wAvg) };
}
