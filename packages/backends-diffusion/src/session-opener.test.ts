import { describe, expect, it } from 'vitest';
import { DataType, loadModel } from '@stabledrag/onnx-autograd';
import type { OnnxModel } from '@stabledrag/onnx-autograd';
import type { ExternalWeightsFactory } from './external-weights.js';
import type { OrtRuntime, OrtSession, OrtSessionOptions } from './ort-runtime.js';
import { openSessions, sessionOpener } from './session-opener.js';

function doubler(n: number): OnnxModel {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    producerName: 'test',
    producerVersion: '',
    graph: {
      name: 'g',
      nodes: [{ name: 'mul', opType: 'Mul', domain: '', inputs: ['x', 'w'], outputs: ['y'], attributes: {} }],
      inputs: [{ name: 'x', dtype: DataType.FLOAT, shape: [n] }],
      outputs: [{ name: 'y', dtype: DataType.FLOAT, shape: [n] }],
      initializers: new Map([['w', { dtype: DataType.FLOAT, dims: [n], data: new Float32Array(n).fill(2) }]]),
      valueInfo: [],
    },
  };
}

/** A runtime that records what each session was created from. */
function recordingRuntime(fail?: (n: number) => boolean) {
  const created: { model: Uint8Array | string; options?: OrtSessionOptions }[] = [];
  const released: number[] = [];
  const runtime = {
    InferenceSession: {
      async create(model: Uint8Array | string, options?: OrtSessionOptions): Promise<OrtSession> {
        const n = created.length;
        created.push({ model, ...(options ? { options } : {}) });
        if (fail?.(n)) throw new Error(`no session ${n}`);
        return { inputNames: [], outputNames: [], run: async () => ({}), release: async () => void released.push(n) };
      },
    },
    Tensor: class {},
  } as unknown as OrtRuntime;
  return { runtime, created, released };
}

describe('sessionOpener', () => {
  it('serialises a graph under the threshold inline, with the options as given', async () => {
    const { runtime, created } = recordingRuntime();
    const opener = sessionOpener(runtime, { graphOptimizationLevel: 'all' }, 'm', { threshold: 4000 });
    await opener.open(doubler(1000), 'UNet');
    expect(created).toHaveLength(1);
    expect(created[0]!.options).toEqual({ graphOptimizationLevel: 'all' });
    expect(loadModel(created[0]!.model as Uint8Array).graph.initializers.get('w')?.data[999]).toBe(2);
    await opener.close();
  });

  it('hands a graph over the threshold to the external weights, by default in memory (the externalData option)', async () => {
    const { runtime, created } = recordingRuntime();
    const opener = sessionOpener(runtime, { graphOptimizationLevel: 'all' }, 'm', { threshold: 3999 });
    await opener.open(doubler(1000), 'UNet');
    const { model, options } = created[0]!;
    expect(options?.graphOptimizationLevel).toBe('all');
    const [file] = options?.externalData ?? [];
    expect(file?.path).toBe('weights.bin');
    const back = loadModel(model as Uint8Array, { externalData: (location) => (location === file?.path ? file.data : new Uint8Array(0)) });
    expect(back.graph.initializers.get('w')?.data[999]).toBe(2);
  });

  it('makes one ExternalWeights per batch and closes it, and names the graph and model in one line on failure', async () => {
    const { runtime } = recordingRuntime();
    const log: string[] = [];
    const weights: ExternalWeightsFactory = () => ({
      open: async (m) => {
        log.push(`open ${m.graph.initializers.size}`);
        throw new Error('disk full\n(at write)');
      },
      close: async () => void log.push('close'),
    });
    const opener = sessionOpener(runtime, {}, 'sd15', { threshold: 0, weights });
    const error: Error & { code?: string } = await opener.open(doubler(4), 'backward graph').then(() => new Error('opened'), (e: unknown) => e as Error);
    expect(error?.message).toBe('ONNX Runtime could not load the backward graph of model "sd15": disk full (at write)');
    expect(error?.code).toBe('MODEL_ERROR');
    await expect(opener.open(doubler(4), 'VAE decoder')).rejects.toThrow(/VAE decoder/);
    await opener.close();
    expect(log).toEqual(['open 1', 'open 1', 'close']);
  });

  it('openSessions releases what it opened when a later graph fails', async () => {
    const { runtime, released } = recordingRuntime((n) => n === 2);
    const opener = sessionOpener(runtime, {}, 'm');
    const graphs = [['a', doubler(2), 'A'], ['b', doubler(2), 'B'], ['c', doubler(2), 'C']] as const;
    await expect(openSessions(opener, graphs)).rejects.toThrow(/could not load the C of model "m": no session 2/);
    expect(released.sort()).toEqual([0, 1]);
  });
});
