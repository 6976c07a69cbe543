/**
 * `pnpm --filter demo refresh-pictures`: after a GAN and a diffusion e2e run (the package script
 * runs both first), copies their screenshots and timings to docs/images/demo.png,
 * docs/images/demo-diffusion.png, e2e/results.json and e2e/results-diffusion.json.
 */
import { DOCUMENTED, DOCUMENTED_DIFFUSION, refreshPictures } from './artefacts.js';

try {
  const written = [...refreshPictures(undefined, DOCUMENTED, 'gan'), ...refreshPictures(undefined, DOCUMENTED_DIFFUSION, 'diffusion')];
  for (const file of written) process.stdout.write(`[refresh-pictures] wrote ${file}\n`);
} catch (error) {
  process.stderr.write(`[refresh-pictures] ${(error as Error).message}\n`);
  process.exit(1);
}
