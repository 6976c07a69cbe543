import type { LoraWeights } from '@stabledrag/backends-diffusion';
import { usageError } from './errors.js';
import { base64ToF32, f32ToBase64 } from './float-base64.js';

type Json = Record<string, unknown>;


/**
 * LoRA adapters as session JSON. A diffusion latent is z_t *of the adapted UNet*: resuming with
 * the base UNet (or adapters trained again on a loaded machine) would drag another model, so the
 * adapters travel with the latent. Losses are not kept.
 */
export function loraToJson(lora: LoraWeights): Json {
  return {
    encoding: 'base64-float32le',
    adapters: lora.adapters,
    values: Object.fromEntries(Object.entries(lora.values).map(([k, v]) => [k, f32ToBase64(v)])),
  };
}

const ADAPTER_FIELDS: Record<string, 'string' | 'number'> = {
  node: 'string',
  weight: 'string',
  down: 'string',
  up: 'string',
  inFeatures: 'number',
  outFeatures: 'number',
  rank: 'number',
  scale: 'number',
};

/** Parses {@link loraToJson}'s output, checking that every adapter's A and B are there at their size. */
export function loraFromJson(raw: unknown, where: string): LoraWeights {
  const o = (raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Json;
  const values = (o.values !== null && typeof o.values === 'object' ? o.values : undefined) as Json | undefined;
  if (o.encoding !== 'base64-float32le' || !Array.isArray(o.adapters) || !values) {
    throw usageError(`${where} must be { "encoding": "base64-float32le", "adapters": [...], "values": {...} }.`);
  }
  const adapters = o.adapters.map((a, i) => {
    const e = (a ?? {}) as Json;
    for (const [k, type] of Object.entries(ADAPTER_FIELDS)) {
      if (typeof e[k] !== type) throw usageError(`${where}: adapters[${i}].${k} must be a ${type}.`);
    }
    return e as unknown as LoraWeights['adapters'][number];
  });
  const decoded: Record<string, Float32Array> = {};
  for (const a of adapters) {
    for (const [name, size] of [[a.down, a.rank * a.inFeatures], [a.up, a.outFeatures * a.rank]] as const) {
      const text = values[name];
      if (typeof text !== 'string') throw usageError(`${where}: values has no "${name}".`);
      const v = base64ToF32(text, `${where}: values.${name}`);
      if (v.length !== size) throw usageError(`${where}: values.${name} holds ${v.length} floats, not ${size}.`);
      decoded[name] = v;
    }
  }
  return { adapters, values: decoded, losses: [] };
}
