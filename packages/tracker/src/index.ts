export {
  DEFAULT_TRACK_RADIUS,
  DEFAULT_FUSION_LAMBDA,
  DEFAULT_ITERATIONS,
  DEFAULT_RIDGE,
  DEFAULT_LABEL_SIGMA,
  DEFAULT_RESPONSE_NORMALISATION,
} from './defaults.js';
export { NearestNeighbourTracker } from './nearest-neighbour-tracker.js';
export type { NearestNeighbourTrackerOptions } from './nearest-neighbour-tracker.js';
export { DiscriminativeTracker } from './discriminative-tracker.js';
export type { DiscriminativeTrackerOptions } from './discriminative-tracker.js';
export {
  learnFilter,
  solveFilterClosedForm,
  solveFilterIterative,
  filterObjective,
  gaussianLabels,
  defaultLabelSigma,
} from './discriminative-filter.js';
export type {
  DiscriminativeModel,
  FilterProblem,
  FilterSolver,
  IterativeMethod,
  IterativeOptions,
  LearnFilterOptions,
} from './discriminative-filter.js';
export { scoreWindow, fusedScores, normaliseResponse } from './score-map.js';
export type { ScoreMap, ScoreWindowOptions, ResponseNormalisation } from './score-map.js';
export { choleskySolve } from './linalg.js';
export { createWindow, sampleWindow } from './window.js';
export type { WindowSamples, MutablePoint } from './window.js';
