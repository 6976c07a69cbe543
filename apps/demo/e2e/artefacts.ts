import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the e2e test's artefacts go, and the separate step that promotes them to the documented
 * copies. The test itself writes only under e2e/.out/ (git-ignored), so running the tests never
 * changes a tracked file; `pnpm --filter demo refresh-pictures` runs the test on the GAN and then
 * copies its screenshot and timings over the README picture and the results BENCHMARKS.md reads.
 */

const here = dirname(fileURLToPath(import.meta.url));
const appRoot = resolve(here, '..');
const repoRoot = resolve(appRoot, '../..');

/** The e2e test's own folder (listed in apps/demo/.gitignore). */
export const e2eOutDir = join(here, '.out');

export type E2eBackend = 'gan' | 'blobs' | 'diffusion';

/** The files one e2e run writes: a mid-drag screenshot and the in-page timings. */
export function artefactPaths(backend: E2eBackend, out = e2eOutDir): { screenshot: string; results: string } {
  return { screenshot: join(out, `demo-${backend}.png`), results: join(out, `results-${backend}.json`) };
}

/** The tracked copies: the README's picture and the timings BENCHMARKS.md's demo section reads. */
export const DOCUMENTED = {
  screenshot: join(repoRoot, 'docs', 'images', 'demo.png'),
  results: join(appRoot, 'e2e', 'results.json'),
} as const;

/** The same for the diffusion mode (a photo drag). */
export const DOCUMENTED_DIFFUSION = {
  screenshot: join(repoRoot, 'docs', 'images', 'demo-diffusion.png'),
  results: join(appRoot, 'e2e', 'results-diffusion.json'),
} as const;

/**
 * Copies the last GAN run's artefacts over the documented ones and returns what it wrote. Refuses
 * (one line, nothing copied) when a GAN run's files are missing: a blob run is no README picture.
 */
export function refreshPictures(out = e2eOutDir, targets: { screenshot: string; results: string } = DOCUMENTED, kind: 'gan' | 'diffusion' = 'gan'): string[] {
  const from = artefactPaths(kind, out);
  const missing = [from.screenshot, from.results].filter((p) => !existsSync(p));
  if (missing.length > 0) {
    const run = kind === 'gan' ? 'STABLEDRAG_E2E_BACKEND=gan pnpm --filter demo e2e' : 'pnpm --filter demo e2e:diffusion';
    throw new Error(`no ${kind === 'gan' ? 'GAN' : 'diffusion'} e2e run to copy (missing ${missing.join(', ')}); run "${run}" first.`);
  }
  const results = JSON.parse(readFileSync(from.results, 'utf8')) as { stopReason?: string; passed?: boolean };
  // A GAN drag must have converged; the diffusion test runs a fixed few steps and records whether its checks passed.
  if (kind === 'gan' && results.stopReason !== 'converged') throw new Error(`${from.results} records a drag that stopped with '${results.stopReason}'; refusing to document it.`);
  if (kind === 'diffusion' && results.passed !== true) throw new Error(`${from.results} records a run whose checks failed; refusing to document it.`);
  for (const key of ['screenshot', 'results'] as const) {
    mkdirSync(dirname(targets[key]), { recursive: true });
    copyFileSync(from[key], targets[key]);
  }
  return [targets.screenshot, targets.results];
}

/**
 * What the e2e test does when the browser binary is missing. Locally it skips with a hint; under CI
 * (`CI` set to anything but "" / "0" / "false", as CI services do) a skip would count as a pass of
 * a test that never ran, so it fails.
 */
export function missingBrowserVerdict(
  browserPath: string,
  browserExists: boolean,
  env: Readonly<Record<string, string | undefined>>,
): { action: 'run' } | { action: 'skip' | 'fail'; message: string } {
  if (browserExists) return { action: 'run' };
  const ci = env.CI !== undefined && !['', '0', 'false'].includes(env.CI.trim().toLowerCase());
  const hint = `Install Debian's chromium (apt-get install chromium) or set CHROMIUM=/path.`;
  return ci
    ? { action: 'fail', message: `no browser at ${browserPath} and CI=${env.CI}: the browser e2e test cannot run. ${hint}` }
    : { action: 'skip', message: `SKIP: no browser at ${browserPath}. ${hint} (Under CI=true this fails instead.)` };
}
