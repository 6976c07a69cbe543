import { readFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { DragBackend } from '@stabledrag/core';
import { GaussianBlobBackend } from '@stabledrag/core/reference';

export type Runtime = 'node' | 'wasm' | 'reference';

export interface LoadedBackend {
  readonly backend: DragBackend;
  readonly runtime: Runtime;
  /** e.g. "onnxruntime-node 1.30.0 (CPU EP)". */
  readonly description: string;
  readonly loadMs: number;
}

const require = createRequire(import.meta.url);

/** The installed version of a runtime package (its exports map may hide package.json, so walk up from its entry). */
export function ortVersion(pkg: 'onnxruntime-node' | 'onnxruntime-web'): string {
  try {
    let dir = dirname(require.resolve(pkg));
    for (let i = 0; i < 6; i++) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (json.name === pkg && json.version) return json.version;
      }
      dir = dirname(dir);
    }
  } catch {
    // fall through
  }
  return 'unknown';
}

/**
 * The backend the benchmark drags with: the default GAN model on onnxruntime-node (CPU) or on
 * onnxruntime-web's WASM backend inside Node, or the pure-TypeScript reference backend.
 */
export async function loadBackend(runtime: Runtime, modelDir?: string): Promise<LoadedBackend> {
  const t0 = performance.now();
  if (runtime === 'reference') {
    const backend = new GaussianBlobBackend({ size: 64 });
    return { backend, runtime, description: 'GaussianBlobBackend (pure TypeScript reference)', loadMs: performance.now() - t0 };
  }
  const gan = await import('@stabledrag/backends-gan/node');
  const dir = modelDir ?? gan.defaultModelDir;
  if (runtime === 'node') {
    const backend = await gan.loadGanBackend({ modelDir: dir });
    return { backend, runtime, description: `onnxruntime-node ${ortVersion('onnxruntime-node')} (CPU execution provider)`, loadMs: performance.now() - t0 };
  }
  const ort = await import('onnxruntime-web');
  const files = await gan.readModelFiles(async (name) => new Uint8Array(await readFile(join(dir, name))), dir);
  // The same assembly as loadGanBackend of ./node, with onnxruntime-web as the runtime.
  const prepared = gan.buildGradientGraphs(files.synthesis, files.config);
  const backend = await gan.GanBackend.create({
    runtime: ort as unknown as Parameters<typeof gan.GanBackend.create>[0]['runtime'],
    config: files.config,
    mappingModel: files.mapping,
    synthesisModel: prepared.synthesis,
    gradients: prepared.gradients,
    wAvg: files.wAvg,
    sessionOptions: { executionProviders: ['wasm'] },
  });
  const threads = (ort.env.wasm.numThreads as number | undefined) ?? 'default';
  return {
    backend,
    runtime,
    description: `onnxruntime-web ${ortVersion('onnxruntime-web')} (WASM in Node, numThreads ${threads}, SIMD ${String(ort.env.wasm.simd ?? 'default')})`,
    loadMs: performance.now() - t0,
  };
}
