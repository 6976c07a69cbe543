// Per-call time of candidate UNets in onnxruntime-node (what picked the embedded architecture).
//   /usr/bin/python3 tools/diffusion/time_candidates.py && node tools/diffusion/time-unet.mjs [threads] [calls]
// Or one folder: node tools/diffusion/time-unet.mjs 2 20 path/to/unet/model.onnx
// Times session.run on a 1x4x32x32 latent (timestep 681, random text embedding) after 2 warm-up
// calls; prints median and min in ms. A developer measurement on a shared machine: the median of
// a short run, not a benchmark.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const require = createRequire(join(root, "node_modules/.pnpm/onnxruntime-node@1.30.0/node_modules/onnxruntime-node/"));
const ort = require("onnxruntime-node");
const threads = Number(process.argv[2] ?? 2);
const calls = Number(process.argv[3] ?? 15);
const dir = join(root, "tools/.cache/diffusion-candidates");
const paths = process.argv[4]
  ? [process.argv[4]]
  : readdirSync(dir).sort().map((n) => join(dir, n, "model.onnx")).filter((p) => existsSync(p));

for (const path of paths) {
  const s = await ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: "all" });
  const meta = s.inputMetadata?.find?.((m) => m.name === "encoder_hidden_states");
  const dim = Array.isArray(meta?.shape) && typeof meta.shape[2] === "number" ? meta.shape[2] : 128;
  const rnd = (n) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
  const feeds = {
    sample: new ort.Tensor("float32", rnd(4 * 32 * 32), [1, 4, 32, 32]),
    timestep: new ort.Tensor("float32", Float32Array.of(681), [1]),
    encoder_hidden_states: new ort.Tensor("float32", rnd(77 * dim), [1, 77, dim]),
  };
  for (let i = 0; i < 2; i++) await s.run(feeds);
  const ms = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await s.run(feeds);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const infoPath = join(path, "..", "info.json");
  const info = existsSync(infoPath) ? JSON.parse(readFileSync(infoPath, "utf8")) : {};
  const extra = info.gmac ? ` ${info.gmac.toFixed(2)} GMAC ${(info.params / 1e6).toFixed(2)} M params` : "";
  console.log(`${path.split("/").slice(-2, -1)[0]}: median ${ms[ms.length >> 1].toFixed(1)} ms, min ${ms[0].toFixed(1)} ms (${threads} threads)${extra}`);
  await s.release();
}
