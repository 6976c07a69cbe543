/**
 * End-to-end test of the demo: builds it, serves dist/ on localhost, drives Debian's Chromium with
 * playwright-core, places a handle/target pair by clicking the canvas, runs the drag and checks
 * (from window.__stabledrag) that the handle reached its target and the image changed. Writes a
 * mid-drag screenshot and the in-page time per step to e2e/.out/ (demo-<backend>.png,
 * results-<backend>.json) and nowhere else: `pnpm --filter demo refresh-pictures` copies a GAN
 * run's to docs/images/demo.png and e2e/results.json. Without a browser it skips, or fails under CI.
 *
 * Run: pnpm --filter demo e2e. Environment:
 *   STABLEDRAG_E2E_BACKEND=gan|blobs  which backend to drag with (default: gan when
 *                                     dist/models/default/ exists, blobs otherwise)
 *   STABLEDRAG_E2E_NO_BUILD=1         reuse the test's last build (e2e/.out/dist/)
 *   STABLEDRAG_E2E_THREADS=n          WASM threads in the page (default 1; 0 = automatic)
 *   CHROMIUM=/path                    browser binary (default /usr/bin/chromium)
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GaussianBlobBackend } from '@stabledrag/core/reference';
import {
  buildDemo, chromiumPath, distDir as dist, fail, imagePixels, launchBrowser, log, outDir, placePairs, readState, readyAndWarm, TIMEOUT_MS, waitFor,
  type Point,
} from './page-driver.js';
import { artefactPaths, missingBrowserVerdict } from './artefacts.js';
import { serveStatic } from './static-server.js';

/** The fixed drag of this test: seed and pair per backend. */
async function dragSpec(backend: 'gan' | 'blobs'): Promise<{ seed: number; handle: Point; target: Point; steps: number }> {
  // GAN: a 6-px drag on the face. The default model is retrained from time to time; with the
  // interim exports this pair converged for seeds 0–5 with both methods (16–52 steps), whereas
  // 8-px drags lost the handle on some seeds.
  if (backend === 'gan') return { seed: 0, handle: { x: 64, y: 72 }, target: { x: 70, y: 72 }, steps: 300 };
  // Blobs: grab the centre of movable blob 0 of seed 1 and move it 10 px right, away from the
  // look-alike distractor blobs (both methods converge in ~16 steps; see core's GaussianBlobBackend).
  const seed = 1;
  const latent = await new GaussianBlobBackend().createLatent({ type: 'seed', seed });
  const handle = { x: Math.round(latent.optimized[0]!), y: Math.round(latent.optimized[1]!) };
  return { seed, handle, target: { x: Math.min(63, handle.x + 10), y: handle.y }, steps: 200 };
}

async function main(): Promise<void> {
  const verdict = missingBrowserVerdict(chromiumPath, existsSync(chromiumPath), process.env);
  if (verdict.action === 'fail') fail(verdict.message);
  if (verdict.action === 'skip') {
    log(verdict.message);
    return;
  }
  const t0 = Date.now();
  await buildDemo();
  const envBackend = process.env.STABLEDRAG_E2E_BACKEND;
  const backend: 'gan' | 'blobs' =
    envBackend === 'gan' || envBackend === 'blobs' ? envBackend : existsSync(join(dist, 'models/default/model.json')) ? 'gan' : 'blobs';
  if (backend === 'blobs' && !envBackend) log('no models/default/ in the build: dragging with the reference blob backend.');
  const spec = await dragSpec(backend);
  const server = await serveStatic(dist);
  const browser = await launchBrowser();
  const consoleLines: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    // One WASM thread by default, as the speed benchmark's same-hardware comparison.
    const threads = `&threads=${process.env.STABLEDRAG_E2E_THREADS ?? 1}`;
    const url = `${server.url}?backend=${backend}&provider=wasm&seed=${spec.seed}&steps=${spec.steps}${threads}`;
    log(`opening ${url}`);
    await page.goto(url);
    // Wait for the worker's idle warm-up too (GAN only), as a person placing points would.
    const ready = await waitFor(page, 'loading the model and warming up', (s) => readyAndWarm(s, backend === 'gan'));
    log(`loaded ${ready.backendName} on ${ready.provider} (${ready.threads} thread(s)) in ${ready.loadMs?.toFixed(0)} ms`);
    const size = ready.imageSize;
    const before = await imagePixels(page);

    const [{ handle, target }] = (await placePairs(page, [spec], size)) as [{ handle: Point; target: Point }];
    log(`pair placed: (${handle.x}, ${handle.y}) → (${target.x}, ${target.y})`);

    const tStart = Date.now();
    await page.click('#start');
    await waitFor(page, 'the drag starting', (s) => s.status === 'running' || s.status === 'done');
    // Mid-drag screenshot: after two steps (the 6-px drag converges in about four), or at the end.
    await page.waitForFunction(() => window.__stabledrag.step >= 2 || window.__stabledrag.status !== 'running', undefined, { polling: 'raf', timeout: TIMEOUT_MS });
    // Artefacts go to e2e/.out/ only: a test run never rewrites tracked files (refresh-pictures does).
    mkdirSync(outDir, { recursive: true });
    const artefacts = artefactPaths(backend, outDir);
    const shot = artefacts.screenshot;
    await page.screenshot({ path: shot });
    const midStep = (await readState(page)).step;
    log(`screenshot at step ${midStep}: ${shot}`);
    const end = await waitFor(page, 'the drag finishing', (s) => s.status === 'done');
    const dragWallMs = Date.now() - tStart;
    const after = await imagePixels(page);

    const p = end.points[0]!;
    const dist = Math.hypot(p.x - target.x, p.y - target.y);
    let changed = 0;
    for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) changed++;
    const ms = end.msPerStep;
    const sorted = [...ms].sort((a, b) => a - b);
    const mean = ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const results = {
      date: new Date().toISOString(),
      browser: `${browser.version()} (headless, --disable-gpu)`,
      backend: end.backendName,
      provider: end.provider,
      threads: end.threads,
      crossOriginIsolated: await page.evaluate(() => self.crossOriginIsolated),
      resolution: size,
      method: end.method,
      seed: spec.seed,
      pair: { handle, target },
      stopReason: end.stopReason,
      steps: end.step,
      finalDistancePx: Number(dist.toFixed(3)),
      changedBytes: changed,
      loadMs: Math.round(end.loadMs ?? 0),
      setupMs: Math.round(end.setupMs ?? 0),
      msPerStep: { mean: Number(mean.toFixed(2)), median: Number(median.toFixed(2)), min: Number((sorted[0] ?? 0).toFixed(2)), max: Number((sorted[sorted.length - 1] ?? 0).toFixed(2)) },
      medianMsByPart: Object.fromEntries(
        (['forward', 'track', 'supervise', 'backward', 'optimizer'] as const).map((k) => {
          const v = end.stepTimings.map((t) => t[k]).sort((a, b) => a - b);
          return [k, Number((v[Math.floor(v.length / 2)] ?? 0).toFixed(2))];
        }),
      ),
      dragWallMs,
      withImages: true,
      note: 'msPerStep = DragSession step timings.total measured inside the page worker (forward with the image + track + supervise + backward + Adam), onnxruntime-web CPU build (WASM SIMD); default StableDrag settings.',
    };
    const json = `${JSON.stringify(results, null, 2)}\n`;
    writeFileSync(artefacts.results, json);
    log(`drag: ${end.stopReason} after ${end.step} steps in ${dragWallMs} ms; ${results.msPerStep.median} ms/step (median), handle ${dist.toFixed(2)} px from target, ${changed} image bytes changed`);

    if (end.stopReason !== 'converged') fail(`the drag stopped with '${end.stopReason}' after ${end.step} steps, ${dist.toFixed(2)} px from its target.`);
    if (!(dist <= 2)) fail(`the handle ended ${dist.toFixed(2)} px from its target (limit 2 px).`);
    if (changed === 0) fail('the image did not change.');
    log(`PASS in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (error) {
    if (consoleLines.length) process.stderr.write(`[e2e] browser console:\n${consoleLines.join('\n')}\n`);
    throw error;
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[e2e] FAIL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
