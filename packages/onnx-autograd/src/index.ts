export { loadModel, serializeModel, serializeModelWithExternalData, type ExternalDataOptions, onnxOpset, cloneModel, type OnnxModel, type OnnxGraph, type OnnxNode, type ValueInfo, type Attribute, type LoadModelOptions } from './model';
export { DataType, type Tensor, type ExternalDataResolver } from './tensor';
export { analyzeGraph, type TensorInfo, type GraphAnalysis } from './analysis';
export { buildVjp, feedsFor, type VjpOptions, type VjpResult, type RecomputeVjp, type SplitVjp, type VjpModelIO } from './build-vjp';
export { vjpRules } from './vjp-rules';
export { exposeOutputs, pruneModel, renameTensor, renameInput, replaceInputWithConstant, rewireTensor, foldConstants } from './surgery';
