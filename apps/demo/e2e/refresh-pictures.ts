/**
 * `pnpm --filter demo refresh-pictures`: after a GAN e2e run (the package script runs one first),
 * copies its screenshot and timings to docs/images/demo.png and e2e/results.json.
 */
import { refreshPictures } from './artefacts.js';

try {
  for (const file of refreshPictures()) process.stdout.write(`[refresh-pictures] wrote ${file}\n`);
} catch (error) {
  process.stderr.write(`[refresh-pictures] ${(error as Error).message}\n`);
  process.exit(1);
}
