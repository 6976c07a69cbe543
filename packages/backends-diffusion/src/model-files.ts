import { StableDragError } from '@stabledrag/core';
import { loadModel } from '@stabledrag/onnx-autograd';
import type { OnnxModel } from '@stabledrag/onnx-autograd';
import { parseDiffusionConfig } from './model-config.js';
import type { DiffusionModelConfig } from './model-config.js';
import { specialTokens } from './prompt.js';
import type { SpecialTokens } from './prompt.js';

/** Reads a file of a model folder by its path relative to the folder; injected by the node and web entries. */
export type ReadModelFile = (path: string) => Promise<Uint8Array>;

export interface DiffusionModelFiles {
  readonly config: DiffusionModelConfig;
  readonly unet: OnnxModel;
  readonly vaeEncoder: OnnxModel;
  readonly vaeDecoder: OnnxModel;
  readonly textEncoder: OnnxModel;
  /** BOS, EOS and padding ids of the folder's tokenizer (CLIP's without one). */
  readonly tokens: SpecialTokens;
}

const LAYOUT = 'a Stable Diffusion ONNX folder holds model_index.json, scheduler/scheduler_config.json, unet/, vae_encoder/, vae_decoder/ and text_encoder/ (each with model.onnx)';

class MissingExternalData extends Error {
  constructor(readonly location: string) {
    super(location);
  }
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i + 1);
}

/**
 * Parses an ONNX file whose weights may live in external-data files beside it (the standard
 * export's `weights.pb` or `model.onnx_data`). The resolver must be synchronous, so a missing
 * file aborts the parse, is read, and the parse starts again.
 */
export async function loadOnnxFile(read: ReadModelFile, path: string, where: string): Promise<OnnxModel> {
  const bytes = await read(path);
  const cache = new Map<string, Uint8Array>();
  for (;;) {
    try {
      return loadModel(bytes, {
        externalData: (location) => {
          const hit = cache.get(location);
          if (!hit) throw new MissingExternalData(location);
          return hit;
        },
      });
    } catch (error) {
      if (!(error instanceof MissingExternalData) && !(error instanceof Error && error.cause instanceof MissingExternalData)) {
        throw new StableDragError('MODEL_ERROR', `${where}/${path} is not a readable ONNX model: ${(error as Error).message}`, { cause: error });
      }
      const location = error instanceof MissingExternalData ? error.location : (error.cause as MissingExternalData).location;
      if (cache.has(location)) throw new StableDragError('MODEL_ERROR', `${where}/${path} cannot resolve its external data "${location}".`);
      try {
        cache.set(location, await read(dirOf(path) + location));
      } catch (readError) {
        throw new StableDragError('MODEL_ERROR', `${where}/${path} keeps its weights in "${location}", which cannot be read: ${(readError as Error).message}. Copy the whole folder.`, { cause: readError });
      }
    }
  }
}

async function readJson(read: ReadModelFile, path: string, where: string): Promise<unknown> {
  const bytes = await read(path);
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch (error) {
    throw new StableDragError('MODEL_ERROR', `${where}/${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

async function tryRead(read: ReadModelFile, path: string): Promise<boolean> {
  try {
    await read(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads and checks a diffusion model folder: one error lists every missing part of the layout,
 * so an incomplete download is fixed in one go.
 */
export async function readDiffusionModelFiles(readFile: ReadModelFile, where: string, fallbackName = 'diffusion model'): Promise<DiffusionModelFiles> {
  // Each file is read once: the presence checks below keep what they read for the parse.
  const memo = new Map<string, Promise<Uint8Array>>();
  const read: ReadModelFile = (path) => {
    let p = memo.get(path);
    if (!p) memo.set(path, (p = readFile(path)));
    return p;
  };
  if (!(await tryRead(read, 'model_index.json'))) {
    throw new StableDragError('MODEL_ERROR', `${where} is not a diffusion model folder: model_index.json is missing (${LAYOUT}).`);
  }
  const optional = async (path: string): Promise<unknown> => ((await tryRead(read, path)) ? readJson(read, path, where) : undefined);
  const modelJson = await optional('model.json');
  const modelIndex = await readJson(read, 'model_index.json', where);
  const schedulerPath = 'scheduler/scheduler_config.json';
  const hasScheduler = await tryRead(read, schedulerPath);
  const pre = parseDiffusionConfig({ modelIndex, scheduler: {}, modelJson, fallbackName }, where);
  const required = [schedulerPath, ...Object.values(pre.files)];
  const missing = [];
  for (const p of required) if (!(p === schedulerPath ? hasScheduler : await tryRead(read, p))) missing.push(p);
  if (missing.length > 0) {
    throw new StableDragError('MODEL_ERROR', `${where} is incomplete: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing (${LAYOUT}).`);
  }
  const config = parseDiffusionConfig({
    modelIndex,
    scheduler: await readJson(read, schedulerPath, where),
    modelJson,
    unetConfig: await optional(`${dirOf(pre.files.unet)}config.json`),
    vaeConfig: await optional(`${dirOf(pre.files.vaeDecoder)}config.json`),
    fallbackName,
  }, where);
  const [unet, vaeEncoder, vaeDecoder, textEncoder] = await Promise.all([
    loadOnnxFile(read, config.files.unet, where),
    loadOnnxFile(read, config.files.vaeEncoder, where),
    loadOnnxFile(read, config.files.vaeDecoder, where),
    loadOnnxFile(read, config.files.textEncoder, where),
  ]);
  const tokens = specialTokens(await optional('tokenizer/vocab.json'), await optional('tokenizer/special_tokens_map.json'), where);
  return { config, unet, vaeEncoder, vaeDecoder, textEncoder, tokens };
}
