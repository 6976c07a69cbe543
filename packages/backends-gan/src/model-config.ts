import { StableDragError } from '@stabledrag/core';

/**
 * The `model.json` of a model folder: what a StyleGAN2-style ONNX export needs to be dragged.
 * Any export described by such a file works, not only the project's own.
 */
export interface ModelConfig {
  readonly name: string;
  readonly description?: string;
  /** Image side in pixels (square images). */
  readonly resolution: number;
  readonly zDim: number;
  readonly wDim: number;
  /** Rows of W+ the synthesis network takes. */
  readonly numWs: number;
  /** How many leading W+ rows a drag optimises by default (DragGAN: 6). */
  readonly optimizeWs: number;
  /** How z is drawn for a seed: standard normal, or uniform in [−1, 1]. */
  readonly zDistribution: 'normal' | 'uniform';
  readonly truncation: number;
  /**
   * Adam learning rate that suits this model's W scale (`drag_learning_rate`); default 0.001,
   * DragGAN's and the paper's value for StyleGAN2.
   */
  readonly dragLearningRate: number;
  /** Stop distance in image pixels measured for this model (`drag_stop_distance`); absent: DragGAN's rule. */
  readonly dragStopDistance?: number;
  readonly files: {
    readonly synthesis: string;
    readonly mapping: string;
    /** Little-endian float32 mean of w, w_dim floats. */
    readonly wAvg: string;
  };
  readonly tensors: {
    readonly ws: string;
    readonly image: string;
    readonly features: string;
    readonly z: string;
    readonly w: string;
  };
  /** Image pixels per feature pixel of the feature tensor. */
  readonly featureScale: number;
  /** Values of the image output that map to 0 and 255. */
  readonly imageRange: readonly [number, number];
  readonly license?: string;
  readonly trainingData?: string;
}

type Json = Record<string, unknown>;

function fail(where: string, message: string): never {
  throw new StableDragError('MODEL_ERROR', `${where}: ${message}`);
}

function num(obj: Json, keys: readonly string[], where: string, fallback?: number): number {
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  if (fallback !== undefined) return fallback;
  return fail(where, `needs a number field "${keys[0]}"`);
}

function str(obj: Json, keys: readonly string[], where: string, fallback?: string): string {
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'string' && v.length > 0) return v;
  }
  if (fallback !== undefined) return fallback;
  return fail(where, `needs a string field "${keys[0]}"`);
}

function obj(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}

/**
 * Reads and checks a parsed `model.json`. Accepts snake_case (as written by the Python export
 * scripts) and camelCase keys. `where` names the file in error messages.
 */
export function parseModelConfig(raw: unknown, where = 'model.json'): ModelConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(where, 'is not a JSON object');
  const o = raw as Json;
  const files = obj(o.files);
  const tensors = { ...obj(o.inputs), ...obj(o.outputs), ...obj(o.tensors) };
  // The project's export scripts describe the feature tensor as { feature: { name, scale } }.
  const feature = obj(o.feature);
  const resolution = num(o, ['resolution'], where);
  const numWs = num(o, ['num_ws', 'numWs'], where);
  const optimizeWs = num(o, ['optimize_ws', 'optimizeWs'], where, Math.min(6, numWs));
  const range = o.image_range ?? o.imageRange ?? o.value_range ?? [-1, 1];
  const zDist = str(o, ['z_distribution', 'zDistribution'], where, 'normal');
  const config: ModelConfig = {
    name: str(o, ['name'], where),
    ...(typeof o.description === 'string' ? { description: o.description } : {}),
    resolution,
    zDim: num(o, ['z_dim', 'zDim'], where),
    wDim: num(o, ['w_dim', 'wDim'], where),
    numWs,
    optimizeWs,
    zDistribution: zDist.startsWith('uniform') ? 'uniform' : 'normal',
    truncation: num(o, ['truncation', 'truncation_psi', 'truncationPsi'], where, 1),
    dragLearningRate: num(o, ['drag_learning_rate', 'dragLearningRate'], where, 0.001),
    ...(o.drag_stop_distance !== undefined || o.dragStopDistance !== undefined ? { dragStopDistance: num(o, ['drag_stop_distance', 'dragStopDistance'], where) } : {}),
    files: {
      synthesis: str(files, ['synthesis'], `${where} files`),
      mapping: str(files, ['mapping'], `${where} files`),
      wAvg: str(files, ['w_avg', 'wAvg'], `${where} files`),
    },
    tensors: {
      ws: str(tensors, ['ws'], where, 'ws'),
      image: str(tensors, ['image'], where, 'image'),
      features: str(tensors, ['features'], where, str(feature, ['name'], where, str(o, ['feature_tensor', 'featureTensor'], where, 'features'))),
      z: str(tensors, ['z'], where, 'z'),
      w: str(tensors, ['w'], where, 'w'),
    },
    featureScale: num(o, ['feature_scale', 'featureScale'], where, num(feature, ['scale'], where, 4)),
    imageRange: Array.isArray(range) && range.length === 2 ? [Number(range[0]), Number(range[1])] : [-1, 1],
    ...(typeof o.license === 'string' ? { license: o.license } : {}),
    ...(typeof o.training_data === 'string' ? { trainingData: o.training_data } : {}),
  };
  const ints: [string, number][] = [['resolution', resolution], ['z_dim', config.zDim], ['w_dim', config.wDim], ['num_ws', numWs], ['optimize_ws', optimizeWs]];
  for (const [k, v] of ints) if (!Number.isInteger(v) || v <= 0) fail(where, `"${k}" must be a positive integer, got ${v}`);
  if (optimizeWs > numWs) fail(where, `"optimize_ws" (${optimizeWs}) cannot exceed "num_ws" (${numWs})`);
  if (!(config.truncation > 0 && config.truncation <= 1)) fail(where, `"truncation" must be in (0, 1], got ${config.truncation}`);
  if (!(config.dragLearningRate > 0)) fail(where, `"drag_learning_rate" must be positive, got ${config.dragLearningRate}`);
  if (config.dragStopDistance !== undefined && !(config.dragStopDistance > 0)) fail(where, `"drag_stop_distance" must be positive, got ${config.dragStopDistance}`);
  return config;
}
