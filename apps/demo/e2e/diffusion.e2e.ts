/**
 * End-to-end test of the demo's diffusion mode: builds the demo, serves dist/, and in Debian's
 * Chromium (playwright-core) loads the embedded latent diffusion model on WASM, starts from the
 * bundled face photo, places one handle/target pair by clicking, runs a few drag steps and the
 * final denoise, and checks from window.__stabledrag that every stage ran (encode, inversion, the
 * drag, denoise, decode), that the image changed, and that choosing the same photo again reuses
 * its inversion. Writes a mid-drag screenshot and the in-page stage times to e2e/.out/
 * (demo-diffusion.png, results-diffusion.json) and nowhere else; `pnpm --filter demo
 * refresh-pictures` copies them to docs/images/demo-diffusion.png and e2e/results-diffusion.json.
 *
 * Run: pnpm --filter demo e2e:diffusion. Environment as drag.e2e.ts (STABLEDRAG_E2E_NO_BUILD,
 * STABLEDRAG_E2E_THREADS, CHROMIUM), plus STABLEDRAG_E2E_DIFFUSION_STEPS (default 5).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artefactPaths, missingBrowserVerdict } from './artefacts.js';
import { buildDemo, chromiumPath, distDir, fail, imagePixels, launchBrowser, log, outDir, placePairs, readState, waitFor, type PageState } from './page-driver.js';
import { serveStatic } from './static-server.js';

/** The bundled face (apps/bench/tasks-diffusion/f04-single-nose-tip.png) and its task's pair: the nose tip 6 px right. */
const PAIR = { handle: { x: 61, y: 72 }, target: { x: 67, y: 70 } };
const STEPS = Number(process.env.STABLEDRAG_E2E_DIFFUSION_STEPS ?? 5);
/** Loading 37 MB of model and building its gradient graphs in the page takes a while on 2 cores. */
const LONG_MS = 600_000;

const photoReady = (s: PageState): boolean => s.status === 'ready' && s.photo !== null && s.photo.cached !== null;

/** Chooses the bundled face again and checks that nothing is recomputed. */
async function checkReuse(page: Page): Promise<number> {
  const t0 = Date.now();
  await page.click('#sample-photos button[data-sample="face.png"]');
  await waitFor(page, 'the photo being prepared again', (s) => s.status === 'preparing' || (photoReady(s) && s.points.length === 0), LONG_MS);
  const again = await waitFor(page, 'the same photo, reused', photoReady, LONG_MS);
  if (again.photo?.cached !== true) fail(`choosing the same photo again inverted it again (stages ${JSON.stringify(again.stagesMs)}).`);
  return Date.now() - t0;
}

async function main(): Promise<void> {
  const verdict = missingBrowserVerdict(chromiumPath, existsSync(chromiumPath), process.env);
  if (verdict.action === 'fail') fail(verdict.message);
  if (verdict.action === 'skip') return log(verdict.message);
  const t0 = Date.now();
  await buildDemo();
  if (!existsSync(join(distDir, 'models/diffusion/model.json'))) fail(`the build has no models/diffusion/ (the embedded diffusion model); is packages/backends-diffusion/models/sd-embedded there?`);
  const server = await serveStatic(distDir);
  const browser = await launchBrowser();
  const consoleLines: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
    const threads = process.env.STABLEDRAG_E2E_THREADS ?? 1;
    const url = `${server.url}?backend=diffusion&provider=wasm&photo=face&steps=${STEPS}&stop=0&threads=${threads}`;
    log(`opening ${url}`);
    await page.goto(url);
    const ready = await waitFor(page, 'loading the diffusion model and inverting the photo', photoReady, LONG_MS);
    log(`loaded ${ready.backendName} on ${ready.provider} in ${ready.loadMs?.toFixed(0)} ms; photo prepared: ${JSON.stringify(ready.stagesMs)}`);
    for (const stage of ['encode', 'invert'] as const) if (!(ready.stagesMs[stage]! > 0)) fail(`the ${stage} stage did not run (stages ${JSON.stringify(ready.stagesMs)}).`);
    const prepared = ready.stagesMs;
    const before = await imagePixels(page);
    const [{ handle, target }] = (await placePairs(page, [PAIR], ready.imageSize)) as [{ handle: { x: number; y: number }; target: { x: number; y: number } }];

    const tStart = Date.now();
    await page.click('#start');
    await page.waitForFunction(() => window.__stabledrag.step >= 2 || window.__stabledrag.status === 'done', undefined, { polling: 100, timeout: LONG_MS });
    mkdirSync(outDir, { recursive: true });
    const artefacts = artefactPaths('diffusion', outDir);
    await page.screenshot({ path: artefacts.screenshot });
    const end = await waitFor(page, 'the drag and the final denoise', (s) => s.status === 'done', LONG_MS);
    const editWallMs = Date.now() - tStart;
    const after = await imagePixels(page);
    let changed = 0;
    for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) changed++;
    const reuseMs = await checkReuse(page);

    const sorted = [...end.msPerStep].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const checks = {
      steps: end.step === STEPS,
      stages: (['drag', 'denoise', 'decode'] as const).every((k) => end.stagesMs[k]! > 0),
      changed: changed > 0,
      reuse: true,
    };
    const results = {
      date: new Date().toISOString(),
      browser: `${browser.version()} (headless, --disable-gpu)`,
      backend: end.backendName,
      provider: end.provider,
      threads: end.threads,
      resolution: end.imageSize,
      method: end.method,
      photo: 'face.png (apps/bench/tasks-diffusion/f04-single-nose-tip.png)',
      pair: { handle, target },
      steps: end.step,
      stopReason: end.stopReason,
      loadMs: Math.round(end.loadMs ?? 0),
      stagesMs: {
        ...Object.fromEntries(Object.entries(prepared).map(([k, v]) => [k, Math.round(v ?? 0)])),
        drag: Math.round(end.stagesMs.drag ?? 0),
        denoise: Math.round(end.stagesMs.denoise ?? 0),
        decode: Math.round(end.stagesMs.decode ?? 0),
      },
      msPerStep: { median: Number(median.toFixed(1)), min: Number((sorted[0] ?? 0).toFixed(1)), max: Number((sorted[sorted.length - 1] ?? 0).toFixed(1)) },
      editWallMs,
      samePhotoAgainMs: reuseMs,
      changedBytes: changed,
      passed: Object.values(checks).every(Boolean),
      note: 'In-page times, onnxruntime-web CPU build (WASM SIMD), no LoRA. stagesMs: encode/invert when the photo was chosen; drag = sum of step times; denoise/decode = the final render with mutual self-attention.',
    };
    writeFileSync(artefacts.results, `${JSON.stringify(results, null, 2)}\n`);
    log(`photo ${JSON.stringify(results.stagesMs)}; ${end.step} steps at ${median.toFixed(0)} ms (median); edit ${editWallMs} ms; same photo again ${reuseMs} ms; ${changed} bytes changed`);
    for (const [name, ok] of Object.entries(checks)) if (!ok) fail(`check '${name}' failed: ${JSON.stringify(results)}`);
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
