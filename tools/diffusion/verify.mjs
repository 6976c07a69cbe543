// Runs the tiny SD-1.5-layout folder in onnxruntime-node against its PyTorch golden data.
//   /usr/bin/python3 tools/diffusion/make_tiny.py [tiny|tiny-sd15] && node tools/diffusion/verify.mjs [folder] [--web]
// --web: the same in onnxruntime-web's WASM backend (single thread), the UNet's external data
// passed as the browser would (`externalData: [{ path: "model.onnx_data", data }]`).
// Checks unet (out_sample, and the feature tensor through tools/.cache/diffusion-verify/
// unet-features.onnx), vae_encoder, vae_decoder and text_encoder. Exits 1 above tolerance.
// (A developer check of the export; the backend package's tests do their own in TypeScript.)
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const folder = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "sd15-layout-tiny";
const dir = join(root, "packages/backends-diffusion/models", folder);
const gdir = join(root, "packages/backends-diffusion/models", `${folder}-golden`);
const require = createRequire(join(root, "node_modules/.pnpm/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/"));
const web = process.argv.includes("--web");
const ort = web
  ? await import(join(root, "node_modules/.pnpm/onnxruntime-web@1.30.0/node_modules/onnxruntime-web/dist/ort.node.min.mjs")).catch(() =>
      import(join(root, "node_modules/.pnpm/onnxruntime-web@1.30.0/node_modules/onnxruntime-web/dist/ort.min.mjs")))
  : require("onnxruntime-node");
if (web) ort.env.wasm.numThreads = 1;
// onnxruntime-web takes bytes; the UNet's weights live in model.onnx_data beside it.
const create = (path) => {
  if (!web) return ort.InferenceSession.create(path);
  const ext = join(path, "..", "model.onnx_data");
  const opts = existsSync(ext) && !path.includes(".cache") ? { externalData: [{ path: "model.onnx_data", data: readFileSync(ext) }] } : {};
  return ort.InferenceSession.create(readFileSync(path), opts);
};
console.log(`${folder}: ${web ? "onnxruntime-web (WASM)" : "onnxruntime-node"}`);

const meta = JSON.parse(readFileSync(join(gdir, "golden.json"), "utf8"));
const bin = readFileSync(join(gdir, meta.file));
const g = (name) => {
  const t = meta.tensors[name];
  const buf = bin.buffer.slice(bin.byteOffset + t.offset, bin.byteOffset + t.offset + 4 * t.length);
  return { data: t.dtype === "int32" ? new Int32Array(buf) : new Float32Array(buf), shape: t.shape, dtype: t.dtype };
};
const tensor = (name) => { const t = g(name); return new ort.Tensor(t.dtype, t.data, t.shape); };

// float32 ONNX vs float64 torch: relative to the largest golden magnitude.
const RTOL = 1e-4;
let failed = false;
function compare(label, got, name) {
  const exp = g(name).data;
  let d = 0, m = 0;
  for (let i = 0; i < exp.length; i++) { d = Math.max(d, Math.abs(got[i] - exp[i])); m = Math.max(m, Math.abs(exp[i])); }
  const ok = got.length === exp.length && d <= RTOL * Math.max(m, 1e-3);
  failed ||= !ok;
  console.log(`${ok ? "ok  " : "FAIL"} ${label}: max|diff| ${d.toExponential(2)} (max|golden| ${m.toFixed(3)})`);
}

const unetFeatures = join(root, "tools/.cache/diffusion-verify", folder, "unet-features.onnx");
if (!existsSync(unetFeatures)) throw new Error(`${unetFeatures} missing: run /usr/bin/python3 tools/diffusion/make_tiny.py first`);
const model = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
const feeds = { sample: tensor("sample"), timestep: tensor("timestep"), encoder_hidden_states: tensor("encoder_hidden_states") };
for (const [label, path] of [["unet/model.onnx", join(dir, model.files.unet)], ["unet + features", unetFeatures]]) {
  const s = await create(path);
  const out = await s.run(feeds);
  compare(`${label} out_sample`, out.out_sample.data, "out_sample");
  if (out[model.features.tensor]) compare(`${label} features`, out[model.features.tensor].data, "features");
}
const te = await create(join(dir, model.files.textEncoder));
const teOut = await te.run({ input_ids: tensor("input_ids") });
compare("text_encoder last_hidden_state", teOut.last_hidden_state.data, "encoder_hidden_states");
compare("text_encoder pooler_output", teOut.pooler_output.data, "pooler_output");
const enc = await create(join(dir, model.files.vaeEncoder));
compare("vae_encoder latent_parameters", (await enc.run({ sample: tensor("vae_encoder_sample") })).latent_parameters.data, "latent_parameters");
const dec = await create(join(dir, model.files.vaeDecoder));
compare("vae_decoder sample", (await dec.run({ latent_sample: tensor("vae_decoder_latent_sample") })).sample.data, "vae_decoder_sample");
process.exit(failed ? 1 : 0);
