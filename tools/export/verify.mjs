// Runs an exported model folder in onnxruntime-node and compares with its golden fixture.
//   node tools/export/verify.mjs tiny|default
// (A developer check of the export; the package's own tests do the same in TypeScript.)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const which = process.argv[2] ?? "tiny";
const dir = process.env.MODEL_DIR ?? join(root, "packages/backends-gan/models", which);
const require = createRequire(join(root, "node_modules/.pnpm/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/"));
const ort = require("onnxruntime-node");
const model = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
const fx = JSON.parse(readFileSync(process.env.FIXTURE ?? join(root, "packages/backends-gan/src/__fixtures__", `${which}-golden.json`), "utf8"));

const files = [model.files.synthesis, model.files.synthesis_fused].filter(Boolean);
let worst = 0;
for (const f of files) {
  const sess = await ort.InferenceSession.create(join(dir, f));
  for (const c of fx.cases) {
    const ws = new Float32Array(model.num_ws * model.w_dim);
    c.ws_row_source.forEach((src, i) => ws.set(c.w_rows[src], i * model.w_dim));
    const t0 = performance.now();
    const out = await sess.run({ ws: new ort.Tensor("float32", ws, [1, model.num_ws, model.w_dim]) });
    const ms = performance.now() - t0;
    for (const name of ["image", "features"]) {
      const got = out[name].data;
      const exp = c[name];
      let d = 0;
      exp.indices.forEach((ix, k) => (d = Math.max(d, Math.abs(got[ix] - exp.values[k]))));
      let s = 0;
      for (const v of got) s += v;
      worst = Math.max(worst, d);
      console.log(`${f} ${c.name} ${name}: max|diff| ${d.toExponential(2)} sum ${s.toFixed(3)} (torch ${exp.sum.toFixed(3)}) ${ms.toFixed(1)} ms`);
    }
  }
}
const map = await ort.InferenceSession.create(join(dir, model.files.mapping));
for (const c of fx.cases.filter((c) => c.z)) {
  const out = await map.run({ z: new ort.Tensor("float32", Float32Array.from(c.z), [1, model.z_dim]) });
  let d = 0;
  c.w_untruncated.forEach((v, i) => (d = Math.max(d, Math.abs(out.w.data[i] - v))));
  worst = Math.max(worst, d);
  console.log(`mapping ${c.name}: max|diff| ${d.toExponential(2)}`);
}
console.log(worst < 1e-4 ? "OK" : "MISMATCH", worst);
process.exit(worst < 1e-4 ? 0 : 1);
