/**
 * The slice of ONNX Runtime's JavaScript API this package uses, typed structurally so the shared
 * code needs neither onnxruntime-node nor onnxruntime-web: the `./node` and `./web` entries pass
 * the real module in. Wider than backends-gan's: UNet timesteps and token ids are integers.
 */
export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
  dispose?(): void;
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface OrtSessionOptions {
  executionProviders?: readonly string[];
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  intraOpNumThreads?: number;
  /** Session config entries (onnxruntime_session_options_config_keys.h), string values on Node. */
  extra?: Record<string, unknown>;
  /** External-data files of a model given as bytes, by the `location` its initializers name. */
  externalData?: readonly { readonly path: string; readonly data: Uint8Array }[];
}

export type OrtTensorData = Float32Array | Int32Array | BigInt64Array;

export interface OrtRuntime {
  readonly InferenceSession: {
    /** From ModelProto bytes, or (onnxruntime-node) a file path, external data resolved beside it. */
    create(model: Uint8Array | string, options?: OrtSessionOptions): Promise<OrtSession>;
  };
  readonly Tensor: new (type: 'float32' | 'int32' | 'int64', data: OrtTensorData, dims: readonly number[]) => OrtTensor;
}
