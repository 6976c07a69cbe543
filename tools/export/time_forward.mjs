// Times the synthesis.onnx forward pass of model folders in onnxruntime-node, interleaved so that
// the machine's load hits them alike: what chose the faces2 channel counts (tools/README.md).
//   node tools/export/time_forward.mjs <model-dir> [<model-dir> ...] [--runs 80]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const require = createRequire(join(root, "node_modules/.pnpm/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/"));
const ort = require("onnxruntime-node");
const args = process.argv.slice(2);
const ri = args.indexOf("--runs");
const runs = ri >= 0 ? Number(args.splice(ri, 2)[1]) : 80;
if (args.length === 0 || !(runs > 0)) {
  console.error("usage: node tools/export/time_forward.mjs <model-dir> [...] [--runs N]");
  process.exit(1);
}
const models = [];
for (const dir of args) {
  const meta = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  const session = await ort.InferenceSession.create(join(dir, "synthesis.onnx"), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const ws = new ort.Tensor("float32", new Float32Array(meta.num_ws * meta.w_dim).fill(0.1), [1, meta.num_ws, meta.w_dim]);
  models.push({ dir, session, ws, times: [] });
}
for (let r = 0; r < runs; r++) {
  for (const m of models) {
    const t = performance.now();
    await m.session.run({ ws: m.ws });
    m.times.push(performance.now() - t);
  }
}
for (const m of models) {
  const a = m.times.sort((x, y) => x - y);
  console.log(`${m.dir}: min ${a[0].toFixed(2)} ms, p10 ${a[Math.floor(runs / 10)].toFixed(2)}, median ${a[Math.floor(runs / 2)].toFixed(2)}`);
}
