export { runConformance, assertConformance } from './conformance-suite.js';
export type { ConformanceOptions, ConformanceCheck, ConformanceReport } from './conformance-suite.js';
export { compareClose, expectAllClose } from './all-close.js';
export type { Tolerance, CloseReport } from './all-close.js';
