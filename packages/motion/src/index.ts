export {
  DEFAULT_MOTION_RADIUS,
  DEFAULT_MASK_WEIGHT,
  DEFAULT_CONFIDENCE_RATIO,
  DEFAULT_MIN_DISTANCE,
} from './defaults.js';
export { MotionSupervision, TemplateSupervision, ConfidentSupervision } from './supervision.js';
export type { SupervisionOptions, ConfidentSupervisionOptions, BranchRecord } from './supervision.js';
export { discOffsets, shiftedL1, maskL1, fixedFeaturePixels, createShiftScratch } from './motion-terms.js';
export type { ShiftScratch } from './motion-terms.js';
