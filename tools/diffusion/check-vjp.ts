// Developer check: @stabledrag/onnx-autograd (from source) differentiates the tiny layout UNet and
// matches the PyTorch golden d<features, c>/d sample.  node_modules/.bin/tsx tools/diffusion/check-vjp.ts [folder]
// (The autograd package's own tests do this properly, with LoRA; this is a quick look.)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildVjp, feedsFor, loadModel, serializeModel } from '../../packages/onnx-autograd/src/index';
const root = new URL('../..', import.meta.url).pathname;
const require = createRequire(join(root, 'node_modules/.pnpm/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/'));
const ort = require('onnxruntime-node');
const folder = process.argv[2] ?? 'sd15-layout-tiny';
const dir = join(root, 'packages/backends-diffusion/models', folder);
const gdir = join(root, 'packages/backends-diffusion/models', `${folder}-golden`);
const meta = JSON.parse(readFileSync(join(gdir, 'golden.json'), 'utf8'));
const bin = readFileSync(join(gdir, 'golden.bin'));
const g = (n: string) => { const t = meta.tensors[n]; return new Float32Array(bin.buffer.slice(bin.byteOffset + t.offset, bin.byteOffset + t.offset + 4 * t.length)); };
const T = (n: string) => new ort.Tensor('float32', g(n), meta.tensors[n].shape);
const model = loadModel(readFileSync(join(dir, 'unet/model.onnx')), { externalData: (loc: string) => readFileSync(join(dir, 'unet', loc)) });
const feat = meta.features.tensor;
const t0 = Date.now();
const vjp = buildVjp(model, { wrt: ['sample'], of: [feat], mode: 'recompute', inputShapes: { sample: meta.tensors.sample.shape, timestep: [1], encoder_hidden_states: meta.tensors.encoder_hidden_states.shape } });
(async () => {
  const s = await ort.InferenceSession.create(serializeModel(vjp.model));
  const feeds = feedsFor(vjp, { sample: T('sample'), timestep: T('timestep'), encoder_hidden_states: T('encoder_hidden_states'), [vjp.cotangents[feat]!]: T('cotangent') });
  const out = await s.run(feeds);
  const got = out[vjp.gradients.sample!].data as Float32Array; const exp = g('grad_sample');
  let d = 0, m = 0; for (let i = 0; i < exp.length; i++) { d = Math.max(d, Math.abs(got[i]! - exp[i]!)); m = Math.max(m, Math.abs(exp[i]!)); }
  console.log(`${folder} grad_sample via onnx-autograd: max|diff| ${d.toExponential(2)} max|golden| ${m.toFixed(3)} (${Date.now() - t0} ms)`);
})();
