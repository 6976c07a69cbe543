import { StableDragError } from '@stabledrag/core';
import type { GradientGraphs } from './gradient-graphs.js';
import type { ModelConfig } from './model-config.js';

/** Builds the split-mode forward and backward graphs of a synthesis network (dL/dws from dL/dfeatures). */
export function buildGradientGraphs(_synthesis: Uint8Array, _config: ModelConfig): GradientGraphs {
  throw new StableDragError('UNSUPPORTED', 'buildGradientGraphs: waiting for @stabledrag/onnx-autograd');
}
