// Prints the z of seeds 0..N-1 as JSON, drawn exactly as GanBackend.seedToZ draws them for a
// model.json with z_distribution "normal" (createNormalRng of @stabledrag/core).
import { createNormalRng } from '@stabledrag/core';

const n = Number(process.argv[2] ?? 200);
const zDim = Number(process.argv[3] ?? 31);
const out: Record<number, number[]> = {};
for (let seed = 0; seed < n; seed++) {
  const rng = createNormalRng(seed);
  out[seed] = Array.from({ length: zDim }, () => rng());
}
process.stdout.write(JSON.stringify(out));
