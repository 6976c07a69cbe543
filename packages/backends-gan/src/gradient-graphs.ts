/**
 * The two ONNX graphs of the split-mode VJP and the tensor names that connect them: run `forward`
 * (outputs: features, image and the residuals the backward needs), then `backward` fed with those
 * outputs (by name), `ws` and the cotangent of the features; it returns dL/dws.
 */
export interface GradientGraphs {
  readonly forward: Uint8Array;
  readonly backward: Uint8Array;
  /** Outputs to fetch from `forward` (features, image, residuals). */
  readonly forwardOutputs: readonly string[];
  /**
   * `forward` without the image: the blocks above the feature block pruned away. ONNX Runtime
   * runs every node of a session whatever is fetched, so a drag step that needs no picture runs
   * this one (a third of the full forward on the embedded models). Outputs: `forwardOutputs`
   * minus the image.
   */
  readonly featureForward?: { readonly graph: Uint8Array; readonly outputs: readonly string[] };
  /** Inputs of `backward`: `ws`, the cotangent, and forward outputs of the same names. */
  readonly backwardInputs: readonly string[];
  /** Name of the cotangent input (dL/dfeatures). */
  readonly cotangent: string;
  /** Name of the gradient output (dL/dws). */
  readonly gradient: string;
}
