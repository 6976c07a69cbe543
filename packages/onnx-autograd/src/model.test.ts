import { describe, expect, it } from 'vitest';
import { loadModel, serializeModel } from './model';
import { decodeModelProto, encodeModelProto } from './onnx-schema';
import { exposeOutputs, foldConstants, pruneModel, renameInput, replaceInputWithConstant, rewireTensor } from './surgery';
import { f32, i64 } from './tensor';
import { allCloseMessage, expectAllClose, makeModel, Runner } from './testing/harness';

const x = { data: Float32Array.from([0.5, -1, 2, 3, -0.25, 4]), dims: [2, 3] };

function sample() {
  return makeModel({
    inputs: { x: [2, 3] },
    outputs: ['y'],
    initializers: { w: f32([3], [1, 2, 3]), one: i64([1], []), zero: i64([0]), m1: i64([-1]) },
    nodes: [
      { op: 'Mul', inputs: ['x', 'w'], outputs: ['h'] },
      { op: 'Shape', inputs: ['h'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'one'], outputs: ['c'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['c', 'zero'], outputs: ['c1'] },
      { op: 'Concat', inputs: ['m1', 'c1'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['h', 'shape'], outputs: ['r'] },
      { op: 'Tanh', inputs: ['r'], outputs: ['t'] },
      { op: 'Add', inputs: ['t', 'h'], outputs: ['y'] },
      { op: 'Constant', inputs: [], outputs: ['k'], attrs: { value: { t: f32([], [2]) } } },
      { op: 'Mul', inputs: ['h', 'k'], outputs: ['unused'] },
    ],
  });
}

async function run(model: ReturnType<typeof sample>, feeds: Record<string, typeof x> = { x }) {
  const r = await Runner.create(model);
  const out = await r.run(feeds);
  await r.release();
  return out;
}

describe('expectAllClose', () => {
  it('accepts within tolerance and rejects outside, NaN and infinities matched explicitly', () => {
    expect(allCloseMessage([1, 2.001], [1, 2], { atol: 0, rtol: 1e-3 })).toBeUndefined();
    expect(allCloseMessage([1, 2.01], [1, 2], { atol: 0, rtol: 1e-3 })).toMatch(/index 1/);
    expect(allCloseMessage([NaN], [NaN], { atol: 0, rtol: 0 })).toBeUndefined();
    expect(allCloseMessage([NaN], [1], { atol: 1, rtol: 1 })).toMatch(/NaN/);
    expect(allCloseMessage([Infinity], [1e300], { atol: 1, rtol: 1 })).toMatch(/infinity/);
    expect(allCloseMessage([1], [1, 2], { atol: 1, rtol: 1 })).toMatch(/length/);
    expect(() => expectAllClose([0], [1], { atol: 0.5, rtol: 0 })).toThrow();
  });
});

describe('ONNX I/O', () => {
  it('round-trips a model through serialize/load with identical results', async () => {
    const m = sample();
    const bytes = serializeModel(m);
    const again = loadModel(bytes);
    expect(again.graph.nodes.map((n) => n.opType)).toEqual(m.graph.nodes.map((n) => n.opType));
    expect(Array.from(again.graph.initializers.get('w')?.data ?? [])).toEqual([1, 2, 3]);
    const a = await run(m);
    const b = await run(again);
    expect(Array.from(b.y?.data ?? [])).toEqual(Array.from(a.y?.data ?? []));
    expect(Array.from(a.y?.data ?? [])[0]).toBeCloseTo(Math.tanh(0.5) + 0.5, 5);
  });

  it('reads external-data initializers through the resolver', async () => {
    const pb = decodeModelProto(serializeModel(sample()));
    const init = pb.graph?.initializer?.find((t) => t.name === 'w');
    if (!init?.rawData) throw new Error('fixture');
    const file = new Uint8Array(16 + init.rawData.length);
    file.set(init.rawData, 16);
    delete init.rawData;
    init.dataLocation = 1;
    init.externalData = [
      { key: 'location', value: 'weights.bin' },
      { key: 'offset', value: '16' },
      { key: 'length', value: String(file.length - 16) },
    ];
    const bytes = encodeModelProto(pb);
    expect(() => loadModel(bytes)).toThrow(/external data 'weights.bin'/);
    const seen: string[] = [];
    const m = loadModel(bytes, { externalData: (loc) => (seen.push(loc), file) });
    expect(seen).toEqual(['weights.bin']);
    expect(Array.from(m.graph.initializers.get('w')?.data ?? [])).toEqual([1, 2, 3]);
    expectAllClose((await run(m)).y?.data ?? [], (await run(sample())).y?.data ?? [], { atol: 0, rtol: 0 });
  });
});

describe('external data writing', () => {
  it('moves large initializers out and loads them back; onnxruntime-node runs it from files', async () => {
    const { serializeModelWithExternalData } = await import('./model');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const big = makeModel({
      inputs: { x: [1, 600] },
      outputs: ['y'],
      initializers: { w: f32([600], Float32Array.from({ length: 600 }, (_, i) => i / 600)), s: f32([1], [2]) },
      nodes: [
        { op: 'Mul', inputs: ['x', 'w'], outputs: ['h'] },
        { op: 'Mul', inputs: ['h', 's'], outputs: ['y'] },
      ],
    });
    const out = serializeModelWithExternalData(big, { location: 'big.onnx.data' });
    expect(out.data.length).toBe(2400);
    const pb = decodeModelProto(out.model);
    expect(pb.graph?.initializer?.find((t) => t.name === 'w')?.dataLocation).toBe(1);
    expect(pb.graph?.initializer?.find((t) => t.name === 's')?.dataLocation).toBeUndefined();
    const back = loadModel(out.model, { externalData: () => out.data });
    expect(Array.from(back.graph.initializers.get('w')?.data ?? []).slice(0, 3)).toEqual(Array.from(big.graph.initializers.get('w')?.data ?? []).slice(0, 3));
    const dir = mkdtempSync(join(tmpdir(), 'ext-'));
    writeFileSync(join(dir, 'big.onnx'), out.model);
    writeFileSync(join(dir, 'big.onnx.data'), out.data);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(join(dir, 'big.onnx'));
    const res = await session.run({ x: new ort.Tensor('float32', new Float32Array(600).fill(1), [1, 600]) });
    expect((res.y?.data as Float32Array)[300]).toBeCloseTo(1, 5);
    await session.release();
  });
  it('lets two models share one data file: a tensor placed once is referenced by both', async () => {
    const { serializeModelWithPlacedData } = await import('./model');
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const w = f32([600], Float32Array.from({ length: 600 }, (_, i) => i / 600));
    const twice = makeModel({ inputs: { x: [1, 600] }, outputs: ['y'], initializers: { w }, nodes: [{ op: 'Mul', inputs: ['x', 'w'], outputs: ['y'] }] });
    const plus = makeModel({ inputs: { x: [1, 600] }, outputs: ['y'], initializers: { v: w, s: f32([1], [3]) }, nodes: [{ op: 'Add', inputs: ['x', 'v'], outputs: ['h'] }, { op: 'Mul', inputs: ['h', 's'], outputs: ['y'] }] });
    // The shared tensor object is not even a copy: `plus` names it "v".
    plus.graph.initializers.set('v', twice.graph.initializers.get('w')!);
    const file = new Uint8Array(8192);
    const placed = new Map<object, number>();
    const place = (t: object, raw: Uint8Array) => {
      if (raw.length < 1024) return undefined;
      if (!placed.has(t)) {
        placed.set(t, 4096 * (placed.size + 1));
        file.set(raw, placed.get(t));
      }
      return { location: 'shared.bin', offset: placed.get(t)! };
    };
    const [a, b] = [serializeModelWithPlacedData(twice, place), serializeModelWithPlacedData(plus, place)];
    expect(placed.size).toBe(1);
    const refs = (bytes: Uint8Array) => decodeModelProto(bytes).graph?.initializer?.map((t) => [t.name, t.externalData?.map((e) => e.value).join(' ') ?? 'inline']);
    expect(refs(a)).toEqual([['w', 'shared.bin 4096 2400']]);
    expect(refs(b)).toEqual([['v', 'shared.bin 4096 2400'], ['s', 'inline']]);
    const dir = mkdtempSync(join(tmpdir(), 'ext-'));
    writeFileSync(join(dir, 'a.onnx'), a);
    writeFileSync(join(dir, 'b.onnx'), b);
    writeFileSync(join(dir, 'shared.bin'), file);
    const ort = await import('onnxruntime-node');
    const feeds = { x: new ort.Tensor('float32', new Float32Array(600).fill(2), [1, 600]) };
    const [sa, sb] = [await ort.InferenceSession.create(join(dir, 'a.onnx')), await ort.InferenceSession.create(join(dir, 'b.onnx'))];
    expect((await sa.run(feeds)).y?.data[300]).toBeCloseTo(1, 5);
    expect((await sb.run(feeds)).y?.data[300]).toBeCloseTo(7.5, 5);
    await Promise.all([sa.release(), sb.release()]);
    rmSync(dir, { recursive: true });
  });
});

describe('graph surgery', () => {
  it('exposes an intermediate tensor with its inferred shape', async () => {
    const m = exposeOutputs(sample(), ['r']);
    expect(m.graph.outputs.map((o) => [o.name, o.shape])).toEqual([['y', undefined], ['r', [2, 3]]]);
    const out = await run(m);
    expectAllClose(out.r?.data ?? [], [0.5, -2, 6, 3, -0.5, 12], { atol: 1e-6, rtol: 0 });
  });

  it('prunes to what the outputs need', async () => {
    const m = pruneModel(sample(), ['h']);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Mul']);
    expect([...m.graph.initializers.keys()]).toEqual(['w']);
    expect((await run(m)).h?.data[1]).toBeCloseTo(-2);
  });

  it('renames and pins inputs, rewires consumers', async () => {
    const renamed = renameInput(sample(), 'x', 'latent');
    expect(renamed.graph.inputs.map((v) => v.name)).toEqual(['latent']);
    expectAllClose((await run(renamed, { latent: x })).y?.data ?? [], (await run(sample())).y?.data ?? [], { atol: 0, rtol: 0 });
    const pinned = replaceInputWithConstant(sample(), 'x', f32([2, 3], x.data));
    expect(pinned.graph.inputs).toEqual([]);
    expectAllClose((await run(pinned, {})).y?.data ?? [], (await run(sample())).y?.data ?? [], { atol: 0, rtol: 0 });
    const rew = rewireTensor(sample(), 't', 'r'); // y = r + h
    expectAllClose((await run(rew)).y?.data ?? [], [1, -4, 12, 6, -1, 24], { atol: 1e-6, rtol: 0 });
  });

  it('folds shape chains and Constant nodes into initializers', async () => {
    const m = foldConstants(sample());
    const ops = m.graph.nodes.map((n) => n.opType);
    expect(ops).not.toContain('Shape');
    expect(ops).not.toContain('Constant');
    expect(Array.from(m.graph.initializers.get('shape')?.data ?? [])).toEqual([-1, 3]);
    expect(m.graph.valueInfo.find((v) => v.name === 't')?.shape).toEqual([2, 3]);
    expectAllClose((await run(m)).y?.data ?? [], (await run(sample())).y?.data ?? [], { atol: 0, rtol: 0 });
  });
});

describe('feedsFor', () => {
  it('picks inputs by name and names the missing ones', async () => {
    const { feedsFor } = await import('./build-vjp');
    expect(feedsFor({ inputs: ['a', 'c'] }, { a: 1, b: 2, c: 3 })).toEqual({ a: 1, c: 3 });
    expect(() => feedsFor({ inputs: ['a', 'z'] }, { a: 1 })).toThrow(/'z'/);
  });
});
