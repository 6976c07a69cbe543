import { serializeModelWithExternalData } from '@stabledrag/onnx-autograd';
import type { OnnxModel } from '@stabledrag/onnx-autograd';
import type { OrtRuntime, OrtSession, OrtSessionOptions } from './ort-runtime.js';

/**
 * Opens the sessions of graphs too large for one protobuf, their weights handed to ONNX Runtime
 * as external data. One per batch of sessions (a backend's load, its masked graphs, a LoRA run),
 * so a batch's graphs can share what they hold in common (the UNet's weights).
 */
export interface ExternalWeights {
  open(model: OnnxModel, options: OrtSessionOptions): Promise<OrtSession>;
  /**
   * Frees what the batch needed only while its sessions were created (temporary files); the
   * sessions stay usable. May be called again: a backend retries on dispose what failed here.
   */
  close(): Promise<void>;
}

/** Makes the {@link ExternalWeights} of one batch; injected (files on Node, memory in the browser). */
export type ExternalWeightsFactory = (runtime: OrtRuntime) => ExternalWeights;

const LOCATION = 'weights.bin';

/**
 * Hands the weights over in memory with the `externalData` session option (onnxruntime-web, and
 * onnxruntime-node 1.30's binding, which takes `{ path, data }` with bytes). Each graph gets its own
 * blob, so a batch holds its weights once more in JavaScript while a session is created.
 */
export const inMemoryExternalWeights: ExternalWeightsFactory = (runtime) => ({
  async open(model, options) {
    const { model: bytes, data } = serializeModelWithExternalData(model, { location: LOCATION });
    return runtime.InferenceSession.create(bytes, { ...options, externalData: [{ path: LOCATION, data }] });
  },
  async close() {},
});
