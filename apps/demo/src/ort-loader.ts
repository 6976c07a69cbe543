import type { OrtRuntime } from '@stabledrag/backends-gan';

/** Which onnxruntime-web build runs the model. */
export type OrtBuild = 'wasm' | 'webgpu';

export interface OrtUrls {
  /** URL of ort-wasm-simd-threaded.wasm (the CPU-only build). */
  readonly wasm: string;
  /** URL of ort-wasm-simd-threaded.jsep.wasm (the build with the WebGPU execution provider). */
  readonly jsep: string;
}

/**
 * Imports the onnxruntime-web build for `build` and points it at our own copy of its .wasm.
 * The CPU-only build (`onnxruntime-web/wasm`) runs a drag step about 3× faster on the CPU than the
 * default JSEP build measured in headless Chromium (200 vs 560–690 ms per step, 128-px model,
 * one thread), so the JSEP build is loaded only for WebGPU.
 */
export async function importOrt(build: OrtBuild, urls: OrtUrls, threads: number): Promise<OrtRuntime> {
  const ort = build === 'webgpu' ? await import('onnxruntime-web') : await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = { wasm: build === 'webgpu' ? urls.jsep : urls.wasm };
  ort.env.wasm.proxy = false; // already in a worker
  ort.env.wasm.numThreads = threads;
  // ORT warns at every session creation that shape ops stay on the CPU; that is expected here.
  ort.env.logLevel = 'error';
  return ort as unknown as OrtRuntime;
}

/** The execution providers of a build: WebGPU falls back to WASM per node. */
export function providersOf(build: OrtBuild): string[] {
  return build === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm'];
}
