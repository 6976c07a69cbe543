import { StableDragError } from '@stabledrag/core';
import { serializeModel } from '@stabledrag/onnx-autograd';
import type { OnnxModel } from '@stabledrag/onnx-autograd';
import { inMemoryExternalWeights } from './external-weights.js';
import type { ExternalWeights, ExternalWeightsFactory } from './external-weights.js';
import { EXTERNAL_DATA_THRESHOLD, needsExternalData } from './needs-external-data.js';
import type { OrtRuntime, OrtSession, OrtSessionOptions } from './ort-runtime.js';

/** How graphs whose weights do not fit in one protobuf (SD 1.5's float32 UNet) are opened. */
export interface ExternalDataOptions {
  /** Weight bytes above which a graph goes through external data. Default {@link EXTERNAL_DATA_THRESHOLD}, just under 2 GiB. */
  readonly threshold?: number;
  /** Default: in memory (the `externalData` session option); the `./node` entry uses temporary files. */
  readonly weights?: ExternalWeightsFactory;
}

/** Opens the sessions of one batch (a backend's load, its masked graphs, a LoRA run). */
export interface SessionOpener {
  /** Serialised inline when the weights fit under the threshold (the bytes are dropped once created), else as external data. */
  open(model: OnnxModel, what: string): Promise<OrtSession>;
  /** Ends the batch: frees its temporary files, its sessions stay usable. Safe to call again. */
  close(): Promise<void>;
}

export function sessionOpener(runtime: OrtRuntime, options: OrtSessionOptions, modelName: string, external: ExternalDataOptions = {}): SessionOpener {
  const threshold = external.threshold ?? EXTERNAL_DATA_THRESHOLD;
  let weights: ExternalWeights | undefined;
  return {
    async open(model, what) {
      try {
        if (!needsExternalData(model, threshold)) return await runtime.InferenceSession.create(serializeModel(model), options);
        weights ??= (external.weights ?? inMemoryExternalWeights)(runtime);
        return await weights.open(model, options);
      } catch (error) {
        const why = (error as Error).message.replace(/\s*\n\s*/g, ' ');
        throw new StableDragError('MODEL_ERROR', `ONNX Runtime could not load the ${what} of model "${modelName}": ${why}`, { cause: error });
      }
    },
    close: async () => weights?.close(),
  };
}

/**
 * Opens graphs in order, one at a time (each serialised just before its session is created), by
 * key; on a failure releases those already open, since the caller never gets them.
 */
export async function openSessions<K extends string>(opener: SessionOpener, graphs: readonly (readonly [K, OnnxModel, string])[]): Promise<Record<K, OrtSession>> {
  const opened: OrtSession[] = [];
  const byKey: Partial<Record<K, OrtSession>> = {};
  try {
    for (const [key, model, what] of graphs) {
      const session = await opener.open(model, what);
      opened.push(session);
      byKey[key] = session;
    }
  } catch (error) {
    await Promise.all(opened.map((s) => s.release()));
    throw error;
  }
  return byKey as Record<K, OrtSession>;
}
