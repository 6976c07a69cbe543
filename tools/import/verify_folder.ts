// Runs an imported model folder in onnxruntime-node (through @stabledrag/backends-gan) and compares
// it with raw outputs PyTorch wrote next to it (tools/import/test_import.py writes them):
//   npx tsx --conditions=@stabledrag/source tools/import/verify_folder.ts <model folder> <golden folder>
// golden folder: ws.bin, image.bin, features.bin, u.bin (cotangent), grad.bin (d<features,u>/dws),
// all little-endian float32. Prints one JSON line; exit 1 on a mismatch.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadGanBackend } from '../../packages/backends-gan/src/node.js';

// onnxruntime-node is a dependency of backends-gan, not of the repository root
const ort = createRequire(new URL('../../packages/backends-gan/package.json', import.meta.url))('onnxruntime-node') as typeof import('onnxruntime-node');

const [dir, gold] = process.argv.slice(2);
if (!dir || !gold) {
  console.error('usage: npx tsx --conditions=@stabledrag/source tools/import/verify_folder.ts <model folder> <golden folder>');
  process.exit(2);
}
const f32 = (name: string): Float32Array => {
  const b = readFileSync(join(gold, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const maxRel = (got: ArrayLike<number>, exp: Float32Array): number => {
  let d = 0;
  let s = 0;
  for (let i = 0; i < exp.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - exp[i]!));
    s = Math.max(s, Math.abs(exp[i]!));
  }
  return got.length === exp.length ? d / Math.max(s, 1e-12) : Infinity;
};

const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { num_ws: number; w_dim: number };
const ws = f32('ws.bin');
const session = await ort.InferenceSession.create(join(dir, 'synthesis.onnx'));
const out = await session.run({ ws: new ort.Tensor('float32', ws, [1, model.num_ws, model.w_dim]) });
const image = maxRel(out.image!.data as Float32Array, f32('image.bin'));
const features = maxRel(out.features!.data as Float32Array, f32('features.bin'));
await session.release();
const backend = await loadGanBackend({ modelDir: dir, optimizeWs: model.num_ws });
const latent = await backend.createLatent({ type: 'latent', latent: { optimized: ws, frozen: new Float32Array(0), meta: {} } });
const pass = await backend.forward(latent);
const grad = maxRel(await pass.vjp(f32('u.bin')), f32('grad.bin'));
await backend.dispose();
const ok = image < 1e-4 && features < 1e-4 && grad < 1e-3;
console.log(JSON.stringify({ dir, image, features, grad, ok }));
process.exit(ok ? 0 : 1);
