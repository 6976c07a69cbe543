export type { Point, DragPair, FeatureMap, Mask, RgbaImage } from './types.js';
export type {
  DragLatent,
  LatentSource,
  BackendInfo,
  CallOptions,
  ForwardOptions,
  ForwardPass,
  DragBackend,
  FixedRegion,
  FixedRegionTermInfo,
} from './backend.js';
export { cloneLatent } from './backend.js';
export type { PointTracker, TrackResult } from './point-tracker.js';
export type {
  MotionSupervisor,
  SupervisionBranch,
  SupervisionInput,
  SupervisionResult,
} from './motion-supervisor.js';
export { StableDragError, invariant } from './errors.js';
export type { StableDragErrorCode } from './errors.js';
export { bilinearTaps, sampleBilinear, scatterBilinear, toFeatureCoord, toImageCoord } from './bilinear.js';
export { Adam } from './adam.js';
export type { AdamOptions } from './adam.js';
export { AdamW } from './adam-w.js';
export type { AdamWOptions } from './adam-w.js';
export { DragSession } from './drag-session.js';
export { DivergenceGuard, featureRms, DEFAULT_FEATURE_RMS_LIMIT } from './divergence-guard.js';
export type {
  DragSessionOptions,
  DragStepEvent,
  DragStepTimings,
  DragStopReason,
  DragResult,
  RunOptions,
} from './drag-session.js';
export {
  validatePoint,
  validatePairs,
  validateMask,
  validateBackendAndLatent,
  defaultStopDistance,
  stopDistanceFor,
  validateFeatureMap,
} from './validate.js';
export { createRng, createNormalRng } from './prng.js';
